// One call for a UI journey: a fresh workspace, code-server, Chromium, and the workbench loaded with
// this extension in development mode — or, given a .vsix, with that package installed like a user would
// install it. Everything lives in one run folder that close() removes.
import * as path from 'path';
import { Page } from 'playwright-core';
import { Browser, launchBrowser, workbenchUrl } from './browser';
import { onProcessExit, removeDirectory } from './cleanup';
import { CodeServer, installExtensionFolder, installVsix, startCodeServer } from './codeServer';
import { extensionDevelopmentPath, makeRunDirectory } from './paths';
import { Workbench, WorkbenchOptions } from './workbench';
import { copyFixtureWorkspace } from './workspace';

export interface EditorSessionOptions {
  /** User settings, e.g. `{ 'flora.baseUrl': sandbox.url }`. */
  settings?: Record<string, unknown>;
  /** Environment of the extension host, e.g. `{ FLORA_DEV_API_KEY: sandbox.apiKey }`. */
  extensionEnvironment?: Record<string, string>;
  viewport?: { width: number; height: number };
  workbench?: WorkbenchOptions;
  /**
   * A packaged extension to install into the fresh profile before the server starts. The workbench then
   * loads it as an ordinary installed extension (production mode) instead of this repository in
   * development mode.
   */
  vsixPath?: string;
  /** The extension to load in development mode; default the repository (ignored with vsixPath). */
  extensionDevelopmentPath?: string;
  /** A display language other than English (see CodeServerOptions.language). */
  language?: string;
  /**
   * Unpacked extension folders installed into the fresh profile beside the extension under test, e.g. the
   * test-only scripted chat model (test/fixtures/scripted-model). Not development paths: the web workbench
   * reads its URL payload into a Map, so a second extensionDevelopmentPath entry replaces the first.
   */
  extraExtensions?: readonly string[];
}

export interface EditorSession {
  server: CodeServer;
  browser: Browser;
  page: Page;
  workbench: Workbench;
  /** The fresh copy of test/fixtures/workspace that is open. */
  workspace: string;
  close(): Promise<void>;
}

export async function openEditorSession(options: EditorSessionOptions = {}): Promise<EditorSession> {
  const runDirectory = makeRunDirectory('session');
  const unregisterExitHook = onProcessExit(() => removeDirectory(runDirectory));
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await server?.stop();
    removeDirectory(runDirectory);
    unregisterExitHook();
  };
  try {
    const workspace = copyFixtureWorkspace(path.join(runDirectory, 'workspace'));
    const serverRunDirectory = path.join(runDirectory, 'code-server');
    if (options.vsixPath !== undefined) await installVsix(options.vsixPath, serverRunDirectory);
    for (const folder of options.extraExtensions ?? []) installExtensionFolder(folder, serverRunDirectory);
    server = await startCodeServer({
      workspace,
      runDir: serverRunDirectory,
      settings: options.settings,
      language: options.language,
    });
    browser = await launchBrowser({ userDataDir: path.join(runDirectory, 'chromium'), viewport: options.viewport });
    const workbench = new Workbench(browser.page, options.workbench);
    await browser.page.goto(
      workbenchUrl({
        base: server.url,
        folder: workspace,
        extensionDevelopmentPath:
          options.vsixPath === undefined ? (options.extensionDevelopmentPath ?? extensionDevelopmentPath) : undefined,
        extensionEnvironment: options.extensionEnvironment,
      }),
      { timeout: 120_000 },
    );
    await workbench.waitForWorkbench();
    return { server, browser, page: browser.page, workbench, workspace, close };
  } catch (error) {
    await close();
    throw error;
  }
}
