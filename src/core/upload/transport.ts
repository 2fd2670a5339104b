// What the S3 and ImageKit clients share: one request through the caller's dispatcher (never the global
// fetch), its reply read within a cap, the log line (method, host, path, status: never a query, a header or
// a body, which carry signatures and keys), and the mapping of transport failures and retries to the
// errors a person can act on.
import { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { FloraCancelledError, FloraError, UploadError } from '../errors';
import { DEFAULT_TIMEOUTS, toTransportError } from '../http';
import { message, type Message } from '../messages';
import type { TransportFailure } from '../errors';
import { backoffDelay, sleep as defaultSleep, type RetryPolicy } from '../retry';
import { isLoopbackHost } from '../model';
import type { UploadContext } from './types';

/** A reply's body is read up to this much: S3 and ImageKit replies are small XML or JSON documents. */
const MAX_REPLY_BYTES = 1024 * 1024;
/** Uploading a part takes longer than asking for a run: the reply comes after the whole body. */
const UPLOAD_TIMEOUTS = { headersMs: 120_000, bodyMs: 60_000 };

export const UPLOAD_RETRY: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs'> = {
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
};
/** Tries of each request (a HEAD, a PUT, each part), the first included. */
export const DEFAULT_UPLOAD_ATTEMPTS = 4;

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Outgoing {
  method: 'HEAD' | 'GET' | 'PUT' | 'POST' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: string | Buffer | AsyncIterable<Buffer>;
  /** What the request is, for the log (e.g. "part 2 of 5"). */
  label: string;
  /** Replaces the context's signal (the abort of an abandoned multipart upload must outlive it). */
  signal?: AbortSignal;
}

/** One request, one reply; throws what undici throws (mapped by `transportFailureOf`) or a FloraError from the body. */
export async function send(outgoing: Outgoing, context: UploadContext): Promise<Reply> {
  const signal = outgoing.signal ?? context.signal;
  if (signal?.aborted) throw new FloraCancelledError();
  const started = Date.now();
  const where = `${outgoing.method} ${outgoing.url.host}${outgoing.url.pathname} (${outgoing.label})`;
  try {
    const response = await request(outgoing.url, {
      method: outgoing.method,
      headers: outgoing.headers,
      body: isIterable(outgoing.body) ? Readable.from(outgoing.body, { objectMode: false }) : outgoing.body,
      signal,
      dispatcher: context.dispatcher,
      headersTimeout: context.timeouts?.headersMs ?? Math.max(UPLOAD_TIMEOUTS.headersMs, DEFAULT_TIMEOUTS.headersMs),
      bodyTimeout: context.timeouts?.bodyMs ?? Math.max(UPLOAD_TIMEOUTS.bodyMs, DEFAULT_TIMEOUTS.bodyMs),
      maxRedirections: 0,
    });
    const body = await readBody(response.body);
    context.log?.('info', `${where} → ${response.statusCode} in ${Date.now() - started} ms`);
    return { status: response.statusCode, headers: response.headers, body };
  } catch (error) {
    context.log?.('warn', `${where} failed after ${Date.now() - started} ms: ${describeFailure(error)}`);
    throw error;
  }
}

function isIterable(body: Outgoing['body']): body is AsyncIterable<Buffer> {
  return body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body);
}

async function readBody(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    // The rest is not needed to act on the reply (an error's code comes first), and is not kept.
    if (size > MAX_REPLY_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The error's own name and code, without its message, which can quote a URL with its signature. */
function describeFailure(error: unknown): string {
  if (error instanceof FloraError) return error.message;
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? `${name} ${code}` : name;
}

/** A FloraError a request raised itself (the file changed under its body, a cancel), if it is one. */
export function ownErrorOf(error: unknown): FloraError | undefined {
  if (error instanceof FloraError) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof FloraError) return cause;
  return undefined;
}

/** How a request failed, or a FloraCancelledError to rethrow when it was cancelled. */
export function transportFailureOf(error: unknown, origin: string): TransportFailure | FloraCancelledError {
  const mapped = toTransportError(error, origin);
  return mapped instanceof FloraCancelledError ? mapped : mapped.failure;
}

const NETWORK_SENTENCES: Record<Exclude<TransportFailure, 'other'>, Message> = {
  refused: message('uploadNetworkRefused'),
  reset: message('uploadNetworkReset'),
  timeout: message('uploadNetworkTimeout'),
  dns: message('uploadNetworkDns'),
  tls: message('uploadNetworkTls'),
};

/** The error after the last try failed: no reply (`failure`) or a 5xx/429 (`status`). */
export function networkError(
  origin: string,
  cause: TransportFailure | { status: number },
  attempts: number,
  files: readonly string[],
  error?: unknown,
): UploadError {
  const sentence = typeof cause === 'string' ? networkSentence(cause, error) : message('uploadNetworkStatus', cause.status);
  return new UploadError('network', { text: message('uploadNetwork', origin, sentence, attempts), files, cause: error });
}

function networkSentence(failure: TransportFailure, error: unknown): Message {
  if (failure !== 'other') return NETWORK_SENTENCES[failure];
  // The system's own name for the failure (a code such as EHOSTUNREACH), never its message, which may quote a URL.
  const code = (error as { code?: unknown } | null)?.code;
  return message('uploadNetworkOther', typeof code === 'string' ? code : error instanceof Error ? error.name : typeof error);
}

/** The wait before try number `attempt + 1`, through the context's sleep (tests record it). */
export async function waitBeforeRetry(attempt: number, context: UploadContext, retryAfterMs?: number): Promise<void> {
  const delay = backoffDelay(attempt - 1, UPLOAD_RETRY, retryAfterMs);
  await (context.sleep ?? defaultSleep)(delay, context.signal);
}

export function headerValue(headers: Reply['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The endpoint override: https, or http on loopback (the sandbox); never a user name or password. */
export function parseEndpoint(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text.trim());
  } catch {
    url = undefined;
  }
  const allowed = url !== undefined && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)));
  if (!url || !allowed || url.username || url.password || url.search || url.hash) {
    const error = new UploadError('refused', { text: message('uploadEndpointInvalid', text) });
    error.remedy = { kind: 'openSetting', setting: 'flora.upload.endpoint' };
    throw error;
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}
