// Thumbnails of a run's image inputs for the preview, as bytes the extension fetched or read and checked
// itself: the page draws them onto a canvas, so its CSP admits no input's origin and no data: either, and
// the page never fetches a URL on its own. A local file the user uploaded is read from disk when it is still
// there (the hover's rules: a regular file, small enough, whose bytes are an image); otherwise the URL FLORA
// read is fetched under the download rules.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunInput } from '../core/model';
import { isLoadableUrl } from '../core/runs';
import { fitsThumbnail } from '../core/imageSize';
import { sniffMediaType } from '../core/upload/files';
import type { Thumbnails } from '../services/thumbnails';
import { isImageInput, isThumbnailMediaType, type ThumbnailMediaType } from './previewModel';

export type InputThumbnailSource = Pick<Thumbnails, 'forFile' | 'forUrl'>;

/** An image input's checked bytes, as the page receives them. */
export interface InputThumbnail {
  mediaType: ThumbnailMediaType;
  base64: string;
}

/** An image input's thumbnail, or undefined (not an image input, not readable, not an image, too large). */
export async function inputThumbnail(
  input: RunInput,
  thumbnails: InputThumbnailSource,
  extraOrigins: readonly string[],
): Promise<InputThumbnail | undefined> {
  if (!isImageInput(input)) return undefined;
  const file = input.localPath === undefined ? undefined : localFileOf(input.localPath);
  const fromFile = file === undefined ? undefined : thumbnailBytes(await thumbnails.forFile(file));
  if (fromFile !== undefined) return fromFile;
  // Only what a download could fetch: https, or the sandbox's own origin.
  return isLoadableUrl(input.value, extraOrigins) ? thumbnailBytes(await thumbnails.forUrl(input.value)) : undefined;
}

/**
 * The bytes of a Thumbnails data: URI, when they are what it says: base64 of an image whose signature is one
 * the page may decode, of the very type the URI names, of a size it may decode. Checked again here, so the
 * page only ever receives the four image types at a reasonable size, whatever a source handed over.
 */
export function thumbnailBytes(uri: string | undefined): InputThumbnail | undefined {
  const match = uri === undefined ? null : /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})$/.exec(uri);
  const [, named, payload] = match ?? [];
  if (named === undefined || payload === undefined || !isThumbnailMediaType(named)) return undefined;
  const bytes = Buffer.from(payload, 'base64');
  const media = sniffMediaType(bytes.subarray(0, 64));
  if (media?.kind !== 'image' || !media.supported || media.contentType !== named || !fitsThumbnail(bytes)) return undefined;
  return { mediaType: named, base64: bytes.toString('base64') };
}

/**
 * A local input's absolute path: the record keeps it workspace-relative when it was inside a folder
 * ("<folder name>/<path>" with several folders), absolute otherwise. Only a file inside a workspace folder
 * of this window is read: a relative path from another workspace could name another file here.
 */
export function localFileOf(localPath: string): string | undefined {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file');
  const inside = (file: string) =>
    folders.some((folder) => {
      const relative = path.relative(folder.uri.fsPath, file);
      return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
    });
  if (path.isAbsolute(localPath)) return inside(localPath) ? localPath : undefined;
  const [head, ...rest] = localPath.split('/');
  const named = folders.length > 1 ? folders.find((folder) => folder.name === head) : undefined;
  const [first] = folders;
  const file = named ? path.join(named.uri.fsPath, ...rest) : first ? path.join(first.uri.fsPath, localPath) : undefined;
  return file !== undefined && inside(file) ? file : undefined;
}
