// The README's animation writer: PNG frames in, a GIF whose frames decode back to the same pixels out.
import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';

import { decodePng, encodeGif, halve, type RgbImage } from '../harness/gif';

/** A plain PNG encoder (filter 0 rows), to feed decodePng something it did not write itself. */
function pngOf(image: RgbImage): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const typeAndBody = Buffer.concat([Buffer.from(type, 'latin1'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(typeAndBody) >>> 0);
    return Buffer.concat([length, typeAndBody, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header[8] = 8;
  header[9] = 2;
  const rows: Buffer[] = [];
  for (let row = 0; row < image.height; row++) {
    rows.push(Buffer.from([0]), image.pixels.subarray(row * image.width * 3, (row + 1) * image.width * 3));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Decodes the first frame's LZW data back into palette indices. */
function firstFrameIndices(gif: Buffer): { width: number; height: number; indices: number[] } {
  let offset = 13 + 256 * 3 + 19; // header, palette, NETSCAPE loop extension
  offset += 8; // graphic control extension
  assert.equal(gif[offset], 0x2c);
  const width = gif.readUInt16LE(offset + 5);
  const height = gif.readUInt16LE(offset + 7);
  offset += 10;
  const minimumCodeSize = gif[offset++] ?? 8;
  const bytes: number[] = [];
  for (let size = gif[offset++] ?? 0; size > 0; size = gif[offset++] ?? 0) {
    bytes.push(...gif.subarray(offset, offset + size));
    offset += size;
  }
  const clear = 1 << minimumCodeSize;
  let codeSize = minimumCodeSize + 1;
  let dictionary: number[][] = [];
  const reset = () => {
    dictionary = Array.from({ length: clear + 2 }, (_unused, index) => [index]);
    codeSize = minimumCodeSize + 1;
  };
  reset();
  const indices: number[] = [];
  let previous: number[] | undefined;
  let bitPosition = 0;
  while (bitPosition + codeSize <= bytes.length * 8) {
    let code = 0;
    for (let bit = 0; bit < codeSize; bit++, bitPosition++) {
      code |= (((bytes[bitPosition >> 3] ?? 0) >> (bitPosition & 7)) & 1) << bit;
    }
    if (code === clear) {
      reset();
      previous = undefined;
      continue;
    }
    if (code === clear + 1) break;
    const entry = dictionary[code] ?? (previous ? [...previous, previous[0] ?? 0] : []);
    indices.push(...entry);
    if (previous) dictionary.push([...previous, entry[0] ?? 0]);
    previous = entry;
    if (dictionary.length === 1 << codeSize && codeSize < 12) codeSize++;
  }
  return { width, height, indices };
}

describe('the README animation writer', () => {
  const image: RgbImage = { width: 64, height: 40, pixels: Buffer.alloc(64 * 40 * 3) };
  for (let pixel = 0; pixel < 64 * 40; pixel++) {
    // Stripes and a gradient: long runs and many distinct codes, so the LZW code size grows.
    image.pixels[pixel * 3] = (pixel % 64) * 4;
    image.pixels[pixel * 3 + 1] = Math.floor(pixel / 64) % 2 === 0 ? 255 : 0;
    image.pixels[pixel * 3 + 2] = (pixel * 7) % 256;
  }

  it('decodes a PNG back to its pixels', () => {
    const decoded = decodePng(pngOf(image));
    assert.equal(decoded.width, 64);
    assert.equal(decoded.height, 40);
    assert.ok(decoded.pixels.equals(image.pixels));
  });

  it('halves by averaging 2×2 blocks', () => {
    const half = halve(image);
    assert.equal(half.width, 32);
    assert.equal(half.height, 20);
    const expected = Math.round((image.pixels[0] + image.pixels[3] + image.pixels[64 * 3] + image.pixels[65 * 3]) / 4);
    assert.ok(Math.abs(half.pixels[0] - expected) <= 1);
  });

  it('writes a looping GIF89a whose frames decode to the palette colours of the pixels', () => {
    const gif = encodeGif([
      { image, delay: 50 },
      { image, delay: 100 },
    ]);
    assert.equal(gif.toString('latin1', 0, 6), 'GIF89a');
    assert.equal(gif[gif.length - 1], 0x3b);
    assert.ok(gif.includes(Buffer.from('NETSCAPE2.0', 'latin1')));
    const { width, height, indices } = firstFrameIndices(gif);
    assert.equal(width, 64);
    assert.equal(height, 40);
    assert.equal(indices.length, 64 * 40);
    for (let pixel = 0; pixel < indices.length; pixel++) {
      const red = Math.round((image.pixels[pixel * 3] * 5) / 255);
      const green = Math.round((image.pixels[pixel * 3 + 1] * 6) / 255);
      const blue = Math.round((image.pixels[pixel * 3 + 2] * 5) / 255);
      assert.equal(indices[pixel], red * 42 + green * 6 + blue, `pixel ${pixel}`);
    }
  });
});
