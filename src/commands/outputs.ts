// Commands on runs and their outputs: preview, insert into code, copy, download, clear history.
import * as path from 'node:path';
import type { Dispatcher } from 'undici';
import * as vscode from 'vscode';
import { ContextKey } from '../common/commandIds';
import { FloraInputError } from '../core/errors';
import { toTransportError } from '../core/http';
import { formatOutputForLanguage } from '../core/insertFormat';
import { isLive, isLoadableUrl, type RunRecord } from '../core/runs';
import type { FloraService } from '../services/floraService';
import type { Log } from '../services/log';
import { ExtensionError, l10nText } from '../services/messages';
import type { RunsStore } from '../services/runsStore';
import type { PreviewPanels } from '../views/previewPanel';
import { isOutputNode, isRunNode } from '../views/runsTree';

export interface OutputCommandContext {
  service: FloraService;
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
      throw new FloraInputError([{ inputId: undefined, text: l10nText('Expected { url: string, type: "imageUrl" | "videoUrl" | … }.') }]);
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
        label: output.outputId
          ? vscode.l10n.t({ message: '{0} · {1}', args: [record.techniqueName, output.outputId], comment: 'technique name · output id' })
          : vscode.l10n.t('{0} · output {1}', record.techniqueName, index + 1),
        description: output.type,
        detail: output.url,
        output: { url: output.url, type: output.type, record, index },
      });
    });
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No outputs yet. Run a technique first ("FLORA: Run Technique…").'));
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
      throw new FloraInputError([
        {
          inputId: undefined,
          text: l10nText('There is no run {0} in the history.', String(typeof argument === 'string' ? argument : '')),
        },
      ]);
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
    throw new FloraInputError([{ inputId: undefined, text: l10nText('Open a file to insert the output URL into, then try again.') }]);
  }
  // The preview or a picker may have focus: bring the editor back before editing it.
  const editor =
    vscode.window.activeTextEditor?.document === remembered.document
      ? vscode.window.activeTextEditor
      : await vscode.window.showTextDocument(remembered.document, { viewColumn: remembered.viewColumn, preserveFocus: false });
  const text = formatOutputForLanguage(
    editor.document.languageId,
    { url: output.url, type: output.type, alt: output.record?.techniqueName },
    context.service.currentSettings.insertFormat,
  );
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
  await vscode.env.clipboard.writeText(output.url);
  vscode.window.setStatusBarMessage(vscode.l10n.t('Copied the output URL'), 3000);
  return output.url;
}

const EXTENSIONS_BY_TYPE: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'video/mp4': '.mp4',
  'video/webm': '.webm',
  'video/quicktime': '.mov',
  'text/plain': '.txt',
};
const MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024;

/** Saves an output into flora.outputFolder (relative to the first workspace folder); returns the file's URI. */
export async function downloadOutput(context: OutputCommandContext, argument?: unknown): Promise<vscode.Uri | undefined> {
  const output =
    resolveOutput(context.runs, argument) ??
    (argument === undefined ? await pickOutput(context.runs, vscode.l10n.t('FLORA: Download Output')) : undefined);
  if (!output) return undefined;
  const extraOrigins = context.service.mediaOptions().extraOrigins ?? [];
  if (!isLoadableUrl(output.url, extraOrigins)) {
    throw new FloraInputError([
      { inputId: undefined, text: l10nText('Only https:// outputs can be downloaded; this one is {0}', output.url.slice(0, 40)) },
    ]);
  }
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Downloading FLORA output…'), cancellable: true },
    async (_progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      const origin = new URL(output.url).origin;
      const chunks: Buffer[] = [];
      let size = 0;
      let response: Dispatcher.ResponseData;
      try {
        response = await context.service.fetchOutput(output.url, controller.signal);
        if (response.statusCode < 200 || response.statusCode >= 300) {
          await response.body.dump();
          throw new ExtensionError(
            l10nText(
              'The output could not be downloaded (HTTP {0}). Output URLs expire after a while; run the technique again if it is gone.',
              response.statusCode,
            ),
          );
        }
        for await (const chunk of response.body) {
          size += (chunk as Buffer).length;
          if (size > MAX_DOWNLOAD_BYTES)
            throw new ExtensionError(l10nText('The output is larger than 1 GiB; open it in the browser instead.'));
          chunks.push(chunk as Buffer);
        }
      } catch (error) {
        if (error instanceof ExtensionError) throw error;
        // A refused connection, a timeout or a cancel: the same typed, translated errors as the API's.
        throw toTransportError(error, origin);
      }
      const contentType =
        String(response.headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim() ?? '';
      const target = await targetUri(context, output, contentType);
      if (!target) return undefined;
      await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(target, '..'));
      await vscode.workspace.fs.writeFile(target, Buffer.concat(chunks));
      context.log.info(`Saved output ${output.url} to ${target.fsPath} (${size} bytes).`);
      const open = vscode.l10n.t('Open');
      void vscode.window
        .showInformationMessage(vscode.l10n.t('Saved {0}', vscode.workspace.asRelativePath(target)), open)
        .then((choice) => {
          if (choice === open) void vscode.commands.executeCommand('vscode.open', target);
        });
      return target;
    },
  );
}

async function targetUri(context: OutputCommandContext, output: OutputReference, contentType: string): Promise<vscode.Uri | undefined> {
  const fromUrl = path.posix.basename(new URL(output.url).pathname);
  const extension = path.posix.extname(fromUrl) || EXTENSIONS_BY_TYPE[contentType] || '';
  const stem = output.record
    ? `${output.record.slug}-${output.record.runId ?? output.record.localId.slice(-8)}-${(output.index ?? 0) + 1}`
    : path.posix.basename(fromUrl, path.posix.extname(fromUrl)) || 'flora-output';
  const fileName = `${stem.replace(/[^A-Za-z0-9._-]/g, '_')}${extension}`;
  const folderSetting = context.service.currentSettings.outputFolder;
  const workspace = vscode.workspace.workspaceFolders?.[0];
  if (path.isAbsolute(folderSetting)) return vscode.Uri.joinPath(vscode.Uri.file(folderSetting), fileName);
  if (workspace) return vscode.Uri.joinPath(workspace.uri, folderSetting, fileName);
  return vscode.window.showSaveDialog({ title: vscode.l10n.t('Save FLORA output'), defaultUri: vscode.Uri.file(fileName) });
}

export async function clearFinishedRuns(context: OutputCommandContext): Promise<number> {
  const finished = context.runs.all().filter((record) => !isLive(record)).length;
  if (finished === 0) return 0;
  return context.runs.removeFinished();
}
