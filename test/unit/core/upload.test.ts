/**
 * The upload client (src/core/upload) against the sandbox's storage, which recomputes every SigV4
 * signature with @smithy/signature-v4 (not the aws4fetch the client signs with), checks every
 * x-amz-content-sha256 against the body, and refuses expired or tampered presigned URLs. Loopback only;
 * time is driven through the `now` options (the client's and the storage's), never slept through.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { request, type Dispatcher } from 'undici';

import { createDispatcher } from '../../../src/core/dispatcher';
import { FloraCancelledError, UploadError, type UploadFailure } from '../../../src/core/errors';
import { checkMediaUrl } from '../../../src/core/inputs';
import { englishText } from '../../../src/core/messages';
import type { LogLevel } from '../../../src/core/model';
import {
  credentialsError,
  describeLocalFile,
  MAX_PRESIGNED_SECONDS,
  objectKeyFor,
  objectUrl,
  presignedGetUrl,
  uploadToImageKit,
  uploadToS3,
  type GcsTarget,
  type ImageKitTarget,
  type S3Target,
  type StorageCredentials,
  type UploadContext,
  type UploadFile,
} from '../../../src/core/upload';
import { UnreadableXmlError, xmlValue } from '../../../src/core/upload/s3';
import { signRequest } from '../../../src/core/upload/signer';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import {
  SANDBOX_GCS_BUCKET,
  SANDBOX_GCS_HMAC,
  SANDBOX_GCS_READONLY_BUCKET,
  SANDBOX_IMAGEKIT_PRIVATE_KEY,
  SANDBOX_S3_BUCKET,
  SANDBOX_S3_CREDENTIALS,
  SANDBOX_S3_EU_BUCKET,
  SANDBOX_S3_EU_REGION,
  SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS,
  SANDBOX_S3_READONLY_BUCKET,
  SANDBOX_S3_REGION,
  SANDBOX_S3_SESSION_CREDENTIALS,
  storageEndpoints,
  type StorageRequest,
} from '../../sandbox/storage';
import { closedPort, sendJson, startLoopbackServer } from './helpers';
import { HEADS } from './mediaHeads';

const MiB = 1024 * 1024;
const HOUR_SECONDS = 3600;
/** Every secret the tests hand the client: none may reach a log line. */
const SECRETS = [
  SANDBOX_S3_CREDENTIALS.secretAccessKey,
  SANDBOX_S3_SESSION_CREDENTIALS.secretAccessKey,
  SANDBOX_S3_SESSION_CREDENTIALS.sessionToken,
  SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS.sessionToken,
  SANDBOX_GCS_HMAC.secretAccessKey,
  SANDBOX_IMAGEKIT_PRIVATE_KEY,
  Buffer.from(`${SANDBOX_IMAGEKIT_PRIVATE_KEY}:`).toString('base64'),
];

describe('core/upload against the sandbox storage', function () {
  this.timeout(60_000);
  let sandbox: Sandbox;
  let dispatcher: Dispatcher;
  let folder: string;
  /** The one clock of the client and the storage: tests move it, nothing sleeps. */
  let clock = Date.UTC(2026, 11, 1, 12, 0, 0);
  const logLines: string[] = [];
  let sleeps: number[] = [];

  before(async () => {
    sandbox = await startSandbox({ storage: { now: () => clock } });
    dispatcher = createDispatcher({ direct: true });
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-upload-'));
  });
  after(async () => {
    await dispatcher.close();
    await sandbox.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });
  beforeEach(() => {
    sandbox.storage.clear();
    sandbox.faults.clear();
    sleeps = [];
  });
  afterEach(() => {
    for (const line of logLines) {
      for (const secret of SECRETS) assert.ok(!line.includes(secret), `a secret reached the log: ${line}`);
      assert.ok(!/X-Amz-Signature|Signature=|X-Amz-Credential|authorization/i.test(line), `a signature reached the log: ${line}`);
    }
  });

  function context(overrides: Partial<UploadContext> = {}): UploadContext {
    return {
      dispatcher,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      log: (level: LogLevel, line: string) => logLines.push(`${level} ${line}`),
      ...overrides,
    };
  }

  function s3Target(bucket: string = SANDBOX_S3_BUCKET, region: string = SANDBOX_S3_REGION): S3Target {
    return { kind: 's3', bucket, region, prefix: 'flora/', endpoint: storageEndpoints(sandbox.url).s3 };
  }

  function gcsTarget(bucket: string = SANDBOX_GCS_BUCKET): GcsTarget {
    return { kind: 'gcs', bucket, prefix: 'inputs', endpoint: storageEndpoints(sandbox.url).gcs };
  }

  const keys =
    (credentials: StorageCredentials = SANDBOX_S3_CREDENTIALS) =>
    async () =>
      credentials;

  async function localFile(name: string, content: Buffer, type: 'imageUrl' | 'videoUrl' = 'imageUrl'): Promise<UploadFile> {
    const file = path.join(folder, name);
    fs.writeFileSync(file, content);
    return describeLocalFile(file, type);
  }

  /** A PNG with `extra` bytes after its signature, unique to `seed` (so each test has its own object). */
  function png(seed: string, extra = 1024): Buffer {
    const filler = Buffer.alloc(extra);
    for (let index = 0; index < extra; index++) filler[index] = (index * 31 + seed.charCodeAt(index % seed.length)) & 0xff;
    return Buffer.concat([HEADS.png, Buffer.from(seed), filler]);
  }

  async function get(url: string): Promise<{ status: number; body: Buffer; contentType: string | undefined }> {
    const response = await request(url, { dispatcher });
    const body = Buffer.from(await response.body.arrayBuffer());
    const type = response.headers['content-type'];
    return { status: response.statusCode, body, contentType: Array.isArray(type) ? type[0] : type };
  }

  function operations(requests: readonly StorageRequest[] = sandbox.storage.requests): string[] {
    return requests.map((entry) => entry.operation);
  }

  /** Puts another file at the path, of the same size, renamed over it (as an editor's save or a checkout does). */
  function replaceFile(file: string, content: Buffer): void {
    const beside = `${file}.new`;
    fs.writeFileSync(beside, content);
    fs.renameSync(beside, file);
  }

  /** Overwrites bytes of the file where it is (same file, same size), as another program writing to it would. */
  function overwriteInPlace(file: string, position: number, bytes: Buffer): void {
    const descriptor = fs.openSync(file, 'r+');
    try {
      fs.writeSync(descriptor, bytes, 0, bytes.length, position);
    } finally {
      fs.closeSync(descriptor);
    }
  }

  /** The same size, other bytes: what a poisoned key would hold. */
  function flipped(content: Buffer): Buffer {
    const other = Buffer.from(content);
    other[other.length - 1] ^= 0xff;
    return other;
  }

  /** Stores an object under `key` directly (another writer, not the client), with the metadata headers given. */
  async function plantObject(key: string, content: Buffer, metadata: Record<string, string>): Promise<void> {
    const url = new URL(`${storageEndpoints(sandbox.url).s3}/${SANDBOX_S3_BUCKET}/${key}`);
    const headers = await signRequest({
      method: 'PUT',
      url,
      headers: { 'content-type': 'image/png', 'content-length': String(content.length), ...metadata },
      payloadSha256: createHash('sha256').update(content).digest('hex'),
      credentials: SANDBOX_S3_CREDENTIALS,
      region: SANDBOX_S3_REGION,
      now: clock,
    });
    const response = await request(url, { method: 'PUT', headers, body: content, dispatcher });
    await response.body.dump();
    assert.equal(response.statusCode, 200, 'the planted object is stored');
  }

  function storedMetadata(service: 's3' | 'gcs', bucket: string, key: string): Record<string, string> | undefined {
    return sandbox.storage.objects().find((object) => object.service === service && object.bucket === bucket && object.key === key)
      ?.metadata;
  }

  const CHANGED = (name: string) => `"${name}" changed while it was being uploaded. Run again once the file is saved.`;
  const MULTIPART = { urlLifetimeSeconds: HOUR_SECONDS, multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB };

  async function uploadError(operation: () => Promise<unknown>, reason: UploadFailure): Promise<UploadError> {
    try {
      await operation();
    } catch (error) {
      assert.ok(error instanceof UploadError, `expected an UploadError, got ${String(error)}`);
      assert.equal(error.reason, reason, englishText(error.text));
      assert.equal(error.message, englishText(error.text));
      return error;
    }
    assert.fail('expected the upload to fail');
  }

  describe('S3', () => {
    it('uploads a small file with one streamed PUT signed with its SHA-256, and FLORA can read the presigned URL', async () => {
      const content = png('single');
      const file = await localFile('sneaker.png', content);
      const progress: Array<[number, number]> = [];
      const uploaded = await uploadToS3(
        s3Target(),
        keys(),
        file,
        { urlLifetimeSeconds: 24 * HOUR_SECONDS },
        context({ onProgress: (sent, total) => progress.push([sent, total]) }),
      );

      const key = `flora/${file.sha256}.png`;
      assert.equal(uploaded.key, key);
      assert.equal(uploaded.uploaded, true);
      assert.equal(uploaded.region, SANDBOX_S3_REGION);
      assert.deepEqual(operations(), ['HeadObject', 'PutObject']);
      const put = sandbox.storage.requests[1];
      assert.equal(put?.headers['x-amz-content-sha256'], createHash('sha256').update(content).digest('hex'));
      assert.equal(put?.auth, 'header');
      assert.equal(put?.status, 200);
      assert.deepEqual(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, key), content);
      assert.equal(storedMetadata('s3', SANDBOX_S3_BUCKET, key)?.sha256, file.sha256, 'stored with its hash as metadata');
      assert.deepEqual(progress.at(-1), [content.length, content.length]);

      const url = new URL(uploaded.url);
      assert.equal(`${url.origin}${url.pathname}`, `${sandbox.url}/s3/${SANDBOX_S3_BUCKET}/${key}`);
      assert.equal(url.searchParams.get('X-Amz-Expires'), String(24 * HOUR_SECONDS));
      assert.equal(uploaded.expiresAt, clock + 24 * HOUR_SECONDS * 1000);
      assert.equal(checkMediaUrl(uploaded.url, { extraOrigins: [sandbox.url] }), undefined);
      const read = await get(uploaded.url);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, content);
      assert.equal(read.contentType, 'image/png');
    });

    it('does not send the same bytes twice: the content-addressed object is found by HEAD', async () => {
      const file = await localFile('twice.png', png('twice'));
      await uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context());
      const before = sandbox.storage.requests.length;
      const again = await uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context());
      assert.equal(again.uploaded, false);
      assert.deepEqual(operations(sandbox.storage.requests.slice(before)), ['HeadObject']);
      assert.equal((await get(again.url)).status, 200);
    });

    it('signs with temporary credentials (the session token is part of the signature and of the URL)', async () => {
      const file = await localFile('session.png', png('session'));
      const uploaded = await uploadToS3(
        s3Target(),
        keys(SANDBOX_S3_SESSION_CREDENTIALS),
        file,
        { urlLifetimeSeconds: HOUR_SECONDS },
        context(),
      );
      assert.equal(new URL(uploaded.url).searchParams.get('X-Amz-Security-Token'), SANDBOX_S3_SESSION_CREDENTIALS.sessionToken);
      assert.equal((await get(uploaded.url)).status, 200);
    });

    it('uploads a large file in parts, each with its own hash, and leaves no unfinished upload', async () => {
      const content = Buffer.concat([png('multipart', 0), Buffer.alloc(12 * MiB + 123, 0x5a)]);
      const file = await localFile('large.png', content);
      const progress: number[] = [];
      const uploaded = await uploadToS3(
        s3Target(),
        keys(),
        file,
        { urlLifetimeSeconds: HOUR_SECONDS, multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB },
        context({ onProgress: (sent) => progress.push(sent) }),
      );
      assert.deepEqual(operations(), [
        'HeadObject',
        'CreateMultipartUpload',
        'UploadPart',
        'UploadPart',
        'UploadPart',
        'CompleteMultipartUpload',
      ]);
      const parts = sandbox.storage.requests.filter((entry) => entry.operation === 'UploadPart');
      parts.forEach((part, index) => {
        const slice = content.subarray(index * 5 * MiB, (index + 1) * 5 * MiB);
        assert.equal(part.headers['x-amz-content-sha256'], createHash('sha256').update(slice).digest('hex'), `part ${index + 1}`);
      });
      assert.deepEqual(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, uploaded.key), content);
      assert.equal(storedMetadata('s3', SANDBOX_S3_BUCKET, uploaded.key)?.sha256, file.sha256, 'stored with its hash as metadata');
      assert.deepEqual(sandbox.storage.multipartUploads(), []);
      assert.deepEqual(progress, [5 * MiB, 10 * MiB, content.length]);
      assert.deepEqual((await get(uploaded.url)).body, content);
    });

    it('retries a part that fails once, with a backoff through the injected sleep, and sends the others once', async () => {
      sandbox.faults.inject('storage', { kind: 'status', status: 500 }, { slug: 'UploadPart' });
      const content = Buffer.concat([png('retry', 0), Buffer.alloc(11 * MiB, 0x33)]);
      const file = await localFile('retry.png', content);
      const uploaded = await uploadToS3(
        s3Target(),
        keys(),
        file,
        { urlLifetimeSeconds: HOUR_SECONDS, multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB },
        context(),
      );
      const parts = sandbox.storage.requests.filter((entry) => entry.operation === 'UploadPart');
      assert.deepEqual(
        parts.map((part) => part.status),
        [500, 200, 200, 200],
      );
      assert.equal(sleeps.length, 1);
      assert.ok(sleeps[0] >= 250 && sleeps[0] <= 500, `backoff ${sleeps[0]} ms`);
      assert.deepEqual(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, uploaded.key), content);
    });

    it('aborts the multipart upload when a part keeps failing, and says the storage kept failing', async () => {
      sandbox.faults.inject('storage', { kind: 'status', status: 503 }, { slug: 'UploadPart', times: Infinity });
      const file = await localFile('abandoned.png', Buffer.concat([png('abandoned', 0), Buffer.alloc(6 * MiB, 1)]));
      const error = await uploadError(
        () =>
          uploadToS3(
            s3Target(),
            keys(),
            file,
            { urlLifetimeSeconds: HOUR_SECONDS, multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, attempts: 3 },
            context(),
          ),
        'network',
      );
      assert.match(
        englishText(error.text),
        /^Could not upload to http:\/\/127\.0\.0\.1:\d+\. The storage kept answering with HTTP 503\. It was tried 3 times\./,
      );
      assert.equal(error.retryable, true);
      assert.equal(sleeps.length, 2);
      assert.ok(sleeps[1] > sleeps[0] / 2, 'the backoff grows');
      assert.equal(operations().at(-1), 'AbortMultipartUpload');
      assert.deepEqual(sandbox.storage.multipartUploads(), []);
      assert.equal(sandbox.storage.objects().filter((object) => !object.seeded).length, 0);
    });

    it('retries a dropped connection, and reports a network failure after the last try', async () => {
      sandbox.faults.inject('storage', { kind: 'dropBefore' }, { slug: 'PutObject' });
      const file = await localFile('dropped.png', png('dropped'));
      const uploaded = await uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context());
      assert.equal(uploaded.uploaded, true);
      assert.equal(sleeps.length, 1);

      sandbox.faults.inject('storage', { kind: 'dropBefore' }, { slug: 'PutObject', times: Infinity });
      const other = await localFile('dropped-again.png', png('dropped-again'));
      const error = await uploadError(
        () => uploadToS3(s3Target(), keys(), other, { urlLifetimeSeconds: HOUR_SECONDS, attempts: 2 }, context()),
        'network',
      );
      assert.match(
        englishText(error.text),
        /The connection was closed before the reply arrived\. It was tried 2 times\..*nothing was sent to FLORA\.$/,
      );
    });

    it('reports a refused connection as a network failure naming the storage', async () => {
      const port = await closedPort();
      const file = await localFile('refused.png', png('refused'));
      const target: S3Target = { ...s3Target(), endpoint: `http://127.0.0.1:${port}/s3` };
      const error = await uploadError(
        () => uploadToS3(target, keys(), file, { urlLifetimeSeconds: HOUR_SECONDS, attempts: 2 }, context()),
        'network',
      );
      assert.equal(
        englishText(error.text),
        `Could not upload to http://127.0.0.1:${port}. The connection was refused. It was tried 2 times. Check your network or proxy settings (HTTPS_PROXY), then run again; nothing was sent to FLORA.`,
      );
    });

    it('gives a presigned URL that works until it expires, then is refused', async () => {
      const file = await localFile('expiry.png', png('expiry'));
      const uploaded = await uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: 2 * HOUR_SECONDS }, context());
      assert.equal((await get(uploaded.url)).status, 200);
      const start = clock;
      try {
        clock = start + 2 * HOUR_SECONDS * 1000 - 1000;
        assert.equal((await get(uploaded.url)).status, 200);
        clock = start + 2 * HOUR_SECONDS * 1000 + 1000;
        const expired = await get(uploaded.url);
        assert.equal(expired.status, 403);
        assert.match(expired.body.toString(), /<Code>AccessDenied<\/Code>.*Request has expired/s);
      } finally {
        clock = start;
      }
      const tampered = uploaded.url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800');
      assert.equal((await get(tampered)).status, 403);
    });

    it("caps the URL lifetime at the credentials' expiry and at seven days", async () => {
      const file = await localFile('lifetime.png', png('lifetime'));
      const shortLived: StorageCredentials = { ...SANDBOX_S3_SESSION_CREDENTIALS, expiration: new Date(clock + 90 * 60 * 1000) };
      const capped = await uploadToS3(s3Target(), keys(shortLived), file, { urlLifetimeSeconds: 24 * HOUR_SECONDS }, context());
      assert.equal(new URL(capped.url).searchParams.get('X-Amz-Expires'), String(90 * 60));
      assert.equal(capped.expiresAt, clock + 90 * 60 * 1000);
      assert.ok(logLines.some((line) => line.startsWith('warn') && line.includes('works for 1.5 h only')));

      const week = await uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: 30 * 24 * HOUR_SECONDS }, context());
      assert.equal(new URL(week.url).searchParams.get('X-Amz-Expires'), String(MAX_PRESIGNED_SECONDS));
      assert.equal((await get(week.url)).status, 200);
    });

    it('follows a bucket in another region once, re-signing for it, and says so in the log', async () => {
      const file = await localFile('region.png', png('region'));
      const uploaded = await uploadToS3(
        s3Target(SANDBOX_S3_EU_BUCKET, 'us-east-1'),
        keys(),
        file,
        { urlLifetimeSeconds: HOUR_SECONDS },
        context(),
      );
      assert.equal(uploaded.region, SANDBOX_S3_EU_REGION);
      const [first, second] = sandbox.storage.requests;
      assert.equal(first?.status, 400);
      assert.equal(second?.status, 404, 'the HEAD signed for eu-west-1 finds no object');
      assert.ok(new URL(uploaded.url).searchParams.get('X-Amz-Credential')?.includes(`/${SANDBOX_S3_EU_REGION}/s3/aws4_request`));
      assert.ok(
        logLines.some(
          (line) => line.startsWith('warn') && line.includes(`is in ${SANDBOX_S3_EU_REGION}, not us-east-1: following it there`),
        ),
      );
      assert.equal((await get(uploaded.url)).status, 200);
    });

    it('names the bucket and the permission when access is denied, and offers to configure the upload', async () => {
      const file = await localFile('denied.png', png('denied'));
      const error = await uploadError(
        () => uploadToS3(s3Target(SANDBOX_S3_READONLY_BUCKET), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context()),
        'accessDenied',
      );
      assert.equal(
        englishText(error.text),
        `Access to the bucket "${SANDBOX_S3_READONLY_BUCKET}" was denied for s3:PutObject. Give these credentials s3:GetObject and s3:PutObject on that bucket, or choose another bucket with "FLORA: Configure Upload…".`,
      );
      assert.deepEqual(error.remedy, { kind: 'configureUpload' });
    });

    it('says when the bucket does not exist', async () => {
      const file = await localFile('nobucket.png', png('nobucket'));
      const error = await uploadError(
        () => uploadToS3(s3Target('no-such-bucket-here'), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context()),
        'noSuchBucket',
      );
      assert.match(englishText(error.text), /^The bucket "no-such-bucket-here" does not exist/);
      assert.deepEqual(error.remedy, { kind: 'configureUpload' });
    });

    it('says when the storage rejects the credentials (a wrong secret, an unknown key)', async () => {
      const file = await localFile('badkeys.png', png('badkeys'));
      for (const credentials of [
        { accessKeyId: SANDBOX_S3_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
        { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: SANDBOX_S3_CREDENTIALS.secretAccessKey },
      ]) {
        const error = await uploadError(
          () => uploadToS3(s3Target(), keys(credentials), file, { urlLifetimeSeconds: HOUR_SECONDS }, context()),
          'credentials',
        );
        assert.match(
          englishText(error.text),
          /^The storage rejected the credentials for s3:\/\/flora-sandbox\/flora\/: the access key is unknown or its secret is wrong\./,
        );
        assert.deepEqual(error.remedy, { kind: 'configureUpload' });
      }
      assert.deepEqual(
        sandbox.storage.requests.filter((entry) => entry.operation === 'PutObject').map((entry) => entry.outcome),
        ['SignatureDoesNotMatch', 'InvalidAccessKeyId'],
      );
    });

    it('says an expired session token has expired, suggesting aws sso login for the profile', async () => {
      const file = await localFile('expired.png', png('expired'));
      const error = await uploadError(
        () =>
          uploadToS3(
            s3Target(),
            keys(SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS),
            file,
            { urlLifetimeSeconds: HOUR_SECONDS, profile: 'dev' },
            context(),
          ),
        'expiredCredentials',
      );
      assert.equal(
        englishText(error.text),
        'The credentials of the AWS profile "dev" have expired, so nothing was uploaded to s3://flora-sandbox/flora/. Sign in again with `aws sso login --profile dev` in a terminal (or refresh that profile\'s keys), then run again.',
      );
      assert.equal(error.profile, 'dev');
      assert.deepEqual(error.remedy, { kind: 'none' });
      const withoutProfile = await uploadError(
        () => uploadToS3(s3Target(), keys(SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS), file, { urlLifetimeSeconds: HOUR_SECONDS }, context()),
        'expiredCredentials',
      );
      assert.deepEqual(withoutProfile.remedy, { kind: 'configureUpload' });
    });

    it('refuses credentials past their expiration without sending anything', async () => {
      const file = await localFile('stale.png', png('stale'));
      const stale: StorageCredentials = { ...SANDBOX_S3_SESSION_CREDENTIALS, expiration: new Date(clock - 1000) };
      await uploadError(
        () => uploadToS3(s3Target(), keys(stale), file, { urlLifetimeSeconds: HOUR_SECONDS }, context()),
        'expiredCredentials',
      );
      assert.deepEqual(sandbox.storage.requests, []);
    });

    it("maps a credential provider's failure: an ended SSO session is expired, anything else is missing", async () => {
      const file = await localFile('provider.png', png('provider'));
      const sso = new Error(
        'The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login with the corresponding profile.',
      );
      const expired = await uploadError(
        () => uploadToS3(s3Target(), () => Promise.reject(sso), file, { urlLifetimeSeconds: HOUR_SECONDS, profile: 'work' }, context()),
        'expiredCredentials',
      );
      assert.match(englishText(expired.text), /aws sso login --profile work/);
      const missing = await uploadError(
        () =>
          uploadToS3(
            s3Target(),
            () => Promise.reject(new Error('Could not load credentials from any providers')),
            file,
            { urlLifetimeSeconds: HOUR_SECONDS, profile: 'work' },
            context(),
          ),
        'credentials',
      );
      assert.match(
        englishText(missing.text),
        /^No credentials for uploading to s3:\/\/flora-sandbox\/flora\/ were found in the AWS profile "work"\./,
      );
      assert.equal(credentialsError(new Error('nothing'), 's3://b/').reason, 'credentials');
      assert.deepEqual(sandbox.storage.requests, []);
    });

    it('says when the file changed between reading and uploading it', async () => {
      const file = await localFile('changing.png', png('changing'));
      fs.appendFileSync(file.path, 'more');
      await uploadError(() => uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context()), 'unreadable');
    });

    it('refuses a same-size file swapped in after it was hashed (multipart): nothing is stored under its key', async () => {
      const content = Buffer.concat([png('swapped', 0), Buffer.alloc(11 * MiB, 0x21)]);
      const file = await localFile('swapped.png', content);
      replaceFile(file.path, flipped(content));
      const error = await uploadError(() => uploadToS3(s3Target(), keys(), file, MULTIPART, context()), 'unreadable');
      assert.equal(englishText(error.text), CHANGED('swapped.png'));
      assert.ok(!operations().includes('UploadPart'), 'no byte of the other file was sent');
      assert.ok(!operations().includes('CompleteMultipartUpload'));
      assert.equal(operations().at(-1), 'AbortMultipartUpload');
      assert.deepEqual(sandbox.storage.multipartUploads(), []);
      assert.equal(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, objectKeyFor('flora/', file)), undefined);
    });

    it('refuses a single PUT of a same-size file swapped in after it was hashed, before sending it', async () => {
      const content = png('swapped-single');
      const file = await localFile('swapped-single.png', content);
      replaceFile(file.path, flipped(content));
      const error = await uploadError(
        () => uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context()),
        'unreadable',
      );
      assert.equal(englishText(error.text), CHANGED('swapped-single.png'));
      assert.deepEqual(
        sandbox.storage.requests.filter((entry) => entry.operation === 'PutObject').map((entry) => entry.status),
        [],
        'the PUT never reached the store',
      );
      assert.equal(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, objectKeyFor('flora/', file)), undefined);
    });

    it('aborts a multipart upload whose bytes change while it is sent (the same file, written to)', async () => {
      const content = Buffer.concat([png('rewritten', 0), Buffer.alloc(11 * MiB, 0x44)]);
      const file = await localFile('rewritten.png', content);
      let written = false;
      const onProgress = () => {
        // Once the first part is up, the last part's bytes change: each part still matches its own hash.
        if (written) return;
        written = true;
        overwriteInPlace(file.path, content.length - 8, Buffer.from('tampered'));
      };
      const error = await uploadError(() => uploadToS3(s3Target(), keys(), file, MULTIPART, context({ onProgress })), 'unreadable');
      assert.equal(englishText(error.text), CHANGED('rewritten.png'));
      assert.ok(written);
      assert.deepEqual(operations(), ['HeadObject', 'CreateMultipartUpload', 'UploadPart', 'UploadPart', 'AbortMultipartUpload']);
      assert.deepEqual(sandbox.storage.multipartUploads(), []);
      assert.equal(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, objectKeyFor('flora/', file)), undefined);
    });

    it('uploads again over an object under its key that lacks its hash, or has another, in its metadata', async () => {
      for (const [name, metadata] of [
        ['unmarked', {}],
        ['mismarked', { 'x-amz-meta-sha256': 'f'.repeat(64) }],
      ] as const) {
        const content = png(name);
        const file = await localFile(`${name}.png`, content);
        const key = objectKeyFor('flora/', file);
        // Same size, other bytes: a HEAD that compared lengths only would hand these to FLORA.
        await plantObject(key, flipped(content), metadata);
        const before = sandbox.storage.requests.length;
        const uploaded = await uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context());
        assert.equal(uploaded.uploaded, true, name);
        assert.deepEqual(operations(sandbox.storage.requests.slice(before)), ['HeadObject', 'PutObject'], name);
        assert.deepEqual(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, key), content, name);
        assert.equal(storedMetadata('s3', SANDBOX_S3_BUCKET, key)?.sha256, file.sha256, name);
        assert.deepEqual((await get(uploaded.url)).body, content, name);
        assert.ok(logLines.some((line) => line.startsWith('warn') && line.includes(`${key} is there without this file's SHA-256`)));
      }
    });

    it('stops at once when the signal aborts', async () => {
      const file = await localFile('cancelled.png', png('cancelled'));
      await assert.rejects(
        () => uploadToS3(s3Target(), keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context({ signal: AbortSignal.abort() })),
        (error) => error instanceof FloraCancelledError,
      );
      assert.deepEqual(sandbox.storage.requests, []);
    });
  });

  describe('Google Cloud Storage (the XML API with HMAC keys)', () => {
    it('uploads and presigns for the region "auto"', async () => {
      const content = png('gcs');
      const file = await localFile('gcs.png', content);
      const uploaded = await uploadToS3(gcsTarget(), keys(SANDBOX_GCS_HMAC), file, { urlLifetimeSeconds: HOUR_SECONDS }, context());
      assert.equal(uploaded.key, `inputs/${file.sha256}.png`);
      assert.ok(new URL(uploaded.url).searchParams.get('X-Amz-Credential')?.endsWith('/auto/s3/aws4_request'));
      assert.ok(uploaded.url.startsWith(`${sandbox.url}/gcs/${SANDBOX_GCS_BUCKET}/inputs/`));
      assert.deepEqual((await get(uploaded.url)).body, content);
      assert.deepEqual(sandbox.storage.content('gcs', SANDBOX_GCS_BUCKET, uploaded.key), content);
      assert.equal(storedMetadata('gcs', SANDBOX_GCS_BUCKET, uploaded.key)?.sha256, file.sha256);
      const again = await uploadToS3(gcsTarget(), keys(SANDBOX_GCS_HMAC), file, { urlLifetimeSeconds: HOUR_SECONDS }, context());
      assert.equal(again.uploaded, false, 'found by its hash');
    });

    it('trusts the hash GCS names x-goog-meta-sha256, and only for GCS (S3 has no such header)', async () => {
      const file = await localFile('gcs-goog.png', png('gcs-goog'));
      const puts: string[] = [];
      const server = await startLoopbackServer((incoming, response) => {
        if (incoming.method === 'HEAD') {
          response.writeHead(200, { 'content-length': file.size, 'x-goog-meta-sha256': file.sha256 });
          response.end();
          return;
        }
        puts.push(incoming.method ?? '');
        response.writeHead(200, { etag: '"e"', 'content-length': 0 });
        response.end();
      });
      try {
        const endpoint = `${server.url}/storage`;
        const gcs = await uploadToS3(
          { ...gcsTarget(), endpoint },
          keys(SANDBOX_GCS_HMAC),
          file,
          { urlLifetimeSeconds: HOUR_SECONDS },
          context(),
        );
        assert.equal(gcs.uploaded, false);
        assert.deepEqual(puts, []);
        const s3 = await uploadToS3({ ...s3Target(), endpoint }, keys(), file, { urlLifetimeSeconds: HOUR_SECONDS }, context());
        assert.equal(s3.uploaded, true);
        assert.deepEqual(puts, ['PUT']);
      } finally {
        await server.close();
      }
    });

    it('names the GCS permission when access is denied', async () => {
      const file = await localFile('gcs-denied.png', png('gcs-denied'));
      const error = await uploadError(
        () =>
          uploadToS3(gcsTarget(SANDBOX_GCS_READONLY_BUCKET), keys(SANDBOX_GCS_HMAC), file, { urlLifetimeSeconds: HOUR_SECONDS }, context()),
        'accessDenied',
      );
      assert.match(englishText(error.text), /was denied for storage\.objects\.create\. Give the HMAC key's service account/);
    });
  });

  describe('ImageKit', () => {
    function imageKitTarget(): ImageKitTarget {
      return { kind: 'imagekit', folder: 'flora', endpoint: storageEndpoints(sandbox.url).imagekit };
    }

    it('uploads through the documented upload API and returns the served URL', async () => {
      const content = png('imagekit');
      const file = await localFile('kit.png', content);
      const uploaded = await uploadToImageKit(imageKitTarget(), SANDBOX_IMAGEKIT_PRIVATE_KEY, file, context());
      assert.equal(uploaded.url, `${storageEndpoints(sandbox.url).imagekitUrl}/flora/${file.sha256}.png`);
      assert.equal(uploaded.expiresAt, undefined);
      const upload = sandbox.storage.requests.find((entry) => entry.operation === 'ImageKitUpload');
      assert.equal(upload?.auth, 'basic');
      assert.equal(upload?.status, 200);
      const read = await get(uploaded.url);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, content);
    });

    it('says when ImageKit rejects the private key', async () => {
      const file = await localFile('kit-key.png', png('kit-key'));
      const error = await uploadError(() => uploadToImageKit(imageKitTarget(), 'private_wrong', file, context()), 'credentials');
      assert.match(englishText(error.text), /^ImageKit rejected the private key\./);
      assert.deepEqual(error.remedy, { kind: 'configureUpload' });
    });

    it('retries a failing ImageKit upload, then gives up with a network failure', async () => {
      sandbox.faults.inject('storage', { kind: 'status', status: 502 }, { slug: 'ImageKitUpload' });
      const file = await localFile('kit-retry.png', png('kit-retry'));
      await uploadToImageKit(imageKitTarget(), SANDBOX_IMAGEKIT_PRIVATE_KEY, file, context());
      assert.equal(sleeps.length, 1);
      sandbox.faults.inject('storage', { kind: 'dropBefore' }, { slug: 'ImageKitUpload', times: Infinity });
      await uploadError(
        () => uploadToImageKit(imageKitTarget(), SANDBOX_IMAGEKIT_PRIVATE_KEY, file, context(), { attempts: 2 }),
        'network',
      );
    });

    function imageKitFiles(): string[] {
      return sandbox.storage
        .objects()
        .filter((object) => object.service === 'imagekit')
        .map((object) => object.key);
    }

    it('refuses a same-size file swapped in after it was hashed: ImageKit gets nothing', async () => {
      const content = png('kit-swapped');
      const file = await localFile('kit-swapped.png', content);
      replaceFile(file.path, flipped(content));
      const error = await uploadError(
        () => uploadToImageKit(imageKitTarget(), SANDBOX_IMAGEKIT_PRIVATE_KEY, file, context()),
        'unreadable',
      );
      assert.equal(englishText(error.text), CHANGED('kit-swapped.png'));
      assert.deepEqual(imageKitFiles(), []);
    });

    it('never sends a file whose bytes change while it streams whole: ImageKit stores nothing under its name', async () => {
      const content = Buffer.concat([png('kit-rewritten', 0), Buffer.alloc(3 * MiB + MiB / 2, 0x66)]);
      const file = await localFile('kit-rewritten.png', content);
      let written = false;
      const onProgress = () => {
        if (written) return;
        written = true;
        overwriteInPlace(file.path, content.length - 8, Buffer.from('tampered'));
      };
      const error = await uploadError(
        () => uploadToImageKit(imageKitTarget(), SANDBOX_IMAGEKIT_PRIVATE_KEY, file, context({ onProgress }), { attempts: 1 }),
        'unreadable',
      );
      assert.equal(englishText(error.text), CHANGED('kit-rewritten.png'));
      assert.ok(written);
      assert.deepEqual(imageKitFiles(), []);
    });

    it('refuses a reply whose URL is not on ImageKit (nor on the endpoint), and reads the reply tolerantly', async () => {
      const replies = [
        { fileId: 1, url: 'https://evil.example/flora/x.png', size: 'big' },
        { url: 'https://ik.imagekit.io.evil.example/x.png' },
      ];
      let next = 0;
      const server = await startLoopbackServer((_request, response) => sendJson(response, 200, replies[next++ % replies.length]));
      try {
        const file = await localFile('kit-url.png', png('kit-url'));
        const target: ImageKitTarget = { kind: 'imagekit', folder: '/', endpoint: server.url };
        for (let index = 0; index < replies.length; index++) {
          const error = await uploadError(() => uploadToImageKit(target, SANDBOX_IMAGEKIT_PRIVATE_KEY, file, context()), 'refused');
          assert.match(
            englishText(error.text),
            /^The file was stored, but FLORA would not accept the link it is read from\. FLORA does not accept files from /,
          );
        }
      } finally {
        await server.close();
      }
    });
  });

  describe('replies a hostile store sends', () => {
    /** An "S3" on loopback that finds no object and answers everything else with `reply`. */
    async function hostileStore(reply: (method: string, url: URL) => { status: number; body: string }) {
      return startLoopbackServer((incoming, response) => {
        const url = new URL(incoming.url ?? '/', 'http://store');
        if (incoming.method === 'HEAD') {
          response.writeHead(404);
          response.end();
          return;
        }
        const { status, body } = reply(incoming.method ?? '', url);
        response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        response.end(body);
      });
    }

    it('turns a character reference to no character into the unreadable-reply error, wherever it is', async () => {
      const unreadable = /^The storage at s3:\/\/flora-sandbox\/flora\/ sent a reply the extension could not read/;
      const cases: Array<{ name: string; multipart: boolean; reply: (method: string, url: URL) => { status: number; body: string } }> = [
        {
          // A wrong-region answer naming a "region" past U+10FFFF: read before any error handling.
          name: 'region',
          multipart: false,
          reply: () => ({
            status: 400,
            body: '<Error><Code>AuthorizationHeaderMalformed</Code><Region>&#99999999;</Region></Error>',
          }),
        },
        { name: 'code', multipart: false, reply: () => ({ status: 403, body: '<Error><Code>Access&#1114112;Denied</Code></Error>' }) },
        {
          name: 'upload id',
          multipart: true,
          reply: (method, url) =>
            method === 'POST' && url.searchParams.has('uploads')
              ? { status: 200, body: '<InitiateMultipartUploadResult><UploadId>&#99999999;</UploadId></InitiateMultipartUploadResult>' }
              : { status: 204, body: '' },
        },
      ];
      for (const { name, multipart, reply } of cases) {
        const server = await hostileStore(reply);
        try {
          const file = await localFile(
            `hostile-${name.replace(' ', '-')}.png`,
            Buffer.concat([png(name, 0), Buffer.alloc(multipart ? 6 * MiB : 64, 1)]),
          );
          const target: S3Target = { ...s3Target(), endpoint: `${server.url}/s3` };
          const error = await uploadError(
            () => uploadToS3(target, keys(), file, multipart ? MULTIPART : { urlLifetimeSeconds: HOUR_SECONDS }, context()),
            'refused',
          );
          assert.match(englishText(error.text), unreadable, name);
        } finally {
          await server.close();
        }
      }
    });

    it('reads XML text with valid references decoded, on one line, without control or bidi characters', () => {
      assert.equal(xmlValue('<Code>&#65;&#x42;&#x1F600;&amp;lt;&lt;&quot;</Code>', 'Code'), 'AB\u{1F600}&lt;<"');
      assert.equal(xmlValue('<Message>safe&#8238;txt.exe&#7;\u202Ddone\u0000</Message>', 'Message'), 'safetxt.exedone');
      assert.equal(xmlValue('<Message>two\nlines&#13;</Message>', 'Message'), 'two lines ');
      assert.equal(xmlValue('<Code></Code>', 'Code'), '');
      assert.equal(xmlValue('<Other>x</Other>', 'Code'), undefined);
      for (const reference of ['&#99999999;', '&#1114112;', '&#x110000;', '&#55296;', '&#xDFFF;', '&#0;', `&#${'9'.repeat(400)};`]) {
        assert.throws(() => xmlValue(`<Code>${reference}</Code>`, 'Code'), UnreadableXmlError, reference);
      }
    });
  });

  describe('URL forms', () => {
    const key = `flora/${'c'.repeat(64)}.png`;
    it('is virtual-hosted on AWS, path-style for a dotted bucket, storage.googleapis.com for GCS, path-style on an endpoint', () => {
      assert.equal(
        objectUrl({ kind: 's3', bucket: 'my-bucket', region: 'eu-west-1', prefix: '' }, 'eu-west-1', key).href,
        `https://my-bucket.s3.eu-west-1.amazonaws.com/${key}`,
      );
      assert.equal(
        objectUrl({ kind: 's3', bucket: 'my.bucket', region: 'us-east-2', prefix: '' }, 'us-east-2', key).href,
        `https://s3.us-east-2.amazonaws.com/my.bucket/${key}`,
      );
      assert.equal(
        objectUrl({ kind: 'gcs', bucket: 'my_bucket', prefix: '' }, 'auto', key).href,
        `https://storage.googleapis.com/my_bucket/${key}`,
      );
      assert.equal(
        objectUrl({ kind: 's3', bucket: 'b1', region: 'us-east-1', prefix: '', endpoint: 'https://minio.example/base/' }, 'us-east-1', key)
          .href,
        `https://minio.example/base/b1/${key}`,
      );
      assert.equal(
        objectUrl({ kind: 's3', bucket: 'b1', region: 'us-east-1', prefix: '' }, 'us-east-1', "odd key (1)!*'.png").pathname,
        '/odd%20key%20%281%29%21%2A%27.png',
      );
    });

    it('presigns URLs FLORA accepts, with the credential scope of the region', async () => {
      const now = Date.UTC(2026, 0, 2, 3, 4, 5);
      for (const target of [
        { kind: 's3', bucket: 'my-bucket', region: 'eu-west-1', prefix: '' } as const,
        { kind: 's3', bucket: 'my.bucket', region: 'us-east-2', prefix: '' } as const,
        { kind: 'gcs', bucket: 'my-bucket', prefix: '' } as const,
      ]) {
        const region = target.kind === 's3' ? target.region : 'auto';
        const { url, expiresAt } = await presignedGetUrl(target, region, key, SANDBOX_S3_CREDENTIALS, HOUR_SECONDS, now);
        assert.equal(checkMediaUrl(url), undefined, url);
        const query = new URL(url).searchParams;
        assert.equal(query.get('X-Amz-Credential'), `${SANDBOX_S3_CREDENTIALS.accessKeyId}/20260102/${region}/s3/aws4_request`);
        assert.equal(query.get('X-Amz-Date'), '20260102T030405Z');
        assert.equal(query.get('X-Amz-SignedHeaders'), 'host');
        assert.equal(expiresAt, now + HOUR_SECONDS * 1000);
      }
    });

    it('keeps the key content-addressed under the prefix', async () => {
      const file = await localFile('key.png', png('key'));
      assert.equal(objectKeyFor('/a//b/', file), `a/b/${file.sha256}.png`);
    });
  });
});
