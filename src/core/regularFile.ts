// Reading a small file from a folder that other programs can write to (the run journal, the polling
// lease): only a regular file, not through a symbolic link, and never more than a cap.
//
// Why not stat, then readFile: stat follows a link (one to /dev/zero reports 0 bytes, then reads without
// end), readFile of a named pipe blocks in open() until some writer comes, holding one of libuv's four
// threads for good, and four of those stall every file and DNS call of the extension host. So the file is
// opened without following links and without waiting (O_NOFOLLOW | O_NONBLOCK; a regular file ignores
// O_NONBLOCK), the open handle is asked what it is, and only a regular file within the cap is read, from
// that same handle, so nothing can be swapped in between the check and the read.
import * as fs from 'node:fs';

/** Linux and macOS define both; where one is missing the open is plain, the fstat check still holds. */
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

export type RegularFileRead =
  | {
      kind: 'text';
      text: string;
      /** The handle's modification time (the synchronous read says it: reservations are judged by it). */
      modifiedMs?: number;
    }
  /** No such file (perhaps removed between listing and reading). */
  | { kind: 'missing' }
  /** Something that is not read: `reason` says why, for the log. */
  | { kind: 'refused'; reason: string };

export async function readRegularFile(file: string, maxBytes: number): Promise<RegularFileRead> {
  const read = await readRegularBytes(file, maxBytes);
  return read.kind === 'bytes' ? { kind: 'text', text: read.bytes.toString('utf8') } : read;
}

/** The same reading, for bytes (an image for a thumbnail). */
export async function readRegularBytes(
  file: string,
  maxBytes: number,
): Promise<{ kind: 'bytes'; bytes: Buffer } | Exclude<RegularFileRead, { kind: 'text' }>> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, READ_FLAGS);
  } catch (error) {
    return openFailure(error);
  }
  try {
    const stats = await handle.stat();
    const refusal = refusalOf(stats, maxBytes);
    if (refusal) return { kind: 'refused', reason: refusal };
    const buffer = Buffer.alloc(stats.size);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { kind: 'bytes', bytes: buffer.subarray(0, filled) };
  } catch (error) {
    return { kind: 'refused', reason: `it cannot be read (${String(error)})` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export function readRegularFileSync(file: string, maxBytes: number): RegularFileRead {
  let descriptor: number;
  try {
    descriptor = fs.openSync(file, READ_FLAGS);
  } catch (error) {
    return openFailure(error);
  }
  try {
    const stats = fs.fstatSync(descriptor);
    const refusal = refusalOf(stats, maxBytes);
    if (refusal) return { kind: 'refused', reason: refusal };
    const buffer = Buffer.alloc(stats.size);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = fs.readSync(descriptor, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { kind: 'text', text: buffer.subarray(0, filled).toString('utf8'), modifiedMs: stats.mtimeMs };
  } catch (error) {
    return { kind: 'refused', reason: `it cannot be read (${String(error)})` };
  } finally {
    try {
      fs.closeSync(descriptor);
    } catch {
      // Nothing is left to do with it.
    }
  }
}

function openFailure(error: unknown): Exclude<RegularFileRead, { kind: 'text' }> {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { kind: 'missing' };
  // O_NOFOLLOW on a link: Linux says ELOOP, FreeBSD EMLINK.
  if (code === 'ELOOP' || code === 'EMLINK') return { kind: 'refused', reason: 'it is a symbolic link, which is not followed' };
  return { kind: 'refused', reason: `it cannot be opened (${String(error)})` };
}

function refusalOf(stats: fs.Stats, maxBytes: number): string | undefined {
  if (!stats.isFile()) return 'it is not a regular file';
  if (stats.size > maxBytes) return `it is ${stats.size} bytes, more than the ${maxBytes} allowed`;
  return undefined;
}

/** Whether a regular file is there, not through a symbolic link (a saved output, a provenance file). */
export async function isRegularFileAt(file: string): Promise<boolean> {
  try {
    return (await fs.promises.lstat(file)).isFile();
  } catch {
    return false;
  }
}
