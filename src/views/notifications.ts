// Tells the user when a run finishes (with the next useful actions), when the extension stops following a
// run (with the button that resumes it), and when polling waits for a new key. It also decides which window
// tells: the one that started the run, or, when that window has gone (closed, reloaded), the polling one;
// and, after a reload, it announces again the finished runs whose notification was never seen.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { uiArgument } from '../common/invocation';
import { Disposable } from '../common/lifecycle';
import { notifyError, notifyInformation, notifyWarning } from '../common/notify';
import { messageOf } from '../core/errors';
import { isLive, type RunRecord, type SavedOutput } from '../core/runs';
import type { Log } from '../services/log';
import { MAX_OUTPUTS_SAVED_UNASKED, type OutputSaver } from '../services/outputSaver';
import type { Settings } from '../services/settings';
import { describeError, runErrorText } from '../services/userText';
import type { RunController } from '../services/runController';
import type { RunsStore } from '../services/runsStore';
import type { WindowCoordinator } from '../services/windowCoordinator';
import { showError } from './remedies';

/** How far back a reloaded window looks for finished runs whose notification was never seen. */
const RENOTIFY_WINDOW_MS = 10 * 60_000;

/** How the notices are shown: VS Code's notifications; tests that simulate windows record them instead. */
/** What happened to a completed run's outputs before it was announced. */
export interface FinishedOutcome {
  /** The files flora.saveOutputs = always saved. */
  saved?: readonly SavedOutput[];
  /** Whether to offer Save to Workspace. */
  offerSave?: boolean;
  /** Why saving them (always) failed, in the user's language. */
  saveFailure?: string;
}

export interface RunNoticePresenter {
  finished(record: RunRecord, outcome?: FinishedOutcome): Promise<void>;
  stopped(record: RunRecord): Promise<void>;
}

export const NOTIFICATION_PRESENTER: RunNoticePresenter = { finished: notifyFinished, stopped: notifyStopped };

export interface RunNotificationsOptions {
  runs: RunsStore;
  controller: Pick<RunController, 'onAuthProblem'>;
  coordinator: Pick<WindowCoordinator, 'windowId' | 'isPolling' | 'isWindowAlive'>;
  presenter?: RunNoticePresenter;
  now?: () => number;
  /** With flora.saveOutputs = always, the announcing window saves a completed run's outputs first. */
  saving?: { saver: Pick<OutputSaver, 'save' | 'folderFor'>; settings: Pick<Settings, 'current'>; log: Pick<Log, 'warn'> };
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
    // A run FLORA never created was already reported by the command that tried to create it.
    if (!record.runId) return;
    void this.saveAndAnnounce(record);
  }

  private async saveAndAnnounce(record: RunRecord): Promise<void> {
    const saving = this.options.saving;
    const mode = saving?.settings.current.saveOutputs ?? 'never';
    let saved: readonly SavedOutput[] | undefined;
    let saveFailure: string | undefined;
    const count = record.outputs?.length ?? 0;
    if (saving && mode === 'always' && count > MAX_OUTPUTS_SAVED_UNASKED) {
      // A reply can list thousands of outputs: that many downloads are the user's decision, not a setting's.
      saving.log.warn(`Not saving the ${count} outputs of ${record.runId ?? record.localId} unasked; Save to Workspace saves them.`);
    } else if (saving && mode === 'always' && record.status === 'completed' && count > 0 && !record.savedOutputs?.length) {
      try {
        const folder = await saving.saver.folderFor();
        if (folder !== undefined) saved = await saving.saver.save(record, folder);
        else saving.log.warn(`Not saving the outputs of ${record.runId ?? record.localId}: no workspace folder to save them in.`);
      } catch (error) {
        // The run and its URLs are kept whatever happened; the notification says why and offers the save again.
        saveFailure = describeError(error);
        saving.log.warn(`Saving the outputs of ${record.runId ?? record.localId} failed: ${messageOf(error)}`);
      }
    }
    // The runs of a batch are announced together, by the batch's summary, not one notification each.
    if (record.batch) return;
    const offerSave = mode !== 'never' && saved === undefined && !record.savedOutputs?.length;
    await this.presenter.finished(this.options.runs.get(record.localId) ?? record, { saved, offerSave, saveFailure });
    await this.options.runs.update(record.localId, { acknowledged: true }, { durable: true });
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

async function notifyFinished(record: RunRecord, outcome: FinishedOutcome = {}): Promise<void> {
  const argument = uiArgument({ kind: 'run', localId: record.localId });
  if (record.status === 'completed') {
    const openPreview = vscode.l10n.t('Open Preview');
    const insert = outcome.saved?.length ? vscode.l10n.t('Insert') : vscode.l10n.t('Insert URL');
    const save = vscode.l10n.t('Save to Workspace');
    const text = completedText(record, outcome);
    const offer = outcome.offerSave ? [save] : [];
    const choice = outcome.saveFailure
      ? await notifyWarning(text, save, openPreview, insert)
      : await notifyInformation(text, openPreview, insert, ...offer);
    if (choice === openPreview) await vscode.commands.executeCommand(CommandId.openPreview, argument);
    if (choice === insert) await vscode.commands.executeCommand(CommandId.insertOutputUrl, argument);
    if (choice === save) await vscode.commands.executeCommand(CommandId.saveOutputsToWorkspace, argument);
    return;
  }
  const runAgain = vscode.l10n.t('Run Again');
  const showLog = vscode.l10n.t('Show Log');
  const reason = runErrorText(record) || vscode.l10n.t('no reason given');
  const choice = await notifyError(vscode.l10n.t('FLORA: {0} failed — {1}', record.techniqueName, reason), runAgain, showLog);
  if (choice === runAgain) await vscode.commands.executeCommand(CommandId.runAgain, argument);
  if (choice === showLog) await vscode.commands.executeCommand(CommandId.showLog);
}

/** One sentence per case, so that each translates as a whole. */
function completedText(record: RunRecord, outcome: FinishedOutcome): string {
  const name = record.techniqueName;
  const cost = record.chargedCost;
  const [first] = outcome.saved ?? [];
  if (outcome.saveFailure !== undefined) {
    return cost !== undefined
      ? vscode.l10n.t('FLORA: {0} completed ({1} credits), but saving its outputs failed: {2}', name, cost, outcome.saveFailure)
      : vscode.l10n.t('FLORA: {0} completed, but saving its outputs failed: {1}', name, outcome.saveFailure);
  }
  if (first) {
    const where = vscode.workspace.asRelativePath(first.file);
    return cost !== undefined
      ? vscode.l10n.t('FLORA: {0} completed ({1} credits) and was saved to {2}.', name, cost, where)
      : vscode.l10n.t('FLORA: {0} completed and was saved to {1}.', name, where);
  }
  return cost !== undefined
    ? vscode.l10n.t('FLORA: {0} completed ({1} credits).', name, cost)
    : vscode.l10n.t('FLORA: {0} completed.', name);
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
