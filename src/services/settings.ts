// One typed reading of the flora.* settings, clamped, and one observable snapshot of it (Settings): a single
// configuration listener, read by every model and view, so no other code reads configuration directly.
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import { DEFAULT_BASE_URL } from '../core/model';
import type { InsertFormat } from '../core/insertFormat';
import { DEFAULT_OUTPUT_FOLDER, type OutputFolderSetting } from '../core/outputFolder';
import { clampPollInterval } from '../core/poller';

/** Where local files are uploaded for FLORA to read. Only the user's own values count: see readUpload. */
export interface UploadSettings {
  target: 'none' | 's3' | 'gcs' | 'imagekit';
  s3: { bucket: string; region: string; prefix: string; profile: string };
  gcs: { bucket: string; prefix: string };
  imagekit: { folder: string };
  /** An S3-compatible (or ImageKit-like) endpoint instead of the real one; undefined for the real one. */
  endpoint: string | undefined;
  /** How long the URL FLORA reads an upload from stays valid (hours, 1–168). */
  urlLifetimeHours: number;
}

export interface FloraSettings {
  baseUrl: string;
  pollIntervalMs: number;
  techniques: string[];
  confirmBeforeRun: boolean;
  insertFormat: InsertFormat;
  outputFolder: OutputFolderSetting;
  /** Whether a completed run's outputs are saved into the workspace: offered (ask), at once (always) or never. */
  saveOutputs: 'ask' | 'always' | 'never';
  /** Insert the saved file's path (relative to the document) rather than the URL, once an output is saved. */
  insertPathWhenSaved: boolean;
  maxHistory: number;
  upload: UploadSettings;
  /** How many runs of a batch are in flight at once. */
  batchConcurrency: number;
  /** Credits a day that runs may cost before a person must confirm the next one; undefined: no budget. */
  creditsPerDay: number | undefined;
}

export const SETTINGS_SECTION = 'flora';
/** What a day of ordinary use costs (twenty 5-credit runs); an agent in a loop is stopped at it. */
const DEFAULT_CREDITS_PER_DAY = 100;

export function readSettings(): FloraSettings {
  const configuration = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  // flora.baseUrl is where the key is sent: read only the user's (application-wide) value, never a
  // workspace's, even on editors that would otherwise merge one in.
  const baseUrlInspection = configuration.inspect<string>('baseUrl');
  const baseUrl = (baseUrlInspection?.globalValue ?? baseUrlInspection?.defaultValue ?? DEFAULT_BASE_URL).trim();
  const techniques = configuration.get<unknown>('techniques', []);
  // The history is shared by every workspace of the profile, and pruning it deletes runs: only the user's
  // own value decides how many are kept, never a repository's settings.
  const historyInspection = configuration.inspect<number>('maxHistory');
  const history = historyInspection?.globalValue ?? historyInspection?.defaultValue ?? 200;
  return {
    baseUrl: baseUrl.length > 0 ? baseUrl : DEFAULT_BASE_URL,
    pollIntervalMs: clampPollInterval(configuration.get<number>('pollIntervalSeconds', 3) * 1000),
    techniques: Array.isArray(techniques)
      ? [
          ...new Set(
            techniques.filter((slug): slug is string => typeof slug === 'string' && slug.trim().length > 0).map((slug) => slug.trim()),
          ),
        ]
      : [],
    confirmBeforeRun: readConfirmBeforeRun(configuration),
    insertFormat: configuration.get<string>('insertFormat', 'auto') === 'plain' ? 'plain' : 'auto',
    outputFolder: readOutputFolder(configuration),
    saveOutputs: readSaveOutputs(configuration.get<unknown>('saveOutputs', 'ask')),
    insertPathWhenSaved: configuration.get<unknown>('insertPathWhenSaved', true) !== false,
    maxHistory: Number.isFinite(history) ? Math.min(10_000, Math.max(10, Math.round(history))) : 200,
    upload: readUpload(configuration),
    // How many runs (and charges) a batch starts at once: the user's own value, like every spending setting.
    batchConcurrency: clampInteger(configuration.inspect<unknown>('batch.concurrency')?.globalValue ?? 4, 1, 16, 4),
    creditsPerDay: readCreditsPerDay(configuration),
  };
}

/**
 * The upload settings decide where the user's files go and with which credentials: only the user's own
 * (global) values are read, never a workspace's, so a cloned repository cannot send files elsewhere.
 */
function readUpload(configuration: vscode.WorkspaceConfiguration): UploadSettings {
  const own = <T>(key: string, fallback: T): T => {
    const inspection = configuration.inspect<T>(key);
    return inspection?.globalValue ?? inspection?.defaultValue ?? fallback;
  };
  const text = (key: string, fallback = ''): string => {
    const value = own<unknown>(key, fallback);
    return typeof value === 'string' ? value.trim() : fallback;
  };
  const target = text('upload.target', 'none');
  const prefix = (key: string) => {
    const value = text(key, 'flora/').replace(/^\/+/, '');
    return value.length === 0 || value.endsWith('/') ? value : `${value}/`;
  };
  const endpoint = text('upload.endpoint');
  return {
    target: target === 's3' || target === 'gcs' || target === 'imagekit' ? target : 'none',
    s3: {
      bucket: text('upload.s3.bucket'),
      region: text('upload.s3.region', 'us-east-1') || 'us-east-1',
      prefix: prefix('upload.s3.prefix'),
      profile: text('upload.s3.profile'),
    },
    gcs: { bucket: text('upload.gcs.bucket'), prefix: prefix('upload.gcs.prefix') },
    imagekit: { folder: text('upload.imagekit.folder', 'flora').replace(/^\/+|\/+$/g, '') },
    endpoint: endpoint.length > 0 ? endpoint.replace(/\/+$/, '') : undefined,
    urlLifetimeHours: clampInteger(own<unknown>('upload.urlLifetimeHours', 24), 1, 168, 24),
  };
}

function readSaveOutputs(value: unknown): FloraSettings['saveOutputs'] {
  return value === 'always' || value === 'never' ? value : 'ask';
}

/**
 * The daily budget: the user's own value only (a repository must never raise what may be spent), 0 for
 * none; anything unreadable keeps the default rather than turning the budget off.
 */
function readCreditsPerDay(configuration: vscode.WorkspaceConfiguration): number | undefined {
  const inspection = configuration.inspect<unknown>('budget.creditsPerDay');
  const fallback = typeof inspection?.defaultValue === 'number' ? inspection.defaultValue : DEFAULT_CREDITS_PER_DAY;
  const value = clampInteger(inspection?.globalValue ?? fallback, 0, 10_000_000, fallback);
  return value === 0 ? undefined : value;
}

function clampInteger(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, Math.round(value))) : fallback;
}

/**
 * Whether to confirm (and show the cost) before a run. The user's own value decides; a workspace may turn
 * confirmation on, never off: a repository someone cloned must not decide how much may be spent unasked.
 */
function readConfirmBeforeRun(configuration: vscode.WorkspaceConfiguration): boolean {
  const inspection = configuration.inspect<boolean>('confirmBeforeRun');
  const own = inspection?.globalValue ?? inspection?.defaultValue ?? true;
  return own !== false || inspection?.workspaceValue === true || inspection?.workspaceFolderValue === true;
}

/**
 * flora.outputFolder with who set it: only the user's own (global) value may name an absolute folder; a
 * workspace's value, like the default, stays inside the workspace folder (core/outputFolder.ts checks it).
 */
function readOutputFolder(configuration: vscode.WorkspaceConfiguration): OutputFolderSetting {
  const inspection = configuration.inspect<unknown>('outputFolder');
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined);
  const fromWorkspace = text(inspection?.workspaceFolderValue) ?? text(inspection?.workspaceValue);
  if (fromWorkspace !== undefined) return { value: fromWorkspace, fromUser: false };
  const fromUser = text(inspection?.globalValue);
  if (fromUser !== undefined) return { value: fromUser, fromUser: true };
  return { value: text(inspection?.defaultValue) ?? DEFAULT_OUTPUT_FOLDER, fromUser: false };
}

/** The flora.* settings as they are now, with an event for every change. */
export class Settings extends Disposable {
  private snapshot = readSettings();
  private readonly changed = this.register(new vscode.EventEmitter<FloraSettings>());
  /** Fires with the new snapshot after any flora.* setting changed. */
  readonly onDidChange = this.changed.event;

  constructor() {
    super();
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(SETTINGS_SECTION)) this.refresh();
      }),
    );
  }

  /** Reads the settings again; fires once per real change, however many events announced it. */
  private refresh(): void {
    const next = readSettings();
    if (JSON.stringify(next) === JSON.stringify(this.snapshot)) return;
    this.snapshot = next;
    this.changed.fire(next);
  }

  get current(): FloraSettings {
    return this.snapshot;
  }

  /**
   * Writes one flora.* setting to the user's own (global) settings, never a workspace's: the upload set-up
   * decides where the user's files go. `name` is the full setting name (`flora.upload.target`).
   */
  async updateUserSetting(name: string, value: unknown): Promise<void> {
    if (!name.startsWith(`${SETTINGS_SECTION}.`)) throw new Error(`Not a FLORA setting: ${name}`);
    await vscode.workspace.getConfiguration().update(name, value, vscode.ConfigurationTarget.Global);
    this.refresh();
  }

  /** The user's own list of added techniques (the technique catalogue is its only writer). */
  async updateAddedTechniques(slugs: readonly string[]): Promise<void> {
    await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('techniques', [...slugs], vscode.ConfigurationTarget.Global);
    // Whether or not the editor's change event came first, the snapshot is current once this resolves.
    this.refresh();
  }
}
