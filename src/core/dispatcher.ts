// One undici dispatcher for the whole extension (keep-alive pools per origin, proxy aware). Kept apart from
// http.ts so that loading undici waits until the first request.
import { Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import { DEFAULT_TIMEOUTS, type Timeouts } from './http';

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
