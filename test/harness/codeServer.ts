// Starts code-server (VS Code 1.139's server and web workbench, run by Node 24) the way the offline
// recipe found quiet and leak-free: 127.0.0.1 without auth, every state folder inside one run folder,
// no gallery, no telemetry, and the smoke-test driver switch that makes the workbench honour the
// development-mode URL payload (extensionDevelopmentPath / extensionTestsPath).
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { onProcessExit, removeDirectory, signalProcessGroup } from './cleanup';
import { assertEditorInstalled, codeServerEntry, makeRunDirectory, node24Binary } from './paths';
import { findFreePort, isPortFree, loopbackHost } from './ports';

export interface CodeServerOptions {
  /** Folder code-server opens when the browser asks for `/` without a `?folder=`. */
  workspace: string;
  /** Defaults to a free port. */
  port?: number;
  /**
   * Folder for all server state. When given it belongs to the caller and is kept by stop() (so state
   * survives restarts); when omitted a fresh folder under `.vscode-test/runs/` is made and stop() removes it.
   */
  runDir?: string;
  /** User settings merged over the quiet defaults (and over settings already in `runDir`). */
  settings?: Record<string, unknown>;
  extraArgs?: string[];
  /** Extra environment for the server; the extension hosts it forks inherit it. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for /healthz; default 90 s. */
  readyTimeoutMs?: number;
  /**
   * A display language other than English, e.g. 'de': the server is started with `--locale` and a
   * stand-in language pack, so extensions load their bundle.l10n.<language>.json and package.nls.<language>.json.
   */
  language?: string;
}

export interface CodeServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  /** Settles with a description ("exit code 1", "signal SIGTERM") when the server process ends. */
  exited: Promise<string>;
  /** Stops the whole process group (server, extension hosts, file watchers, pty host). Idempotent. */
  stop(): Promise<void>;
}

/** Settings that keep a fresh profile from opening welcome pages, prompts and network lookups. */
export const quietSettings: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'npm.autoDetect': 'off',
  // The test tiers start far more runs a day than the default budget allows, and the budget's modal would
  // wait for a person; the budget's own tests set a limit. `npm start` keeps the default.
  'flora.budget.creditsPerDay': 0,
};

interface RunLayout {
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  configFile: string;
  logFile: string;
  xdgDataHome: string;
  xdgConfigHome: string;
  xdgCacheHome: string;
}

function runLayout(runDir: string): RunLayout {
  return {
    runDir,
    userDataDir: path.join(runDir, 'user-data'),
    extensionsDir: path.join(runDir, 'extensions'),
    configFile: path.join(runDir, 'config.yaml'),
    logFile: path.join(runDir, 'code-server.log'),
    xdgDataHome: path.join(runDir, 'xdg-data'),
    xdgConfigHome: path.join(runDir, 'xdg-config'),
    xdgCacheHome: path.join(runDir, 'xdg-cache'),
  };
}

/**
 * Writes `<userDataDir>/User/settings.json` as quiet defaults < settings already there < `settings`; a
 * setting given as undefined drops the quiet default (the profile's own value, if any, stands).
 * Shared with the desktop launch of `npm start`, which needs the same isolated profile.
 */
export function writeUserSettings(userDataDir: string, settings: Record<string, unknown> = {}): string {
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  let existing: Record<string, unknown> = {};
  if (fs.existsSync(settingsFile)) {
    try {
      existing = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      // Settings edited by hand may hold comments; refusing beats silently dropping the user's edits.
      throw new Error(`Cannot parse ${settingsFile} as JSON (${String(error)}); fix or delete it.`);
    }
  }
  const merged: Record<string, unknown> = { ...quietSettings, ...existing };
  for (const [key, value] of Object.entries(settings)) {
    // undefined: not a quiet default here; the profile's own value (or VS Code's default) stands.
    if (value !== undefined) merged[key] = value;
    else if (!(key in existing)) delete merged[key];
  }
  fs.writeFileSync(settingsFile, `${JSON.stringify(merged, null, 2)}\n`);
  return settingsFile;
}

/**
 * Registers a language pack for `language` the way installing one from the Marketplace would
 * (`<user data>/languagepacks.json`), with no translations of VS Code's own strings: the workbench stays
 * English, but the server now resolves the language instead of falling back to English, and extension
 * hosts report it, so extensions load their own translations. Real language packs cannot be downloaded here.
 */
export function writeStandInLanguagePack(userDataDir: string, language: string): void {
  const translations = path.join(userDataDir, 'stand-in-language-pack', `${language}.i18n.json`);
  fs.mkdirSync(path.dirname(translations), { recursive: true });
  fs.writeFileSync(translations, JSON.stringify({ contents: {} }));
  const packs = {
    [language]: {
      hash: `stand-in-${language}`,
      label: language,
      // The server reads the pack's extension when it lists installed languages; it need not exist.
      extensions: [{ extensionIdentifier: { id: `flora-tests.stand-in-language-pack-${language}` }, version: '0.0.0' }],
      translations: { vscode: translations },
    },
  };
  fs.writeFileSync(path.join(userDataDir, 'languagepacks.json'), JSON.stringify(packs, null, 2));
}

function prepareRunDirectory(runDir: string, settings?: Record<string, unknown>): RunLayout {
  const layout = runLayout(runDir);
  fs.mkdirSync(layout.extensionsDir, { recursive: true });
  writeUserSettings(layout.userDataDir, settings);
  // Without an explicit config file code-server writes ~/.config/code-server/config.yaml with a password.
  if (!fs.existsSync(layout.configFile)) fs.writeFileSync(layout.configFile, '');
  fs.mkdirSync(layout.xdgDataHome, { recursive: true });
  fs.mkdirSync(layout.xdgConfigHome, { recursive: true });
  fs.mkdirSync(layout.xdgCacheHome, { recursive: true });
  return layout;
}

/**
 * A private folder for the server's IPC sockets and temporary files (XDG_RUNTIME_DIR and TMPDIR), e.g.
 * the TypeScript extension's /tmp/vscode-typescript*. It lives in the system temp folder, not in the
 * run folder, because a Unix socket path must stay under 108 bytes and run folders can be deep.
 */
function makeRuntimeDirectory(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'flora-cs-'));
}

/**
 * The driver's environment minus what would confuse the server: VSCODE_* from a surrounding VS Code
 * terminal and the driver's NODE_OPTIONS. The XDG folders keep code-server's logs, heartbeat, device id
 * and IPC sockets out of $HOME and /tmp; an empty gallery stops failing Open VSX lookups.
 */
function serverEnvironment(layout: RunLayout, runtimeDirectory: string, extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('VSCODE_') && name !== 'NODE_OPTIONS') environment[name] = value;
  }
  return {
    ...environment,
    XDG_DATA_HOME: layout.xdgDataHome,
    XDG_CONFIG_HOME: layout.xdgConfigHome,
    XDG_CACHE_HOME: layout.xdgCacheHome,
    XDG_RUNTIME_DIR: runtimeDirectory,
    TMPDIR: runtimeDirectory,
    EXTENSIONS_GALLERY: '{}',
    ...extra,
  };
}

function profileArguments(layout: RunLayout): string[] {
  return ['--config', layout.configFile, '--user-data-dir', layout.userDataDir, '--extensions-dir', layout.extensionsDir];
}

/** The last `lineCount` lines of a log file, for error messages; empty when the file is missing. */
export function logTail(file: string, lineCount = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lineCount).join('\n');
  } catch {
    return '';
  }
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(`${url}/healthz`, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

async function stopProcessGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (!signalProcessGroup(pid, 'SIGTERM')) return;
  // The server exits at once on SIGTERM; its extension hosts and watchers may take a moment.
  for (let attempt = 0; attempt < 50; attempt++) {
    await sleep(100);
    if (!signalProcessGroup(pid, 0)) return;
  }
  signalProcessGroup(pid, 'SIGKILL');
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  assertEditorInstalled();
  // A stale server on a requested port would answer /healthz and pass for this one.
  if (options.port !== undefined && !(await isPortFree(options.port))) {
    throw new Error(`Port ${options.port} on ${loopbackHost} is already in use; stop what runs there or pick another port.`);
  }
  const ownsRunDir = options.runDir === undefined;
  const runDir = options.runDir ?? makeRunDirectory('code-server');
  const layout = prepareRunDirectory(runDir, options.settings);
  if (options.language !== undefined) writeStandInLanguagePack(layout.userDataDir, options.language);
  const port = options.port ?? (await findFreePort());
  const url = `http://${loopbackHost}:${port}`;

  const serverArguments = [
    codeServerEntry,
    ...profileArguments(layout),
    '--bind-addr',
    `${loopbackHost}:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--disable-proxy',
    '--ignore-last-opened',
    // A closed browser otherwise keeps its extension host alive for three hours.
    '--reconnection-grace-time',
    '5',
    // Without it the built workbench silently ignores the development-mode URL payload.
    '--vscode-option',
    'enable-smoke-test-driver',
    ...(options.language !== undefined ? ['--locale', options.language] : []),
    ...(options.extraArgs ?? []),
    options.workspace,
  ];
  const runtimeDirectory = makeRuntimeDirectory();
  // One log per start: a kept runDir (npm start) would otherwise grow a log across restarts.
  const logDescriptor = fs.openSync(layout.logFile, 'w');
  // detached = a new session and process group, so stop() can signal the server's whole tree
  // (SIGTERM to the server alone orphans its file watchers).
  const child = spawn(node24Binary, serverArguments, {
    cwd: runDir,
    detached: true,
    stdio: ['ignore', logDescriptor, logDescriptor],
    env: serverEnvironment(layout, runtimeDirectory, options.env),
  });
  fs.closeSync(logDescriptor);
  let exitDescription: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitDescription = signal ? `signal ${signal}` : `exit code ${String(code)}`;
      resolve(exitDescription);
    });
    child.once('error', (error) => {
      exitDescription = `spawn error ${error.message}`;
      resolve(exitDescription);
    });
  });

  const unregisterExitHook = onProcessExit(() => {
    if (child.pid !== undefined) signalProcessGroup(child.pid, 'SIGKILL');
    removeDirectory(runtimeDirectory);
    if (ownsRunDir) removeDirectory(runDir);
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await stopProcessGroup(child);
      unregisterExitHook();
      removeDirectory(runtimeDirectory);
      if (ownsRunDir) removeDirectory(runDir);
    })();
    return stopped;
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await healthy(url))) {
    if (exitDescription !== undefined || Date.now() > deadline) {
      const reason = exitDescription !== undefined ? `it stopped (${exitDescription})` : `no answer in ${readyTimeoutMs / 1000} s`;
      const tail = logTail(layout.logFile);
      await stop();
      throw new Error(`code-server did not become ready on ${url}: ${reason}. Log tail (${layout.logFile}):\n${tail}`);
    }
    await sleep(100);
  }

  return {
    url,
    port,
    runDir,
    userDataDir: layout.userDataDir,
    extensionsDir: layout.extensionsDir,
    logFile: layout.logFile,
    exited,
    stop,
  };
}

/**
 * Installs a packaged extension into the profile in `runDir` (the same layout startCodeServer uses), so a
 * server started afterwards on that runDir loads it like a user-installed extension. Returns the CLI output.
 */
export async function installVsix(vsixPath: string, runDir: string): Promise<string> {
  assertEditorInstalled();
  const layout = prepareRunDirectory(runDir);
  const commandArguments = [codeServerEntry, ...profileArguments(layout), '--install-extension', path.resolve(vsixPath)];
  const runtimeDirectory = makeRuntimeDirectory();
  return new Promise((resolve, reject) => {
    execFile(
      node24Binary,
      commandArguments,
      { cwd: runDir, env: serverEnvironment(layout, runtimeDirectory, undefined), timeout: 120_000 },
      (error, stdout, stderr) => {
        removeDirectory(runtimeDirectory);
        const output = `${stdout}${stderr}`;
        if (error || !/successfully installed/i.test(output)) {
          reject(new Error(`code-server --install-extension ${vsixPath} failed: ${error?.message ?? ''}\n${output}`));
        } else {
          resolve(output);
        }
      },
    );
  });
}

/**
 * Installs an unpacked extension folder (its package.json names publisher, name and version) into the
 * profile in `runDir` as `--install-extension` would a .vsix: a copy under the extensions folder, listed in
 * its extensions.json, which the server reads instead of scanning the folder. No packaging step, so a
 * test-only fixture in plain JavaScript loads as it is. Returns the extension's id.
 */
export function installExtensionFolder(folder: string, runDir: string): string {
  const layout = prepareRunDirectory(runDir);
  const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as {
    publisher: string;
    name: string;
    version: string;
  };
  const id = `${manifest.publisher}.${manifest.name}`.toLowerCase();
  const relativeLocation = `${id}-${manifest.version}`;
  const location = path.join(layout.extensionsDir, relativeLocation);
  fs.cpSync(folder, location, { recursive: true });
  const listFile = path.join(layout.extensionsDir, 'extensions.json');
  const listed = fs.existsSync(listFile) ? (JSON.parse(fs.readFileSync(listFile, 'utf8')) as Array<{ identifier: { id: string } }>) : [];
  const others = listed.filter((entry) => entry.identifier.id.toLowerCase() !== id);
  const entry = {
    identifier: { id },
    version: manifest.version,
    location: { $mid: 1, scheme: 'file', path: location },
    relativeLocation,
    metadata: { installedTimestamp: Date.now(), source: 'vsix', pinned: true },
  };
  fs.writeFileSync(listFile, JSON.stringify([...others, entry]));
  return id;
}
