// Where a run's local input lives, and whether a file is inside this window's workspace. A record keeps a
// local input's path workspace-relative when it was inside a folder ("<folder name>/<path>" with several
// folders), absolute otherwise; the record may come from another window with other folders. Naming a file
// (a provenance's input) needs only its path; reading one (a thumbnail, a tool's upload) needs its real path
// inside a folder's real path, since a link inside the workspace can lead anywhere.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

function fileFolders(): readonly vscode.WorkspaceFolder[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file');
}

/** Whether `file` is below `root` (not the root itself), as paths. */
function isBelow(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative);
}

/**
 * A local input's absolute path inside a workspace folder of this window, as the record names it, or
 * undefined when it names none: a relative path from another workspace could name another file here.
 */
export function localInputFile(localPath: string): string | undefined {
  const folders = fileFolders();
  const inside = (file: string) => folders.some((folder) => isBelow(folder.uri.fsPath, file));
  if (path.isAbsolute(localPath)) return inside(localPath) ? localPath : undefined;
  const [head, ...rest] = localPath.split('/');
  const named = folders.length > 1 ? folders.find((folder) => folder.name === head) : undefined;
  const [first] = folders;
  const file = named ? path.join(named.uri.fsPath, ...rest) : first ? path.join(first.uri.fsPath, localPath) : undefined;
  return file !== undefined && inside(file) ? file : undefined;
}

/**
 * The real path of `file` when it is inside a workspace folder by real paths (no link on the way leads out),
 * else undefined (also when it does not exist).
 */
export async function realPathInWorkspace(file: string): Promise<string | undefined> {
  const real = await fs.realpath(file).catch(() => undefined);
  if (real === undefined) return undefined;
  for (const folder of fileFolders()) {
    const root = await fs.realpath(folder.uri.fsPath).catch(() => undefined);
    if (root !== undefined && isBelow(root, real)) return real;
  }
  return undefined;
}

/**
 * Whether the file read from an open handle (its device and inode, from fstat) is, at this moment, the
 * file `file` names inside the workspace by real path. A check of the path before it is opened leaves a
 * gap: a folder on the way swapped for a link between the check and the open leads the read out of the
 * workspace. Checked after the read, the inode read must be the one inside.
 */
export async function isWorkspaceFileRead(file: string, read: { device: string; inode: string }): Promise<boolean> {
  const real = await realPathInWorkspace(file);
  if (real === undefined) return false;
  const stats = await fs.lstat(real, { bigint: true }).catch(() => undefined);
  return stats !== undefined && stats.isFile() && String(stats.dev) === read.device && String(stats.ino) === read.inode;
}
