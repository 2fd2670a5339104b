// The daily budget in a real VS Code (code-server) driven through Chromium: with today's budget smaller than a
// run, the run waits for a modal dialog only a person can answer, naming the run, its cost and where the day
// stands; declined, nothing reaches FLORA. The same gate holds for the chat tools (tested through
// vscode.lm.invokeTool in the host tier). Screenshot: test-results/screenshots/agents-budget-dialog.png,
// the README's picture of it.
import * as assert from 'assert';
import { openEditorSession, type EditorSession } from '../harness/session';
import { exactly } from '../harness/workbench';
import { startSandbox, type Sandbox } from '../sandbox/server';

describe('the daily budget, in the browser', function () {
  this.timeout(240_000);
  let sandbox: Sandbox;
  let session: EditorSession;

  before(async () => {
    sandbox = await startSandbox({ runDurationMs: 2_000 });
    session = await openEditorSession({
      // The test tiers turn the budget off (test/harness/codeServer.ts); this one sets a day's budget of 3.
      settings: { 'flora.baseUrl': sandbox.url, 'flora.pollIntervalSeconds': 2, 'flora.budget.creditsPerDay': 3 },
      extensionEnvironment: { FLORA_DEV_API_KEY: sandbox.apiKey },
      viewport: { width: 1400, height: 900 },
    });
    await session.workbench.waitForWorkbench();
    await session.workbench.openViewContainer('FLORA');
    // The technique list shows once the extension is active and has the key.
    await session.workbench.treeRow("Art Director's Critique").waitFor({ timeout: 60_000 });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      await session.workbench.screenshot(`failed-agents-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
    }
  });

  after(async () => {
    await session?.close();
    await sandbox?.close();
  });

  it('holds a run that would pass the budget until a person answers the dialog; declined, nothing is sent', async () => {
    const { workbench } = session;
    await workbench.runCommand('FLORA: Run Technique…');
    const quickInput = workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Run Technique');
    await quickInput.fill('studio shot');
    await quickInput.pickItem('Studio Shot');
    await quickInput.waitForTitle('Studio Shot: Product Image (1/1)');
    await quickInput.fill(`${sandbox.url}/samples/coral.png`);
    await quickInput.row(/Use "/).waitFor();
    await quickInput.accept();
    await quickInput.waitForTitle('Studio Shot: confirm the run');
    await quickInput.pickItem(/Run for 5 credits/);
    const dialog = workbench.dialog();
    await dialog.getByText(/Run Studio Shot for 5 credits\? It passes today's FLORA budget of 3 credits\./).waitFor({ timeout: 30_000 });
    await dialog.getByText(/Charged today: 0 credits/).waitFor();
    await new Promise((resolve) => setTimeout(resolve, 400)); // the dialog fades in
    await workbench.screenshot('agents-budget-dialog');
    await dialog.locator('.dialog-buttons .monaco-button', { hasText: exactly('Cancel') }).click();
    await dialog.waitFor({ state: 'hidden' });
    // Give a create that should not happen every chance to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.strictEqual(
      sandbox.requests.filter((request) => request.method === 'POST' && request.path.includes('/runs')).length,
      0,
      'nothing was sent to FLORA',
    );
  });
});
