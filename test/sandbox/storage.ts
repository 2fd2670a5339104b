/**
 * The sandbox's storage endpoints, the oracle the upload client is tested against. Served on the
 * sandbox's own origin so that the URLs they hand out pass both the extension's input rule and the
 * sandbox's host rules:
 *
 *   - `/s3/<bucket>/<key>`: Amazon S3's REST protocol, path-style (endpoint `<sandbox>/s3`).
 *   - `/gcs/<bucket>/<key>`: the same protocol as Google Cloud Storage's S3-compatible XML API speaks it
 *     with HMAC keys (endpoint `<sandbox>/gcs`, region `auto`).
 *   - `POST /imagekit/api/v1/files/upload`: ImageKit's upload API (endpoint `<sandbox>/imagekit`), files
 *     served back under `/imagekit/<SANDBOX_IMAGEKIT_ID>/<filePath>` as `ik.imagekit.io/<id>/…` serves them.
 *
 * Every SigV4 signature, in an Authorization header or in a presigned query, is recomputed with
 * `@smithy/signature-v4` (AWS's own signer, not the aws4fetch the client signs with) and compared in
 * constant time, because a store that accepts a wrong secret (s3rver does) proves nothing about the
 * client. Objects live in memory only.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';

import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

// ------------------------------------------------------------------ public constants

/** Test credentials: printed by `npm run sandbox`, never valid anywhere else. */
export const SANDBOX_S3_CREDENTIALS = {
  accessKeyId: 'AKIASANDBOX0000000001',
  secretAccessKey: 'sandbox/secret/s3+Long+Term+Key+0000000001',
} as const;

/** Temporary credentials (as STS or SSO hand out): the session token is required and valid. */
export const SANDBOX_S3_SESSION_CREDENTIALS = {
  accessKeyId: 'ASIASANDBOX0000000002',
  secretAccessKey: 'sandbox/secret/s3+Session+Key+00000000002',
  sessionToken: 'sandbox-session-token/valid/0000000002',
} as const;

/** Temporary credentials whose session has ended: every request signed with them gets ExpiredToken. */
export const SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS = {
  accessKeyId: 'ASIASANDBOX0000000003',
  secretAccessKey: 'sandbox/secret/s3+Session+Key+00000000003',
  sessionToken: 'sandbox-session-token/expired/0000000003',
} as const;

/** A Google Cloud Storage HMAC key pair, valid on the `/gcs/` endpoint only. */
export const SANDBOX_GCS_HMAC = {
  accessKeyId: 'GOOG1ESANDBOX00000000000000000000000000000000000000000000001',
  secretAccessKey: 'sandbox/secret/gcs+Hmac+Key+0000000000001',
} as const;

export const SANDBOX_IMAGEKIT_PRIVATE_KEY = 'private_sandbox_imagekit_key_0000000001=';
/** The "ImageKit ID" in served URLs, as in `https://ik.imagekit.io/<id>/…`. */
export const SANDBOX_IMAGEKIT_ID = 'flora-sandbox';

export const SANDBOX_S3_BUCKET = 'flora-sandbox';
export const SANDBOX_S3_REGION = 'us-east-1';
/** A bucket in another region, for the wrong-region error and following it. */
export const SANDBOX_S3_EU_BUCKET = 'flora-sandbox-eu';
export const SANDBOX_S3_EU_REGION = 'eu-west-1';
/** Readable with the sandbox keys (it holds the sample images under `samples/`), never writable. */
export const SANDBOX_S3_READONLY_BUCKET = 'flora-sandbox-readonly';
export const SANDBOX_GCS_BUCKET = 'flora-sandbox-gcs';
export const SANDBOX_GCS_READONLY_BUCKET = 'flora-sandbox-gcs-readonly';
/** GCS's S3-compatible API takes `auto` as the signing region. */
export const SANDBOX_GCS_REGION = 'auto';

/** Everything stored (objects, parts of unfinished uploads, ImageKit files) together. */
export const DEFAULT_STORAGE_CAPACITY_BYTES = 256 * 1024 * 1024;
/** S3's minimum size of every part but the last. */
export const S3_MINIMUM_PART_BYTES = 5 * 1024 * 1024;
/** How far a header-signed request's x-amz-date may be from the server's clock, as on S3. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may live: seven days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 60 * 60;

export const STORAGE_PATH_PREFIXES = ['/s3/', '/gcs/', '/imagekit/'] as const;

export interface SandboxStorageEndpoints {
  /** The endpoint an S3 client is given (path-style): requests go to `<s3>/<bucket>/<key>`. */
  s3: string;
  /** The same for GCS mode: `<gcs>/<bucket>/<key>`, region `auto`. */
  gcs: string;
  /** The ImageKit upload endpoint's origin stand-in: uploads are POSTed to `<imagekit>/api/v1/files/upload`. */
  imagekit: string;
  /** Where uploaded ImageKit files are served: `<imagekitUrl>/<filePath>`. */
  imagekitUrl: string;
}

export function storageEndpoints(origin: string): SandboxStorageEndpoints {
  return {
    s3: `${origin}/s3`,
    gcs: `${origin}/gcs`,
    imagekit: `${origin}/imagekit`,
    imagekitUrl: `${origin}/imagekit/${SANDBOX_IMAGEKIT_ID}`,
  };
}

export function isStoragePath(pathname: string): boolean {
  return STORAGE_PATH_PREFIXES.some((prefix) => pathname.startsWith(prefix));
}

// ------------------------------------------------------------------ public API for tests

export type StorageService = 's3' | 'gcs' | 'imagekit';

export type StorageOperation =
  | 'PutObject'
  | 'HeadObject'
  | 'GetObject'
  | 'DeleteObject'
  | 'HeadBucket'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ImageKitUpload'
  | 'ImageKitFile'
  | 'Unsupported';

export interface StoredObjectSummary {
  service: StorageService;
  bucket: string;
  key: string;
  size: number;
  contentType: string;
  etag: string;
  sha256: string;
  metadata: Record<string, string>;
  /** True for what the sandbox put there itself (the read-only buckets' samples). */
  seeded: boolean;
}

export interface MultipartUploadSummary {
  service: 's3' | 'gcs';
  bucket: string;
  key: string;
  uploadId: string;
  partNumbers: number[];
}

export interface StorageRequest {
  method: string;
  /** The path without its query. */
  path: string;
  /** The raw query (presigned URLs carry their signature here). */
  query: string;
  service: StorageService;
  operation: StorageOperation;
  status: number;
  /** `ok`, an S3 error code such as `SignatureDoesNotMatch`, an ImageKit error, or `fault <kind>`. */
  outcome: string;
  /** How the request was authenticated (or tried to be). */
  auth: 'header' | 'query' | 'basic' | 'none' | 'other';
  accessKeyId: string | undefined;
  /** Request headers, lowercased names. */
  headers: Record<string, string>;
  at: number;
}

export interface StorageOptions {
  /** Default 256 MiB; beyond it a write gets 507 EntityTooLarge. */
  capacityBytes?: number;
  /** Default 5 MiB, S3's rule; tests of small multipart uploads lower it. */
  minimumPartBytes?: number;
  /** The storage's clock (expiry and skew checks); default Date.now. */
  now?: () => number;
}

export interface SandboxStorage {
  /** Every stored object and ImageKit file. */
  objects(): StoredObjectSummary[];
  /** The stored bytes, or undefined. */
  content(service: StorageService, bucket: string, key: string): Buffer | undefined;
  /** Multipart uploads created and neither completed nor aborted. */
  multipartUploads(): MultipartUploadSummary[];
  readonly requests: readonly StorageRequest[];
  readonly usedBytes: number;
  /** From now on every session token is expired (as when an SSO session ends mid-upload). */
  expireSessionTokens(): void;
  /** Forgets uploaded objects, unfinished uploads, recorded requests and expired sessions; keeps the seeds. */
  clear(): void;
}

/** The faults the sandbox's fault board can hand storage (server.ts's Fault, structurally). */
export type StorageFault =
  | { kind: 'status'; status: number; html?: boolean }
  | { kind: 'rateLimit'; retryAfterSeconds: number }
  | { kind: 'dropBefore' }
  | { kind: 'dropAfter' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'wrongShape' };

export interface StorageHost {
  /** The sandbox's origin (known once it listens). */
  origin: () => string;
  /** The next queued storage fault for this operation, consumed. */
  takeFault: (operation: StorageOperation) => StorageFault | undefined;
  log: ((line: string) => void) | undefined;
}

/** A seeded object, e.g. the sample images in the read-only buckets. */
export interface StorageSeed {
  service: 's3' | 'gcs';
  bucket: string;
  key: string;
  content: Buffer;
  contentType: string;
}

// ------------------------------------------------------------------ configuration

interface BucketConfig {
  region: string;
  readOnly: boolean;
}

interface CredentialRecord {
  secretAccessKey: string;
  sessionToken: string | undefined;
  /** Marked expired from the start (the expired-session constant). */
  expired: boolean;
}

const bucketsByService: Record<'s3' | 'gcs', ReadonlyMap<string, BucketConfig>> = {
  s3: new Map([
    [SANDBOX_S3_BUCKET, { region: SANDBOX_S3_REGION, readOnly: false }],
    [SANDBOX_S3_EU_BUCKET, { region: SANDBOX_S3_EU_REGION, readOnly: false }],
    [SANDBOX_S3_READONLY_BUCKET, { region: SANDBOX_S3_REGION, readOnly: true }],
  ]),
  gcs: new Map([
    [SANDBOX_GCS_BUCKET, { region: SANDBOX_GCS_REGION, readOnly: false }],
    [SANDBOX_GCS_READONLY_BUCKET, { region: SANDBOX_GCS_REGION, readOnly: true }],
  ]),
};

const credentialsByService: Record<'s3' | 'gcs', ReadonlyMap<string, CredentialRecord>> = {
  s3: new Map([
    [
      SANDBOX_S3_CREDENTIALS.accessKeyId,
      { secretAccessKey: SANDBOX_S3_CREDENTIALS.secretAccessKey, sessionToken: undefined, expired: false },
    ],
    [
      SANDBOX_S3_SESSION_CREDENTIALS.accessKeyId,
      {
        secretAccessKey: SANDBOX_S3_SESSION_CREDENTIALS.secretAccessKey,
        sessionToken: SANDBOX_S3_SESSION_CREDENTIALS.sessionToken,
        expired: false,
      },
    ],
    [
      SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS.accessKeyId,
      {
        secretAccessKey: SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS.secretAccessKey,
        sessionToken: SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS.sessionToken,
        expired: true,
      },
    ],
  ]),
  gcs: new Map([
    [SANDBOX_GCS_HMAC.accessKeyId, { secretAccessKey: SANDBOX_GCS_HMAC.secretAccessKey, sessionToken: undefined, expired: false }],
  ]),
};

const writeOperations: ReadonlySet<StorageOperation> = new Set([
  'PutObject',
  'DeleteObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
]);

/** Query parameters of a presigned URL that the signer itself writes. */
const presignParameters = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const IMAGEKIT_UPLOAD_PATH = '/imagekit/api/v1/files/upload';
const IMAGEKIT_HELP = 'For support kindly contact us at support@imagekit.io .';
const MAX_PART_NUMBER = 10_000;

// ------------------------------------------------------------------ the server

interface StoredObject {
  content: Buffer;
  contentType: string;
  etag: string;
  sha256: string;
  metadata: Record<string, string>;
  lastModified: number;
  seeded: boolean;
}

interface UploadPart {
  content: Buffer;
  etag: string;
}

interface MultipartUpload {
  service: 's3' | 'gcs';
  bucket: string;
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  parts: Map<number, UploadPart>;
}

interface StorageReply {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
  /** What the request record says: `ok` or an error code. */
  outcome: string;
}

/** A refusal: thrown inside request handling, turned into S3's XML error reply. */
class S3Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface S3Request {
  service: 's3' | 'gcs';
  method: string;
  pathname: string;
  query: URLSearchParams;
  bucket: string;
  /** Decoded object key; '' for bucket-level requests. */
  key: string;
  headers: http.IncomingHttpHeaders;
}

interface Authenticated {
  accessKeyId: string;
  /** The x-amz-content-sha256 the signature covers. */
  payloadHash: string;
}

interface RequestNotes {
  operation: StorageOperation;
  auth: StorageRequest['auth'];
  accessKeyId: string | undefined;
}

export class StorageServer implements SandboxStorage {
  readonly requests: StorageRequest[] = [];

  private readonly objectsByKey = new Map<string, StoredObject>();
  private planted = false;
  private readonly uploads = new Map<string, MultipartUpload>();
  private readonly capacityBytes: number;
  private readonly minimumPartBytes: number;
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private sessionsExpired = false;

  constructor(
    private readonly host: StorageHost,
    options: StorageOptions = {},
    /** Drawn at the first use rather than at start-up, since most sandboxes never touch storage. */
    private readonly seeds: () => readonly StorageSeed[] = () => [],
  ) {
    this.capacityBytes = options.capacityBytes ?? DEFAULT_STORAGE_CAPACITY_BYTES;
    this.minimumPartBytes = options.minimumPartBytes ?? S3_MINIMUM_PART_BYTES;
    this.now = options.now ?? Date.now;
  }

  // ---------------------------------------------------------------- test API

  objects(): StoredObjectSummary[] {
    return [...this.store.entries()].map(([storeKey, object]) => {
      const [service, bucket, key] = splitStoreKey(storeKey);
      return {
        service,
        bucket,
        key,
        size: object.content.length,
        contentType: object.contentType,
        etag: object.etag,
        sha256: object.sha256,
        metadata: { ...object.metadata },
        seeded: object.seeded,
      };
    });
  }

  content(service: StorageService, bucket: string, key: string): Buffer | undefined {
    const content = this.store.get(storeKeyOf(service, bucket, key))?.content;
    return content === undefined ? undefined : Buffer.from(content);
  }

  multipartUploads(): MultipartUploadSummary[] {
    return [...this.uploads.entries()].map(([uploadId, upload]) => ({
      service: upload.service,
      bucket: upload.bucket,
      key: upload.key,
      uploadId,
      partNumbers: [...upload.parts.keys()].sort((left, right) => left - right),
    }));
  }

  get usedBytes(): number {
    let total = 0;
    for (const object of this.store.values()) {
      total += object.content.length;
    }
    for (const upload of this.uploads.values()) {
      for (const part of upload.parts.values()) {
        total += part.content.length;
      }
    }
    return total;
  }

  expireSessionTokens(): void {
    this.sessionsExpired = true;
  }

  clear(): void {
    this.objectsByKey.clear();
    this.planted = false;
    this.uploads.clear();
    this.requests.length = 0;
    this.sessionsExpired = false;
  }

  /** Called by the sandbox's close(). */
  dispose(): void {
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.timers.clear();
    this.objectsByKey.clear();
    this.uploads.clear();
  }

  private get store(): Map<string, StoredObject> {
    if (!this.planted) {
      this.planted = true;
      this.plantSeeds();
    }
    return this.objectsByKey;
  }

  private plantSeeds(): void {
    for (const seed of this.seeds()) {
      this.objectsByKey.set(storeKeyOf(seed.service, seed.bucket, seed.key), {
        ...describeContent(seed.content),
        contentType: seed.contentType,
        metadata: {},
        lastModified: this.now(),
        seeded: true,
      });
    }
  }

  // ---------------------------------------------------------------- request pipeline

  async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const method = request.method ?? 'GET';
    const rawPath = request.url ?? '/';
    const queryStart = rawPath.indexOf('?');
    const pathname = queryStart < 0 ? rawPath : rawPath.slice(0, queryStart);
    const rawQuery = queryStart < 0 ? '' : rawPath.slice(queryStart + 1);
    const service: StorageService = pathname.startsWith('/s3/') ? 's3' : pathname.startsWith('/gcs/') ? 'gcs' : 'imagekit';
    const query = new URLSearchParams(rawQuery);
    const notes: RequestNotes = {
      operation: service === 'imagekit' ? imageKitOperationOf(method, pathname) : s3OperationOf(method, pathname, query, request.headers),
      auth: authKindOf(request.headers.authorization, query),
      accessKeyId: undefined,
    };
    const record = (status: number, outcome: string): void => {
      this.requests.push({
        method,
        path: pathname,
        query: rawQuery,
        service,
        operation: notes.operation,
        status,
        outcome,
        auth: notes.auth,
        accessKeyId: notes.accessKeyId,
        headers: flattenHeaders(request.headers),
        at: started,
      });
      // The path only: a presigned query is a bearer credential, so it stays out of the log.
      this.host.log?.(`${method} ${pathname} [${notes.operation}] -> ${status} ${outcome} (${Date.now() - started} ms)`);
    };

    const fault = this.host.takeFault(notes.operation);
    if (fault?.kind === 'dropBefore') {
      request.socket.destroy();
      record(0, 'fault dropBefore');
      return;
    }
    if (fault?.kind === 'hang') {
      // Left open on purpose; the sandbox's close() destroys the socket.
      record(0, 'fault hang');
      return;
    }

    const body = await readBody(request, Math.max(0, this.capacityBytes - this.usedBytes));
    let reply: StorageReply;
    if (fault !== undefined && fault.kind !== 'dropAfter' && fault.kind !== 'delay') {
      reply = faultReply(fault, service, pathname);
    } else if (body === 'tooLarge') {
      // The rest of the body is still in flight, so the connection cannot be reused.
      response.shouldKeepAlive = false;
      reply = this.tooLarge(service, pathname);
    } else {
      reply = await this.reply(service, method, pathname, query, request, body, notes);
    }
    if (fault?.kind === 'dropAfter') {
      request.socket.destroy();
      record(reply.status, `${reply.outcome}, then fault dropAfter`);
      return;
    }
    const outcome = fault === undefined ? reply.outcome : `${reply.outcome} [fault ${fault.kind}]`;
    const send = (): void => {
      sendReply(response, reply, method === 'HEAD');
      record(reply.status, outcome);
    };
    if (fault?.kind === 'delay') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, fault.ms);
      this.timers.add(timer);
      return;
    }
    send();
  }

  private async reply(
    service: StorageService,
    method: string,
    pathname: string,
    query: URLSearchParams,
    request: http.IncomingMessage,
    body: Buffer,
    notes: RequestNotes,
  ): Promise<StorageReply> {
    try {
      if (service === 'imagekit') {
        return await this.imageKit(method, pathname, request, body, notes);
      }
      const parsed = parseS3Path(service, method, pathname, query, request.headers);
      return await this.s3(parsed, body, notes);
    } catch (error) {
      if (error instanceof S3Failure) {
        return s3ErrorReply(error, pathname);
      }
      throw error;
    }
  }

  private tooLarge(service: StorageService, pathname: string): StorageReply {
    const message = `The sandbox keeps at most ${this.capacityBytes} bytes in memory (${this.usedBytes} in use)`;
    if (service === 'imagekit') {
      return imageKitError(507, message, 'EntityTooLarge');
    }
    return s3ErrorReply(new S3Failure(507, 'EntityTooLarge', message, { MaxSizeAllowed: String(this.capacityBytes) }), pathname);
  }

  // ---------------------------------------------------------------- S3 and GCS

  private async s3(request: S3Request, body: Buffer, notes: RequestNotes): Promise<StorageReply> {
    const operation = notes.operation;
    if (request.bucket === '') {
      throw new S3Failure(501, 'NotImplemented', 'The sandbox does not list buckets');
    }
    const bucket = bucketsByService[request.service].get(request.bucket);
    const authenticated = await this.authenticate(request, bucket, notes);
    if (bucket === undefined) {
      throw new S3Failure(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: request.bucket });
    }
    if (bucket.readOnly && writeOperations.has(operation)) {
      throw new S3Failure(403, 'AccessDenied', 'Access Denied');
    }
    if ((operation === 'PutObject' || operation === 'UploadPart') && request.headers['content-length'] === undefined) {
      // What S3 answers to a chunked upload without aws-chunked signing: streams need a declared length.
      throw new S3Failure(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    }
    if (authenticated.payloadHash !== UNSIGNED_PAYLOAD) {
      const computed = createHash('sha256').update(body).digest('hex');
      if (computed !== authenticated.payloadHash) {
        throw new S3Failure(
          400,
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          {
            ClientComputedContentSHA256: authenticated.payloadHash,
            S3ComputedContentSHA256: computed,
          },
        );
      }
    }
    checkContentMd5(request.headers, body);
    const headers = { 'x-amz-bucket-region': bucket.region };
    switch (operation) {
      case 'HeadBucket':
        return emptyReply(200, headers);
      case 'PutObject':
        return this.putObject(request, body, headers);
      case 'GetObject':
      case 'HeadObject':
        return this.getObject(request, headers);
      case 'DeleteObject':
        this.store.delete(storeKeyOf(request.service, request.bucket, request.key));
        return emptyReply(204, headers);
      case 'CreateMultipartUpload':
        return this.createMultipartUpload(request, headers);
      case 'UploadPart':
        return this.uploadPart(request, body, headers);
      case 'CompleteMultipartUpload':
        return this.completeMultipartUpload(request, body, headers);
      case 'AbortMultipartUpload':
        this.uploadOf(request);
        this.uploads.delete(request.query.get('uploadId') ?? '');
        return emptyReply(204, headers);
      case 'ImageKitUpload':
      case 'ImageKitFile':
      case 'Unsupported':
        if (!['GET', 'HEAD', 'PUT', 'POST', 'DELETE'].includes(request.method)) {
          throw new S3Failure(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {
            Method: request.method,
            ResourceType: request.key === '' ? 'BUCKET' : 'OBJECT',
          });
        }
        throw new S3Failure(
          501,
          'NotImplemented',
          'A header or query you provided implies functionality that is not implemented (in the sandbox)',
        );
    }
  }

  /**
   * Who signed the request, refusing it the way S3 does when the signature, key, token, date or region
   * is wrong. The signature is recomputed by @smithy/signature-v4 from the request as received.
   */
  private async authenticate(request: S3Request, bucket: BucketConfig | undefined, notes: RequestNotes): Promise<Authenticated> {
    const authorization = request.headers.authorization;
    const presigned = request.query.has('X-Amz-Algorithm') || request.query.has('X-Amz-Signature') || request.query.has('X-Amz-Credential');
    if (authorization !== undefined && presigned) {
      throw new S3Failure(
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
      );
    }
    if (authorization === undefined && !presigned) {
      // Every sandbox bucket is private, as a bucket for uploads should be.
      if (bucket === undefined) {
        throw new S3Failure(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: request.bucket });
      }
      throw new S3Failure(403, 'AccessDenied', 'Access Denied');
    }
    const signed = presigned
      ? parsePresignedQuery(request.query)
      : { ...parseAuthorizationHeader(authorization ?? ''), amzDate: headerValue(request.headers, 'x-amz-date') ?? '' };
    notes.accessKeyId = signed.accessKeyId;
    if (bucket === undefined) {
      throw new S3Failure(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: request.bucket });
    }
    if (signed.region !== bucket.region) {
      const detail = `the region '${signed.region}' is wrong; expecting '${bucket.region}'`;
      throw presigned
        ? new S3Failure(
            400,
            'AuthorizationQueryParametersError',
            `Error parsing the X-Amz-Credential parameter; ${detail}`,
            { Region: bucket.region },
            { 'x-amz-bucket-region': bucket.region },
          )
        : new S3Failure(
            400,
            'AuthorizationHeaderMalformed',
            `The authorization header is malformed; ${detail}`,
            { Region: bucket.region },
            { 'x-amz-bucket-region': bucket.region },
          );
    }
    const credential = credentialsByService[request.service].get(signed.accessKeyId);
    if (credential === undefined) {
      throw new S3Failure(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
        AWSAccessKeyId: signed.accessKeyId,
      });
    }
    const sessionToken = presigned
      ? (request.query.get('X-Amz-Security-Token') ?? undefined)
      : headerValue(request.headers, 'x-amz-security-token');
    if (credential.sessionToken === undefined) {
      if (sessionToken !== undefined) {
        throw new S3Failure(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
      }
    } else {
      if (sessionToken === undefined) {
        // Temporary key ids exist only together with their token.
        throw new S3Failure(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
          AWSAccessKeyId: signed.accessKeyId,
        });
      }
      if (!constantTimeEqual(sessionToken, credential.sessionToken)) {
        throw new S3Failure(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
      }
      if (credential.expired || this.sessionsExpired) {
        throw new S3Failure(400, 'ExpiredToken', 'The provided token has expired.', { 'Token-0': sessionToken });
      }
    }

    const signingDate = parseAmzDate(signed.amzDate);
    if (signingDate === undefined) {
      throw presigned
        ? new S3Failure(400, 'AuthorizationQueryParametersError', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        : new S3Failure(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    }
    if (signed.scopeDate !== signed.amzDate.slice(0, 8)) {
      const message = `Invalid credential date "${signed.scopeDate}". This date is not the same as X-Amz-Date: "${signed.amzDate.slice(0, 8)}".`;
      throw presigned
        ? new S3Failure(400, 'AuthorizationQueryParametersError', message)
        : new S3Failure(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`);
    }
    const now = this.now();
    if (presigned) {
      const expiresIn = signed.expiresSeconds ?? 0;
      const expiresAt = signingDate.getTime() + expiresIn * 1000;
      if (now > expiresAt) {
        throw new S3Failure(403, 'AccessDenied', 'Request has expired', {
          'X-Amz-Expires': String(expiresIn),
          Expires: isoSeconds(expiresAt),
          ServerTime: isoSeconds(now),
        });
      }
      if (signingDate.getTime() - now > MAX_CLOCK_SKEW_MS) {
        throw new S3Failure(403, 'AccessDenied', 'Request is not valid yet');
      }
    } else if (Math.abs(now - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
      throw new S3Failure(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        RequestTime: signed.amzDate,
        ServerTime: isoSeconds(now),
        MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS),
      });
    }

    const payloadHash = presigned
      ? (headerValue(request.headers, 'x-amz-content-sha256') ?? UNSIGNED_PAYLOAD)
      : headerValue(request.headers, 'x-amz-content-sha256');
    if (payloadHash === undefined) {
      throw new S3Failure(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    }
    if (payloadHash.startsWith('STREAMING-')) {
      throw new S3Failure(501, 'NotImplemented', `The sandbox does not accept aws-chunked uploads (${payloadHash})`);
    }
    if (payloadHash !== UNSIGNED_PAYLOAD && !/^[0-9a-f]{64}$/.test(payloadHash)) {
      throw new S3Failure(
        400,
        'InvalidArgument',
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.',
      );
    }

    const signedHeaders = signed.signedHeaders;
    if (!signedHeaders.includes('host')) {
      throw presigned
        ? new S3Failure(400, 'AuthorizationQueryParametersError', 'X-Amz-SignedHeaders must include host')
        : new S3Failure(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; SignedHeaders must include host');
    }
    const unsigned = Object.keys(request.headers).filter(
      (name) =>
        name.startsWith('x-amz-') &&
        !signedHeaders.includes(name) &&
        !(presigned && name === 'x-amz-content-sha256' && payloadHash === UNSIGNED_PAYLOAD),
    );
    if (unsigned.length > 0) {
      throw new S3Failure(403, 'AccessDenied', 'There were headers present in the request which were not signed', {
        HeadersNotSigned: unsigned.join(', '),
      });
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = headerValue(request.headers, name);
      if (value === undefined) {
        throw signatureMismatch(signed.accessKeyId, signed.signature);
      }
      headers[name] = value;
    }

    const signer = new SignatureV4({
      credentials: { accessKeyId: signed.accessKeyId, secretAccessKey: credential.secretAccessKey, sessionToken: credential.sessionToken },
      region: bucket.region,
      service: 's3',
      sha256: Hash.bind(null, 'sha256'),
      // S3 signs the path as sent, encoded once; the canonical form is rebuilt from the decoded path below.
      uriEscapePath: false,
      applyChecksum: false,
    });
    const base = {
      method: request.method,
      protocol: 'http:',
      hostname: (headers.host ?? '').replace(/:\d+$/, ''),
      path: canonicalPathOf(request.pathname),
    };
    let computedSignature: string | undefined;
    let computedSignedHeaders: string | undefined;
    if (presigned) {
      const query = queryRecordOf(request.query, (name) => !presignParameters.has(name));
      const headerNames = new Set(signedHeaders);
      const presignHeaders = { ...headers };
      // The canonical request of a presigned URL ends with UNSIGNED-PAYLOAD unless a signed header says otherwise.
      if (!headerNames.has('x-amz-content-sha256')) {
        presignHeaders['x-amz-content-sha256'] = payloadHash;
      }
      const result = await signer.presign(
        { ...base, query, headers: presignHeaders },
        {
          signingDate,
          expiresIn: signed.expiresSeconds ?? 0,
          signingRegion: bucket.region,
          signingService: 's3',
          signableHeaders: headerNames,
          unsignableHeaders: headerNames.has('x-amz-content-sha256') ? undefined : new Set(['x-amz-content-sha256']),
          unhoistableHeaders: new Set(Object.keys(presignHeaders).filter((name) => name.startsWith('x-amz-'))),
        },
      );
      computedSignature = firstOf(result.query?.['X-Amz-Signature']);
      computedSignedHeaders = firstOf(result.query?.['X-Amz-SignedHeaders']);
    } else {
      const result = await signer.sign(
        { ...base, query: queryRecordOf(request.query, () => true), headers },
        { signingDate, signingRegion: bucket.region, signingService: 's3', signableHeaders: new Set(signedHeaders) },
      );
      const match = /SignedHeaders=([^,\s]+), Signature=([0-9a-f]+)$/.exec(result.headers.authorization ?? '');
      computedSignedHeaders = match?.[1];
      computedSignature = match?.[2];
    }
    if (
      computedSignature === undefined ||
      computedSignedHeaders !== signedHeaders.join(';') ||
      !constantTimeEqual(computedSignature, signed.signature)
    ) {
      throw signatureMismatch(signed.accessKeyId, signed.signature);
    }
    return { accessKeyId: signed.accessKeyId, payloadHash };
  }

  private putObject(request: S3Request, body: Buffer, headers: Record<string, string>): StorageReply {
    if (request.key === '') {
      throw new S3Failure(400, 'InvalidRequest', 'An object key is required');
    }
    const object: StoredObject = {
      ...describeContent(body),
      contentType: headerValue(request.headers, 'content-type') ?? 'binary/octet-stream',
      metadata: metadataOf(request.headers),
      lastModified: this.now(),
      seeded: false,
    };
    this.store.set(storeKeyOf(request.service, request.bucket, request.key), object);
    return emptyReply(200, { ...headers, ETag: object.etag });
  }

  private getObject(request: S3Request, headers: Record<string, string>): StorageReply {
    const object = this.store.get(storeKeyOf(request.service, request.bucket, request.key));
    if (object === undefined) {
      throw new S3Failure(404, 'NoSuchKey', 'The specified key does not exist.', { Key: request.key });
    }
    const metadataHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(object.metadata)) {
      metadataHeaders[`x-amz-meta-${name}`] = value;
    }
    return {
      status: 200,
      headers: {
        ...headers,
        ...metadataHeaders,
        'Content-Type': object.contentType,
        'Content-Length': object.content.length,
        ETag: object.etag,
        'Last-Modified': new Date(object.lastModified).toUTCString(),
        'Accept-Ranges': 'bytes',
        // Lets a webview fetch() an input preview, as a bucket with a CORS rule would.
        'Access-Control-Allow-Origin': '*',
      },
      body: object.content,
      outcome: 'ok',
    };
  }

  private createMultipartUpload(request: S3Request, headers: Record<string, string>): StorageReply {
    if (request.key === '') {
      throw new S3Failure(400, 'InvalidRequest', 'An object key is required');
    }
    const uploadId = randomBytes(24).toString('base64url');
    this.uploads.set(uploadId, {
      service: request.service,
      bucket: request.bucket,
      key: request.key,
      contentType: headerValue(request.headers, 'content-type') ?? 'binary/octet-stream',
      metadata: metadataOf(request.headers),
      parts: new Map(),
    });
    return xmlReply(
      200,
      `<InitiateMultipartUploadResult xmlns="${S3_XMLNS}"><Bucket>${escapeXml(request.bucket)}</Bucket><Key>${escapeXml(request.key)}</Key><UploadId>${escapeXml(uploadId)}</UploadId></InitiateMultipartUploadResult>`,
      headers,
    );
  }

  private uploadOf(request: S3Request): MultipartUpload {
    const uploadId = request.query.get('uploadId') ?? '';
    const upload = this.uploads.get(uploadId);
    if (upload === undefined || upload.service !== request.service || upload.bucket !== request.bucket || upload.key !== request.key) {
      throw new S3Failure(
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        {
          UploadId: uploadId,
        },
      );
    }
    return upload;
  }

  private uploadPart(request: S3Request, body: Buffer, headers: Record<string, string>): StorageReply {
    const partText = request.query.get('partNumber') ?? '';
    const partNumber = Number(partText);
    if (!/^\d+$/.test(partText) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new S3Failure(400, 'InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
        ArgumentName: 'partNumber',
        ArgumentValue: partText,
      });
    }
    const upload = this.uploadOf(request);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    upload.parts.set(partNumber, { content: Buffer.from(body), etag });
    return emptyReply(200, { ...headers, ETag: etag });
  }

  private completeMultipartUpload(request: S3Request, body: Buffer, headers: Record<string, string>): StorageReply {
    const upload = this.uploadOf(request);
    const listed = parseCompleteBody(body.toString('utf8'));
    const chosen: UploadPart[] = [];
    let previous = 0;
    for (const [index, entry] of listed.entries()) {
      if (entry.partNumber <= previous) {
        throw new S3Failure(
          400,
          'InvalidPartOrder',
          'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
        );
      }
      previous = entry.partNumber;
      const part = upload.parts.get(entry.partNumber);
      if (part === undefined || normaliseEtag(entry.etag) !== normaliseEtag(part.etag)) {
        throw new S3Failure(
          400,
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          {
            UploadId: request.query.get('uploadId') ?? '',
            PartNumber: String(entry.partNumber),
            ETag: entry.etag,
          },
        );
      }
      if (index < listed.length - 1 && part.content.length < this.minimumPartBytes) {
        throw new S3Failure(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
          ProposedSize: String(part.content.length),
          MinSizeAllowed: String(this.minimumPartBytes),
          PartNumber: String(entry.partNumber),
        });
      }
      chosen.push(part);
    }
    const content = Buffer.concat(chosen.map((part) => part.content));
    const digests = Buffer.concat(chosen.map((part) => Buffer.from(normaliseEtag(part.etag), 'hex')));
    const etag = `"${createHash('md5').update(digests).digest('hex')}-${chosen.length}"`;
    this.uploads.delete(request.query.get('uploadId') ?? '');
    this.store.set(storeKeyOf(request.service, request.bucket, request.key), {
      content,
      etag,
      sha256: createHash('sha256').update(content).digest('hex'),
      contentType: upload.contentType,
      metadata: upload.metadata,
      lastModified: this.now(),
      seeded: false,
    });
    const location = `${this.host.origin()}/${request.service}/${encodeKey(request.bucket)}/${encodeKey(request.key)}`;
    return xmlReply(
      200,
      `<CompleteMultipartUploadResult xmlns="${S3_XMLNS}"><Location>${escapeXml(location)}</Location><Bucket>${escapeXml(request.bucket)}</Bucket><Key>${escapeXml(request.key)}</Key><ETag>${escapeXml(etag)}</ETag></CompleteMultipartUploadResult>`,
      headers,
    );
  }

  // ---------------------------------------------------------------- ImageKit

  private async imageKit(
    method: string,
    pathname: string,
    request: http.IncomingMessage,
    body: Buffer,
    notes: RequestNotes,
  ): Promise<StorageReply> {
    if (pathname === IMAGEKIT_UPLOAD_PATH) {
      if (method !== 'POST') {
        return imageKitError(405, `${method} is not allowed here; use POST`, 'MethodNotAllowed');
      }
      return this.imageKitUpload(request, body, notes);
    }
    const filePrefix = `/imagekit/${SANDBOX_IMAGEKIT_ID}/`;
    if (pathname.startsWith(filePrefix) && (method === 'GET' || method === 'HEAD')) {
      let filePath: string;
      try {
        filePath = `/${decodeURIComponent(pathname.slice(filePrefix.length))}`;
      } catch {
        return textReply(400, 'Bad file path', 'InvalidPath');
      }
      const object = this.store.get(storeKeyOf('imagekit', SANDBOX_IMAGEKIT_ID, filePath));
      if (object === undefined) {
        return textReply(404, 'File not found', 'NotFound');
      }
      return {
        status: 200,
        headers: {
          'Content-Type': object.contentType,
          'Content-Length': object.content.length,
          ETag: object.etag,
          'Cache-Control': 'public, max-age=31536000',
          'Access-Control-Allow-Origin': '*',
        },
        body: object.content,
        outcome: 'ok',
      };
    }
    return textReply(404, `No such ImageKit endpoint: ${method} ${pathname}`, 'NotFound');
  }

  private async imageKitUpload(request: http.IncomingMessage, body: Buffer, notes: RequestNotes): Promise<StorageReply> {
    const authorization = request.headers.authorization;
    if (authorization === undefined || authorization.trim() === '') {
      return imageKitError(401, 'Your request does not contain private API key.', 'MissingKey');
    }
    const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization);
    const decoded = basic === null ? '' : Buffer.from(basic[1], 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    const privateKey = separator < 0 ? decoded : decoded.slice(0, separator);
    notes.accessKeyId = privateKey.startsWith('private_') ? 'private_…' : undefined;
    if (basic === null || !constantTimeEqual(privateKey, SANDBOX_IMAGEKIT_PRIVATE_KEY)) {
      return imageKitError(401, 'Your account cannot be authenticated.', 'InvalidKey');
    }
    const contentType = headerValue(request.headers, 'content-type') ?? '';
    if (!/^multipart\/form-data\s*;/i.test(contentType)) {
      return imageKitError(400, 'Invalid request: the body must be multipart/form-data', 'InvalidBody');
    }
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    } catch (error) {
      return imageKitError(400, `Invalid multipart body: ${error instanceof Error ? error.message : String(error)}`, 'InvalidBody');
    }
    const file = form.get('file');
    if (file === null) {
      return imageKitError(400, 'Missing file parameter for upload', 'MissingFile');
    }
    const requestedName = form.get('fileName');
    if (typeof requestedName !== 'string' || requestedName.trim() === '') {
      return imageKitError(400, 'Missing fileName parameter for upload', 'MissingFileName');
    }
    let content: Buffer;
    let declaredType: string | undefined;
    if (typeof file === 'string') {
      if (/^https?:\/\//i.test(file)) {
        return imageKitError(400, 'The sandbox does not fetch remote URLs for upload; send the file itself', 'RemoteUrl');
      }
      content = Buffer.from(file.replace(/^data:[^,]*;base64,/, ''), 'base64');
    } else {
      content = Buffer.from(await file.arrayBuffer());
      declaredType = file.type === '' ? undefined : file.type;
    }
    if (content.length === 0) {
      return imageKitError(400, 'The file is empty', 'EmptyFile');
    }
    const folder = normaliseFolder(form.get('folder'));
    if (folder === undefined) {
      return imageKitError(400, 'Invalid folder: segments must not be "." or ".."', 'InvalidFolder');
    }
    let name = requestedName.replace(/[^A-Za-z0-9._-]/g, '_');
    if (form.get('useUniqueFileName') !== 'false') {
      const dot = name.lastIndexOf('.');
      const suffix = `_${randomBytes(5).toString('hex')}`;
      name = dot <= 0 ? `${name}${suffix}` : `${name.slice(0, dot)}${suffix}${name.slice(dot)}`;
    }
    const filePath = `${folder}${name}`;
    const mime = sniffContentType(content) ?? declaredType ?? 'application/octet-stream';
    const object: StoredObject = {
      ...describeContent(content),
      contentType: mime,
      metadata: {},
      lastModified: this.now(),
      seeded: false,
    };
    this.store.set(storeKeyOf('imagekit', SANDBOX_IMAGEKIT_ID, filePath), object);
    const url = `${this.host.origin()}/imagekit/${SANDBOX_IMAGEKIT_ID}${filePath.split('/').map(encodeURIComponent).join('/')}`;
    const fileId = createHash('sha256').update(filePath).digest('hex').slice(0, 24);
    return jsonReply(200, {
      fileId,
      name,
      size: content.length,
      versionInfo: { id: fileId, name: 'Version 1' },
      filePath,
      url,
      fileType: mime.startsWith('image/') ? 'image' : 'non-image',
      thumbnailUrl: url,
      AITags: null,
    });
  }
}

// ------------------------------------------------------------------ run inputs

/**
 * What FLORA does with an input URL when a run starts: GET it. Used by the sandbox for inputs on its own
 * origin (a real request to itself, verified like any other); returns why the input is unusable, or
 * undefined when it is fine.
 */
export function fetchInput(url: string, type: 'imageUrl' | 'videoUrl', timeoutMs = 15_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (reason: string | undefined): void => {
      if (!settled) {
        settled = true;
        resolve(reason);
      }
    };
    let request: http.ClientRequest;
    try {
      request = http.request(url, {
        method: 'GET',
        agent: false,
        timeout: timeoutMs,
        headers: { 'user-agent': 'flora-sandbox-input-fetch/1' },
      });
    } catch (error) {
      finish(`could not be requested (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    request.on('timeout', () => {
      request.destroy();
      finish(`did not answer within ${timeoutMs} ms`);
    });
    request.on('error', (error) => finish(`could not be fetched (${error.message})`));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (chunks.length < 64) {
          chunks.push(chunk);
        }
      });
      response.on('error', (error) => finish(`could not be read (${error.message})`));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status !== 200) {
          finish(
            `answered HTTP ${status}${errorSummaryOf(
              Buffer.concat(chunks)
                .subarray(0, 64 * 1024)
                .toString('utf8'),
            )}`,
          );
          return;
        }
        const contentType = (response.headers['content-type'] ?? '').toLowerCase();
        const wanted = type === 'imageUrl' ? 'image/' : 'video/';
        if (!contentType.startsWith(wanted)) {
          finish(`is served as "${contentType || 'no content type'}", not ${type === 'imageUrl' ? 'an image' : 'a video'}`);
          return;
        }
        finish(size === 0 ? 'is empty' : undefined);
      });
    });
    request.end();
  });
}

function errorSummaryOf(text: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  if (code !== undefined) {
    return ` (${code}${message === undefined ? '' : `: ${unescapeXml(message)}`})`;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) {
      const record = parsed as { message?: unknown; error?: { message?: unknown } };
      const message =
        typeof record.message === 'string' ? record.message : typeof record.error?.message === 'string' ? record.error.message : undefined;
      if (message !== undefined) {
        return ` (${message})`;
      }
    }
  } catch {
    // Not JSON: the status alone says enough.
  }
  return '';
}

// ------------------------------------------------------------------ parsing

interface SignedParts {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  expiresSeconds: number | undefined;
}

function parseCredential(
  credential: string,
  malformed: (detail: string) => S3Failure,
): Pick<SignedParts, 'accessKeyId' | 'scopeDate' | 'region'> {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[0] === '') {
    throw malformed(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"`);
  }
  const [accessKeyId, scopeDate, region, service, terminator] = parts;
  if (!/^\d{8}$/.test(scopeDate)) {
    throw malformed(`incorrect date format "${scopeDate}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  if (service !== 's3') {
    throw malformed(`incorrect service "${service}". This endpoint belongs to "s3".`);
  }
  if (terminator !== 'aws4_request') {
    throw malformed(`incorrect terminal "${terminator}". This endpoint uses "aws4_request".`);
  }
  return { accessKeyId, scopeDate, region };
}

function parseAuthorizationHeader(header: string): SignedParts {
  const malformed = (detail: string): S3Failure =>
    new S3Failure(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`);
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(header.trim());
  if (match === null) {
    if (/^AWS\s/.test(header)) {
      throw new S3Failure(
        400,
        'InvalidRequest',
        'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
      );
    }
    throw new S3Failure(400, 'InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: header.split(/\s/, 1)[0] ?? '',
    });
  }
  const fields = new Map<string, string>();
  for (const piece of match[1].split(',')) {
    const trimmed = piece.trim();
    const equals = trimmed.indexOf('=');
    if (equals > 0) {
      fields.set(trimmed.slice(0, equals), trimmed.slice(equals + 1));
    }
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('it must contain Credential, SignedHeaders and Signature');
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    throw malformed('the Signature must be 64 lowercase hexadecimal digits');
  }
  return {
    ...parseCredential(credential, malformed),
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate: '',
    expiresSeconds: undefined,
  };
}

function parsePresignedQuery(query: URLSearchParams): SignedParts {
  const malformed = (detail: string): S3Failure =>
    new S3Failure(400, 'AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${detail}`);
  const missing = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'].filter(
    (name) => !query.has(name),
  );
  if (missing.length > 0) {
    throw new S3Failure(
      400,
      'AuthorizationQueryParametersError',
      `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters (missing: ${missing.join(', ')}).`,
    );
  }
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    throw new S3Failure(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const expiresText = query.get('X-Amz-Expires') ?? '';
  const expiresSeconds = Number(expiresText);
  if (!/^\d+$/.test(expiresText) || expiresSeconds < 1) {
    throw new S3Failure(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  }
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new S3Failure(
      400,
      'AuthorizationQueryParametersError',
      `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}`,
    );
  }
  const signature = query.get('X-Amz-Signature') ?? '';
  return {
    ...parseCredential(query.get('X-Amz-Credential') ?? '', malformed),
    signedHeaders: (query.get('X-Amz-SignedHeaders') ?? '').split(';'),
    signature,
    amzDate: query.get('X-Amz-Date') ?? '',
    expiresSeconds,
  };
}

function parseS3Path(
  service: 's3' | 'gcs',
  method: string,
  pathname: string,
  query: URLSearchParams,
  headers: http.IncomingHttpHeaders,
): S3Request {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname.slice(service.length + 2));
  } catch {
    throw new S3Failure(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
  const slash = decoded.indexOf('/');
  const bucket = slash < 0 ? decoded : decoded.slice(0, slash);
  const key = slash < 0 ? '' : decoded.slice(slash + 1);
  return { service, method, pathname, query, bucket, key, headers };
}

function s3OperationOf(method: string, pathname: string, query: URLSearchParams, headers: http.IncomingHttpHeaders): StorageOperation {
  const rest = pathname.replace(/^\/(s3|gcs)\//, '');
  const slash = rest.indexOf('/');
  const hasKey = slash >= 0 && slash < rest.length - 1;
  if (!hasKey) {
    return method === 'HEAD' && rest !== '' ? 'HeadBucket' : 'Unsupported';
  }
  switch (method) {
    case 'PUT':
      if (headers['x-amz-copy-source'] !== undefined) {
        return 'Unsupported';
      }
      return query.has('partNumber') || query.has('uploadId') ? 'UploadPart' : 'PutObject';
    case 'GET':
      return query.has('uploadId') ? 'Unsupported' : 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'POST':
      return query.has('uploads') ? 'CreateMultipartUpload' : query.has('uploadId') ? 'CompleteMultipartUpload' : 'Unsupported';
    case 'DELETE':
      return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    default:
      return 'Unsupported';
  }
}

function imageKitOperationOf(method: string, pathname: string): StorageOperation {
  if (pathname === IMAGEKIT_UPLOAD_PATH) {
    return method === 'POST' ? 'ImageKitUpload' : 'Unsupported';
  }
  return method === 'GET' || method === 'HEAD' ? 'ImageKitFile' : 'Unsupported';
}

function authKindOf(authorization: string | undefined, query: URLSearchParams): StorageRequest['auth'] {
  if (query.has('X-Amz-Signature') || query.has('X-Amz-Algorithm')) {
    return 'query';
  }
  if (authorization === undefined) {
    return 'none';
  }
  if (authorization.startsWith('AWS4-HMAC-SHA256')) {
    return 'header';
  }
  return /^Basic\s/i.test(authorization) ? 'basic' : 'other';
}

/** `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"…"</ETag></Part>…`. */
function parseCompleteBody(xml: string): { partNumber: number; etag: string }[] {
  if (!/<CompleteMultipartUpload[\s>]/.test(xml) || !/<\/CompleteMultipartUpload>\s*$/.test(xml)) {
    throw new S3Failure(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  }
  const parts: { partNumber: number; etag: string }[] = [];
  for (const match of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const partNumber = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(match[1])?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(match[1])?.[1];
    if (partNumber === undefined || etag === undefined) {
      throw new S3Failure(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    parts.push({ partNumber: Number(partNumber), etag: unescapeXml(etag.trim()) });
  }
  if (parts.length === 0) {
    throw new S3Failure(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  }
  return parts;
}

function normaliseEtag(etag: string): string {
  return etag.replace(/^"|"$/g, '').toLowerCase();
}

function normaliseFolder(value: ReturnType<FormData['get']>): string | undefined {
  const text = typeof value === 'string' ? value : '/';
  const segments = text.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return undefined;
  }
  return segments.length === 0 ? '/' : `/${segments.map((segment) => segment.replace(/[^A-Za-z0-9._-]/g, '_')).join('/')}/`;
}

/** x-amz-date: `yyyyMMdd'T'HHmmss'Z'`. */
function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) {
    return undefined;
  }
  const [, year, month, day, hour, minute, second] = match.map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** S3's canonical URI: the decoded path, every byte but the unreserved ones and '/' percent-encoded. */
function canonicalPathOf(pathname: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new S3Failure(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
  return encodeKey(decoded);
}

function encodeKey(value: string): string {
  return value
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

function queryRecordOf(query: URLSearchParams, keep: (name: string) => boolean): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of query) {
    if (name === '' || !keep(name)) {
      continue;
    }
    const existing = record[name];
    record[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return record;
}

function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) {
    return undefined;
  }
  return Array.isArray(value) ? value.join(',') : value;
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headerValue(headers, name);
    if (value !== undefined) {
      flat[name] = value;
    }
  }
  return flat;
}

function metadataOf(headers: http.IncomingHttpHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-meta-')) {
      metadata[name.slice('x-amz-meta-'.length)] = headerValue(headers, name) ?? '';
    }
  }
  return metadata;
}

function checkContentMd5(headers: http.IncomingHttpHeaders, body: Buffer): void {
  const declared = headerValue(headers, 'content-md5');
  if (declared !== undefined && declared !== createHash('md5').update(body).digest('base64')) {
    throw new S3Failure(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
}

function firstOf(value: string | string[] | null | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : (value ?? undefined);
}

function constantTimeEqual(left: string, right: string): boolean {
  const leftBytes = Buffer.from(left, 'utf8');
  const rightBytes = Buffer.from(right, 'utf8');
  // Comparing equal-length digests keeps the time independent of where the strings differ.
  const leftDigest = createHash('sha256').update(leftBytes).digest();
  const rightDigest = createHash('sha256').update(rightBytes).digest();
  return timingSafeEqual(leftDigest, rightDigest) && leftBytes.length === rightBytes.length;
}

function signatureMismatch(accessKeyId: string, provided: string): S3Failure {
  return new S3Failure(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    { AWSAccessKeyId: accessKeyId, SignatureProvided: provided },
  );
}

function describeContent(content: Buffer): Pick<StoredObject, 'content' | 'etag' | 'sha256'> {
  return {
    content: Buffer.from(content),
    etag: `"${createHash('md5').update(content).digest('hex')}"`,
    sha256: createHash('sha256').update(content).digest('hex'),
  };
}

/** The types ImageKit recognises by content, which is what it does rather than trusting the name. */
function sniffContentType(content: Buffer): string | undefined {
  const starts = (bytes: number[], offset = 0): boolean => bytes.every((byte, index) => content[offset + index] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm';
  if (starts([0x66, 0x74, 0x79, 0x70], 4)) return 'video/mp4';
  return undefined;
}

function storeKeyOf(service: StorageService, bucket: string, key: string): string {
  return `${service}\u0000${bucket}\u0000${key}`;
}

function splitStoreKey(storeKey: string): [StorageService, string, string] {
  const [service, bucket, key] = storeKey.split('\u0000');
  return [service as StorageService, bucket, key];
}

function isoSeconds(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ------------------------------------------------------------------ replies

/** A request's body, or 'tooLarge' past `limit` bytes (the API's and the storage's one reader). */
export function readBody(request: http.IncomingMessage, limit: number): Promise<Buffer | 'tooLarge'> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > limit) {
    return Promise.resolve('tooLarge');
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) {
        chunks.push(chunk);
      }
    });
    request.on('end', () => resolve(tooLarge ? 'tooLarge' : Buffer.concat(chunks)));
    // An aborted request leaves nobody to answer; the reply is dropped.
    request.on('error', () => resolve(Buffer.alloc(0)));
  });
}

function sendReply(response: http.ServerResponse, reply: StorageReply, head: boolean): void {
  if (response.headersSent || response.destroyed) {
    return;
  }
  response.writeHead(reply.status, reply.headers);
  response.end(head ? undefined : reply.body);
}

function requestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function unescapeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, '&');
}

function xmlReply(status: number, xml: string, headers: Record<string, string> = {}, outcome = 'ok'): StorageReply {
  const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`, 'utf8');
  return {
    status,
    headers: { ...headers, 'Content-Type': 'application/xml', 'Content-Length': body.length, 'x-amz-request-id': requestId() },
    body,
    outcome,
  };
}

function emptyReply(status: number, headers: Record<string, string>): StorageReply {
  return { status, headers: { ...headers, 'Content-Length': 0, 'x-amz-request-id': requestId() }, body: Buffer.alloc(0), outcome: 'ok' };
}

function s3ErrorReply(failure: S3Failure, resource: string): StorageReply {
  const extra = Object.entries(failure.extra)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return xmlReply(
    failure.status,
    `<Error><Code>${escapeXml(failure.code)}</Code><Message>${escapeXml(failure.message)}</Message>${extra}<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId()}</RequestId></Error>`,
    failure.headers,
    failure.code,
  );
}

function jsonReply(status: number, value: unknown, outcome = 'ok'): StorageReply {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length }, body, outcome };
}

function imageKitError(status: number, message: string, outcome: string): StorageReply {
  return jsonReply(status, { message, help: IMAGEKIT_HELP }, outcome);
}

function textReply(status: number, text: string, outcome: string): StorageReply {
  const body = Buffer.from(text, 'utf8');
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length }, body, outcome };
}

const s3CodeByStatus: Record<number, string> = {
  500: 'InternalError',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
};

function faultReply(
  fault: Exclude<StorageFault, { kind: 'dropBefore' | 'dropAfter' | 'hang' | 'delay' }>,
  service: StorageService,
  resource: string,
): StorageReply {
  const label = `fault ${fault.kind}`;
  switch (fault.kind) {
    case 'status': {
      if (fault.html === true) {
        const reason = http.STATUS_CODES[fault.status] ?? 'Error';
        const html = Buffer.from(
          `<!DOCTYPE html>\n<html><head><title>${fault.status} ${reason}</title></head><body><h1>${fault.status} ${reason}</h1></body></html>\n`,
        );
        return {
          status: fault.status,
          headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': html.length },
          body: html,
          outcome: label,
        };
      }
      if (service === 'imagekit') {
        return imageKitError(fault.status, `${http.STATUS_CODES[fault.status] ?? 'Error'} (sandbox fault)`, label);
      }
      const code =
        s3CodeByStatus[fault.status] ??
        (fault.status >= 500 ? 'InternalError' : (http.STATUS_CODES[fault.status] ?? 'Error').replace(/\s+/g, ''));
      return {
        ...s3ErrorReply(new S3Failure(fault.status, code, 'We encountered an internal error. Please try again. (sandbox fault)'), resource),
        outcome: label,
      };
    }
    case 'rateLimit': {
      const reply =
        service === 'imagekit'
          ? imageKitError(429, 'Too many requests (sandbox fault)', label)
          : s3ErrorReply(new S3Failure(503, 'SlowDown', 'Please reduce your request rate. (sandbox fault)'), resource);
      return { ...reply, headers: { ...reply.headers, 'Retry-After': String(fault.retryAfterSeconds) }, outcome: label };
    }
    case 'malformed': {
      const body = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult><Bucket>trunc', 'utf8');
      return { status: 200, headers: { 'Content-Type': 'application/xml', 'Content-Length': body.length }, body, outcome: label };
    }
    case 'wrongShape':
      return service === 'imagekit'
        ? jsonReply(200, { status: 42 }, label)
        : xmlReply(200, '<Unexpected><Status>42</Status></Unexpected>', {}, label);
  }
}
