// The local file behind an image or video input: what it is (from its first bytes, never its name), its
// SHA-256 (the object's key, so a file is stored once) and its size, read the careful way.
//
// The file is opened without following links and without waiting (O_NOFOLLOW | O_NONBLOCK, as in
// core/regularFile.ts): a named pipe or a link to /dev/zero would otherwise hang or read forever. Only a
// regular file is read, from the handle that was checked, so nothing can be swapped in between.
//
// The upload opens the file again later, by its path: it must be the same file (device, inode, size and
// modification time, from fstat) and its bytes must hash to the same SHA-256 as they are sent, or other
// bytes would be stored under this hash's key (and reused as this file's for as long as the key lives).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FloraCancelledError, UploadError } from '../errors';
import { message } from '../messages';
import type { FileIdentity, MediaInputType, UploadFile } from './types';

/**
 * The largest file uploaded, whatever the settings say: S3's own limit for a single PUT, and far more than
 * any image or video a technique takes.
 */
export const MAX_UPLOAD_BYTES = 5 * 1024 ** 3;

/** Linux and macOS define both; where one is missing the open is plain, the fstat check still holds. */
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

const CHUNK_BYTES = 1024 * 1024;
/** Enough of the head for every signature below (an ftyp box's compatible brands included). */
const HEAD_BYTES = 64;

export type SniffedMedia =
  | { kind: 'image' | 'video'; format: string; supported: true; contentType: string; extension: string }
  | { kind: 'image' | 'video'; format: string; supported: false };

/** ISO base media brands of MP4 video (not audio-only M4A, not HEIF images). */
const MP4_BRANDS = new Set([
  'isom',
  'iso2',
  'iso3',
  'iso4',
  'iso5',
  'iso6',
  'iso7',
  'iso8',
  'iso9',
  'mp41',
  'mp42',
  'avc1',
  'M4V ',
  'M4VH',
  'M4VP',
  'dash',
  'f4v ',
  'mmp4',
  'MSNV',
]);
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
const AUDIO_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ']);

/** What a file's first bytes say it is, or undefined when they match no image or video signature known here. */
export function sniffMediaType(head: Uint8Array): SniffedMedia | undefined {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const ascii = (start: number, end: number) => bytes.subarray(start, end).toString('latin1');
  const starts = (...values: number[]) => values.every((value, index) => bytes[index] === value);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return supported('image', 'PNG', 'image/png', 'png');
  if (starts(0xff, 0xd8, 0xff)) return supported('image', 'JPEG', 'image/jpeg', 'jpg');
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return supported('image', 'GIF', 'image/gif', 'gif');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return supported('image', 'WebP', 'image/webp', 'webp');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return { kind: 'video', format: 'AVI', supported: false };
  if (ascii(4, 8) === 'ftyp' && bytes.length >= 12) return sniffIsoMedia(bytes);
  if (starts(0x1a, 0x45, 0xdf, 0xa3)) {
    // EBML: the DocType element (0x42 0x82) says WebM or Matroska.
    const head = ascii(4, Math.min(bytes.length, HEAD_BYTES));
    if (head.includes('webm')) return supported('video', 'WebM', 'video/webm', 'webm');
    return { kind: 'video', format: 'Matroska', supported: false };
  }
  if (ascii(0, 2) === 'BM' && bytes.length >= 26) return { kind: 'image', format: 'BMP', supported: false };
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return { kind: 'image', format: 'TIFF', supported: false };
  return undefined;
}

function sniffIsoMedia(bytes: Buffer): SniffedMedia | undefined {
  const major = bytes.subarray(8, 12).toString('latin1');
  const boxSize = bytes.readUInt32BE(0);
  const brands = [major];
  for (let offset = 16; offset + 4 <= Math.min(bytes.length, boxSize); offset += 4) {
    brands.push(bytes.subarray(offset, offset + 4).toString('latin1'));
  }
  if (HEIF_BRANDS.has(major)) return { kind: 'image', format: 'HEIC', supported: false };
  if (AVIF_BRANDS.has(major)) return { kind: 'image', format: 'AVIF', supported: false };
  if (AUDIO_BRANDS.has(major)) return undefined;
  if (major === 'qt  ') return supported('video', 'MOV', 'video/quicktime', 'mov');
  if (brands.some((brand) => MP4_BRANDS.has(brand))) return supported('video', 'MP4', 'video/mp4', 'mp4');
  if (major.startsWith('3g')) return { kind: 'video', format: '3GP', supported: false };
  return undefined;
}

function supported(kind: 'image' | 'video', format: string, contentType: string, extension: string): SniffedMedia {
  return { kind, format, supported: true, contentType, extension };
}

/**
 * Reads the file once: its type from the first bytes (which must suit `expected`), its SHA-256 and size.
 * Throws UploadError: 'unreadable' (missing, not a regular file, a link), 'tooLarge', 'unsupportedType'.
 */
export async function describeLocalFile(file: string, expected: MediaInputType, signal?: AbortSignal): Promise<UploadFile> {
  const { handle, identity } = await openChecked(file);
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(CHUNK_BYTES);
    let head: Buffer | undefined;
    let size = 0;
    for (;;) {
      if (signal?.aborted) throw new FloraCancelledError();
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      if (head === undefined || head.length < HEAD_BYTES) head = Buffer.concat([head ?? Buffer.alloc(0), chunk]).subarray(0, HEAD_BYTES);
      hash.update(chunk);
      size += bytesRead;
      // It can grow while it is read; the cap holds for what is read, not for what stat said.
      if (size > MAX_UPLOAD_BYTES) throw tooLarge(file, size);
      // The type is known from the first chunk: a file that is not one is refused before it is all read.
      if (size === bytesRead) mediaTypeFor(file, head, expected);
    }
    const media = mediaTypeFor(file, head ?? Buffer.alloc(0), expected);
    // Written to while it was read: the hash would be of neither version.
    const after = identityOf(await handle.stat({ bigint: true }));
    if (!sameFile(identity, after) || after.size !== size) throw fileChanged(file);
    return { path: file, sha256: hash.digest('hex'), size, contentType: media.contentType, extension: media.extension, identity: after };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function mediaTypeFor(file: string, head: Buffer, expected: MediaInputType): { contentType: string; extension: string } {
  const name = path.basename(file);
  const media = sniffMediaType(head);
  const wanted = expected === 'imageUrl' ? 'image' : 'video';
  if (media === undefined) {
    throw new UploadError('unsupportedType', {
      text: expected === 'imageUrl' ? message('uploadTypeUnknownImage', name) : message('uploadTypeUnknownVideo', name),
      files: [file],
    });
  }
  if (media.kind !== wanted) {
    throw new UploadError('unsupportedType', {
      text:
        media.kind === 'video'
          ? message('uploadTypeVideoNotImage', name, media.format)
          : message('uploadTypeImageNotVideo', name, media.format),
      files: [file],
    });
  }
  if (!media.supported) {
    throw new UploadError('unsupportedType', {
      text:
        media.kind === 'image'
          ? message('uploadTypeImageFormat', name, media.format)
          : message('uploadTypeVideoFormat', name, media.format),
      files: [file],
    });
  }
  return { contentType: media.contentType, extension: media.extension };
}

function tooLarge(file: string, size: number): UploadError {
  return new UploadError('tooLarge', {
    text: message('uploadFileTooLarge', path.basename(file), Math.ceil(size / 1024 ** 2), MAX_UPLOAD_BYTES / 1024 ** 3),
    files: [file],
  });
}

/**
 * Opens a file to read for an upload: a regular file only, not through a link, within the cap, and the very
 * file describeLocalFile read (`expected`, its identity then): one renamed over it, or the same one written
 * since, is refused as changed. The caller closes the handle.
 */
export async function openUploadFile(file: string, expected: FileIdentity): Promise<fs.promises.FileHandle> {
  const { handle, identity } = await openChecked(file);
  if (sameFile(identity, expected)) return handle;
  await handle.close().catch(() => undefined);
  throw fileChanged(file);
}

/** A regular file opened without following a link, within the cap, with its identity from the handle's fstat. */
async function openChecked(file: string): Promise<{ handle: fs.promises.FileHandle; identity: FileIdentity }> {
  const name = path.basename(file);
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new UploadError('notFound', { text: message('uploadFileMissing', name), files: [file], cause: error });
    // O_NOFOLLOW on a link: Linux says ELOOP, FreeBSD EMLINK.
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new UploadError('unreadable', { text: message('uploadFileNotRegular', name), files: [file], cause: error });
    }
    throw new UploadError('unreadable', { text: message('uploadFileUnreadable', name), files: [file], cause: error });
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) throw new UploadError('unreadable', { text: message('uploadFileNotRegular', name), files: [file] });
    if (stats.size > BigInt(MAX_UPLOAD_BYTES)) throw tooLarge(file, Number(stats.size));
    return { handle, identity: identityOf(stats) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The bytes [start, start + length) of an open file, in chunks, for a request body; counts them through
 * `onBytes`. Throws 'unreadable' when the file ends early (it shrank since it was described).
 */
export async function* readRange(
  handle: fs.promises.FileHandle,
  file: string,
  start: number,
  length: number,
  onBytes?: (count: number) => void,
): AsyncGenerator<Buffer> {
  let offset = start;
  const end = start + length;
  while (offset < end) {
    const buffer = Buffer.alloc(Math.min(CHUNK_BYTES, end - offset));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    if (bytesRead === 0) throw fileChanged(file);
    offset += bytesRead;
    onBytes?.(bytesRead);
    yield buffer.subarray(0, bytesRead);
  }
}

function identityOf(stats: fs.BigIntStats): FileIdentity {
  return { device: String(stats.dev), inode: String(stats.ino), size: Number(stats.size), modifiedNs: String(stats.mtimeNs) };
}

function sameFile(left: FileIdentity, right: FileIdentity): boolean {
  return left.device === right.device && left.inode === right.inode && left.size === right.size && left.modifiedNs === right.modifiedNs;
}

/**
 * The whole file as read from `handle`, in chunks, hashed as it is read. The last chunk is held back until
 * the hash is known to be `file.sha256`: bytes that changed since the file was described are never sent
 * whole (the request ends unfinished, so no store keeps them). Counts what it hands on through `onBytes`.
 */
export async function* verifiedFileBody(
  handle: fs.promises.FileHandle,
  file: UploadFile,
  onBytes?: (count: number) => void,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let held: Buffer | undefined;
  for await (const chunk of readRange(handle, file.path, 0, file.size)) {
    hash.update(chunk);
    if (held !== undefined) {
      onBytes?.(held.length);
      yield held;
    }
    held = chunk;
  }
  if (hash.digest('hex') !== file.sha256) throw fileChanged(file.path);
  if (held !== undefined) {
    onBytes?.(held.length);
    yield held;
  }
}

export function fileChanged(file: string): UploadError {
  return new UploadError('unreadable', { text: message('uploadFileChanged', path.basename(file)), files: [file] });
}

/** A key prefix as a folder: no leading "/", segments trimmed, no empty, "." or ".." ones, and a "/" at the end unless empty. */
export function normalisePrefix(prefix: string): string {
  const segments = prefix
    .split('/')
    .map((segment) => segment.trim())
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
  return segments.length === 0 ? '' : `${segments.join('/')}/`;
}

/** The object's key: content-addressed, so the same bytes always land on the same key and are stored once. */
export function objectKeyFor(prefix: string, file: Pick<UploadFile, 'sha256' | 'extension'>): string {
  return `${normalisePrefix(prefix)}${file.sha256}.${file.extension}`;
}
