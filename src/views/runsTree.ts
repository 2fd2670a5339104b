// The Runs view: every run in the store, newest first, expanding to its outputs; the runs of a batch (one
// per file, started together) under one group, where the batch's newest run would be. It only displays
// the store.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { uiArgument } from '../common/invocation';
import { labelText, tooltipText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import { creditsChargedToday, isLive, latestSavedOutput, outputKind, type RunRecord, type SavedOutput } from '../core/runs';
import type { RunOutput } from '../core/runReplies';
import { runErrorText } from '../services/userText';
import type { ConnectionState, RunsStore } from '../services/runsStore';

export interface RunNode {
  kind: 'run';
  localId: string;
}
export interface OutputNode {
  kind: 'output';
  localId: string;
  index: number;
  output: RunOutput;
}
/** Groups the runs beyond the newest PAGE_SIZE, so a long history does not slow the view's first paint. */
export interface OlderRunsNode {
  kind: 'older';
  count: number;
}
/** The runs of one batch (Run FLORA Technique with This File on several files). */
export interface BatchNode {
  kind: 'batch';
  batchId: string;
}
export type RunsTreeNode = RunNode | OutputNode | OlderRunsNode | BatchNode;

const PAGE_SIZE = 200;

export function isRunNode(value: unknown): value is RunNode {
  return typeof value === 'object' && value !== null && (value as RunNode).kind === 'run' && typeof (value as RunNode).localId === 'string';
}
export function isOutputNode(value: unknown): value is OutputNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as OutputNode).kind === 'output' &&
    typeof (value as OutputNode).output === 'object'
  );
}

/** Tree refreshes are coalesced: many progress events in a burst repaint the view once. */
const REFRESH_DELAY_MS = 150;

export class RunsTree extends Disposable implements vscode.TreeDataProvider<RunsTreeNode> {
  private readonly changed = this.register(new vscode.EventEmitter<RunsTreeNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly runs: RunsStore) {
    super();
    this.register(runs.onDidChange(() => this.scheduleRefresh()));
    // Ages ("2 min ago") go stale; repaint once a minute.
    const ageTimer = setInterval(() => this.scheduleRefresh(), 60_000);
    this.register({ dispose: () => clearInterval(ageTimer) });
    this.register({ dispose: () => this.refreshTimer && clearTimeout(this.refreshTimer) });
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, REFRESH_DELAY_MS);
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] {
    if (!node || node.kind === 'older') {
      const all = this.topLevel();
      const page = node ? all.slice(PAGE_SIZE) : all.slice(0, PAGE_SIZE);
      const nodes: RunsTreeNode[] = page.map((entry) => uiArgument(entry));
      if (!node && all.length > PAGE_SIZE) nodes.push(uiArgument({ kind: 'older', count: all.length - PAGE_SIZE }));
      return nodes;
    }
    if (node.kind === 'output') return [];
    if (node.kind === 'batch')
      return batchRuns(this.runs, node.batchId).map((record) => uiArgument({ kind: 'run', localId: record.localId }));
    const record = this.runs.get(node.localId);
    return (record?.outputs ?? []).map((output, index) => uiArgument({ kind: 'output', localId: node.localId, index, output }));
  }

  /** The runs without a batch and one node per batch, at its newest run's place. */
  private topLevel(): Array<RunNode | BatchNode> {
    const entries: Array<RunNode | BatchNode> = [];
    const batches = new Set<string>();
    for (const record of this.runs.all()) {
      if (!record.batch) entries.push({ kind: 'run', localId: record.localId });
      else if (!batches.has(record.batch.id)) {
        batches.add(record.batch.id);
        entries.push({ kind: 'batch', batchId: record.batch.id });
      }
    }
    return entries;
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    if (node.kind === 'batch') return batchItem(batchRuns(this.runs, node.batchId), node.batchId);
    if (node.kind === 'older') {
      const item = new vscode.TreeItem(vscode.l10n.t('Older runs ({0})', node.count), vscode.TreeItemCollapsibleState.Collapsed);
      item.id = 'older-runs';
      item.iconPath = new vscode.ThemeIcon('history');
      return item;
    }
    const record = this.runs.get(node.localId);
    if (!record) return new vscode.TreeItem(vscode.l10n.t('(removed run)'));
    return node.kind === 'run' ? runItem(record, this.runs.connectionOf(record.localId)) : outputItem(record, node);
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'output') return uiArgument<RunNode>({ kind: 'run', localId: node.localId });
    const batch = node.kind === 'run' ? this.runs.get(node.localId)?.batch : undefined;
    return batch ? uiArgument<BatchNode>({ kind: 'batch', batchId: batch.id }) : undefined;
  }

  /** Tooltips are built when the pointer rests on a run, not for every row of a long history. */
  resolveTreeItem(item: vscode.TreeItem, node: RunsTreeNode): vscode.TreeItem {
    if (node.kind === 'run') {
      const record = this.runs.get(node.localId);
      if (record) item.tooltip = runTooltip(record, this.runs.connectionOf(record.localId));
    }
    return item;
  }
}

/** The recorded runs of a batch, in the order of its files. */
export function batchRuns(runs: RunsStore, batchId: string): RunRecord[] {
  return runs
    .all()
    .filter((record) => record.batch?.id === batchId)
    .sort((a, b) => (a.batch?.index ?? 0) - (b.batch?.index ?? 0));
}

/** How many runs of a batch are in each state; files that have no run yet are waiting (or were not run). */
export interface BatchCounts {
  name: string;
  size: number;
  completed: number;
  failed: number;
  live: number;
  stopped: number;
  /** Files without a recorded run: still waiting while the batch is live, else never started. */
  missing: number;
}

export function countBatch(records: readonly RunRecord[]): BatchCounts {
  const size = Math.max(records.length, ...records.map((record) => record.batch?.size ?? 0));
  const counts: BatchCounts = { name: records[0]?.techniqueName ?? '', size, completed: 0, failed: 0, live: 0, stopped: 0, missing: 0 };
  for (const record of records) {
    if (record.stopped) counts.stopped++;
    else if (isLive(record)) counts.live++;
    else if (record.status === 'completed') counts.completed++;
    else counts.failed++;
  }
  counts.missing = size - records.length;
  return counts;
}

/** "7 completed, 1 failed, 2 running": only the states some run is in. */
export function describeBatch(counts: BatchCounts): string {
  const parts: string[] = [];
  if (counts.completed > 0) parts.push(vscode.l10n.t('{0} completed', counts.completed));
  if (counts.failed > 0) parts.push(vscode.l10n.t('{0} failed', counts.failed));
  if (counts.live > 0) parts.push(vscode.l10n.t('{0} running', counts.live));
  if (counts.stopped > 0) parts.push(vscode.l10n.t('{0} stopped following', counts.stopped));
  if (counts.missing > 0) {
    parts.push(counts.live > 0 ? vscode.l10n.t('{0} waiting', counts.missing) : vscode.l10n.t('{0} not started', counts.missing));
  }
  return parts.join(', ');
}

/** "Studio Shot × 10": the technique's name is FLORA's, made inert by the caller. */
export function batchTitle(counts: BatchCounts): string {
  return vscode.l10n.t({ message: '{0} × {1}', args: [counts.name, counts.size], comment: 'technique name × number of files' });
}

function batchItem(records: readonly RunRecord[], batchId: string): vscode.TreeItem {
  const counts = countBatch(records);
  const item = new vscode.TreeItem(labelText(batchTitle(counts)), vscode.TreeItemCollapsibleState.Expanded);
  item.id = `batch:${batchId}`;
  item.description = labelText(describeBatch(counts));
  item.contextValue = `batch;${counts.live > 0 ? 'live;' : ''}`;
  item.iconPath =
    counts.live > 0
      ? new vscode.ThemeIcon('sync~spin')
      : counts.failed > 0 || counts.stopped > 0 || counts.missing > 0
        ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
        : new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
  const tooltip = new vscode.MarkdownString(undefined, false);
  tooltip.appendText(`${tooltipText(vscode.l10n.t('{0}: one run per file', batchTitle(counts)))}

`);
  tooltip.appendText(`${tooltipText(describeBatch(counts))}

`);
  const charged = records.reduce((sum, record) => sum + (record.chargedCost ?? 0), 0);
  if (charged > 0) tooltip.appendText(tooltipText(vscode.l10n.t('{0} credits', charged)));
  item.tooltip = tooltip;
  return item;
}

function runItem(record: RunRecord, connection: ConnectionState | undefined): vscode.TreeItem {
  const hasOutputs = (record.outputs?.length ?? 0) > 0;
  // The technique's name and the run's error are FLORA's: inert labels (the tooltip is escaped Markdown).
  // Under a batch's group, whose label names the technique, a run is named by its file.
  const file = record.batch ? record.inputs.find((input) => input.localPath !== undefined)?.localPath : undefined;
  const item = new vscode.TreeItem(
    labelText(file !== undefined ? (file.split(/[\\/]/).pop() ?? file) : record.techniqueName),
    hasOutputs ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = `run:${record.localId}`;
  // A stopped run keeps its last status; it says it is no longer followed, and offers Resume Following.
  const description = describeRun(record, connection);
  item.description = labelText(record.stopped ? vscode.l10n.t('stopped following · {0}', description) : description);
  item.iconPath = statusIcon(record, connection);
  // e.g. "run;completed;hasOutputs;" — menus match parts of it with regular expressions. A run ends in
  // "stopped;" (Resume Following) or, while it is followed, "live;" (Stop Following).
  item.contextValue = `run;${record.status};${hasOutputs ? 'hasOutputs;' : ''}${record.runId ? '' : 'notCreated;'}${record.stopped ? 'stopped;' : ''}${isLive(record) ? 'live;' : ''}`;
  if (record.status === 'completed') {
    item.command = {
      command: CommandId.openPreview,
      title: vscode.l10n.t('Open Preview'),
      arguments: [uiArgument({ kind: 'run', localId: record.localId })],
    };
  }
  return item;
}

function outputItem(record: RunRecord, node: OutputNode): vscode.TreeItem {
  const kind = outputKind(node.output.type);
  const item = new vscode.TreeItem(
    vscode.l10n.t('Output {0}: {1}', node.index + 1, labelText(node.output.outputId ?? outputKindLabel(kind))),
    vscode.TreeItemCollapsibleState.None,
  );
  item.id = `run:${record.localId}:output:${node.index}`;
  const saved = savedOutputOf(record, node.index);
  const where = saved ? savedPathText(saved) : undefined;
  item.description = where === undefined ? outputKindLabel(kind) : vscode.l10n.t('saved · {0}', where);
  item.tooltip =
    where === undefined ? labelText(node.output.url) : `${vscode.l10n.t('Saved to {0}', where)}\n${labelText(node.output.url)}`;
  item.iconPath = new vscode.ThemeIcon(kind === 'image' ? 'file-media' : kind === 'video' ? 'device-camera-video' : 'file');
  // "output;imageUrl;" or, once saved, "output;imageUrl;saved;" (Open Saved File).
  item.contextValue = `output;${node.output.type};${saved ? 'saved;' : ''}`;
  item.command = {
    command: CommandId.openPreview,
    title: vscode.l10n.t('Open Preview'),
    arguments: [uiArgument({ kind: 'run', localId: record.localId })],
  };
  return item;
}

/** Where an output was last saved, as the record says; opening a moved file says so. */
export function savedOutputOf(record: RunRecord, index: number): SavedOutput | undefined {
  return latestSavedOutput(record, index);
}

/** The saved file as the user knows it: relative to the workspace when inside it, made inert for a label. */
export function savedPathText(saved: SavedOutput): string {
  return relativePathText(saved.file);
}

function relativePathText(file: string): string {
  // Prefixed with the folder's name only when the workspace has several folders.
  return labelText(vscode.workspace.asRelativePath(vscode.Uri.file(file)));
}

function outputKindLabel(kind: ReturnType<typeof outputKind>): string {
  switch (kind) {
    case 'image':
      return vscode.l10n.t('image');
    case 'video':
      return vscode.l10n.t('video');
    case 'text':
      return vscode.l10n.t('text');
    case 'other':
      return vscode.l10n.t('file');
  }
}

/** The status, progress, age and cost of a run, on one line; `connection`: what the runs store knows of it. */
export function describeRun(record: RunRecord, connection?: ConnectionState, now = Date.now()): string {
  const parts: string[] = [statusLabel(record, connection)];
  if (isLive(record) && record.status !== 'creating') {
    parts.push(vscode.l10n.t({ message: '{0}%', args: [record.progress], comment: 'progress in percent' }));
  }
  parts.push(formatAge(now - record.startedLocallyAt));
  const cost = record.chargedCost ?? record.runCost;
  if (cost !== undefined) {
    parts.push(record.chargedCost !== undefined ? vscode.l10n.t('{0} credits', cost) : vscode.l10n.t('~{0} credits', cost));
  }
  return parts.join(' · ');
}

export function statusLabel(record: RunRecord, connection?: ConnectionState): string {
  if (isLive(record)) {
    if (connection?.state === 'offline') return vscode.l10n.t('offline — retrying');
    if (connection?.state === 'retrying') return vscode.l10n.t('retrying');
    if (connection?.state === 'paused') return vscode.l10n.t('paused — API key needed');
  }
  switch (record.status) {
    case 'creating':
      return vscode.l10n.t('starting');
    case 'pending':
      return vscode.l10n.t('queued');
    case 'running':
      return vscode.l10n.t('running');
    case 'completed':
      return vscode.l10n.t('completed');
    case 'failed':
      return vscode.l10n.t('failed');
  }
}

function statusIcon(record: RunRecord, connection: ConnectionState | undefined): vscode.ThemeIcon {
  if (isLive(record)) {
    if (connection?.state === 'offline' || connection?.state === 'retrying')
      return new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
    if (connection?.state === 'paused') return new vscode.ThemeIcon('debug-pause');
    return new vscode.ThemeIcon('sync~spin');
  }
  return record.status === 'completed'
    ? new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'))
    : new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
}

/** Everything in it is FLORA's or the user's: escaped Markdown (appendText), made inert first (tooltipText). */
function runTooltip(record: RunRecord, connection: ConnectionState | undefined): vscode.MarkdownString {
  const tooltip = new vscode.MarkdownString(undefined, false);
  const line = (text: string) => tooltip.appendText(`${tooltipText(text)}\n\n`);
  line(vscode.l10n.t({ message: '{0} ({1})', args: [record.techniqueName, record.slug], comment: 'technique name (technique slug)' }));
  line(vscode.l10n.t('Status: {0}', statusLabel(record, connection)));
  if (record.runId) line(vscode.l10n.t('Run ID: {0}', record.runId));
  const error = runErrorText(record);
  if (error) line(error);
  if (connection?.message && isLive(record)) line(connection.message);
  if (record.replyNotes && record.replyNotes.length > 0) {
    line(vscode.l10n.t('FLORA replied with fields that could not be used:'));
    for (const note of record.replyNotes) line(note);
  }
  const outputs = record.outputs?.length ?? 0;
  if (outputs > 0) {
    const saved = record.outputs?.map((_output, index) => savedOutputOf(record, index)).filter((entry) => entry !== undefined) ?? [];
    const [first] = saved;
    const folders = new Set(saved.map((entry) => path.dirname(entry.file)));
    if (first && outputs === 1) line(vscode.l10n.t('Saved to {0}', savedPathText(first)));
    else if (first && saved.length === outputs && folders.size === 1) {
      line(vscode.l10n.t('All {0} outputs saved in {1}', outputs, relativePathText(path.dirname(first.file))));
    } else if (saved.length === outputs) line(vscode.l10n.t('All {0} outputs saved', outputs));
    else if (saved.length > 0) line(vscode.l10n.t('{0} of {1} outputs saved', saved.length, outputs));
  }
  for (const input of record.inputs) {
    // A local file is shown as the user knows it; FLORA was sent the URL it was uploaded to.
    line(
      input.localPath !== undefined
        ? vscode.l10n.t('{0}: {1} (uploaded)', input.id, input.localPath)
        : vscode.l10n.t({ message: '{0}: {1}', args: [input.id, input.value], comment: 'input id: input value' }),
    );
  }
  return tooltip;
}

export function formatAge(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return vscode.l10n.t('just now');
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return vscode.l10n.t('{0} min ago', minutes);
  const hours = Math.round(minutes / 60);
  if (hours < 48) return vscode.l10n.t('{0} h ago', hours);
  return vscode.l10n.t('{0} days ago', Math.round(hours / 24));
}

/** The Runs view's description: the credits charged today, across every window (undefined when none). */
export function runsViewDescription(records: readonly RunRecord[], now: number): string | undefined {
  const credits = creditsChargedToday(records, now);
  if (credits === 0) return undefined;
  return credits === 1 ? vscode.l10n.t('1 credit today') : vscode.l10n.t('{0} credits today', credits);
}

/** Keeps the Runs view's description (today's credits) current as runs finish, here or in another window. */
export function watchRunsViewDescription(view: vscode.TreeView<unknown>, runs: RunsStore, now: () => number = Date.now): vscode.Disposable {
  const update = () => {
    view.description = runsViewDescription(runs.all(), now());
  };
  update();
  return runs.onDidChange((record) => {
    // Progress ticks do not change what was charged.
    if (record === undefined || record.chargedCost !== undefined) update();
  });
}
