// The first bytes of real files of each kind, for the upload tests: what a PNG, an MP4, a HEIC… starts with.
import { encodePng, loadSampleVideo } from '../../sandbox/media';

/** Heads of real files of each kind (what the first bytes of such files are). */
export const HEADS = {
  png: encodePng(2, 2, Buffer.alloc(2 * 2 * 4, 0x80)),
  jpeg: Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb', 'hex'),
  gif: Buffer.from('GIF89a\x02\x00\x02\x00\x80\x00\x00', 'latin1'),
  webp: Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x24, 0, 0, 0]), Buffer.from('WEBPVP8 ')]),
  mp4: isoHead('isom', ['isom', 'iso2', 'avc1', 'mp41']),
  mov: isoHead('qt  ', ['qt  ']),
  webm: loadSampleVideo().subarray(0, 64),
  heic: isoHead('heic', ['mif1', 'heic']),
  avif: isoHead('avif', ['avif', 'mif1']),
  m4a: isoHead('M4A ', ['M4A ', 'isom']),
  matroska: Buffer.from('1a45dfa3a34286810142f7810142f2810442f381084282886d6174726f736b61', 'hex'),
  text: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
};

function isoHead(major: string, compatible: string[]): Buffer {
  const size = 16 + compatible.length * 4;
  const box = Buffer.alloc(size);
  box.writeUInt32BE(size, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(major, 8, 'latin1');
  compatible.forEach((brand, index) => box.write(brand, 16 + index * 4, 'latin1'));
  return Buffer.concat([box, Buffer.alloc(32)]);
}
