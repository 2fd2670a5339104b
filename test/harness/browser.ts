// Debian's Chromium driven by playwright-core, plus the workbench URL that carries VS Code's
// development-mode payload. A browser must be connected for code-server to start an extension host.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { onProcessExit, removeDirectory } from './cleanup';
import { chromiumBinary, makeRunDirectory } from './paths';

export interface BrowserOptions {
  viewport?: { width: number; height: number };
  /** A profile folder the caller owns and keeps; by default a fresh one, removed on close. */
  userDataDir?: string;
  /** Default true; set FLORA_HEADED=1 (with a display) to watch a run. */
  headless?: boolean;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Unloads the workbench (so the server stops its extension host at once), closes, removes the profile. */
  close(): Promise<void>;
}

/** Flags for a quiet, offline Chromium running as root in a container without a GPU. */
const chromiumArguments = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(options: BrowserOptions = {}): Promise<Browser> {
  // Chromium writes crash reports to ~/.config/chromium and GTK settings to ~/.cache/dconf whatever the
  // profile folder is; pointing its XDG folders into a private run folder keeps $HOME clean.
  const browserHome = makeRunDirectory('chromium');
  // Its singleton socket goes to TMPDIR (a Unix socket path must stay short, so not the run folder); a
  // private folder there is removed with the rest even when Chromium is killed before it cleans up.
  const browserTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-chromium-'));
  // A fresh profile also means an empty SecretStorage: code-server keeps secrets in localStorage.
  const userDataDir = options.userDataDir ?? path.join(browserHome, 'profile');
  const removeBrowserHome = (): void => {
    removeDirectory(browserHome);
    removeDirectory(browserTemp);
  };
  const unregisterExitHook = onProcessExit(removeBrowserHome);
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumBinary,
      headless: options.headless ?? process.env.FLORA_HEADED !== '1',
      args: chromiumArguments,
      viewport: options.viewport ?? { width: 1400, height: 900 },
      env: {
        ...process.env,
        XDG_CONFIG_HOME: path.join(browserHome, 'config'),
        XDG_CACHE_HOME: path.join(browserHome, 'cache'),
        TMPDIR: browserTemp,
      },
    });
  } catch (error) {
    unregisterExitHook();
    removeBrowserHome();
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const openPage of context.pages()) {
        // A graceful unload tells code-server the window is gone; a plain close would leave the
        // extension host running for the reconnection grace time.
        await openPage.goto('about:blank', { timeout: 10_000 }).catch(() => undefined);
      }
      await context.close().catch(() => undefined);
      unregisterExitHook();
      removeBrowserHome();
    })();
    return closed;
  };
  return { context, page, close };
}

export interface WorkbenchUrlOptions {
  /** code-server's base URL, e.g. `http://127.0.0.1:41234`. */
  base: string;
  /** Absolute folder path on the server to open. */
  folder: string;
  /** Absolute path of an extension to load in development mode. */
  extensionDevelopmentPath?: string;
  /** Absolute path of the module whose `run()` the extension host calls (needs extensionDevelopmentPath). */
  extensionTestsPath?: string;
  /** Environment variables set in the extension host. */
  extensionEnvironment?: Record<string, string>;
}

/**
 * `<base>/?folder=…&payload=…`. The payload is the same list of [name, value] pairs the desktop gets as
 * command-line flags; paths are `vscode-remote://<host:port>/abs/path` because the extension host runs
 * on the server. Honoured only when the server runs with `--vscode-option enable-smoke-test-driver`.
 */
export function workbenchUrl(options: WorkbenchUrlOptions): string {
  const base = new URL(options.base);
  const remote = (file: string): string => `vscode-remote://${base.host}${path.resolve(file)}`;
  const payload: Array<[string, string]> = [];
  if (options.extensionDevelopmentPath !== undefined) {
    payload.push(['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)]);
  }
  if (options.extensionTestsPath !== undefined) {
    payload.push(['extensionTestsPath', remote(options.extensionTestsPath)]);
  }
  if (options.extensionEnvironment !== undefined) {
    payload.push(['extensionEnvironment', JSON.stringify(options.extensionEnvironment)]);
  }
  let url = `${base.origin}/?folder=${encodeURIComponent(path.resolve(options.folder))}`;
  if (payload.length > 0) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}
