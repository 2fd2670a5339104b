// The composition root of one window's models: settings, key, runs, the connection to FLORA, the technique
// catalogue, uploads, the window coordinator and the run controller, built and connected in one place. activate()
// calls it and adds the views and commands; the tests that simulate several windows call it over a storage
// folder of their own, so they run the same wiring as the extension.
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { RunJournal } from '../core/journal';
import { FileLease } from '../core/lease';
import type { PollerTimers } from '../core/poller';
import { ReservationBook } from '../core/reservations';
import { BudgetGate, type BudgetPrompt } from './budgetGate';
import { FloraConnection } from './floraConnection';
import { KeyStore } from './keyStore';
import type { Log } from './log';
import { OutputIndex } from './outputIndex';
import { OutputSaver } from './outputSaver';
import { RunController, type FollowingBounds } from './runController';
import { RunsStore } from './runsStore';
import { Settings } from './settings';
import { TechniqueCatalog } from './techniqueCatalog';
import { Thumbnails } from './thumbnails';
import { Uploads, type ConsentPrompt } from './uploads';
import { WindowCoordinator } from './windowCoordinator';

export interface FloraServicesOptions {
  secrets: vscode.SecretStorage;
  /** Global state: the recently used techniques. */
  memento: vscode.Memento;
  /** Global storage, shared by every window of the profile: the run journal and the polling lease live there. */
  storageFolder: string;
  log: Log;
  userAgent: string;
  /** VS Code's http.proxy, when set. */
  proxyUrl?: string;
  /** Names this window, stable across its reloads, so a reloaded window still tells the user about its runs. */
  windowKey?: string;
  /** How long the polling lease lasts unrenewed, and how often it is renewed or checked (tests shorten them). */
  lease?: { ttlMs?: number; checkMs?: number };
  bounds?: Partial<FollowingBounds>;
  /** The clock and timers of the bounded retries and the poller; tests pass manual ones. */
  now?: () => number;
  timers?: PollerTimers;
  /** How the first upload to a target is agreed to; a modal dialog unless a test records it. */
  consent?: ConsentPrompt;
  /** How a run past the daily budget is confirmed; a modal dialog unless a test records it. */
  budgetPrompt?: BudgetPrompt;
}

export interface FloraServices extends vscode.Disposable {
  readonly settings: Settings;
  readonly keys: KeyStore;
  readonly runs: RunsStore;
  readonly connection: FloraConnection;
  readonly catalog: TechniqueCatalog;
  readonly uploads: Uploads;
  readonly coordinator: WindowCoordinator;
  readonly controller: RunController;
  /** The daily budget every new run passes (today's standing for the status bar and the tools). */
  readonly budget: BudgetGate;
  /** Saving outputs into the workspace, the URLs and saved files known from the history, hover thumbnails. */
  readonly saver: OutputSaver;
  readonly outputs: OutputIndex;
  readonly thumbnails: Thumbnails;
  /** Starts the lease loop: this window polls when it holds the lease (then follows every unfinished run). */
  start(): void;
}

export function createServices(options: FloraServicesOptions): FloraServices {
  const { log } = options;
  const settings = new Settings();
  const keys = new KeyStore(options.secrets);
  const runs = new RunsStore(new RunJournal(path.join(options.storageFolder, 'runs'), log.write), settings.current.maxHistory);
  const connection = new FloraConnection({ settings, keys, log, userAgent: options.userAgent, proxyUrl: options.proxyUrl });
  const catalog = new TechniqueCatalog({ connection, settings, keys, memento: options.memento });
  const uploads = new Uploads({
    settings,
    secrets: options.secrets,
    memento: options.memento,
    connection,
    log,
    consent: options.consent,
    now: options.now,
  });
  // The coordinator starts and stops this window's polling, through the controller made just below (its
  // callbacks run from start() on, when the controller exists).
  const coordinator = new WindowCoordinator({
    lease: new FileLease(path.join(options.storageFolder, 'poller.lease'), { ttlMs: options.lease?.ttlMs }),
    checkMs: options.lease?.checkMs,
    windowKey: options.windowKey,
    log,
    hasLiveRuns: () => runs.hasLive(),
    onStartPolling: () => controller.followLiveRuns(),
    onStopPolling: () => controller.letGoOfLiveRuns(),
  });
  // Reservations expire by the wall clock every window shares, so their book keeps the real clock and timers.
  const reservations = new ReservationBook(path.join(options.storageFolder, 'budget-reservations'), { log: log.write });
  const budget = new BudgetGate({ runs, settings, now: options.now, prompt: options.budgetPrompt, reservations });
  const controller = new RunController({
    budget,
    connection,
    catalog,
    runs,
    keys,
    settings,
    coordinator,
    uploads,
    log,
    bounds: options.bounds,
    now: options.now,
    timers: options.timers,
  });
  const saver = new OutputSaver({ runs, connection, settings, log, now: options.now });
  const outputs = new OutputIndex(runs, connection);
  const thumbnails = new Thumbnails(connection, log, path.join(options.storageFolder, 'thumbnails'), (url, error) =>
    saver.noteFailure(url, error),
  );
  const historyLimit = settings.onDidChange((current) => runs.setMaxHistory(current.maxHistory));
  const models = { settings, keys, runs, connection, catalog, uploads, coordinator, controller, budget, saver, outputs, thumbnails };
  // Disposed in the reverse order of their making (the object's order): nothing is used after it is gone.
  const parts: vscode.Disposable[] = [...Object.values(models).filter((model) => 'dispose' in model), historyLimit];
  return {
    ...models,
    start: () => coordinator.start(),
    dispose: () => {
      for (const part of parts.reverse()) part.dispose();
    },
  };
}
