// Commands that make outputs last: save a run's outputs into the workspace, and replace FLORA output URLs in
// documents by the paths of their saved files (one URL, every URL in a file, every URL in the workspace).
// Each URL is downloaded once per command, whatever number of places hold it, and every document's
// replacements go into one WorkspaceEdit, which one Undo takes back.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { confirmModal, notifyInformation, notifyWarning } from '../common/notify';
import { FloraCancelledError, FloraUsageError, messageOf } from '../core/errors';
import { findOutputUrls, hrefOfWrittenUrl } from '../core/outputLinks';
import { timeStamp } from '../core/provenance';
import { isFinished, type RunRecord } from '../core/runs';
import { pathReference, urlReplacements, wantsExplicitlyRelative } from '../core/urlReplacement';
import type { FloraConnection } from '../services/floraConnection';
import type { Log } from '../services/log';
import type { OutputIndex } from '../services/outputIndex';
import type { OutputSaver } from '../services/outputSaver';
import type { RunsStore } from '../services/runsStore';
import { l10nText } from '../services/userText';
import { MAX_OUTPUTS_SAVED_UNASKED } from '../views/notifications';
import { resolveRun } from './outputs';
import { workspaceTextFiles } from './workspaceFiles';

export interface SaveCommandContext {
  runs: RunsStore;
  saver: OutputSaver;
  index: OutputIndex;
  connection: Pick<FloraConnection, 'fetchOutput'>;
  log: Log;
}

/** `flora.saveOutputsToWorkspace`: a run's outputs into flora.outputFolder; resolves to the saved files. */
export async function saveOutputsToWorkspace(context: SaveCommandContext, argument?: unknown): Promise<vscode.Uri[] | undefined> {
  const record = resolveRun(context.runs, argument) ?? (argument === undefined ? await pickCompletedRun(context.runs) : undefined);
  if (!record) {
    if (argument !== undefined) throw new FloraUsageError(l10nText('There is no run {0} in the history.', describeArgument(argument)));
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
  return replaceInDocuments(context, [document], (candidate) =>
    context.index.isOutputUrl(hrefOfWrittenUrl(candidate, document.languageId)),
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
  const folder = await chooseFolder(context, found[0]?.uri);
  if (folder === undefined) return undefined;
  if (confirm) {
    const agreed = await confirmModal(
      vscode.l10n.t('Found {0} FLORA output URLs in {1} files.', urls.size, found.length),
      vscode.l10n.t(
        "Each is downloaded once into {0}, and every place it stands is replaced by the saved file's path, in one edit you can undo.",
        vscode.workspace.asRelativePath(folder),
      ),
      vscode.l10n.t('Save and Replace'),
    );
    if (!agreed) return undefined;
  }
  const documents = await Promise.all(found.map((file) => vscode.workspace.openTextDocument(file.uri)));
  const failed: WorkspaceSaveResult['failed'] = [];
  const replaced = await replaceInDocuments(context, documents, (candidate) => urls.has(candidate), { folder, failed });
  return { urls: urls.size, files: found.length, replaced, failed };
}

interface ReplaceOptions {
  folder?: string;
  /** Collects the URLs that failed instead of stopping at the first. */
  failed?: Array<{ url: string; reason: string }>;
}

/**
 * Saves every URL of the documents that `wanted` accepts (each once) and replaces each place it stands by
 * its saved file's path relative to that document, in one WorkspaceEdit. Returns the places replaced.
 */
async function replaceInDocuments(
  context: SaveCommandContext,
  documents: readonly vscode.TextDocument[],
  wanted: (url: string) => boolean,
  options: ReplaceOptions = {},
): Promise<number> {
  // What is written (a Markdown escape, an &amp;) is not always the URL: each is saved as the URL it stands for.
  const found = documents.map((document) => {
    // Classified again as the URL it stands for: `media.flora.ai\\&.evil.com` is written on FLORA's host, not read so.
    const urls = findOutputUrls(document.getText(), wanted)
      .map((url) => ({ ...url, href: hrefOfWrittenUrl(url.url, document.languageId) }))
      .filter((url) => context.index.isOutputUrl(url.href));
    return { document, urls };
  });
  const distinct = [...new Set(found.flatMap((entry) => entry.urls.map((url) => url.href)))];
  if (distinct.length === 0) throw new FloraUsageError(l10nText('There is no FLORA output URL to save here.'));
  const folder = options.folder ?? (await chooseFolder(context, documents[0]?.uri));
  if (folder === undefined) return 0;
  const files = await withSaveProgress((signal) => saveUrls(context, distinct, folder, signal, options.failed));
  const edit = new vscode.WorkspaceEdit();
  let replaced = 0;
  for (const { document, urls } of found) {
    const references = new Map<string, string>();
    const documentFolder = path.dirname(await realDocumentPath(document.uri));
    for (const url of urls) {
      const file = files.get(url.href);
      if (file === undefined) continue;
      const relative = path.relative(documentFolder, file).split(path.sep).join('/');
      references.set(url.url, pathReference(relative, wantsExplicitlyRelative(document.languageId)));
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
    throw new FloraUsageError(l10nText('The editor did not accept the edit; the saved files are in {0}.', folder));
  }
  const failures = options.failed?.length ?? 0;
  if (failures > 0) {
    const showLog = vscode.l10n.t('Show Log');
    void notifyWarning(
      vscode.l10n.t('Replaced {0} FLORA output URLs; {1} could not be saved and stay as they were.', replaced, failures),
      showLog,
    ).then((choice) => {
      if (choice === showLog) context.log.show();
    });
  } else {
    vscode.window.setStatusBarMessage(
      replaced === 1
        ? vscode.l10n.t('Replaced 1 FLORA output URL by its saved file')
        : vscode.l10n.t('Replaced {0} FLORA output URLs by saved files', replaced),
      5000,
    );
  }
  return replaced;
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
        const name = path.posix.basename(new URL(url).pathname).replace(/\.[^.]*$/, '');
        const result = await context.connection.fetchOutput(url, { folder, stem: `flora-${timeStamp(Date.now())}-${name}` }, signal);
        context.log.info(`Saved ${url} to ${result.file} (${result.bytes} bytes).`);
        files.set(url, result.file);
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
export async function chooseFolder(context: Pick<SaveCommandContext, 'saver'>, near: vscode.Uri | undefined): Promise<string | undefined> {
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { resolveOutputFolder } = require('../core/outputFolder') as typeof import('../core/outputFolder');
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

function describeArgument(argument: unknown): string {
  return typeof argument === 'string' ? argument : '';
}
