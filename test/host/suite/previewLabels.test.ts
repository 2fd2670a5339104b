// What the run preview names and shows of a run's inputs and outputs: the names the technique's details
// give them (not their raw ids), the id when no name is known, and thumbnails of image inputs made by the
// extension, from the local file when it is inside the workspace, else from the URL when a download could
// fetch it, sent to the page as checked bytes of one of four image types (the page draws them; its CSP
// admits no source for them). Read through previewModel and inputThumbnail, what the panel posts and sends
// (a second PreviewPanels cannot register beside the extension's).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunInput } from '../../../src/core/model';
import type { RunRecord } from '../../../src/core/runs';
import type { TechniqueDetails } from '../../../src/core/schemas';
import { inputThumbnail, thumbnailBytes, type InputThumbnailSource } from '../../../src/views/previewInputs';
import { previewModel, type PreviewSources } from '../../../src/views/previewPanel';

const SANDBOX_ORIGIN = 'http://127.0.0.1:4321';

/** Studio Shot's details, as FLORA (and the sandbox) describe it. */
const STUDIO_SHOT: TechniqueDetails = {
  techniqueId: 'technique-studio-shot',
  name: 'Studio Shot',
  runCost: 5,
  inputs: [{ id: 'product_image', name: 'Product Image', type: 'imageUrl' }],
  outputs: [{ id: 'studio_shot', name: 'Studio Shot', type: 'imageUrl' }],
};

function record(inputs: RunInput[], outputs: NonNullable<RunRecord['outputs']>): RunRecord {
  return {
    localId: 'flora-vscode-preview-labels',
    idempotencyKey: 'flora-vscode-preview-labels',
    runId: 'run-1',
    slug: 'studio-shot',
    techniqueName: 'Studio Shot',
    inputs,
    status: 'completed',
    progress: 100,
    outputs,
    startedLocallyAt: 1_000,
    completedAt: 2_000,
    updatedAt: 2_000,
  };
}

function sources(details?: TechniqueDetails): PreviewSources {
  return {
    connection: { extraOrigins: () => [SANDBOX_ORIGIN] },
    runs: { connectionOf: () => undefined },
    saveOutputs: 'ask',
    details,
  };
}

/** A 1×1 PNG, and the first bytes of a JPEG: what the signature check reads. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
/** A JPEG's header as far as its frame (1 × 1): enough for the signature and the size it declares. */
const JPEG = '/9j/4AAQSkZJRgABAQAAAQABAAD/wAALCAABAAEBAREA/9k=';
/** The PNG above with its header declaring width × height (its checksum left as it is: the size is read first). */
function declaring(width: number, height: number): string {
  const bytes = Buffer.from(PNG, 'base64');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  return bytes.toString('base64');
}
/** What the page receives for the file (a PNG) and for the URL (a JPEG). */
const FROM_FILE = { mediaType: 'image/png', base64: PNG };
const FROM_URL = { mediaType: 'image/jpeg', base64: JPEG };

/** Records what was asked for and answers as Thumbnails does, with a data: URI: a PNG for a file, a JPEG for a URL. */
function recordingThumbnails(): InputThumbnailSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    forFile: (file: string) => {
      asked.push(`file:${file}`);
      return Promise.resolve(`data:image/png;base64,${PNG}`);
    },
    forUrl: (url: string) => {
      asked.push(`url:${url}`);
      return Promise.resolve(`data:image/jpeg;base64,${JPEG}`);
    },
  };
}

describe('the preview’s labels and input thumbnails', () => {
  const studioShot = record(
    [{ id: 'product_image', type: 'imageUrl', value: 'https://media.flora.ai/examples/sneaker.png' }],
    [{ outputId: 'studio_shot', type: 'imageUrl', url: `${SANDBOX_ORIGIN}/media/run-1/studio_shot.png` }],
  );

  it('names inputs and outputs as the technique does', () => {
    const model = previewModel(studioShot, sources(STUDIO_SHOT));
    assert.deepStrictEqual(
      model.inputs.map((input) => [input.label, input.value, input.image]),
      [['Product Image', 'https://media.flora.ai/examples/sneaker.png', true]],
    );
    assert.deepStrictEqual(
      model.outputs.map((output) => [output.title, output.kind, output.loadable]),
      [['Studio Shot', 'image', true]],
    );
    assert.ok(model.outputs[0]?.zoom.toActual.includes('Studio Shot'), 'the zoom button names the output');
  });

  it('falls back to the id while the details are unknown, or when they give no name', () => {
    assert.deepStrictEqual(
      previewModel(studioShot, sources()).inputs.map((input) => input.label),
      ['product_image'],
    );
    assert.deepStrictEqual(
      previewModel(studioShot, sources()).outputs.map((output) => output.title),
      ['studio_shot'],
    );
    const unnamed: TechniqueDetails = {
      ...STUDIO_SHOT,
      inputs: [{ id: 'product_image', name: '  ', type: 'imageUrl' }],
      outputs: [{ id: 'other', name: 'Other', type: 'imageUrl' }],
    };
    const model = previewModel(
      record(studioShot.inputs, [...(studioShot.outputs ?? []), { type: 'imageUrl', url: `${SANDBOX_ORIGIN}/media/run-1/x.png` }]),
      sources(unnamed),
    );
    assert.deepStrictEqual(
      model.inputs.map((input) => input.label),
      ['product_image'],
    );
    assert.deepStrictEqual(
      model.outputs.map((output) => output.title),
      ['studio_shot', 'Output 2'],
    );
  });

  it('passes a hostile name through as it is: the page sets it as text', () => {
    const hostile = '<img src=x onerror=alert(1)> [Open](command:x) $(zap)';
    const model = previewModel(studioShot, sources({ ...STUDIO_SHOT, inputs: [{ id: 'product_image', name: hostile, type: 'imageUrl' }] }));
    assert.strictEqual(model.inputs[0]?.label, hostile);
  });

  it('makes an image input’s thumbnail from its URL, and none for text or a URL a download would refuse', async () => {
    const thumbnails = recordingThumbnails();
    const extra = [SANDBOX_ORIGIN];
    const made = await Promise.all([
      inputThumbnail({ id: 'image', type: 'imageUrl', value: 'https://media.flora.ai/examples/sneaker.png' }, thumbnails, extra),
      inputThumbnail({ id: 'sample', type: 'imageUrl', value: `${SANDBOX_ORIGIN}/samples/coral.png` }, thumbnails, extra),
      inputThumbnail({ id: 'prompt', type: 'text', value: 'https://media.flora.ai/examples/sneaker.png' }, thumbnails, extra),
      inputThumbnail({ id: 'video', type: 'videoUrl', value: 'https://media.flora.ai/examples/clip.mp4' }, thumbnails, extra),
      inputThumbnail({ id: 'plain', type: 'imageUrl', value: 'http://example.com/a.png' }, thumbnails, extra),
      inputThumbnail({ id: 'script', type: 'imageUrl', value: 'javascript:alert(1)' }, thumbnails, extra),
    ]);
    assert.deepStrictEqual(made, [FROM_URL, FROM_URL, undefined, undefined, undefined, undefined]);
    assert.deepStrictEqual(thumbnails.asked, [
      'url:https://media.flora.ai/examples/sneaker.png',
      `url:${SANDBOX_ORIGIN}/samples/coral.png`,
    ]);
  });

  it('reads a local input from the workspace by its real path, never from outside it (a link included), and else uses the uploaded URL', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'the host tests open a workspace folder');
    const uploaded = `${SANDBOX_ORIGIN}/s3/bucket/upload.png`;
    const local = (localPath: string): RunInput => ({ id: 'product_image', type: 'imageUrl', value: uploaded, localPath });
    const thumbnails = recordingThumbnails();
    // Files on disk: the check is by real path, so each must exist. A link inside the workspace leads out.
    const images = path.join(folder, 'images');
    const created = !fs.existsSync(images);
    fs.mkdirSync(images, { recursive: true });
    const outsideFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'flora-outside-')), 'lamp.png');
    fs.writeFileSync(outsideFile, Buffer.from(PNG, 'base64'));
    fs.writeFileSync(path.join(images, 'lamp.png'), Buffer.from(PNG, 'base64'));
    fs.symlinkSync(outsideFile, path.join(images, 'linked.png'));
    fs.mkdirSync(`${folder}-sibling`, { recursive: true });
    fs.writeFileSync(`${folder}-sibling/lamp.png`, Buffer.from(PNG, 'base64'));
    try {
      assert.deepStrictEqual(await inputThumbnail(local('images/lamp.png'), thumbnails, [SANDBOX_ORIGIN]), FROM_FILE);
      assert.deepStrictEqual(thumbnails.asked, [`file:${fs.realpathSync(path.join(images, 'lamp.png'))}`]);
      for (const outside of ['../elsewhere/lamp.png', outsideFile, `${folder}-sibling/lamp.png`, 'images/linked.png']) {
        thumbnails.asked.length = 0;
        assert.deepStrictEqual(await inputThumbnail(local(outside), thumbnails, [SANDBOX_ORIGIN]), FROM_URL, outside);
        assert.deepStrictEqual(thumbnails.asked, [`url:${uploaded}`], `${outside} is not read`);
      }
    } finally {
      fs.rmSync(path.join(images, 'lamp.png'), { force: true });
      fs.rmSync(path.join(images, 'linked.png'), { force: true });
      if (created) fs.rmSync(images, { recursive: true, force: true });
      fs.rmSync(`${folder}-sibling`, { recursive: true, force: true });
      fs.rmSync(path.dirname(outsideFile), { recursive: true, force: true });
    }
    // A file that is gone (or not an image) falls back to the URL FLORA read.
    const missing: InputThumbnailSource = { ...recordingThumbnails(), forFile: () => Promise.resolve(undefined) };
    const fallback = await inputThumbnail(local('images/gone.png'), missing, [SANDBOX_ORIGIN]);
    assert.deepStrictEqual(fallback, FROM_URL);
    assert.ok(!fs.existsSync(path.join(folder, 'images', 'gone.png')));
  });

  it('sends the page only bytes whose signature is a PNG, JPEG, GIF or WebP of the type named', async () => {
    const base64 = (bytes: string | number[]) =>
      Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).toString('base64');
    const gif = base64('GIF89a\x01\x00\x01\x00\x00\x00\x00;');
    const webp = base64('RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00\x00\x00\x00\x9d\x01\x2a\x01\x00\x01\x00');
    assert.deepStrictEqual(thumbnailBytes(`data:image/png;base64,${PNG}`), FROM_FILE);
    assert.deepStrictEqual(thumbnailBytes(`data:image/jpeg;base64,${JPEG}`), FROM_URL);
    assert.deepStrictEqual(thumbnailBytes(`data:image/gif;base64,${gif}`), { mediaType: 'image/gif', base64: gif });
    assert.deepStrictEqual(thumbnailBytes(`data:image/webp;base64,${webp}`), { mediaType: 'image/webp', base64: webp });
    for (const refused of [
      undefined,
      // Not an image, or a type the page does not decode (SVG could carry script; BMP and TIFF are not sent).
      'data:image/png;base64,ZmlsZQ==',
      `data:image/svg+xml;base64,${base64('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')}`,
      `data:image/bmp;base64,${base64('BM' + '\x00'.repeat(30))}`,
      // Bytes of one type named as another.
      `data:image/png;base64,${JPEG}`,
      `data:image/jpeg;base64,${PNG}`,
      // Not base64, or not a data: URI at all.
      `data:image/png,${Buffer.from(PNG, 'base64').toString('latin1')}`,
      `data:image/png;base64,${PNG}"><script>`,
      `https://media.flora.ai/a.png`,
      // A PNG that declares 60 000 × 60 000 pixels (gigabytes for the page's canvas), and a header cut short.
      `data:image/png;base64,${declaring(60_000, 60_000)}`,
      `data:image/png;base64,${Buffer.from(PNG, 'base64').subarray(0, 20).toString('base64')}`,
    ]) {
      assert.strictEqual(thumbnailBytes(refused), undefined, String(refused).slice(0, 60));
    }
    // An input whose source hands over something else gets no thumbnail, rather than something unchecked.
    const odd: InputThumbnailSource = {
      forFile: () => Promise.resolve(undefined),
      forUrl: () => Promise.resolve(`data:image/svg+xml;base64,${base64('<svg/>')}`),
    };
    assert.strictEqual(
      await inputThumbnail({ id: 'image', type: 'imageUrl', value: `${SANDBOX_ORIGIN}/samples/coral.png` }, odd, [SANDBOX_ORIGIN]),
      undefined,
    );
  });
});
