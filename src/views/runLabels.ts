// What the Runs view, the status bar and the preview say about runs, in the user's words: batch counts, a
// run's status and age, where its outputs were saved, and today's charged credits. Apart from the tree so
// that each view takes the words without the tree.
import * as vscode from 'vscode';
import { formatAge } from '../common/age';
import { labelText } from '../common/inert';
import { creditsChargedToday, isLive, latestSavedOutput, type outputKind, type RunRecord, type SavedOutput } from '../core/runs';
import type { ConnectionState, RunsStore } from '../services/runsStore';

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

/**
 * Where a run stands for the user: followed (live), completed, failed, or no longer followed (stopped,
 * whatever status it had then). Batch counts, the Runs filter and the badge sort runs the same way.
 */
export type RunStanding = 'live' | 'completed' | 'failed' | 'stopped';

export function runStanding(record: RunRecord): RunStanding {
  if (record.stopped) return 'stopped';
  if (isLive(record)) return 'live';
  return record.status === 'completed' ? 'completed' : 'failed';
}

export function countBatch(records: readonly RunRecord[]): BatchCounts {
  const size = Math.max(records.length, ...records.map((record) => record.batch?.size ?? 0));
  const counts: BatchCounts = { name: records[0]?.techniqueName ?? '', size, completed: 0, failed: 0, live: 0, stopped: 0, missing: 0 };
  for (const record of records) counts[runStanding(record)]++;
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

/** Where an output was last saved, as the record says; opening a moved file says so. */
export function savedOutputOf(record: RunRecord, index: number): SavedOutput | undefined {
  return latestSavedOutput(record, index);
}

/** The saved file as the user knows it: relative to the workspace when inside it, made inert for a label. */
export function savedPathText(saved: SavedOutput): string {
  return relativePathText(saved.file);
}

export function relativePathText(file: string): string {
  // Prefixed with the folder's name only when the workspace has several folders.
  return labelText(vscode.workspace.asRelativePath(vscode.Uri.file(file)));
}

export function outputKindLabel(kind: ReturnType<typeof outputKind>): string {
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

/** The Runs view's description: the credits charged today, across every window (undefined when none). */
export function runsViewDescription(records: readonly RunRecord[], now: number): string | undefined {
  const credits = creditsChargedToday(records, now);
  if (credits === 0) return undefined;
  return credits === 1 ? vscode.l10n.t('1 credit today') : vscode.l10n.t('{0} credits today', credits);
}

/** Keeps the Runs view's description (today's credits) current as runs finish, here or in another window. */
export function watchRunsViewDescription(view: vscode.TreeView<unknown>, runs: RunsStore, now: () => number = Date.now): vscode.Disposable {
  const update = () => {
    view.description = runsViewDescription(runs.spending(), now());
  };
  update();
  return runs.onDidChange((record) => {
    // Progress ticks do not change what was charged.
    if (record === undefined || record.chargedCost !== undefined) update();
  });
}
