// Uploading to Amazon S3, or to Google Cloud Storage through its S3-compatible XML API (HMAC keys), signed
// with SigV4 and sent through the caller's dispatcher; then a presigned GET URL for FLORA to read it from.
//
// The key is the file's SHA-256, so a HEAD comes first: an object already there is not sent again. Below
// the threshold one streamed PUT carries the file (its x-amz-content-sha256 is the hash describeLocalFile
// computed, so the store checks every byte); above it a multipart upload sends one part at a time, each
// with its own hash and its own retries, and an upload given up on is aborted so no parts are left billed.
// A part's hash only says that part arrived as read: the parts' bytes are hashed together as well, and the
// upload is aborted unless they are the file's. The hash is stored with the object (x-amz-meta-sha256), and
// an object under the key counts as there only when it carries this hash: one left by another writer
// under a key it does not match is replaced, not handed to FLORA.
//
// Store replies are hostile text: an unreadable one (bad XML, a character that is not one) is an
// UploadError, never an exception of the parser's.
// One piece although long: the HEAD, the single PUT, the multipart steps and the presigned GET share one
// signing of one target (its region, followed once when the store names another) and one running check
// that the bytes sent are the bytes hashed; split, each step would have to re-establish both.
import { createHash } from 'node:crypto';
import type * as fs from 'node:fs';
import * as path from 'node:path';
import { FloraCancelledError, FloraError, messageOf, UploadError, type UploadFailure } from '../errors';
import { checkMediaUrl } from '../inputs';
import { message, type Message } from '../messages';
import { oneLine, truncate } from '../text';
import { MAX_UPLOAD_BYTES, fileChanged, objectKeyFor, openUploadFile, readRange, verifiedFileBody } from './files';
import { presignGet, signRequest } from './signer';
import {
  DEFAULT_UPLOAD_ATTEMPTS,
  headerValue,
  networkError,
  ownErrorOf,
  parseEndpoint,
  send,
  transportFailureOf,
  waitBeforeRetry,
  type Reply,
} from './transport';
import type { GcsTarget, S3Target, StorageCredentials, UploadContext, UploadFile, Uploaded } from './types';

export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 16 * 1024 ** 2;
export const DEFAULT_PART_SIZE_BYTES = 8 * 1024 ** 2;
/** S3's cap on the parts of one upload: the part size grows to stay within it. */
const MAX_PARTS = 10_000;
/** SigV4's cap on a presigned URL's lifetime. */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** GCS's XML API takes any region in the signature; "auto" is what its documentation uses. */
const GCS_REGION = 'auto';
const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
/** The user metadata that holds the object's SHA-256 (S3 and GCS's XML API both take x-amz-meta-*). */
const SHA256_METADATA = 'x-amz-meta-sha256';
/** GCS answers with its own name for the same metadata. */
const GCS_SHA256_METADATA = 'x-goog-meta-sha256';

export interface S3UploadOptions {
  /** How long the presigned URL works, before the caps (7 days, and the credentials' own expiry). */
  urlLifetimeSeconds: number;
  multipartThresholdBytes?: number;
  partSizeBytes?: number;
  /** Tries per request (the HEAD, the PUT, each part), the first included; default 4. */
  attempts?: number;
  /** The AWS profile the credentials come from, named in messages about them (aws sso login). */
  profile?: string;
}

type Operation = 'HeadObject' | 'PutObject' | 'CreateMultipartUpload' | 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload';

/** The permission each operation needs, as the store's policies name it. */
const PERMISSIONS: Record<'s3' | 'gcs', Record<Operation, string>> = {
  s3: {
    HeadObject: 's3:GetObject',
    PutObject: 's3:PutObject',
    CreateMultipartUpload: 's3:PutObject',
    UploadPart: 's3:PutObject',
    CompleteMultipartUpload: 's3:PutObject',
    AbortMultipartUpload: 's3:AbortMultipartUpload',
  },
  gcs: {
    HeadObject: 'storage.objects.get',
    PutObject: 'storage.objects.create',
    CreateMultipartUpload: 'storage.multipartUploads.create',
    UploadPart: 'storage.multipartUploads.create',
    CompleteMultipartUpload: 'storage.objects.create',
    AbortMultipartUpload: 'storage.multipartUploads.abort',
  },
};

/** Where files go, as a person reads it: s3://bucket/prefix/ or gs://bucket/prefix/. */
export function describeTarget(target: S3Target | GcsTarget): string {
  const scheme = target.kind === 's3' ? 's3' : 'gs';
  const prefix = objectKeyFor(target.prefix, { sha256: '', extension: '' }).slice(0, -1);
  return `${scheme}://${target.bucket}/${prefix}`;
}

/**
 * Uploads the file (unless its content-addressed object is there already) and returns a presigned GET URL
 * valid for min(urlLifetimeSeconds, 7 days, until the credentials expire). Throws UploadError (or
 * FloraCancelledError when the context's signal aborted).
 */
export async function uploadToS3(
  target: S3Target | GcsTarget,
  credentials: () => Promise<StorageCredentials>,
  file: UploadFile,
  options: S3UploadOptions,
  context: UploadContext,
): Promise<Uploaded> {
  const upload = new S3Upload(target, file, options, context);
  return upload.run(credentials);
}

/** Why credentials could not be had from a provider (the AWS chain, say): expired ones told apart. */
export function credentialsError(error: unknown, target: string, profile?: string): UploadError {
  if (error instanceof UploadError) return error;
  // The chain's words for an SSO session or role session that has run out ("…has expired…, run aws sso login").
  const expired = /expired|expiration|refresh (?:the |this )?(?:sso )?(?:session|token)|sso login/i.test(messageOf(error));
  return new UploadError(expired ? 'expiredCredentials' : 'credentials', { target, profile, cause: error });
}

/** The object's URL in the form FLORA accepts (see the README); `region` is ignored for GCS. */
export function objectUrl(target: S3Target | GcsTarget, region: string, key: string): URL {
  const bucket = encodeSegment(target.bucket);
  const encodedKey = key.split('/').map(encodeSegment).join('/');
  if (target.endpoint) {
    const endpoint = parseEndpoint(target.endpoint);
    return new URL(`${endpoint.origin}${endpoint.pathname}/${bucket}/${encodedKey}`);
  }
  if (target.kind === 'gcs') return new URL(`https://storage.googleapis.com/${bucket}/${encodedKey}`);
  // A bucket with a dot breaks the wildcard certificate of virtual-hosted names: path-style instead.
  if (target.bucket.includes('.')) return new URL(`https://s3.${region}.amazonaws.com/${bucket}/${encodedKey}`);
  return new URL(`https://${bucket}.s3.${region}.amazonaws.com/${encodedKey}`);
}

/** A presigned GET URL of the object and when it expires; the lifetime is capped as uploadToS3 says. */
export async function presignedGetUrl(
  target: S3Target | GcsTarget,
  region: string,
  key: string,
  credentials: StorageCredentials,
  lifetimeSeconds: number,
  now: number,
): Promise<{ url: string; expiresAt: number }> {
  const untilExpiry = credentials.expiration ? Math.floor((credentials.expiration.getTime() - now) / 1000) : Infinity;
  const seconds = Math.floor(Math.min(Math.max(1, lifetimeSeconds), MAX_PRESIGNED_SECONDS, untilExpiry));
  if (!(seconds >= 1)) throw new UploadError('expiredCredentials', { target: describeTarget(target) });
  const url = await presignGet({
    url: objectUrl(target, region, key),
    credentials,
    region: signingRegion(target, region),
    now,
    expiresSeconds: seconds,
  });
  return { url, expiresAt: now + seconds * 1000 };
}

function signingRegion(target: S3Target | GcsTarget, region: string): string {
  return target.kind === 'gcs' ? GCS_REGION : region;
}

/** RFC 3986 unreserved characters stay, everything else is percent-encoded: the form SigV4 signs. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

interface S3Request {
  operation: Operation;
  method: 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  query?: Record<string, string>;
  headers?: Record<string, string>;
  payloadSha256: string;
  /** Made again for each try: a stream is read once. */
  body?: () => string | Buffer | AsyncIterable<Buffer>;
  label: string;
  signal?: AbortSignal;
  /** Tries; default the upload's. */
  attempts?: number;
}

class S3Upload {
  private readonly now: () => number;
  private readonly attempts: number;
  private readonly label: string;
  private readonly name: string;
  private region: string;
  private followedRegion = false;
  private credentials: StorageCredentials | undefined;
  /** -1 until the first report, so an empty file or an object already there still reports once. */
  private sentBytes = -1;

  constructor(
    private readonly target: S3Target | GcsTarget,
    private readonly file: UploadFile,
    private readonly options: S3UploadOptions,
    private readonly context: UploadContext,
  ) {
    this.now = context.now ?? Date.now;
    this.attempts = Math.max(1, options.attempts ?? DEFAULT_UPLOAD_ATTEMPTS);
    this.label = describeTarget(target);
    this.name = path.basename(file.path);
    this.region = target.kind === 's3' ? target.region.trim() : GCS_REGION;
  }

  async run(getCredentials: () => Promise<StorageCredentials>): Promise<Uploaded> {
    this.checkTarget();
    if (this.file.size > MAX_UPLOAD_BYTES) {
      throw new UploadError('tooLarge', {
        text: message('uploadFileTooLarge', this.name, Math.ceil(this.file.size / 1024 ** 2), MAX_UPLOAD_BYTES / 1024 ** 3),
      });
    }
    this.credentials = await this.obtainCredentials(getCredentials);
    const key = objectKeyFor(this.target.prefix, this.file);
    const exists = await this.exists(key);
    if (exists) {
      this.context.log?.('info', `${this.label}${path.basename(key)} is there already (content-addressed): nothing uploaded.`);
    } else {
      const threshold = this.options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD_BYTES;
      if (this.file.size >= threshold && this.file.size > 0) await this.putMultipart(key);
      else await this.putSingle(key);
    }
    this.progress(this.file.size);
    const { url, expiresAt } = await presignedGetUrl(
      this.target,
      this.region,
      key,
      this.credentials,
      this.options.urlLifetimeSeconds,
      this.now(),
    );
    const lifetimeHours = (expiresAt - this.now()) / 3_600_000;
    if (lifetimeHours * 3600 < this.options.urlLifetimeSeconds - 60) {
      this.context.log?.(
        'warn',
        `The link to ${key} works for ${lifetimeHours.toFixed(1)} h only: the credentials (or SigV4's 7 days) allow no more.`,
      );
    }
    const problem = checkMediaUrl(url, { extraOrigins: this.target.endpoint ? [parseEndpoint(this.target.endpoint).origin] : [] });
    if (problem)
      throw new UploadError('refused', { text: message('uploadLinkRefused', problem), files: [this.file.path], target: this.label });
    return { url, key, expiresAt, uploaded: !exists, region: this.region };
  }

  private checkTarget(): void {
    if (!BUCKET_PATTERN.test(this.target.bucket) || this.target.bucket.includes('..')) {
      throw new UploadError('noSuchBucket', { text: message('uploadNoSuchBucket', this.target.bucket), target: this.label });
    }
    if (this.target.kind === 's3' && !REGION_PATTERN.test(this.region)) {
      throw new UploadError('wrongRegion', { text: message('uploadRegionInvalid', this.region), target: this.label });
    }
    if (this.target.endpoint) parseEndpoint(this.target.endpoint);
  }

  private async obtainCredentials(getCredentials: () => Promise<StorageCredentials>): Promise<StorageCredentials> {
    let credentials: StorageCredentials;
    try {
      credentials = await getCredentials();
    } catch (error) {
      if (error instanceof FloraError) throw error;
      throw credentialsError(error, this.label, this.options.profile);
    }
    if (!credentials?.accessKeyId || !credentials.secretAccessKey) {
      throw new UploadError('credentials', { target: this.label, profile: this.options.profile });
    }
    if (credentials.expiration && credentials.expiration.getTime() <= this.now()) {
      throw new UploadError('expiredCredentials', { target: this.label, profile: this.options.profile });
    }
    return credentials;
  }

  /** Whether the content-addressed object is there, whole. */
  private async exists(key: string): Promise<boolean> {
    const reply = await this.call({ operation: 'HeadObject', method: 'HEAD', payloadSha256: EMPTY_SHA256, label: 'HeadObject' }, key);
    if (reply.status === 200) {
      const length = Number(headerValue(reply.headers, 'content-length'));
      // The key is only a name: the object is this file's when the hash it was stored with says so.
      const stored = (
        headerValue(reply.headers, SHA256_METADATA) ??
        (this.target.kind === 'gcs' ? headerValue(reply.headers, GCS_SHA256_METADATA) : undefined)
      )?.trim();
      if (length === this.file.size && stored === this.file.sha256) return true;
      this.context.log?.(
        'warn',
        length !== this.file.size
          ? `${key} is there with ${Number.isFinite(length) ? length : '?'} bytes, not ${this.file.size}: uploading it again.`
          : `${key} is there without this file's SHA-256 in its metadata: uploading it again.`,
      );
      return false;
    }
    // 404: not there. 403 as well without s3:ListBucket (S3 will not say "no such key"), or for a reason the
    // upload's own reply names with its error code (a HEAD reply has no body to tell).
    return false;
  }

  private async putSingle(key: string): Promise<void> {
    const reply = await this.call(
      {
        operation: 'PutObject',
        method: 'PUT',
        headers: { 'content-type': this.file.contentType, 'content-length': String(this.file.size), [SHA256_METADATA]: this.file.sha256 },
        payloadSha256: this.file.sha256,
        body: () => this.fileBody(),
        label: 'PutObject',
      },
      key,
    );
    if (reply.status !== 200) throw this.errorFor(reply, 'PutObject');
  }

  /** The whole file as a request body, opened again for each try (the file that was hashed), counted for the progress. */
  private async *fileBody(): AsyncGenerator<Buffer> {
    const handle = await openUploadFile(this.file.path, this.file.identity);
    try {
      let sent = 0;
      yield* verifiedFileBody(handle, this.file, (count) => {
        sent += count;
        this.progress(sent);
      });
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  private async putMultipart(key: string): Promise<void> {
    const partSize = Math.max(this.options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES, Math.ceil(this.file.size / MAX_PARTS));
    const partCount = Math.ceil(this.file.size / partSize);
    const created = await this.call(
      {
        operation: 'CreateMultipartUpload',
        method: 'POST',
        query: { uploads: '' },
        headers: { 'content-type': this.file.contentType, [SHA256_METADATA]: this.file.sha256 },
        payloadSha256: EMPTY_SHA256,
        label: `CreateMultipartUpload, ${partCount} parts`,
      },
      key,
    );
    if (created.status !== 200) throw this.errorFor(created, 'CreateMultipartUpload');
    const uploadId = this.readReply('CreateMultipartUpload', () => xmlValue(created.body, 'UploadId'));
    if (!uploadId) throw this.unreadableReply('CreateMultipartUpload reply without an UploadId');
    try {
      const handle = await openUploadFile(this.file.path, this.file.identity);
      try {
        await this.sendParts(handle, key, uploadId, partSize, partCount);
      } finally {
        await handle.close().catch(() => undefined);
      }
    } catch (error) {
      await this.abort(key, uploadId);
      throw error;
    }
  }

  private async sendParts(
    handle: fs.promises.FileHandle,
    key: string,
    uploadId: string,
    partSize: number,
    partCount: number,
  ): Promise<void> {
    // Each part's hash is checked by the store; this one, of all of them, says they are the file described.
    const whole = createHash('sha256');
    const parts: Array<{ number: number; etag: string }> = [];
    for (let number = 1; number <= partCount; number++) {
      const start = (number - 1) * partSize;
      const bytes = await readPart(handle, this.file.path, start, Math.min(partSize, this.file.size - start));
      whole.update(bytes);
      // Checked before the last part is sent: a changed file never becomes a complete upload.
      if (number === partCount && whole.digest('hex') !== this.file.sha256) throw fileChanged(this.file.path);
      const reply = await this.call(
        {
          operation: 'UploadPart',
          method: 'PUT',
          query: { partNumber: String(number), uploadId },
          headers: { 'content-length': String(bytes.length) },
          payloadSha256: createHash('sha256').update(bytes).digest('hex'),
          body: () => bytes,
          label: `part ${number} of ${partCount}`,
        },
        key,
      );
      if (reply.status !== 200) throw this.errorFor(reply, 'UploadPart');
      const etag = headerValue(reply.headers, 'etag');
      if (!etag) throw this.unreadableReply(`UploadPart ${number} reply without an ETag`);
      parts.push({ number, etag });
      this.progress(start + bytes.length);
    }
    await this.complete(key, uploadId, parts);
  }

  private async complete(key: string, uploadId: string, parts: ReadonlyArray<{ number: number; etag: string }>): Promise<void> {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      parts.map((part) => `<Part><PartNumber>${part.number}</PartNumber><ETag>${escapeXml(part.etag)}</ETag></Part>`).join('') +
      '</CompleteMultipartUpload>';
    const body = Buffer.from(xml, 'utf8');
    const reply = await this.call(
      {
        operation: 'CompleteMultipartUpload',
        method: 'POST',
        query: { uploadId },
        headers: { 'content-type': 'application/xml', 'content-length': String(body.length) },
        payloadSha256: createHash('sha256').update(body).digest('hex'),
        body: () => body,
        label: 'CompleteMultipartUpload',
      },
      key,
    );
    // S3 can answer 200 and put the error in the body, when it fails after it began to reply.
    const failed = reply.status !== 200 || this.readReply('CompleteMultipartUpload', () => xmlValue(reply.body, 'Code')) !== undefined;
    if (failed) throw this.errorFor(reply, 'CompleteMultipartUpload');
  }

  /** Best effort, once, on a signal of its own: an aborted upload's parts would otherwise stay billed. */
  private async abort(key: string, uploadId: string): Promise<void> {
    try {
      const reply = await this.call(
        {
          operation: 'AbortMultipartUpload',
          method: 'DELETE',
          query: { uploadId },
          payloadSha256: EMPTY_SHA256,
          label: 'AbortMultipartUpload',
          signal: AbortSignal.timeout(15_000),
          attempts: 1,
        },
        key,
      );
      if (reply.status !== 204 && reply.status !== 200)
        this.context.log?.('warn', `Aborting the multipart upload of ${key} got HTTP ${reply.status}.`);
    } catch (error) {
      this.context.log?.('warn', `Aborting the multipart upload of ${key} failed: ${messageOf(error)}`);
    }
  }

  /**
   * One operation, signed for the current region: retried on no reply, 5xx and 429 (with backoff), and
   * sent once more to the region a wrong-region answer names (once per upload).
   */
  private async call(operation: S3Request, key: string): Promise<Reply> {
    const attempts = operation.attempts ?? this.attempts;
    for (let attempt = 1; ; attempt++) {
      const url = objectUrl(this.target, this.region, key);
      for (const [name, value] of Object.entries(operation.query ?? {})) url.searchParams.set(name, value);
      let reply: Reply;
      try {
        const headers = await signRequest({
          method: operation.method,
          url,
          headers: operation.headers ?? {},
          payloadSha256: operation.payloadSha256,
          credentials: this.requireCredentials(),
          region: signingRegion(this.target, this.region),
          now: this.now(),
        });
        reply = await send(
          { method: operation.method, url, headers, body: operation.body?.(), label: operation.label, signal: operation.signal },
          this.context,
        );
      } catch (error) {
        const own = ownErrorOf(error);
        if (own) throw own;
        const failure = transportFailureOf(error, url.origin);
        if (failure instanceof FloraCancelledError) throw failure;
        if (attempt >= attempts) throw networkError(url.origin, failure, attempt, [this.file.path], error);
        await waitBeforeRetry(attempt, this.context);
        continue;
      }
      if (reply.status >= 500 || reply.status === 429) {
        if (attempt >= attempts) throw networkError(url.origin, { status: reply.status }, attempt, [this.file.path]);
        await waitBeforeRetry(attempt, this.context, retryAfterMs(reply));
        continue;
      }
      const region = this.readReply(operation.operation, () => this.regionNamedBy(reply));
      if (region !== undefined) {
        if (this.followedRegion || this.target.kind !== 's3') throw this.wrongRegion(region);
        this.context.log?.(
          'warn',
          `The bucket ${this.target.bucket} is in ${region}, not ${this.region}: following it there. Set flora.upload.s3.region to ${region} to skip this step.`,
        );
        this.followedRegion = true;
        this.region = region;
        attempt--;
        continue;
      }
      return reply;
    }
  }

  /** The region a wrong-region answer names (AuthorizationHeaderMalformed, PermanentRedirect, a HEAD's 301/400). */
  private regionNamedBy(reply: Reply): string | undefined {
    if (reply.status !== 301 && reply.status !== 307 && reply.status !== 400) return undefined;
    const code = xmlValue(reply.body, 'Code');
    const named = headerValue(reply.headers, 'x-amz-bucket-region') ?? xmlValue(reply.body, 'Region');
    if (named === undefined) return undefined;
    if (
      code !== undefined &&
      !['AuthorizationHeaderMalformed', 'PermanentRedirect', 'TemporaryRedirect', 'IllegalLocationConstraintException'].includes(code)
    )
      return undefined;
    const region = named.trim();
    // The region becomes part of a host name: only a region's shape is followed.
    if (!REGION_PATTERN.test(region)) return undefined;
    return region === this.region ? undefined : region;
  }

  private wrongRegion(region: string): UploadError {
    return new UploadError('wrongRegion', {
      text: message('uploadWrongRegion', this.target.bucket, region, this.target.kind === 's3' ? this.target.region : GCS_REGION),
      target: this.label,
      region,
      files: [this.file.path],
    });
  }

  private requireCredentials(): StorageCredentials {
    if (!this.credentials) throw new UploadError('credentials', { target: this.label, profile: this.options.profile });
    return this.credentials;
  }

  /** The error an S3 error reply means, by its code (or the unreadable-reply error, when it cannot be read). */
  private errorFor(reply: Reply, operation: Operation): UploadError {
    try {
      return this.errorForCode(reply, operation, xmlValue(reply.body, 'Code'));
    } catch (error) {
      if (error instanceof UploadError) return error;
      return this.unreadableReply(`${operation} error reply: ${messageOf(error)}`);
    }
  }

  private errorForCode(reply: Reply, operation: Operation, code: string | undefined): UploadError {
    const details = { target: this.label, profile: this.options.profile, files: [this.file.path] };
    const fail = (reason: UploadFailure, text?: Message) => new UploadError(reason, { ...details, text });
    switch (code) {
      case 'AccessDenied':
      case 'AllAccessDisabled':
      case 'AccountProblem': {
        const permission = PERMISSIONS[this.target.kind][operation];
        return fail(
          'accessDenied',
          this.target.kind === 'gcs'
            ? message('uploadAccessDeniedGcs', this.target.bucket, permission)
            : message('uploadAccessDenied', this.target.bucket, permission),
        );
      }
      case 'InvalidAccessKeyId':
      case 'SignatureDoesNotMatch':
      case 'InvalidSecurity':
      case 'InvalidToken':
        return fail('credentials', message('uploadCredentialsRejected', this.label));
      case 'ExpiredToken':
      case 'TokenRefreshRequired':
        return fail('expiredCredentials');
      case 'NoSuchBucket':
        return fail('noSuchBucket', message('uploadNoSuchBucket', this.target.bucket));
      case 'RequestTimeTooSkewed':
        return fail('refused', message('uploadClockSkew'));
      case 'XAmzContentSHA256Mismatch':
      case 'BadDigest':
      case 'IncompleteBody':
        return fileChanged(this.file.path);
      case 'AuthorizationHeaderMalformed':
      case 'PermanentRedirect':
      case 'TemporaryRedirect': {
        // Here only when following did not help, or when no region was named (a malformed signature).
        const named = (headerValue(reply.headers, 'x-amz-bucket-region') ?? xmlValue(reply.body, 'Region'))?.trim();
        if (named !== undefined && REGION_PATTERN.test(named)) return this.wrongRegion(named);
        return fail('refused', message('uploadRefused', this.name, code, reply.status));
      }
      case 'EntityTooLarge':
        return fail('tooLarge', message('uploadRefused', this.name, code, reply.status));
      default:
        return fail('refused', message('uploadRefused', this.name, safeCode(code, reply.status), reply.status));
    }
  }

  /** What `read` takes from a reply; anything it throws (a parser's RangeError, say) means the reply is unreadable. */
  private readReply<T>(operation: Operation, read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof FloraError) throw error;
      throw this.unreadableReply(`${operation}: ${messageOf(error)}`);
    }
  }

  private unreadableReply(detail: string): UploadError {
    // The detail can quote the reply: one line, without controls or bidi characters, and short.
    this.context.log?.('warn', `Unreadable storage reply: ${truncate(oneLine(detail), 300)}.`);
    return new UploadError('refused', { text: message('uploadReplyUnreadable', this.label), files: [this.file.path], target: this.label });
  }

  /** Progress never goes back (a retried PUT re-reads from the start), and never passes the total. */
  private progress(sent: number): void {
    const clamped = Math.min(this.file.size, Math.max(this.sentBytes, sent));
    if (clamped === this.sentBytes) return;
    this.sentBytes = clamped;
    this.context.onProgress?.(clamped, this.file.size);
  }
}

async function readPart(handle: fs.promises.FileHandle, file: string, start: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readRange(handle, file, start, length)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** An S3 error code as it may appear in a message: its own letters, or the status when it has none usable. */
function safeCode(code: string | undefined, status: number): string {
  return code !== undefined && /^[A-Za-z0-9.]{1,64}$/.test(code) ? code : `HTTP${status}`;
}

function retryAfterMs(reply: Reply): number | undefined {
  const seconds = Number(headerValue(reply.headers, 'retry-after'));
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** A reply that is not the XML it claims to be. */
export class UnreadableXmlError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'UnreadableXmlError';
  }
}

/** XML's five named entities, and character references in decimal or hexadecimal. */
const XML_ENTITY = /&(?:(lt|gt|quot|apos|amp)|#(\d+)|#x([0-9A-Fa-f]+));/g;
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

/**
 * The text of the first <tag> element of an S3 reply, entities decoded (in one pass, so "&amp;lt;" stays
 * "&lt;"), on one line and without control or bidi characters; undefined when absent. Throws
 * UnreadableXmlError on a character reference that names no character (above U+10FFFF, a surrogate, NUL).
 */
export function xmlValue(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  const raw = match?.[1];
  if (raw === undefined) return undefined;
  const decoded = raw.replace(XML_ENTITY, (_whole, name: string | undefined, decimal: string | undefined, hex: string | undefined) => {
    if (name !== undefined) return NAMED_ENTITIES[name] ?? '';
    const codePoint = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? '', 16);
    if (!isCharacter(codePoint)) throw new UnreadableXmlError(`<${tag}> holds a reference to no character`);
    return String.fromCodePoint(codePoint);
  });
  return oneLine(decoded);
}

/** Whether XML lets a reference name this code point: not NUL, not past U+10FFFF, not half a surrogate pair. */
function isCharacter(codePoint: number): boolean {
  return Number.isInteger(codePoint) && codePoint > 0 && codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
