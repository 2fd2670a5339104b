// Still thumbnails for hovers, as data: URIs. A hover cannot load the sandbox's http: images (the workbench's
// CSP) and should not make the workbench fetch a server's URL on its own; so the extension fetches the
// output itself, under the download rules (core/download.ts), and hands the hover bytes it has checked are
// an image (by their signature, not by what the server says they are). Saved files are read from disk.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fitsThumbnail } from '../core/imageSize';
import { readRegularBytes } from '../core/regularFile';
import { sniffMediaType } from '../core/upload/files';
import type { FloraConnection } from './floraConnection';
import type { Log } from './log';

/**
 * Larger files are not turned into a hover's data: URI (the hover says "no thumbnail" instead), nor are
 * images that declare more pixels than core/imageSize.ts allows.
 */
const MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024;
const CACHED_THUMBNAILS = 32;
const FETCH_TIMEOUT_MS = 10_000;

export class Thumbnails {
  /** Newest last; a Map keeps insertion order, so the first key is the one to drop. */
  private readonly cache = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly connection: Pick<FloraConnection, 'fetchOutput'>,
    private readonly log: Log,
    private readonly scratchFolder: string = path.join(os.tmpdir(), 'flora-thumbnails'),
    /** Told of every failed fetch (a 404 or 410 says the output is gone). */
    private readonly onFailure: (url: string, error: unknown) => void = () => undefined,
  ) {}

  /** A data: URI of the saved file when it is an image small enough, else undefined. */
  forFile(file: string): Promise<string | undefined> {
    return this.cached(`file:${file}`, () => imageDataUri(file));
  }

  /** A data: URI of the output at the URL when it is an image small enough, else undefined. */
  forUrl(url: string): Promise<string | undefined> {
    return this.cached(`url:${url}`, async () => {
      const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
      try {
        // By its real path: downloads refuse a folder whose real path differs (a linked storage folder).
        await fs.mkdir(this.scratchFolder, { recursive: true });
        const folder = await fs.realpath(this.scratchFolder);
        const saved = await this.connection.fetchOutput(url, { folder, stem: 'thumbnail' }, signal, {
          maxBytes: MAX_THUMBNAIL_BYTES,
        });
        try {
          return await imageDataUri(saved.file);
        } finally {
          await fs.rm(saved.file, { force: true });
        }
      } catch (error) {
        this.onFailure(url, error);
        this.log.info(`No thumbnail for an output URL: ${error instanceof Error ? error.message : String(error)}`);
        // A failure is not cached: the next hover tries again.
        this.cache.delete(`url:${url}`);
        return undefined;
      }
    });
  }

  private cached(key: string, make: () => Promise<string | undefined>): Promise<string | undefined> {
    const known = this.cache.get(key);
    if (known) {
      this.cache.delete(key);
      this.cache.set(key, known);
      return known;
    }
    const made = make();
    this.cache.set(key, made);
    while (this.cache.size > CACHED_THUMBNAILS) {
      const [oldest] = this.cache.keys();
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return made;
  }
}

async function imageDataUri(file: string): Promise<string | undefined> {
  // A regular file, not through a link, checked and read from one open handle (core/regularFile.ts): a
  // path swapped between a check and a read, or a named pipe, never gets through.
  const read = await readRegularBytes(file, MAX_THUMBNAIL_BYTES);
  if (read.kind !== 'bytes') return undefined;
  const bytes = read.bytes;
  const media = sniffMediaType(bytes.subarray(0, 64));
  if (!media || media.kind !== 'image' || !media.supported) return undefined;
  // Small files can declare huge images (a decompression bomb): what the header says must be reasonable.
  if (!fitsThumbnail(bytes)) return undefined;
  return `data:${media.contentType};base64,${bytes.toString('base64')}`;
}
