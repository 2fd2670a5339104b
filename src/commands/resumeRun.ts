// FLORA: Resume Following — picks up a run the extension stopped following (its replies could not be read,
// its polls kept failing, its status stayed unknown, it ran for a day, its create was never confirmed, or
// the user stopped it). FLORA: Stop Following — stops following a live run, keeping everything known, so
// it can be resumed. FLORA's API has no cancel, so wherever Stop Following is offered (the Runs view's
// row and menu, the palette, the status bar item's picker) the user is told that FLORA may still finish
// the run and charge it. The notice that the extension stopped a run, with the button that resumes it, is
// in views/notifications.ts.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { labelText } from '../common/inert';
import { uiArgument } from '../common/invocation';
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
  return stopAndTell(context, record);
}

/** Stops following, then says what that means (not a cancel) and offers to undo it. */
async function stopAndTell(context: ResumeCommandContext, record: RunRecord): Promise<RunRecord> {
  const wasStopped = record.stopped !== undefined;
  const stopped = await context.controller.stopFollowing(record.localId);
  if (!wasStopped) {
    // Not awaited: the notice stays until dismissed, and the command (a script's call too) is done.
    const resume = vscode.l10n.t('Resume Following');
    void notifyInformation(
      vscode.l10n.t(
        "Stopped following {0}. FLORA's API has no cancel: FLORA may still finish the run and charge its credits. Its runId is kept; Resume Following picks it up again.",
        stopped.techniqueName,
      ),
      resume,
    ).then((choice) => {
      if (choice === resume)
        return vscode.commands.executeCommand(CommandId.resumeRun, uiArgument({ kind: 'run', localId: stopped.localId }));
      return undefined;
    });
  }
  return stopped;
}

/** Said before anything is stopped; short enough for a picker's placeholder. */
function notCancelledText(): string {
  return vscode.l10n.t('Stopping does not cancel: FLORA may still finish and charge the run. You can resume it.');
}

// Icons are ours, never part of translated text (a translator could break the $(…) syntax).
const SHOW_ICON = '$(list-tree)';
const STOP_ICON = '$(debug-stop)';

interface InProgressItem extends vscode.QuickPickItem {
  record?: RunRecord;
}

/**
 * What the status bar item offers while runs are live: Show Runs (first, so that a click and Enter do what
 * the click used to), then Stop Following for each live run. A picker rather than links in the tooltip:
 * it is reached by keyboard, says what stopping means before anything is stopped, and shows every run.
 */
export async function showRunsInProgress(context: ResumeCommandContext): Promise<RunRecord | undefined> {
  const live = context.runs.live();
  const show: InProgressItem = { label: `${SHOW_ICON} ${vscode.l10n.t('Show Runs')}` };
  if (live.length === 0) {
    await vscode.commands.executeCommand(CommandId.showRuns);
    return undefined;
  }
  const items: InProgressItem[] = [
    show,
    { label: vscode.l10n.t('Stop Following'), kind: vscode.QuickPickItemKind.Separator },
    ...live.map((record) => liveRunItem(context.runs, record)),
  ];
  const choice = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('FLORA Runs in Progress'),
    placeHolder: notCancelledText(),
    matchOnDescription: true,
  });
  if (!choice) return undefined;
  if (!choice.record) {
    await vscode.commands.executeCommand(CommandId.showRuns);
    return undefined;
  }
  return stopAndTell(context, choice.record);
}

function liveRunItem(runs: RunsStore, record: RunRecord): InProgressItem & { record: RunRecord } {
  // A run of a batch is told apart from its siblings by its file.
  const file = record.batch ? record.inputs.find((input) => input.localPath !== undefined)?.localPath : undefined;
  return {
    // Our icon, FLORA's name made inert.
    label: `${STOP_ICON} ${labelText(record.techniqueName)}`,
    description: labelText(file !== undefined ? (file.split(/[\\/]/).pop() ?? file) : (record.runId ?? vscode.l10n.t('not created yet'))),
    detail: describeRun(record, runs.connectionOf(record.localId)),
    record,
  };
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
  const items: StoppedRunItem[] = live.map((record) => liveRunItem(runs, record));
  const choice = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Stop Following'),
    placeHolder: notCancelledText(),
    matchOnDescription: true,
  });
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
