// The way to FLORA: the API client and its dispatcher for the configured base URL (made on first use, made
// again when flora.baseUrl changes), key checks, output downloads through a dispatcher of their own, and the
// URL policy that says which origins besides https ones may be loaded (the local sandbox's).
import type { Dispatcher } from 'undici';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { FloraClient, FloraClientOptions } from '../core/api';
import { DOCUMENTED_TECHNIQUES } from '../core/catalog';
import type { DownloadResult } from '../core/download';
import { FloraApiError, isAuthError, messageOf } from '../core/errors';
import type { MediaUrlOptions } from '../core/inputs';
import { KeepAliveHints } from '../core/keepAlive';
import { isLoopbackHost } from '../core/model';
import type { KeyStore } from './keyStore';
import type { Log } from './log';
import type { Settings } from './settings';
import { ExtensionError, l10nText } from './userText';

export type KeyVerdict = 'accepted' | 'rejected' | 'unknown';

/** One of the sandbox's sample inputs. */
export interface SandboxSample {
  name: string;
  url: string;
  type: 'imageUrl' | 'videoUrl';
}

export interface FloraConnectionOptions {
  settings: Settings;
  keys: KeyStore;
  log: Log;
  userAgent: string;
  /** VS Code's http.proxy, when set; HTTPS_PROXY and the like are read by the dispatcher. */
  proxyUrl?: string;
}

export class FloraConnection extends Disposable {
  private currentClient: FloraClient | undefined;
  private dispatcherInstance: Dispatcher | undefined;
  private baseUrl: string;
  /** What the API's replies say about keeping the connection (read by the poller through idleBudgetMs). */
  private readonly keepAliveHints = new KeepAliveHints();

  constructor(private readonly options: FloraConnectionOptions) {
    super();
    this.baseUrl = options.settings.current.baseUrl;
    this.register(toDisposable(() => void this.dispatcherInstance?.close().catch(() => undefined)));
    this.register(
      options.settings.onDidChange((settings) => {
        if (settings.baseUrl === this.baseUrl) return;
        this.baseUrl = settings.baseUrl;
        this.dropConnection();
      }),
    );
  }

  /**
   * Created on the first request, so activation never loads the HTTP stack; made for the current base URL
   * (a loopback one is reached directly, never through a proxy that would see the key: see
   * dispatcherOptionsFor) and made again when flora.baseUrl changes.
   */
  private get dispatcher(): Dispatcher {
    if (!this.dispatcherInstance) {
      const { createDispatcher, dispatcherOptionsFor } = loadDispatcherModule();
      this.dispatcherInstance = createDispatcher({
        ...dispatcherOptionsFor(this.baseUrl, this.options.proxyUrl),
        keepAliveHints: this.keepAliveHints,
      });
    }
    return this.dispatcherInstance;
  }

  /** How long the API's connection (to `origin`, default the one last used) may stay idle and still be reused; for the poller. */
  idleBudgetMs(origin?: string): number {
    return this.keepAliveHints.idleBudgetMs(origin);
  }

  /** The next request builds a client and dispatcher for the new base URL; the old pools close once idle. */
  private dropConnection(): void {
    this.currentClient = undefined;
    const previous = this.dispatcherInstance;
    this.dispatcherInstance = undefined;
    // close() lets requests in flight finish (a poll of the old origin fails or completes on its own).
    void previous?.close().catch(() => undefined);
  }

  /** Throws FloraConfigurationError when flora.baseUrl may not carry the key. */
  client(): FloraClient {
    this.currentClient ??= this.newClient({ getApiKey: () => this.options.keys.get() });
    return this.currentClient;
  }

  private newClient(options: Pick<FloraClientOptions, 'getApiKey' | 'retry'>): FloraClient {
    const { FloraClient } = loadClientModule();
    return new FloraClient({
      baseUrl: this.baseUrl,
      dispatcher: this.dispatcher,
      userAgent: this.options.userAgent,
      log: this.options.log.write,
      ...options,
    });
  }

  /**
   * Asks FLORA about one documented technique with a candidate key, before it is saved. Any answer other
   * than 401 proves FLORA accepted the key (even a 404 for the slug).
   */
  async checkKey(key: string): Promise<KeyVerdict> {
    let client: FloraClient;
    try {
      client = this.newClient({ getApiKey: () => key, retry: { attempts: 2 } });
    } catch (error) {
      this.options.log.warn(`Could not check the key: ${messageOf(error)}`);
      return 'unknown';
    }
    try {
      await client.getTechnique(DOCUMENTED_TECHNIQUES[0]?.slug ?? 'studio-shot');
      return 'accepted';
    } catch (error) {
      if (isAuthError(error)) return 'rejected';
      return error instanceof FloraApiError ? 'accepted' : 'unknown';
    }
  }

  /**
   * Downloads an output into a folder (core/download.ts), through a dispatcher of its own that refuses
   * private and local addresses (the sandbox's origin excepted) and is closed afterwards; proxy-aware like
   * the API's. Outputs are public URLs: no Authorization header is ever sent with them.
   */
  async fetchOutput(
    url: string,
    target: { folder: string; stem: string },
    signal: AbortSignal,
    options: { maxBytes?: number } = {},
  ): Promise<DownloadResult> {
    const { createDownloadDispatcher } = loadDispatcherModule();
    // Required on first use, like the dispatcher: activating the extension does not load the download code.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { downloadToFolder } = require('../core/download') as typeof import('../core/download');
    const allowedOrigins = this.extraOrigins();
    const dispatcher = createDownloadDispatcher({ proxyUrl: this.options.proxyUrl, allowedOrigins });
    try {
      return await downloadToFolder({
        url,
        dispatcher,
        allowedOrigins,
        folder: target.folder,
        stem: target.stem,
        signal,
        maxBytes: options.maxBytes,
      });
    } finally {
      void dispatcher.destroy().catch(() => undefined);
    }
  }

  /**
   * A dispatcher for uploads to storage (made per upload, closed by the caller): proxy-aware like the API's,
   * direct for a loopback endpoint. A loopback endpoint is the sandbox's storage, accepted only while the
   * base URL is the loopback sandbox too: a setting cannot point uploads at a local service otherwise.
   */
  uploadDispatcher(endpoint: string | undefined): Dispatcher {
    const { createDispatcher, dispatcherOptionsFor } = loadDispatcherModule();
    if (endpoint !== undefined) {
      let host: string;
      try {
        host = new URL(endpoint).hostname;
      } catch {
        throw new ExtensionError(l10nText('flora.upload.endpoint is not a URL: {0}', endpoint), {
          kind: 'openSetting',
          setting: 'flora.upload.endpoint',
        });
      }
      if (isLoopbackHost(host) && this.mediaOptions().extraOrigins === undefined) {
        throw new ExtensionError(
          l10nText(
            'flora.upload.endpoint points at this machine ({0}), which only the local sandbox may do. Clear the setting, or set flora.baseUrl to the sandbox.',
            endpoint,
          ),
          { kind: 'openSetting', setting: 'flora.upload.endpoint' },
        );
      }
    }
    return createDispatcher({ ...dispatcherOptionsFor(endpoint ?? 'https://s3.amazonaws.com', this.options.proxyUrl), parallel: true });
  }

  /**
   * The sandbox's sample images and videos (not a FLORA endpoint: only asked of a loopback base URL), so a
   * newcomer's first run needs no URL. Empty on FLORA itself, and when the sandbox does not answer.
   */
  async sandboxSamples(signal?: AbortSignal): Promise<SandboxSample[]> {
    const origin = this.mediaOptions().extraOrigins?.[0];
    if (!origin) return [];
    try {
      const { request } = loadUndici();
      const reply = await request(`${origin}/sandbox/samples`, {
        dispatcher: this.dispatcher,
        signal,
        headersTimeout: 2_000,
        bodyTimeout: 2_000,
      });
      if (reply.statusCode !== 200) {
        await reply.body.dump();
        return [];
      }
      const body = (await reply.body.json()) as { samples?: unknown };
      if (!Array.isArray(body.samples)) return [];
      return body.samples
        .filter(
          (sample): sample is SandboxSample =>
            typeof sample === 'object' &&
            sample !== null &&
            typeof (sample as SandboxSample).name === 'string' &&
            typeof (sample as SandboxSample).url === 'string' &&
            ((sample as SandboxSample).type === 'imageUrl' || (sample as SandboxSample).type === 'videoUrl') &&
            (sample as SandboxSample).url.startsWith(`${origin}/`),
        )
        .slice(0, 20);
    } catch {
      return [];
    }
  }

  /** Loopback base URLs are the local sandbox, whose own output URLs may be used as inputs. */
  mediaOptions(): MediaUrlOptions {
    try {
      const base = new URL(this.baseUrl);
      return isLoopbackHost(base.hostname) ? { extraOrigins: [base.origin] } : {};
    } catch {
      return {};
    }
  }

  /** The origins besides https ones whose URLs may be loaded, inserted or downloaded (the sandbox's, if any). */
  extraOrigins(): readonly string[] {
    return this.mediaOptions().extraOrigins ?? [];
  }
}

// The HTTP client, its schemas and readers and undici make up most of the code. Required on first use
// rather than imported, so activating the extension does not evaluate them (esbuild keeps required modules
// lazy); undici is a file of its own (dist/undici.js, see esbuild.mjs), so activation does not even parse it.
/* eslint-disable @typescript-eslint/no-require-imports */
function loadClientModule(): typeof import('../core/api') {
  return require('../core/api') as typeof import('../core/api');
}
function loadUndici(): typeof import('undici') {
  return require('undici') as typeof import('undici');
}
function loadDispatcherModule(): typeof import('../core/dispatcher') {
  return require('../core/dispatcher') as typeof import('../core/dispatcher');
}
/* eslint-enable @typescript-eslint/no-require-imports */
