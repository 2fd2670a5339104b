// Saving a run's outputs into the workspace: each output downloaded once (core/download.ts's rules) under
// `<technique>-<yyyymmdd-hhmmss>-<short runId>[-n].<ext>`, the run's provenance JSON beside them, and the
// record told where they went, so the views, Insert and the hovers find the files again. It also remembers
// which output URLs no longer answer (404 or 410), for the diagnostics to say so.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import { localInputFile } from '../common/workspacePaths';
import { DownloadRefusedError, FloraUsageError } from '../core/errors';
import { resolveOutputFolder } from '../core/outputFolder';
import {
  buildProvenance,
  MAX_PROVENANCE_BYTES,
  outputFileStem,
  PROVENANCE_SUFFIX,
  readProvenance,
  runFileStem,
  serializeProvenance,
} from '../core/provenance';
import { isRegularFileAt, readRegularFile } from '../core/regularFile';
import type { RunRecord, SavedOutput } from '../core/runs';
import type { FloraConnection } from './floraConnection';
import type { Log } from './log';
import type { RunsStore } from './runsStore';
import type { Settings } from './settings';
import { l10nText } from './userText';

export interface OutputSaverOptions {
  runs: RunsStore;
  connection: Pick<FloraConnection, 'fetchOutput'>;
  settings: Settings;
  log: Log;
  now?: () => number;
}

/** flora.saveOutputs = always saves a run with at most this many outputs; a larger one is offered, and asked for. */
export const MAX_OUTPUTS_SAVED_UNASKED = 100;

export interface SaveRequest {
  /** Output indexes to save; all of the run's outputs when absent. */
  indexes?: readonly number[];
  signal?: AbortSignal;
}

export class OutputSaver extends Disposable {
  /** The last save of each run into each folder: the next one waits for it. */
  private readonly turns = new Map<string, Promise<void>>();
  private readonly gone = new Set<string>();
  private readonly goneChanged = this.register(new vscode.EventEmitter<string>());
  /** Fires with an output URL that answered 404 or 410. */
  readonly onDidFindGoneUrl = this.goneChanged.event;

  constructor(private readonly options: OutputSaverOptions) {
    super();
  }

  /** Whether the URL answered 404 or 410 when it was last fetched in this window. */
  isGone(url: string): boolean {
    return this.gone.has(url);
  }

  /**
   * The folder a save goes to, as a real path: flora.outputFolder in the workspace folder holding `near`
   * (a document), else in the first workspace folder on disk. Undefined when there is none and the user's
   * own settings name no absolute folder: the caller asks the user.
   */
  async folderFor(near?: vscode.Uri): Promise<string | undefined> {
    const containing = near ? vscode.workspace.getWorkspaceFolder(near) : undefined;
    const workspace =
      containing?.uri.scheme === 'file' ? containing : vscode.workspace.workspaceFolders?.find((folder) => folder.uri.scheme === 'file');
    return resolveOutputFolder(this.options.settings.current.outputFolder, workspace?.uri.fsPath);
  }

  /** The saved file of an output, when it was saved and the file is still there. */
  async savedFile(record: RunRecord, index: number, folder?: string): Promise<string | undefined> {
    const entries = (record.savedOutputs ?? []).filter(
      (entry) => entry.index === index && (folder === undefined || path.dirname(entry.file) === folder),
    );
    for (const entry of entries.reverse()) {
      if (await isRegularFileAt(entry.file)) return entry.file;
    }
    return undefined;
  }

  /**
   * Saves a completed run's outputs into `folder` (from folderFor, or one the user picked) and returns them,
   * in output order. An output already saved there, whose file is still there, is not downloaded again.
   * Saves of one run into one folder take turns: the second finds what the first saved, downloads nothing
   * twice, and writes a provenance that lists both.
   */
  save(record: RunRecord, folder: string, request: SaveRequest = {}): Promise<SavedOutput[]> {
    const key = `${record.localId}\u0000${folder}`;
    const previous = this.turns.get(key) ?? Promise.resolve();
    const saving = previous.catch(() => undefined).then(() => this.saveNow(record.localId, record, folder, request));
    const turn = saving.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(key, turn);
    void turn.then(() => {
      if (this.turns.get(key) === turn) this.turns.delete(key);
    });
    return saving;
  }

  /**
   * Saves an output URL the history does not know (one on FLORA's hosts, found in a document) as a file of
   * its own, `flora-<its name>` (`-2`, `-3` … when taken: never over a file); returns the file. A 404 or
   * 410 is remembered.
   */
  async saveUrl(url: string, folder: string, signal: AbortSignal): Promise<string> {
    const name = path.posix.basename(new URL(url).pathname).replace(/\.[^.]*$/, '');
    try {
      const saved = await this.options.connection.fetchOutput(url, { folder, stem: `flora-${name}` }, signal);
      this.options.log.info(`Saved ${url} to ${saved.file} (${saved.bytes} bytes).`);
      return saved.file;
    } catch (error) {
      this.noteFailure(url, error);
      throw error;
    }
  }

  /** Remembers a URL whose fetch answered 404 or 410 (a save, a thumbnail): the diagnostics say it is gone. */
  noteFailure(url: string, error: unknown): void {
    if (!(error instanceof DownloadRefusedError) || (error.status !== 404 && error.status !== 410) || this.gone.has(url)) return;
    this.gone.add(url);
    this.goneChanged.fire(url);
  }

  private async saveNow(localId: string, given: RunRecord, folder: string, request: SaveRequest): Promise<SavedOutput[]> {
    // The record as it is now: a save that went before this one may have added files.
    const record = this.options.runs.get(localId) ?? given;
    const outputs = record.outputs ?? [];
    if (record.status !== 'completed' || outputs.length === 0) {
      throw new FloraUsageError(l10nText('{0} has no outputs to save yet.', record.techniqueName));
    }
    const indexes = request.indexes ?? outputs.map((_output, index) => index);
    const files = new Map<number, string>();
    // Outputs saved before (into this folder) keep their files; the provenance names them too.
    for (const entry of record.savedOutputs ?? []) {
      if (path.dirname(entry.file) === folder && (await isRegularFileAt(entry.file))) files.set(entry.index, entry.file);
    }
    const before = files.size;
    for (const index of indexes) {
      const output = outputs[index];
      if (!output) throw new FloraUsageError(l10nText('{0} has no output {1}.', record.techniqueName, index + 1));
      if (files.has(index)) continue;
      try {
        const saved = await this.options.connection.fetchOutput(
          output.url,
          { folder, stem: outputFileStem(record, index, outputs.length) },
          request.signal ?? new AbortController().signal,
        );
        files.set(index, saved.file);
        this.options.log.info(
          `Saved output ${index + 1} of run ${record.runId ?? record.localId} to ${saved.file} (${saved.bytes} bytes).`,
        );
      } catch (error) {
        this.noteFailure(output.url, error);
        // What was saved before the failure is recorded: those downloads are the user's, not to be repeated.
        if (files.size > before) await this.record(record, folder, files).catch(() => undefined);
        throw error;
      }
    }
    const provenance = await this.record(record, folder, files, files.size === before);
    const at = this.now();
    return indexes.map((index) => ({ index, file: files.get(index) ?? '', provenance, at }));
  }

  /**
   * Tells the record where the files are, then writes the provenance file beside them; returns its path. The
   * record first: if the provenance cannot be written (a full disk, a read-only folder), the downloads are
   * still known and not repeated. `unchanged`: nothing new was saved, so a provenance already there is kept
   * as it is (a committed file does not change for nothing).
   */
  private async record(record: RunRecord, folder: string, files: ReadonlyMap<number, string>, unchanged = false): Promise<string> {
    const current = this.options.runs.get(record.localId) ?? record;
    const provenance = await this.provenanceTarget(current, folder);
    const at = this.now();
    const others = (current.savedOutputs ?? []).filter((entry) => !(files.has(entry.index) && path.dirname(entry.file) === folder));
    const kept = new Map((current.savedOutputs ?? []).map((entry) => [entry.file, entry.at]));
    const entries: SavedOutput[] = [...files].map(([index, file]) => ({ index, file, provenance, at: kept.get(file) ?? at }));
    await this.options.runs.update(
      current.localId,
      { savedOutputs: [...others, ...entries].sort((a, b) => a.at - b.at) },
      { durable: true },
    );
    if (unchanged && (await isRegularFileAt(provenance))) return provenance;
    const text = serializeProvenance(buildProvenance(current, { folder, files, localFile: localInputFile, savedAt: at }));
    const temporary = path.join(folder, `.${path.basename(provenance)}.${randomBytes(6).toString('hex')}.part`);
    try {
      await fs.writeFile(temporary, text, { flag: 'wx' });
      await fs.rename(temporary, provenance);
    } catch (error) {
      await fs.rm(temporary, { force: true }).catch(() => undefined);
      throw error;
    }
    return provenance;
  }

  /** `<run stem>.flora.json`: ours when it names the same run (rewritten to list every saved output), else a free name. */
  private async provenanceTarget(record: RunRecord, folder: string): Promise<string> {
    const stem = runFileStem(record);
    for (let attempt = 1; attempt <= 100; attempt++) {
      const candidate = path.join(folder, `${stem}${attempt === 1 ? '' : `-${attempt}`}${PROVENANCE_SUFFIX}`);
      const existing = await readRegularFile(candidate, MAX_PROVENANCE_BYTES);
      if (existing.kind === 'missing') return candidate;
      if (existing.kind === 'refused') continue;
      const reading = readProvenance(existing.text);
      if ('provenance' in reading && reading.provenance.runId === (record.runId ?? '')) return candidate;
    }
    throw new FloraUsageError(l10nText('No free name for the provenance of {0} in {1}.', record.techniqueName, folder));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
