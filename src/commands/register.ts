// One guard around every command: log the details, show a message with the action that fixes it, stay
// silent when the user cancelled, and hand the error back to programmatic callers.
import * as vscode from 'vscode';
import { notifyError } from '../common/notify';
import { CommandId } from '../common/commandIds';
import {
  DownloadRefusedError,
  FloraApiError,
  FloraCancelledError,
  FloraConfigurationError,
  FloraInputError,
  isAuthError,
} from '../core/errors';
import type { Log } from '../services/log';
import { describeError } from '../services/messages';

export type CommandHandler = (...args: unknown[]) => unknown;

/** A call from a script or another extension (a string or a request object), as opposed to a menu or the palette. */
export function isProgrammaticCall(args: readonly unknown[]): boolean {
  const [first] = args;
  if (typeof first === 'string') return true;
  if (typeof first !== 'object' || first === null) return false;
  const kind = (first as { kind?: unknown }).kind;
  return kind === undefined;
}

export function registerCommand(id: CommandId, handler: CommandHandler, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (isCancellation(error)) {
        if (isProgrammaticCall(args)) throw error;
        return undefined;
      }
      log.error(`${id} failed: ${describeForLog(error)}`);
      void showError(error);
      if (isProgrammaticCall(args)) throw error;
      return undefined;
    }
  });
}

export function isCancellation(error: unknown): boolean {
  return error instanceof FloraCancelledError || error instanceof vscode.CancellationError;
}

function describeForLog(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Shows an error with the one action most likely to fix it. */
export async function showError(error: unknown): Promise<void> {
  const message = describeError(error);
  const setKey = vscode.l10n.t('Set API Key');
  const openFlora = vscode.l10n.t('Open FLORA');
  const openSettings = vscode.l10n.t('Open Settings');
  const showLog = vscode.l10n.t('Show Log');
  // The setting the user should change, when the remedy is a setting: the base URL, or a download folder
  // that leads outside the workspace.
  const setting =
    error instanceof FloraConfigurationError
      ? 'flora.baseUrl'
      : error instanceof DownloadRefusedError && error.reason === 'folder'
        ? 'flora.outputFolder'
        : undefined;
  let actions: string[];
  if (isAuthError(error)) actions = [setKey];
  else if (error instanceof FloraApiError && error.code === 'insufficient_credits') actions = [openFlora];
  else if (setting !== undefined) actions = [openSettings];
  else if (error instanceof FloraInputError) actions = [];
  else actions = [showLog];
  const choice = await notifyError(message, ...actions);
  if (choice === setKey) await vscode.commands.executeCommand(CommandId.setApiKey);
  else if (choice === openFlora) await vscode.env.openExternal(vscode.Uri.parse('https://app.flora.ai'));
  else if (choice === openSettings) await vscode.commands.executeCommand('workbench.action.openSettings', setting);
  else if (choice === showLog) await vscode.commands.executeCommand(CommandId.showLog);
}
