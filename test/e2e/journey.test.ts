// The whole journey a newcomer takes, in a real VS Code (code-server) driven through Chromium: set the key
// from the palette, browse techniques, run one answering each prompt, watch the status bar, see the image
// load in the preview, insert its URL into a Markdown file, hover it and save it with the lightbulb, the URL
// becoming a path. Screenshots of each step land in test-results/screenshots/.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { decodePng, encodeGif, halve } from '../harness/gif';
import { artifactsDirectory, repositoryRoot } from '../harness/paths';
import { openEditorSession, type EditorSession } from '../harness/session';
import { exactly, fadedIn } from '../harness/workbench';
import { waitFor } from '../common/wait';
import { renderPng } from '../sandbox/media';
import { startSandbox, type Sandbox } from '../sandbox/server';
import { SANDBOX_S3_BUCKET, SANDBOX_S3_CREDENTIALS, SANDBOX_S3_REGION } from '../sandbox/storage';
import { HOSTILE_FAILURE_SLUG, HOSTILE_SLUG, HOSTILE_STRINGS } from '../sandbox/techniques';

/**
 * The image input: one of the sandbox's samples, so that everything the run makes the editor fetch (the
 * preview's input thumbnail too) stays on loopback. Set once the sandbox is up.
 */
let IMAGE_URL = '';
/** The animation of a run in the README: frame name and how long it shows (hundredths of a second). */
const RUN_ANIMATION: ReadonlyArray<[string, number]> = [
  ['03-technique-details', 150],
  ['04-input-refused', 200],
  ['05-confirm-cost', 150],
  ['06-status-bar-progress', 80],
  ['06b-progress', 80],
  ['06c-progress', 80],
  ['07-preview', 250],
  ['08-inserted-markdown', 250],
];
/** The screenshots the README shows. */
const README_SHOTS = [
  '03-technique-details',
  '04-input-refused',
  '05-confirm-cost',
  '06-status-bar-progress',
  '07-preview',
  '08-inserted-markdown',
  '15-batch-runs',
  '16-hover-thumbnail',
  '17-quick-fix-menu',
  '18-url-became-path',
];
/** The sample images the batch step selects in the Explorer, as `npm start`'s workspace holds them. */
const SAMPLE_IMAGES = ['lamp.png', 'mug.png', 'sneaker.png'];
const RUN_WITH_FILE = 'Run FLORA Technique with This File';
/** The key prefix the batch step configures, so its uploads are told apart from any other. */
const UPLOAD_PREFIX = 'journey/';

/**
 * What a rendered piece of the workbench holds: links (elements with an href, which is how VS Code renders
 * `[label](command:…)`), codicons rendered from `$(…)`, and whether the server's words are there as text.
 */
async function inertness(element: import('playwright-core').Locator): Promise<{ links: number; icons: number; text: boolean }> {
  return element.evaluate((node: { querySelectorAll(selector: string): ArrayLike<unknown>; textContent: string | null }) => ({
    // Labels are <a class="label-name"> elements themselves; a rendered link carries an href.
    links: node.querySelectorAll('[href], .monaco-link').length,
    // Icons rendered inside text (not the row's own icon, which is the extension's ThemeIcon).
    icons: node.querySelectorAll(
      '.monaco-highlighted-label .codicon, .label-description .codicon, .quick-input-list-detail .codicon, .notification-list-item-message .codicon',
    ).length,
    text: (node.textContent ?? '').includes('command:'),
  }));
}

/**
 * One editor session for the whole journey, as a newcomer walks it: the steps run in this order and each
 * one starts where the previous left off (starting the editor and running a technique take too long to
 * repeat per step). What a step needs from the ones before it, it checks first:
 * - the welcome needs a fresh profile (no key); "sets the key" leaves the key set, which every later step needs;
 * - "runs a technique" leaves one Studio Shot run, which "notifies on completion" opens in the preview and
 *   "inserts the output URL" inserts into README.md; "shows the run in a hover" hovers that URL and replaces it
 *   by the saved file's path; "resumes a live run" expects that preview to come back after the reload;
 * - "runs a batch from the Explorer" configures the upload to the sandbox's storage itself (the target is
 *   `none` until then) and comes before the hostile steps, so the Runs view it photographs holds only the
 *   newcomer's own runs; it leaves the upload configured and three images selected in the Explorer;
 * - the hostile steps add their techniques to a Your Techniques that is still empty;
 * - "leaves the key nowhere on disk" searches after the key and the storage secret have been used by
 *   everything above.
 */
describe('the FLORA journey in the browser', function () {
  this.timeout(300_000);
  let sandbox: Sandbox;
  let session: EditorSession;

  before(async () => {
    // The tier's setup (test/e2e/setup.ts) emptied test-results/screenshots before the first file.
    // Long enough to watch the status bar item, short enough for CI.
    sandbox = await startSandbox({ runDurationMs: 9_000 });
    IMAGE_URL = `${sandbox.url}/samples/coral.png`;
    session = await openEditorSession({
      // Configure Upload does not ask for an endpoint (a person uploads to S3 itself): the sandbox's
      // S3-protocol storage stands in for it through this one setting, as `npm start` sets it.
      settings: { 'flora.baseUrl': sandbox.url, 'flora.pollIntervalSeconds': 2, 'flora.upload.endpoint': `${sandbox.url}/s3` },
      viewport: { width: 1400, height: 900 },
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      await session.workbench.screenshot(`failed-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
      // A dialog left open blocks every later step: answer it as a person who declines would.
      await session.workbench
        .dialog()
        .locator('.dialog-buttons .monaco-button', { hasText: exactly('Cancel') })
        .click({ timeout: 2_000 })
        .catch(() => undefined);
    }
  });

  after(async () => {
    // `npm run screenshots` refreshes the README's pictures from this very journey.
    if (process.env.FLORA_README_SHOTS) {
      const target = path.join(repositoryRoot, 'media', 'readme');
      fs.mkdirSync(target, { recursive: true });
      const shot = (name: string) => path.join(artifactsDirectory, 'screenshots', `${name}.png`);
      for (const name of README_SHOTS) fs.copyFileSync(shot(name), path.join(target, `${name}.png`));
      const frames = RUN_ANIMATION.map(([name, delay]) => ({ image: halve(decodePng(fs.readFileSync(shot(name)))), delay }));
      fs.writeFileSync(path.join(target, 'run.gif'), encodeGif(frames));
    }
    await session?.close();
    await sandbox?.close();
  });

  it('starts with a welcome that asks for an API key', async () => {
    const { workbench } = session;
    await workbench.openViewContainer('FLORA');
    await workbench.sideBar.getByText('Set an API key to start').waitFor({ timeout: 60_000 });
    await workbench.screenshot('01-welcome');
  });

  it('sets the key from the palette; it is checked with FLORA and never shown', async () => {
    const { workbench, page } = session;
    await workbench.runCommand('FLORA: Set API Key');
    const quickInput = workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Set API Key');
    assert.strictEqual(await quickInput.input.getAttribute('type'), 'password');
    await quickInput.fill(sandbox.apiKey);
    await quickInput.accept();
    await quickInput.waitForClosed();
    // The welcome gives way to the technique list once the key is stored; Your Techniques, still empty,
    // explains what goes there.
    await workbench.treeRow("Art Director's Critique").waitFor({ timeout: 30_000 });
    await workbench.viewPane('Your Techniques').getByText('Techniques you add by slug or link appear here').waitFor({ timeout: 30_000 });
    await workbench.notification('FLORA API key saved.');
    await workbench.screenshot('02-key-saved');
    const checks = sandbox.requests.filter((request) => request.method === 'GET' && request.authorization === `Bearer ${sandbox.apiKey}`);
    assert.ok(checks.length >= 1, 'the key was checked against the API before saving');
    assert.ok(!(await page.content()).includes(sandbox.apiKey), 'the key is not in the page');
  });

  /** A precondition: the key "sets the key" stored is there, so the catalogue shows instead of the welcome. */
  async function assertKeySet(): Promise<void> {
    const { workbench } = session;
    await workbench.openViewContainer('FLORA');
    await workbench.treeRow("Art Director's Critique").waitFor({ timeout: 30_000 });
    assert.strictEqual(await workbench.sideBar.getByText('Set an API key to start').isVisible(), false, 'the key is set');
  }

  it('lists techniques and shows a technique’s inputs, outputs and cost when expanded', async () => {
    const { workbench } = session;
    await assertKeySet();
    await workbench.runCommand('FLORA: Filter Techniques…');
    const quickInput = workbench.quickInput();
    await quickInput.fill('studio');
    await quickInput.accept();
    const row = workbench.treeRow('Studio Shot');
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    await workbench.treeRow('Cost: 5 credits per run').waitFor();
    await workbench.treeRow('Product Image').waitFor();
    assert.strictEqual(await workbench.treeRow('Icon Pack').isVisible(), false, 'the filter hides other techniques');
    await workbench.screenshot('03-technique-details');
    // A filter that matches nothing says so, and clears from the welcome's button.
    await workbench.runCommand('FLORA: Filter Techniques…');
    await quickInput.fill('no such technique anywhere');
    await quickInput.accept();
    await workbench.sideBar.getByText('No technique matches the filter.').waitFor({ timeout: 30_000 });
    await workbench.sideBar.getByRole('button', { name: 'Clear Filter' }).click();
    await workbench.treeRow("Art Director's Critique").waitFor({ timeout: 30_000 });
  });

  it('runs a technique from the palette, answering each prompt, and shows progress in the status bar', async () => {
    const { workbench } = session;
    await assertKeySet();
    assert.strictEqual(sandbox.runs().filter((run) => run.slug === 'studio-shot').length, 0, 'no Studio Shot run yet');
    await workbench.runCommand('FLORA: Run Technique…');
    const quickInput = workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Run Technique');
    await quickInput.fill('studio shot');
    await quickInput.pickItem('Studio Shot');
    await quickInput.waitForTitle('Studio Shot: Product Image (1/1)');
    // A link FLORA would refuse is explained, and the picker stays open.
    await quickInput.fill('http://example.com/sneaker.png');
    await quickInput.widget
      .getByText(/only accepts https:\/\/ links/)
      .first()
      .waitFor();
    await quickInput.accept();
    // Refused, the picker stays open with the reason in one place, under the typed value; the title is the step's.
    assert.strictEqual(await quickInput.title(), 'Studio Shot: Product Image (1/1)');
    assert.strictEqual(await quickInput.widget.getByText(/only accepts https:\/\/ links/).count(), 1);
    await workbench.screenshot('04-input-refused');
    await quickInput.fill(IMAGE_URL);
    await quickInput.row(/Use "/).waitFor();
    await quickInput.accept();
    await quickInput.waitForTitle('Studio Shot: confirm the run');
    await fadedIn();
    await workbench.screenshot('05-confirm-cost');
    await quickInput.pickItem(/Run for 5 credits/);
    const status = workbench.statusBarItem(/Studio Shot/);
    await status.waitFor({ timeout: 30_000 });
    await workbench.screenshot('06-status-bar-progress');
    // Frames of the run's progress for the README's animation.
    for (const frame of ['06b-progress', '06c-progress']) {
      await workbench.page.waitForTimeout(1_500);
      await workbench.screenshot(frame);
    }
    assert.strictEqual(sandbox.runs().filter((run) => run.slug === 'studio-shot').length, 1);
  });

  it('notifies on completion and opens the preview, where the image loads', async () => {
    const { workbench } = session;
    assert.strictEqual(sandbox.runs().filter((run) => run.slug === 'studio-shot').length, 1, 'the run "runs a technique" started');
    await workbench.clickNotificationButton(/Studio Shot completed/, 'Open Preview');
    const preview = workbench.webview();
    await preview.getByRole('heading', { name: 'Studio Shot', level: 1 }).waitFor({ timeout: 30_000 });
    const loaded = await workbench.webviewImage('img.media');
    assert.ok(loaded.complete && loaded.width > 0, `image did not load: ${JSON.stringify(loaded)}`);
    await workbench.screenshot('07-preview');
    assert.strictEqual(await workbench.statusBarItem(/Studio Shot \d+%/).isVisible(), false, 'status bar item hides when nothing runs');
  });

  it('inserts the output URL into a Markdown file', async () => {
    const { workbench } = session;
    assert.ok(
      sandbox.runs().some((run) => run.slug === 'studio-shot' && run.status === 'completed'),
      'the run "runs a technique" started has completed',
    );
    await workbench.openFile('README.md');
    await workbench.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    await workbench.page.keyboard.press('Control+End');
    await workbench.page.keyboard.press('Enter');
    await workbench.runCommand('FLORA: Insert Output URL…');
    const quickInput = workbench.quickInput();
    await quickInput.pickItem(/Studio Shot/);
    const run = sandbox.runs().find((candidate) => candidate.slug === 'studio-shot');
    assert.ok(run);
    const expected = `![Studio Shot](${sandbox.url}/media/${run.runId}/`;
    let text = '';
    await waitFor(
      `README.md to contain ${expected}`,
      async () => {
        text = await workbench.editorText();
        return text.includes(expected);
      },
      20_000,
      200,
    ).catch((error: unknown) => assert.fail(`${String(error)}:\n${text}`));
    await workbench.screenshot('08-inserted-markdown');
  });

  // Depends on "inserts the output URL": README.md is the active editor and its last line is the Studio Shot
  // run's sandbox URL, which the extension knows from its history. Leaves that line a path to the saved file.
  it('shows the run in a hover over the inserted URL, thumbnail and all, and the lightbulb saves it: the URL becomes a path', async () => {
    const { workbench, page } = session;
    const run = sandbox.runs().find((candidate) => candidate.slug === 'studio-shot' && candidate.status === 'completed');
    assert.ok(run, 'the run "runs a technique" started has completed');
    await workbench.activeTab('README.md').waitFor();
    const written = `![Studio Shot](${sandbox.url}/media/${run.runId}/`;
    const before = await workbench.editorText();
    const start = before.indexOf(written);
    assert.ok(start >= 0, `"inserts the output URL" left the URL in README.md:\n${before}`);
    const url = before.slice(start + '![Studio Shot]('.length, before.indexOf(')', start + written.length));
    // The pictures show the editor, not the Notifications Center; it opens again at the end, as the steps
    // after this one expect to find it.
    const notificationsCenter = page.locator('.notifications-center.visible');
    const centerWasOpen = await notificationsCenter.isVisible();
    if (centerWasOpen) await workbench.runCommand('Notifications: Hide Notifications');

    // The FLORA diagnostic on the URL: an Information squiggle under it.
    const squiggles = page.locator('.editor-group-container.active .monaco-editor .squiggly-info');
    await squiggles.first().waitFor({ state: 'attached' });

    // The mouse on the URL: the hover shows the run, with the thumbnail the extension fetched itself.
    const point = await workbench.editorTextPoint(`/media/${run.runId}/`);
    const hover = workbench.editorHover();
    const thumbnail = hover.locator('img').first();
    // The hover renders spaces of plain text as no-break spaces.
    const hoverText = async () => ((await hover.textContent()) ?? '').replace(/\u00a0/g, ' ');
    const showHover = async () => {
      let movedAt = 0;
      let shown = '';
      await waitFor(
        'the hover to show the run with its thumbnail loaded',
        async () => {
          if (!(await hover.isVisible())) {
            // A pointer that arrived while the editor was busy shows nothing until it moves again.
            if (Date.now() - movedAt > 3_000) {
              await page.mouse.move(point.x, point.y + 300);
              await page.mouse.move(point.x, point.y);
              movedAt = Date.now();
            }
            return false;
          }
          shown = await hoverText();
          if (!shown.includes('Studio Shot') || !shown.includes('Copy URL') || (await thumbnail.count()) === 0) return false;
          return thumbnail.evaluate(async (image: { complete: boolean; naturalWidth: number; decode(): Promise<void> }) => {
            await image.decode().catch(() => undefined);
            return image.complete && image.naturalWidth > 0;
          });
        },
        60_000,
        250,
      ).catch((error: unknown) => assert.fail(`${String(error)}; the hover showed: ${JSON.stringify(shown)}`));
    };
    await showHover();
    // Each part of the hover (ours, the diagnostic's, the workbench's own) is a row; links are <a> elements
    // with a data-href (the workbench's rendering of `[label](target)`).
    const rows = await hover.evaluate(
      (node: {
        querySelectorAll(selector: string): ArrayLike<{
          textContent: string | null;
          querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null; textContent: string | null }>;
        }>;
      }) =>
        Array.from(node.querySelectorAll('.hover-row')).map((row) => ({
          text: (row.textContent ?? '').replace(/\u00a0/g, ' ').trim(),
          images: Array.from(row.querySelectorAll('img')).map((image) => ({
            width: image.getAttribute('width'),
            source: (image.getAttribute('src') ?? '').slice(0, 40),
          })),
          links: Array.from(row.querySelectorAll('a[href], a[data-href]')).map((link) => ({
            target: link.getAttribute('data-href') ?? link.getAttribute('href') ?? '',
            label: (link.textContent ?? '').trim(),
          })),
        })),
    );
    const described = JSON.stringify(rows, undefined, 1);
    const ours = rows.filter((row) => row.text.includes('Copy URL'));
    assert.strictEqual(ours.length, 1, `one part of the hover is ours: ${described}`);
    const [part] = ours;
    assert.ok(part);
    assert.deepStrictEqual(
      part.images,
      [{ width: '200', source: 'data:image/png;base64,iVBORw0KGgoAAAANSU' }],
      'a PNG thumbnail, 200 pixels wide',
    );
    assert.match(part.text, /^Studio Shot/, 'the technique first');
    // The server's strings carry invisible joiners that keep a bare URL from becoming a link.
    assert.ok(part.text.replace(/\u2060/g, '').includes(`product_image: ${IMAGE_URL}`), `the input: ${part.text}`);
    assert.ok(part.text.includes('5 credits'), `the cost: ${part.text}`);
    assert.match(part.text, /Made (now|\d+ (seconds?|minutes?) ago)/, 'the age');
    assert.deepStrictEqual(
      part.links.map((link) => link.label),
      ['Open Preview', 'Save to Workspace', 'Run Again', 'Copy URL'],
      'the command links',
    );
    assert.ok(
      part.links.every((link) => link.target.startsWith('command:flora.')),
      `our links run our own commands alone: ${JSON.stringify(part.links)}`,
    );
    // The other parts are the workbench's own and show or link nothing but the URL under the mouse: its
    // "Follow link", and the Markdown extension's preview of the image a Markdown image names.
    const others = rows.filter((row) => row !== part);
    assert.ok(
      others.every((row) => row.links.every((link) => link.target === url) && row.images.every((image) => url.startsWith(image.source))),
      `no other link in the hover: ${described}`,
    );
    assert.ok(
      rows.some(
        (row) => row.text.includes('FLORA output URL — not permanent') && /FLORA\s*\(\s*output-url-not-permanent\s*\)/.test(row.text),
      ),
      `the hover shows the FLORA diagnostic: ${described}`,
    );
    // VS Code opens a hover at most 250 pixels high (or a quarter of the editor) and scrolls the rest; a person
    // drags its edge to see more, as this does until our part is on screen whole.
    const ourPart = hover.locator('.hover-row').filter({ hasText: 'Copy URL' }).first();
    await workbench.growEditorHover(ourPart);
    const [partBox, hoverBox] = [await ourPart.boundingBox(), await hover.boundingBox()];
    assert.ok(
      partBox && hoverBox && partBox.y >= hoverBox.y && partBox.y + partBox.height <= hoverBox.y + hoverBox.height + 1,
      `our part of the hover is on screen whole: ${JSON.stringify({ partBox, hoverBox })}`,
    );
    // The pointer off the edge it dragged, onto the thumbnail: the hover stays, its edge no longer highlighted.
    const thumbnailBox = await thumbnail.boundingBox();
    if (thumbnailBox)
      await page.mouse.move(thumbnailBox.x + thumbnailBox.width / 2, thumbnailBox.y + thumbnailBox.height / 2, { steps: 4 });
    await hover.waitFor();
    await workbench.screenshot('16-hover-thumbnail');

    // The cursor in the URL (a plain click does not follow a link), the pointer away, and Ctrl+.
    await page.mouse.click(point.x, point.y);
    await page.mouse.move(point.x, point.y + 300);
    await hover.waitFor({ state: 'hidden' });
    await page.keyboard.press('Control+.');
    const menu = workbench.codeActionMenu();
    const fix = workbench.codeAction(menu, 'Save to Workspace and Replace');
    await fix.waitFor({ timeout: 30_000 });
    await workbench.codeAction(menu, 'Save All in File and Replace').waitFor();
    await fadedIn();
    await workbench.screenshot('17-quick-fix-menu');
    await fix.click();
    await menu.waitFor({ state: 'hidden' });

    // The output saved under flora-outputs/ with its provenance, and its path where the URL was.
    let after = '';
    await waitFor(
      'the URL to become the saved file’s path',
      async () => {
        after = await workbench.editorText();
        return after.includes('](flora-outputs/studio-shot-') && !after.includes('/media/');
      },
      60_000,
      250,
    ).catch((error: unknown) => assert.fail(`${String(error)}:\n${after}`));
    const saved = new RegExp(`!\\[Studio Shot\\]\\(flora-outputs/(studio-shot-\\d{8}-\\d{6}-${run.runId.slice(0, 8)}\\.png)\\)`).exec(
      after,
    );
    assert.ok(saved?.[1], `the path names the run: ${after}`);
    const file = path.join(session.workspace, 'flora-outputs', saved[1]);
    assert.ok(fs.existsSync(file), `${file} exists`);
    const served = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.ok(fs.readFileSync(file).equals(served), 'the saved file is the output itself');
    const provenance = JSON.parse(fs.readFileSync(file.replace(/\.png$/, '.flora.json'), 'utf8')) as { runId?: unknown };
    assert.strictEqual(provenance.runId, run.runId, 'the provenance beside it names the run');
    // A path is no output URL: the diagnostic goes once the document is scanned again.
    await waitFor('the FLORA diagnostic to go', async () => (await squiggles.count()) === 0, 30_000, 100);
    await workbench.screenshot('18-url-became-path');
    if (centerWasOpen) await workbench.runCommand('Notifications: Show Notifications');
  });

  it('cancels with Escape at any step, sending nothing', async () => {
    const { workbench } = session;
    await assertKeySet();
    const posts = () => sandbox.requests.filter((request) => request.method === 'POST').length;
    const before = posts();
    const quickInput = workbench.quickInput();
    // Escape closes the Notifications Center first when it is open.
    await workbench.runCommand('Notifications: Hide Notifications');
    // At the first input of a two-input technique, then at the confirmation.
    await workbench.runCommand('FLORA: Run Technique…');
    await quickInput.fill('product animator');
    await quickInput.pickItem('Product Animator');
    await quickInput.waitForTitle(/Product Animator: .* \(1\/2\)/);
    // Focus the new prompt first: a key pressed while the previous picker hands over is lost.
    await quickInput.input.click();
    await quickInput.cancel();
    await quickInput.waitForClosed();
    await workbench.runCommand('FLORA: Run Technique…');
    await quickInput.fill('studio shot');
    await quickInput.pickItem('Studio Shot');
    await quickInput.waitForTitle('Studio Shot: Product Image (1/1)');
    await quickInput.fill('https://media.flora.ai/examples/cancel.png');
    await quickInput.row(/Use "/).waitFor();
    await quickInput.accept();
    await quickInput.waitForTitle('Studio Shot: confirm the run');
    await quickInput.input.click();
    await quickInput.cancel();
    await quickInput.waitForClosed();
    await workbench.page.waitForTimeout(1_000);
    assert.strictEqual(posts(), before, 'no run was created');
  });

  it('resumes a live run after the window reloads, and completes it once', async () => {
    const { workbench } = session;
    const studioShotTab = workbench.page.locator('.tabs-container .tab', { hasText: 'FLORA: Studio Shot' });
    assert.strictEqual(await studioShotTab.count(), 1, 'the preview "notifies on completion" opened is open');
    assert.strictEqual(sandbox.runs().filter((run) => run.slug === 'icon-pack').length, 0, 'no Icon Pack run yet');
    await workbench.runCommand('FLORA: Run Technique…');
    const quickInput = workbench.quickInput();
    await quickInput.fill('icon pack');
    await quickInput.pickItem('Icon Pack');
    await quickInput.waitForTitle(/Icon Pack: .* \(1\/1\)/);
    await quickInput.fill('weather icons, flat, pastel');
    await quickInput.accept();
    await quickInput.pickItem(/Run for 8 credits/);
    await workbench.statusBarItem(/Icon Pack/).waitFor({ timeout: 30_000 });
    await workbench.runCommand('Developer: Reload Window');
    await workbench.waitForWorkbench();
    // The preview open before the reload is restored by its serializer.
    await studioShotTab.waitFor({ timeout: 60_000 });
    // The old extension host may hold the polling lease until it expires; the run completes after that.
    await workbench.statusBarItem(/Icon Pack/).waitFor({ state: 'hidden', timeout: 60_000 });
    await workbench.notification(/Icon Pack completed/);
    await workbench.screenshot('09-resumed-after-reload');
    const iconPacks = sandbox.runs().filter((run) => run.slug === 'icon-pack');
    assert.strictEqual(iconPacks.length, 1, 'one run, created once');
    assert.strictEqual(iconPacks[0]?.status, 'completed');
  });

  it('configures the upload from the palette: bucket, region and prefix in the settings, the keys typed masked', async () => {
    const { workbench } = session;
    await assertKeySet();
    // Escape closes the Notifications Center first when it is open; the batch step's pictures need it shut too.
    await workbench.runCommand('Notifications: Hide Notifications');
    const quickInput = workbench.quickInput();
    await workbench.runCommand('FLORA: Configure Upload…');
    await quickInput.waitForTitle('FLORA: Configure Upload');
    await quickInput.pickItem('Amazon S3');
    const answers: Array<[string, string, boolean]> = [
      ['Configure Upload: Bucket (1/3)', SANDBOX_S3_BUCKET, false],
      ['Configure Upload: Region (2/3)', SANDBOX_S3_REGION, false],
      ['Configure Upload: Prefix (3/3)', UPLOAD_PREFIX, false],
    ];
    const answer = async ([title, value, masked]: [string, string, boolean]) => {
      await quickInput.waitForTitle(title);
      assert.strictEqual(await quickInput.input.getAttribute('type'), masked ? 'password' : 'text', `${title} is masked: ${masked}`);
      await quickInput.fill(value);
      await quickInput.accept();
    };
    for (const step of answers) await answer(step);
    await quickInput.waitForTitle('Configure Upload: Credentials');
    await quickInput.pickItem('Access key pair');
    await answer(['Configure Upload: Access Key ID (1/2)', SANDBOX_S3_CREDENTIALS.accessKeyId, true]);
    await answer(['Configure Upload: Secret Access Key (2/2)', SANDBOX_S3_CREDENTIALS.secretAccessKey, true]);
    await quickInput.waitForClosed();
    await workbench.notification(`FLORA uploads local files to s3://${SANDBOX_S3_BUCKET}/${UPLOAD_PREFIX}`);
    await workbench.runCommand('Notifications: Hide Notifications');
    const settings = fs.readFileSync(path.join(session.server.userDataDir, 'User', 'settings.json'), 'utf8');
    assert.match(settings, /"flora\.upload\.target": "s3"/);
    assert.ok(settings.includes(`"flora.upload.s3.prefix": "${UPLOAD_PREFIX}"`), settings);
    assert.ok(!settings.includes(SANDBOX_S3_CREDENTIALS.secretAccessKey), 'the secret is not in the settings');
    assert.ok(!(await workbench.page.content()).includes(SANDBOX_S3_CREDENTIALS.secretAccessKey), 'the secret is not in the page');
  });

  it('runs a batch from the Explorer: three images, Studio Shot, the cost confirmed once, one consent, one group of three in Runs', async () => {
    const { workbench, page } = session;
    await assertKeySet();
    assert.match(
      fs.readFileSync(path.join(session.server.userDataDir, 'User', 'settings.json'), 'utf8'),
      /"flora\.upload\.target": "s3"/,
      '"configures the upload" set the target',
    );
    const studioShots = () => sandbox.runs().filter((run) => run.slug === 'studio-shot');
    const runsBefore = new Set(studioShots().map((run) => run.runId));
    const putsBefore = sandbox.storage.requests.filter((request) => request.method === 'PUT').length;
    // The newcomer's sample images, as `npm start` draws them into its workspace.
    const samples = path.join(session.workspace, 'samples');
    fs.mkdirSync(samples, { recursive: true });
    for (const name of SAMPLE_IMAGES) fs.writeFileSync(path.join(samples, name), renderPng(`journey/${name}`, 'gradient'));
    // Counts every dialog the workbench opens from here on: the consent must be the only one. Each dialog
    // is a new element; one dialog shows up in several mutation records (its block, then its box).
    await page.evaluate(`(() => {
      const seen = new Set();
      window.__floraDialogs = () => seen.size;
      new MutationObserver(() => {
        for (const box of document.querySelectorAll('.monaco-dialog-box')) seen.add(box);
      }).observe(document.body, { childList: true, subtree: true });
    })()`);
    await workbench.openViewContainer('Explorer');
    const folder = workbench.explorerRow('samples');
    await folder.waitFor({ timeout: 10_000 }).catch(async () => {
      // The file watcher is slow on a busy machine; the Explorer's own Refresh reads the folder now.
      await workbench.runCommand('File: Refresh Explorer');
      await folder.waitFor({ timeout: 30_000 });
    });
    // Not offered for a file that is not an image or video, nor for a folder.
    for (const other of [workbench.explorerRow('README.md'), folder]) {
      const menu = await workbench.openContextMenu(other);
      const items = await workbench.contextMenuItems(menu);
      assert.ok(items.length > 3, `the Explorer's menu is open: ${JSON.stringify(items)}`);
      assert.ok(!items.includes(RUN_WITH_FILE), `not offered there: ${JSON.stringify(items)}`);
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden' });
    }
    // Selected with Ctrl+click alone: a plain click would open the image, and the Explorer then selects
    // the active editor's file by itself, dropping the others.
    if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.click();
    const rows = SAMPLE_IMAGES.map((name) => workbench.explorerRow(name));
    for (const row of rows) {
      await row.click({ modifiers: ['Control'] });
      await waitFor('the row to be selected', async () => /\bselected\b/.test((await row.getAttribute('class')) ?? ''), 10_000, 100);
    }
    // The folder, when the click that expanded it selected it, leaves the selection.
    if (/\bselected\b/.test((await folder.getAttribute('class')) ?? '')) await folder.click({ modifiers: ['Control'] });
    const selected = workbench.sideBar.locator('.explorer-folders-view .monaco-list-row.selected');
    await waitFor('the three images alone to be selected', async () => (await selected.count()) === 3, 10_000, 100).catch(
      async (error: unknown) => assert.fail(`${String(error)}: ${JSON.stringify(await selected.allTextContents())}`),
    );
    const menu = await workbench.openContextMenu(rows[rows.length - 1] ?? folder);
    const item = workbench.contextMenuItem(menu, RUN_WITH_FILE);
    await item.waitFor();
    await fadedIn();
    await workbench.screenshot('12-explorer-menu');
    await item.click();

    const quickInput = workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Run Technique with 3 Files');
    await quickInput.fill('studio shot');
    const technique = quickInput.row('Studio Shot');
    await technique.waitFor();
    assert.match((await technique.textContent()) ?? '', /5 credits per file · 15 credits for 3 files/);
    await quickInput.pickItem('Studio Shot');
    await quickInput.waitForTitle('Studio Shot: confirm the run');
    const run = quickInput.row(/Run 3 times for 15 credits/);
    await run.waitFor();
    const confirmation = (await run.textContent()) ?? '';
    assert.ok(confirmation.includes(`Uploaded to s3://${SANDBOX_S3_BUCKET}/${UPLOAD_PREFIX}`), confirmation);
    for (const name of SAMPLE_IMAGES) assert.ok(confirmation.includes(name), `the confirmation names ${name}: ${confirmation}`);
    // Its own two icons, $(play) and $(cloud-upload), and nothing the file names could add.
    assert.deepStrictEqual(await inertness(run), { links: 0, icons: 2, text: false }, 'the confirmation renders no link or other icon');
    await fadedIn();
    await workbench.screenshot('13-batch-confirm');
    await quickInput.pickItem(/Run 3 times for 15 credits/);

    // The first file goes alone and asks; the other two go without asking again.
    const consent = workbench.dialog();
    await consent.waitFor({ timeout: 30_000 });
    assert.strictEqual(await page.locator('.monaco-dialog-modal-block').filter({ visible: true }).count(), 1, 'the consent is modal');
    const question = (await consent.locator('.dialog-message-text').textContent()) ?? '';
    // Asked once for the batch: naming its files or the first one, and where they go.
    assert.match(
      question,
      /^Upload (3 files|samples\/(lamp|mug|sneaker)\.png) to s3:\/\/flora-sandbox\/journey\/ \(http:\/\/127\.0\.0\.1:\d+\/s3\)\? FLORA will read it from there\.$/,
    );
    assert.deepStrictEqual(await inertness(consent), { links: 0, icons: 0, text: false }, 'the consent renders no link or icon');
    assert.strictEqual(
      sandbox.storage.requests.filter((request) => request.method === 'PUT').length,
      putsBefore,
      'nothing uploaded before the consent',
    );
    await fadedIn();
    await workbench.screenshot('14-upload-consent');
    await consent.locator('.dialog-buttons .monaco-button', { hasText: exactly('Upload') }).click();
    await consent.waitFor({ state: 'hidden' });

    // One group in the Runs view; its three runs, named by their files, complete.
    await workbench.runCommand('FLORA: Show Runs');
    const runsView = workbench.viewPane('Runs');
    const group = runsView.locator('.monaco-list-row').filter({ hasText: 'Studio Shot × 3' }).first();
    await group.waitFor({ timeout: 30_000 });
    await runsView
      .locator('.monaco-list-row')
      .filter({ hasText: /Studio Shot × 3\s*3 completed/ })
      .first()
      .waitFor({ timeout: 45_000 });
    assert.strictEqual(await group.getAttribute('aria-level'), '1');
    assert.strictEqual(await group.getAttribute('aria-expanded'), 'true');
    assert.deepStrictEqual(await inertness(group), { links: 0, icons: 0, text: false }, 'the group renders no link or server icon');
    for (const name of SAMPLE_IMAGES) {
      const child = runsView
        .locator('.monaco-list-row[aria-level="2"]')
        .filter({ has: page.locator('.label-name', { hasText: exactly(name) }) })
        .first();
      await child.waitFor();
      assert.match((await child.textContent()) ?? '', /completed/, `${name}'s run completed`);
      assert.deepStrictEqual(await inertness(child), { links: 0, icons: 0, text: false }, `${name}'s row renders no link or server icon`);
    }
    // The first finished run in the preview, beside the group, for the picture.
    const previewTabs = page.locator('.tabs-container .tab', { hasText: 'FLORA: Studio Shot' });
    const previewsBefore = await previewTabs.count();
    await runsView
      .locator('.monaco-list-row[aria-level="2"]')
      .filter({ has: page.locator('.label-name', { hasText: exactly(SAMPLE_IMAGES[0] ?? '') }) })
      .first()
      .click();
    const preview = workbench.webview();
    await preview.getByRole('heading', { name: 'Studio Shot', level: 1 }).waitFor({ timeout: 30_000 });
    await workbench.webviewImage('img.media');
    // The pointer away from the rows, so the picture shows no hover actions.
    await page.mouse.move(700, 600);
    await workbench.screenshot('15-batch-runs');
    // Closed again: the hostile steps read the one webview on screen.
    await workbench.runCommand('View: Close Editor');
    await waitFor('the preview to close', async () => (await previewTabs.count()) === previewsBefore, 10_000, 100);
    await workbench.notification(/FLORA: Studio Shot × 3 — 3 completed\./);

    const batch = studioShots().filter((candidate) => !runsBefore.has(candidate.runId));
    assert.strictEqual(batch.length, 3, 'one run per file');
    assert.ok(
      batch.every((candidate) => candidate.status === 'completed'),
      `FLORA read every upload: ${JSON.stringify(batch.map((candidate) => candidate.status))}`,
    );
    const puts = sandbox.storage.requests.filter((request) => request.method === 'PUT').slice(putsBefore);
    assert.strictEqual(puts.length, 3, 'each file uploaded once');
    assert.ok(
      puts.every((request) => request.status === 200 && request.accessKeyId === SANDBOX_S3_CREDENTIALS.accessKeyId),
      'signed (and verified) with the pair Configure Upload stored',
    );
    const creates = sandbox.requests
      .filter((request) => request.method === 'POST' && request.path.includes('/techniques/studio-shot/runs'))
      .slice(-3);
    assert.ok(
      creates.every((request) => request.body.includes(`/s3/${SANDBOX_S3_BUCKET}/${UPLOAD_PREFIX}`) && !request.body.includes('file:')),
      'FLORA was sent the upload URLs, never a local path',
    );
    assert.strictEqual(await page.evaluate('window.__floraDialogs()'), 1, 'one dialog in the whole batch: the consent');
  });

  it('shows hostile server strings as text everywhere and never loads unsafe output URLs', async () => {
    const { workbench } = session;
    const hostileName = HOSTILE_STRINGS.name;
    // The name's markup, shown as text; its link and icon syntax is shown as text too (broken by an invisible joiner).
    const markupShown = `<img src=x onerror="document.title='pwned'">Hostile <script>alert(1)</script>`;
    await assertKeySet();
    const welcome = workbench.viewPane('Your Techniques').getByText('Techniques you add by slug or link appear here');
    await welcome.waitFor({ timeout: 30_000 }); // Your Techniques is still empty
    // From another side bar: adding brings Your Techniques into view by itself.
    await workbench.openViewContainer('Explorer');
    await workbench.runCommand('FLORA: Add Technique…');
    const quickInput = workbench.quickInput();
    await quickInput.fill(HOSTILE_SLUG);
    await quickInput.accept();
    // It lands in Your Techniques, whose welcome gives way to it; the tree shows the markup as literal text.
    const yours = workbench.viewPane('Your Techniques');
    const hostileRow = yours.locator('.monaco-list-row').filter({ hasText: markupShown }).first();
    await hostileRow.waitFor({ timeout: 30_000 });
    assert.strictEqual(await welcome.isVisible(), false);
    assert.strictEqual(await workbench.viewPane('Techniques').getByText(markupShown).count(), 0, 'not in the catalogue');
    assert.deepStrictEqual(await inertness(hostileRow), { links: 0, icons: 0, text: true }, 'the tree row renders no link or icon');
    await workbench.runCommand('FLORA: Run Technique…');
    await quickInput.fill(HOSTILE_SLUG);
    const pickRow = quickInput.row(/Hostile/);
    await pickRow.waitFor({ timeout: 30_000 });
    assert.deepStrictEqual(await inertness(pickRow), { links: 0, icons: 0, text: true }, 'the quick pick row renders no server icon');
    await quickInput.pickItem(/Hostile/);
    await quickInput.waitForTitle(/onerror=alert\(3\)> \[x\].*\(1\/1\)/);
    await quickInput.fill('anything');
    await quickInput.accept();
    await quickInput.pickItem(/Run for 1 credits/);
    // The notification shows the name as text: no link in it is VS Code's rendering of the server's syntax.
    const completed = await workbench.notification(/Hostile .*completed/);
    assert.deepStrictEqual(await inertness(completed.locator('.notification-list-item-message')), { links: 0, icons: 0, text: true });
    await workbench.clickNotificationButton(/Hostile .*completed/, 'Open Preview');
    const preview = workbench.webview();
    const title = preview.locator('h1.title');
    await title.waitFor({ timeout: 30_000 });
    assert.strictEqual(await title.textContent(), hostileName, 'the name is shown as text');
    await preview.locator('img.media').first().waitFor();
    const page = await preview.locator('body').evaluate(
      (body: {
        ownerDocument: {
          title: string;
          querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null; textContent: string | null }>;
        };
      }) => {
        const document = body.ownerDocument;
        const all = (selector: string) => Array.from(document.querySelectorAll(selector));
        return {
          title: document.title,
          images: all('img').map((image) => image.getAttribute('src')),
          links: all('a').map((link) => link.getAttribute('href')),
          videos: all('video').length,
          scripts: all('script').map((script) => ({
            nonce: script.getAttribute('nonce') !== null,
            inline: script.getAttribute('src') === null,
            text: (script.textContent ?? '').slice(0, 300),
          })),
          csp: all('meta[http-equiv="Content-Security-Policy"]')
            .map((meta) => meta.getAttribute('content'))
            .join(''),
          warnings: all('.warning').length,
        };
      },
    );
    assert.notStrictEqual(page.title, 'pwned');
    assert.strictEqual(page.images.length, 1, `only the https-or-sandbox image loads: ${JSON.stringify(page.images)}`);
    assert.ok(page.images[0]?.startsWith(`${sandbox.url}/media/`));
    assert.deepStrictEqual(page.links, [], 'no javascript:, data: or file: link');
    assert.strictEqual(page.videos, 0, 'the file: video is not loaded');
    assert.strictEqual(page.warnings, 3, 'each unsafe output says why it is not shown');
    // VS Code injects its own acquireVsCodeApi bootstrap into every webview; every other script is ours and
    // must be an external file carrying the nonce.
    const ours = page.scripts.filter((script) => !script.text.trim().startsWith('globalThis.acquireVsCodeApi'));
    assert.ok(ours.length >= 1 && ours.every((script) => script.nonce && !script.inline), JSON.stringify(page.scripts));
    assert.match(page.csp, /default-src 'none'/);
    assert.match(page.csp, /script-src 'nonce-[A-Za-z0-9+/=]+'/);
    const imageSources = /img-src ([^;]*)/.exec(page.csp)?.[1] ?? '';
    assert.ok(
      imageSources.includes(sandbox.url) && !imageSources.includes('https:') && !imageSources.includes('*'),
      `img-src ${imageSources}`,
    );
    await workbench.screenshot('10-hostile-preview');
  });

  it('shows a hostile failure with its code and message as text, with no link but its own buttons', async () => {
    const { workbench } = session;
    await workbench.runCommand('FLORA: Add Technique…');
    const quickInput = workbench.quickInput();
    await quickInput.fill(HOSTILE_FAILURE_SLUG);
    await quickInput.accept();
    // Listed under its name once FLORA's details for it are in.
    await workbench
      .viewPane('Your Techniques')
      .locator('.monaco-list-row')
      .filter({ hasText: '(fails)' })
      .first()
      .waitFor({ timeout: 30_000 });
    await workbench.runCommand('FLORA: Run Technique…');
    await quickInput.fill(HOSTILE_FAILURE_SLUG);
    await quickInput.pickItem(/\(fails\)/);
    await quickInput.fill('anything');
    await quickInput.accept();
    await quickInput.pickItem(/Run for 1 credits/);
    const failed = await workbench.notification(/\(fails\) failed/);
    const message = failed.locator('.notification-list-item-message');
    assert.deepStrictEqual(await inertness(message), { links: 0, icons: 0, text: true });
    const text = (await message.textContent()) ?? '';
    assert.ok(text.includes('Click here') && text.includes('command:workbench.action.terminal.sendSequence'), text);
    assert.ok(text.includes('bad_[x]'), 'the error code is shown as text');
    await workbench.screenshot('11-hostile-failure');
  });

  it('leaves the key and the storage secret nowhere on disk: settings, storage, logs, workspace, browser profile', async () => {
    assert.ok(
      sandbox.requests.some((request) => request.method === 'POST' && request.authorization === `Bearer ${sandbox.apiKey}`),
      'the key was set and used (the runs above), so there was a key to leave behind',
    );
    assert.ok(
      sandbox.storage.requests.some((request) => request.method === 'PUT' && request.status === 200),
      'the storage secret was set and used (the batch above: the sandbox verified its signatures), so there was one to leave behind',
    );
    const secrets = { 'the API key': sandbox.apiKey, 'the storage secret': SANDBOX_S3_CREDENTIALS.secretAccessKey };
    const found: string[] = [];
    const search = (directory: string) => {
      for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
        const file = path.join(directory, entry.name);
        if (entry.isDirectory()) search(file);
        else if (entry.isFile()) {
          let content: Buffer;
          try {
            if (fs.statSync(file).size >= 50 * 1024 * 1024) continue;
            content = fs.readFileSync(file);
          } catch (error) {
            // The browser deletes its journals and temporary files while it runs.
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
            throw error;
          }
          for (const [what, secret] of Object.entries(secrets)) if (content.includes(secret)) found.push(`${what}: ${file}`);
        }
      }
    };
    // The whole session: code-server's profile (settings, the extension's storage, logs), the workspace,
    // and Chromium's profile, where the web workbench keeps globalState and its encrypted secrets. The
    // sandbox runs in this process and prints nothing, so no banner of its own is on disk to exclude.
    search(path.dirname(session.workspace));
    assert.deepStrictEqual(found, [], 'a secret was found in these files');
    const logs = path.join(session.server.userDataDir, 'logs');
    assert.ok(fs.existsSync(logs), 'the editor wrote logs, so the search covered them');
  });
});
