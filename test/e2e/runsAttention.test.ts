// Runs that need attention (issue 16, items 3 and 4), in a real VS Code (code-server) driven through
// Chromium: a live run is stopped from its row's inline action in the Runs view, shows "stopped following"
// and is resumed the same way; a run that finishes while the Explorer fills the side bar badges the FLORA
// icon, and the status bar item says it is done for a few seconds before it hides. Screenshots land in
// test-results/screenshots/attention-*.png.
import * as assert from 'assert';
import { openEditorSession, type EditorSession } from '../harness/session';
import type { Locator } from 'playwright-core';
import { waitFor } from '../common/wait';
import { startSandbox, type Sandbox } from '../sandbox/server';

/** The image input: a sandbox sample, so everything the run makes the editor fetch stays on loopback. */
let IMAGE_URL = '';

/** An action's title shows after the pointer rests on it a moment, then fades in. */
async function titleShown(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
}

describe('runs that need attention, in the browser', function () {
  this.timeout(240_000);
  let sandbox: Sandbox;
  let session: EditorSession;

  before(async () => {
    // Long enough to find the row and stop it while it runs; short enough for CI.
    sandbox = await startSandbox({ runDurationMs: 25_000 });
    IMAGE_URL = `${sandbox.url}/samples/coral.png`;
    session = await openEditorSession({
      settings: { 'flora.baseUrl': sandbox.url, 'flora.pollIntervalSeconds': 2, 'flora.confirmBeforeRun': false },
      extensionEnvironment: { FLORA_DEV_API_KEY: sandbox.apiKey },
      viewport: { width: 1400, height: 900 },
    });
    // The palette lists FLORA's commands once the extension is active, which its technique list shows.
    await session.workbench.waitForWorkbench();
    await session.workbench.openViewContainer('FLORA');
    await session.workbench
      .treeRow("Art Director's Critique")
      .waitFor({ timeout: 60_000 })
      .catch(async (error: unknown) => {
        await session.workbench.screenshot('failed-attention-start');
        throw error;
      });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      await session.workbench.screenshot(`failed-attention-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
    }
  });

  after(async () => {
    await session?.close();
    await sandbox?.close();
  });

  /** Starts a Studio Shot run from the palette, as a person does, and waits for the status bar to show it. */
  async function startStudioShot(): Promise<void> {
    const { workbench } = session;
    await workbench.runCommand('FLORA: Run Technique…');
    const quickInput = workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Run Technique');
    await quickInput.fill('studio shot');
    await quickInput.pickItem('Studio Shot');
    await quickInput.waitForTitle(/Studio Shot/);
    await quickInput.fill(IMAGE_URL);
    await quickInput.accept();
    await quickInput.waitForClosed();
    await workbench.statusBarItem(/Studio Shot/).waitFor({ timeout: 30_000 });
  }

  /** A row's inline action by its title (VS Code renders it on hover, labelled by the command's title). */
  function inlineAction(row: Locator, title: string): Locator {
    return row.locator(`.actions a.action-label[aria-label=${JSON.stringify(title)}]`).first();
  }

  function runsRow(text: RegExp): Locator {
    return session.workbench.viewPane('Runs').locator('.monaco-list-row').filter({ hasText: text }).first();
  }

  /** The badge on the FLORA activity bar icon ('' when there is none). */
  async function floraBadge(): Promise<string> {
    const badge = session.page
      .locator('.activitybar .action-item')
      .filter({ has: session.page.locator('a.action-label[aria-label^="FLORA"]') })
      .first()
      .locator('.badge .badge-content');
    if (!(await badge.isVisible())) return '';
    return ((await badge.textContent()) ?? '').trim();
  }

  it("stops following a live run from its row's inline action; the row says so and resumes the same way", async () => {
    const { workbench, page } = session;
    await startStudioShot();
    await workbench.openViewContainer('FLORA');
    const row = runsRow(/Studio Shot/);
    await row.waitFor({ timeout: 30_000 });
    await row.hover();
    const stop = inlineAction(row, 'Stop Following');
    await stop.waitFor({ state: 'visible', timeout: 10_000 });
    // The pointer rests on the action so that its title shows, as a person sees it before clicking.
    await stop.hover();
    await titleShown();
    await workbench.screenshot('attention-01-inline-stop-following');
    const runId = sandbox.runs()[0]?.runId;
    assert.ok(runId, 'the run was created');
    await stop.click();
    await runsRow(/stopped following/).waitFor({ timeout: 15_000 });
    assert.strictEqual(await workbench.statusBarItem(/Studio Shot \d+%/).isVisible(), false, 'nothing is followed any more');
    // The run goes on at FLORA: not following it is not a cancel.
    assert.strictEqual(sandbox.runs().length, 1);
    await page.mouse.move(0, 0);
    await row.hover();
    const resume = inlineAction(row, 'Resume Following');
    await resume.waitFor({ state: 'visible', timeout: 10_000 });
    await resume.hover();
    await titleShown();
    await workbench.screenshot('attention-02-stopped-row-resume');
    await resume.click();
    // Followed again, to its end; one run at FLORA, the same runId.
    await runsRow(/completed/).waitFor({ timeout: 60_000 });
    const runs = sandbox.runs();
    assert.strictEqual(runs.length, 1, 'one run, created once');
    assert.strictEqual(runs[0]?.runId, runId);
    assert.strictEqual(await floraBadge(), '', 'a run that ends in sight of the Runs view leaves no badge');
  });

  it('badges the FLORA icon with a run that finished while the Explorer was shown, and shows the result in the status bar', async () => {
    const { workbench } = session;
    const completedBefore = sandbox.runs().filter((run) => run.status === 'completed').length;
    await startStudioShot();
    await workbench.openViewContainer('Explorer');
    const done = workbench.statusBarItem(/Studio Shot done/);
    await done.waitFor({ timeout: 60_000 });
    await waitFor('the badge on the FLORA icon', async () => ((await floraBadge()) === '1' ? true : undefined), 10_000, 200);
    await workbench.screenshot('attention-03-badge-and-status-result');
    assert.strictEqual(sandbox.runs().filter((run) => run.status === 'completed').length, completedBefore + 1);
    // The result hides by itself after a few seconds.
    await done.waitFor({ state: 'hidden', timeout: 15_000 });
    await workbench.screenshot('attention-04-status-result-hidden');
    assert.strictEqual(await floraBadge(), '1', 'the badge stays until the Runs view is seen');
    // The badge covers the icon's centre, where a click lands; the palette shows the Runs view as well.
    await workbench.runCommand('FLORA: Show Runs');
    await waitFor('the badge to clear', async () => ((await floraBadge()) === '' ? true : undefined), 10_000, 200);
  });
});
