// FLORA: Resume Following — picks up a run the extension stopped following (its replies could not be read,
// its polls kept failing, its status stayed unknown, it ran for a day, its create was never confirmed, or
// the user stopped it). FLORA: Stop Following — stops following a live run, keeping everything known, so
// it can be resumed. The notice that a run was stopped, with the button that resumes it, is in
// views/notifications.ts.
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { notifyInformation } from '../common/notify';
import { FloraUsageError } from '../core/errors';
import type { RunRecord } from '../core/runs';
import type { RunController } from '../services/runController';
import { l10nText, runErrorText } from '../services/userText';
import type { RunsStore } from '../services/runsStore';
import { describeRun } from '../views/runLabels';
import { resolveRun } from './outputs';

export interface ResumeCommandContext {
  controller: RunController;
  runs: RunsStore;
}

/** Argument: a Runs tree node, a runId or our local id; from the palette, a pick of the stopped runs. */
export async function resumeRun(context: ResumeCommandContext, argument?: unknown): Promise<RunRecord | undefined> {
  const record = argument === undefined ? await pickStoppedRun(context.runs) : resolveRun(context.runs, argument);
  if (!record) {
    if (argument !== undefined)
      throw new FloraUsageError(l10nText('Resume Following takes a run from the Runs view, its runId or its local id.'));
    return undefined;
  }
  return context.controller.resumeFollowing(record.localId);
}

/** Argument: a Runs tree node, a runId or our local id; from the palette, a pick of the live runs. */
export async function stopFollowing(context: ResumeCommandContext, argument?: unknown): Promise<RunRecord | undefined> {
  const record = argument === undefined ? await pickLiveRun(context.runs) : resolveRun(context.runs, argument);
  if (!record) {
    if (argument !== undefined)
      throw new FloraUsageError(l10nText('Stop Following takes a run from the Runs view, its runId or its local id.'));
    return undefined;
  }
  return context.controller.stopFollowing(record.localId);
}

interface StoppedRunItem extends vscode.QuickPickItem {
  record: RunRecord;
}

async function pickLiveRun(runs: RunsStore): Promise<RunRecord | undefined> {
  const live = runs.live();
  if (live.length === 0) {
    await notifyInformation(vscode.l10n.t('No run is being followed: every run has finished or was stopped.'));
    return undefined;
  }
  const items: StoppedRunItem[] = live.map((record) => ({
    label: labelText(record.techniqueName),
    description: labelText(record.runId ?? vscode.l10n.t('not created yet')),
    detail: describeRun(record, runs.connectionOf(record.localId)),
    record,
  }));
  const choice = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Stop Following'), matchOnDescription: true });
  return choice?.record;
}

async function pickStoppedRun(runs: RunsStore): Promise<RunRecord | undefined> {
  const stopped = runs.all().filter((record) => record.stopped);
  if (stopped.length === 0) {
    await notifyInformation(vscode.l10n.t('No run is waiting to be resumed: the extension is following every unfinished run.'));
    return undefined;
  }
  const items: StoppedRunItem[] = stopped.map((record) => ({
    label: labelText(record.techniqueName),
    description: labelText(record.runId ?? vscode.l10n.t('not created yet')),
    detail: labelText(runErrorText(record)),
    record,
  }));
  const choice = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Resume Following'), matchOnDescription: true });
  return choice?.record;
}
