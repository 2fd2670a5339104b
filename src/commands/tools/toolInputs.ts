// What a model may pass the run tool beyond what the palette checks: a local file must be a file of this
// workspace (by its real path), never a share (`\\host\…`, `//host/…`, `file://host/…`, which Windows would
// open with the user's credentials) nor a path that leads out through `..` or a link. A person picks files
// in the palette; a model only names them, and a prompt injected into it could name ~/Pictures/passport.jpg.
import { promises as fs } from 'node:fs';
import { realPathInWorkspace } from '../../common/workspacePaths';
import { Uploads } from '../../services/uploads';

/** Why the value of a local input may not be used by a tool call, or undefined when it is a workspace file. */
export async function toolFileProblem(value: string): Promise<string | undefined> {
  const trimmed = value.trim();
  if (!Uploads.isLocalValue(trimmed)) return undefined;
  if (/^(\\\\|\/\/)/.test(trimmed) || /^file:\/\/[^/]/i.test(trimmed)) {
    return 'A network share is not a workspace file. Give a path inside the workspace, such as "assets/shoe.png".';
  }
  const uri = Uploads.toUri(trimmed);
  if (!uri || uri.scheme !== 'file') return 'Give a path inside the workspace, such as "assets/shoe.png".';
  try {
    await fs.access(uri.fsPath);
  } catch {
    return `There is no file "${trimmed}" in the workspace.`;
  }
  if ((await realPathInWorkspace(uri.fsPath)) !== undefined) return undefined;
  return 'Only files inside the workspace can be given to a tool (a person can pick any file from the palette).';
}

/** The key under which prepareInvocation keeps the cost it showed for these exact inputs. */
export function invocationKey(slug: string, inputs: Readonly<Record<string, string>>): string {
  return JSON.stringify([slug, Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}
