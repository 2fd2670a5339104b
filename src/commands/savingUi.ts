// What the saving commands share with Insert and Download: the folder a save goes to (asking when there is
// none), a document's real path, the progress notification, and the message once files are saved.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { notifyInformation } from '../common/notify';
import { resolveOutputFolder } from '../core/outputFolder';
import type { OutputSaver } from '../services/outputSaver';

/**
 * The document's path with its folder's symbolic links resolved: saved files are named by real paths
 * (core/outputFolder.ts), and a path from a linked folder to a real one would climb out of the link.
 */
export async function realDocumentPath(uri: vscode.Uri): Promise<string> {
  try {
    return path.join(await fs.realpath(path.dirname(uri.fsPath)), path.basename(uri.fsPath));
  } catch {
    return uri.fsPath;
  }
}

/** flora.outputFolder for a document's workspace folder, or, with none, a folder the user picks. */
export async function chooseFolder(
  context: { saver: Pick<OutputSaver, 'folderFor'> },
  near: vscode.Uri | undefined,
): Promise<string | undefined> {
  const resolved = await context.saver.folderFor(near);
  if (resolved !== undefined) return resolved;
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Save FLORA outputs'),
    openLabel: vscode.l10n.t('Save Here'),
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
  });
  const chosen = picked?.[0];
  if (!chosen) return undefined;
  // The user picked it themselves: any folder of theirs is fine, resolved to its real path like the others.
  return resolveOutputFolder({ value: chosen.fsPath, fromUser: true }, undefined);
}

/** A cancellable notification while outputs download; Cancel aborts the downloads (nothing half-written stays). */
export function withSaveProgress<T>(
  task: (signal: AbortSignal) => Promise<T>,
  title = vscode.l10n.t('Saving FLORA outputs…'),
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (_progress, token) => {
      const controller = new AbortController();
      const cancellation = token.onCancellationRequested(() => controller.abort());
      try {
        return await task(controller.signal);
      } finally {
        cancellation.dispose();
      }
    },
  );
}

/** "Saved 2 files to flora-outputs", with the two things one does next. */
export function announceSaved(files: readonly vscode.Uri[]): void {
  const [first] = files;
  if (!first) return;
  const reveal = vscode.l10n.t('Reveal in Explorer');
  const open = vscode.l10n.t('Open');
  const where = vscode.workspace.asRelativePath(files.length === 1 ? first : vscode.Uri.file(path.dirname(first.fsPath)));
  const text = files.length === 1 ? vscode.l10n.t('Saved {0}', where) : vscode.l10n.t('Saved {0} files to {1}', files.length, where);
  void notifyInformation(text, reveal, open).then((choice) => {
    if (choice === reveal) void vscode.commands.executeCommand('revealInExplorer', first);
    if (choice === open) void vscode.commands.executeCommand('vscode.open', first);
  });
}
