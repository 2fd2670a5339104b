// FLORA's run tool in VS Code's chat view, in a real VS Code (code-server) driven through Chromium: a person
// writes `#flora_run_technique run studio shot on <url>`, the chat asks "Run Studio Shot for 5 credits?"
// before anything reaches FLORA, and only after Allow is the run created, followed to its end and reported.
//
// There is no real model offline, so a test-only extension (test/fixtures/scripted-model) is installed into
// the session's profile: a language model provider whose script calls flora_run_technique, and a minimal
// participant, @floratest, that runs the tool-calling loop through vscode.lm.invokeTool with the chat
// request's token. VS Code's built-in agent is Copilot's, which opens "Sign in to use GitHub Copilot" on
// the first request and answers nothing without GitHub, so the participant stands in for it; the
// confirmation, its wording and the Allow button are VS Code's own, fed by the tool's prepareInvocation.
// Screenshots land in test-results/screenshots/chat-*.png.
import * as assert from 'assert';
import * as path from 'path';
import { waitFor } from '../common/wait';
import { repositoryRoot } from '../harness/paths';
import { openEditorSession, type EditorSession } from '../harness/session';
import { startSandbox, type Sandbox } from '../sandbox/server';

const scriptedModel = path.join(repositoryRoot, 'test', 'fixtures', 'scripted-model');

describe('FLORA tools in the chat view, in the browser', function () {
  this.timeout(240_000);
  let sandbox: Sandbox;
  let session: EditorSession;

  before(async () => {
    sandbox = await startSandbox({ runDurationMs: 3_000 });
    session = await openEditorSession({
      settings: { 'flora.baseUrl': sandbox.url, 'flora.pollIntervalSeconds': 2, 'chat.disableAIFeatures': false },
      extensionEnvironment: { FLORA_DEV_API_KEY: sandbox.apiKey },
      viewport: { width: 1400, height: 900 },
      extraExtensions: [scriptedModel],
    });
    // FLORA's tools are registered when it activates, which its technique list shows.
    await session.workbench.openViewContainer('FLORA');
    await session.workbench
      .treeRow("Art Director's Critique")
      .waitFor({ timeout: 60_000 })
      .catch(async (error: unknown) => {
        await session.workbench.screenshot('failed-chat-start');
        throw error;
      });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      await session.workbench.screenshot(`failed-chat-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
    }
  });

  after(async () => {
    await session?.close();
    await sandbox?.close();
  });

  it('asks for the cost in the chat before a run is sent, and runs it only after Allow', async () => {
    const { workbench, page } = session;
    const creates = (): number => sandbox.requests.filter((request) => request.method === 'POST').length;
    await workbench.runCommand('Chat: Open Chat');
    // The chat fills the window, so the confirmation's text is not cut off in the screenshots.
    await workbench.runCommand('View: Maximize Secondary Side Bar');
    const chat = page.locator('.interactive-session').filter({ visible: true }).first();
    const input = chat.locator('.interactive-input-part .interactive-input-editor').first();
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    // The scripted model is the only one, so the picker selects it.
    await chat.locator('.interactive-input-part').getByText('FLORA Scripted', { exact: false }).first().waitFor({ timeout: 30_000 });

    const imageUrl = `${sandbox.url}/samples/coral.png`;
    await input.click();
    // Each completion list that opens while typing is closed, so typing goes on in the input.
    await page.keyboard.type('@floratest', { delay: 20 });
    await page.keyboard.press('Escape');
    await page.keyboard.type(' #flora_run_technique', { delay: 20 });
    await page.keyboard.press('Escape');
    await page.keyboard.type(` run studio shot on ${imageUrl}`);
    // `#flora_run_technique` resolves to the tool: the input shows it as attached context.
    await chat.locator('.chat-attached-context').getByText('flora_run_technique').first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');

    // VS Code shows a pending tool confirmation above the input (a hidden copy stays in the response).
    const confirmation = chat.locator('.chat-tool-confirmation-carousel-container').filter({ visible: true }).first();
    await confirmation
      .getByText('Run Studio Shot for 5 credits?', { exact: true })
      .filter({ visible: true })
      .first()
      .waitFor({ timeout: 30_000 });
    await workbench.screenshot('chat-01-confirm-cost');
    // Reading the cost is all that happened: no run was created at FLORA.
    assert.strictEqual(creates(), 0, 'nothing is sent before the person allows it');
    assert.deepStrictEqual(sandbox.runs(), []);
    assert.ok(
      sandbox.requests.some((request) => request.method === 'GET' && request.path.endsWith('/techniques/studio-shot')),
      'the confirmation read the technique (its cost) from FLORA',
    );

    // The primary button of VS Code's confirmation ("Allow in this Session" in 1.139; its menu has the others).
    const buttons = confirmation.locator('.chat-confirmation-widget-container .monaco-button').filter({ visible: true });
    await buttons
      .filter({ hasText: /^Allow/ })
      .first()
      .click();
    const runs = await waitFor(
      'the run to complete at FLORA',
      () => {
        const all = sandbox.runs();
        return all.length === 1 && all[0]?.status === 'completed' ? all : undefined;
      },
      60_000,
    );
    assert.strictEqual(creates(), 1, 'one run was created');
    assert.strictEqual(runs[0]?.slug, 'studio-shot');
    assert.deepStrictEqual(runs[0]?.inputs, [{ id: 'product_image', type: 'imageUrl', value: imageUrl }]);
    const answer = chat.getByText(/Scripted model: FLORA answered/).first();
    await answer.waitFor({ state: 'visible', timeout: 60_000 });
    const answerText = (await answer.textContent()) ?? '';
    assert.match(answerText, /status completed/);
    assert.ok(answerText.includes(runs[0]?.runId ?? '\u0000'), `the answer names the run: ${answerText}`);
    // The request is over once the input offers Send again instead of Cancel (codicon-stop-circle).
    const send = chat.locator('.interactive-input-part .action-label[aria-label^="Send"]').filter({ visible: true });
    const stop = chat.locator('.interactive-input-part .action-label[class*="codicon-stop"]').filter({ visible: true });
    await waitFor('the chat request to end', async () => (await send.count()) > 0 && (await stop.count()) === 0, 30_000);
    await workbench.screenshot('chat-02-run-done');
  });
});
