// Tells the user when a run finishes (with the next useful actions), when the extension stops following a
// run (with the button that resumes it), and when polling waits for a new key. It also decides which window
// tells: the one that started the run, or, when that window has gone (closed, reloaded), the polling one;
// and, after a reload, it announces again the finished runs whose notification was never seen.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { uiArgument } from '../common/invocation';
import { Disposable } from '../common/lifecycle';
import { notifyError, notifyInformation, notifyWarning } from '../common/notify';
import { isLive, type RunRecord } from '../core/runs';
import { describeError, runErrorText } from '../services/userText';
import type { RunController } from '../services/runController';
import type { RunsStore } from '../services/runsStore';
import type { WindowCoordinator } from '../services/windowCoordinator';
import { showError } from './remedies';

/** How far back a reloaded window looks for finished runs whose notification was never seen. */
const RENOTIFY_WINDOW_MS = 10 * 60_000;

/** How the notices are shown: VS Code's notifications; tests that simulate windows record them instead. */
export interface RunNoticePresenter {
  finished(record: RunRecord): Promise<void>;
  stopped(record: RunRecord): Promise<void>;
}

export const NOTIFICATION_PRESENTER: RunNoticePresenter = { finished: notifyFinished, stopped: notifyStopped };

export interface RunNotificationsOptions {
  runs: RunsStore;
  controller: Pick<RunController, 'onAuthProblem'>;
  coordinator: Pick<WindowCoordinator, 'windowId' | 'isPolling' | 'isWindowAlive'>;
  presenter?: RunNoticePresenter;
  now?: () => number;
}

export class RunNotifications extends Disposable {
  private authPromptOpen = false;
  private readonly presenter: RunNoticePresenter;

  constructor(private readonly options: RunNotificationsOptions) {
    super();
    this.presenter = options.presenter ?? NOTIFICATION_PRESENTER;
    this.register(options.runs.onDidSettle((record) => this.onSettled(record)));
    this.register(options.controller.onAuthProblem((error) => void this.onAuthProblem(error)));
  }

  /**
   * A reload clears the notifications; runs this window started that finished recently (perhaps while the
   * window was reloading) and whose notification was never dismissed are announced again.
   */
  announceUnseen(): void {
    const since = (this.options.now ?? Date.now)() - RENOTIFY_WINDOW_MS;
    for (const record of this.options.runs.all()) {
      if (
        !isLive(record) &&
        !record.stopped &&
        record.runId &&
        record.origin === this.options.coordinator.windowId &&
        !record.acknowledged &&
        record.updatedAt >= since
      ) {
        this.announceFinished(record);
      }
    }
  }

  private onSettled(record: RunRecord): void {
    const coordinator = this.options.coordinator;
    // The window that started the run tells the user; if it has gone (closed, reloaded), the polling one does.
    const mine = record.origin === undefined || record.origin === coordinator.windowId;
    if (!mine && !(coordinator.isPolling && !coordinator.isWindowAlive(record.origin))) return;
    // A stopped run has not finished: it is announced as stopped, with the way to resume it; unless the
    // user stopped it, who knows already.
    if (record.stopped) {
      if (record.stopped.reason !== 'byUser') void this.presenter.stopped(record);
    } else this.announceFinished(record);
  }

  private announceFinished(record: RunRecord): void {
    // A run FLORA never created was already reported by the command that tried to create it; the runs of
    // a batch are announced together, by the batch's summary, not one notification each.
    if (!record.runId || record.batch) return;
    void this.presenter.finished(record).then(() => this.options.runs.update(record.localId, { acknowledged: true }, { durable: true }));
  }

  private async onAuthProblem(error: unknown): Promise<void> {
    if (this.authPromptOpen) return;
    this.authPromptOpen = true;
    try {
      await showError(error, {
        severity: 'warning',
        text: vscode.l10n.t('{0} Your runs are paused and continue once a valid key is set.', describeError(error)),
      });
    } finally {
      this.authPromptOpen = false;
    }
  }
}

async function notifyFinished(record: RunRecord): Promise<void> {
  const argument = uiArgument({ kind: 'run', localId: record.localId });
  if (record.status === 'completed') {
    const openPreview = vscode.l10n.t('Open Preview');
    const insert = vscode.l10n.t('Insert URL');
    const message =
      record.chargedCost !== undefined
        ? vscode.l10n.t('FLORA: {0} completed ({1} credits).', record.techniqueName, record.chargedCost)
        : vscode.l10n.t('FLORA: {0} completed.', record.techniqueName);
    const choice = await notifyInformation(message, openPreview, insert);
    if (choice === openPreview) await vscode.commands.executeCommand(CommandId.openPreview, argument);
    if (choice === insert) await vscode.commands.executeCommand(CommandId.insertOutputUrl, argument);
    return;
  }
  const runAgain = vscode.l10n.t('Run Again');
  const showLog = vscode.l10n.t('Show Log');
  const reason = runErrorText(record) || vscode.l10n.t('no reason given');
  const choice = await notifyError(vscode.l10n.t('FLORA: {0} failed — {1}', record.techniqueName, reason), runAgain, showLog);
  if (choice === runAgain) await vscode.commands.executeCommand(CommandId.runAgain, argument);
  if (choice === showLog) await vscode.commands.executeCommand(CommandId.showLog);
}

/** A run the extension stopped following has not finished: it is announced with the way to resume it. */
async function notifyStopped(record: RunRecord): Promise<void> {
  const resume = vscode.l10n.t('Resume Following');
  const showLog = vscode.l10n.t('Show Log');
  const reason = runErrorText(record);
  // {0}: the technique's name; {1}: why the extension stopped following its run.
  const text = reason
    ? vscode.l10n.t('FLORA: {0} — {1}', record.techniqueName, reason)
    : vscode.l10n.t('FLORA: stopped following {0}.', record.techniqueName);
  const choice = await notifyWarning(text, resume, showLog);
  if (choice === resume) await vscode.commands.executeCommand(CommandId.resumeRun, uiArgument({ kind: 'run', localId: record.localId }));
  if (choice === showLog) await vscode.commands.executeCommand(CommandId.showLog);
}
