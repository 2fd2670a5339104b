// Commands on runs and their outputs: preview, insert into code, copy, download, clear history.
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { notifyInformation } from '../common/notify';
import { isUiCall } from '../common/invocation';
import { FloraUsageError } from '../core/errors';
import { formatOutputForLanguage } from '../core/insertFormat';
import { formatSavedPathForLanguage, relativeOutputPath } from '../core/outputPaths';
import { safeOutputUrl } from '../core/outputUrl';
import { isFinished, latestSavedOutput, type RunRecord } from '../core/runs';
import type { FloraConnection } from '../services/floraConnection';
import type { Log } from '../services/log';
import type { OutputSaver } from '../services/outputSaver';
import { ExtensionError, l10nText } from '../services/userText';
import type { RunsStore } from '../services/runsStore';
import type { Settings } from '../services/settings';
import type { PreviewPanels } from '../views/previewPanel';
import { isOutputNode, isRunNode } from '../views/runsTree';
import { WalkthroughStep, type StepReporter } from '../views/walkthrough';
import { announceSaved, chooseFolder, realDocumentPath, withSaveProgress } from './savingUi';

export interface OutputCommandContext {
  connection: FloraConnection;
  settings: Settings;
  runs: RunsStore;
  previews: PreviewPanels;
  log: Log;
  lastTextEditor: () => vscode.TextEditor | undefined;
  saver: OutputSaver;
  /** Tells the walkthrough an output was inserted. */
  reportStep?: StepReporter;
}

export interface OutputReference {
  url: string;
  type: string;
  /** The run it belongs to, when known (for alt text and file names). */
  record?: RunRecord;
  index?: number;
  /** How Insert writes it, when the user picked: the saved file's path or the URL. */
  form?: 'path' | 'url';
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
  if (typeof argument === 'string') {
    // A runId (or our local id): the run's first output.
    const record = runs.findByRunId(argument) ?? runs.get(argument);
    const output = record?.outputs?.[0];
    if (!record || !output) throw new FloraUsageError(l10nText('There is no run {0} with outputs in the history.', argument));
    return { url: output.url, type: output.type, record, index: 0 };
  }
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

async function pickOutput(
  runs: RunsStore,
  title: string,
  forms?: { pathFirst: boolean; folder: string | undefined },
): Promise<OutputReference | undefined> {
  const items: OutputPickItem[] = [];
  for (const record of runs.all()) {
    (record.outputs ?? []).forEach((output, index) => {
      // Only a save into this document's output folder: a path into another project's folder would not last.
      const saved = forms?.folder !== undefined ? latestSavedOutput(record, index, forms.folder) : undefined;
      if (saved && forms) {
        // Both forms of a saved output, the chosen default first: the path lasts, the URL does not.
        const name = labelText(record.techniqueName);
        const pathItem: OutputPickItem = {
          label: vscode.l10n.t('$(file-media) {0} · saved file', name),
          description: labelText(vscode.workspace.asRelativePath(saved.file)),
          output: { url: output.url, type: output.type, record, index, form: 'path' },
        };
        const urlItem: OutputPickItem = {
          label: vscode.l10n.t('$(link) {0} · URL', name),
          description: vscode.l10n.t('not permanent'),
          detail: labelText(output.url),
          output: { url: output.url, type: output.type, record, index, form: 'url' },
        };
        items.push(...(forms.pathFirst ? [pathItem, urlItem] : [urlItem, pathItem]));
        return;
      }
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

/**
 * Inserts the output at every cursor of the editor, formatted for its language; returns the text inserted.
 * A saved output goes in as its file's path relative to the document (flora.insertPathWhenSaved), unless the
 * user picked the URL.
 */
export async function insertOutputUrl(context: OutputCommandContext, argument?: unknown): Promise<string | undefined> {
  const pathFirst = context.settings.current.insertPathWhenSaved;
  const target = context.lastTextEditor()?.document;
  const folder = target?.uri.scheme === 'file' ? await context.saver.folderFor(target.uri).catch(() => undefined) : undefined;
  const output =
    resolveOutput(context.runs, argument) ??
    (argument === undefined ? await pickOutput(context.runs, vscode.l10n.t('FLORA: Insert Output'), { pathFirst, folder }) : undefined);
  if (!output) return undefined;
  const remembered = await insertTarget(context, argument, output);
  if (!remembered) return undefined;
  const document = remembered.document;
  const wantsPath = output.form === 'path' || (output.form === undefined && pathFirst);
  const savedFile =
    wantsPath && output.record && output.index !== undefined && folder !== undefined
      ? await context.saver.savedFile(output.record, output.index, folder)
      : undefined;
  const relative =
    savedFile && document.uri.scheme === 'file'
      ? relativeOutputPath(await realDocumentPath(document.uri), savedFile, document.languageId)
      : undefined;
  // Formatted first: a URL the check refuses throws here, before the document or the focus changes.
  const text =
    relative !== undefined
      ? formatSavedPathForLanguage(
          document.languageId,
          { path: relative, type: output.type, alt: output.record?.techniqueName },
          { format: context.settings.current.insertFormat },
        )
      : formatOutputForLanguage(
          document.languageId,
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
  context.reportStep?.(WalkthroughStep.insertOutput);
  return text;
}

interface TargetItem extends vscode.QuickPickItem {
  choice: 'reopen' | 'same' | 'other' | 'copy';
}

/** Whether a document is in one of the editor tabs (its TextDocument outlives its editor for a while). */
function isInATab(document: vscode.TextDocument): boolean {
  return vscode.window.tabGroups.all.some((group) =>
    group.tabs.some((tab) => tab.input instanceof vscode.TabInputText && tab.input.uri.toString() === document.uri.toString()),
  );
}

/**
 * The editor Insert writes into: the one the user last worked in while it is in a tab. With none, a person
 * is asked right where they are looking (a picker, not a notification they may not see): the file last
 * worked in, a new file of its language, of another language, or the URL copied instead. A script keeps
 * the behaviour it had: the last editor's document, or the refusal.
 */
async function insertTarget(
  context: OutputCommandContext,
  argument: unknown,
  output: OutputReference,
): Promise<vscode.TextEditor | undefined> {
  const remembered = context.lastTextEditor();
  const open = remembered && !remembered.document.isClosed ? remembered : undefined;
  if (open && (isInATab(open.document) || !isUiCall([argument]))) return open;
  if (!isUiCall([argument])) throw new FloraUsageError(l10nText('Open a file to insert the output URL into, then try again.'));
  // A closed document still knows its language: the one the user worked in last.
  const language = remembered?.document.languageId ?? 'markdown';
  // By its URI: the document itself may be gone from memory by now (VS Code disposes closed ones).
  const last = remembered && !remembered.document.isUntitled ? remembered.document.uri : undefined;
  const items: TargetItem[] = [
    ...(last
      ? [
          {
            label: vscode.l10n.t('$(go-to-file) Insert into {0}', labelText(vscode.workspace.asRelativePath(last))),
            choice: 'reopen' as const,
          },
        ]
      : []),
    { label: vscode.l10n.t('$(new-file) New File ({0})', language), choice: 'same' },
    { label: vscode.l10n.t('$(list-selection) New File of Another Language…'), choice: 'other' },
    { label: vscode.l10n.t('$(copy) Copy the Output Instead'), choice: 'copy' },
  ];
  const picked = await vscode.window.showQuickPick<TargetItem>(items, {
    title: vscode.l10n.t('FLORA: Insert Output'),
    placeHolder: vscode.l10n.t('No editor is open to insert into: where should the output go?'),
  });
  if (!picked) return undefined;
  if (picked.choice === 'copy') {
    await copyOutput(context, output);
    return undefined;
  }
  if (picked.choice === 'reopen' && last) return vscode.window.showTextDocument(await vscode.workspace.openTextDocument(last));
  const chosen =
    picked.choice === 'same'
      ? language
      : await vscode.window.showQuickPick(await vscode.languages.getLanguages(), {
          title: vscode.l10n.t('FLORA: Insert Output'),
          placeHolder: vscode.l10n.t('The language of the new file'),
        });
  if (!chosen) return undefined;
  return vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: chosen }));
}

export async function copyOutputUrl(context: OutputCommandContext, argument?: unknown): Promise<string | undefined> {
  const output =
    resolveOutput(context.runs, argument) ??
    (argument === undefined ? await pickOutput(context.runs, vscode.l10n.t('FLORA: Copy Output URL')) : undefined);
  return output && copyOutput(context, output);
}

/** The same checked, normalised URL Insert writes; a refused one throws and the clipboard keeps what it had. */
async function copyOutput(context: OutputCommandContext, output: OutputReference): Promise<string> {
  const url = safeOutputUrl(output.url, context.connection.extraOrigins());
  await vscode.env.clipboard.writeText(url);
  vscode.window.setStatusBarMessage(vscode.l10n.t('Copied the output URL'), 3000);
  return url;
}

/**
 * Saves an output into flora.outputFolder and returns the new file's URI. An output of a run in the history
 * is saved like Save Outputs to Workspace saves it (its name, its provenance beside it); the checks (URL and
 * redirects, addresses, name, size) are core/download.ts's, the folder's core/outputFolder.ts's.
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
  const folder = await chooseFolder(context, vscode.window.activeTextEditor?.document.uri);
  if (folder === undefined) return undefined;
  const { record, index } = output;
  return withSaveProgress(async (signal) => {
    let file: string;
    if (record && index !== undefined && record.outputs?.[index]?.url === output.url) {
      const [saved] = await context.saver.save(record, folder, { indexes: [index], signal });
      if (!saved) throw new ExtensionError(l10nText('The output was not saved.'));
      file = saved.file;
    } else {
      file = await context.saver.saveUrl(output.url, folder, signal);
    }
    const target = vscode.Uri.file(file);
    announceSaved([target]);
    return target;
  }, vscode.l10n.t('Downloading FLORA output…'));
}

export async function clearFinishedRuns(context: OutputCommandContext): Promise<number> {
  const finished = context.runs.all().filter(isFinished).length;
  if (finished === 0) return 0;
  return context.runs.removeFinished();
}
