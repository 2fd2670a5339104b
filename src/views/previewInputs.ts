// Thumbnails of a run's image inputs for the preview, as bytes the extension fetched or read and checked
// itself: the page draws them onto a canvas, so its CSP admits no input's origin and no data: either, and
// the page never fetches a URL on its own. A local file the user uploaded is read from disk when it is still
// there, inside this window's workspace by its real path (the hover's rules: a regular file, small enough,
// whose bytes are an image of a reasonable size); otherwise the URL FLORA read is fetched under the download
// rules.
import { localInputFile, realPathInWorkspace } from '../common/workspacePaths';
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
  // Read only inside this window's workspace, by real path: a link in it may lead anywhere.
  const named = input.localPath === undefined ? undefined : localInputFile(input.localPath);
  const file = named === undefined ? undefined : await realPathInWorkspace(named);
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
