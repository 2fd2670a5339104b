/**
 * The files the sandbox serves as run outputs: PNGs drawn on demand, one bundled WebM clip, and text.
 * Everything is real enough for an editor or a browser to decode and show.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

export const IMAGE_SIZE = 512;

/** Resolved from the compiled location (out/test/sandbox) back to the committed asset in the sources. */
export const SAMPLE_VIDEO_PATH = path.resolve(__dirname, '../../../test/sandbox/assets/sample.webm');

interface Colour {
  red: number;
  green: number;
  blue: number;
}

/** Hue and saturation per slug, shifted per run and output, so that different runs visibly differ. */
export function paletteFor(seed: string, count: number): Colour[] {
  const digest = createHash('sha256').update(seed).digest();
  const baseHue = (digest.readUInt16BE(0) / 65536) * 360;
  const spread = 25 + (digest[2] % 50);
  return Array.from({ length: count }, (_, index) =>
    hslToRgb((baseHue + index * spread) % 360, 0.55 + (digest[3 + index] % 30) / 100, 0.35 + (digest[9 + index] % 35) / 100),
  );
}

export function toHex(colour: Colour): string {
  return `#${[colour.red, colour.green, colour.blue].map((channel) => channel.toString(16).padStart(2, '0')).join('')}`;
}

function hslToRgb(hue: number, saturation: number, lightness: number): Colour {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const sector = hue / 60;
  const second = chroma * (1 - Math.abs((sector % 2) - 1));
  const [red, green, blue] =
    sector < 1
      ? [chroma, second, 0]
      : sector < 2
        ? [second, chroma, 0]
        : sector < 3
          ? [0, chroma, second]
          : sector < 4
            ? [0, second, chroma]
            : sector < 5
              ? [second, 0, chroma]
              : [chroma, 0, second];
  const offset = lightness - chroma / 2;
  const scale = (channel: number): number => Math.round((channel + offset) * 255);
  return { red: scale(red), green: scale(green), blue: scale(blue) };
}

export type ImageStyle = 'gradient' | 'swatches';

/**
 * A diagonal gradient with a soft disc in the middle (something that reads as "a subject"), or five
 * vertical swatches for palette outputs.
 */
export function renderPng(seed: string, style: ImageStyle): Buffer {
  const size = IMAGE_SIZE;
  const colours = paletteFor(seed, 5);
  const pixels = Buffer.alloc(size * size * 3);
  const centre = (size - 1) / 2;
  const radius = size * 0.28;
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      let colour: Colour;
      if (style === 'swatches') {
        colour = colours[Math.min(4, Math.floor((x * 5) / size))];
      } else {
        const along = (x + y) / (2 * (size - 1));
        colour = mix(colours[0], colours[1], along);
        const distance = Math.hypot(x - centre, y - centre);
        // A two-pixel ramp at the disc's edge avoids a jagged outline.
        const cover = Math.max(0, Math.min(1, (radius - distance) / 2));
        if (cover > 0) {
          colour = mix(colour, colours[2], cover);
        }
      }
      const offset = (y * size + x) * 3;
      pixels[offset] = colour.red;
      pixels[offset + 1] = colour.green;
      pixels[offset + 2] = colour.blue;
    }
  }
  return encodePng(size, size, pixels);
}

function mix(from: Colour, to: Colour, amount: number): Colour {
  return {
    red: Math.round(from.red + (to.red - from.red) * amount),
    green: Math.round(from.green + (to.green - from.green) * amount),
    blue: Math.round(from.blue + (to.blue - from.blue) * amount),
  };
}

/** Encodes 8-bit RGB pixels (row-major, no padding) as a PNG. */
export function encodePng(width: number, height: number, pixels: Buffer): Buffer {
  const rowLength = width * 3;
  const filtered = Buffer.alloc(height * (rowLength + 1));
  for (let y = 0; y < height; y += 1) {
    const source = y * rowLength;
    const target = y * (rowLength + 1);
    // The "Sub" filter turns smooth gradients into near-constant bytes, which deflate shrinks tenfold.
    filtered[target] = 1;
    for (let index = 0; index < rowLength; index += 1) {
      const left = index >= 3 ? pixels[source + index - 3] : 0;
      filtered[target + 1 + index] = (pixels[source + index] - left) & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour RGB
  header[10] = 0; // compression: deflate
  header[11] = 0; // filter method: adaptive
  header[12] = 0; // no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(filtered, { level: 6 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData) >>> 0, 0);
  return Buffer.concat([length, typeAndData, checksum]);
}

let sampleVideo: Buffer | undefined;

/** Read once and kept: every video output is the same short clip. Throws when the asset is missing. */
export function loadSampleVideo(): Buffer {
  sampleVideo ??= readFileSync(SAMPLE_VIDEO_PATH);
  return sampleVideo;
}
