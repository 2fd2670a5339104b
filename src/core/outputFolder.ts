// Where downloads may go. flora.outputFolder can come from a workspace someone cloned, so a workspace's
// value (and the default) may only name a folder inside the workspace folder, checked through real paths so
// a symbolic link cannot lead out; only the user's own setting may name an absolute folder. Apart from
// download.ts because settings and the Download command need it at activation, the download code is not.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

import { DownloadRefusedError } from './errors';
import { message } from './messages';

export const DEFAULT_OUTPUT_FOLDER = 'flora-outputs';

export interface OutputFolderSetting {
  /** flora.outputFolder as written. */
  value: string;
  /**
   * Whether the value is the user's own (their global User setting). A workspace's value, or the default, may
   * only name a folder inside the workspace folder.
   */
  fromUser: boolean;
}

function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === '' || (relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative));
}

/**
 * The real path a folder would have: the real path of its deepest existing ancestor (symbolic links resolved)
 * with the missing rest appended. A dangling symbolic link on the way has no real path: undefined.
 */
async function realPathOfFolder(folder: string): Promise<string | undefined> {
  const missing: string[] = [];
  let existing = path.resolve(folder);
  for (;;) {
    try {
      return path.join(await fs.realpath(existing), ...missing.reverse());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const dangling = await fs.lstat(existing).then(
        () => true,
        () => false,
      );
      if (dangling) return undefined;
      const parent = path.dirname(existing);
      if (parent === existing) throw error;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}

/**
 * Where downloads go, as a real path: a relative flora.outputFolder inside the workspace folder (checked after
 * resolving symbolic links, whoever set it); an absolute one only from the user's own settings. Undefined
 * when there is no workspace folder and no absolute folder of the user's: the caller asks the user.
 */
export async function resolveOutputFolder(setting: OutputFolderSetting, workspaceFolder: string | undefined): Promise<string | undefined> {
  const value = setting.value.trim() || DEFAULT_OUTPUT_FOLDER;
  // Either platform's absolute forms, and a drive-relative C:folder, are not "relative to the workspace".
  const absolute = path.isAbsolute(value) || path.win32.isAbsolute(value) || /^[A-Za-z]:/.test(value);
  if (absolute) {
    if (!setting.fromUser) throw new DownloadRefusedError('folder', message('outputFolderWorkspaceAbsolute', value));
    const real = await realPathOfFolder(value);
    if (real === undefined) throw new DownloadRefusedError('folder', message('outputFolderOutsideWorkspace', value));
    return real;
  }
  if (workspaceFolder === undefined) return undefined;
  const root = await fs.realpath(workspaceFolder);
  const real = await realPathOfFolder(path.resolve(root, value));
  if (real === undefined || !isInside(root, real)) {
    throw new DownloadRefusedError('folder', message('outputFolderOutsideWorkspace', value));
  }
  return real;
}
