// Runs techniques: turns a request into a FLORA run and follows it to its end. It records the intent before
// anything is sent, sends the create (re-sending it, with the same idempotency key, for a bounded time),
// drives the one Poller for the runs this window follows, and writes every change to the runs store, which
// the views display. Which window follows the runs is the WindowCoordinator's decision; this window's part
// is adopting the live runs in the store while it is the polling one.
// One piece although long: creating, re-sending, stopping and resuming a run all change the same state
// (what is in flight here, which create re-sends are waiting, what the poller tracks) and must agree on it.
import * as vscode from 'vscode';
import { Disposable, toDisposable } from '../common/lifecycle';
import { FloraApiError, FloraCancelledError, FloraError, FloraTransportError, messageOf } from '../core/errors';
import { englishText, message } from '../core/messages';
import { clampProgress, newIdempotencyKey } from '../core/model';
import { buildRunInputs } from '../core/inputs';
import {
  DEFAULT_FAILURE_LIMIT_MS,
  DEFAULT_LIVE_LIMIT_MS,
  DEFAULT_UNKNOWN_STATUS_LIMIT_MS,
  minutesOf,
  Poller,
  SYSTEM_TIMERS,
  type PollerTimers,
  type PollUpdate,
} from '../core/poller';
import type { RunStatusReply } from '../core/runReplies';
import type { TechniqueDetails } from '../core/schemas';
import { isLive, type RunBatch, type RunRecord } from '../core/runs';
import type { BudgetGate } from './budgetGate';
import type { FloraConnection } from './floraConnection';
import type { KeyStore } from './keyStore';
import type { Log } from './log';
import { describeError, ExtensionError, explanationOf, l10nText } from './userText';
import type { RunsStore } from './runsStore';
import type { Settings } from './settings';
import type { TechniqueCatalog } from './techniqueCatalog';
import type { Uploads } from './uploads';
import type { WindowCoordinator } from './windowCoordinator';

/** After the client's own retries give up on a create, the same request is tried again this often… */
const CREATE_RETRY_MS = 15_000;
/** …for this long after the first failure; then the run is stopped (kept, resumable), never re-sent for ever. */
const CREATE_RETRY_LIMIT_MS = 10 * 60_000;
/** A create another window started and has not finished by then is taken over (same idempotency key). */
const STALE_CREATE_MS = 30_000;

/** How long each retry loop may go on before the run is stopped (tests shorten them). */
export interface FollowingBounds {
  createRetryMs: number;
  createRetryLimitMs: number;
  /** Polls failing or replies unreadable this long in a row. */
  pollFailureLimitMs: number;
  /** A status the document does not list, this long in a row. */
  unknownStatusLimitMs: number;
  /** A run not finished this long after it was requested (or resumed), whatever FLORA says. */
  liveLimitMs: number;
}

export interface PrepareOptions {
  signal?: AbortSignal;
  /** The batch the run is part of (the Explorer's Run with These Files). */
  batch?: RunBatch;
  /** The cost a person confirmed (a tool's confirmation): a technique that now costs more is not run. */
  maxCost?: number;
  /** Local files must be read from inside the workspace, by real path (a model named them, not a person). */
  workspaceFilesOnly?: boolean;
}

export interface RunControllerOptions {
  connection: FloraConnection;
  catalog: TechniqueCatalog;
  runs: RunsStore;
  keys: KeyStore;
  settings: Settings;
  coordinator: WindowCoordinator;
  /** The daily budget every new run passes before anything is uploaded or sent. */
  budget: Pick<BudgetGate, 'admit'>;
  /** Uploads the local files named as media inputs before a run is recorded. */
  uploads: Pick<Uploads, 'resolveInputs' | 'localInputIds'>;
  log: Log;
  bounds?: Partial<FollowingBounds>;
  /**
   * The clock and timers of the bounded retries (create re-sends, and the poller's); tests pass manual
   * ones to move time without waiting. The clock also stamps what the controller records (stopped.at).
   */
  now?: () => number;
  timers?: PollerTimers;
}

export class RunController extends Disposable {
  private readonly poller: Poller;
  /** The timer of each create waiting to be re-sent, from this.timers. */
  private readonly createRetries = new Map<string, unknown>();
  private readonly bounds: FollowingBounds;
  private readonly now: () => number;
  private readonly timers: PollerTimers;
  /** Runs whose create request is out now, from this window. */
  private readonly creating = new Set<string>();
  /** Runs whose create request this activation sends itself (resuming must not send it a second time). */
  private readonly createdHere = new Set<string>();
  private readonly authProblem = this.register(new vscode.EventEmitter<FloraError>());
  /** FLORA refused the key while following a run; polling waits for a new key. */
  readonly onAuthProblem = this.authProblem.event;
  private readonly prepared = this.register(new vscode.EventEmitter<RunRecord>());
  /** A run was requested in this window (its intent recorded), however it was started. */
  readonly onDidPrepareRun = this.prepared.event;

  constructor(private readonly options: RunControllerOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.bounds = {
      createRetryMs: CREATE_RETRY_MS,
      createRetryLimitMs: CREATE_RETRY_LIMIT_MS,
      pollFailureLimitMs: DEFAULT_FAILURE_LIMIT_MS,
      unknownStatusLimitMs: DEFAULT_UNKNOWN_STATUS_LIMIT_MS,
      liveLimitMs: DEFAULT_LIVE_LIMIT_MS,
      ...options.bounds,
    };
    this.poller = new Poller({
      fetch: (target, signal) => options.connection.client().getRun(target.slug, target.runId, { pollUrl: target.pollUrl, signal }),
      intervalMs: options.settings.current.pollIntervalMs,
      strategy: 'eta',
      failureLimitMs: this.bounds.pollFailureLimitMs,
      unknownStatusLimitMs: this.bounds.unknownStatusLimitMs,
      liveLimitMs: this.bounds.liveLimitMs,
      // How long the server keeps an idle connection (its Keep-Alive hint): polls keep it warm.
      idleBudgetMs: (origin) => options.connection.idleBudgetMs(origin),
      now: this.now,
      timers: this.timers,
    });
    this.register(this.poller);
    this.register(options.settings.onDidChange((settings) => this.poller.setIntervalMs(settings.pollIntervalMs)));
    this.register(options.keys.onDidChange((hasKey) => hasKey && this.poller.resume()));
    this.register(
      toDisposable(() => {
        for (const timer of this.createRetries.values()) this.timers.clearTimeout(timer);
        this.createRetries.clear();
      }),
    );
    // Runs another window started show up through the journal; the polling window follows them.
    this.register(options.runs.onDidChange((record) => record && this.adopt(record)));
  }

  private get windowId(): string {
    return this.options.coordinator.windowId;
  }

  /** This window became the polling one: picks up every unfinished run (re-sends creates, resumes polls). */
  followLiveRuns(): void {
    for (const record of this.options.runs.live()) {
      if (record.runId) {
        this.follow(record, true);
      } else if (!this.createdHere.has(record.localId) && !this.creating.has(record.localId)) {
        this.options.log.info(`Re-sending the create request of an unfinished ${record.slug} run (same idempotency key).`);
        this.create(record.localId).catch(() => undefined);
      }
    }
  }

  /** Another window polls now: this one stops following (the runs stay live in the store). */
  letGoOfLiveRuns(): void {
    for (const record of this.options.runs.live()) {
      if (record.runId) this.poller.untrack(record.runId);
      // The polling window reports on it from now on; this one's last word about the connection is stale.
      this.options.runs.setConnection(record.localId, undefined);
    }
  }

  /** A run changed in the store: the polling window follows live runs it is not following yet. */
  private adopt(record: RunRecord): void {
    if (this.isDisposed) return;
    if (!isLive(record)) {
      // Stop Following in another window: this one may be the window polling the run, or re-sending its create.
      if (record.stopped?.reason === 'byUser') this.letGo(record);
      return;
    }
    const coordinator = this.options.coordinator;
    // A run this window just started and nobody polling here yet: try for the lease now rather than at the
    // next tick. Other windows' runs wait for the tick, so their every journal write costs no lease check here.
    if (!coordinator.isPolling && record.origin === this.windowId) coordinator.check();
    if (!coordinator.isPolling) return;
    if (record.runId) {
      if (!this.poller.isTracking(record.runId)) this.follow(record, false);
      return;
    }
    const stale = this.now() - record.updatedAt > STALE_CREATE_MS;
    if (stale && record.origin !== this.windowId && !this.creating.has(record.localId) && !this.createRetries.has(record.localId)) {
      this.options.log.info(`Taking over the create of a ${record.slug} run another window left unfinished (same idempotency key).`);
      this.create(record.localId).catch(() => undefined);
    }
  }

  /**
   * Validates the inputs, records the run, and creates it on FLORA. Resolves with the record once FLORA has
   * created the run; the run is then followed in the background (see waitForRun). Invalid inputs reject
   * with FloraInputError and nothing is sent.
   */
  async startRun(slug: string, values: Readonly<Record<string, unknown>>, options: PrepareOptions = {}): Promise<RunRecord> {
    const record = await this.prepareRun(slug, values, options);
    return this.create(record.localId, options.signal);
  }

  /**
   * Checks the inputs, uploads the local files among them (see Uploads), and records the run's intent
   * (durably) without sending anything to FLORA yet. A failed upload rejects before anything is recorded.
   */
  async prepareRun(slug: string, values: Readonly<Record<string, unknown>>, options: PrepareOptions = {}): Promise<RunRecord> {
    const technique = await this.options.catalog.get(slug, { signal: options.signal });
    if (options.maxCost !== undefined && technique.runCost > options.maxCost) {
      throw new FloraCancelledError(message('costChanged', technique.name, technique.runCost, options.maxCost));
    }
    // The other inputs are checked first, so a typo in a prompt is not found only after an upload.
    const mediaOptions = this.options.connection.mediaOptions();
    const uploads = this.options.uploads;
    buildRunInputs(technique, values, mediaOptions, uploads.localInputIds(technique, values));
    // The budget is asked before a file is uploaded or anything sent; the reservation ends once the run is
    // on record (from then on the journal counts it) or when it never got there.
    const batch = options.batch && { id: options.batch.id, remaining: Math.max(1, options.batch.size - options.batch.index) };
    // The key is the run's local id: other windows stop counting the budget's hold once they read the record.
    const key = newIdempotencyKey();
    const release = await this.options.budget.admit(
      { techniqueName: technique.name, cost: technique.runCost, localId: key, ...(batch ? { batch } : {}) },
      options.signal,
    );
    try {
      return await this.recordRun(slug, technique, values, options, key);
    } finally {
      // On record once the journal has it, whatever failed after (the hold then stays for the other windows).
      release(this.options.runs.get(key) !== undefined);
    }
  }

  private async recordRun(
    slug: string,
    technique: TechniqueDetails,
    values: Readonly<Record<string, unknown>>,
    options: PrepareOptions,
    key: string,
  ): Promise<RunRecord> {
    const mediaOptions = this.options.connection.mediaOptions();
    const uploads = this.options.uploads;
    const local = await uploads.resolveInputs(technique, values, options.signal, { workspaceFilesOnly: options.workspaceFilesOnly });
    const inputs = buildRunInputs(technique, local.values, mediaOptions).map((input) =>
      local.localPaths[input.id] === undefined ? input : { ...input, localPath: local.localPaths[input.id] },
    );
    if (options.signal?.aborted) throw new FloraCancelledError();
    const now = this.now();
    const record: RunRecord = {
      localId: key,
      idempotencyKey: key,
      runId: undefined,
      slug,
      techniqueName: technique.name,
      inputs,
      status: 'creating',
      progress: 0,
      runCost: technique.runCost,
      startedLocallyAt: now,
      updatedAt: now,
      origin: this.windowId,
      ...(options.batch ? { batch: options.batch } : {}),
    };
    this.createdHere.add(record.localId);
    // The intent is on disk before the request leaves, so a crash mid-request cannot lose the run.
    await this.options.runs.put(record, { durable: true });
    this.prepared.fire(record);
    await this.options.catalog.rememberRecent(slug);
    return record;
  }

  /** Sends (or re-sends, with the same idempotency key) the create request of a recorded run. */
  async create(localId: string, signal?: AbortSignal): Promise<RunRecord> {
    const runs = this.options.runs;
    const record = runs.get(localId);
    if (!record) throw new ExtensionError(l10nText('No run {0} is recorded.', localId));
    // Stopped (by the bound, or the user): only Resume Following sends it again, after clearing `stopped`.
    if (record.runId || record.stopped) return record;
    this.clearCreateRetry(localId);
    this.creating.add(localId);
    try {
      const reply = await this.options.connection
        .client()
        .createRun(record.slug, record.inputs, { idempotencyKey: record.idempotencyKey, signal });
      // A status the document does not list still comes with a runId: the run exists (and may be charged),
      // so it is recorded as pending and followed; the poller bounds how long an unknown status may last.
      // The user may have chosen Stop Following while the request was out: the runId is kept, the stop too.
      const stoppedMeanwhile = runs.get(localId)?.stopped !== undefined;
      const created = await runs.update(
        localId,
        {
          runId: reply.runId,
          pollUrl: reply.pollUrl,
          status: reply.status,
          progress: clampProgress(reply.progress),
          createdAt: reply.createdAt,
          errorCode: undefined,
          errorMessage: undefined,
          ...(stoppedMeanwhile ? {} : { explanation: undefined }),
          createFailingSince: undefined,
          replyNotes: loadRunRepliesModule().mergeReplyNotes(record.replyNotes, reply.notes),
        },
        { durable: true, connection: { state: 'ok' } },
      );
      const unknown = reply.unknownStatus === undefined ? '' : `; FLORA said ${JSON.stringify(reply.unknownStatus)}, read as pending`;
      this.options.log.info(`Run ${reply.runId} of ${record.slug} created (${reply.status}${unknown}).`);
      if (reply.notes?.length)
        this.options.log.warn(`The create reply of run ${reply.runId} had fields left out: ${reply.notes.join('; ')}`);
      if (created && !created.stopped) this.follow(created, false);
      return created ?? record;
    } catch (error) {
      await this.onCreateFailed(record, error);
      throw error;
    } finally {
      this.creating.delete(localId);
    }
  }

  private async onCreateFailed(record: RunRecord, error: unknown): Promise<void> {
    const runs = this.options.runs;
    const retryable = error instanceof FloraCancelledError || (error instanceof FloraError && error.retryable);
    // Stopped while the request was out: nothing is re-sent until the user resumes it.
    if (retryable && runs.get(record.localId)?.stopped) return;
    if (retryable) {
      // Re-sent with the same key for a bounded time only; then the run is stopped, kept and resumable.
      // The first failure is on disk, so a reload or another window keeps the same deadline.
      const now = this.now();
      const since = runs.get(record.localId)?.createFailingSince;
      if (since === undefined) {
        await runs.update(record.localId, { createFailingSince: now }, { durable: true });
      } else if (now - since >= this.bounds.createRetryLimitMs) {
        await this.stopCreating(record, error, now - since);
        return;
      }
    }
    if (error instanceof FloraCancelledError) {
      // Cancelled before FLORA answered: the run may exist, so keep the intent and try again later.
      this.scheduleCreateRetry(record.localId);
      return;
    }
    if (error instanceof FloraError && error.retryable) {
      const offline = error instanceof FloraTransportError;
      runs.setConnection(record.localId, { state: offline ? 'offline' : 'retrying', message: describeError(error) });
      this.options.log.warn(
        `Creating ${record.slug} did not get through yet; trying again with the same idempotency key: ${error.message}`,
      );
      this.scheduleCreateRetry(record.localId);
      return;
    }
    // FLORA refused the request: nothing was created and nothing charged.
    const apiError = error instanceof FloraApiError ? error : undefined;
    // Finished, so the store drops its connection state with the same change.
    await runs.update(
      record.localId,
      {
        status: 'failed',
        errorCode: apiError?.code ?? (error instanceof FloraError ? error.kind : 'error'),
        errorMessage: messageOf(error),
        explanation: explanationOf(error),
        createFailingSince: undefined,
        // Refused, so finished: nothing to resume (a run the user had stopped meanwhile included).
        stopped: undefined,
        completedAt: this.now(),
      },
      { durable: true },
    );
    this.options.log.error(`Creating ${record.slug} failed: ${messageOf(error)}`);
  }

  /** The create was re-sent for createRetryLimitMs without a readable answer: stop, keeping the intent. */
  private async stopCreating(record: RunRecord, error: unknown, failingForMs: number): Promise<void> {
    this.clearCreateRetry(record.localId);
    const explanation = message('stoppedCreate', record.slug, minutesOf(failingForMs));
    await this.options.runs.update(
      record.localId,
      { stopped: { reason: 'createUnconfirmed', at: this.now() }, createFailingSince: undefined, explanation: explanation },
      { durable: true },
    );
    this.options.log.warn(`${englishText(explanation)} Last error: ${messageOf(error)}`);
  }

  private scheduleCreateRetry(localId: string): void {
    if (this.isDisposed || this.createRetries.has(localId)) return;
    const timer = this.timers.setTimeout(() => {
      this.createRetries.delete(localId);
      this.create(localId).catch(() => undefined);
    }, this.bounds.createRetryMs);
    this.createRetries.set(localId, timer);
  }

  private clearCreateRetry(localId: string): void {
    if (!this.createRetries.has(localId)) return;
    this.timers.clearTimeout(this.createRetries.get(localId));
    this.createRetries.delete(localId);
  }

  /**
   * Follows a stopped run again: polls it (any window's poller picks it up through the store), or, when
   * FLORA never confirmed it, re-sends its create with the same idempotency key. Both are bounded again.
   */
  async resumeFollowing(localId: string): Promise<RunRecord> {
    const record = this.options.runs.get(localId);
    if (!record) throw new ExtensionError(l10nText('No run {0} is recorded.', localId));
    if (!record.stopped) {
      if (isLive(record)) return record;
      throw new ExtensionError(l10nText('Only a run the extension stopped following can be resumed.'));
    }
    // In the same update that clears the stop: its change event is what starts the polls (adopt), and the
    // bound on live time then counts from now, or a run stopped as 'tooLong' would stop again at once.
    const resumed = await this.options.runs.update(
      localId,
      {
        followingSince: this.now(),
        stopped: undefined,
        createFailingSince: undefined,
        explanation: undefined,
        acknowledged: undefined,
      },
      { durable: true },
    );
    if (!resumed) throw new ExtensionError(l10nText('Run {0} is no longer recorded.', localId));
    this.options.log.info(`Resuming ${record.runId ? `run ${record.runId}` : `the create of a ${record.slug} run`} at the user's request.`);
    if (!resumed.runId) return this.create(localId);
    this.follow(resumed, true);
    return resumed;
  }

  /**
   * Stops following a live run at the user's request: no more polls (in whichever window polls it) or
   * create re-sends; the run keeps its status, runId and everything known, and Resume Following picks it
   * up again. A run already stopped is left as it is.
   */
  async stopFollowing(localId: string): Promise<RunRecord> {
    const record = this.options.runs.get(localId);
    if (!record) throw new ExtensionError(l10nText('No run {0} is recorded.', localId));
    if (record.stopped) return record;
    if (!isLive(record)) throw new ExtensionError(l10nText('Only a run that has not finished can be stopped.'));
    const explanation = record.runId ? message('stoppedByUser', record.runId) : message('stoppedCreateByUser', record.slug);
    const stopped = await this.options.runs.update(
      localId,
      { stopped: { reason: 'byUser', at: this.now() }, createFailingSince: undefined, explanation: explanation },
      { durable: true },
    );
    if (!stopped) throw new ExtensionError(l10nText('Run {0} is no longer recorded.', localId));
    // The store's change event has let go of it already (adopt); this covers a store that fires no event.
    this.letGo(stopped);
    this.options.log.info(
      `Stopped following ${record.runId ? `run ${record.runId}` : `the create of a ${record.slug} run`} at the user's request.`,
    );
    return stopped;
  }

  /** No more polls or create re-sends for a run that is no longer followed. */
  private letGo(record: RunRecord): void {
    this.clearCreateRetry(record.localId);
    if (record.runId && this.poller.isTracking(record.runId)) this.poller.untrack(record.runId);
  }

  /** Retries a run that FLORA refused to create (e.g. after a new key), with the same idempotency key. */
  async retryCreate(localId: string): Promise<RunRecord> {
    const record = this.options.runs.get(localId);
    if (!record || record.runId) throw new ExtensionError(l10nText('Only a run that was never created can be retried.'));
    await this.options.runs.update(
      localId,
      {
        status: 'creating',
        errorCode: undefined,
        errorMessage: undefined,
        explanation: undefined,
        completedAt: undefined,
        finishedLocallyAt: undefined,
        stopped: undefined,
        createFailingSince: undefined,
      },
      { durable: true },
    );
    return this.create(localId);
  }

  /** Resolves with the run's record once it has completed or failed (or was stopped). */
  waitForRun(localId: string, signal?: AbortSignal): Promise<RunRecord> {
    return new Promise<RunRecord>((resolve, reject) => {
      const check = (): boolean => {
        const record = this.options.runs.get(localId);
        if (!record) {
          cleanup();
          reject(new ExtensionError(l10nText('Run {0} is no longer recorded.', localId)));
          return true;
        }
        if (!isLive(record)) {
          cleanup();
          resolve(record);
          return true;
        }
        return false;
      };
      const subscription = this.options.runs.onDidChange((record) => {
        if (!record || record.localId === localId) check();
      });
      const onAbort = () => {
        cleanup();
        reject(new FloraCancelledError());
      };
      const cleanup = () => {
        subscription.dispose();
        signal?.removeEventListener('abort', onAbort);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      check();
    });
  }

  private follow(record: RunRecord, immediate: boolean): void {
    // A reply that arrives after the window closed changes nothing more: the next activation follows the run.
    if (this.isDisposed) return;
    if (!this.options.coordinator.isPolling || !record.runId || this.poller.isTracking(record.runId)) return;
    const localId = record.localId;
    this.poller.track(
      { slug: record.slug, runId: record.runId, pollUrl: record.pollUrl },
      { immediate, liveSince: this.liveSinceOf(record), onUpdate: (update) => void this.onPollUpdate(localId, update) },
    );
  }

  /**
   * Where the bound on a run's live time starts: when the user last resumed it, else when it was requested
   * (both our own clock, kept in the record across reloads and windows). FLORA's createdAt is not used: it
   * is the server's clock, and a hostile one far in the future would lift the bound.
   */
  private liveSinceOf(record: RunRecord): number {
    return record.followingSince ?? record.startedLocallyAt;
  }

  private async onPollUpdate(localId: string, update: PollUpdate): Promise<void> {
    const runs = this.options.runs;
    switch (update.kind) {
      case 'status':
        await runs.update(
          localId,
          { ...fromReply(update.reply, this.now()), ...this.notesChange(localId, update) },
          { connection: { state: 'ok' } },
        );
        return;
      case 'stopped':
        this.options.log.warn(`${englishText(update.explanation)}${update.error ? ` Last error: ${update.error.message}` : ''}`);
        await runs.update(
          localId,
          { stopped: { reason: update.reason, at: this.now() }, explanation: update.explanation },
          { durable: true },
        );
        return;
      case 'retrying': {
        const offline = update.error instanceof FloraTransportError;
        this.options.log.warn(
          `Polling run ${update.target.runId} failed (${update.consecutiveFailures} in a row); next try in ${Math.round(update.nextPollInMs / 1000)} s: ${update.error.message}`,
        );
        runs.setConnection(localId, { state: offline ? 'offline' : 'retrying', message: describeError(update.error) });
        return;
      }
      case 'paused':
        this.options.log.warn(`Polling run ${update.target.runId} paused: ${update.error.message}`);
        runs.setConnection(localId, { state: 'paused', message: describeError(update.error) });
        this.authProblem.fire(update.error);
        return;
      case 'gone': {
        // FLORA no longer knows the run: it failed as far as anyone can tell, in the extension's own words.
        await runs.update(
          localId,
          {
            status: 'failed',
            progress: 0,
            errorCode: 'not_found',
            errorMessage: englishText(update.explanation),
            explanation: update.explanation,
            completedAt: this.now(),
          },
          { durable: true },
        );
        this.options.log.info(`Run ${update.target.runId} failed: ${englishText(update.explanation)}`);
        return;
      }
      case 'completed':
      case 'failed': {
        await runs.update(localId, { ...fromReply(update.reply, this.now()), ...this.notesChange(localId, update) }, { durable: true });
        this.options.log.info(
          `Run ${update.target.runId} ${update.reply.status}${update.reply.errorCode ? ` (${update.reply.errorCode}: ${update.reply.errorMessage ?? ''})` : ''}.`,
        );
        return;
      }
    }
  }

  /** The reply's notes merged into the record's, logged when they add something. */
  private notesChange(localId: string, update: Extract<PollUpdate, { reply: unknown }>): Partial<RunRecord> {
    const notes = update.reply.notes;
    if (!notes || notes.length === 0) return {};
    const previous = this.options.runs.get(localId)?.replyNotes;
    const merged = loadRunRepliesModule().mergeReplyNotes(previous, notes);
    if ((merged?.length ?? 0) === (previous?.length ?? 0)) return {};
    this.options.log.warn(`A reply about run ${update.target.runId} had fields left out: ${notes.join('; ')}`);
    return { replyNotes: merged };
  }
}

/** The record change a poll reply makes; `now` stamps a failure FLORA sent without a completedAt. */
function fromReply(reply: RunStatusReply, now: number): Partial<RunRecord> {
  // A status the document does not list changes nothing: the record keeps the last status it knew.
  const change: Partial<RunRecord> =
    reply.unknownStatus === undefined
      ? { status: reply.status, progress: reply.status === 'completed' ? 100 : clampProgress(reply.progress) }
      : reply.progress === undefined
        ? {}
        : { progress: clampProgress(reply.progress) };
  if (reply.createdAt !== undefined) change.createdAt = reply.createdAt;
  if (reply.startedAt !== undefined) change.startedAt = reply.startedAt;
  if (reply.completedAt !== undefined) change.completedAt = reply.completedAt;
  if (reply.chargedCost !== undefined) change.chargedCost = reply.chargedCost;
  if (reply.outputs !== undefined) change.outputs = reply.outputs;
  if (reply.errorCode !== undefined) change.errorCode = reply.errorCode;
  if (reply.errorMessage !== undefined) change.errorMessage = reply.errorMessage;
  if (reply.status === 'failed' && reply.completedAt === undefined) change.completedAt = now;
  return change;
}

/** Used once a reply has arrived, when the client has loaded it already (activation does not load it). */
function loadRunRepliesModule(): typeof import('../core/runReplies') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../core/runReplies') as typeof import('../core/runReplies');
}
