/**
 * The local file behind an image or video input (src/core/upload/files.ts): its type comes from its
 * bytes, never its name, and must be what the input takes; its SHA-256 and size are those of every byte;
 * only a regular file is read (a link, a named pipe, a folder are refused without hanging); the object
 * key is content-addressed under a prefix that cannot climb out of its folder.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';

import { UploadError, type UploadFailure } from '../../../src/core/errors';
import { englishText } from '../../../src/core/messages';
import { describeLocalFile, normalisePrefix, objectKeyFor, sniffMediaType } from '../../../src/core/upload';
import { openUploadFile } from '../../../src/core/upload/files';
import { loadSampleVideo } from '../../sandbox/media';
import { HEADS } from './mediaHeads';

const SEED = 20261201;

async function failureOf(operation: () => Promise<unknown>): Promise<UploadError> {
  try {
    await operation();
  } catch (error) {
    assert.ok(error instanceof UploadError, `expected an UploadError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the operation to fail');
}

async function assertRefused(operation: () => Promise<unknown>, reason: UploadFailure, text: RegExp): Promise<UploadError> {
  const error = await failureOf(operation);
  assert.equal(error.reason, reason);
  assert.match(englishText(error.text), text);
  assert.equal(error.message, englishText(error.text));
  return error;
}

describe('core/upload/files', () => {
  let folder: string;
  before(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-upload-files-'));
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  function write(name: string, content: Buffer): string {
    const file = path.join(folder, name);
    fs.writeFileSync(file, content);
    return file;
  }

  describe('sniffMediaType', () => {
    it('recognises each supported format from its first bytes', () => {
      const expected: Array<[keyof typeof HEADS, string, string, string]> = [
        ['png', 'image', 'image/png', 'png'],
        ['jpeg', 'image', 'image/jpeg', 'jpg'],
        ['gif', 'image', 'image/gif', 'gif'],
        ['webp', 'image', 'image/webp', 'webp'],
        ['mp4', 'video', 'video/mp4', 'mp4'],
        ['mov', 'video', 'video/quicktime', 'mov'],
        ['webm', 'video', 'video/webm', 'webm'],
      ];
      for (const [head, kind, contentType, extension] of expected) {
        assert.deepEqual(
          sniffMediaType(HEADS[head]),
          { kind, format: sniffMediaType(HEADS[head])?.format, supported: true, contentType, extension },
          head,
        );
      }
    });

    it('names formats FLORA does not take, and knows audio and text are neither', () => {
      assert.deepEqual(sniffMediaType(HEADS.heic), { kind: 'image', format: 'HEIC', supported: false });
      assert.deepEqual(sniffMediaType(HEADS.avif), { kind: 'image', format: 'AVIF', supported: false });
      assert.deepEqual(sniffMediaType(HEADS.matroska), { kind: 'video', format: 'Matroska', supported: false });
      assert.equal(sniffMediaType(HEADS.m4a), undefined);
      assert.equal(sniffMediaType(HEADS.text), undefined);
      assert.equal(sniffMediaType(Buffer.alloc(0)), undefined);
    });

    it('never throws on arbitrary bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
          const sniffed = sniffMediaType(bytes);
          assert.ok(sniffed === undefined || sniffed.kind === 'image' || sniffed.kind === 'video');
        }),
        { seed: SEED, numRuns: 500 },
      );
    });
  });

  describe('describeLocalFile', () => {
    it('hashes and measures every byte, streamed in chunks (a file larger than one chunk)', async () => {
      const content = Buffer.concat([HEADS.png, Buffer.alloc(3 * 1024 * 1024 + 17, 7)]);
      const file = write('big.png', content);
      const described = await describeLocalFile(file, 'imageUrl');
      const stats = fs.statSync(file, { bigint: true });
      assert.deepEqual(described, {
        path: file,
        sha256: createHash('sha256').update(content).digest('hex'),
        size: content.length,
        contentType: 'image/png',
        extension: 'png',
        identity: { device: String(stats.dev), inode: String(stats.ino), size: content.length, modifiedNs: String(stats.mtimeNs) },
      });
    });

    it('lets an upload open only the file it read: not one renamed over it, nor the same one written since', async () => {
      const content = Buffer.concat([HEADS.png, Buffer.alloc(100, 3)]);
      const file = write('identity.png', content);
      const described = await describeLocalFile(file, 'imageUrl');
      const handle = await openUploadFile(file, described.identity);
      await handle.close();

      // Another file of the same size, renamed into its place (an editor's save, a checkout).
      fs.writeFileSync(`${file}.new`, Buffer.concat([HEADS.png, Buffer.alloc(100, 4)]));
      fs.renameSync(`${file}.new`, file);
      await assertRefused(
        () => openUploadFile(file, described.identity),
        'unreadable',
        /^"identity\.png" changed while it was being uploaded/,
      );

      // The same file, rewritten with the same size: its modification time moved.
      const again = await describeLocalFile(file, 'imageUrl');
      const later = new Date(Number(BigInt(again.identity.modifiedNs) / 1_000_000n) + 5_000);
      fs.writeFileSync(file, Buffer.concat([HEADS.png, Buffer.alloc(100, 5)]));
      fs.utimesSync(file, later, later);
      await assertRefused(() => openUploadFile(file, again.identity), 'unreadable', /changed while it was being uploaded/);
    });

    it('hashes any content the same way node:crypto does', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (tail) => {
          const content = Buffer.concat([HEADS.jpeg, tail]);
          const file = write('property.bin', content);
          const described = await describeLocalFile(file, 'imageUrl');
          assert.equal(described.sha256, createHash('sha256').update(content).digest('hex'));
          assert.equal(described.size, content.length);
        }),
        { seed: SEED, numRuns: 40 },
      );
    });

    it('takes the type from the bytes, not the name', async () => {
      const described = await describeLocalFile(write('really-a-png.jpg', HEADS.png), 'imageUrl');
      assert.equal(described.contentType, 'image/png');
      assert.equal(described.extension, 'png');
      await assertRefused(
        () => describeLocalFile(write('notes.png', HEADS.text), 'imageUrl'),
        'unsupportedType',
        /^"notes\.png" is not a PNG, JPEG, GIF or WebP image .*this input takes an image/,
      );
    });

    it('accepts each video format for a video input', async () => {
      for (const [name, head, type] of [
        ['clip.mp4', HEADS.mp4, 'video/mp4'],
        ['clip.mov', HEADS.mov, 'video/quicktime'],
        ['clip.webm', loadSampleVideo(), 'video/webm'],
      ] as const) {
        assert.equal((await describeLocalFile(write(name, head), 'videoUrl')).contentType, type, name);
      }
    });

    it("refuses a file whose kind is not the input's, naming what it is and what the input takes", async () => {
      const video = await assertRefused(
        () => describeLocalFile(write('clip.mp4', HEADS.mp4), 'imageUrl'),
        'unsupportedType',
        /^"clip\.mp4" is a video \(MP4\), but this input takes an image\. Choose a PNG, JPEG, GIF or WebP file\.$/,
      );
      assert.equal(video.remedy.kind, 'none');
      await assertRefused(
        () => describeLocalFile(write('photo.png', HEADS.png), 'videoUrl'),
        'unsupportedType',
        /^"photo\.png" is an image \(PNG\), but this input takes a video\. Choose an MP4, MOV or WebM file\.$/,
      );
      await assertRefused(
        () => describeLocalFile(write('photo.heic', HEADS.heic), 'imageUrl'),
        'unsupportedType',
        /is an image in the HEIC format, which FLORA does not take/,
      );
      await assertRefused(
        () => describeLocalFile(write('film.mkv', HEADS.matroska), 'videoUrl'),
        'unsupportedType',
        /is a video in the Matroska format/,
      );
      await assertRefused(
        () => describeLocalFile(write('song.m4a', HEADS.m4a), 'videoUrl'),
        'unsupportedType',
        /is not an MP4, MOV or WebM video/,
      );
    });

    it('refuses a missing file, a folder, a symbolic link and a named pipe (without hanging on the pipe)', async () => {
      await assertRefused(
        () => describeLocalFile(path.join(folder, 'gone.png'), 'imageUrl'),
        'notFound',
        /^The file "gone\.png" does not exist/,
      );
      const directory = path.join(folder, 'folder.png');
      fs.mkdirSync(directory);
      await assertRefused(() => describeLocalFile(directory, 'imageUrl'), 'unreadable', /is not a regular file/);
      const target = write('target.png', HEADS.png);
      const link = path.join(folder, 'link.png');
      fs.symlinkSync(target, link);
      await assertRefused(() => describeLocalFile(link, 'imageUrl'), 'unreadable', /^"link\.png" is not a regular file/);
      const pipe = path.join(folder, 'pipe.png');
      execFileSync('mkfifo', [pipe]);
      await assertRefused(() => describeLocalFile(pipe, 'imageUrl'), 'unreadable', /^"pipe\.png" is not a regular file/);
    });

    it('stops when the signal aborts', async () => {
      const file = write('abort.png', HEADS.png);
      await assert.rejects(() => describeLocalFile(file, 'imageUrl', AbortSignal.abort()), { name: 'FloraCancelledError' });
    });
  });

  describe('objectKeyFor', () => {
    const file = { sha256: 'ab'.repeat(32), extension: 'png' };

    it('is the SHA-256 and extension under the prefix, as a folder', () => {
      assert.equal(objectKeyFor('', file), `${file.sha256}.png`);
      assert.equal(objectKeyFor('flora', file), `flora/${file.sha256}.png`);
      assert.equal(objectKeyFor('/flora/inputs/', file), `flora/inputs/${file.sha256}.png`);
      assert.equal(objectKeyFor('a/../b/./c//', file), `a/b/c/${file.sha256}.png`);
    });

    it('never starts with "/" nor holds an empty, "." or ".." segment, whatever the prefix', () => {
      fc.assert(
        fc.property(fc.string({ unit: fc.constantFrom('a', '/', '.', '-', ' ', 'é') }), (prefix) => {
          const key = objectKeyFor(prefix, file);
          assert.ok(key.endsWith(`${file.sha256}.png`));
          assert.ok(!key.startsWith('/'));
          const segments = key.split('/');
          for (const segment of segments)
            assert.ok(segment !== '' && segment !== '.' && segment !== '..', `segment "${segment}" in ${key}`);
          assert.equal(normalisePrefix(normalisePrefix(prefix)), normalisePrefix(prefix));
        }),
        { seed: SEED, numRuns: 500 },
      );
    });
  });
});
