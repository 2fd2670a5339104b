// Saving an output file. The URL, its redirects, its headers and its body all come from the server, so each
// step is checked: every hop passes the preview's URL rule (https, or the sandbox's own origin) and the
// address policy (the dispatcher from createDownloadDispatcher checks the address actually connected to);
// the file goes only into a folder resolved through its real path (outputFolder.ts), under a sanitised name
// with an extension chosen by content type, streamed to a temporary file with a size cap, and never over an
// existing file. Required on first use, not at activation. One piece: every check guards the same stream,
// and splitting them would let one step trust what another has not yet checked.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Dispatcher } from 'undici';

import { refusedHostLiteral } from './addresses';
import { DownloadRefusedError, FloraCancelledError, FloraError } from './errors';
import { DEFAULT_TIMEOUTS, toTransportError } from './http';
import { message } from './messages';
import { isLoadableUrl } from './runs';

/**
 * The only extensions a download gets, by the reply's Content-Type. Never from the URL: a server could name
 * an image `x.html` or `x.exe`, and the editor would open the file by its extension. A Map, so that a content
 * type such as `constructor` finds nothing.
 */
const EXTENSIONS_BY_TYPE: ReadonlyMap<string, string> = new Map([
  ['image/png', '.png'],
  ['image/jpeg', '.jpg'],
  ['image/webp', '.webp'],
  ['image/gif', '.gif'],
  ['video/mp4', '.mp4'],
  ['video/webm', '.webm'],
  ['video/quicktime', '.mov'],
  ['text/plain', '.txt'],
]);

/**
 * Any other content type is still saved (the user paid for the result), as `.bin`: no editor or shell runs
 * or renders a file by that extension, and the user can rename it once they know what it is.
 */
const UNKNOWN_TYPE_EXTENSION = '.bin';

const MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024;
const MAX_REDIRECTS = 3;
/**
 * How long the body may stay silent between two chunks: longer than the API's (DEFAULT_TIMEOUTS.bodyMs),
 * because a media host may pause longer in the middle of a large video than FLORA does in a small JSON reply.
 */
const BODY_IDLE_TIMEOUT_MS = 60_000;
const MAX_STEM_LENGTH = 100;
/** name.png, name-2.png, … name-1000.png: past that, something is wrong and the user should look. */
const MAX_NAME_ATTEMPTS = 1000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** "1 GiB", "512 MiB", "64 KiB" or "100 bytes": the cap as a person reads it. */
function formatByteCount(bytes: number): string {
  const units: Array<[number, string]> = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) return `${Math.round((bytes / size) * 10) / 10} ${unit}`;
  }
  return `${bytes} bytes`;
}

function tooLarge(maxBytes: number): DownloadRefusedError {
  return new DownloadRefusedError('tooLarge', message('downloadTooLarge', formatByteCount(maxBytes)));
}

/** The origin of a URL for a message: never the whole URL, whose path and query the server chose. */
function shownOrigin(url: URL): string {
  return url.origin === 'null' ? url.protocol : url.origin;
}

/**
 * Checks one hop before it is requested: the preview's rule (https, or exactly an allowed origin; no user name
 * or password), and, outside the allowed origins, no IP literal of a refused address and no localhost name.
 * The dispatcher checks resolved names too; these two are checked here as well because through a proxy the
 * dispatcher never sees the address.
 */
function checkHop(url: URL, allowedOrigins: readonly string[], isRedirect: boolean): void {
  if (!isLoadableUrl(url.href, allowedOrigins)) {
    throw isRedirect
      ? new DownloadRefusedError('redirect', message('downloadRedirectNotLoadable', shownOrigin(url)))
      : new DownloadRefusedError('url', message('downloadNotLoadable', shownOrigin(url)));
  }
  if (allowedOrigins.includes(url.origin)) return;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (refusedHostLiteral(hostname)) {
    throw new DownloadRefusedError('address', message('downloadAddressRefused', hostname));
  }
}

/** The output URL in its normalised form, or a DownloadRefusedError saying why it may not be downloaded. */
export function checkDownloadUrl(text: string, allowedOrigins: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DownloadRefusedError('url', message('downloadNotLoadable', '?'));
  }
  checkHop(url, allowedOrigins, false);
  return url;
}

/**
 * A file name stem from server-chosen text (a slug, a runId, a URL's last segment): letters, digits, `.`, `_`
 * and `-` only, so no path separator; no leading dot or dash (no hidden file, no option to a shell tool);
 * no trailing dot (Windows drops it); not a Windows device name; at most 100 characters.
 */
export function sanitiseFileStem(text: string): string {
  const cleaned = text
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_STEM_LENGTH)
    .replace(/\.+$/, '');
  if (cleaned.length === 0) return 'flora-output';
  return /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** The extension for a Content-Type header: from the allow-list, else UNKNOWN_TYPE_EXTENSION. */
export function extensionForContentType(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  const type = (value ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return EXTENSIONS_BY_TYPE.get(type) ?? UNKNOWN_TYPE_EXTENSION;
}

export interface DownloadRequest {
  url: string;
  /** From createDownloadDispatcher (it enforces the address policy on every connection). */
  dispatcher: Dispatcher;
  /** The sandbox's own origin(s), as the preview allows them; every other hop must be https. */
  allowedOrigins: readonly string[];
  /** An absolute folder from resolveOutputFolder (outputFolder.ts) or one the user picked; created when missing. */
  folder: string;
  /** The file name without extension; sanitised again here. */
  stem: string;
  maxBytes?: number;
  maxRedirects?: number;
  signal?: AbortSignal;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

export interface DownloadResult {
  /** The absolute path of the new file. */
  file: string;
  bytes: number;
  contentType: string;
  /** The URL the file came from, after redirects. */
  url: string;
}

/** Requests each hop itself, following at most maxRedirects redirects, each checked like the first URL. */
async function requestFollowingRedirects(request: DownloadRequest, first: URL): Promise<{ url: URL; response: Dispatcher.ResponseData }> {
  const maxRedirects = request.maxRedirects ?? MAX_REDIRECTS;
  let url = first;
  for (let redirects = 0; ; redirects++) {
    const hop = url;
    const response = await overNetwork(hop.origin, request.signal, () =>
      request.dispatcher.request({
        origin: hop.origin,
        path: `${hop.pathname}${hop.search}`,
        method: 'GET',
        signal: request.signal,
        // undici must not follow redirects: each hop is checked here before it is requested.
        maxRedirections: 0,
        headersTimeout: request.headersTimeoutMs ?? DEFAULT_TIMEOUTS.headersMs,
        bodyTimeout: request.bodyTimeoutMs ?? BODY_IDLE_TIMEOUT_MS,
      }),
    );
    const location = response.headers.location;
    if (!REDIRECT_STATUSES.has(response.statusCode) || location === undefined) return { url, response };
    discard(response.body);
    if (redirects >= maxRedirects) throw new DownloadRefusedError('redirect', message('downloadTooManyRedirects', maxRedirects));
    let next: URL;
    try {
      next = new URL(Array.isArray(location) ? (location[0] ?? '') : location, url);
    } catch {
      throw new DownloadRefusedError('redirect', message('downloadRedirectNotLoadable', '?'));
    }
    checkHop(next, request.allowedOrigins, true);
    url = next;
  }
}

/** Stops reading a reply body; its abort error is expected, not a failure of anything. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function findRefusal(error: unknown): DownloadRefusedError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof DownloadRefusedError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Runs one network step (a request, reading the next chunk of a body). Its failures become the errors the
 * user can act on: the refusal the dispatcher raised (undici may wrap it), a cancellation, or a transport
 * error naming the origin. Only network steps go through here: a file-system error is the user's to read
 * as it is.
 */
async function overNetwork<T>(origin: string, signal: AbortSignal | undefined, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof FloraError) throw error;
    const refusal = findRefusal(error);
    if (refusal) throw refusal;
    if (signal?.aborted) throw new FloraCancelledError();
    throw toTransportError(error, origin);
  }
}

/** Streams the body into the open file and returns its size; refuses it as soon as it grows past maxBytes. */
async function writeBody(
  response: Dispatcher.ResponseData,
  handle: fs.FileHandle,
  maxBytes: number,
  origin: string,
  signal: AbortSignal | undefined,
): Promise<number> {
  const chunks: AsyncIterator<unknown> = response.body[Symbol.asyncIterator]();
  let bytes = 0;
  for (;;) {
    const next = await overNetwork(origin, signal, () => chunks.next());
    if (next.done === true) return bytes;
    const buffer = next.value as Buffer;
    bytes += buffer.length;
    if (bytes > maxBytes) throw tooLarge(maxBytes);
    await handle.write(buffer);
  }
}

/** Moves the finished temporary file to stem.ext, stem-2.ext, …: the first name nobody has, never replacing one. */
async function placeWithoutOverwriting(temporary: string, folder: string, stem: string, extension: string): Promise<string> {
  for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
    const candidate = path.join(folder, `${stem}${attempt === 1 ? '' : `-${attempt}`}${extension}`);
    try {
      // link() fails if the name exists, so taking the name and filling it are one step.
      await fs.link(temporary, candidate);
      await fs.unlink(temporary);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
    }
    // A file system without hard links: take the name with an exclusive create, then rename over our own file.
    try {
      await (await fs.open(candidate, 'wx')).close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await fs.rename(temporary, candidate);
    return candidate;
  }
  const fileName = stem + extension;
  throw new DownloadRefusedError('name', message('downloadNoFreeName', fileName, folder));
}

/**
 * Downloads an output into `folder`: redirects followed and checked here, Content-Length checked against the
 * cap before the body is read and the size again while it streams to a temporary file in the same folder,
 * which is then given a free name. On any failure, nothing is left behind.
 */
export async function downloadToFolder(request: DownloadRequest): Promise<DownloadResult> {
  const maxBytes = request.maxBytes ?? MAX_DOWNLOAD_BYTES;
  const stem = sanitiseFileStem(request.stem);
  const { url, response } = await requestFollowingRedirects(request, checkDownloadUrl(request.url, request.allowedOrigins));
  let temporary: string | undefined;
  try {
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new DownloadRefusedError('status', message('downloadHttpStatus', response.statusCode), response.statusCode);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
    await fs.mkdir(request.folder, { recursive: true });
    // The folder was checked through its real path; if it became a symbolic link since, write nothing.
    if ((await fs.realpath(request.folder)) !== path.resolve(request.folder)) {
      throw new DownloadRefusedError('folder', message('outputFolderOutsideWorkspace', request.folder));
    }
    temporary = path.join(request.folder, `.${stem}.${randomBytes(6).toString('hex')}.part`);
    const handle = await fs.open(temporary, 'wx');
    let bytes: number;
    try {
      bytes = await writeBody(response, handle, maxBytes, url.origin, request.signal);
    } finally {
      await handle.close();
    }
    if (request.signal?.aborted) throw new FloraCancelledError();
    const contentType = response.headers['content-type'];
    const file = await placeWithoutOverwriting(temporary, request.folder, stem, extensionForContentType(contentType));
    return { file, bytes, contentType: String(contentType ?? ''), url: url.href };
  } catch (error) {
    // Whatever failed, the body is not read further and the temporary file (never given a name) goes.
    discard(response.body);
    if (temporary !== undefined) await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}
