// The HTTP plumbing under the FLORA client: one undici dispatcher (keep-alive pools per origin, proxy
// aware), base-URL rules, and the mapping of low-level failures to typed errors.
import { Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import {
  FloraCancelledError,
  FloraConfigurationError,
  FloraTransportError,
  type TransportFailure,
} from './errors';

export const DEFAULT_BASE_URL = 'https://app.flora.ai';

export interface Timeouts {
  /** Establishing the TCP/TLS connection. */
  connectMs: number;
  /** From sending the request to receiving the reply's headers. */
  headersMs: number;
  /** Between two chunks of the reply's body. */
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 };

export interface DispatcherOptions {
  timeouts?: Partial<Timeouts>;
  /**
   * An explicit proxy (e.g. VS Code's `http.proxy`). When absent, HTTPS_PROXY / HTTP_PROXY / NO_PROXY from
   * the environment apply, through undici's EnvHttpProxyAgent.
   */
  proxyUrl?: string;
}

/**
 * One dispatcher for the whole extension: undici keeps a keep-alive pool per origin inside it, so every
 * poll of every run reuses the same few connections.
 */
export function createDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const connectMs = options.timeouts?.connectMs ?? DEFAULT_TIMEOUTS.connectMs;
  const common = {
    connect: { timeout: connectMs },
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
  };
  if (options.proxyUrl) return new ProxyAgent({ ...common, uri: options.proxyUrl });
  if (hasProxyEnvironment()) return new EnvHttpProxyAgent(common);
  return new Agent(common);
}

function hasProxyEnvironment(): boolean {
  const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
  return names.some((name) => (process.env[name] ?? '').trim().length > 0);
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Parses the configured base URL. The API key is sent there, so it must be HTTPS; plain HTTP is allowed
 * only on loopback, where the local sandbox runs.
 */
export function parseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new FloraConfigurationError(
      `The FLORA base URL "${text}" is not a URL. Set "flora.baseUrl" to ${DEFAULT_BASE_URL}.`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new FloraConfigurationError(
      `The FLORA base URL must use https:// (plain http:// is allowed only for a local sandbox on 127.0.0.1 or localhost), because your API key is sent there. Got "${url.origin}".`,
    );
  }
  if (url.username || url.password) {
    throw new FloraConfigurationError('The FLORA base URL must not contain a user name or password.');
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
  const reason: Record<TransportFailure, string> = {
    refused: 'the connection was refused (is the server running?)',
    reset: 'the connection was closed before the reply arrived',
    timeout: 'the request timed out',
    dns: 'the host name could not be resolved (are you offline?)',
    tls: 'the secure connection failed (check the certificate or your proxy)',
    other: error instanceof Error ? error.message : String(error),
  };
  return new FloraTransportError(
    failure,
    `Could not reach FLORA at ${origin}: ${reason[failure]}. Check your network or proxy settings (HTTPS_PROXY); the extension retries on its own.`,
    { cause: error },
  );
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
  if (
    codes.has('ECONNRESET') ||
    codes.has('EPIPE') ||
    codes.has('UND_ERR_SOCKET') ||
    codes.has('UND_ERR_CLOSED')
  ) {
    return 'reset';
  }
  if ([...codes].some((code) => code.startsWith('ERR_TLS') || code.startsWith('CERT_') || code.includes('SSL'))) {
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
