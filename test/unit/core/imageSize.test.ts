// The sizes images declare, checked against the decoder that reads thumbnails: Chromium (Debian's, which
// `npm test` installs first). It encodes PNG, JPEG and WebP (lossy, lossless, with alpha) at sizes fast-check
// picks, and decodes them, GIFs built here included; the header reader must say what Chromium decodes, and
// never less. A small file declaring a huge image gets no thumbnail.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { chromium, type Browser, type Page } from 'playwright-core';
import { crc32 } from 'node:zlib';
import { fitsThumbnail, imageDimensions, MAX_THUMBNAIL_PIXELS } from '../../../src/core/imageSize';
import { Thumbnails } from '../../../src/services/thumbnails';
import type { Log } from '../../../src/services/log';
import { chromiumBinary } from '../../harness/paths';

const SEED = 20261202;

type Encoding = 'image/png' | 'image/jpeg' | 'image/webp-lossy' | 'image/webp-lossless' | 'image/webp-alpha';

/** The page's own globals these tests use (the project compiles without the DOM's types). */
interface PageGlobals {
  OffscreenCanvas: new (
    width: number,
    height: number,
  ) => {
    getContext(kind: '2d'): { fillStyle: string; fillRect(x: number, y: number, width: number, height: number): void } | null;
    convertToBlob(options: { type: string; quality: number }): Promise<Blob>;
  };
  createImageBitmap(blob: Blob): Promise<{ width: number; height: number }>;
}

/** Encoded by Chromium's canvas, then decoded by Chromium: the bytes and the size it decodes them to. */
async function encodeInChromium(page: Page, encoding: Encoding, width: number, height: number) {
  return page.evaluate(
    async ({ encoding, width, height }) => {
      const page = globalThis as unknown as PageGlobals;
      const canvas = new page.OffscreenCanvas(width, height);
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      context.fillStyle = encoding === 'image/webp-alpha' ? 'rgba(200, 40, 90, 0.5)' : 'rgb(200, 40, 90)';
      context.fillRect(0, 0, width, height);
      const type = encoding.startsWith('image/webp') ? 'image/webp' : encoding;
      const quality = encoding === 'image/webp-lossless' ? 1 : 0.8;
      const blob = await canvas.convertToBlob({ type, quality });
      const bitmap = await page.createImageBitmap(blob);
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return { type: blob.type, base64: btoa(binary), decoded: { width: bitmap.width, height: bitmap.height } };
    },
    { encoding, width, height },
  );
}

/** What Chromium decodes the bytes to, or undefined when it cannot. */
async function decodeInChromium(page: Page, bytes: Buffer, type: string) {
  return page.evaluate(
    async ({ base64, type }) => {
      const binary = atob(base64);
      const data = Uint8Array.from(binary, (character) => character.charCodeAt(0));
      try {
        const bitmap = await (globalThis as unknown as PageGlobals).createImageBitmap(new Blob([data], { type }));
        return { width: bitmap.width, height: bitmap.height };
      } catch {
        return undefined;
      }
    },
    { base64: bytes.toString('base64'), type },
  );
}

/**
 * A GIF of one frame filled with colour 1: a screen of `screen`, the frame at (left, top), width × height.
 * LZW with 2-bit pixels and a clear code every two pixels, so the table never reaches 8 entries and every
 * code stays 3 bits wide.
 */
function gif(screen: { width: number; height: number }, frame: { left: number; top: number; width: number; height: number }): Buffer {
  const codes: number[] = [];
  for (let pixel = 0; pixel < frame.width * frame.height; pixel++) {
    if (pixel % 2 === 0) codes.push(4);
    codes.push(1);
  }
  codes.push(5);
  const packed: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const code of codes) {
    buffer |= code << bits;
    bits += 3;
    while (bits >= 8) {
      packed.push(buffer & 0xff);
      buffer >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) packed.push(buffer & 0xff);
  const blocks: number[] = [];
  for (let start = 0; start < packed.length; start += 255) {
    const chunk = packed.slice(start, start + 255);
    blocks.push(chunk.length, ...chunk);
  }
  const u16 = (value: number) => [value & 0xff, value >> 8];
  return Buffer.from([
    ...Buffer.from('GIF89a', 'latin1'),
    ...u16(screen.width),
    ...u16(screen.height),
    0x81, // a global colour table of 4 colours
    0,
    0,
    ...[0, 0, 0, 200, 40, 90, 255, 255, 255, 0, 0, 255],
    0x21,
    0xf9,
    4,
    0,
    0,
    0,
    0,
    0, // a graphic control extension, skipped by the reader
    0x2c,
    ...u16(frame.left),
    ...u16(frame.top),
    ...u16(frame.width),
    ...u16(frame.height),
    0,
    2,
    ...blocks,
    0,
    0x3b,
  ]);
}

/** A JPEG cut into its start marker, its segments, and the scan with everything after it. */
function jpegSegments(jpeg: Buffer): Buffer[] {
  const parts = [jpeg.subarray(0, 2)];
  let offset = 2;
  while (offset < jpeg.length) {
    if (jpeg[offset + 1] === 0xda) {
      parts.push(jpeg.subarray(offset));
      break;
    }
    const end = offset + 2 + jpeg.readUInt16BE(offset + 2);
    parts.push(jpeg.subarray(offset, end));
    offset = end;
  }
  return parts;
}

/** The PNG with its IHDR saying width × height (the CRC fixed, so the file is otherwise well-formed). */
function withDeclaredSize(png: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(png);
  copy.writeUInt32BE(width, 16);
  copy.writeUInt32BE(height, 20);
  copy.writeUInt32BE(crc32(copy.subarray(12, 29)), 29);
  return copy;
}

describe('core/imageSize: the size an image declares, as Chromium decodes it', function () {
  this.timeout(240_000);
  let browser: Browser;
  let page: Page;

  before(async () => {
    assert.ok(fs.existsSync(chromiumBinary), `Chromium is missing at ${chromiumBinary}: run npm run install-editor`);
    // Chromium writes crash reports and settings under XDG folders whatever the profile: a private one here.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-chromium-decode-'));
    browser = await chromium.launch({
      executablePath: chromiumBinary,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      env: { ...process.env, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_CACHE_HOME: path.join(home, 'cache') },
    });
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
  });

  it('reads PNG, JPEG and WebP (lossy, lossless, with alpha) at any size as Chromium decodes them', async () => {
    const encodings: Encoding[] = ['image/png', 'image/jpeg', 'image/webp-lossy', 'image/webp-lossless', 'image/webp-alpha'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...encodings),
        fc.integer({ min: 1, max: 1_200 }),
        fc.integer({ min: 1, max: 1_200 }),
        async (encoding, width, height) => {
          const encoded = await encodeInChromium(page, encoding, width, height);
          assert.deepEqual(encoded.decoded, { width, height });
          const bytes = Buffer.from(encoded.base64, 'base64');
          assert.deepEqual(imageDimensions(bytes), encoded.decoded, `${encoded.type} ${width}×${height}`);
          assert.equal(fitsThumbnail(bytes), true);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('reads a JPEG with segments crafted to mislead it either as Chromium decodes it, or not at all', async () => {
    const encoded = await encodeInChromium(page, 'image/jpeg', 300, 200);
    const jpeg = Buffer.from(encoded.base64, 'base64');
    const segments = jpegSegments(jpeg);
    const frame = segments.find((segment) => segment[1] === 0xc0);
    assert.ok(frame, 'Chromium writes a baseline frame header');
    const decoy = Buffer.from(frame);
    decoy.writeUInt16BE(10, 5);
    decoy.writeUInt16BE(10, 7);
    const segment = (marker: number, body: Buffer) => {
      const head = Buffer.from([0xff, marker, 0, 0]);
      head.writeUInt16BE(body.length + 2, 2);
      return Buffer.concat([head, body]);
    };
    // What an attacker may put between the real segments: stuffed bytes with a length after them, fill
    // bytes, application segments holding a decoy frame header, a second (decoy) frame header, junk.
    const insertion = fc.oneof(
      fc.integer({ min: 0, max: 600 }).map((length) => Buffer.from([0xff, 0x00, length >> 8, length & 0xff])),
      fc.constant(Buffer.from([0xff, 0xff])),
      fc.integer({ min: 0xe0, max: 0xef }).map((marker) => segment(marker, decoy)),
      fc.constant(decoy),
      fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
    );
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), insertion), { minLength: 1, maxLength: 3 }), async (insertions) => {
        const parts = [...segments];
        for (const [place, bytes] of insertions) parts.splice(1 + (place % (parts.length - 1)), 0, bytes);
        const crafted = Buffer.concat(parts);
        const read = imageDimensions(crafted);
        if (read === undefined) {
          refused++;
          return;
        }
        assert.deepEqual(read, await decodeInChromium(page, crafted, 'image/jpeg'), 'a size read is the size Chromium decodes');
      }),
      { seed: SEED, numRuns: 150 },
    );
    assert.ok(refused > 0 && refused < 150, `${refused} of 150 refused: the property saw both kinds`);

    // The review's attack: a stuffed 0xFF 0x00 whose "length" jumps over the real frame header onto a decoy
    // 10 × 10 one inside an APP1, which the decoder skips. Chromium decodes the real 300 × 200.
    const others = segments.filter((part) => part !== frame && part !== segments[0]);
    const app1 = segment(0xe1, decoy);
    const jump = 2 + frame.length + 4;
    const attack = Buffer.concat([
      segments[0] ?? Buffer.alloc(0),
      Buffer.from([0xff, 0x00, jump >> 8, jump & 0xff]),
      frame,
      app1,
      ...others,
    ]);
    assert.deepEqual(await decodeInChromium(page, attack, 'image/jpeg'), { width: 300, height: 200 });
    assert.equal(imageDimensions(attack), undefined);
    assert.equal(imageDimensions(Buffer.from('ffd8ff000002ffc0000b08000a000a01011100', 'hex')), undefined);
  });

  it('reads a GIF at least as large as Chromium decodes it, a first frame beyond the screen included', async () => {
    const frame = fc.record({
      left: fc.integer({ min: 0, max: 40 }),
      top: fc.integer({ min: 0, max: 40 }),
      width: fc.integer({ min: 1, max: 80 }),
      height: fc.integer({ min: 1, max: 80 }),
    });
    const screen = fc.record({ width: fc.integer({ min: 1, max: 120 }), height: fc.integer({ min: 1, max: 120 }) });
    let grown = 0;
    await fc.assert(
      fc.asyncProperty(screen, frame, async (screenSize, frameBox) => {
        const bytes = gif(screenSize, frameBox);
        const decoded = await decodeInChromium(page, bytes, 'image/gif');
        assert.ok(decoded, 'Chromium decodes the GIF');
        const read = imageDimensions(bytes);
        assert.ok(
          read && read.width >= decoded.width && read.height >= decoded.height,
          `read ${JSON.stringify(read)}, decoded ${JSON.stringify(decoded)}`,
        );
        if (decoded.width > screenSize.width || decoded.height > screenSize.height) grown++;
        if (frameBox.left + frameBox.width <= screenSize.width && frameBox.top + frameBox.height <= screenSize.height) {
          assert.deepEqual(read, decoded, 'a frame inside the screen: the screen');
        }
      }),
      { seed: SEED, numRuns: 80 },
    );
    // The case the frame walk exists for: Chromium did grow a screen to its frame in some of these.
    assert.ok(grown > 0, 'some GIF was decoded larger than its screen');
  });

  it('gives no thumbnail of a small file that declares a huge image, in the hover (the preview checks again: previewLabels.test.ts in the host tier)', async () => {
    const encoded = await encodeInChromium(page, 'image/png', 64, 64);
    const png = Buffer.from(encoded.base64, 'base64');
    const bomb = withDeclaredSize(png, 60_000, 60_000);
    assert.deepEqual(imageDimensions(bomb), { width: 60_000, height: 60_000 });
    assert.equal(fitsThumbnail(bomb), false);
    assert.equal(fitsThumbnail(withDeclaredSize(png, 20_000, 10)), false, 'too wide for a canvas');
    assert.equal(fitsThumbnail(withDeclaredSize(png, 6_400, 6_400)), false, `over ${MAX_THUMBNAIL_PIXELS} pixels`);
    assert.equal(fitsThumbnail(withDeclaredSize(png, 6_000, 6_000)), true);
    assert.equal(fitsThumbnail(withDeclaredSize(png, 0, 64)), false);
    assert.equal(fitsThumbnail(png.subarray(0, 20)), false, 'a header cut short says nothing');

    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-image-size-'));
    const thumbnails = new Thumbnails({ fetchOutput: () => Promise.reject(new Error('no network here')) }, {
      info: () => undefined,
    } as unknown as Log);
    fs.writeFileSync(path.join(folder, 'ok.png'), png);
    fs.writeFileSync(path.join(folder, 'bomb.png'), bomb);
    const fine = await thumbnails.forFile(path.join(folder, 'ok.png'));
    assert.ok(fine?.startsWith('data:image/png;base64,'));
    assert.equal(await thumbnails.forFile(path.join(folder, 'bomb.png')), undefined);
  });

  it('reads any bytes without throwing, and says nothing of a header it cannot read', () => {
    const heads = fc.constantFrom(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from('GIF89a', 'latin1'),
      Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'),
      Buffer.from('RIFF\0\0\0\0WEBPVP8L', 'latin1'),
      Buffer.from('RIFF\0\0\0\0WEBPVP8X', 'latin1'),
      Buffer.from([0xff, 0xd8, 0xff]),
    );
    fc.assert(
      fc.property(heads, fc.uint8Array({ maxLength: 300 }), (head, rest) => {
        const bytes = Buffer.concat([head, rest]);
        const read = imageDimensions(bytes);
        if (read) assert.ok(Number.isInteger(read.width) && Number.isInteger(read.height) && read.width >= 0 && read.height >= 0);
        for (let end = 0; end < head.length; end++) assert.equal(imageDimensions(bytes.subarray(0, end)), undefined);
      }),
      { seed: SEED, numRuns: 3_000 },
    );
  });
});
