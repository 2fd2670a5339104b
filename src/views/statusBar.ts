// One status bar item while runs are live: spinner, the technique (or the count) and progress; a live
// batch counts as one ("Studio Shot × 10 3/10"). Clicking it offers Stop Following for each live run, and
// Show Runs. When the last live run ends, the item shows how it ended for a few seconds ("Studio Shot
// done"), so a finish is seen without the FLORA view, then hides. It only displays the runs store.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { labelText, tooltipText } from '../common/inert';
import { uiArgument } from '../common/invocation';
import { Disposable } from '../common/lifecycle';
import { SYSTEM_TIMERS, type PollerTimers } from '../core/poller';
import type { BudgetGate } from '../services/budgetGate';
import type { RunsStore } from '../services/runsStore';
import type { RunRecord } from '../core/runs';
import { batchRuns, batchTitle, countBatch, describeBatch, statusLabel } from './runLabels';

/** How long the item shows how the last run ended: long enough to glance at, short enough not to linger. */
export const RESULT_SHOWN_MS = 5_000;

export interface RunsStatusBarOptions {
  /** The timers of the repaint and of the result's few seconds; tests move them by hand. */
  timers?: PollerTimers;
  /** Today's spending against the daily budget, for the tooltip (left out when absent). */
  budget?: Pick<BudgetGate, 'standing'>;
}

/** What the item shows once the last live run has ended, until its few seconds are up. */
interface RunResult {
  text: string;
  tooltip: string;
  command: vscode.Command;
  background?: vscode.ThemeColor;
}

export class RunsStatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('flora.runs', vscode.StatusBarAlignment.Left, 50));
  private readonly timers: PollerTimers;
  private updateTimer: unknown;
  private result: RunResult | undefined;
  private resultTimer: unknown;
  private readonly budget: Pick<BudgetGate, 'standing'> | undefined;

  constructor(
    private readonly runs: RunsStore,
    options: RunsStatusBarOptions = {},
  ) {
    super();
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.budget = options.budget;
    this.item.name = vscode.l10n.t('FLORA Runs');
    this.register(runs.onDidChange(() => this.scheduleUpdate()));
    this.register(runs.onDidSettle((record) => this.onSettled(record)));
    this.register({
      dispose: () => {
        if (this.updateTimer !== undefined) this.timers.clearTimeout(this.updateTimer);
        if (this.resultTimer !== undefined) this.timers.clearTimeout(this.resultTimer);
      },
    });
    this.update();
  }

  /** Bursts of progress events repaint the item once. */
  private scheduleUpdate(): void {
    if (this.updateTimer !== undefined) return;
    this.updateTimer = this.timers.setTimeout(() => {
      this.updateTimer = undefined;
      this.update();
    }, 100);
  }

  /** "Today: 15 credits charged, 5 more pending, of a daily budget of 100.": the numbers the budget decides by. */
  private spendingLine(): string | undefined {
    if (!this.budget) return undefined;
    const { charged, pending, limit } = this.budget.standing();
    if (limit === undefined) return vscode.l10n.t('Today: {0} credits charged, {1} more pending.', charged, pending);
    return vscode.l10n.t('Today: {0} credits charged, {1} more pending, of a daily budget of {2}.', charged, pending, limit);
  }

  /**
   * The last live run ended (here or in another window): the item says how for a few seconds. A run that
   * was stopped has not ended: the user who stopped it knows, and a run the extension stopped is announced
   * with its Resume button (and counted on the FLORA icon's badge).
   */
  private onSettled(record: RunRecord): void {
    if (record.stopped || this.runs.hasLive()) return;
    const result = record.batch ? batchResult(batchRuns(this.runs, record.batch.id)) : runResult(record);
    if (!result) return;
    this.result = result;
    if (this.resultTimer !== undefined) this.timers.clearTimeout(this.resultTimer);
    this.resultTimer = this.timers.setTimeout(() => {
      this.resultTimer = undefined;
      this.result = undefined;
      this.update();
    }, RESULT_SHOWN_MS);
    this.update();
  }

  update(): void {
    const live = this.runs.live();
    if (live.length === 0) {
      this.showResultOrHide();
      return;
    }
    // A new run took over: its progress matters more than how the previous one ended.
    this.result = undefined;
    if (this.resultTimer !== undefined) {
      this.timers.clearTimeout(this.resultTimer);
      this.resultTimer = undefined;
    }
    // The picker of what can be done about live runs: Stop Following each (FLORA has no cancel), Show Runs.
    this.item.command = CommandId.showRunsInProgress;
    const troubled = live.some((record) => {
      const connection = this.runs.connectionOf(record.localId);
      return connection !== undefined && connection.state !== 'ok';
    });
    // The icon is not part of the translated text: a translator could break the $(…) syntax.
    const icon = troubled ? '$(warning)' : '$(sync~spin)';
    const [single] = live;
    // The live batches, each shown as one: its runs are one piece of work to the user.
    const batches = new Map<string, RunRecord[]>();
    for (const record of live)
      if (record.batch && !batches.has(record.batch.id)) batches.set(record.batch.id, batchRuns(this.runs, record.batch.id));
    const unbatched = live.filter((record) => !record.batch);
    const [onlyBatch] = batches.values();
    let text: string;
    if (onlyBatch && batches.size === 1 && unbatched.length === 0) {
      const counts = countBatch(onlyBatch);
      text = vscode.l10n.t({
        message: '{0} {1}/{2}',
        args: [labelText(batchTitle(counts)), counts.completed + counts.failed + counts.stopped, counts.size],
        comment: 'technique name × files, runs ended/files',
      });
    } else if (single && live.length === 1) {
      text =
        single.status === 'creating'
          ? labelText(single.techniqueName)
          : vscode.l10n.t({
              message: '{0} {1}%',
              args: [labelText(single.techniqueName), single.progress],
              comment: 'technique name, progress in percent',
            });
    } else if (batches.size > 0) {
      text = vscode.l10n.t('{0} FLORA runs', batches.size + unbatched.length);
    } else {
      const average = Math.round(live.reduce((sum, record) => sum + record.progress, 0) / live.length);
      text = vscode.l10n.t('{0} FLORA runs {1}%', live.length, average);
    }
    this.item.text = `${icon} ${text}`;
    const tooltip = new vscode.MarkdownString(undefined, false);
    tooltip.appendText(`${vscode.l10n.t('FLORA runs in progress')}\n\n`);
    for (const records of batches.values()) {
      const counts = countBatch(records);
      tooltip.appendText(
        `• ${tooltipText(vscode.l10n.t({ message: '{0}: {1}', args: [batchTitle(counts), describeBatch(counts)], comment: 'batch: counts' }))}\n\n`,
      );
    }
    for (const record of unbatched) {
      const line =
        record.status === 'creating'
          ? vscode.l10n.t({
              message: '{0}: {1}',
              args: [record.techniqueName, statusLabel(record, this.runs.connectionOf(record.localId))],
              comment: 'technique name: run status',
            })
          : vscode.l10n.t({
              message: '{0}: {1} {2}%',
              args: [record.techniqueName, statusLabel(record, this.runs.connectionOf(record.localId)), record.progress],
              comment: 'technique name: run status, progress in percent',
            });
      tooltip.appendText(`• ${tooltipText(line)}\n\n`);
    }
    const spending = this.spendingLine();
    if (spending) tooltip.appendText(`${spending}\n\n`);
    tooltip.appendText(vscode.l10n.t('Click to stop following a run or to show the Runs view.'));
    this.item.tooltip = tooltip;
    this.item.backgroundColor = troubled ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  private showResultOrHide(): void {
    const result = this.result;
    if (!result) {
      this.item.hide();
      return;
    }
    this.item.text = result.text;
    this.item.tooltip = result.tooltip;
    this.item.command = result.command;
    this.item.backgroundColor = result.background;
    this.item.show();
  }
}

// The icons are not part of the translated text: a translator could break the $(…) syntax.
const DONE_ICON = '$(check)';
const FAILED_ICON = '$(error)';
const WARNING_ICON = '$(warning)';

/** "$(check) Studio Shot done", opening its preview; "$(error) Studio Shot failed", opening it too (the preview shows why). */
function runResult(record: RunRecord): RunResult | undefined {
  if (record.status !== 'completed' && record.status !== 'failed') return undefined;
  const name = labelText(record.techniqueName);
  const command: vscode.Command = {
    command: CommandId.openPreview,
    title: vscode.l10n.t('Open Preview'),
    arguments: [uiArgument({ kind: 'run', localId: record.localId })],
  };
  return record.status === 'completed'
    ? {
        text: `${DONE_ICON} ${vscode.l10n.t('{0} done', name)}`,
        tooltip: vscode.l10n.t('{0} completed. Click to open its preview.', name),
        command,
      }
    : {
        text: `${FAILED_ICON} ${vscode.l10n.t('{0} failed', name)}`,
        tooltip: vscode.l10n.t('{0} failed. Click to see why.', name),
        command,
        background: new vscode.ThemeColor('statusBarItem.errorBackground'),
      };
}

/** "$(check) Studio Shot × 3 done", or "$(warning) Studio Shot × 3: 2 completed, 1 failed"; both show the Runs view. */
function batchResult(records: readonly RunRecord[]): RunResult | undefined {
  const counts = countBatch(records);
  if (counts.live > 0 || records.length === 0) return undefined;
  const title = labelText(batchTitle(counts));
  const command: vscode.Command = { command: CommandId.showRuns, title: vscode.l10n.t('Show Runs') };
  const clean = counts.failed === 0 && counts.stopped === 0 && counts.missing === 0;
  return clean
    ? {
        text: `${DONE_ICON} ${vscode.l10n.t('{0} done', title)}`,
        tooltip: vscode.l10n.t('{0}: {1}. Click to show the Runs view.', title, labelText(describeBatch(counts))),
        command,
      }
    : {
        text: `${WARNING_ICON} ${vscode.l10n.t({ message: '{0}: {1}', args: [title, labelText(describeBatch(counts))], comment: 'batch: counts' })}`,
        tooltip: vscode.l10n.t('{0}: {1}. Click to show the Runs view.', title, labelText(describeBatch(counts))),
        command,
        background: new vscode.ThemeColor('statusBarItem.warningBackground'),
      };
}
