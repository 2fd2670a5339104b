// The HTTP rules under the FLORA client: timeouts, base-URL rules, Retry-After, and the mapping of
// low-level failures to typed errors. (The undici dispatcher itself is in dispatcher.ts.)
import { FloraCancelledError, FloraConfigurationError, FloraTransportError, messageOf, type TransportFailure } from './errors';
import { message, type Message } from './messages';

import { DEFAULT_BASE_URL, isLoopbackHost } from './model';

export { DEFAULT_BASE_URL, isLoopbackHost } from './model';

export interface Timeouts {
  /** Establishing the TCP/TLS connection. */
  connectMs: number;
  /** From sending the request to receiving the reply's headers. */
  headersMs: number;
  /** Between two chunks of the reply's body. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };

/**
 * Parses the configured base URL. The API key is sent there, so it must be HTTPS; plain HTTP is allowed
 * only on loopback, where the local sandbox runs.
 */
export function parseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new FloraConfigurationError(message('baseUrlNotUrl', text, DEFAULT_BASE_URL));
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new FloraConfigurationError(message('baseUrlNotHttps', url.origin));
  }
  if (url.username || url.password) {
    throw new FloraConfigurationError(message('baseUrlCredentials'));
  }
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** Maps an error thrown by undici (or by the abort of a signal) to a typed error with a useful message. */
export function toTransportError(error: unknown, origin: string): FloraTransportError | FloraCancelledError {
  if (error instanceof FloraTransportError || error instanceof FloraCancelledError) return error;
  const codes = collectErrorCodes(error);
  const name = error instanceof Error ? error.name : '';
  if (name === 'AbortError' || codes.has('UND_ERR_ABORTED') || codes.has('ABORT_ERR')) {
    return new FloraCancelledError();
  }
  const failure = classify(codes);
  const reason: Record<TransportFailure, Message> = {
    refused: message('transportRefused', origin),
    reset: message('transportReset', origin),
    timeout: message('transportTimeout', origin),
    dns: message('transportDns', origin),
    tls: message('transportTls', origin),
    other: message('transportOther', origin, messageOf(error)),
  };
  return new FloraTransportError(failure, reason[failure], { cause: error });
}

function classify(codes: Set<string>): TransportFailure {
  if (codes.has('ECONNREFUSED')) return 'refused';
  if (codes.has('ENOTFOUND') || codes.has('EAI_AGAIN')) return 'dns';
  if (
    codes.has('UND_ERR_CONNECT_TIMEOUT') ||
    codes.has('UND_ERR_HEADERS_TIMEOUT') ||
    codes.has('UND_ERR_BODY_TIMEOUT') ||
    codes.has('ETIMEDOUT')
  ) {
    return 'timeout';
  }
  if (codes.has('ECONNRESET') || codes.has('EPIPE') || codes.has('UND_ERR_SOCKET') || codes.has('UND_ERR_CLOSED')) {
    return 'reset';
  }
  // OpenSSL's verification codes name the certificate or its signature: DEPTH_ZERO_SELF_SIGNED_CERT,
  // UNABLE_TO_GET_ISSUER_CERT_LOCALLY, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED.
  const tls = (code: string): boolean =>
    code.startsWith('ERR_TLS') || code.includes('CERT') || code.includes('SIGNATURE') || code.includes('SSL');
  if ([...codes].some(tls)) {
    return 'tls';
  }
  return 'other';
}

function collectErrorCodes(error: unknown): Set<string> {
  const codes = new Set<string>();
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.add(code);
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const innerCode = (inner as { code?: unknown } | null)?.code;
        if (typeof innerCode === 'string') codes.add(innerCode);
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
