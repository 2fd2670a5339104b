// `node out/test/harness/runHostTests.js`: runs the in-host mocha suite (out/test/host/suite/*.test.js)
// inside a real VS Code — code-server's Node extension host, reached through headless Chromium —
// and exits with the extension host's code. Everything lives in one run folder that is removed after.
//
// Environment: FLORA_TEST_GREP (mocha grep), FLORA_HOST_TEST_TIMEOUT_MS (default 15 min), VERBOSE=1
// (print the workbench's log lines), FLORA_EXTENSION_DEVELOPMENT_PATH (see paths.ts). Every FLORA_*
// variable is passed on to the extension host, with FLORA_TEST_RESULT_FILE and FLORA_TEST_EDITOR_VERSION
// (the VS Code version of the code-server install-editor.sh installed, for the harness's own check).
import * as fs from 'fs';
import * as path from 'path';
import { format } from 'util';
import { Browser, launchBrowser, workbenchUrl } from './browser';
import { onProcessExit, removeDirectory } from './cleanup';
import { CodeServer, logTail, startCodeServer } from './codeServer';
import {
  artifactsDirectory,
  assertEditorInstalled,
  codeServerEntry,
  extensionDevelopmentPath,
  hostTestsEntry,
  makeRunDirectory,
  repositoryRoot,
} from './paths';
import { Workbench } from './workbench';
import { copyFixtureWorkspace } from './workspace';

const timeoutExitCode = 124;
const harnessFailureExitCode = 3;

interface Outcome {
  code: number;
  /** Why the run ended without the extension host reporting, if it did not. */
  problem?: string;
}

/** The logs the workbench hands to codeAutomationExit: its log folder, file by file. */
interface WorkbenchLogFile {
  relativePath: string;
  contents: string;
}

const startedAt = Date.now();
function log(message: string): void {
  console.log(`[host-tests ${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}`);
}

function hostEnvironment(resultFile: string): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('FLORA_') && value !== undefined) environment[name] = value;
  }
  environment.FLORA_TEST_RESULT_FILE = resultFile;
  environment.FLORA_TEST_EDITOR_VERSION = installedEditorVersion();
  return environment;
}

/** The VS Code version inside the installed code-server (out/node/entry.js → lib/vscode/product.json). */
function installedEditorVersion(): string {
  const product = path.join(path.dirname(codeServerEntry), '..', '..', 'lib', 'vscode', 'product.json');
  const { version } = JSON.parse(fs.readFileSync(product, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`${product} names no version`);
  return version;
}

function warnWhenUnbuilt(): void {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionDevelopmentPath, 'package.json'), 'utf8')) as {
    main?: string;
  };
  if (manifest.main && !fs.existsSync(path.resolve(extensionDevelopmentPath, manifest.main))) {
    // Not fatal: the harness's own checks still run, but activation-dependent tests will fail.
    log(`warning: ${manifest.main} does not exist in ${extensionDevelopmentPath}; run \`npm run build\` first`);
  }
}

function isWorkbenchLogList(value: unknown): value is WorkbenchLogFile[] {
  return (
    Array.isArray(value) &&
    value.every((entry: unknown) => typeof entry === 'object' && entry !== null && 'relativePath' in entry && 'contents' in entry)
  );
}

/** Keeps what a human needs to understand a failed run: screenshot, server log, workbench logs. */
async function keepFailureArtifacts(
  workbench: Workbench | undefined,
  server: CodeServer | undefined,
  workbenchLogs: unknown,
): Promise<void> {
  const folder = path.join(artifactsDirectory, 'host-tests');
  removeDirectory(folder);
  fs.mkdirSync(folder, { recursive: true });
  if (workbench) {
    const screenshot = await workbench.screenshot('host-tests-failure').catch(() => undefined);
    if (screenshot) log(`screenshot: ${path.relative(repositoryRoot, screenshot)}`);
  }
  if (server && fs.existsSync(server.logFile)) fs.copyFileSync(server.logFile, path.join(folder, 'code-server.log'));
  if (isWorkbenchLogList(workbenchLogs)) {
    for (const entry of workbenchLogs) {
      const file = path.join(folder, 'workbench-logs', path.normalize(entry.relativePath).replace(/^(\.\.[/\\])+/, ''));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, entry.contents);
    }
  }
  log(`logs kept in ${path.relative(repositoryRoot, folder)}/`);
}

async function main(): Promise<number> {
  assertEditorInstalled();
  if (!fs.existsSync(hostTestsEntry)) {
    throw new Error(`${hostTestsEntry} is missing; run \`npm run compile-tests\` first`);
  }
  warnWhenUnbuilt();
  const timeoutMs = Number(process.env.FLORA_HOST_TEST_TIMEOUT_MS) || 15 * 60_000;

  const runDirectory = makeRunDirectory('host-tests');
  const unregisterExitHook = onProcessExit(() => removeDirectory(runDirectory));
  const workspace = copyFixtureWorkspace(path.join(runDirectory, 'workspace'));
  const resultFile = path.join(runDirectory, 'result.txt');

  // Every way the run can end (host exit, timeout, crash, Ctrl-C) settles this one promise.
  let reportExit: (outcome: Outcome) => void = () => undefined;
  const finished = new Promise<Outcome>((resolve) => (reportExit = resolve));
  const timer = setTimeout(() => reportExit({ code: timeoutExitCode, problem: `no result within ${timeoutMs / 1000} s` }), timeoutMs);
  const interrupt = (signal: NodeJS.Signals): void => reportExit({ code: 130, problem: `interrupted (${signal})` });
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workbench: Workbench | undefined;
  let workbenchLogs: unknown;
  const boot = async (): Promise<void> => {
    server = await startCodeServer({ workspace, runDir: path.join(runDirectory, 'code-server') });
    log(`code-server ready at ${server.url}`);
    void server.exited.then((description) => reportExit({ code: harnessFailureExitCode, problem: `code-server stopped (${description})` }));
    browser = await launchBrowser({ userDataDir: path.join(runDirectory, 'chromium') });
    const page = browser.page;
    workbench = new Workbench(page);
    await page.exposeFunction('codeAutomationLog', (level: string, args: unknown) => {
      if (process.env.VERBOSE) console.log(`[workbench ${level}]`, Array.isArray(args) ? format(...(args as unknown[])) : String(args));
    });
    await page.exposeFunction('codeAutomationExit', (code: number, logs: unknown) => {
      workbenchLogs = logs;
      reportExit({ code });
    });
    page.on('crash', () => reportExit({ code: harnessFailureExitCode, problem: 'the browser page crashed' }));
    const url = workbenchUrl({
      base: server.url,
      folder: workspace,
      extensionDevelopmentPath,
      extensionTestsPath: hostTestsEntry,
      extensionEnvironment: hostEnvironment(resultFile),
    });
    await page.goto(url, { timeout: 120_000 });
    workbench.waitForWorkbench().then(
      () => log('workbench loaded; tests running in the extension host'),
      (error: unknown) => reportExit({ code: harnessFailureExitCode, problem: `the workbench did not load: ${String(error)}` }),
    );
  };

  const booting = boot();
  try {
    const outcome = await Promise.race([booting.then(() => finished), finished]);
    if (fs.existsSync(resultFile)) process.stdout.write(fs.readFileSync(resultFile, 'utf8'));
    if (outcome.problem) {
      log(`failed: ${outcome.problem}`);
      if (server && outcome.code !== 130) {
        console.log(`--- code-server log tail (${server.logFile}) ---\n${logTail(server.logFile, 30)}`);
      }
    } else {
      log(`extension host exit code ${outcome.code}`);
    }
    if (outcome.code !== 0 && outcome.code !== 130) await keepFailureArtifacts(workbench, server, workbenchLogs);
    return outcome.code;
  } finally {
    clearTimeout(timer);
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    // Let a launch still in flight (interrupted early) finish, so what it starts gets stopped below.
    await Promise.race([booting.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 15_000))]);
    await browser?.close();
    await server?.stop();
    removeDirectory(runDirectory);
    unregisterExitHook();
  }
}

// Exit explicitly: an interrupted launch may still hold handles, and on Linux stdout is synchronous.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(harnessFailureExitCode);
  },
);
