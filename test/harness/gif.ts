// A small animated-GIF writer for the README's picture of a run: decodes the PNG screenshots Chromium
// takes, halves them, maps them to a fixed palette and LZW-encodes them. No dependencies beyond node:zlib.
import * as zlib from 'node:zlib';

export interface RgbImage {
  width: number;
  height: number;
  /** 3 bytes per pixel, row after row. */
  pixels: Buffer;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's screenshots are). */
export function decodePng(png: Buffer): RgbImage {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [bitDepth, colorType, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (bitDepth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6)) throw new Error('unsupported PNG format');
      channels = colorType === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      data.push(body);
    }
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const current = Buffer.alloc(stride);
  const previous = Buffer.alloc(stride);
  const pixels = Buffer.alloc(width * height * 3);
  for (let row = 0; row < height; row++) {
    const filter = raw[row * (stride + 1)] ?? 0;
    const line = raw.subarray(row * (stride + 1) + 1, (row + 1) * (stride + 1));
    for (let index = 0; index < stride; index++) {
      const left = index >= channels ? (current[index - channels] ?? 0) : 0;
      const up = previous[index] ?? 0;
      const upLeft = index >= channels ? (previous[index - channels] ?? 0) : 0;
      const value = line[index] ?? 0;
      let predicted = 0;
      if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up;
      else if (filter === 3) predicted = (left + up) >> 1;
      else if (filter === 4) {
        const estimate = left + up - upLeft;
        const [toLeft, toUp, toUpLeft] = [Math.abs(estimate - left), Math.abs(estimate - up), Math.abs(estimate - upLeft)];
        predicted = toLeft <= toUp && toLeft <= toUpLeft ? left : toUp <= toUpLeft ? up : upLeft;
      }
      current[index] = (value + predicted) & 0xff;
    }
    for (let column = 0; column < width; column++) {
      current.copy(pixels, (row * width + column) * 3, column * channels, column * channels + 3);
    }
    current.copy(previous);
  }
  return { width, height, pixels };
}

/** Halves an image by averaging 2×2 blocks: README-sized frames and a smaller file. */
export function halve(image: RgbImage): RgbImage {
  const width = Math.floor(image.width / 2);
  const height = Math.floor(image.height / 2);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let channel = 0; channel < 3; channel++) {
        const at = (dx: number, dy: number) => image.pixels[((2 * y + dy) * image.width + 2 * x + dx) * 3 + channel] ?? 0;
        pixels[(y * width + x) * 3 + channel] = (at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) >> 2;
      }
    }
  }
  return { width, height, pixels };
}

/** A fixed 6×7×6 colour cube (252 colours): good enough for a UI with flat colours, and no per-frame palette. */
function palette(): Buffer {
  const table = Buffer.alloc(256 * 3);
  let index = 0;
  for (let red = 0; red < 6; red++)
    for (let green = 0; green < 7; green++)
      for (let blue = 0; blue < 6; blue++) {
        table[index * 3] = Math.round((red * 255) / 5);
        table[index * 3 + 1] = Math.round((green * 255) / 6);
        table[index * 3 + 2] = Math.round((blue * 255) / 5);
        index++;
      }
  return table;
}

function toIndices(image: RgbImage): Uint8Array {
  const indices = new Uint8Array(image.width * image.height);
  for (let pixel = 0; pixel < indices.length; pixel++) {
    const red = Math.round(((image.pixels[pixel * 3] ?? 0) * 5) / 255);
    const green = Math.round(((image.pixels[pixel * 3 + 1] ?? 0) * 6) / 255);
    const blue = Math.round(((image.pixels[pixel * 3 + 2] ?? 0) * 5) / 255);
    indices[pixel] = red * 42 + green * 6 + blue;
  }
  return indices;
}

/** GIF's variable-width LZW, with 8-bit minimum code size. */
function lzw(indices: Uint8Array): Buffer {
  const clear = 256;
  const end = 257;
  const output: number[] = [];
  let bitBuffer = 0;
  let bitCount = 0;
  let codeSize = 9;
  const emit = (code: number) => {
    bitBuffer |= code << bitCount;
    bitCount += codeSize;
    while (bitCount >= 8) {
      output.push(bitBuffer & 0xff);
      bitBuffer >>>= 8;
      bitCount -= 8;
    }
  };
  let dictionary = new Map<number, number>();
  let next = 258;
  emit(clear);
  let prefix = indices[0] ?? 0;
  for (let position = 1; position < indices.length; position++) {
    const symbol = indices[position] ?? 0;
    const key = prefix * 256 + symbol;
    const found = dictionary.get(key);
    if (found !== undefined) {
      prefix = found;
      continue;
    }
    emit(prefix);
    if (next < 4096) {
      dictionary.set(key, next++);
      if (next > 1 << codeSize && codeSize < 12) codeSize++;
    } else {
      emit(clear);
      dictionary = new Map();
      next = 258;
      codeSize = 9;
    }
    prefix = symbol;
  }
  emit(prefix);
  emit(end);
  if (bitCount > 0) output.push(bitBuffer & 0xff);
  const blocks: number[] = [8];
  for (let start = 0; start < output.length; start += 255) {
    const chunk = output.slice(start, start + 255);
    blocks.push(chunk.length, ...chunk);
  }
  blocks.push(0);
  return Buffer.from(blocks);
}

export interface GifFrame {
  image: RgbImage;
  /** How long the frame shows, in hundredths of a second. */
  delay: number;
}

/** An endlessly looping GIF of the frames (all of the first frame's size). */
export function encodeGif(frames: readonly GifFrame[]): Buffer {
  const first = frames[0];
  if (!first) throw new Error('no frames');
  const { width, height } = first.image;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(13);
  header.write('GIF89a', 0, 'latin1');
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  header[10] = 0xf7; // global colour table of 256 entries
  parts.push(header, palette());
  parts.push(Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'latin1'), 0x03, 0x01, 0x00, 0x00, 0x00]));
  for (const frame of frames) {
    if (frame.image.width !== width || frame.image.height !== height) throw new Error('frames differ in size');
    const control = Buffer.from([0x21, 0xf9, 0x04, 0x00, 0, 0, 0x00, 0x00]);
    control.writeUInt16LE(frame.delay, 4);
    const descriptor = Buffer.alloc(10);
    descriptor[0] = 0x2c;
    descriptor.writeUInt16LE(width, 5);
    descriptor.writeUInt16LE(height, 7);
    parts.push(control, descriptor, lzw(toIndices(frame.image)));
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}
