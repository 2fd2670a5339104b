// Uploading to ImageKit through its documented upload API (POST multipart/form-data to
// https://upload.imagekit.io/api/v1/files/upload, Basic auth with the private key), sent through the
// caller's dispatcher. The file is named after its SHA-256 with useUniqueFileName=false, so the same bytes
// keep the same path. FLORA reads it from the reply's `url`, which must be on ik.imagekit.io.
//
// ImageKit checks nothing about the bytes, so the client does: the file sent is the one that was hashed
// (its identity), and its bytes are hashed again as they stream; the last of them is sent only once the
// hash matches, so a file changed since it was described never reaches ImageKit whole under its name.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as z from 'zod/mini';
import { FloraCancelledError, UploadError } from '../errors';
import { normaliseMediaUrl } from '../inputs';
import { message } from '../messages';
import { oneLine, truncate } from '../text';
import { MAX_UPLOAD_BYTES, openUploadFile, verifiedFileBody } from './files';
import {
  DEFAULT_UPLOAD_ATTEMPTS,
  networkError,
  ownErrorOf,
  parseEndpoint,
  send,
  transportFailureOf,
  waitBeforeRetry,
  type Reply,
} from './transport';
import type { ImageKitTarget, UploadContext, UploadFile, Uploaded } from './types';

export const IMAGEKIT_UPLOAD_ORIGIN = 'https://upload.imagekit.io';
const UPLOAD_PATH = '/api/v1/files/upload';
/** The host ImageKit serves files from, and the one FLORA accepts. */
const IMAGEKIT_MEDIA_HOST = 'ik.imagekit.io';

/** What is used of ImageKit's reply; every other field (and an odd type in one of them) is let be. */
const replySchema = z.object({
  url: z.string(),
  filePath: z.optional(z.unknown()),
});

export interface ImageKitUploadOptions {
  /** Tries, the first included; default 4. */
  attempts?: number;
}

/** The ImageKit folder as its API takes it: "/" plus the segments, without empty, "." or ".." ones. */
export function normaliseFolder(folder: string): string {
  const segments = folder
    // Control characters and quotes would end the form field early: they are dropped, not sent.
    .replace(/["\p{Cc}]/gu, '')
    .split('/')
    .map((segment) => segment.trim())
    .filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
  return `/${segments.join('/')}`;
}

export async function uploadToImageKit(
  target: ImageKitTarget,
  privateKey: string,
  file: UploadFile,
  context: UploadContext,
  options: ImageKitUploadOptions = {},
): Promise<Uploaded> {
  const name = path.basename(file.path);
  const files = [file.path];
  if (file.size > MAX_UPLOAD_BYTES) throw new UploadError('tooLarge', { text: message('uploadImageKitRefused', name, 413), files });
  if (!privateKey.trim()) throw new UploadError('credentials', { text: message('uploadImageKitKeyRejected'), files });
  const endpoint = endpointOf(target);
  const url = new URL(`${endpoint.origin}${endpoint.pathname}${UPLOAD_PATH}`);
  const fileName = `${file.sha256}.${file.extension}`;
  const folder = normaliseFolder(target.folder);
  const fields: Array<[string, string]> = [
    ['fileName', fileName],
    ['folder', folder],
    ['useUniqueFileName', 'false'],
  ];
  const boundary = `----flora-vscode-${randomBytes(16).toString('hex')}`;
  const preamble = Buffer.from(
    fields.map(([field, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${value}\r\n`).join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${file.contentType}\r\n\r\n`,
    'utf8',
  );
  const epilogue = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  const headers = {
    authorization: `Basic ${Buffer.from(`${privateKey}:`, 'utf8').toString('base64')}`,
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'content-length': String(preamble.length + file.size + epilogue.length),
    accept: 'application/json',
  };
  const attempts = Math.max(1, options.attempts ?? DEFAULT_UPLOAD_ATTEMPTS);
  let reply: Reply | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      reply = await send(
        { method: 'POST', url, headers, body: formBody(file, preamble, epilogue, context), label: 'ImageKit upload' },
        context,
      );
    } catch (error) {
      const own = ownErrorOf(error);
      if (own) throw own;
      const failure = transportFailureOf(error, url.origin);
      if (failure instanceof FloraCancelledError) throw failure;
      if (attempt >= attempts) throw networkError(url.origin, failure, attempt, files, error);
      await waitBeforeRetry(attempt, context);
      continue;
    }
    if (reply.status >= 500 || reply.status === 429) {
      if (attempt >= attempts) throw networkError(url.origin, { status: reply.status }, attempt, files);
      await waitBeforeRetry(attempt, context);
      continue;
    }
    break;
  }
  if (reply.status === 401 || reply.status === 403)
    throw new UploadError('credentials', { text: message('uploadImageKitKeyRejected'), files });
  if (reply.status < 200 || reply.status >= 300) {
    context.log?.('warn', `ImageKit refused ${name} with HTTP ${reply.status}: ${quote(reply.body)}`);
    throw new UploadError(reply.status === 413 ? 'tooLarge' : 'refused', {
      text: message('uploadImageKitRefused', name, reply.status),
      files,
    });
  }
  const parsed = replySchema.safeParse(parseJson(reply.body));
  if (!parsed.success) {
    context.log?.('warn', `ImageKit's reply has no usable url: ${quote(reply.body)}`);
    throw new UploadError('refused', { text: message('uploadReplyUnreadable', url.origin), files });
  }
  const link = checkLink(parsed.data.url, target.endpoint ? endpoint.origin : undefined, files);
  context.onProgress?.(file.size, file.size);
  // The reply's own path, as people may read it: without control or bidi characters.
  const key = typeof parsed.data.filePath === 'string' ? oneLine(parsed.data.filePath) : `${folder === '/' ? '' : folder}/${fileName}`;
  return { url: link, key, expiresAt: undefined, uploaded: true };
}

/** The reply's URL as FLORA will receive it, if it is on ImageKit's media host (or the override's origin). */
function checkLink(url: string, overrideOrigin: string | undefined, files: readonly string[]): string {
  const verdict = normaliseMediaUrl(url, { extraOrigins: overrideOrigin ? [overrideOrigin] : [] });
  if (verdict.problem) throw new UploadError('refused', { text: message('uploadLinkRefused', verdict.problem), files });
  const parsed = new URL(verdict.url);
  const onImageKit = parsed.protocol === 'https:' && parsed.hostname === IMAGEKIT_MEDIA_HOST;
  if (!onImageKit && parsed.origin !== overrideOrigin) {
    throw new UploadError('refused', { text: message('uploadLinkRefused', message('urlHost', parsed.hostname)), files });
  }
  return verdict.url;
}

async function* formBody(file: UploadFile, preamble: Buffer, epilogue: Buffer, context: UploadContext): AsyncGenerator<Buffer> {
  yield preamble;
  const handle = await openUploadFile(file.path, file.identity);
  try {
    let sent = 0;
    yield* verifiedFileBody(handle, file, (count) => {
      sent += count;
      // The last byte is counted once the reply confirms it.
      if (sent < file.size) context.onProgress?.(sent, file.size);
    });
  } finally {
    await handle.close().catch(() => undefined);
  }
  yield epilogue;
}

function endpointOf(target: ImageKitTarget): URL {
  return target.endpoint ? parseEndpoint(target.endpoint) : new URL(IMAGEKIT_UPLOAD_ORIGIN);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A server's text for the log: one line without control or bidi characters, shortened, quoted. */
function quote(text: string): string {
  const flat = oneLine(text).replace(/\s+/g, ' ').trim();
  return JSON.stringify(truncate(flat, 200));
}
