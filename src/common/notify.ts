// The one way the extension shows a notification. Its text often carries what FLORA sent (technique names,
// error codes and messages), and VS Code would turn link syntax in it into a link that runs a command, so
// every notification's text goes through messageText; the action buttons are the extension's own words.
import * as vscode from 'vscode';
import { messageText } from './inert';

export function notifyInformation(text: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showInformationMessage(messageText(text), ...actions);
}

export function notifyWarning(text: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showWarningMessage(messageText(text), ...actions);
}

export function notifyError(text: string, ...actions: string[]): Thenable<string | undefined> {
  return vscode.window.showErrorMessage(messageText(text), ...actions);
}

/**
 * A modal question only a person can answer (an agent or a script cannot dismiss it for them), for a step
 * that sends the user's files or money somewhere. Resolves true when they chose `action`.
 */
export async function confirmModal(text: string, detail: string, action: string): Promise<boolean> {
  const choice = await vscode.window.showWarningMessage(messageText(text), { modal: true, detail: messageText(detail) }, action);
  return choice === action;
}
