// The FLORA REST client (flora-api.md, "Endpoints"). It takes its base URL, dispatcher and key getter
// from outside, validates every reply, retries what is safe to retry, and never lets the key leave the
// base URL's origin.
import { request, type Dispatcher } from 'undici';
import {
  FloraApiError,
  FloraCancelledError,
  FloraError,
  FloraProtocolError,
  FloraRateLimitError,
  FloraServerError,
  messageForApiError,
  retryAfterOf,
  type Subject,
} from './errors';
import { message } from './messages';
import { DEFAULT_TIMEOUTS, parseBaseUrl, parseRetryAfter, toTransportError, type Timeouts } from './http';
import { isValidSlug, type Logger, type RunInput } from './model';
import { backoffDelay, DEFAULT_RETRY_POLICY, sleep, type RetryPolicy } from './retry';
import { readCreateRunReply, readRunStatusReply, type CreateRunReply, type Reading, type RunStatusReply } from './runReplies';
import { errorBodySchema, readTechniqueDetails, type TechniqueDetails } from './schemas';

/** The largest technique-details body read; FLORA's replies are a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;
/**
 * The largest run reply read. A completed run may list thousands of outputs with long URLs, and a reply
 * refused here is refused on every poll and every Resume: the paid result would never be recorded. So the
 * cap is well above what the reader keeps (REPLY_LIMITS.maxOutputs outputs of URLs up to maxUrlLength:
 * 1000 × 16 KiB = 16 MiB), leaving room for the outputs past that limit the reader drops (10 000 outputs
 * with 1.7 KB URLs are 17 MB) and the other fields. Memory is fine at this size: a body is read once,
 * parsed once, and all but the capped fields are garbage right after (a few hundred megabytes at the very
 * worst, for a moment, in the extension host).
 */
export const MAX_RUN_BODY_BYTES = 64 * 1024 * 1024;

/** Reads a parsed JSON body into a value, noting what it could not use. */
type Reader<T> = (json: unknown) => Reading<T>;

export { newIdempotencyKey } from './model';

export interface FloraClientOptions {
  baseUrl: string;
  /** Read on every request, so a key changed mid-run is used from the next request on. */
  getApiKey: () => Promise<string | undefined> | string | undefined;
  dispatcher: Dispatcher;
  userAgent: string;
  timeouts?: Partial<Timeouts>;
  retry?: Partial<RetryPolicy>;
  log?: Logger;
  /** For tests: the jitter source. */
  random?: () => number;
  /** How the client waits between retries (tests pass one that records the wait); default a timer the signal cuts short. */
  sleep?: (milliseconds: number, signal?: AbortSignal) => Promise<void>;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface CreateRunOptions extends RequestOptions {
  /** Made once per logical run and sent on every retry, so FLORA creates the run once. */
  idempotencyKey: string;
}

export interface GetRunOptions extends RequestOptions {
  pollUrl?: string;
  /** Polls are retried by the poller's own schedule; default 1 (no retry here). */
  attempts?: number;
}

export class FloraClient {
  readonly baseUrl: URL;
  private readonly timeouts: Timeouts;
  private readonly retryPolicy: RetryPolicy;
  private readonly log: Logger;

  constructor(private readonly options: FloraClientOptions) {
    this.baseUrl = parseBaseUrl(options.baseUrl);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.log = options.log ?? (() => undefined);
  }

  // async, so a bad slug rejects the returned promise instead of throwing synchronously.
  async getTechnique(slug: string, options: RequestOptions = {}): Promise<TechniqueDetails> {
    const path = this.techniquePath(slug);
    return this.withRetries(this.retryPolicy.attempts, options.signal, () =>
      this.send('GET', path, undefined, readTechniqueDetails, { kind: 'technique', slug }, options.signal, MAX_BODY_BYTES),
    );
  }

  async createRun(slug: string, inputs: readonly RunInput[], options: CreateRunOptions): Promise<CreateRunReply> {
    const path = `${this.techniquePath(slug)}/runs`;
    // Only the document's fields of each input: what the extension keeps beside them (the local file an
    // upload came from) is the user's, and never leaves the machine.
    const sent = inputs.map(({ id, type, value }) => ({ id, type, value }));
    const body = JSON.stringify({ inputs: sent, mode: 'async', idempotency_key: options.idempotencyKey });
    return this.withRetries(this.retryPolicy.attempts, options.signal, () =>
      this.send('POST', path, body, readCreateRunReply, { kind: 'technique', slug }, options.signal, MAX_RUN_BODY_BYTES),
    );
  }

  async getRun(slug: string, runId: string, options: GetRunOptions = {}): Promise<RunStatusReply> {
    const path = this.runPath(slug, runId, options.pollUrl);
    return this.withRetries(options.attempts ?? 1, options.signal, async () => {
      const reply = await this.send('GET', path, undefined, readRunStatusReply, { kind: 'run', runId }, options.signal, MAX_RUN_BODY_BYTES);
      if (reply.runId !== runId) {
        throw new FloraProtocolError(
          `runId ${reply.runId} in the reply to a poll of ${runId}`,
          message('replyWrongRun', runId, reply.runId),
        );
      }
      return reply;
    });
  }

  /** The documented path of a run, or the pollUrl's path when it is on the base URL's origin. */
  runPath(slug: string, runId: string, pollUrl?: string): string {
    const documented = `${this.techniquePath(slug)}/runs/${encodeURIComponent(runId)}`;
    if (!pollUrl) return documented;
    let url: URL;
    try {
      url = new URL(pollUrl, this.baseUrl);
    } catch {
      this.log('warn', `Ignoring pollUrl that is not a URL for run ${runId}; polling ${documented} instead.`);
      return documented;
    }
    if (url.origin !== this.baseUrl.origin) {
      // The key goes only to the configured origin; a pollUrl elsewhere is not followed with it.
      this.log(
        'warn',
        `pollUrl for run ${runId} points at ${url.origin}, not the configured ${this.baseUrl.origin}; polling the documented path on ${this.baseUrl.origin} instead so the API key is not sent elsewhere.`,
      );
      return documented;
    }
    return `${url.pathname}${url.search}`;
  }

  private techniquePath(slug: string): string {
    if (!isValidSlug(slug)) {
      throw new FloraApiError(404, 'not_found', undefined, message('invalidSlug', slug));
    }
    // A base URL without a path has pathname "/"; without trimming it the path would start with "//",
    // which URL resolution reads as a host name.
    return `${this.baseUrl.pathname.replace(/\/+$/, '')}/api/v1/techniques/${encodeURIComponent(slug)}`;
  }

  private async withRetries<T>(attempts: number, signal: AbortSignal | undefined, operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (!(error instanceof FloraError) || !error.retryable || attempt >= attempts || signal?.aborted) throw error;
        const delay = backoffDelay(attempt - 1, this.retryPolicy, retryAfterOf(error), this.options.random);
        this.log('info', `Retrying in ${delay} ms (attempt ${attempt + 1} of ${attempts}): ${error.message}`);
        await (this.options.sleep ?? sleep)(delay, signal);
      }
    }
  }

  private async send<T>(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    read: Reader<T>,
    subject: Subject,
    signal: AbortSignal | undefined,
    maxBodyBytes: number,
  ): Promise<T> {
    if (signal?.aborted) throw new FloraCancelledError();
    const apiKey = (await this.options.getApiKey())?.trim();
    if (!apiKey) {
      throw new FloraApiError(401, 'unauthorized', undefined, messageForApiError(401, 'unauthorized', undefined, subject));
    }
    // Appended to the origin rather than resolved against it: a path starting with "//" (say, from a
    // pollUrl) must stay a path on this origin, never become another host that receives the key.
    const url = new URL(`${this.baseUrl.origin}${path}`);
    if (url.origin !== this.baseUrl.origin) {
      throw new FloraProtocolError(
        `request path ${preview(path)} leaves ${this.baseUrl.origin}`,
        message('keyKeptOnOrigin', this.baseUrl.origin),
      );
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${apiKey}`,
      accept: 'application/json',
      'user-agent': this.options.userAgent,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = Date.now();
    let statusCode: number;
    let replyHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const response = await request(url, {
        method,
        headers,
        body,
        signal,
        dispatcher: this.options.dispatcher,
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.bodyMs,
        maxRedirections: 0,
      });
      statusCode = response.statusCode;
      replyHeaders = response.headers;
      text = await readBody(response.body, maxBodyBytes);
    } catch (error) {
      if (error instanceof FloraProtocolError) throw error;
      const mapped = toTransportError(error, this.baseUrl.origin);
      this.log(
        mapped instanceof FloraCancelledError ? 'debug' : 'warn',
        `${method} ${url.pathname} failed after ${Date.now() - started} ms: ${mapped.message}`,
      );
      throw mapped;
    }
    this.log('info', `${method} ${url.pathname} → ${statusCode} in ${Date.now() - started} ms`);
    return this.interpret(statusCode, replyHeaders, text, read, subject);
  }

  private interpret<T>(
    status: number,
    headers: Record<string, string | string[] | undefined>,
    text: string,
    read: Reader<T>,
    subject: Subject,
  ): T {
    if (status >= 200 && status < 300) {
      const json = parseJson(text);
      if (json === undefined) {
        throw new FloraProtocolError(`HTTP ${status} body is not JSON: ${preview(text)}`, message('replyNotJson', status));
      }
      const reading = read(json);
      if (reading.value === undefined) {
        const detail = reading.notes.slice(0, 5).join('; ');
        const explanation =
          subject.kind === 'technique'
            ? message('replyShapeTechnique', subject.slug, detail)
            : message('replyShapeRun', subject.runId, detail);
        throw new FloraProtocolError(detail, explanation);
      }
      // Usable, with fields left out. A poll's notes travel on with the reply to the run's record (and
      // are logged there when they change), so here they are only debug: a run polled for an hour would
      // otherwise repeat them every few seconds.
      if (reading.notes.length > 0) {
        const about = subject.kind === 'technique' ? `about ${subject.slug}` : `about run ${subject.runId}`;
        this.log(subject.kind === 'run' ? 'debug' : 'warn', `Reply ${about} read with fields left out: ${reading.notes.join('; ')}`);
      }
      return reading.value;
    }
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    if (status === 429) {
      const explanation =
        retryAfterMs !== undefined ? message('rateLimitedRetrying', Math.ceil(retryAfterMs / 1000)) : message('rateLimited');
      throw new FloraRateLimitError(retryAfterMs, explanation);
    }
    if (status >= 500) {
      const looksLikeHtml = /^\s*</.test(text);
      const explanation = looksLikeHtml ? message('serverErrorPage', status) : message('serverError', status);
      throw new FloraServerError(status, explanation, retryAfterMs);
    }
    if (status >= 300 && status < 400) {
      const location = headers.location;
      throw new FloraProtocolError(`HTTP ${status} redirect to ${String(location)}`, message('replyRedirect', status));
    }
    const parsedError = errorBodySchema.safeParse(parseJson(text));
    if (parsedError.success) {
      const { code, message: serverMessage } = parsedError.data.error;
      throw new FloraApiError(status, code, serverMessage, messageForApiError(status, code, serverMessage, subject));
    }
    const code = status === 401 ? 'unauthorized' : status === 404 ? 'not_found' : `http_${status}`;
    throw new FloraApiError(status, code, undefined, messageForApiError(status, code, undefined, subject));
  }
}

async function readBody(body: AsyncIterable<Buffer> & { destroy?: (error?: Error) => void }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy?.();
      throw new FloraProtocolError(`reply body larger than ${maxBytes} bytes`, message('replyTooLarge'));
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 77)}…` : flat);
}
