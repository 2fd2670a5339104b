// The module named by `extensionTestsPath`: the extension host (code-server's or desktop VS Code's via
// @vscode/test-electron) requires it and awaits run(). The host's console goes to the browser (or the
// Electron output), not to the driver, so the reporter's lines are also written to a file the driver
// prints: FLORA_TEST_RESULT_FILE, ending with `N passed, N failed`.
import * as fs from 'fs';
import * as path from 'path';
import { format } from 'util';
import Mocha from 'mocha';

const suiteDirectory = path.join(__dirname, 'suite');

function writeResultFile(lines: string[]): void {
  const resultFile = process.env.FLORA_TEST_RESULT_FILE;
  if (resultFile) fs.writeFileSync(resultFile, `${lines.join('\n')}\n`);
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 60_000 });
  if (process.env.FLORA_TEST_GREP) mocha.grep(process.env.FLORA_TEST_GREP);

  const lines: string[] = [];
  const printToConsole = Mocha.reporters.Base.consoleLog;
  Mocha.reporters.Base.consoleLog = (...data: unknown[]): void => {
    lines.push(format(...data));
    printToConsole(...data);
  };

  return new Promise<void>((resolve, reject) => {
    const finish = (passed: number, failed: number, error?: Error): void => {
      Mocha.reporters.Base.consoleLog = printToConsole;
      lines.push(`${passed} passed, ${failed} failed`);
      writeResultFile(lines);
      if (error) reject(error);
      else resolve();
    };
    try {
      for (const file of fs.readdirSync(suiteDirectory).sort()) {
        if (file.endsWith('.test.js')) mocha.addFile(path.join(suiteDirectory, file));
      }
      const runner = mocha.run((failures) => {
        const passed = runner.stats?.passes ?? 0;
        if (failures > 0) {
          finish(passed, failures, new Error(`${failures} host test(s) failed.`));
        } else if (passed === 0) {
          // A filter that matches nothing, or a suite folder that compiled to nothing, must not look green.
          const grep = process.env.FLORA_TEST_GREP;
          lines.push(`No host tests ran${grep ? ` (FLORA_TEST_GREP=${grep} matched none)` : ''}.`);
          finish(0, 0, new Error('No host tests ran.'));
        } else {
          finish(passed, 0);
        }
      });
    } catch (error) {
      // A suite file that throws while loading never reaches the reporter; record it for the driver.
      lines.push(`Loading the host test suite failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      finish(0, 1, error instanceof Error ? error : new Error(String(error)));
    }
  });
}
