// The text files of the workspace as a person searching it would see them: files.exclude and search.exclude
// applied (as Search does), the files git ignores left out (asked of git itself, which knows nested
// .gitignore files, .git/info/exclude and the global excludes), binary and very large files skipped, and
// FLORA's own provenance files too, whose original URLs are there on purpose.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PROVENANCE_SUFFIX } from '../core/provenance';
import { readRegularFile } from '../core/regularFile';
import type { Log } from '../services/log';

/** Larger files are not source files anyone inserts an image URL into by hand. */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;
const READ_CONCURRENCY = 16;
const BINARY_EXTENSIONS = new Set(
  'png jpg jpeg gif webp avif bmp ico tif tiff psd mp4 mov m4v webm mkv avi mp3 wav ogg flac zip gz tgz bz2 xz 7z rar jar woff woff2 ttf otf eot pdf exe dll so dylib class wasm bin node lock'.split(
    ' ',
  ),
);

/** Calls `visit` with the text of each text file of the workspace folders on disk. */
export async function workspaceTextFiles(visit: (uri: vscode.Uri, text: string) => void, options: { log: Log }): Promise<void> {
  const uris = await vscode.workspace.findFiles('**/*', excludeGlob());
  const visible = await gitVisible(options.log);
  const candidates = uris.filter((uri) => {
    if (uri.scheme !== 'file' || uri.fsPath.endsWith(PROVENANCE_SUFFIX)) return false;
    if (BINARY_EXTENSIONS.has(path.extname(uri.fsPath).slice(1).toLowerCase())) return false;
    return visible(uri);
  });
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const uri = candidates[next++];
      if (!uri) continue;
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      const text = folder ? await readText(uri.fsPath, folder.uri.fsPath) : undefined;
      if (text !== undefined) visit(uri, text);
    }
  };
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
}

/**
 * files.exclude and search.exclude as one glob. findFiles applies files.exclude only when no exclude is
 * given, so both are named here; a pattern holding braces cannot sit inside the group and is left out.
 */
function excludeGlob(): string | undefined {
  const patterns = new Set<string>();
  for (const section of ['files', 'search']) {
    const excludes = vscode.workspace.getConfiguration(section).get<Record<string, unknown>>('exclude', {});
    for (const [pattern, enabled] of Object.entries(excludes)) {
      if (enabled === true && !/[{}]/.test(pattern)) patterns.add(pattern);
    }
  }
  return patterns.size === 0 ? undefined : `{${[...patterns].join(',')}}`;
}

/**
 * Whether a file is one git does not ignore, per workspace folder: `git ls-files --cached --others
 * --exclude-standard` lists exactly those. A folder that is not a repository (or a machine without git)
 * has nothing git ignores.
 */
async function gitVisible(log: Log): Promise<(uri: vscode.Uri) => boolean> {
  const listed = new Map<string, Set<string>>();
  // A repository's own .git/config can name programs git runs (core.fsmonitor): in a workspace the user
  // has not trusted, git is not started at all, as VS Code's own Git extension does not start it.
  if (!vscode.workspace.isTrusted) {
    log.info('The workspace is not trusted: git is not asked which files .gitignore leaves out; the URL search covers every file.');
    return () => true;
  }
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') continue;
    const files = await gitFiles(folder.uri.fsPath);
    if (files) listed.set(folder.uri.fsPath, files);
    else log.info(`${folder.uri.fsPath} is not a git repository (or git is not installed): no .gitignore applies to the URL search.`);
  }
  return (uri) => {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const files = folder ? listed.get(folder.uri.fsPath) : undefined;
    if (!folder || !files) return true;
    return files.has(path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/'));
  };
}

function gitFiles(folder: string): Promise<Set<string> | undefined> {
  return new Promise((resolve) => {
    execFile(
      'git',
      // core.fsmonitor off: even in a trusted repository, listing files should not start a monitor program.
      ['-c', 'core.fsmonitor=false', '-C', folder, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { maxBuffer: 256 * 1024 * 1024, timeout: 30_000, windowsHide: true },
      (error, stdout) => {
        if (error) resolve(undefined);
        else resolve(new Set(stdout.split('\0').filter((line) => line.length > 0)));
      },
    );
  });
}

/**
 * The file as UTF-8 text, or undefined for one too large, unreadable, or binary (a NUL in its start), and
 * for a symbolic link or a file reached through one out of the workspace folder: the edit would change a
 * file outside it.
 */
async function readText(file: string, workspaceFolder: string): Promise<string | undefined> {
  try {
    // A linked folder on the way could lead out as well: the real path must stay in the workspace folder.
    const relative = path.relative(await fs.realpath(workspaceFolder), await fs.realpath(file));
    if (relative.split(path.sep)[0] === '..' || path.isAbsolute(relative)) return undefined;
    // Not through a link, not a pipe or device, and never more than the size the open file reports (a
    // proc-like file says 0 bytes and reads without end): core/regularFile.ts's reading.
    const read = await readRegularFile(file, MAX_TEXT_BYTES);
    if (read.kind !== 'text' || read.text.slice(0, 8192).includes('\0')) return undefined;
    return read.text;
  } catch {
    return undefined;
  }
}
