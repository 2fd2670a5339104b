// Runs techniques: the one place that turns a request into a FLORA run and follows it to its end. It owns
// the client (rebuilt when the base URL changes), the technique-details cache and the poller, and writes
// every change to the runs store, which the views display.
// Too big to hold in one's head (issue 11 splits it into a connection, a technique catalogue and a run
// controller); kept whole until then so that the split is a refactor of its own, not mixed with fixes.
import * as vscode from 'vscode';
import type { Dispatcher } from 'undici';
import { ContextKey } from '../common/commandIds';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { FloraClient, FloraClientOptions } from '../core/api';
import { DOCUMENTED_TECHNIQUES } from '../core/catalog';
import type { DownloadResult } from '../core/download';
import {
  FloraApiError,
  FloraCancelledError,
  FloraError,
  FloraStoppedError,
  FloraTransportError,
  isAuthError,
  messageOf,
} from '../core/errors';
import { englishText, message } from '../core/messages';
import { clampProgress, isLoopbackHost, newIdempotencyKey } from '../core/model';
import { buildRunInputs, type MediaUrlOptions } from '../core/inputs';
import type { FileLease } from '../core/lease';
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
import { isLive, type RunRecord } from '../core/runs';
import type { KeyStore } from './keyStore';
import type { Log } from './log';
import { describeError, ExtensionError, explanationOf, l10nText } from './messages';
import type { RunsStore } from './runsStore';
import { onDidChangeSettings, readSettings, type FloraSettings } from './settings';
import { WindowCoordinator } from './windowCoordinator';

export type KeyVerdict = 'accepted' | 'rejected' | 'unknown';

const RECENT_TECHNIQUES_KEY = 'flora.recentTechniques';
/** After the client's own retries give up on a create, the same request is tried again this often… */
const CREATE_RETRY_MS = 15_000;
/** …for this long after the first failure; then the run is stopped (kept, resumable), never re-sent for ever. */
const CREATE_RETRY_LIMIT_MS = 10 * 60_000;

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
/** How far back a reloaded window looks for finished runs whose notification was never seen. */
const RENOTIFY_WINDOW_MS = 10 * 60_000;
/** A create another window started and has not finished by then is taken over (same idempotency key). */
const STALE_CREATE_MS = 30_000;

export interface FloraServiceOptions {
  keys: KeyStore;
  runs: RunsStore;
  log: Log;
  memento: vscode.Memento;
  userAgent: string;
  proxyUrl?: string;
  /** Shared by the windows of a profile: its holder is the one window that polls FLORA. */
  lease: FileLease;
  /** How often the lease is renewed or, by the other windows, checked. */
  leaseCheckMs?: number;
  /**
   * Names this window in the runs it starts, stable across reloads of the window (kept in workspace state),
   * so the reloaded window still tells the user about runs it started before.
   */
  windowKey?: string;
  bounds?: Partial<FollowingBounds>;
  /**
   * The clock and timers of the bounded retries (create re-sends, and the poller's); tests pass manual
   * ones to move time without waiting. The clock also stamps what the service records (stopped.at).
   */
  now?: () => number;
  timers?: PollerTimers;
}

export class FloraService extends Disposable {
  private settings: FloraSettings = readSettings();
  private currentClient: FloraClient | undefined;
  private dispatcherInstance: Dispatcher | undefined;
  private readonly details = new Map<string, TechniqueDetails>();
  private readonly detailsInFlight = new Map<string, Promise<TechniqueDetails>>();
  private readonly poller: Poller;
  /** The timer of each create waiting to be re-sent, from this.timers. */
  private readonly createRetries = new Map<string, unknown>();
  private readonly bounds: FollowingBounds;
  private readonly now: () => number;
  private readonly timers: PollerTimers;
  private readonly finished = this.register(new vscode.EventEmitter<RunRecord>());
  /** A run this window started reached completed or failed (whichever window polled it). */
  readonly onDidFinishRun = this.finished.event;
  private readonly stoppedFollowing = this.register(new vscode.EventEmitter<RunRecord>());
  /** The extension stopped following a run this window started (or whose window has gone); it can be resumed. */
  readonly onDidStopFollowing = this.stoppedFollowing.event;
  private readonly creating = new Set<string>();
  /** Runs whose create request this activation sends itself (resuming must not send it a second time). */
  private readonly createdHere = new Set<string>();
  private readonly coordinator: WindowCoordinator;
  private readonly authProblem = this.register(new vscode.EventEmitter<FloraError>());
  /** FLORA refused the key while following a run; polling waits for a new key. */
  readonly onAuthProblem = this.authProblem.event;
  private readonly detailsChanged = this.register(new vscode.EventEmitter<string | undefined>());
  /** Technique details were fetched (slug) or the cache was cleared (undefined). */
  readonly onDidChangeDetails = this.detailsChanged.event;

  constructor(private readonly options: FloraServiceOptions) {
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
    this.register(toDisposable(() => void this.dispatcherInstance?.close().catch(() => undefined)));
    this.poller = new Poller({
      fetch: (target, signal) => this.client().getRun(target.slug, target.runId, { pollUrl: target.pollUrl, signal }),
      intervalMs: this.settings.pollIntervalMs,
      strategy: 'eta',
      failureLimitMs: this.bounds.pollFailureLimitMs,
      unknownStatusLimitMs: this.bounds.unknownStatusLimitMs,
      liveLimitMs: this.bounds.liveLimitMs,
      now: this.now,
      timers: this.timers,
    });
    this.register(this.poller);
    this.coordinator = this.register(
      new WindowCoordinator({
        lease: options.lease,
        checkMs: options.leaseCheckMs,
        windowKey: options.windowKey,
        log: options.log,
        hasLiveRuns: () => options.runs.hasLive(),
        onStartPolling: () => this.resumeLiveRuns(),
        onStopPolling: () => {
          for (const record of options.runs.live()) if (record.runId) this.poller.untrack(record.runId);
        },
      }),
    );
    this.register(
      onDidChangeSettings((settings) => {
        const baseChanged = settings.baseUrl !== this.settings.baseUrl;
        this.settings = settings;
        this.poller.setIntervalMs(settings.pollIntervalMs);
        options.runs.setMaxHistory(settings.maxHistory);
        if (baseChanged) {
          this.dropConnection();
          this.clearDetails();
        }
      }),
    );
    this.register(
      options.keys.onDidChange((hasKey) => {
        if (hasKey) {
          this.poller.resume();
          this.clearDetails();
        }
      }),
    );
    this.register(
      toDisposable(() => {
        for (const timer of this.createRetries.values()) this.timers.clearTimeout(timer);
        this.createRetries.clear();
      }),
    );
    this.register(
      options.runs.onDidFinish((record) => {
        // The window that started the run tells the user; if it has gone (closed, reloaded), the polling one does.
        const mine = record.origin === undefined || record.origin === this.windowId;
        if (!mine && !(this.coordinator.isPolling && !this.coordinator.isWindowAlive(record.origin))) return;
        // A stopped run has not finished: it is announced as stopped, with the way to resume it; unless the
        // user stopped it, who knows already.
        if (record.stopped) {
          if (record.stopped.reason !== 'byUser') this.stoppedFollowing.fire(record);
        } else this.finished.fire(record);
      }),
    );
    // Runs another window started show up through the journal; the polling window follows them.
    this.register(options.runs.onDidChange((record) => record && this.adopt(record)));
  }

  get windowId(): string {
    return this.coordinator.windowId;
  }

  /** Whether this window is the one polling FLORA for every window's runs. */
  get isPollingWindow(): boolean {
    return this.coordinator.isPolling;
  }

  /**
   * Starts the lease loop: take the lease when it is free (and then resume every unfinished run), renew it
   * while we hold it, and notice when another window holds it.
   */
  start(): void {
    this.renotifyUnseen();
    this.coordinator.start();
  }

  /**
   * A reload clears the notifications; runs this window started that finished recently (perhaps while the
   * window was reloading) and whose notification was never dismissed are announced again.
   */
  private renotifyUnseen(): void {
    const since = this.now() - RENOTIFY_WINDOW_MS;
    for (const record of this.options.runs.all()) {
      if (
        !isLive(record) &&
        !record.stopped &&
        record.runId &&
        record.origin === this.windowId &&
        !record.acknowledged &&
        record.updatedAt >= since
      ) {
        this.finished.fire(record);
      }
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
    // A run this window just started and nobody polling here yet: try for the lease now rather than at the
    // next tick. Other windows' runs wait for the tick, so their every journal write costs no lease check here.
    if (!this.coordinator.isPolling && record.origin === this.windowId) this.coordinator.check();
    if (!this.coordinator.isPolling) return;
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
   * Created on the first request, so activation never loads the HTTP stack; made for the current base URL
   * (a loopback one is reached directly, never through a proxy that would see the key: see
   * dispatcherOptionsFor) and made again when flora.baseUrl changes.
   */
  private get dispatcher(): Dispatcher {
    if (!this.dispatcherInstance) {
      const { createDispatcher, dispatcherOptionsFor } = loadDispatcherModule();
      this.dispatcherInstance = createDispatcher(dispatcherOptionsFor(this.settings.baseUrl, this.options.proxyUrl));
    }
    return this.dispatcherInstance;
  }

  /** The next request builds a client and dispatcher for the new base URL; the old pools close once idle. */
  private dropConnection(): void {
    this.currentClient = undefined;
    const previous = this.dispatcherInstance;
    this.dispatcherInstance = undefined;
    // close() lets requests in flight finish (a poll of the old origin fails or completes on its own).
    void previous?.close().catch(() => undefined);
  }

  get currentSettings(): FloraSettings {
    return this.settings;
  }

  /** Throws FloraConfigurationError when flora.baseUrl may not carry the key. */
  client(): FloraClient {
    this.currentClient ??= this.newClient({ getApiKey: () => this.options.keys.get() });
    return this.currentClient;
  }

  private newClient(options: Pick<FloraClientOptions, 'getApiKey' | 'retry'>): FloraClient {
    const { FloraClient } = loadClientModule();
    return new FloraClient({
      baseUrl: this.settings.baseUrl,
      dispatcher: this.dispatcher,
      userAgent: this.options.userAgent,
      log: this.options.log.write,
      ...options,
    });
  }

  /**
   * Asks FLORA about one documented technique with a candidate key, before it is saved. Any answer other
   * than 401 proves FLORA accepted the key (even a 404 for the slug).
   */
  async checkKey(key: string): Promise<KeyVerdict> {
    let client: FloraClient;
    try {
      client = this.newClient({ getApiKey: () => key, retry: { attempts: 2 } });
    } catch (error) {
      this.options.log.warn(`Could not check the key: ${messageOf(error)}`);
      return 'unknown';
    }
    try {
      await client.getTechnique(DOCUMENTED_TECHNIQUES[0]?.slug ?? 'studio-shot');
      return 'accepted';
    } catch (error) {
      if (isAuthError(error)) return 'rejected';
      return error instanceof FloraApiError ? 'accepted' : 'unknown';
    }
  }

  /**
   * Downloads an output into a folder (core/download.ts), through a dispatcher of its own that refuses
   * private and local addresses (the sandbox's origin excepted) and is closed afterwards; proxy-aware like
   * the API's. Outputs are public URLs: no Authorization header is ever sent with them.
   */
  async fetchOutput(url: string, target: { folder: string; stem: string }, signal: AbortSignal): Promise<DownloadResult> {
    const { createDownloadDispatcher } = loadDispatcherModule();
    // Required on first use, like the dispatcher: activating the extension does not load the download code.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { downloadToFolder } = require('../core/download') as typeof import('../core/download');
    const allowedOrigins = this.mediaOptions().extraOrigins ?? [];
    const dispatcher = createDownloadDispatcher({ proxyUrl: this.options.proxyUrl, allowedOrigins });
    try {
      return await downloadToFolder({ url, dispatcher, allowedOrigins, folder: target.folder, stem: target.stem, signal });
    } finally {
      void dispatcher.destroy().catch(() => undefined);
    }
  }

  /** Loopback base URLs are the local sandbox, whose own output URLs may be used as inputs. */
  mediaOptions(): MediaUrlOptions {
    try {
      const base = new URL(this.settings.baseUrl);
      return isLoopbackHost(base.hostname) ? { extraOrigins: [base.origin] } : {};
    } catch {
      return {};
    }
  }

  cachedTechnique(slug: string): TechniqueDetails | undefined {
    return this.details.get(slug);
  }

  /** Fetches a technique's details once; later calls answer from the cache unless `refresh`. */
  async getTechnique(slug: string, options: { signal?: AbortSignal; refresh?: boolean } = {}): Promise<TechniqueDetails> {
    const cached = this.details.get(slug);
    if (cached && !options.refresh) return cached;
    let pending = this.detailsInFlight.get(slug);
    if (!pending) {
      pending = this.client()
        .getTechnique(slug, { signal: options.signal })
        .then((details) => {
          this.details.set(slug, details);
          this.detailsChanged.fire(slug);
          return details;
        })
        .finally(() => this.detailsInFlight.delete(slug));
      this.detailsInFlight.set(slug, pending);
    }
    return pending;
  }

  clearDetails(): void {
    this.details.clear();
    this.detailsChanged.fire(undefined);
  }

  recentTechniques(): string[] {
    return this.options.memento.get<string[]>(RECENT_TECHNIQUES_KEY, []);
  }

  /**
   * Validates the inputs, records the run, and creates it on FLORA. Resolves with the record once FLORA has
   * created the run; the run is then followed in the background (see waitForRun). Invalid inputs reject
   * with FloraInputError and nothing is sent.
   */
  async startRun(slug: string, values: Readonly<Record<string, unknown>>, options: { signal?: AbortSignal } = {}): Promise<RunRecord> {
    const record = await this.prepareRun(slug, values, options);
    return this.create(record.localId, options.signal);
  }

  /** Checks the inputs and records the run's intent (durably) without sending anything yet. */
  async prepareRun(slug: string, values: Readonly<Record<string, unknown>>, options: { signal?: AbortSignal } = {}): Promise<RunRecord> {
    const technique = await this.getTechnique(slug, { signal: options.signal });
    const inputs = buildRunInputs(technique, values, this.mediaOptions());
    if (options.signal?.aborted) throw new FloraCancelledError();
    const key = newIdempotencyKey();
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
    };
    this.createdHere.add(record.localId);
    // The intent is on disk before the request leaves, so a crash mid-request cannot lose the run.
    await this.options.runs.put(record, { durable: true });
    // Runs started from a tree item or a script count for the walkthrough too.
    await vscode.commands.executeCommand('setContext', ContextKey.hasStartedRun, true);
    await this.rememberRecent(slug);
    return record;
  }

  /** Sends (or re-sends, with the same idempotency key) the create request of a recorded run. */
  async create(localId: string, signal?: AbortSignal): Promise<RunRecord> {
    const record = this.options.runs.get(localId);
    if (!record) throw new ExtensionError(l10nText('No run {0} is recorded.', localId));
    // Stopped (by the bound, or the user): only Resume Following sends it again, after clearing `stopped`.
    if (record.runId || record.stopped) return record;
    this.clearCreateRetry(localId);
    this.creating.add(localId);
    try {
      const reply = await this.client().createRun(record.slug, record.inputs, { idempotencyKey: record.idempotencyKey, signal });
      // A status the document does not list still comes with a runId: the run exists (and may be charged),
      // so it is recorded as pending and followed; the poller bounds how long an unknown status may last.
      // The user may have chosen Stop Following while the request was out: the runId is kept, the stop too.
      const stoppedMeanwhile = this.options.runs.get(localId)?.stopped !== undefined;
      const created = await this.options.runs.update(
        localId,
        {
          runId: reply.runId,
          pollUrl: reply.pollUrl,
          status: reply.status,
          progress: clampProgress(reply.progress),
          createdAt: reply.createdAt,
          connection: 'ok',
          connectionMessage: undefined,
          errorCode: undefined,
          errorMessage: undefined,
          ...(stoppedMeanwhile ? {} : { errorText: undefined }),
          createFailingSince: undefined,
          replyNotes: loadRunRepliesModule().mergeReplyNotes(record.replyNotes, reply.notes),
        },
        { durable: true },
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
    const retryable = error instanceof FloraCancelledError || (error instanceof FloraError && error.retryable);
    // Stopped while the request was out: nothing is re-sent until the user resumes it.
    if (retryable && this.options.runs.get(record.localId)?.stopped) return;
    if (retryable) {
      // Re-sent with the same key for a bounded time only; then the run is stopped, kept and resumable.
      // The first failure is on disk, so a reload or another window keeps the same deadline.
      const now = this.now();
      const since = this.options.runs.get(record.localId)?.createFailingSince;
      if (since === undefined) {
        await this.options.runs.update(record.localId, { createFailingSince: now }, { durable: true });
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
      await this.options.runs.update(record.localId, {
        connection: offline ? 'offline' : 'retrying',
        connectionMessage: describeError(error),
      });
      this.options.log.warn(
        `Creating ${record.slug} did not get through yet; trying again with the same idempotency key: ${error.message}`,
      );
      this.scheduleCreateRetry(record.localId);
      return;
    }
    // FLORA refused the request: nothing was created and nothing charged.
    const apiError = error instanceof FloraApiError ? error : undefined;
    await this.options.runs.update(
      record.localId,
      {
        status: 'failed',
        errorCode: apiError?.code ?? (error instanceof FloraError ? error.kind : 'error'),
        errorMessage: messageOf(error),
        errorText: explanationOf(error),
        connection: undefined,
        connectionMessage: undefined,
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
      {
        stopped: { reason: 'createUnconfirmed', at: this.now() },
        createFailingSince: undefined,
        errorText: explanation,
        connection: undefined,
        connectionMessage: undefined,
      },
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
        errorText: undefined,
        connection: undefined,
        connectionMessage: undefined,
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
      {
        stopped: { reason: 'byUser', at: this.now() },
        createFailingSince: undefined,
        errorText: explanation,
        connection: undefined,
        connectionMessage: undefined,
      },
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
        errorText: undefined,
        completedAt: undefined,
        stopped: undefined,
        createFailingSince: undefined,
      },
      { durable: true },
    );
    return this.create(localId);
  }

  /** Resolves with the run's record once it has completed or failed. */
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

  /** Picks up every run left unfinished by an earlier session: re-sends creates, resumes polls. */
  resumeLiveRuns(): void {
    for (const record of this.options.runs.live()) {
      if (record.runId) {
        this.follow(record, true);
      } else if (!this.createdHere.has(record.localId) && !this.creating.has(record.localId)) {
        this.options.log.info(`Re-sending the create request of an unfinished ${record.slug} run (same idempotency key).`);
        this.create(record.localId).catch(() => undefined);
      }
    }
  }

  private follow(record: RunRecord, immediate: boolean): void {
    if (!this.coordinator.isPolling || !record.runId || this.poller.isTracking(record.runId)) return;
    const localId = record.localId;
    this.poller
      .track(
        { slug: record.slug, runId: record.runId, pollUrl: record.pollUrl },
        { immediate, liveSince: this.liveSinceOf(record), onUpdate: (update) => void this.onPollUpdate(localId, update) },
      )
      .catch((error: unknown) => {
        // A stop is recorded (and logged) by the 'stopped' update; a cancel is this window letting go.
        if (!(error instanceof FloraCancelledError) && !(error instanceof FloraStoppedError))
          this.options.log.error(`Following run ${record.runId} stopped: ${String(error)}`);
      });
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
        await runs.update(localId, {
          ...fromReply(update.reply, this.now()),
          ...this.notesChange(localId, update),
          connection: 'ok',
          connectionMessage: undefined,
        });
        return;
      case 'stopped':
        this.options.log.warn(`${englishText(update.explanation)}${update.error ? ` Last error: ${update.error.message}` : ''}`);
        await runs.update(
          localId,
          {
            stopped: { reason: update.reason, at: this.now() },
            errorText: update.explanation,
            connection: undefined,
            connectionMessage: undefined,
          },
          { durable: true },
        );
        return;
      case 'retrying': {
        const offline = update.error instanceof FloraTransportError;
        this.options.log.warn(
          `Polling run ${update.target.runId} failed (${update.consecutiveFailures} in a row); next try in ${Math.round(update.nextPollInMs / 1000)} s: ${update.error.message}`,
        );
        await runs.update(localId, { connection: offline ? 'offline' : 'retrying', connectionMessage: describeError(update.error) });
        return;
      }
      case 'paused':
        this.options.log.warn(`Polling run ${update.target.runId} paused: ${update.error.message}`);
        await runs.update(localId, { connection: 'paused', connectionMessage: describeError(update.error) });
        this.authProblem.fire(update.error);
        return;
      case 'completed':
      case 'failed': {
        const change = {
          ...fromReply(update.reply, this.now()),
          ...this.notesChange(localId, update),
          connection: undefined,
          connectionMessage: undefined,
        };
        // The poller's own verdict (a run FLORA no longer knows) is shown in the user's language.
        if (update.kind === 'failed' && update.explanation) change.errorText = update.explanation;
        await runs.update(localId, change, { durable: true });
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

  private async rememberRecent(slug: string): Promise<void> {
    const recent = [slug, ...this.recentTechniques().filter((item) => item !== slug)].slice(0, 10);
    await this.options.memento.update(RECENT_TECHNIQUES_KEY, recent);
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

// The HTTP client, its schemas and readers and undici make up most of the code. Required on first use
// rather than imported, so activating the extension does not evaluate them (esbuild keeps required modules
// lazy); undici is a file of its own (dist/undici.js, see esbuild.mjs), so activation does not even parse it.
/* eslint-disable @typescript-eslint/no-require-imports */
function loadClientModule(): typeof import('../core/api') {
  return require('../core/api') as typeof import('../core/api');
}
/** Used once a reply has arrived, when the client has loaded it already. */
function loadRunRepliesModule(): typeof import('../core/runReplies') {
  return require('../core/runReplies') as typeof import('../core/runReplies');
}
function loadDispatcherModule(): typeof import('../core/dispatcher') {
  return require('../core/dispatcher') as typeof import('../core/dispatcher');
}
/* eslint-enable @typescript-eslint/no-require-imports */
