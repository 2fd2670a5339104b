// Local images and videos a prompt can offer as an input: the file open in the editor (a text editor or an
// image preview), paths written in the document (under the cursor or in the selection), files used before,
// and an open dialog filtered to the input's type. Only files that exist are offered. A local input's value
// is the file's `file:` URI; the run uploads it (see services/uploads.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { Uploads } from '../services/uploads';

export type MediaType = 'imageUrl' | 'videoUrl';

/** The extensions of each media type, for the open dialog and for telling a file's type from its name. */
export const MEDIA_EXTENSIONS: Readonly<Record<MediaType, readonly string[]>> = {
  imageUrl: ['png', 'jpg', 'jpeg', 'gif', 'webp'],
  videoUrl: ['mp4', 'mov', 'm4v', 'webm'],
};

/** At most this many paths are taken from a selection: a pasted list of hundreds helps nobody. */
const MAX_SELECTION_PATHS = 5;
/** Path-like words ending in a media extension; stops at quotes, brackets, spaces and URL punctuation. */
const PATH_PATTERN = /[^\s"'`<>()[\]{}:,;=?#*|]+\.(?:png|jpe?g|gif|webp|mp4|mov|m4v|webm)(?![\w.])/gi;

/** The media type a file's name says it is, or undefined when it is neither an image nor a video. */
export function mediaTypeOf(uri: vscode.Uri): MediaType | undefined {
  const extension = path.posix.extname(uri.path).slice(1).toLowerCase();
  if (MEDIA_EXTENSIONS.imageUrl.includes(extension)) return 'imageUrl';
  if (MEDIA_EXTENSIONS.videoUrl.includes(extension)) return 'videoUrl';
  return undefined;
}

/** Whether the URI names an existing regular file (not a folder, not a missing file). */
export async function isExistingFile(uri: vscode.Uri): Promise<boolean> {
  try {
    const stat = await vscode.workspace.fs.stat(uri);
    return (stat.type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

/**
 * The same check, synchronous, for the prompt's validation as the user types. Only `file:` URIs can be
 * uploaded (the upload reads the file from disk), so a disk check is the right one.
 */
export function isExistingFileSync(uri: vscode.Uri): boolean {
  if (uri.scheme !== 'file') return false;
  try {
    return fs.statSync(uri.fsPath).isFile();
  } catch {
    return false;
  }
}

/** How a prompt shows a local file: its name as the label, where it is (workspace-relative) as the description. */
export function localFileLabel(uri: vscode.Uri): { name: string; where: string } {
  return { name: labelText(path.posix.basename(uri.path)), where: labelText(Uploads.displayPath(uri)) };
}

/**
 * The file open in the active editor tab when it is an image or video of `type`: a text editor's document,
 * or a custom editor's resource (VS Code's image and video previews are custom editors).
 */
export function activeEditorFile(type: MediaType): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri =
    input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText
      ? input.uri
      : vscode.window.activeTextEditor?.document.uri;
  return uri && uri.scheme === 'file' && mediaTypeOf(uri) === type ? uri : undefined;
}

/** The path-like words the editor points at: every one in the selection, or the one under the cursor. */
export function pathsInEditor(editor: vscode.TextEditor): string[] {
  const document = editor.document;
  const selected = document.getText(editor.selection);
  if (selected.trim().length > 0) return [...new Set(matchPaths(selected).map((match) => match.text))].slice(0, MAX_SELECTION_PATHS);
  const line = document.lineAt(editor.selection.active.line).text;
  const cursor = editor.selection.active.character;
  const under = matchPaths(line).find((match) => cursor >= match.start && cursor <= match.start + match.text.length);
  return under ? [under.text] : [];
}

function matchPaths(text: string): Array<{ text: string; start: number }> {
  const found: Array<{ text: string; start: number }> = [];
  for (const match of text.matchAll(PATH_PATTERN)) {
    const start = match.index ?? 0;
    // The path of a URL ("https://host/a.png" matches from "//host"): a link, offered as one elsewhere.
    if (start > 0 && text[start - 1] === ':') continue;
    // A network path (\\host\share\a.png, //host/a.png) is never looked up: merely checking that it exists
    // would reach out to a host the document names.
    if (/^(?:\\\\|\/\/)/.test(match[0])) continue;
    found.push({ text: match[0], start });
  }
  return found;
}

/**
 * The existing file a path written in a document names: relative to the document's folder first, then to
 * each workspace folder (a site-root path such as `/img/a.png` included), or absolute. Undefined when none
 * exists.
 */
export async function resolveWrittenPath(written: string, document: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  const candidates: vscode.Uri[] = [];
  if (path.isAbsolute(written)) candidates.push(vscode.Uri.file(written));
  const relative = written.replace(/^[\\/]+/, '');
  if (document && document.scheme === 'file' && !path.isAbsolute(written)) {
    candidates.push(vscode.Uri.joinPath(document, '..', relative));
  }
  for (const folder of vscode.workspace.workspaceFolders ?? []) candidates.push(vscode.Uri.joinPath(folder.uri, relative));
  for (const candidate of candidates) {
    if (candidate.scheme === 'file' && (await isExistingFile(candidate))) return candidate;
  }
  return undefined;
}

/**
 * The file a value typed into the prompt names, when it names one: a `file:` URI, an absolute path, or a
 * path relative to the document the user worked in or to the workspace. Synchronous, for validation.
 */
export function typedFile(value: string, document: vscode.Uri | undefined): vscode.Uri | undefined {
  const trimmed = value.trim();
  if (!Uploads.isLocalValue(trimmed)) return undefined;
  const bases: Array<vscode.Uri | undefined> = [];
  if (document?.scheme === 'file' && !/^file:/i.test(trimmed) && !path.isAbsolute(trimmed)) bases.push(vscode.Uri.joinPath(document, '..'));
  bases.push(undefined);
  let fallback: vscode.Uri | undefined;
  for (const base of bases) {
    const uri = Uploads.toUri(trimmed, base);
    if (!uri) continue;
    fallback ??= uri;
    if (isExistingFileSync(uri)) return uri;
  }
  return fallback;
}

/** Opens a file dialog for one image or video (by type); undefined when the user cancelled. */
export async function chooseMediaFile(type: MediaType, title: string): Promise<vscode.Uri | undefined> {
  const filters: Record<string, string[]> =
    type === 'videoUrl'
      ? { [vscode.l10n.t('Videos')]: [...MEDIA_EXTENSIONS.videoUrl] }
      : { [vscode.l10n.t('Images')]: [...MEDIA_EXTENSIONS.imageUrl] };
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: false,
    canSelectMany: false,
    filters,
    title,
    openLabel: vscode.l10n.t('Use This File'),
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0];
}
