// Tells the user when a run finishes (with the next useful actions), when the extension stops following a
// run (with the button that resumes it), and when polling waits for a new key.
import * as vscode from 'vscode';
import { notifyError, notifyInformation, notifyWarning } from '../common/notify';
import { CommandId } from '../common/commandIds';
import type { RunRecord } from '../core/runs';
import type { FloraService } from '../services/floraService';
import { describeError, runErrorText } from '../services/messages';
import type { RunsStore } from '../services/runsStore';

export function watchRunNotifications(service: FloraService, runs: RunsStore): vscode.Disposable {
  let authPromptOpen = false;
  return vscode.Disposable.from(
    service.onDidFinishRun((record) => {
      // A run FLORA never created was already reported by the command that tried to create it.
      if (record.runId) {
        void notifyFinished(record).then(() => runs.update(record.localId, { acknowledged: true }, { durable: true }));
      }
    }),
    service.onDidStopFollowing((record) => void notifyStopped(record)),
    service.onAuthProblem(async (error) => {
      if (authPromptOpen) return;
      authPromptOpen = true;
      const setKey = vscode.l10n.t('Set API Key');
      const choice = await notifyWarning(
        vscode.l10n.t('{0} Your runs are paused and continue once a valid key is set.', describeError(error)),
        setKey,
      );
      authPromptOpen = false;
      if (choice === setKey) await vscode.commands.executeCommand(CommandId.setApiKey);
    }),
  );
}

async function notifyFinished(record: RunRecord): Promise<void> {
  const argument = { kind: 'run', localId: record.localId };
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
  if (choice === resume) await vscode.commands.executeCommand(CommandId.resumeRun, { kind: 'run', localId: record.localId });
  if (choice === showLog) await vscode.commands.executeCommand(CommandId.showLog);
}
