// Runs techniques: the one place that turns a request into a FLORA run and follows it to its end. It owns
// the client (rebuilt when the base URL changes), the technique-details cache and the poller, and writes
// every change to the runs store, which the views display.
import * as vscode from 'vscode';
import type { Dispatcher } from 'undici';
import { ContextKey } from '../common/commandIds';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { FloraClient, FloraClientOptions } from '../core/api';
import { DOCUMENTED_TECHNIQUES } from '../core/catalog';
import { FloraApiError, FloraCancelledError, FloraError, FloraTransportError, isAuthError, messageOf } from '../core/errors';
import { clampProgress, isLoopbackHost, newIdempotencyKey } from '../core/model';
import { buildRunInputs, type MediaUrlOptions } from '../core/inputs';
import type { FileLease } from '../core/lease';
import { Poller, type PollUpdate } from '../core/poller';
import type { RunStatusReply, TechniqueDetails } from '../core/schemas';
import { isLive, type RunRecord } from '../core/runs';
import type { KeyStore } from './keyStore';
import type { Log } from './log';
import { describeError, ExtensionError, explanationOf, l10nText } from './messages';
import type { RunsStore } from './runsStore';
import { onDidChangeSettings, readSettings, type FloraSettings } from './settings';
import { WindowCoordinator } from './windowCoordinator';

export type KeyVerdict = 'accepted' | 'rejected' | 'unknown';

const RECENT_TECHNIQUES_KEY = 'flora.recentTechniques';
/** After the client's own retries give up on a create, the same request is tried again this often. */
const CREATE_RETRY_MS = 15_000;
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
}

export class FloraService extends Disposable {
  private settings: FloraSettings = readSettings();
  private currentClient: FloraClient | undefined;
  private dispatcherInstance: Dispatcher | undefined;
  private readonly details = new Map<string, TechniqueDetails>();
  private readonly detailsInFlight = new Map<string, Promise<TechniqueDetails>>();
  private readonly poller: Poller;
  private readonly createRetries = new Map<string, NodeJS.Timeout>();
  private readonly finished = this.register(new vscode.EventEmitter<RunRecord>());
  /** A run this window started reached completed or failed (whichever window polled it). */
  readonly onDidFinishRun = this.finished.event;
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
    this.register(toDisposable(() => void this.dispatcherInstance?.close().catch(() => undefined)));
    this.poller = new Poller({
      fetch: (target, signal) => this.client().getRun(target.slug, target.runId, { pollUrl: target.pollUrl, signal }),
      intervalMs: this.settings.pollIntervalMs,
      strategy: 'eta',
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
          this.currentClient = undefined;
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
        for (const timer of this.createRetries.values()) clearTimeout(timer);
        this.createRetries.clear();
      }),
    );
    this.register(
      options.runs.onDidFinish((record) => {
        // The window that started the run tells the user; if it has gone (closed, reloaded), the polling one does.
        const mine = record.origin === undefined || record.origin === this.windowId;
        if (mine || (this.coordinator.isPolling && !this.coordinator.isWindowAlive(record.origin))) this.finished.fire(record);
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
    const since = Date.now() - RENOTIFY_WINDOW_MS;
    for (const record of this.options.runs.all()) {
      if (!isLive(record) && record.runId && record.origin === this.windowId && !record.acknowledged && record.updatedAt >= since) {
        this.finished.fire(record);
      }
    }
  }

  /** A run changed in the store: the polling window follows live runs it is not following yet. */
  private adopt(record: RunRecord): void {
    if (this.isDisposed || !isLive(record)) return;
    // A run this window just started and nobody polling here yet: try for the lease now rather than at the
    // next tick. Other windows' runs wait for the tick, so their every journal write costs no lease check here.
    if (!this.coordinator.isPolling && record.origin === this.windowId) this.coordinator.check();
    if (!this.coordinator.isPolling) return;
    if (record.runId) {
      if (!this.poller.isTracking(record.runId)) this.follow(record, false);
      return;
    }
    const stale = Date.now() - record.updatedAt > STALE_CREATE_MS;
    if (stale && record.origin !== this.windowId && !this.creating.has(record.localId) && !this.createRetries.has(record.localId)) {
      this.options.log.info(`Taking over the create of a ${record.slug} run another window left unfinished (same idempotency key).`);
      this.create(record.localId).catch(() => undefined);
    }
  }

  /** Created on the first request, so activation never loads the HTTP stack. */
  private get dispatcher(): Dispatcher {
    if (!this.dispatcherInstance) {
      const { createDispatcher } = loadDispatcherModule();
      this.dispatcherInstance = createDispatcher({ proxyUrl: this.options.proxyUrl });
    }
    return this.dispatcherInstance;
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
   * Fetches an output file through the extension's own dispatcher (proxy-aware; the editor's global one may
   * be another undici). Outputs are public URLs: no Authorization header is ever sent with them.
   */
  fetchOutput(url: string, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const { request } = loadUndici();
    return request(url, {
      method: 'GET',
      signal,
      dispatcher: this.dispatcher,
      maxRedirections: 3,
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
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
    const now = Date.now();
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
    if (record.runId) return record;
    this.clearCreateRetry(localId);
    this.creating.add(localId);
    try {
      const reply = await this.client().createRun(record.slug, record.inputs, { idempotencyKey: record.idempotencyKey, signal });
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
          errorText: undefined,
        },
        { durable: true },
      );
      this.options.log.info(`Run ${reply.runId} of ${record.slug} created (${reply.status}).`);
      if (created) this.follow(created, false);
      return created ?? record;
    } catch (error) {
      await this.onCreateFailed(record, error);
      throw error;
    } finally {
      this.creating.delete(localId);
    }
  }

  private async onCreateFailed(record: RunRecord, error: unknown): Promise<void> {
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
        completedAt: Date.now(),
      },
      { durable: true },
    );
    this.options.log.error(`Creating ${record.slug} failed: ${messageOf(error)}`);
  }

  private scheduleCreateRetry(localId: string): void {
    if (this.isDisposed || this.createRetries.has(localId)) return;
    const timer = setTimeout(() => {
      this.createRetries.delete(localId);
      this.create(localId).catch(() => undefined);
    }, CREATE_RETRY_MS);
    this.createRetries.set(localId, timer);
  }

  private clearCreateRetry(localId: string): void {
    const timer = this.createRetries.get(localId);
    if (timer) clearTimeout(timer);
    this.createRetries.delete(localId);
  }

  /** Retries a run that FLORA refused to create (e.g. after a new key), with the same idempotency key. */
  async retryCreate(localId: string): Promise<RunRecord> {
    const record = this.options.runs.get(localId);
    if (!record || record.runId) throw new ExtensionError(l10nText('Only a run that was never created can be retried.'));
    await this.options.runs.update(
      localId,
      { status: 'creating', errorCode: undefined, errorMessage: undefined, errorText: undefined, completedAt: undefined },
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
        { immediate, onUpdate: (update) => void this.onPollUpdate(localId, update) },
      )
      .catch((error: unknown) => {
        if (!(error instanceof FloraCancelledError)) this.options.log.error(`Following run ${record.runId} stopped: ${String(error)}`);
      });
  }

  private async onPollUpdate(localId: string, update: PollUpdate): Promise<void> {
    const runs = this.options.runs;
    switch (update.kind) {
      case 'status':
        await runs.update(localId, { ...fromReply(update.reply), connection: 'ok', connectionMessage: undefined });
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
        const change = { ...fromReply(update.reply), connection: undefined, connectionMessage: undefined };
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

  private async rememberRecent(slug: string): Promise<void> {
    const recent = [slug, ...this.recentTechniques().filter((item) => item !== slug)].slice(0, 10);
    await this.options.memento.update(RECENT_TECHNIQUES_KEY, recent);
  }
}

function fromReply(reply: RunStatusReply): Partial<RunRecord> {
  const change: Partial<RunRecord> = { status: reply.status, progress: reply.status === 'completed' ? 100 : clampProgress(reply.progress) };
  if (reply.createdAt !== undefined) change.createdAt = reply.createdAt;
  if (reply.startedAt !== undefined) change.startedAt = reply.startedAt;
  if (reply.completedAt !== undefined) change.completedAt = reply.completedAt;
  if (reply.chargedCost !== undefined) change.chargedCost = reply.chargedCost;
  if (reply.outputs !== undefined) change.outputs = reply.outputs;
  if (reply.errorCode !== undefined) change.errorCode = reply.errorCode;
  if (reply.errorMessage !== undefined) change.errorMessage = reply.errorMessage;
  if (reply.status === 'failed' && reply.completedAt === undefined) change.completedAt = Date.now();
  return change;
}

// The HTTP client, its schemas and undici make up most of the code. Required on first use rather than
// imported, so activating the extension does not evaluate them (esbuild keeps required modules lazy);
// undici is a file of its own (dist/undici.js, see esbuild.mjs), so activation does not even parse it.
/* eslint-disable @typescript-eslint/no-require-imports */
function loadClientModule(): typeof import('../core/api') {
  return require('../core/api') as typeof import('../core/api');
}
function loadDispatcherModule(): typeof import('../core/dispatcher') {
  return require('../core/dispatcher') as typeof import('../core/dispatcher');
}
function loadUndici(): typeof import('undici') {
  return require('undici') as typeof import('undici');
}
/* eslint-enable @typescript-eslint/no-require-imports */
