// The shapes shared by the upload client's parts: where a file goes, the credentials it is signed with,
// the file as it was read, and what the caller gets back. Free of undici and aws4fetch at run time.
import type { Dispatcher } from 'undici';
import type { Timeouts } from '../http';
import type { Logger } from '../model';

/** The input types a local file can fill. */
export type MediaInputType = 'imageUrl' | 'videoUrl';

export interface S3Target {
  kind: 's3';
  bucket: string;
  region: string;
  /** Prepended to every key, as a folder (a "/" is added when missing). */
  prefix: string;
  /** An S3-compatible endpoint (path-style requests), instead of Amazon's. */
  endpoint?: string;
}

export interface GcsTarget {
  kind: 'gcs';
  bucket: string;
  prefix: string;
  endpoint?: string;
}

export interface ImageKitTarget {
  kind: 'imagekit';
  /** The ImageKit folder, such as /flora. */
  folder: string;
  /** Replaces https://upload.imagekit.io: requests go to `<endpoint>/api/v1/files/upload`. */
  endpoint?: string;
}

export type UploadTarget = S3Target | GcsTarget | ImageKitTarget;

export interface StorageCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; a presigned URL cannot outlive them. */
  expiration?: Date;
}

/** A local file as describeLocalFile read it. */
export interface UploadFile {
  path: string;
  /** Lower-case hex SHA-256 of the contents. */
  sha256: string;
  size: number;
  /** From the file's first bytes, never from its name. */
  contentType: string;
  /** Without the dot, matching contentType (png, jpg, gif, webp, mp4, mov, webm). */
  extension: string;
  /** The file that was hashed: an upload reads only this one, so other bytes cannot go under this hash's key. */
  identity: FileIdentity;
}

/**
 * Which file was read, from the open handle's fstat: a file renamed over it, a link's parent moved, or a
 * save that replaced it, is another file (or the same one changed). Decimal strings, since device and inode
 * numbers can pass 2^53 and the modification time is in nanoseconds.
 */
export interface FileIdentity {
  device: string;
  inode: string;
  size: number;
  modifiedNs: string;
}

export interface Uploaded {
  /** The https URL FLORA reads the file from. */
  url: string;
  /** The object key (S3, GCS) or the file path (ImageKit). */
  key: string;
  /** When `url` stops working (epoch ms); undefined when it does not expire. */
  expiresAt: number | undefined;
  /** False when the object was already there (content-addressed) and nothing was sent. */
  uploaded: boolean;
  /** The region the bucket answered from: differs from the target's when a wrong-region answer was followed. */
  region?: string;
}

export interface UploadContext {
  dispatcher: Dispatcher;
  /** Aborts everything: the request in flight, the retry wait, and (best effort) the multipart upload. */
  signal?: AbortSignal;
  /** The clock for signing dates and URL lifetimes (epoch ms). */
  now?: () => number;
  /** Retry waits (tests record them). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  log?: Logger;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  timeouts?: Partial<Timeouts>;
}
