// One undici dispatcher for the whole extension (keep-alive pools per origin, proxy aware). Kept apart from
// http.ts so that loading undici waits until the first request.
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Agent, buildConnector, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import { refusedAddressKind, refusedHostLiteral } from './addresses';
import { DownloadRefusedError } from './errors';
import { DEFAULT_TIMEOUTS, type Timeouts } from './http';
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
}

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
  if (options.direct) return new Agent(common);
  if (options.proxyUrl) return new ProxyAgent({ ...common, uri: options.proxyUrl });
  if (hasProxyEnvironment()) return new EnvHttpProxyAgent(common);
  return new Agent(common);
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
