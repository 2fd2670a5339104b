// What ships is what is tested: `npm run package` builds the production .vsix, the test lists what is in
// it, installs it into a fresh code-server like a user would (no development mode, so the launcher's key
// hand-over is ignored), and takes a short walk against the local sandbox: the FLORA container and its
// welcome appear, the palette shows the real titles from package.nls.json, the Get started walkthrough
// opens, the key is set from the palette, a technique runs and its image loads in the preview, and the
// walkthrough has checked off those steps. Screenshots land in test-results/screenshots/vsix-*.png.
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Locator, Page } from 'playwright-core';
import { removeDirectory } from '../harness/cleanup';
import { waitFor } from '../common/wait';
import { artifactsDirectory, makeRunDirectory, repositoryRoot } from '../harness/paths';
import { openEditorSession, type EditorSession } from '../harness/session';
import type { QuickInput, Workbench } from '../harness/workbench';
import { readZip } from '../harness/zip';
import { startSandbox, type Sandbox } from '../sandbox/server';

/**
 * The image input: one of the sandbox's samples, so that everything the run makes the editor fetch (the
 * preview's input thumbnail too) stays on loopback. Set once the sandbox is up.
 */
let IMAGE_URL = '';
const EXTENSION_ID = 'flora-community.flora-vscode';

interface Manifest {
  version: string;
}

/** A step of the open walkthrough by its title; `checked` narrows to the step's completion state. */
function walkthroughStep(page: Page, title: string, options: { checked?: boolean } = {}): Locator {
  const state = options.checked === undefined ? '' : `[aria-checked="${String(options.checked)}"]`;
  const selector = `button.getting-started-step${state}`;
  return page
    .locator(selector)
    .filter({ has: page.locator('.step-title', { hasText: title }) })
    .first();
}

/**
 * Waits until the keyboard focus has stayed on one element for a moment. The walkthrough page moves the
 * focus when it lays out or records a completed step, and a palette opened just before would close.
 */
async function focusSettled(page: Page, timeoutMs = 15_000): Promise<void> {
  let previous = '';
  let stableReads = 0;
  await waitFor(
    'the keyboard focus to settle',
    async () => {
      // Typed structurally: the test tsconfig has no DOM library.
      const current = await page.evaluate(() => {
        const active = (
          globalThis as unknown as {
            document: { activeElement: { tagName: string; className: string; textContent: string | null } | null };
          }
        ).document.activeElement;
        return active ? `${active.tagName}.${String(active.className)}:${(active.textContent ?? '').slice(0, 60)}` : '';
      });
      stableReads = current === previous ? stableReads + 1 : 0;
      previous = current;
      return stableReads >= 4;
    },
    timeoutMs,
    250,
  ).catch(() => undefined); // A focus that keeps moving is not fatal: openPalette tries again.
}

/**
 * Opens the palette with `text` and waits for a row labelled `row`. A palette opened while the workbench
 * still moves the focus (start-up, the walkthrough page) closes at once, so this tries a few times.
 */
async function openPalette(workbench: Workbench, text: string, row: string): Promise<QuickInput> {
  const { page } = workbench;
  const quickInput = workbench.quickInput();
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    await focusSettled(page);
    try {
      await page.keyboard.press('F1');
      await quickInput.waitForOpen();
      await quickInput.fill(text);
      await quickInput.row(row).waitFor({ state: 'visible', timeout: 15_000 });
      return quickInput;
    } catch (error) {
      lastError = error;
      await page.keyboard.press('Escape');
    }
  }
  throw new Error(`The palette did not show "${row}" for "${text}": ${String(lastError)}`);
}

/** Runs a command from the palette by its full label, like Workbench.runCommand but retrying the opening. */
async function runCommand(workbench: Workbench, title: string): Promise<void> {
  const quickInput = await openPalette(workbench, `>${title}`, title);
  await quickInput.pickItem(title);
}

/** Runs an npm script of this repository; resolves with its whole output. */
function npmRun(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      ['run', script],
      { cwd: repositoryRoot, timeout: 300_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error) reject(new Error(`npm run ${script} failed: ${error.message}\n${output}`));
        else resolve(output);
      },
    );
  });
}

describe('the packaged extension (.vsix) installed into code-server', function () {
  this.timeout(300_000);
  let packageOutput = '';
  let vsixEntries = new Map<string, Buffer>();
  let runDirectory: string;
  let sandbox: Sandbox;
  let session: EditorSession;

  before(async function () {
    this.timeout(600_000);
    const screenshots = path.join(artifactsDirectory, 'screenshots');
    if (fs.existsSync(screenshots)) {
      for (const file of fs.readdirSync(screenshots)) if (file.startsWith('vsix-')) fs.rmSync(path.join(screenshots, file));
    }
    // vsce runs the production build (vscode:prepublish) before packaging.
    packageOutput = await npmRun('package');
    // A private copy: a concurrent `npm run package` may rewrite dist/flora-vscode.vsix while this runs.
    runDirectory = makeRunDirectory('vsix');
    const vsixPath = path.join(runDirectory, 'flora-vscode.vsix');
    fs.copyFileSync(path.join(repositoryRoot, 'dist', 'flora-vscode.vsix'), vsixPath);
    // Put back the development build (with its source map) that development-mode tests load.
    await npmRun('build');
    vsixEntries = readZip(fs.readFileSync(vsixPath));
    sandbox = await startSandbox({ runDurationMs: 4_000 });
    IMAGE_URL = `${sandbox.url}/samples/coral.png`;
    session = await openEditorSession({
      vsixPath,
      settings: { 'flora.baseUrl': sandbox.url, 'flora.pollIntervalSeconds': 2 },
      viewport: { width: 1400, height: 900 },
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      await session.workbench.screenshot(`vsix-failed-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
    }
  });

  after(async () => {
    await session?.close();
    await sandbox?.close();
    if (runDirectory) removeDirectory(runDirectory);
  });

  it('is packaged by vsce without warnings and holds only what runs', () => {
    assert.match(packageOutput, /DONE\s+Packaged: dist[\\/]flora-vscode\.vsix/);
    // vsce tags its warnings " WARNING " (and asks whether to continue).
    assert.doesNotMatch(packageOutput, /\bWARNING\b|continue\? \[y\/N\]/, `vsce warned:\n${packageOutput}`);
    const media = fs
      .readdirSync(path.join(repositoryRoot, 'media'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => `extension/${path.relative(repositoryRoot, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')}`)
      // The README's pictures are shown from the repository, never shipped.
      .filter((file) => !file.startsWith('extension/media/readme/'));
    const expected = [
      '[Content_Types].xml',
      'extension.vsixmanifest',
      'extension/package.json',
      'extension/package.nls.json',
      'extension/readme.md',
      'extension/changelog.md',
      'extension/LICENSE.txt',
      'extension/dist/aws.js',
      'extension/dist/extension.js',
      'extension/dist/undici.js',
      ...media,
    ].sort();
    assert.deepStrictEqual([...vsixEntries.keys()].sort(), expected);
    for (const file of ['extension/dist/extension.js', 'extension/dist/undici.js', 'extension/dist/aws.js']) {
      const bundle = vsixEntries.get(file)?.toString('utf8') ?? '';
      assert.ok(bundle.length > 0 && !bundle.includes('sourceMappingURL'), `${file} is the production build, without a source map`);
    }
    // undici is loaded at the first request, and the AWS libraries at the first upload, from files beside the extension's.
    assert.match(vsixEntries.get('extension/dist/extension.js')?.toString('utf8') ?? '', /require\("\.\/undici\.js"\)/);
    assert.match(vsixEntries.get('extension/dist/extension.js')?.toString('utf8') ?? '', /require\("\.\/aws\.js"\)/);
    // The marketplace reads the display name and description from the vsixmanifest: resolved, not %keys%.
    const vsixManifest = vsixEntries.get('extension.vsixmanifest')?.toString('utf8') ?? '';
    assert.match(vsixManifest, /<DisplayName>FLORA<\/DisplayName>/);
    assert.doesNotMatch(vsixManifest, /%\w[\w.]*%/);
  });

  it('installs as a user extension, not in development mode', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as Manifest;
    assert.ok(fs.existsSync(path.join(session.server.extensionsDir, `${EXTENSION_ID}-${version}`, 'package.nls.json')));
    assert.doesNotMatch(await session.page.title(), /Extension Development Host/);
  });

  it('shows the FLORA container with the welcome that asks for a key', async () => {
    const { workbench } = session;
    await workbench.openViewContainer('FLORA');
    await workbench.sideBar.getByText('Set an API key to start').waitFor({ timeout: 60_000 });
    await workbench.screenshot('vsix-01-welcome');
  });

  it('shows the command titles from package.nls.json in the palette', async () => {
    const { workbench } = session;
    const quickInput = await openPalette(workbench, '>FLORA: ', 'FLORA: Run Technique…');
    const titles = await quickInput.items();
    await workbench.screenshot('vsix-02-palette');
    await quickInput.cancel();
    assert.ok(titles.includes('FLORA: Run Technique…'), JSON.stringify(titles));
    // The palette shows as many rows as fit: a title further down the list is looked for by its own words.
    const keyInput = await openPalette(workbench, '>FLORA: Set API', 'FLORA: Set API Key');
    assert.ok((await keyInput.items()).includes('FLORA: Set API Key'));
    await keyInput.cancel();
    assert.deepStrictEqual(
      titles.filter((title) => title.includes('%')),
      [],
      'unresolved %key% titles',
    );
  });

  it('opens the Get started walkthrough with its four steps and their pictures', async () => {
    const { workbench, page } = session;
    await runCommand(workbench, 'Welcome: Open Walkthrough...');
    await workbench.quickInput().pickItem('Get started with FLORA');
    for (const title of ['Set your API key', 'Browse techniques', 'Run one', 'Insert the output']) {
      await walkthroughStep(page, title).waitFor({ timeout: 30_000 });
    }
    // The selected step's SVG is inlined into a webview.
    await workbench.webview().locator('svg title', { hasText: 'Set API Key' }).waitFor({ state: 'attached', timeout: 30_000 });
    await page.locator('.getting-started-step.expanded:focus').waitFor({ timeout: 30_000 });
    await workbench.screenshot('vsix-03-walkthrough');
    // Keep the page in a background tab while the palette is used: it moves the focus when it records a
    // completed step, which would close a quick input. Progress is recorded all the same.
    await focusSettled(page);
    await workbench.openFile('README.md');
  });

  it('sets the key from the palette', async () => {
    const { workbench, page } = session;
    await runCommand(workbench, 'FLORA: Set API Key');
    const quickInput = workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Set API Key');
    await quickInput.fill(sandbox.apiKey);
    await quickInput.accept();
    await quickInput.waitForClosed();
    await workbench.notification('FLORA API key saved.');
    await page.keyboard.press('Escape');
    await workbench.treeRow("Art Director's Critique").waitFor({ timeout: 30_000 });
  });

  it('runs a technique from the palette and shows its image in the preview', async () => {
    const { workbench } = session;
    await runCommand(workbench, 'FLORA: Run Technique…');
    const quickInput = workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Run Technique');
    await quickInput.fill('studio shot');
    await quickInput.pickItem('Studio Shot');
    await quickInput.waitForTitle('Studio Shot: Product Image (1/1)');
    await quickInput.fill(IMAGE_URL);
    await quickInput.row(/Use "/).waitFor();
    await quickInput.accept();
    await quickInput.waitForTitle('Studio Shot: confirm the run');
    await quickInput.pickItem(/Run for 5 credits/);
    await workbench.clickNotificationButton(/Studio Shot completed/, 'Open Preview');
    const preview = workbench.webview();
    await preview.getByRole('heading', { name: 'Studio Shot', level: 1 }).waitFor({ timeout: 30_000 });
    const loaded = await workbench.webviewImage('img.media');
    assert.ok(loaded.complete && loaded.width > 0, `image did not load: ${JSON.stringify(loaded)}`);
    await workbench.screenshot('vsix-04-preview');
    const runs = sandbox.runs().filter((run) => run.slug === 'studio-shot');
    assert.strictEqual(runs.length, 1);
    assert.strictEqual(runs[0]?.status, 'completed');
  });

  it('checks off the walkthrough steps done so far, and the browse step once a technique is expanded', async () => {
    const { workbench, page } = session;
    await page.locator('.tabs-container .tab', { hasText: 'Welcome' }).first().click();
    await walkthroughStep(page, 'Set your API key', { checked: true }).waitFor({ timeout: 30_000 });
    await walkthroughStep(page, 'Run one', { checked: true }).waitFor({ timeout: 30_000 });
    // Browsing is expanding a technique (its inputs and cost), not opening the view.
    await workbench.openViewContainer('FLORA');
    await workbench.treeRow("Art Director's Critique").click();
    await workbench.treeRow(/Cost: \d+ credits per run/).waitFor({ timeout: 30_000 });
    await page.locator('.tabs-container .tab', { hasText: 'Welcome' }).first().click();
    await walkthroughStep(page, 'Browse techniques', { checked: true }).waitFor({ timeout: 30_000 });
    await focusSettled(page);
    await workbench.screenshot('vsix-05-walkthrough-progress');
  });
});
