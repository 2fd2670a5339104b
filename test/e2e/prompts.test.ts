// The prompts of a run in the real workbench (issue 16, items 1 and 6): the image prompt says why an
// http:// link is refused once, in the typed item's own line, and the reason goes the moment the link is
// fixed or the field cleared; the confirmation lists each input on its own line and goes Back to the last
// input with its value kept. Screenshots of each state land in test-results/screenshots/prompts-*.png.
import * as assert from 'assert';
import { openEditorSession, type EditorSession } from '../harness/session';
import { fadedIn, setApiKeyAsPerson } from '../harness/workbench';
import { startSandbox, type Sandbox } from '../sandbox/server';

const HTTP_URL = 'http://old-host.example/sneaker.png';
const HTTPS_URL = 'https://media.flora.ai/examples/sneaker.png';
const REFUSAL = /only accepts https:\/\/ links/;

describe('the run prompts in the browser: one validation message, and a confirmation with Back', function () {
  this.timeout(300_000);
  let sandbox: Sandbox;
  let session: EditorSession;

  before(async () => {
    sandbox = await startSandbox({ runDurationMs: 2_000 });
    session = await openEditorSession({
      settings: { 'flora.baseUrl': sandbox.url, 'flora.pollIntervalSeconds': 2 },
      viewport: { width: 1400, height: 900 },
    });
    const { workbench } = session;
    await setApiKeyAsPerson(workbench, sandbox.apiKey);
    await workbench.notification('FLORA API key saved.');
    // A toast on screen takes the first Escape for itself (it hides), not the prompt's.
    await workbench.runCommand('Notifications: Clear All Notifications');
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      await session.workbench.screenshot(`prompts-failed-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
    }
  });

  after(async () => {
    await session?.close();
    await sandbox?.close();
  });

  /** How many times the refusal is written anywhere in the prompt (title, rows, message). */
  async function refusalsShown(): Promise<number> {
    const quickInput = session.workbench.quickInput();
    return quickInput.widget.getByText(REFUSAL).count();
  }

  it('Studio Shot: an http:// link is refused once; fixing it or clearing the field removes the reason at once', async () => {
    const { workbench } = session;
    const quickInput = workbench.quickInput();
    await workbench.runCommand('FLORA: Run Technique…');
    await quickInput.waitForTitle('FLORA: Run Technique');
    await quickInput.fill('studio shot');
    await quickInput.pickItem('Studio Shot');
    const title = 'Studio Shot: Product Image (1/1)';
    await quickInput.waitForTitle(title);

    await quickInput.fill(HTTP_URL);
    await quickInput.widget.getByText(REFUSAL).first().waitFor();
    await quickInput.accept();
    // Enter on a refused link keeps the prompt open; the title stays as it was.
    await fadedIn();
    assert.strictEqual(await quickInput.title(), title, 'the title carries no error');
    assert.strictEqual(await refusalsShown(), 1, 'the reason is shown once');
    assert.match((await quickInput.row(/Use "http:/).textContent()) ?? '', REFUSAL, "it is in the typed item's row");
    await workbench.screenshot('prompts-1-http-refused');

    await quickInput.fill(HTTPS_URL);
    await quickInput.row(/Use "https:/).waitFor();
    await fadedIn();
    assert.strictEqual(await refusalsShown(), 0, 'fixed: no reason left');
    assert.strictEqual(await quickInput.title(), title);
    await workbench.screenshot('prompts-2-https-fine');

    await quickInput.fill(HTTP_URL);
    await quickInput.widget.getByText(REFUSAL).first().waitFor();
    await quickInput.fill('');
    await quickInput.row(/Use "/).waitFor({ state: 'detached' });
    await fadedIn();
    assert.strictEqual(await refusalsShown(), 0, 'cleared: no reason left');
    assert.strictEqual(await quickInput.widget.getByText('old-host.example').count(), 0, 'nor the old host');
    assert.strictEqual(await quickInput.title(), title);
    await workbench.screenshot('prompts-3-cleared');

    await quickInput.input.click();
    await quickInput.cancel();
    await quickInput.waitForClosed();
    assert.strictEqual(sandbox.runs().length, 0, 'nothing was run');
  });

  it('the confirmation lists each input on its own line, and Back returns to the last input with its value', async () => {
    const { workbench } = session;
    const quickInput = workbench.quickInput();
    await workbench.runCommand('FLORA: Run Technique…');
    await quickInput.waitForTitle('FLORA: Run Technique');
    await quickInput.fill('facade swap');
    await quickInput.pickItem('Facade Swap');
    await quickInput.waitForTitle('Facade Swap: Building Image (1/2)');
    await quickInput.fill(HTTPS_URL);
    await quickInput.row(/Use "/).waitFor();
    await quickInput.accept();
    await quickInput.waitForTitle('Facade Swap: Material Prompt (2/2)');
    await quickInput.input.click();
    await quickInput.fill('weathered copper panels');
    await quickInput.accept();
    await quickInput.waitForTitle('Facade Swap: confirm the run');
    await quickInput.row(/Run for 7 credits/).waitFor();
    await fadedIn();
    const rows = await quickInput.items();
    assert.ok(rows.includes(`Building Image: ${HTTPS_URL}`), JSON.stringify(rows));
    assert.ok(rows.includes('Material Prompt: weathered copper panels'), JSON.stringify(rows));
    const back = quickInput.widget.locator('.quick-input-titlebar .action-label.codicon-quick-input-back');
    assert.strictEqual(await back.count(), 1, 'the confirmation has Back');
    await workbench.screenshot('prompts-4-confirm-inputs');

    await back.click();
    await quickInput.waitForTitle('Facade Swap: Material Prompt (2/2)');
    assert.strictEqual(await quickInput.input.inputValue(), 'weathered copper panels', 'the value is kept');
    // The pointer off the Back button (its tooltip would cover the value), the focus in the field.
    await workbench.page.mouse.move(700, 500);
    await quickInput.input.click();
    await fadedIn();
    await workbench.screenshot('prompts-5-back-to-input');
    await quickInput.cancel();
    await quickInput.waitForClosed();
    assert.strictEqual(sandbox.runs().length, 0, 'nothing was run');
  });
});
