// Which output URLs and saved files the extension knows, and from which run: what the diagnostics, the quick
// fixes, the hovers and Insert look up. Built from the runs store on first use after a change, not on every
// keystroke: a document with 500 URLs asks 500 times per scan.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import { isFloraOutputHost } from '../core/outputLinks';
import { checkOutputUrl } from '../core/outputUrl';
import type { RunRecord } from '../core/runs';
import type { FloraConnection } from './floraConnection';
import type { RunsStore } from './runsStore';

export interface KnownOutput {
  record: RunRecord;
  index: number;
}

export class OutputIndex extends Disposable {
  private urls: Map<string, KnownOutput> | undefined;
  private files: Map<string, KnownOutput> | undefined;
  private readonly shapes = new Map<string, string>();
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  /** Fires when what the index holds may have changed (not on progress ticks). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly runs: RunsStore,
    private readonly connection: Pick<FloraConnection, 'extraOrigins'>,
  ) {
    super();
    // Progress updates change records many times a second while runs are live: only a change to what the
    // index holds (outputs, saved files, records coming or going) makes it be built again.
    this.register(
      runs.onDidChange((record) => {
        const shape = record ? shapeOf(record) : undefined;
        if (record && shape === this.shapes.get(record.localId)) return;
        if (record && shape !== undefined) this.shapes.set(record.localId, shape);
        else this.shapes.clear();
        this.urls = undefined;
        this.files = undefined;
        this.changed.fire();
      }),
    );
  }

  /** The run an output URL came from: the URL as FLORA sent it, or as Insert and Copy wrote it. */
  byUrl(url: string): KnownOutput | undefined {
    return this.build().urls.get(url);
  }

  /** The run a saved file came from (an absolute path). */
  bySavedFile(file: string): KnownOutput | undefined {
    return this.build().files.get(fileKey(file));
  }

  /** Whether a URL in a document is a FLORA output: one from the history, or one on FLORA's output hosts. */
  isOutputUrl(url: string): boolean {
    return this.build().urls.has(url) || isFloraOutputHost(url);
  }

  private build(): { urls: Map<string, KnownOutput>; files: Map<string, KnownOutput> } {
    if (this.urls && this.files) return { urls: this.urls, files: this.files };
    const urls = new Map<string, KnownOutput>();
    const files = new Map<string, KnownOutput>();
    const extraOrigins = this.connection.extraOrigins();
    // Oldest first, so a URL two runs share (Run Again on a cached result) names the newest run.
    for (const record of this.runs.all().reverse()) {
      (record.outputs ?? []).forEach((output, index) => {
        const known = { record, index };
        urls.set(output.url, known);
        const written = checkOutputUrl(output.url, extraOrigins).url;
        if (written !== undefined) urls.set(written, known);
      });
      for (const saved of record.savedOutputs ?? []) files.set(fileKey(saved.file), { record, index: saved.index });
    }
    this.urls = urls;
    this.files = files;
    for (const record of this.runs.all()) this.shapes.set(record.localId, shapeOf(record));
    return { urls, files };
  }
}

/** What of a record the index depends on: its outputs and where they were saved (the record itself is replaced on change). */
function shapeOf(record: RunRecord): string {
  const last = record.savedOutputs?.[record.savedOutputs.length - 1];
  return `${record.outputs?.length ?? 0}:${record.outputs?.[0]?.url ?? ''}:${record.savedOutputs?.length ?? 0}:${last?.file ?? ''}:${last?.at ?? 0}`;
}

/** Paths as keys: on Windows the same file is `C:\\…` in a record and `c:\\…` in a document's path. */
function fileKey(file: string): string {
  const resolved = path.resolve(file);
  return process.platform === 'win32' ? resolved.toLowerCase() : resolved;
}
