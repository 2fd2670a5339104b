// One status bar item while runs are live: spinner, the technique (or the count) and progress; a live
// batch counts as one ("Studio Shot × 10 3/10"). Hidden when nothing runs. It only displays the runs store.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { labelText, tooltipText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import type { RunsStore } from '../services/runsStore';
import type { RunRecord } from '../core/runs';
import { batchRuns, batchTitle, countBatch, describeBatch, statusLabel } from './runLabels';

export class RunsStatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('flora.runs', vscode.StatusBarAlignment.Left, 50));
  private updateTimer: NodeJS.Timeout | undefined;

  constructor(private readonly runs: RunsStore) {
    super();
    this.item.name = vscode.l10n.t('FLORA Runs');
    this.item.command = CommandId.showRuns;
    this.register(runs.onDidChange(() => this.scheduleUpdate()));
    this.register({ dispose: () => this.updateTimer && clearTimeout(this.updateTimer) });
    this.update();
  }

  /** Bursts of progress events repaint the item once. */
  private scheduleUpdate(): void {
    if (this.updateTimer) return;
    this.updateTimer = setTimeout(() => {
      this.updateTimer = undefined;
      this.update();
    }, 100);
  }

  update(): void {
    const live = this.runs.live();
    if (live.length === 0) {
      this.item.hide();
      return;
    }
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
    tooltip.appendText(vscode.l10n.t('Click to show the Runs view.'));
    this.item.tooltip = tooltip;
    this.item.backgroundColor = troubled ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }
}
