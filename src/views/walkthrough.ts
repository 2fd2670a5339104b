// The walkthrough checks its steps off from context keys; a run started in this window, however it was
// started (the palette, a tree item, a script), completes "Run a technique".
import * as vscode from 'vscode';
import { ContextKey } from '../common/contextKeys';
import type { RunController } from '../services/runController';

export function watchWalkthrough(controller: Pick<RunController, 'onDidPrepareRun'>): vscode.Disposable {
  return controller.onDidPrepareRun(() => void vscode.commands.executeCommand('setContext', ContextKey.hasStartedRun, true));
}
