// Reads zip archives (a .vsix is one) with node's zlib: the package-content test and the size benchmark
// both look inside the .vsix vsce writes (stored or deflated entries).
import * as zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  compressedBytes: number;
  bytes: number;
}

export interface ZipRecord extends ZipEntry {
  method: number;
  localHeaderOffset: number;
}

/** The central directory's records: name, sizes, compression method and where the data starts. */
export function zipRecords(data: Buffer): ZipRecord[] {
  let end = -1;
  for (let offset = data.length - 22; offset >= Math.max(0, data.length - 65_557); offset--) {
    if (data.readUInt32LE(offset) === 0x06054b50) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip archive');
  const count = data.readUInt16LE(end + 10);
  let offset = data.readUInt32LE(end + 16);
  const records: ZipRecord[] = [];
  for (let index = 0; index < count; index++) {
    if (data.readUInt32LE(offset) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const nameLength = data.readUInt16LE(offset + 28);
    records.push({
      name: data.toString('utf8', offset + 46, offset + 46 + nameLength),
      method: data.readUInt16LE(offset + 10),
      compressedBytes: data.readUInt32LE(offset + 20),
      bytes: data.readUInt32LE(offset + 24),
      localHeaderOffset: data.readUInt32LE(offset + 42),
    });
    offset += 46 + nameLength + data.readUInt16LE(offset + 30) + data.readUInt16LE(offset + 32);
  }
  return records;
}

/** The uncompressed bytes of one record. */
export function zipRecordData(data: Buffer, record: ZipRecord): Buffer {
  const header = record.localHeaderOffset;
  const start = header + 30 + data.readUInt16LE(header + 26) + data.readUInt16LE(header + 28);
  const raw = data.subarray(start, start + record.compressedBytes);
  return record.method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
}

/** Every entry of an archive: name → uncompressed bytes. */
export function readZip(data: Buffer): Map<string, Buffer> {
  return new Map(zipRecords(data).map((record) => [record.name, zipRecordData(data, record)]));
}
