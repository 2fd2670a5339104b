// The one way an error reaches the user: its text (made inert by notify) with the button of its remedy,
// which carries out the fix when chosen. The command guard, the run flow's key recovery, the notifications
// and the technique views' error rows all go through here, so each fix is worded and wired once.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { uiArgument } from '../common/invocation';
import { FLORA_APP_URL } from '../common/links';
import { notifyError, notifyWarning } from '../common/notify';
import type { Remedy } from '../core/errors';
import { describeError, remedyOf } from '../services/userText';

const CONFIGURE_UPLOAD = 'flora.configureUpload';

/** The button's title for a remedy; undefined when there is nothing to offer. */
function remedyTitle(remedy: Remedy): string | undefined {
  switch (remedy.kind) {
    case 'setKey':
      return vscode.l10n.t('Set API Key');
    case 'getCredits':
      return vscode.l10n.t('Open FLORA');
    case 'removeTechnique':
      return vscode.l10n.t('Remove Technique');
    case 'openSetting':
      return vscode.l10n.t('Open Settings');
    case 'configureUpload':
      return vscode.l10n.t('Configure Upload');
    case 'showLog':
      return vscode.l10n.t('Show Log');
    case 'none':
      return undefined;
  }
}

/** The remedy as a command, for a tree row that fixes what it reports; undefined when there is nothing to do. */
export function remedyCommand(remedy: Remedy): vscode.Command | undefined {
  const title = remedyTitle(remedy);
  if (title === undefined) return undefined;
  switch (remedy.kind) {
    case 'setKey':
      return { command: CommandId.setApiKey, title };
    case 'getCredits':
      return { command: 'vscode.open', title, arguments: [vscode.Uri.parse(FLORA_APP_URL)] };
    case 'removeTechnique':
      return { command: CommandId.removeTechnique, title, arguments: [techniqueArgument(remedy.slug)] };
    case 'openSetting':
      return { command: 'workbench.action.openSettings', title, arguments: [remedy.setting] };
    case 'configureUpload':
      return { command: CONFIGURE_UPLOAD, title };
    case 'showLog':
    case 'none':
      return { command: CommandId.showLog, title };
  }
}

/** Carries out a remedy the user chose. */
export async function applyRemedy(remedy: Remedy): Promise<void> {
  switch (remedy.kind) {
    case 'setKey':
      await vscode.commands.executeCommand(CommandId.setApiKey);
      return;
    case 'getCredits':
      await vscode.env.openExternal(vscode.Uri.parse(FLORA_APP_URL));
      return;
    case 'removeTechnique':
      await vscode.commands.executeCommand(CommandId.removeTechnique, techniqueArgument(remedy.slug));
      return;
    case 'openSetting':
      await vscode.commands.executeCommand('workbench.action.openSettings', remedy.setting);
      return;
    case 'configureUpload':
      await vscode.commands.executeCommand(CONFIGURE_UPLOAD);
      return;
    case 'showLog':
      await vscode.commands.executeCommand(CommandId.showLog);
      return;
    case 'none':
      return;
  }
}

export interface ShowErrorOptions {
  /** A warning for a precondition or a pause the user can fix; an error otherwise. */
  severity?: 'error' | 'warning';
  /** The words shown, when they say more than the error's own text (which they should quote). */
  text?: string;
}

/**
 * Shows an error with the button of its remedy and carries out the remedy when the user chooses it.
 * Resolves true when they did, false when they dismissed the message (or there was nothing to offer).
 */
export async function showError(error: unknown, options: ShowErrorOptions = {}): Promise<boolean> {
  const remedy = remedyOf(error);
  const title = remedyTitle(remedy);
  const text = options.text ?? describeError(error);
  const actions = title === undefined ? [] : [title];
  const choice = options.severity === 'warning' ? await notifyWarning(text, ...actions) : await notifyError(text, ...actions);
  if (choice === undefined || choice !== title) return false;
  await applyRemedy(remedy);
  return true;
}

/** The technique a remedy acts on, as our own UI passes it (so the guard shows a failure rather than rethrowing it). */
function techniqueArgument(slug: string): { kind: 'technique'; slug: string; name: string; description: string; added: boolean } {
  return uiArgument({ kind: 'technique', slug, name: slug, description: '', added: true });
}
