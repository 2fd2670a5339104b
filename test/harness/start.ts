// `npm start`: try the extension for real against the local sandbox FLORA server. Assumes the extension
// is built (dist/) and the tests are compiled (out/); the npm script chains both.
//
// With a desktop `code` on PATH (and a display) it opens VS Code with the extension in development
// mode; otherwise it serves code-server and prints the URL to open. Either way the editor gets an
// isolated profile under .vscode-test/start/ whose settings point flora.baseUrl at the sandbox, and the
// sandbox key arrives as FLORA_DEV_API_KEY (read by the extension in development mode only). Uploads of
// local files go to the sandbox's S3-protocol storage (flora.upload.* in the same settings; its test keys
// arrive as FLORA_DEV_S3_ACCESS_KEY_ID / FLORA_DEV_S3_SECRET_ACCESS_KEY), and the workspace holds sample
// images and a video under samples/ (drawn at start), so a first run from a local file needs no set-up.
// The user's own VS Code settings and secrets are never touched.
//
// Environment: FLORA_SANDBOX_PORT (default 7717), FLORA_START_PORT (code-server, default 7718),
// FLORA_START_MODE=desktop|code-server to choose the editor, VERBOSE=1 to print sandbox requests.
//
// `npm start -- --hostile` starts the sandbox in hostile mode (test/sandbox/hostile.ts) and opens a
// separate profile and workspace under .vscode-test/start-hostile/, so nothing hostile stays in the
// normal demo: Your Techniques lists every hostile technique, and the workspace's own settings try to
// send downloads outside it. The sandbox then always prints its requests, and a line when a redirect
// reached its second loopback server.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HOSTILE_MODE_SLUGS } from '../sandbox/hostile';
import { renderPng, SAMPLE_VIDEO_PATH } from '../sandbox/media';
import { type Sandbox, startSandbox } from '../sandbox/server';
import { SANDBOX_S3_BUCKET, SANDBOX_S3_CREDENTIALS, SANDBOX_S3_REGION } from '../sandbox/storage';
import { HOSTILE_FAILURE_SLUG, HOSTILE_SLUG } from '../sandbox/techniques';
import { workbenchUrl } from './browser';
import { CodeServer, logTail, startCodeServer, writeUserSettings } from './codeServer';
import { cacheDirectory, codeServerEntry, extensionDevelopmentPath, node24Binary, repositoryRoot } from './paths';
import { portFromEnvironment, preferredOrFreePort } from './ports';
import { copyFixtureWorkspace } from './workspace';

interface StartOptions {
  hostile: boolean;
}

const USAGE = [
  'Usage: npm start [-- --hostile]',
  '',
  '  --hostile   serve what a hostile FLORA server could send (command links in names, snippet-breaking',
  '              output URLs, redirects to another loopback server, off-document replies), with the',
  '              hostile techniques already in Your Techniques, in a profile of its own',
].join('\n');

function parseArguments(args: readonly string[]): StartOptions {
  const options: StartOptions = { hostile: false };
  for (const argument of args) {
    if (argument === '--hostile') options.hostile = true;
    else if (argument === '--help' || argument === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`Unknown argument: ${argument}\n${USAGE}`);
  }
  return options;
}

function parseArgumentsOrExit(args: readonly string[]): StartOptions {
  try {
    return parseArguments(args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
}

const startOptions = parseArgumentsOrExit(process.argv.slice(2));
const startDirectory = path.join(cacheDirectory, startOptions.hostile ? 'start-hostile' : 'start');
const defaultSandboxPort = 7717;
const defaultEditorPort = 7718;
const hostileSlugs = [HOSTILE_SLUG, HOSTILE_FAILURE_SLUG, ...HOSTILE_MODE_SLUGS];

/**
 * The editor's user settings: the sandbox's URL, uploads to the sandbox's S3 storage, and in hostile mode
 * the hostile techniques to try.
 */
function editorSettings(sandbox: Sandbox): Record<string, unknown> {
  const settings: Record<string, unknown> = {
    'flora.baseUrl': sandbox.url,
    'flora.upload.target': 's3',
    'flora.upload.endpoint': `${sandbox.url}/s3`,
    'flora.upload.s3.bucket': SANDBOX_S3_BUCKET,
    'flora.upload.s3.region': SANDBOX_S3_REGION,
    // The test tiers' quiet defaults turn the daily budget off; a person trying the extension gets the
    // real default (undefined: the key is left out of settings.json).
    'flora.budget.creditsPerDay': undefined,
  };
  return startOptions.hostile ? { ...settings, 'flora.techniques': hostileSlugs } : settings;
}

/**
 * What the extension reads in development mode only: the sandbox's API key and its storage's test keys,
 * and a request to open the walkthrough on its first activation in the profile (VS Code opens it itself
 * only after an install), so the first `npm start` shows it to a newcomer and later ones do not.
 */
function developmentEnvironment(sandbox: Sandbox): Record<string, string> {
  return {
    FLORA_DEV_OPEN_WALKTHROUGH: '1',
    FLORA_DEV_API_KEY: sandbox.apiKey,
    FLORA_DEV_S3_ACCESS_KEY_ID: SANDBOX_S3_CREDENTIALS.accessKeyId,
    FLORA_DEV_S3_SECRET_ACCESS_KEY: SANDBOX_S3_CREDENTIALS.secretAccessKey,
  };
}

/** The sample inputs of the demo workspace: three product shots and a clip, under samples/. */
const SAMPLE_MEDIA_FILES = ['samples/sneaker.png', 'samples/mug.png', 'samples/lamp.png', 'samples/clip.webm'] as const;

/**
 * Draws the sample images (and copies the sandbox's clip) into the workspace, leaving any already there:
 * generated rather than committed, so the repository holds no binary fixtures beside the sandbox's clip.
 */
function addSampleMedia(workspace: string): void {
  for (const file of SAMPLE_MEDIA_FILES) {
    const target = path.join(workspace, file);
    if (fs.existsSync(target)) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (file.endsWith('.webm')) fs.copyFileSync(SAMPLE_VIDEO_PATH, target);
    else fs.writeFileSync(target, renderPng(`start/${path.basename(file)}`, 'gradient'));
  }
}

function display(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative || '.';
}

/** The preferred port keeps a saved flora.baseUrl valid across restarts; a taken one must not block. */
async function startSandboxOnPreferredPort(): Promise<Sandbox> {
  // In hostile mode the requests are the point: the log shows what the extension did with each attack.
  const verbose = process.env.VERBOSE || startOptions.hostile;
  const log = verbose ? (line: string): void => console.log(`[sandbox] ${line}`) : undefined;
  const preferred = portFromEnvironment('FLORA_SANDBOX_PORT', defaultSandboxPort);
  const hostile = startOptions.hostile;
  try {
    return await startSandbox({ port: preferred, log, hostile });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    console.log(`Port ${preferred} is taken; the sandbox uses a free port instead.`);
    return startSandbox({ port: 0, log, hostile });
  }
}

/** The demo workspace is copied once and then kept, so what the user inserted survives a restart. */
function demoWorkspace(): string {
  const workspace = path.join(startDirectory, 'workspace');
  if (!fs.existsSync(workspace)) {
    copyFixtureWorkspace(workspace);
    if (startOptions.hostile) addHostileWorkspaceFiles(workspace);
  }
  // Also into a workspace kept from before the samples existed.
  addSampleMedia(workspace);
  return workspace;
}

/**
 * A hostile workspace: its own settings point downloads outside it and skip the cost confirmation, and
 * template files (Svelte, Vue, Razor, Handlebars) wait for an output URL to be inserted into them.
 * The folder it aims at stays inside .vscode-test/start-hostile/, so even a careless extension only
 * writes there.
 */
function addHostileWorkspaceFiles(workspace: string): void {
  const settings = { 'flora.outputFolder': '../outside-the-workspace', 'flora.confirmBeforeRun': false };
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  const templates: Record<string, string> = {
    'page.svelte': '<script>\n  let name = "demo";\n</script>\n\n<h1>Hello {name}</h1>\n<!-- insert an output here -->\n',
    'page.vue': '<template>\n  <div>\n    <!-- insert an output here -->\n  </div>\n</template>\n',
    'page.cshtml': '@{\n  ViewData["Title"] = "Demo";\n}\n<div>\n  <!-- insert an output here -->\n</div>\n',
    'page.hbs': '<div>\n  {{!-- insert an output here --}}\n</div>\n',
    'notes.md': '# Notes\n\nInsert an output below:\n\n',
  };
  for (const [name, content] of Object.entries(templates)) fs.writeFileSync(path.join(workspace, name), content);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * A desktop `code` launcher that can open a window here, or undefined. Not usable: no display on
 * Linux, or the `code` of a remote session (VSCODE_IPC_HOOK_CLI), which opens a window in the client
 * and ignores --user-data-dir; code-server (whose port such a client can forward) serves those cases.
 */
function findDesktopCode(): string | undefined {
  const mode = process.env.FLORA_START_MODE;
  if (mode === 'code-server') return undefined;
  const forced = mode === 'desktop';
  if (!forced && process.env.VSCODE_IPC_HOOK_CLI) return undefined;
  if (!forced && process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return undefined;
  const names = process.platform === 'win32' ? ['code.cmd'] : ['code'];
  for (const directory of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of names) {
      const candidate = path.join(directory, name);
      if (directory && isExecutable(candidate)) return candidate;
    }
  }
  if (forced) throw new Error('FLORA_START_MODE=desktop but no `code` command is on PATH.');
  return undefined;
}

/** The launcher hands off to the Electron app and exits; the app inherits this environment. */
function launchDesktop(code: string, sandbox: Sandbox, workspace: string): string {
  const profile = path.join(startDirectory, 'desktop');
  const userDataDir = path.join(profile, 'user-data');
  const extensionsDir = path.join(profile, 'extensions');
  writeUserSettings(userDataDir, editorSettings(sandbox));
  fs.mkdirSync(extensionsDir, { recursive: true });
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Variables of a surrounding VS Code terminal would make the launcher talk to that instance.
    if (!name.startsWith('VSCODE_') && name !== 'ELECTRON_RUN_AS_NODE') environment[name] = value;
  }
  Object.assign(environment, developmentEnvironment(sandbox));
  const launcher = spawn(
    code,
    [
      `--extensionDevelopmentPath=${extensionDevelopmentPath}`,
      `--user-data-dir=${userDataDir}`,
      `--extensions-dir=${extensionsDir}`,
      '--new-window',
      '--skip-welcome',
      '--skip-release-notes',
      '--disable-workspace-trust',
      workspace,
    ],
    { env: environment, stdio: 'inherit', shell: process.platform === 'win32' },
  );
  launcher.on('error', (error) => console.error(`Could not run ${code}: ${error.message}`));
  return profile;
}

/** A newcomer without code-server gets it installed on first use (no browser needed: they bring their own). */
function ensureCodeServerInstalled(): void {
  if (fs.existsSync(codeServerEntry) && fs.existsSync(node24Binary)) return;
  console.log('First run: installing code-server (VS Code in the browser) into .vscode-test/ — a few minutes, once.');
  const result = spawnSync('bash', [path.join(repositoryRoot, 'test', 'harness', 'install-editor.sh'), '--no-browser'], {
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('Installing code-server failed; see the output above.');
}

function banner(lines: Array<[string, string]>): void {
  const width = Math.max(...lines.map(([label]) => label.length));
  console.log('\nFLORA for VS Code: try it for real\n');
  for (const [label, value] of lines) console.log(`  ${label.padEnd(width)}  ${value}`);
  console.log('');
}

async function main(): Promise<void> {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionDevelopmentPath, 'package.json'), 'utf8')) as {
    main: string;
  };
  if (!fs.existsSync(path.join(extensionDevelopmentPath, manifest.main))) {
    throw new Error(`${manifest.main} is missing; run \`npm run build\` (npm start does it for you).`);
  }
  const sandbox = await startSandboxOnPreferredPort();
  let server: CodeServer | undefined;
  let stopping = false;
  const stop = async (exitCode: number): Promise<never> => {
    stopping = true;
    await server?.stop();
    await sandbox.close().catch(() => undefined);
    process.exit(exitCode);
  };
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    console.log('\nStopping…');
    void stop(0);
  });
  process.on('SIGTERM', () => void stop(0));

  try {
    const workspace = demoWorkspace();
    const code = findDesktopCode();
    const sandboxLines: Array<[string, string]> = [
      ['Sandbox FLORA API', sandbox.url],
      ['Sandbox API key', `${sandbox.apiKey}  (already handed to the extension)`],
      ['Workspace', display(workspace)],
      ['Sample files', `${SAMPLE_MEDIA_FILES.join(', ')}  (right-click → Run FLORA Technique with This File)`],
      ['Upload storage', `${sandbox.url}/s3/${SANDBOX_S3_BUCKET}  (S3 protocol; its test keys are already handed over)`],
    ];
    const hostile = sandbox.hostile;
    if (hostile !== undefined) {
      sandboxLines.push(
        ['Hostile mode', `Your Techniques lists ${hostileSlugs.join(', ')}`],
        ['Second server', `${hostile.secretUrl}  (redirects aim here; "SECOND SERVER REACHED" below means a leak)`],
      );
    }
    if (code) {
      const profile = launchDesktop(code, sandbox, workspace);
      banner([
        ['VS Code', `opening a window with the extension in development mode (${code})`],
        ['Editor profile', `${display(profile)}  (your own settings and extensions are untouched)`],
        ...sandboxLines,
        ['Stop', 'Ctrl+C here stops the sandbox; close the VS Code window yourself'],
      ]);
      return;
    }

    ensureCodeServerInstalled();
    const port = await preferredOrFreePort(portFromEnvironment('FLORA_START_PORT', defaultEditorPort));
    const runDir = path.join(startDirectory, 'code-server');
    fs.mkdirSync(runDir, { recursive: true });
    server = await startCodeServer({ workspace, port, runDir, settings: editorSettings(sandbox) });
    const url = workbenchUrl({
      base: server.url,
      folder: workspace,
      extensionDevelopmentPath,
      extensionEnvironment: developmentEnvironment(sandbox),
    });
    banner([
      ['VS Code (code-server)', `${server.url}  (no desktop \`code\` here; set FLORA_START_MODE to choose)`],
      ['Editor profile', `${display(runDir)}  (your own settings and extensions are untouched)`],
      ...sandboxLines,
      ['Stop', 'Ctrl+C'],
    ]);
    console.log(`Open this URL in a browser on this machine (it loads the extension in development mode):\n\n${url}\n`);
    console.log(`On another machine, forward port ${port} first, e.g. ssh -L ${port}:127.0.0.1:${port} <this host>.\n`);
    const description = await server.exited;
    if (!stopping) {
      console.error(`code-server stopped unexpectedly (${description}). Log tail:\n${logTail(server.logFile)}`);
      await stop(1);
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stop(1);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
