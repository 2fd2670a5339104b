// One undici dispatcher for the whole extension (one warm connection per origin, HTTP/2 where offered, proxy
// aware). Kept apart from http.ts so that loading undici waits until the first request.
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Agent, buildConnector, DecoratorHandler, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import { refusedAddressKind, refusedHostLiteral } from './addresses';
import { DownloadRefusedError } from './errors';
import { DEFAULT_TIMEOUTS, type Timeouts } from './http';
import { KEEP_ALIVE_THRESHOLD_MS, UNHINTED_KEEP_ALIVE_MS, type KeepAliveHints } from './keepAlive';
import { message } from './messages';
import { isLoopbackHost } from './model';

export interface DispatcherOptions {
  timeouts?: Partial<Timeouts>;
  /**
   * An explicit proxy (e.g. VS Code's `http.proxy`). When absent, HTTPS_PROXY / HTTP_PROXY / NO_PROXY from
   * the environment apply, through undici's EnvHttpProxyAgent.
   */
  proxyUrl?: string;
  /**
   * Connect directly, whatever the proxy settings say (see dispatcherOptionsFor): no proxy ever sees the
   * requests, nor the Authorization header they carry.
   */
  direct?: boolean;
  /**
   * Uploads: parts go out in parallel, to storage that may not speak HTTP/2 (S3), so connections are not
   * bounded and stay HTTP/1.1. The API's requests are tiny and queue on one connection instead.
   */
  parallel?: boolean;
  /**
   * Certificates to trust instead of the system's: only tests and the bench set it, for their own
   * self-signed HTTP/2 server. The product never does, so certificates are always verified.
   */
  ca?: ConnectionOptions['ca'];
  /** Told every reply's Keep-Alive header, so the poller can keep the connection warm (keepAlive.ts). */
  keepAliveHints?: KeepAliveHints;
}

/**
 * Connections the API's dispatcher opens per origin. Polls are a few hundred bytes each: queued on one
 * connection they wait a round trip or two at worst, while a socket per concurrent poll (12 runs started
 * at once: 12 sockets) goes cold between polls and costs a TCP and TLS handshake each time. Over HTTP/2
 * this one connection is the only one too.
 */
export const API_CONNECTIONS_PER_ORIGIN = 1;

/**
 * The options of the API's dispatcher for a base URL. A loopback base URL (the local sandbox) is reached
 * directly: over plain http, a proxy would see the API key in clear (absolute-form requests, or the
 * requests inside a CONNECT tunnel it made to 127.0.0.1), and SecretStorage keeps one key for every base
 * URL, so it may be the real one. A proxy cannot reach the user's own loopback anyway. Every other base
 * URL (https only) goes through the proxy as configured.
 */
export function dispatcherOptionsFor(baseUrl: string, proxyUrl: string | undefined): DispatcherOptions {
  let direct = false;
  try {
    direct = isLoopbackHost(new URL(baseUrl).hostname);
  } catch {
    // Not a URL: the client refuses it before any request, so there is nothing to connect to.
  }
  return direct ? { direct: true } : { proxyUrl, direct: false };
}

/**
 * One dispatcher for the whole extension: undici keeps a pool per origin inside it, bounded to
 * API_CONNECTIONS_PER_ORIGIN connections with requests queued (no pipelining), HTTP/2 negotiated where the
 * server offers it (ALPN; the proxies' tunnels too). Idle connections are kept as long as the server's
 * Keep-Alive hint allows less 1 s (KEEP_ALIVE_THRESHOLD_MS), up to 2 min; without a hint 30 s.
 */
export function createDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const connectMs = options.timeouts?.connectMs ?? DEFAULT_TIMEOUTS.connectMs;
  const ca = options.ca === undefined ? {} : { ca: options.ca };
  const bounded = options.parallel !== true;
  const common = {
    connect: { timeout: connectMs, ...ca },
    keepAliveTimeout: UNHINTED_KEEP_ALIVE_MS,
    keepAliveMaxTimeout: 120_000,
    // undici's default is 2 s: a server keeping 5 s would see its connection dropped after 3 s.
    keepAliveTimeoutThreshold: KEEP_ALIVE_THRESHOLD_MS,
    // undici 6 sends one request at a time on an HTTP/2 connection too (pipelining 1): with more in flight
    // its HTTP/2 client fails an assertion when streams end out of order, so nothing is pipelined.
    pipelining: 1,
    ...(bounded ? { connections: API_CONNECTIONS_PER_ORIGIN, allowH2: true } : {}),
  };
  // Through a proxy, the TLS inside the CONNECT tunnel is undici's request connector: it offers h2 too.
  const requestTls = { ...ca, ...(bounded ? { allowH2: true } : {}) };
  let dispatcher: Dispatcher;
  if (options.direct) dispatcher = new Agent(common);
  else if (options.proxyUrl) dispatcher = new ProxyAgent({ ...common, uri: options.proxyUrl, requestTls });
  else if (hasProxyEnvironment()) {
    // EnvHttpProxyAgent hands its options to the ProxyAgents it makes, requestTls included (its type omits it).
    const environmentOptions: EnvHttpProxyAgent.Options & Pick<ProxyAgent.Options, 'requestTls'> = { ...common, requestTls };
    dispatcher = new EnvHttpProxyAgent(environmentOptions);
  } else dispatcher = new Agent(common);
  const hints = options.keepAliveHints;
  return hints ? dispatcher.compose(watchKeepAlive(hints)) : dispatcher;
}

/** An interceptor that tells `hints` the Keep-Alive header of every reply. */
function watchKeepAlive(hints: KeepAliveHints): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (dispatchOptions, handler) => {
    const origin = String(dispatchOptions.origin ?? '').replace(/\/+$/, '');
    const watching = new (class extends DecoratorHandler {
      onHeaders(statusCode: number, headers: Buffer[] | string[] | null, resume: () => void, statusText: string): boolean {
        hints.record(origin, headerValue(headers, 'keep-alive'));
        return handler.onHeaders?.(statusCode, headers as Buffer[], resume, statusText) ?? true;
      }
    })(handler);
    return dispatch(dispatchOptions, watching);
  };
}

/** One header of undici's raw list (name, value, name, value…). */
function headerValue(headers: ReadonlyArray<Buffer | string> | null, name: string): string | undefined {
  if (!headers) return undefined;
  for (let index = 0; index + 1 < headers.length; index += 2) {
    if (String(headers[index]).toLowerCase() === name) return String(headers[index + 1]);
  }
  return undefined;
}

function hasProxyEnvironment(): boolean {
  const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
  return names.some((name) => (process.env[name] ?? '').trim().length > 0);
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name resolves to. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface DownloadDispatcherOptions extends DispatcherOptions {
  /** The sandbox's own origin(s): the only ones whose connections may reach a loopback or private address. */
  allowedOrigins: readonly string[];
  /** How host names are resolved (the system's resolver unless a test maps made-up names). */
  resolve?: Resolver;
  /** TLS options for the output hosts (tests: the certificate authority of a loopback HTTPS server). */
  tls?: Pick<ConnectionOptions, 'ca'>;
}

/**
 * A dispatcher for output downloads only, never for the API: every direct connection is checked against the
 * address policy (core/addresses.ts) at the moment it is made. The check sits in the connection's own DNS
 * lookup, so the address checked is the address connected to (no second lookup a rebinding DNS server could
 * answer differently), and IP-literal hosts, which net.connect never looks up, are checked before connecting.
 *
 * Through a proxy (an explicit one, or HTTPS_PROXY / HTTP_PROXY for hosts NO_PROXY does not match) the proxy
 * resolves the names and undici uses its own connector: then only IP-literal hosts and localhost names can be
 * refused, and download.ts does that for every hop before the request. Hosts that NO_PROXY sends direct still
 * get the full check.
 */
export function createDownloadDispatcher(options: DownloadDispatcherOptions): Dispatcher {
  // No keep-alive options: the caller destroys this dispatcher after its one download.
  const common = { connect: guardedConnector(options) };
  if (options.proxyUrl) return new ProxyAgent({ ...common, uri: options.proxyUrl });
  if (hasProxyEnvironment()) return new EnvHttpProxyAgent(common);
  return new Agent(common);
}

function systemResolver(hostname: string): Promise<ResolvedAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });
}

function addressRefusal(shown: string): DownloadRefusedError {
  return new DownloadRefusedError('address', message('downloadAddressRefused', shown));
}

/**
 * A net.connect `lookup` through `resolve`; when `check` is set it fails the connection if any one of the
 * addresses is refused.
 */
function lookupThrough(resolve: Resolver, check: boolean): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (resolved) => {
        const family = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : undefined;
        const addresses = family ? resolved.filter((entry) => entry.family === family) : resolved;
        const first = addresses[0];
        if (!first) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '');
          return;
        }
        // Refuse the name if any of its addresses is refused: which one net.connect tries first is not ours to pick.
        const refused = check ? addresses.find((entry) => refusedAddressKind(entry.address) !== undefined) : undefined;
        if (refused) callback(addressRefusal(refused.address), '');
        else if (lookupOptions.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

function guardedConnector(options: DownloadDispatcherOptions): buildConnector.connector {
  const base = { timeout: options.timeouts?.connectMs ?? DEFAULT_TIMEOUTS.connectMs, ...options.tls };
  const resolve = options.resolve ?? systemResolver;
  const unchecked = buildConnector({ ...base, lookup: lookupThrough(resolve, false) });
  const checked = buildConnector({ ...base, lookup: lookupThrough(resolve, true) });
  return (target, callback) => {
    if (options.allowedOrigins.includes(`${target.protocol}//${target.host ?? target.hostname}`)) {
      unchecked(target, callback);
      return;
    }
    if (refusedHostLiteral(target.hostname)) {
      callback(addressRefusal(target.hostname), null);
      return;
    }
    checked(target, (...result) => {
      const [error, socket] = result;
      // The lookup decided; this second look at the connected peer only guards against a path around it.
      const remote = error === null ? socket.remoteAddress : undefined;
      if (error === null && remote !== undefined && refusedAddressKind(remote) !== undefined) {
        socket.destroy();
        callback(addressRefusal(remote), null);
        return;
      }
      callback(...result);
    });
  };
}
