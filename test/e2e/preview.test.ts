// The run preview as a person sees it, measured in the real webview: a 512 px output is drawn at its own
// size in a wide panel and at the panel's width (less the page's and the card's padding) in a narrow one,
// never wider than the page; clicking it (or Enter) zooms and zooms back; the headings are the technique's
// names for its inputs and outputs, not their ids; the image input shows as a thumbnail the extension made,
// drawn from its bytes onto a canvas, with the CSP exactly as strict as before (no data:, no input's origin);
// a video output still plays. Screenshots of the wide, narrow and zoomed previews and of the input's
// thumbnail land in test-results/screenshots/preview-*.png.
import * as assert from 'assert';
import type { FrameLocator } from 'playwright-core';
import { openEditorSession, type EditorSession } from '../harness/session';
import { fadedIn, setApiKeyAsPerson } from '../harness/workbench';
import { waitFor } from '../common/wait';
import { IMAGE_SIZE } from '../sandbox/media';
import { startSandbox, type Sandbox } from '../sandbox/server';

/** What the page says of its output image and its layout (typed structurally: the test tsconfig has no DOM library). */
interface Measure {
  /** The image as drawn, and as it is. */
  drawn: number;
  natural: number;
  /** The page's width, the body's and the card's padding and border (left plus right). */
  page: number;
  bodyPadding: number;
  cardChrome: number;
  /** The page scrolls sideways (it must not); the image's frame scrolls sideways (a zoomed image may). */
  pageOverflows: boolean;
  frameOverflows: boolean;
  pressed: string | null;
  label: string | null;
  caption: string;
}

/** The input's thumbnail canvas, as far as the test reads it. */
interface ThumbnailCanvas {
  width: number;
  height: number;
  getBoundingClientRect(): { width: number; height: number };
  getAttribute(name: string): string | null;
  getContext(kind: '2d'): { getImageData(x: number, y: number, width: number, height: number): { data: ArrayLike<number> } } | null;
}

interface MeasuredElement {
  naturalWidth: number;
  getBoundingClientRect(): { width: number };
  closest(selector: string): MeasuredElement | null;
  getAttribute(name: string): string | null;
  clientWidth: number;
  scrollWidth: number;
  offsetWidth: number;
  textContent: string | null;
  querySelector(selector: string): MeasuredElement | null;
  ownerDocument: {
    documentElement: { clientWidth: number; scrollWidth: number };
    body: MeasuredElement;
    defaultView: { getComputedStyle(element: MeasuredElement): Record<'paddingLeft' | 'paddingRight', string> };
  };
}

async function measure(preview: FrameLocator, index = 0): Promise<Measure> {
  return preview
    .locator(`section.output[data-index="${index}"] img.media`)
    .evaluate(async (image: MeasuredElement & { decode(): Promise<void> }) => {
      await image.decode().catch(() => undefined);
      const document = image.ownerDocument;
      const style = (element: MeasuredElement) => document.defaultView.getComputedStyle(element);
      const padding = (element: MeasuredElement) => parseFloat(style(element).paddingLeft) + parseFloat(style(element).paddingRight);
      const card = image.closest('section.output');
      const frame = image.closest('.frame');
      const button = image.closest('button.zoom');
      if (!card || !frame || !button) throw new Error('the image is not in its card, frame and zoom button');
      return {
        drawn: image.getBoundingClientRect().width,
        natural: image.naturalWidth,
        page: document.documentElement.clientWidth,
        bodyPadding: padding(document.body),
        cardChrome: card.offsetWidth - card.clientWidth + padding(card),
        pageOverflows: document.documentElement.scrollWidth > document.documentElement.clientWidth,
        frameOverflows: frame.scrollWidth > frame.clientWidth,
        pressed: button.getAttribute('aria-pressed'),
        label: button.getAttribute('aria-label'),
        caption: card.querySelector('.zoom-state')?.textContent ?? '',
      };
    });
}

/**
 * Keys pressed while the webview has focus go to the page, not the workbench: a click on the side bar's
 * title (which does nothing else) gives the workbench its keyboard back, for F1.
 */
async function focusWorkbench(session: EditorSession): Promise<void> {
  await session.workbench.sideBar.locator('.composite.title').first().click();
}

describe('the run preview in the browser', function () {
  this.timeout(300_000);
  let sandbox: Sandbox;
  let session: EditorSession;

  before(async () => {
    sandbox = await startSandbox({ runDurationMs: 2_000 });
    session = await openEditorSession({
      settings: { 'flora.baseUrl': sandbox.url, 'flora.pollIntervalSeconds': 1 },
      viewport: { width: 1400, height: 900 },
    });
    // The key as a person sets it.
    await session.workbench.openViewContainer('FLORA');
    await setApiKeyAsPerson(session.workbench, sandbox.apiKey);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      await session.workbench.screenshot(`failed-preview-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
    }
  });

  after(async () => {
    await session?.close();
    await sandbox?.close();
  });

  /** Runs a technique from the palette with one image input, and opens its preview from the completion notification. */
  async function runAndPreview(search: string, name: string, inputUrl: string, cost: number): Promise<FrameLocator> {
    const { workbench } = session;
    await workbench.openViewContainer('FLORA');
    await workbench.treeRow("Art Director's Critique").waitFor({ timeout: 60_000 });
    await workbench.runCommand('FLORA: Run Technique…');
    const quickInput = workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Run Technique');
    await quickInput.fill(search);
    await quickInput.pickItem(name);
    await quickInput.waitForTitle(new RegExp(`^${name}: `));
    await quickInput.fill(inputUrl);
    await quickInput.row(/Use "/).waitFor();
    await quickInput.accept();
    await quickInput.waitForTitle(`${name}: confirm the run`);
    await quickInput.pickItem(new RegExp(`Run for ${cost} credits`));
    await workbench.clickNotificationButton(new RegExp(`${name} completed`), 'Open Preview');
    const preview = workbench.webview();
    // Loaded first: the page takes the focus when it opens, which would close a palette opened before.
    await preview.getByRole('heading', { name, level: 1 }).waitFor({ timeout: 30_000 });
    await preview.locator('section.output').first().waitFor({ timeout: 30_000 });
    // The one preview on screen: a single editor group holding it, so the panel is as wide as the editor area;
    // the notification centre Open Preview was clicked in is put away, so it covers nothing in the pictures.
    await focusWorkbench(session);
    await workbench.runCommand('Notifications: Hide Notifications');
    await workbench.runCommand('View: Single Column Editor Layout');
    return preview;
  }

  it('draws a 512 px output at its own size in a wide panel, and names what it shows as the technique does', async () => {
    const { workbench } = session;
    const input = `${sandbox.url}/samples/coral.png`;
    const preview = await runAndPreview('studio shot', 'Studio Shot', input, 5);
    const wide = await waitFor(
      'the output image to load',
      async () => {
        const measured = await measure(preview);
        return measured.natural > 0 && measured.caption !== '' ? measured : undefined;
      },
      30_000,
      100,
    );
    assert.strictEqual(wide.natural, IMAGE_SIZE, 'the sandbox serves 512 px images');
    assert.ok(wide.page > IMAGE_SIZE + wide.bodyPadding + wide.cardChrome, `the panel is wide: ${JSON.stringify(wide)}`);
    assert.strictEqual(wide.drawn, IMAGE_SIZE, `drawn at its own size, not shrunk to a grid column: ${JSON.stringify(wide)}`);
    assert.strictEqual(wide.pageOverflows, false);
    assert.strictEqual(wide.pressed, 'false');
    assert.match(wide.caption, /^512 × 512 · Actual size · Click to zoom in$/);
    assert.strictEqual(wide.label, 'Zoom in on Studio Shot');

    // The technique's names, not the record's ids.
    assert.strictEqual(await preview.locator('h2.output-title').textContent(), 'Studio Shot');
    const inputRow = preview.locator('li.input').first();
    assert.strictEqual(await inputRow.locator('.input-name').textContent(), 'Product Image');
    assert.strictEqual(await inputRow.locator('.input-value').textContent(), input);
    const text = (await preview.locator('body').textContent()) ?? '';
    assert.ok(!/product_image|studio_shot ·|Input product/.test(text), `no raw key is a label: ${text}`);
    // The input's thumbnail: bytes the extension fetched and checked, sent in a message and drawn onto a
    // canvas in the 64 px box (the sample is square: 64 × 64), named by the input's name.
    const thumbnail = inputRow.locator('.input-thumbnail canvas');
    await thumbnail.waitFor({ timeout: 30_000 });
    const drawn = await waitFor(
      'the thumbnail to be drawn',
      () =>
        thumbnail.evaluate((canvas: ThumbnailCanvas) => {
          const box = canvas.getBoundingClientRect();
          const context = canvas.getContext('2d');
          // The middle pixel of the sample (coral, opaque), and how many pixels are not transparent.
          const pixels = context?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
          let opaque = 0;
          for (let offset = 3; offset < pixels.length; offset += 4) if ((pixels[offset] ?? 0) > 0) opaque++;
          const middle = context?.getImageData(Math.floor(canvas.width / 2), Math.floor(canvas.height / 2), 1, 1).data;
          const shown = {
            width: canvas.width,
            height: canvas.height,
            cssWidth: Math.round(box.width),
            cssHeight: Math.round(box.height),
            role: canvas.getAttribute('role'),
            label: canvas.getAttribute('aria-label'),
            opaque,
            total: canvas.width * canvas.height,
            middleAlpha: middle?.[3] ?? 0,
          };
          return shown.opaque > 0 ? shown : undefined;
        }),
      30_000,
      100,
    );
    assert.ok(drawn.width > 0 && drawn.height > 0, `the canvas has pixels: ${JSON.stringify(drawn)}`);
    assert.strictEqual(drawn.middleAlpha, 255, `its middle pixel is drawn: ${JSON.stringify(drawn)}`);
    assert.strictEqual(drawn.opaque, drawn.total, `the whole opaque sample is drawn: ${JSON.stringify(drawn)}`);
    assert.deepStrictEqual([drawn.cssWidth, drawn.cssHeight], [64, 64], 'scaled to the 64 px box');
    assert.deepStrictEqual([drawn.role, drawn.label], ['img', 'Product Image']);
    assert.strictEqual(await preview.getByRole('img', { name: 'Product Image' }).count(), 1);
    assert.strictEqual(await inputRow.locator('img').count(), 0, 'no image element loads a URL for the input');
    // The CSP is the one the preview always had: the output's origin for images and videos, nothing wider.
    const csp = await preview
      .locator('meta[http-equiv="Content-Security-Policy"]')
      .evaluate((meta: { getAttribute(name: string): string | null }) => meta.getAttribute('content') ?? '');
    assert.match(csp, /^default-src 'none'; /);
    assert.strictEqual(/img-src ([^;]*)/.exec(csp)?.[1], sandbox.url);
    assert.strictEqual(/media-src ([^;]*)/.exec(csp)?.[1], sandbox.url);
    assert.match(csp, /; script-src 'nonce-[A-Za-z0-9+/=]+'$/);
    assert.ok(!csp.includes('data:') && !csp.includes('blob:'), csp);
    await inputRow.scrollIntoViewIfNeeded();
    await fadedIn();
    await workbench.screenshot('preview-thumbnail');
    // The picture shows the image's state and hint under it.
    await preview.locator('.zoom-state').first().scrollIntoViewIfNeeded();
    await fadedIn();
    await workbench.screenshot('preview-wide');

    // A click on an image that already fits zooms in (twice its size), inside its frame; another fits it again.
    await preview.locator('button.zoom').first().click();
    const zoomedIn = await measure(preview);
    assert.strictEqual(zoomedIn.drawn, 2 * IMAGE_SIZE, JSON.stringify(zoomedIn));
    assert.strictEqual(zoomedIn.pressed, 'true');
    assert.strictEqual(zoomedIn.label, 'Fit Studio Shot to the panel');
    assert.strictEqual(zoomedIn.pageOverflows, false, 'the frame scrolls, not the page');
    await preview.locator('button.zoom').first().click();
    assert.strictEqual((await measure(preview)).drawn, IMAGE_SIZE);
  });

  it('fits the output to a narrow panel, and shows it at actual size when clicked or on Enter', async () => {
    const { workbench } = session;
    const preview = workbench.webview();
    const wideWidth = (await measure(preview)).page;
    // Two columns: the preview keeps the left half.
    await focusWorkbench(session);
    await workbench.runCommand('View: Two Columns Editor Layout');
    const narrow = await waitFor(
      'the panel to narrow',
      async () => {
        const measured = await measure(preview);
        return measured.page < wideWidth * 0.75 ? measured : undefined;
      },
      30_000,
      100,
    );
    const available = narrow.page - narrow.bodyPadding - narrow.cardChrome;
    assert.ok(available < IMAGE_SIZE, `the panel is narrower than the image: ${JSON.stringify(narrow)}`);
    assert.ok(Math.abs(narrow.drawn - available) <= 1, `fitted to the panel less its padding: ${JSON.stringify(narrow)}`);
    assert.strictEqual(narrow.pageOverflows, false);
    assert.match(narrow.caption, /^512 × 512 · Fitted to the panel · Click to show at actual size$/);
    assert.strictEqual(narrow.label, 'Show Studio Shot at actual size');
    await fadedIn();
    await workbench.screenshot('preview-narrow');

    await preview.locator('button.zoom').first().click();
    const zoomed = await measure(preview);
    assert.strictEqual(zoomed.drawn, IMAGE_SIZE, `shown at its own size: ${JSON.stringify(zoomed)}`);
    assert.strictEqual(zoomed.pressed, 'true');
    assert.strictEqual(zoomed.frameOverflows, true, 'the frame scrolls to the rest of it');
    assert.strictEqual(zoomed.pageOverflows, false, 'the page itself does not');
    assert.match(zoomed.caption, /^512 × 512 · Actual size · Click to fit to the panel$/);
    await preview.locator('.zoom-state').first().scrollIntoViewIfNeeded();
    await fadedIn();
    await workbench.screenshot('preview-zoomed');

    // From the keyboard: Enter on the focused image fits it again.
    await preview.locator('button.zoom').first().focus();
    await preview.locator('button.zoom').first().press('Enter');
    const fitted = await measure(preview);
    assert.ok(Math.abs(fitted.drawn - available) <= 1, JSON.stringify(fitted));
    assert.strictEqual(fitted.pressed, 'false');
    await focusWorkbench(session);
    await workbench.runCommand('View: Single Column Editor Layout');
  });

  it('still plays a video output, named as the technique names it', async () => {
    // The Studio Shot preview closed: the page read below is the one webview on screen.
    await focusWorkbench(session);
    await session.workbench.runCommand('View: Close All Editors');
    const preview = await runAndPreview('product motion', 'Product Motion', `${sandbox.url}/samples/meadow.png`, 16);
    const card = preview.locator('section.output[data-kind="video"]').first();
    await card.waitFor({ timeout: 30_000 });
    assert.strictEqual(await card.locator('h2.output-title').textContent(), 'Motion Video');
    const video = await card
      .locator('video.media')
      .evaluate(async (element: { readyState: number; videoWidth: number; getBoundingClientRect(): { width: number }; src: string }) => {
        // HAVE_METADATA (1) is enough to know it decoded; poll up to a few seconds.
        for (let attempt = 0; attempt < 50 && element.readyState < 1; attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
        return { ready: element.readyState, width: element.videoWidth, drawn: element.getBoundingClientRect().width, src: element.src };
      });
    assert.ok(video.ready >= 1 && video.width > 0, `the video loads: ${JSON.stringify(video)}`);
    assert.ok(video.drawn <= video.width + 0.5, `not drawn larger than it is: ${JSON.stringify(video)}`);
    assert.ok(video.src.startsWith(`${sandbox.url}/media/`));
    await fadedIn();
    await session.workbench.screenshot('preview-video');
  });
});
