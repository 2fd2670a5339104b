// The Runs view: every run in the store, newest first, expanding to its outputs; the runs of a batch (one
// per file, started together) under one group, where the batch's newest run would be. It only displays
// the store, narrowed by the view's filter (views/runsFilter.ts) when one is set.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { uiArgument } from '../common/invocation';
import { labelText, tooltipText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import { isLive, outputKind, type RunRecord } from '../core/runs';
import type { RunOutput } from '../core/runReplies';
import { runErrorText } from '../services/userText';
import type { ConnectionState, RunsStore } from '../services/runsStore';
import {
  batchRuns,
  batchTitle,
  countBatch,
  describeBatch,
  describeRun,
  outputKindLabel,
  relativePathText,
  savedOutputOf,
  savedPathText,
  statusLabel,
} from './runLabels';
import { RunsFilter, techniqueNameIn } from './runsFilter';

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
  private messageText: string | undefined;
  private readonly messageChanged = this.register(new vscode.EventEmitter<string | undefined>());
  /** The line the view shows above its runs (the filter in use), or undefined for none. */
  readonly onDidChangeMessage = this.messageChanged.event;

  /** What the view lists by; Filter Runs… sets it (activate() hands it to the commands). */
  readonly filter: RunsFilter;

  /** `filter`: a test's own; by default the tree makes (and disposes) one. */
  constructor(
    private readonly runs: RunsStore,
    filter?: RunsFilter,
  ) {
    super();
    this.filter = filter ?? this.register(new RunsFilter());
    this.register(runs.onDidChange(() => this.scheduleRefresh()));
    // A new filter shows at once; the message follows the list it describes.
    this.register(
      this.filter.onDidChange(() => {
        this.updateMessage();
        this.changed.fire(undefined);
      }),
    );
    // Ages ("2 min ago") go stale; repaint once a minute.
    const ageTimer = setInterval(() => this.scheduleRefresh(), 60_000);
    this.register({ dispose: () => clearInterval(ageTimer) });
    this.register({ dispose: () => this.refreshTimer && clearTimeout(this.refreshTimer) });
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.updateMessage();
      this.changed.fire(undefined);
    }, REFRESH_DELAY_MS);
  }

  get message(): string | undefined {
    return this.messageText;
  }

  /** "Showing 3 of 40 runs: failed · Studio Shot": only while something is listed, as VS Code hides a welcome behind a message. */
  private updateMessage(): void {
    let text: string | undefined;
    if (this.filter.active) {
      const all = this.runs.all();
      const shown = all.filter((record) => this.filter.matches(record)).length;
      const description = this.filter.describe((slug) => techniqueNameIn(this.runs, slug)) ?? '';
      if (shown > 0) text = vscode.l10n.t('Showing {0} of {1} runs: {2}', shown, all.length, description);
    }
    if (text === this.messageText) return;
    this.messageText = text;
    this.messageChanged.fire(text);
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
      // Under a filter, a batch lists the runs that match (its group still counts them all).
      return batchRuns(this.runs, node.batchId)
        .filter((record) => this.filter.matches(record))
        .map((record) => uiArgument({ kind: 'run', localId: record.localId }));
    const record = this.runs.get(node.localId);
    return (record?.outputs ?? []).map((output, index) => uiArgument({ kind: 'output', localId: node.localId, index, output }));
  }

  /** The runs without a batch and one node per batch, at its newest matching run's place. */
  private topLevel(): Array<RunNode | BatchNode> {
    const entries: Array<RunNode | BatchNode> = [];
    const batches = new Set<string>();
    for (const record of this.runs.all()) {
      if (!this.filter.matches(record)) continue;
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

function statusIcon(record: RunRecord, connection: ConnectionState | undefined): vscode.ThemeIcon {
  // Not followed is not failed: FLORA may well finish it.
  if (record.stopped) return new vscode.ThemeIcon('eye-closed', new vscode.ThemeColor('problemsWarningIcon.foreground'));
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
  // Not following a run does not cancel it: FLORA's API has no way to. Said wherever Stop Following is.
  if (record.stopped) {
    line(
      vscode.l10n.t(
        "FLORA's API has no cancel: FLORA may still finish this run and charge its credits. Its runId is kept; Resume Following shows how it ended.",
      ),
    );
  }
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
