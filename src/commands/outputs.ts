// Commands on runs and their outputs: preview, insert into code, copy, download, clear history.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { notifyInformation } from '../common/notify';
import { ContextKey } from '../common/contextKeys';
import { FloraUsageError } from '../core/errors';
import { formatOutputForLanguage } from '../core/insertFormat';
import { resolveOutputFolder } from '../core/outputFolder';
import { safeOutputUrl } from '../core/outputUrl';
import { isFinished, type RunRecord } from '../core/runs';
import type { FloraConnection } from '../services/floraConnection';
import type { Log } from '../services/log';
import { ExtensionError, l10nText } from '../services/userText';
import type { RunsStore } from '../services/runsStore';
import type { Settings } from '../services/settings';
import type { PreviewPanels } from '../views/previewPanel';
import { isOutputNode, isRunNode } from '../views/runsTree';

export interface OutputCommandContext {
  connection: FloraConnection;
  settings: Settings;
  runs: RunsStore;
  previews: PreviewPanels;
  log: Log;
  lastTextEditor: () => vscode.TextEditor | undefined;
}

export interface OutputReference {
  url: string;
  type: string;
  /** The run it belongs to, when known (for alt text and file names). */
  record?: RunRecord;
  index?: number;
}

/** A run from a tree node, a runId or our local id. */
export function resolveRun(runs: RunsStore, argument: unknown): RunRecord | undefined {
  if (isRunNode(argument) || isOutputNode(argument)) return runs.get(argument.localId);
  if (typeof argument === 'string') return runs.findByRunId(argument) ?? runs.get(argument);
  if (typeof argument === 'object' && argument !== null) {
    const { runId, localId } = argument as { runId?: unknown; localId?: unknown };
    if (typeof localId === 'string') return runs.get(localId);
    if (typeof runId === 'string') return runs.findByRunId(runId);
  }
  return undefined;
}

function resolveOutput(runs: RunsStore, argument: unknown): OutputReference | undefined {
  if (isOutputNode(argument)) {
    return { url: argument.output.url, type: argument.output.type, record: runs.get(argument.localId), index: argument.index };
  }
  if (isRunNode(argument)) {
    const record = runs.get(argument.localId);
    const output = record?.outputs?.[0];
    return output && record ? { url: output.url, type: output.type, record, index: 0 } : undefined;
  }
  if (typeof argument === 'object' && argument !== null) {
    const { url, type, localId, index } = argument as { url?: unknown; type?: unknown; localId?: unknown; index?: unknown };
    if (typeof url !== 'string' || url.length === 0) {
      throw new FloraUsageError(l10nText('Expected { url: string, type: "imageUrl" | "videoUrl" | … }.'));
    }
    return {
      url,
      type: typeof type === 'string' ? type : 'imageUrl',
      record: typeof localId === 'string' ? runs.get(localId) : undefined,
      index: typeof index === 'number' ? index : undefined,
    };
  }
  return undefined;
}

interface OutputPickItem extends vscode.QuickPickItem {
  output: OutputReference;
}

async function pickOutput(runs: RunsStore, title: string): Promise<OutputReference | undefined> {
  const items: OutputPickItem[] = [];
  for (const record of runs.all()) {
    (record.outputs ?? []).forEach((output, index) => {
      items.push({
        // Names, ids, types and URLs are FLORA's: inert labels.
        label: output.outputId
          ? vscode.l10n.t({
              message: '{0} · {1}',
              args: [labelText(record.techniqueName), labelText(output.outputId)],
              comment: 'technique name · output id',
            })
          : vscode.l10n.t('{0} · output {1}', labelText(record.techniqueName), index + 1),
        description: labelText(output.type),
        detail: labelText(output.url),
        output: { url: output.url, type: output.type, record, index },
      });
    });
  }
  if (items.length === 0) {
    void notifyInformation(vscode.l10n.t('No outputs yet. Run a technique first ("FLORA: Run Technique…").'));
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title, placeHolder: vscode.l10n.t('Pick an output'), matchOnDetail: true }))?.output;
}

export async function openPreview(context: OutputCommandContext, argument?: unknown): Promise<boolean> {
  let record = resolveRun(context.runs, argument);
  if (!record && argument === undefined) {
    const picked = await pickOutput(context.runs, vscode.l10n.t('FLORA: Open Preview'));
    record = picked?.record;
  }
  if (!record) {
    if (argument !== undefined)
      throw new FloraUsageError(l10nText('There is no run {0} in the history.', String(typeof argument === 'string' ? argument : '')));
    return false;
  }
  context.previews.show(record.localId);
  return true;
}

/** Inserts the output at every cursor of the editor, formatted for its language; returns the text inserted. */
export async function insertOutputUrl(context: OutputCommandContext, argument?: unknown): Promise<string | undefined> {
  const output =
    resolveOutput(context.runs, argument) ??
    (argument === undefined ? await pickOutput(context.runs, vscode.l10n.t('FLORA: Insert Output URL')) : undefined);
  if (!output) return undefined;
  const remembered = context.lastTextEditor();
  if (!remembered) {
    throw new FloraUsageError(l10nText('Open a file to insert the output URL into, then try again.'));
  }
  // Formatted first: a URL the check refuses throws here, before the document or the focus changes.
  const text = formatOutputForLanguage(
    remembered.document.languageId,
    { url: output.url, type: output.type, alt: output.record?.techniqueName },
    { format: context.settings.current.insertFormat, extraOrigins: context.connection.extraOrigins() },
  );
  // The preview or a picker may have focus: bring the editor back before editing it.
  const editor =
    vscode.window.activeTextEditor?.document === remembered.document
      ? vscode.window.activeTextEditor
      : await vscode.window.showTextDocument(remembered.document, { viewColumn: remembered.viewColumn, preserveFocus: false });
  const applied = await editor.edit((builder) => {
    for (const selection of editor.selections) builder.replace(selection, text);
  });
  if (!applied) throw new ExtensionError(l10nText('The editor did not accept the edit.'));
  // Inserts from a notification or the preview count for the walkthrough too, not only the palette's.
  await vscode.commands.executeCommand('setContext', ContextKey.hasInsertedOutput, true);
  return text;
}

export async function copyOutputUrl(context: OutputCommandContext, argument?: unknown): Promise<string | undefined> {
  const output =
    resolveOutput(context.runs, argument) ??
    (argument === undefined ? await pickOutput(context.runs, vscode.l10n.t('FLORA: Copy Output URL')) : undefined);
  if (!output) return undefined;
  // The same checked, normalised URL Insert writes; a refused one throws and the clipboard keeps what it had.
  const url = safeOutputUrl(output.url, context.connection.extraOrigins());
  await vscode.env.clipboard.writeText(url);
  vscode.window.setStatusBarMessage(vscode.l10n.t('Copied the output URL'), 3000);
  return url;
}

/**
 * Saves an output into flora.outputFolder and returns the new file's URI. The checks (URL and redirects,
 * addresses, name, size) are core/download.ts's, the folder's core/outputFolder.ts's; this only picks the
 * folder and tells the user.
 */
export async function downloadOutput(context: OutputCommandContext, argument?: unknown): Promise<vscode.Uri | undefined> {
  const output =
    resolveOutput(context.runs, argument) ??
    (argument === undefined ? await pickOutput(context.runs, vscode.l10n.t('FLORA: Download Output')) : undefined);
  if (!output) return undefined;
  // Refused before anything else happens (and before a folder is asked for). The download code is required
  // here, on first use, so that activating the extension does not load it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { checkDownloadUrl } = require('../core/download') as typeof import('../core/download');
  checkDownloadUrl(output.url, context.connection.extraOrigins());
  const folder = await targetFolder(context);
  if (folder === undefined) return undefined;
  const stem = output.record
    ? `${output.record.slug}-${output.record.runId ?? output.record.localId.slice(-8)}-${(output.index ?? 0) + 1}`
    : path.posix.basename(new URL(output.url).pathname).replace(/\.[^.]*$/, '');
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Downloading FLORA output…'), cancellable: true },
    async (_progress, token) => {
      const controller = new AbortController();
      const cancellation = token.onCancellationRequested(() => controller.abort());
      try {
        const saved = await context.connection.fetchOutput(output.url, { folder, stem }, controller.signal);
        const target = vscode.Uri.file(saved.file);
        context.log.info(
          `Saved output ${output.url} (from ${saved.url}, ${saved.contentType || 'no content type'}) to ${saved.file} (${saved.bytes} bytes).`,
        );
        const open = vscode.l10n.t('Open');
        void notifyInformation(vscode.l10n.t('Saved {0}', vscode.workspace.asRelativePath(target)), open).then((choice) => {
          if (choice === open) void vscode.commands.executeCommand('vscode.open', target);
        });
        return target;
      } finally {
        cancellation.dispose();
      }
    },
  );
}

/**
 * The folder to save into, as a real path: flora.outputFolder resolved by core (inside the first workspace
 * folder unless the user's own settings name an absolute one), or, with neither, a folder the user picks.
 */
async function targetFolder(context: OutputCommandContext): Promise<string | undefined> {
  const workspace = vscode.workspace.workspaceFolders?.find((folder) => folder.uri.scheme === 'file');
  const resolved = await resolveOutputFolder(context.settings.current.outputFolder, workspace?.uri.fsPath);
  if (resolved !== undefined) return resolved;
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Save FLORA output'),
    openLabel: vscode.l10n.t('Save Here'),
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
  });
  const chosen = picked?.[0];
  // The user picked it themselves: any folder of theirs is fine, resolved to its real path like the others.
  return chosen ? resolveOutputFolder({ value: chosen.fsPath, fromUser: true }, undefined) : undefined;
}

export async function clearFinishedRuns(context: OutputCommandContext): Promise<number> {
  const finished = context.runs.all().filter(isFinished).length;
  if (finished === 0) return 0;
  return context.runs.removeFinished();
}
