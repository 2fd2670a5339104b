// How many pixels an image declares, read from its header: a thumbnail's bytes are decoded by the hover and
// by the preview's canvas, and two megabytes of PNG (or GIF, WebP, JPEG) may declare 60 000 × 60 000 pixels,
// gigabytes once decoded. A thumbnail is only made of an image whose header is read and whose size is
// reasonable; any other, however small its file, gets "no thumbnail".

export interface ImageDimensions {
  width: number;
  height: number;
}

/** Widest or tallest thumbnail source: Chromium's canvas stops at 32 767, and no output needs this much. */
export const MAX_THUMBNAIL_SIDE = 16_384;
/** Most pixels a thumbnail source may decode to (160 MB as RGBA): an 8K frame fits, a decompression bomb does not. */
export const MAX_THUMBNAIL_PIXELS = 40_000_000;

/** The width and height a PNG, GIF, WebP or JPEG declares, or undefined when its header cannot be read. */
export function imageDimensions(bytes: Uint8Array): ImageDimensions | undefined {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (start: number, end: number) => (data.length >= end ? data.subarray(start, end).toString('latin1') : '');
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47 && ascii(12, 16) === 'IHDR') {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  if ((ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') && data.length >= 13) return gifDimensions(data);
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return webpDimensions(data);
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return jpegDimensions(data);
  return undefined;
}

/** Whether an image may become a thumbnail: its header is read, and it decodes to a reasonable size. */
export function fitsThumbnail(bytes: Uint8Array): boolean {
  const size = imageDimensions(bytes);
  return (
    size !== undefined &&
    size.width > 0 &&
    size.height > 0 &&
    size.width <= MAX_THUMBNAIL_SIDE &&
    size.height <= MAX_THUMBNAIL_SIDE &&
    size.width * size.height <= MAX_THUMBNAIL_PIXELS
  );
}

/**
 * A GIF's logical screen, widened to every frame's extent: decoders grow the screen to a first frame larger
 * than it, so a file may declare a small screen and a huge frame. Read to the trailer, or as far as the file
 * goes.
 */
function gifDimensions(data: Buffer): ImageDimensions | undefined {
  let width = data.readUInt16LE(6);
  let height = data.readUInt16LE(8);
  const colourTable = (flags: number) => ((flags & 0x80) !== 0 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);
  let offset = 13 + colourTable(data[10] ?? 0);
  // Data sub-blocks: a length byte, that many bytes, until a length of zero.
  const skipSubBlocks = (from: number): number => {
    let at = from;
    while (at < data.length && data[at] !== 0) at += 1 + (data[at] ?? 0);
    return at + 1;
  };
  while (offset < data.length) {
    const introducer = data[offset];
    if (introducer === 0x3b) break;
    if (introducer === 0x21) {
      offset = skipSubBlocks(offset + 2);
    } else if (introducer === 0x2c && offset + 10 <= data.length) {
      width = Math.max(width, data.readUInt16LE(offset + 1) + data.readUInt16LE(offset + 5));
      height = Math.max(height, data.readUInt16LE(offset + 3) + data.readUInt16LE(offset + 7));
      offset = skipSubBlocks(offset + 10 + colourTable(data[offset + 9] ?? 0) + 1);
    } else {
      break;
    }
  }
  return { width, height };
}

/** The first chunk of a WebP says its size: lossy (VP8), lossless (VP8L) or extended (VP8X, the canvas). */
function webpDimensions(data: Buffer): ImageDimensions | undefined {
  const chunk = data.length >= 16 ? data.subarray(12, 16).toString('latin1') : '';
  if (chunk === 'VP8 ' && data.length >= 30 && data[23] === 0x9d && data[24] === 0x01 && data[25] === 0x2a) {
    return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === 'VP8L' && data.length >= 25 && data[20] === 0x2f) {
    const bits = data.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X' && data.length >= 30) {
    return { width: data.readUIntLE(24, 3) + 1, height: data.readUIntLE(27, 3) + 1 };
  }
  return undefined;
}

/**
 * A JPEG's size is in its start-of-frame segment, after any number of other segments: walk them as a
 * decoder does. Anything a decoder would read differently is refused rather than guessed at: a byte other
 * than a marker where one belongs, a stuffed 0xFF 0x00 (a decoder skips it and scans on for the next
 * marker, so a length read there would land elsewhere than the decoder does), or a second frame header
 * (libjpeg rejects it).
 */
function jpegDimensions(data: Buffer): ImageDimensions | undefined {
  let offset = 2;
  let found: ImageDimensions | undefined;
  while (offset + 2 <= data.length) {
    if (data[offset] !== 0xff) return undefined;
    const marker = data[offset + 1] ?? 0;
    // Fill bytes before a marker.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0x00) return undefined;
    // Start of scan or end of image: the frame header came before, or there is none.
    if (marker === 0xda || marker === 0xd9) return found;
    // Markers without a length (restart markers, TEM).
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      offset += 2;
      continue;
    }
    if (offset + 4 > data.length) return undefined;
    const length = data.readUInt16BE(offset + 2);
    if (length < 2) return undefined;
    // SOF0–SOF15, but for DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (found !== undefined || offset + 9 > data.length) return undefined;
      found = { height: data.readUInt16BE(offset + 5), width: data.readUInt16BE(offset + 7) };
    }
    offset += 2 + length;
  }
  return undefined;
}
