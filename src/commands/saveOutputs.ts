// Commands that make outputs last: save a run's outputs into the workspace, and replace FLORA output URLs in
// documents by the paths of their saved files (one URL, every URL in a file, every URL in the workspace).
// Each URL is downloaded once per command, whatever number of places hold it, and every document's
// replacements go into one WorkspaceEdit, which one Undo takes back.
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { confirmModal, notifyInformation, notifyWarning } from '../common/notify';
import { FloraCancelledError, FloraUsageError, messageOf } from '../core/errors';
import { findOutputUrls, hrefOfWrittenUrl } from '../core/outputLinks';
import { relativeOutputPath, wantsExplicitlyRelative } from '../core/outputPaths';
import { isFinished, type RunRecord } from '../core/runs';
import { pathReference, urlReplacements } from '../core/urlReplacement';
import type { Log } from '../services/log';
import type { OutputIndex } from '../services/outputIndex';
import type { OutputSaver } from '../services/outputSaver';
import type { RunsStore } from '../services/runsStore';
import { ExtensionError, l10nText } from '../services/userText';
import { MAX_OUTPUTS_SAVED_UNASKED } from '../services/outputSaver';
import { resolveRun } from './outputs';
import { announceSaved, chooseFolder, realDocumentPath, withSaveProgress } from './savingUi';
import { workspaceTextFiles } from './workspaceFiles';

export interface SaveCommandContext {
  runs: RunsStore;
  saver: OutputSaver;
  index: OutputIndex;
  log: Log;
}

/** `flora.saveOutputsToWorkspace`: a run's outputs into flora.outputFolder; resolves to the saved files. */
export async function saveOutputsToWorkspace(context: SaveCommandContext, argument?: unknown): Promise<vscode.Uri[] | undefined> {
  const record = resolveRun(context.runs, argument) ?? (argument === undefined ? await pickCompletedRun(context.runs) : undefined);
  if (!record) {
    if (typeof argument === 'string') throw new FloraUsageError(l10nText('There is no run {0} in the history.', argument));
    if (argument !== undefined) throw new FloraUsageError(l10nText('Expected a runId, a run from the Runs view, or { localId }.'));
    return undefined;
  }
  const count = record.outputs?.length ?? 0;
  if (count > MAX_OUTPUTS_SAVED_UNASKED) {
    const agreed = await confirmModal(
      vscode.l10n.t('Save all {0} outputs of {1}?', count, record.techniqueName),
      vscode.l10n.t('Each is downloaded into the output folder; the run lists more outputs than runs usually have.'),
      vscode.l10n.t('Save All'),
    );
    if (!agreed) return undefined;
  }
  const folder = await chooseFolder(context, vscode.window.activeTextEditor?.document.uri);
  if (folder === undefined) return undefined;
  const saved = await withSaveProgress((signal) => context.saver.save(record, folder, { signal }));
  const files = saved.map((entry) => vscode.Uri.file(entry.file));
  announceSaved(files);
  return files;
}

/** `flora.saveOutputUrl` (a quick fix): saves one URL and replaces it, wherever it stands in the document. */
export async function saveOutputUrl(context: SaveCommandContext, argument: unknown): Promise<number> {
  const { uri, url } = readDocumentArgument(argument);
  if (url === undefined) throw new FloraUsageError(l10nText('Expected { uri, url }.'));
  const document = await vscode.workspace.openTextDocument(uri);
  // The quick fix names the URL as written, the hover as the URL it stands for: either matches.
  return replaceInDocuments(
    context,
    [document],
    (candidate) => candidate === url || hrefOfWrittenUrl(candidate, document.languageId) === url,
  );
}

/** `flora.saveOutputUrlsInFile` (a quick fix, and the palette's for the active editor): every URL in one document. */
export async function saveOutputUrlsInFile(context: SaveCommandContext, argument?: unknown): Promise<number> {
  const uri = argument === undefined ? vscode.window.activeTextEditor?.document.uri : readDocumentArgument(argument).uri;
  if (!uri) throw new FloraUsageError(l10nText('Open a file that holds FLORA output URLs, then try again.'));
  const document = await vscode.workspace.openTextDocument(uri);
  // URLs known to be gone are left for their own fix (Run Again); a failing one does not stop the others.
  return replaceInDocuments(
    context,
    [document],
    (candidate) => context.index.isOutputUrl(hrefOfWrittenUrl(candidate, document.languageId)),
    {
      skipGone: true,
      failed: [],
    },
  );
}

export interface WorkspaceSaveResult {
  /** Distinct URLs found, and the files they were found in. */
  urls: number;
  files: number;
  /** Places replaced by a path. */
  replaced: number;
  /** URLs that could not be saved, with why (in English). */
  failed: Array<{ url: string; reason: string }>;
}

/**
 * `flora.saveOutputUrlsInWorkspace`: finds output URLs in every text file of the workspace (files.exclude,
 * search.exclude and .gitignore respected), says how many, and on the user's word saves each once and
 * replaces them all in one WorkspaceEdit. `{ confirm: false }` lets a script skip the question.
 */
export async function saveOutputUrlsInWorkspace(context: SaveCommandContext, argument?: unknown): Promise<WorkspaceSaveResult | undefined> {
  const confirm = !(typeof argument === 'object' && argument !== null && (argument as { confirm?: unknown }).confirm === false);
  const found = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Looking for FLORA output URLs…') },
    () => findInWorkspace(context),
  );
  const urls = new Set(found.flatMap((file) => file.urls));
  if (urls.size === 0) {
    void notifyInformation(vscode.l10n.t('No FLORA output URLs in the workspace.'));
    return { urls: 0, files: 0, replaced: 0, failed: [] };
  }
  if (confirm) {
    const agreed = await confirmModal(
      urls.size === 1 && found.length === 1
        ? vscode.l10n.t('Found 1 FLORA output URL in 1 file.')
        : vscode.l10n.t('Found {0} FLORA output URLs in {1} files.', urls.size, found.length),
      vscode.l10n.t(
        "Each is downloaded once into flora.outputFolder of its workspace folder, and every place it stands is replaced by the saved file's path, in one edit you can undo. The changed files are left unsaved for you to review.",
      ),
      vscode.l10n.t('Save and Replace'),
    );
    if (!agreed) return undefined;
  }
  const documents = await Promise.all(found.map((file) => vscode.workspace.openTextDocument(file.uri)));
  const failed: WorkspaceSaveResult['failed'] = [];
  const replaced = await replaceInDocuments(context, documents, (candidate) => urls.has(candidate), { failed });
  return { urls: urls.size, files: found.length, replaced, failed };
}

interface ReplaceOptions {
  /** Leaves out URLs already found gone (404 or 410): they have their own fix, Run Again. */
  skipGone?: boolean;
  /** Collects the URLs that failed instead of stopping at the first. */
  failed?: Array<{ url: string; reason: string }>;
}

/**
 * Saves every URL of the documents that `wanted` accepts (each once per output folder) and replaces each
 * place it stands by its saved file's path relative to that document, in one WorkspaceEdit. Each document's
 * outputs go to flora.outputFolder of its own workspace folder. Returns the places replaced.
 */
async function replaceInDocuments(
  context: SaveCommandContext,
  documents: readonly vscode.TextDocument[],
  wanted: (url: string) => boolean,
  options: ReplaceOptions = {},
): Promise<number> {
  // Classified as the URL each stands for (a Markdown escape, an &amp;): `media.flora.ai\&.evil.com` is
  // written on FLORA's host, not read so.
  const scan = (document: vscode.TextDocument) =>
    findOutputUrls(document.getText(), wanted)
      .map((url) => ({ ...url, href: hrefOfWrittenUrl(url.url, document.languageId) }))
      .filter((url) => context.index.isOutputUrl(url.href) && !(options.skipGone && context.saver.isGone(url.href)));
  // A path is written relative to the document's file: an untitled document has none yet.
  const onDisk = documents.filter((document) => document.uri.scheme === 'file');
  if (onDisk.length === 0) {
    throw new FloraUsageError(l10nText('Save the document first: the saved file is linked by a path relative to it.'));
  }
  const folders = new Map<vscode.TextDocument, string>();
  const byFolder = new Map<string, Set<string>>();
  const chosen = new Map<string, string | undefined>();
  for (const document of onDisk) {
    const hrefs = scan(document).map((url) => url.href);
    if (hrefs.length === 0) continue;
    const key = vscode.workspace.getWorkspaceFolder(document.uri)?.uri.toString() ?? '';
    if (!chosen.has(key)) chosen.set(key, await chooseFolder(context, document.uri));
    const folder = chosen.get(key);
    if (folder === undefined) return 0;
    folders.set(document, folder);
    const hrefsOfFolder = byFolder.get(folder) ?? new Set<string>();
    for (const href of hrefs) hrefsOfFolder.add(href);
    byFolder.set(folder, hrefsOfFolder);
  }
  if (byFolder.size === 0) throw new FloraUsageError(l10nText('There is no FLORA output URL to save here.'));
  const saved = await withSaveProgress(async (signal) => {
    const result = new Map<string, Map<string, string>>();
    for (const [folder, hrefs] of byFolder) result.set(folder, await saveUrls(context, [...hrefs], folder, signal, options.failed));
    return result;
  });
  const edit = new vscode.WorkspaceEdit();
  let replaced = 0;
  for (const [document, folder] of folders) {
    const files = saved.get(folder) ?? new Map<string, string>();
    const real = await realDocumentPath(document.uri);
    const references = new Map<string, string>();
    // Found again now: the user may have typed while the files downloaded, and the offsets moved.
    const urls = scan(document);
    for (const url of urls) {
      const file = files.get(url.href);
      const relative = file === undefined ? undefined : relativeOutputPath(real, file, document.languageId);
      // No relative path (another drive): the URL stays, and the file is saved all the same.
      if (relative !== undefined) references.set(url.url, pathReference(relative, wantsExplicitlyRelative(document.languageId)));
    }
    for (const replacement of urlReplacements(urls, references)) {
      edit.replace(
        document.uri,
        new vscode.Range(document.positionAt(replacement.start), document.positionAt(replacement.end)),
        replacement.text,
      );
      replaced++;
    }
  }
  if (replaced > 0 && !(await vscode.workspace.applyEdit(edit))) {
    throw new ExtensionError(l10nText('The editor did not accept the edit; the saved files are in {0}.', [...byFolder.keys()].join(', ')));
  }
  announceReplaced(context, replaced, options.failed?.length ?? 0);
  return replaced;
}

function announceReplaced(context: SaveCommandContext, replaced: number, failures: number): void {
  if (failures > 0) {
    const showLog = vscode.l10n.t('Show Log');
    void notifyWarning(
      vscode.l10n.t('Replaced {0} FLORA output URLs; {1} could not be saved and stay as they were.', replaced, failures),
      showLog,
    ).then((choice) => {
      if (choice === showLog) context.log.show();
    });
    return;
  }
  vscode.window.setStatusBarMessage(
    replaced === 1
      ? vscode.l10n.t('Replaced 1 FLORA output URL by its saved file')
      : vscode.l10n.t('Replaced {0} FLORA output URLs by saved files', replaced),
    5000,
  );
}

/**
 * Saves each URL once: one from the history through its run (provenance and all), one only known to be on
 * FLORA's hosts as a file of its own. `failed` collects failures; without it the first one is thrown.
 */
async function saveUrls(
  context: SaveCommandContext,
  urls: readonly string[],
  folder: string,
  signal: AbortSignal,
  failed?: Array<{ url: string; reason: string }>,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const url of urls) {
    if (signal.aborted) throw new FloraCancelledError();
    try {
      const known = context.index.byUrl(url);
      if (known) {
        const [saved] = await context.saver.save(known.record, folder, { indexes: [known.index], signal });
        if (saved) files.set(url, saved.file);
      } else {
        files.set(url, await context.saver.saveUrl(url, folder, signal));
      }
    } catch (error) {
      if (!failed || error instanceof FloraCancelledError) throw error;
      context.log.warn(`Could not save ${url}: ${messageOf(error)}`);
      failed.push({ url, reason: messageOf(error) });
    }
  }
  return files;
}

interface FileWithUrls {
  uri: vscode.Uri;
  urls: string[];
}

async function findInWorkspace(context: SaveCommandContext): Promise<FileWithUrls[]> {
  const open = new Map(vscode.workspace.textDocuments.map((document) => [document.uri.toString(), document]));
  const found: FileWithUrls[] = [];
  await workspaceTextFiles(
    (uri, text) => {
      // An open document may hold edits not yet saved: its text is what the edit will change.
      const current = open.get(uri.toString())?.getText() ?? text;
      const urls = findOutputUrls(current, (url) => context.index.isOutputUrl(url)).map((url) => url.url);
      if (urls.length > 0) found.push({ uri, urls });
    },
    { log: context.log },
  );
  return found.sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath));
}

async function pickCompletedRun(runs: RunsStore): Promise<RunRecord | undefined> {
  const items = runs
    .all()
    .filter((record) => isFinished(record) && record.status === 'completed' && (record.outputs?.length ?? 0) > 0)
    .map((record) => ({ label: labelText(record.techniqueName), description: labelText(record.runId ?? ''), record }));
  if (items.length === 0) {
    void notifyInformation(vscode.l10n.t('No outputs yet. Run a technique first ("FLORA: Run Technique…").'));
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('FLORA: Save Outputs to Workspace') }))?.record;
}

function readDocumentArgument(argument: unknown): { uri: vscode.Uri; url?: string } {
  if (argument instanceof vscode.Uri) return { uri: argument };
  if (typeof argument === 'object' && argument !== null) {
    const { uri, url } = argument as { uri?: unknown; url?: unknown };
    const parsed = uri instanceof vscode.Uri ? uri : typeof uri === 'string' ? vscode.Uri.parse(uri, true) : undefined;
    if (parsed) return { uri: parsed, url: typeof url === 'string' ? url : undefined };
  }
  throw new FloraUsageError(l10nText('Expected { uri, url }.'));
}
