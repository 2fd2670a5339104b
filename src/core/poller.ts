// One scheduler for every live run: a single timer set for the earliest due poll, never a timer per run.
// A failed poll backs off and tries again — a run is not dropped because a poll failed; it ends when FLORA
// says completed or failed, or, after repeated 404s, in 'gone' (the poller's verdict, not a reply FLORA
// sent). Nothing is retried for ever: polls that keep failing (or replies that cannot be read) for
// failureLimitMs, or a status the document does not list for unknownStatusLimitMs, or a run that has not
// finished liveLimitMs after it began (FLORA may say "running" for ever), end in 'stopped', which the user
// can resume. Everything about a run reaches its caller through one channel, TrackOptions.onUpdate.
// One piece although long: every limit and the ETA strategy decide when the one timer fires next. The ETA
// strategy's estimate and plan are in progressModel.ts; keeping the connection warm and the pace rule
// (notBefore: no more polls than fixed polling, but for the last) are here, since they look at every run and
// at each run's history of polls, which the timer's plan needs whole.
import { FloraApiError, FloraCancelledError, FloraError, FloraProtocolError, FloraServerError, messageOf, retryAfterOf } from './errors';
import { message, type Message } from './messages';
import { backoffDelay } from './retry';
import { idleBudgetFor, ASSUMED_KEEP_ALIVE_MS } from './keepAlive';
import { clampProgress, isFinalStatus } from './model';
import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from './pollTiming';
import { planPoll, ProgressModel } from './progressModel';
import type { StopReason } from './runs';
import type { RunStatusReply } from './runReplies';

export { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from './pollTiming';
export { planWait } from './progressModel';
/** Polls failing (or replies unreadable) this long in a row stop the following of a run. */
export const DEFAULT_FAILURE_LIMIT_MS = 30 * 60_000;
/** A status the document does not list, reported this long in a row, stops the following of a run. */
export const DEFAULT_UNKNOWN_STATUS_LIMIT_MS = 2 * 60 * 60_000;
/**
 * A run not finished this long after it began is stopped, whatever FLORA says: techniques take seconds to
 * minutes, so a day of "running" means FLORA lost it, and polling it every few seconds would go on for ever.
 */
export const DEFAULT_LIVE_LIMIT_MS = 24 * 60 * 60_000;
/** The pace rule's credit, in polls: how far ahead of polling at the pace interval the ETA strategy may get. */
const PACE_CREDIT = 0.5;

/** The timer functions the poller uses; tests pass their own so they can move time without waiting. */
export interface PollerTimers {
  setTimeout(callback: () => void, milliseconds: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real timers, for callers that take PollerTimers too and default to them. */
export const SYSTEM_TIMERS: PollerTimers = {
  setTimeout: (callback, milliseconds) => setTimeout(callback, milliseconds),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function clampPollInterval(milliseconds: number): number {
  if (!Number.isFinite(milliseconds)) return DEFAULT_POLL_INTERVAL_MS;
  return Math.min(MAX_POLL_INTERVAL_MS, Math.max(MIN_POLL_INTERVAL_MS, Math.round(milliseconds)));
}

export interface PollTarget {
  slug: string;
  runId: string;
  pollUrl?: string;
}

export type RunFetcher = (target: PollTarget, signal: AbortSignal) => Promise<RunStatusReply>;

/**
 * What happens to a tracked run. 'completed', 'failed', 'gone' and 'stopped' are final: the run is no
 * longer tracked when its final update arrives, and nothing about it follows.
 */
export type PollUpdate =
  | { kind: 'status'; target: PollTarget; reply: RunStatusReply }
  | { kind: 'retrying'; target: PollTarget; error: FloraError; consecutiveFailures: number; nextPollInMs: number }
  | { kind: 'paused'; target: PollTarget; error: FloraApiError }
  | { kind: 'completed'; target: PollTarget; reply: RunStatusReply }
  /** FLORA said the run failed; its reply carries the errorCode and errorMessage. */
  | { kind: 'failed'; target: PollTarget; reply: RunStatusReply }
  /** FLORA answered 404 notFoundLimit times in a row: it no longer knows the run. `explanation`: why, for the user's language. */
  | { kind: 'gone'; target: PollTarget; explanation: Message }
  /** The poller gave up following the run (it had not finished); `error`: the last failure, if any. */
  | { kind: 'stopped'; target: PollTarget; reason: StopReason; explanation: Message; error?: FloraError };

/** An update after which the run is no longer tracked. */
export type FinalPollUpdate = Extract<PollUpdate, { kind: 'completed' | 'failed' | 'gone' | 'stopped' }>;

export function isFinalUpdate(update: PollUpdate): update is FinalPollUpdate {
  return update.kind === 'completed' || update.kind === 'failed' || update.kind === 'gone' || update.kind === 'stopped';
}

export type PollStrategy = 'fixed' | 'eta';

export interface PollerOptions {
  fetch: RunFetcher;
  /** Clamped into the document's 2–5 s window. */
  intervalMs?: number;
  /**
   * 'fixed' polls every intervalMs. 'eta' estimates when a run will finish from the progress it reports
   * and polls just after that, never closer than 2 s nor further apart than 5 s.
   */
  strategy?: PollStrategy;
  /** ETA strategy: the wait while the finish is still far off (2–5 s; default 5 s). */
  longWaitMs?: number;
  /**
   * ETA strategy: how long the connection to an origin (the pollUrl's; undefined without one) may sit idle
   * and still be reused (keepAlive.ts; FloraConnection's idleBudgetMs). When no poll of that origin is due
   * before then, its next poll that is not aimed at a finish is moved up to it (never closer than 2 s to
   * that run's last reply, never before the pace rule allows: a lone run on a server that drops idle
   * connections within 3 s pays a new connection rather than extra polls), so the connection stays warm
   * without an extra request. Default: what a server keeping Node's 5 s allows.
   */
  idleBudgetMs?: (origin: string | undefined) => number;
  /** The longest wait between polls after repeated failures. */
  maxBackoffMs?: number;
  /** How many 404s in a row mean the run is gone. */
  notFoundLimit?: number;
  /** How long polls may keep failing (or replies stay unreadable) before the run is stopped; default 30 min. */
  failureLimitMs?: number;
  /** How long FLORA may report a status the document does not list before the run is stopped; default 2 h. */
  unknownStatusLimitMs?: number;
  /** How long after it began (TrackOptions.liveSince) a run that has not finished is stopped; default 24 h. */
  liveLimitMs?: number;
  random?: () => number;
  now?: () => number;
  timers?: PollerTimers;
}

export interface TrackOptions {
  /**
   * Every update of the run, in order, the final one last; called synchronously from the poller. Nothing
   * comes after untrack() or dispose(): the caller let go.
   */
  onUpdate: (update: PollUpdate) => void;
  /** Poll at once (a run resumed after a reload) instead of one interval after creation. */
  immediate?: boolean;
  /**
   * When the run began, on the poller's clock, for the bound on its live time (liveLimitMs); kept by the
   * caller so the bound holds across reloads. Default: now (the moment it is first tracked).
   */
  liveSince?: number;
}

interface Entry {
  target: PollTarget;
  dueAt: number;
  inFlight: AbortController | undefined;
  paused: boolean;
  consecutiveFailures: number;
  consecutiveNotFound: number;
  /** When the current run of failed polls began (poller clock); undefined after a readable reply. */
  failingSince: number | undefined;
  /** When FLORA began reporting a status the document does not list; undefined after a known one. */
  unknownStatusSince: number | undefined;
  lastPollAt: number | undefined;
  /**
   * When the last poll's reply (or failure) came back. The 2 s between two polls of a run count from here:
   * a request that waited in the connection's queue reached FLORA later than it was sent.
   */
  lastReplyAt: number | undefined;
  /** The ETA strategy's reading of the progress replies. */
  model: ProgressModel;
  /** The ETA strategy aimed dueAt at a planned moment: keeping the connection warm must not move it. */
  aimed: boolean;
  /** The origin polled (the pollUrl's), whose connection keepWarm looks after; undefined without a pollUrl. */
  origin: string | undefined;
  /** When the run was created, local clock (track() follows the create reply); unknown for resumed runs. */
  createdLocallyAt: number | undefined;
  /** When the run began (TrackOptions.liveSince): it is stopped liveLimitMs later if it has not finished. */
  liveSince: number;
  /** Polls sent for this run since it was tracked, failed ones included. */
  pollsSent: number;
  /** Poller.keyGeneration when the last poll went out: a 401 for a key replaced since pauses nothing. */
  sentWithKeyGeneration: number;
  /**
   * ETA strategy: where polling every intervalMs would have started counting (one interval before the first
   * poll it would send); the pace rule (notBefore) measures from here.
   */
  paceOrigin: number;
  onUpdate: (update: PollUpdate) => void;
}

export class Poller {
  private readonly entries = new Map<string, Entry>();
  private timer: unknown;
  private timerDueAt = Number.POSITIVE_INFINITY;
  private intervalMs: number;
  private disposed = false;
  /** Per origin, when the last reply (or failure) came back: its connection has been idle since, unless a request is out. */
  private readonly lastActivityAt = new Map<string | undefined, number>();
  /** Counts resume() calls: each means the key changed. */
  private keyGeneration = 0;
  private readonly now: () => number;
  private readonly timers: PollerTimers;

  constructor(private readonly options: PollerOptions) {
    this.intervalMs = clampPollInterval(options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? SYSTEM_TIMERS;
  }

  get size(): number {
    return this.entries.size;
  }

  isTracking(runId: string): boolean {
    return this.entries.has(runId);
  }

  setIntervalMs(milliseconds: number): void {
    this.intervalMs = clampPollInterval(milliseconds);
  }

  /**
   * Polls the run until a final update (see PollUpdate), reporting everything through options.onUpdate.
   * Throws, without polling, when the poller is disposed (FloraCancelledError) or already tracks the run:
   * both are the caller's mistake, which isTracking() avoids.
   */
  track(target: PollTarget, options: TrackOptions): void {
    if (this.disposed) throw new FloraCancelledError(message('pollerStopped'));
    if (this.entries.has(target.runId)) throw new Error(`Run ${target.runId} is already being polled.`);
    const firstDueAt = this.now() + (options.immediate ? 0 : this.intervalMs);
    const entry: Entry = {
      target: { ...target },
      dueAt: firstDueAt,
      inFlight: undefined,
      paused: false,
      consecutiveFailures: 0,
      consecutiveNotFound: 0,
      failingSince: undefined,
      unknownStatusSince: undefined,
      lastPollAt: undefined,
      lastReplyAt: undefined,
      model: new ProgressModel(),
      aimed: false,
      origin: originOf(target.pollUrl),
      createdLocallyAt: options.immediate ? undefined : this.now(),
      liveSince: options.liveSince !== undefined && Number.isFinite(options.liveSince) ? options.liveSince : this.now(),
      pollsSent: 0,
      paceOrigin: firstDueAt - this.paceIntervalMs(),
      sentWithKeyGeneration: this.keyGeneration,
      onUpdate: options.onUpdate,
    };
    this.entries.set(target.runId, entry);
    this.schedule();
  }

  /** Stops polling one run at once (a request in flight is aborted); no update follows. */
  untrack(runId: string): void {
    this.release(runId);
  }

  /** Resumes runs paused by an authentication error (after the user set a new key). */
  resume(): void {
    const now = this.now();
    // A poll out now went with the old key: its 401, if one comes, says nothing about the new key.
    this.keyGeneration++;
    for (const entry of this.entries.values()) {
      if (entry.paused) {
        entry.paused = false;
        // At once, but never within 2 s of the reply that paused it (FLORA's minimum between two polls).
        entry.dueAt = Math.max(now, (entry.lastReplyAt ?? Number.NEGATIVE_INFINITY) + MIN_POLL_INTERVAL_MS);
        // The time spent paused earns no credit: the pace counts again from this poll.
        this.restartPace(entry, entry.dueAt);
        // Waiting for a key is not failing: the bound starts again from the first poll with the new key.
        entry.failingSince = undefined;
      }
    }
    this.schedule();
  }

  /** Untracks every run (no update follows) and refuses to track more. */
  dispose(): void {
    this.disposed = true;
    for (const runId of [...this.entries.keys()]) this.release(runId);
    this.clearTimer();
  }

  private schedule(): void {
    this.keepWarm();
    let earliest = Number.POSITIVE_INFINITY;
    for (const entry of this.entries.values()) {
      if (!entry.paused && !entry.inFlight) earliest = Math.min(earliest, entry.dueAt);
    }
    if (earliest === this.timerDueAt && this.timer !== undefined) return;
    this.clearTimer();
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.timerDueAt = earliest;
    this.timer = this.timers.setTimeout(() => this.tick(), Math.max(0, earliest - this.now()));
  }

  /**
   * ETA strategy: when nothing would be sent before the connection goes cold, moves the earliest poll that
   * is not aimed at a finish up to that moment (no closer than 2 s to its run's last request).
   */
  private keepWarm(): void {
    if (this.options.strategy !== 'eta') return;
    const origins = new Map<string | undefined, { earliest: number; movable: Entry | undefined; busy: boolean }>();
    for (const entry of this.entries.values()) {
      const group = origins.get(entry.origin) ?? { earliest: Number.POSITIVE_INFINITY, movable: undefined, busy: false };
      origins.set(entry.origin, group);
      // A request out keeps the connection busy, and its reply says what to do next.
      if (entry.inFlight) group.busy = true;
      if (entry.paused || entry.inFlight) continue;
      group.earliest = Math.min(group.earliest, entry.dueAt);
      if (!entry.aimed && (group.movable === undefined || entry.dueAt < group.movable.dueAt)) group.movable = entry;
    }
    for (const [origin, { earliest, movable, busy }] of origins) {
      const idleSince = this.lastActivityAt.get(origin);
      if (busy || !movable || idleSince === undefined) continue;
      const coldAt = idleSince + (this.options.idleBudgetMs?.(origin) ?? idleBudgetFor(ASSUMED_KEEP_ALIVE_MS));
      if (earliest <= coldAt) continue;
      // From the last reply (the create's, for a run not polled yet): then FLORA sees the two requests 2 s
      // apart at least, even when the earlier one waited in the connection's queue.
      const lastRequestAt = movable.lastReplyAt ?? movable.createdLocallyAt ?? Number.NEGATIVE_INFINITY;
      const movedTo = Math.max(coldAt, lastRequestAt + MIN_POLL_INTERVAL_MS, this.notBefore(movable));
      if (movedTo < movable.dueAt) movable.dueAt = movedTo;
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
  }

  private tick(): void {
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    for (const entry of this.entries.values()) {
      if (!entry.paused && !entry.inFlight && entry.dueAt <= now) void this.poll(entry);
    }
    this.schedule();
  }

  private async poll(entry: Entry): Promise<void> {
    const controller = new AbortController();
    entry.inFlight = controller;
    const sentAt = this.now();
    entry.lastPollAt = sentAt;
    entry.pollsSent++;
    entry.sentWithKeyGeneration = this.keyGeneration;
    const failuresBefore = entry.consecutiveFailures;
    let reply: RunStatusReply | undefined;
    let failure: unknown;
    try {
      reply = await this.options.fetch(entry.target, controller.signal);
    } catch (error) {
      failure = error;
    }
    entry.inFlight = undefined;
    entry.lastReplyAt = this.now();
    this.lastActivityAt.set(entry.origin, this.now());
    // Untracked or aborted while the request was out: the entry is gone, nothing more to do.
    if (this.entries.get(entry.target.runId) !== entry) return;
    this.keepPace(entry, sentAt, reply !== undefined && failuresBefore > 0);
    if (reply) this.onReply(entry, reply);
    else this.onFailure(entry, failure);
    this.schedule();
  }

  private onReply(entry: Entry, reply: RunStatusReply): void {
    entry.consecutiveFailures = 0;
    entry.consecutiveNotFound = 0;
    entry.failingSince = undefined;
    if (reply.unknownStatus !== undefined) {
      // Still running as far as anyone knows (the reply's fields are recorded), but not for ever.
      const now = this.now();
      entry.unknownStatusSince ??= now;
      const limitMs = this.options.unknownStatusLimitMs ?? DEFAULT_UNKNOWN_STATUS_LIMIT_MS;
      if (now - entry.unknownStatusSince >= limitMs) {
        entry.onUpdate({ kind: 'status', target: entry.target, reply });
        const status = JSON.stringify(reply.unknownStatus);
        this.stop(
          entry,
          'unknownStatus',
          message('stoppedUnknownStatus', entry.target.runId, status, minutesOf(now - entry.unknownStatusSince)),
        );
        return;
      }
    } else {
      entry.unknownStatusSince = undefined;
    }
    if (reply.unknownStatus === undefined && isFinalStatus(reply.status)) {
      this.end(
        entry,
        reply.status === 'completed' ? { kind: 'completed', target: entry.target, reply } : { kind: 'failed', target: entry.target, reply },
      );
      return;
    }
    entry.onUpdate({ kind: 'status', target: entry.target, reply });
    if (this.stopIfTooLong(entry)) return;
    const plan = this.nextPoll(entry, reply);
    entry.dueAt = this.now() + plan.delayMs;
    entry.aimed = plan.aimed;
  }

  private onFailure(entry: Entry, error: unknown): void {
    if (error instanceof FloraApiError && error.isAuthError && entry.sentWithKeyGeneration !== this.keyGeneration) {
      // Sent with a key replaced while it was out: ask again with the new one (2 s on), instead of pausing
      // a run that nothing would resume.
      entry.dueAt = this.now() + MIN_POLL_INTERVAL_MS;
      entry.aimed = true;
      return;
    }
    if (error instanceof FloraApiError && error.isAuthError) {
      entry.paused = true;
      entry.onUpdate({ kind: 'paused', target: entry.target, error });
      return;
    }
    if (error instanceof FloraApiError && error.status === 404) {
      entry.consecutiveNotFound++;
      if (entry.consecutiveNotFound >= (this.options.notFoundLimit ?? 3)) {
        this.end(entry, {
          kind: 'gone',
          target: entry.target,
          explanation: message('runGone', entry.target.runId, entry.consecutiveNotFound),
        });
        return;
      }
    }
    entry.consecutiveFailures++;
    const floraError = error instanceof FloraError ? error : new FloraServerError(0, message('serverUnexpected', messageOf(error)));
    const now = this.now();
    entry.failingSince ??= entry.lastPollAt ?? now;
    const failingForMs = now - entry.failingSince;
    if (failingForMs >= (this.options.failureLimitMs ?? DEFAULT_FAILURE_LIMIT_MS)) {
      const minutes = minutesOf(failingForMs);
      const runId = entry.target.runId;
      if (floraError instanceof FloraProtocolError)
        this.stop(entry, 'unreadable', message('stoppedUnreadable', runId, minutes), floraError);
      else this.stop(entry, 'failing', message('stoppedFailing', runId, minutes), floraError);
      return;
    }
    if (this.stopIfTooLong(entry, floraError)) return;
    const retryAfterMs = retryAfterOf(floraError);
    const backoff = backoffDelay(
      entry.consecutiveFailures - 1,
      { baseDelayMs: this.intervalMs, maxDelayMs: this.options.maxBackoffMs ?? 30_000, maxRetryAfterMs: 60_000 },
      retryAfterMs,
      this.options.random,
    );
    // Never closer than the document's 2 s, even when Retry-After says 0.
    const nextPollInMs = Math.max(MIN_POLL_INTERVAL_MS, backoff);
    entry.dueAt = this.now() + nextPollInMs;
    // A backoff is not to be shortened to keep a connection warm that is failing anyway.
    entry.aimed = true;
    entry.onUpdate({
      kind: 'retrying',
      target: entry.target,
      error: floraError,
      consecutiveFailures: entry.consecutiveFailures,
      nextPollInMs,
    });
  }

  /**
   * The wait before the next poll of a live run. With the ETA strategy, the progress FLORA reports gives a
   * window for the finish (progressModel.ts), and the waits are planned so one poll lands just after it
   * while every wait stays inside 2–5 s.
   */
  private nextPoll(entry: Entry, reply: RunStatusReply): { delayMs: number; aimed: boolean } {
    if (this.options.strategy !== 'eta') return { delayMs: this.intervalMs, aimed: false };
    const now = this.now();
    const progress = clampProgress(reply.progress);
    if (reply.unknownStatus === undefined && (reply.status === 'running' || reply.status === 'pending')) {
      // createdAt and startedAt are on the server's clock; their difference placed after the moment the run
      // was created here gives the start in local time (a little late, never early: no clock skew).
      const { createdAt, startedAt } = reply;
      if (entry.createdLocallyAt !== undefined && createdAt !== undefined && startedAt !== undefined && startedAt >= createdAt) {
        entry.model.setStart(entry.createdLocallyAt + (startedAt - createdAt));
      }
      entry.model.observe({ sentAt: entry.lastPollAt ?? now, at: now, progress: reply.status === 'pending' ? 0 : progress });
    }
    let longWaitMs = Math.max(this.intervalMs, Math.min(MAX_POLL_INTERVAL_MS, this.options.longWaitMs ?? MAX_POLL_INTERVAL_MS));
    // Alone on its origin, no other run's poll keeps the connection warm: even the waits aimed at a finish
    // stay within the idle budget (no shorter than 2 s).
    if (![...this.entries.values()].some((other) => other !== entry && other.origin === entry.origin)) {
      const budget = this.options.idleBudgetMs?.(entry.origin) ?? idleBudgetFor(ASSUMED_KEEP_ALIVE_MS);
      longWaitMs = Math.max(MIN_POLL_INTERVAL_MS, Math.min(longWaitMs, budget));
    }
    const plan = planPoll({
      now,
      window: entry.model.finishWindow(),
      overdue: entry.model.overdue,
      progress,
      intervalMs: this.intervalMs,
      longWaitMs,
    });
    // The document's 5 s is between two requests: a wait counts from when the last poll went out (a reply
    // that took 200 ms leaves 4.8 s), as far as the 2 s from its reply and the pace allow.
    const sinceSentMs = now - (entry.lastPollAt ?? now);
    const delayMs = Math.max(Math.min(plan.delayMs, MAX_POLL_INTERVAL_MS - sinceSentMs), MIN_POLL_INTERVAL_MS);
    return { ...plan, delayMs: Math.max(delayMs, Math.round(this.notBefore(entry) - now)) };
  }

  /**
   * ETA strategy, the pace rule: a run's k-th poll goes no earlier than k − ½ pace intervals after polling at
   * that interval would have started, the time its replies took added (polling at an interval waits it after
   * each reply). Whatever progress a server reports (a long stall at 99 %, stages that mislead the estimate),
   * the ETA strategy then sends no more polls than that polling, but for at most the last one; the polls it
   * saves while progress tells the time are what it may spend every 2 s when the finish may come at any
   * moment. The half interval of credit lets a short run's aimed poll land before the fixed poller's next.
   * The pace wins over keeping a connection warm: keepWarm never moves a poll before it.
   */
  private notBefore(entry: Entry): number {
    return entry.paceOrigin + (entry.pollsSent + 1 - PACE_CREDIT) * this.paceIntervalMs();
  }

  /**
   * The pace interval: the configured one, but no slower than the document's 3 s. A user's 5 s is how long to
   * wait while nothing is known; a poll aimed just after a finish the progress foretold is worth its place
   * even then.
   */
  private paceIntervalMs(): number {
    return Math.min(this.intervalMs, DEFAULT_POLL_INTERVAL_MS);
  }

  /** Moves the pace so that the next poll may go at `at` and no sooner. */
  private restartPace(entry: Entry, at: number): void {
    entry.paceOrigin = at - (entry.pollsSent + 1 - PACE_CREDIT) * this.paceIntervalMs();
  }

  /**
   * After each reply (or failure) of a poll sent at `sentAt`: the time the reply took moves the count on, as
   * it does for polling at an interval. A poll that went before its turn (a backoff with Retry-After 0, a
   * raised interval) leaves no debt: the next waits at most one pace interval for it. A poll that answered
   * after failures keeps no credit either (only the half interval a run starts with): the time spent failing
   * bought nothing.
   */
  private keepPace(entry: Entry, sentAt: number, recovered: boolean): void {
    const now = this.now();
    const paceMs = this.paceIntervalMs();
    entry.paceOrigin += now - sentAt;
    // Recovered: as if just tracked, half an interval of credit. Debt: never more than one interval to wait.
    if (recovered) this.restartPace(entry, now + (1 - PACE_CREDIT) * paceMs);
    else if (this.notBefore(entry) > now + paceMs) this.restartPace(entry, now + paceMs);
  }

  /** Stops a run that has not finished liveLimitMs after it began; true when it did. */
  private stopIfTooLong(entry: Entry, error?: FloraError): boolean {
    const liveForMs = this.now() - entry.liveSince;
    const limitMs = this.options.liveLimitMs ?? DEFAULT_LIVE_LIMIT_MS;
    if (liveForMs < limitMs) return false;
    this.stop(entry, 'tooLong', message('stoppedTooLong', entry.target.runId, hoursOf(liveForMs)), error);
    return true;
  }

  /** Gives up following a run that has not finished, with a final 'stopped' update. */
  private stop(entry: Entry, reason: StopReason, explanation: Message, error?: FloraError): void {
    const update: FinalPollUpdate = { kind: 'stopped', target: entry.target, reason, explanation };
    if (error) update.error = error;
    this.end(entry, update);
  }

  /** Lets the run go before its final update, so a caller that tracks it again from the update can. */
  private end(entry: Entry, update: FinalPollUpdate): void {
    if (this.entries.get(entry.target.runId) !== entry) return;
    this.release(entry.target.runId);
    entry.onUpdate(update);
  }

  /** Forgets a run and aborts its request in flight; emits nothing. */
  private release(runId: string): void {
    const entry = this.entries.get(runId);
    if (!entry) return;
    this.entries.delete(runId);
    entry.inFlight?.abort();
    this.schedule();
  }
}

/** The origin of a pollUrl, or undefined (no pollUrl, or not a URL: the client polls the base URL then). */
function originOf(pollUrl: string | undefined): string | undefined {
  if (pollUrl === undefined) return undefined;
  try {
    return new URL(pollUrl).origin;
  } catch {
    return undefined;
  }
}

/** Whole minutes, at least 1, for the stop messages (the poller's and the create's). */
export function minutesOf(milliseconds: number): number {
  return Math.max(1, Math.round(milliseconds / 60_000));
}

/** Whole hours, at least 1, for the stop message of a run followed too long. */
export function hoursOf(milliseconds: number): number {
  return Math.max(1, Math.round(milliseconds / 3_600_000));
}
