// `node out/test/electron/runElectron.js`: the same in-host suite as runHostTests, in desktop VS Code
// through @vscode/test-electron, for machines that can download VS Code (this project's offline
// machine cannot; it uses code-server). FLORA_VSCODE_VERSION picks the version (default: stable);
// FLORA_TEST_GREP filters tests. Exits with VS Code's code.
import * as fs from 'fs';
import * as path from 'path';
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import { removeDirectory } from '../harness/cleanup';
import { cacheDirectory, extensionDevelopmentPath, hostTestsEntry, makeRunDirectory } from '../harness/paths';
import { copyFixtureWorkspace } from '../harness/workspace';

async function main(): Promise<number> {
  const runDirectory = makeRunDirectory('electron');
  const workspace = copyFixtureWorkspace(path.join(runDirectory, 'workspace'));
  const resultFile = path.join(runDirectory, 'result.txt');
  const extensionTestsEnv: Record<string, string | undefined> = { FLORA_TEST_RESULT_FILE: resultFile };
  if (process.env.FLORA_TEST_GREP) extensionTestsEnv.FLORA_TEST_GREP = process.env.FLORA_TEST_GREP;
  try {
    return await runTests({
      version: process.env.FLORA_VSCODE_VERSION || 'stable',
      // Downloads land next to code-server in the git-ignored cache, not in the working directory.
      cachePath: cacheDirectory,
      extensionDevelopmentPath,
      extensionTestsPath: hostTestsEntry,
      extensionTestsEnv,
      // A fresh profile per run, and no other extensions: only the one under test loads.
      launchArgs: [
        workspace,
        '--disable-extensions',
        `--user-data-dir=${path.join(runDirectory, 'user-data')}`,
        `--extensions-dir=${path.join(runDirectory, 'extensions')}`,
      ],
    });
  } catch (error) {
    // runTests rejects on a non-zero exit; the result file below already says which tests failed.
    if (error instanceof TestRunFailedError) return error.code ?? 1;
    throw error;
  } finally {
    if (fs.existsSync(resultFile)) process.stdout.write(fs.readFileSync(resultFile, 'utf8'));
    removeDirectory(runDirectory);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
