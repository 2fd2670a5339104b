// One guard around every command: log the details, show the message with the button of its remedy (see
// views/remedies.ts), stay silent when the user cancelled, and hand the error back to programmatic callers.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { isUiCall } from '../common/invocation';
import { FloraCancelledError } from '../core/errors';
import type { Log } from '../services/log';
import { showError } from '../views/remedies';

export type CommandHandler = (...args: unknown[]) => unknown;

export function registerCommand(id: CommandId, handler: CommandHandler, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    // Decided before the handler runs: which caller this is does not depend on what went wrong.
    const fromUi = isUiCall(args);
    try {
      return await handler(...args);
    } catch (error) {
      if (isCancellation(error)) {
        if (!fromUi) throw error;
        return undefined;
      }
      log.error(`${id} failed: ${describeForLog(error)}`);
      void showError(error);
      if (!fromUi) throw error;
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
