/**
 * The sandbox's storage endpoints over real HTTP on loopback. Requests are signed here with
 * @smithy/signature-v4 (and once with aws4fetch, the client's signer), then tampered with, to show the
 * oracle accepts exactly what S3 accepts: a store that says yes to a wrong secret proves nothing.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';

import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsClient } from 'aws4fetch';

import { checkMediaUrl } from '../sandbox/hosts';
import { renderPng } from '../sandbox/media';
import { SANDBOX_API_KEY, startSandbox, type Sandbox } from '../sandbox/server';
import {
  SANDBOX_GCS_BUCKET,
  SANDBOX_GCS_HMAC,
  SANDBOX_IMAGEKIT_ID,
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
} from '../sandbox/storage';
import { waitFor } from '../common/wait';

interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface SignOptions {
  credentials?: Credentials;
  region?: string;
  /** Extra headers, signed. */
  headers?: Record<string, string>;
  body?: Buffer;
  /** The x-amz-content-sha256 to sign; default the body's SHA-256. */
  payloadHash?: string;
  query?: Record<string, string>;
  signingDate?: Date;
}

interface Signed {
  path: string;
  headers: Record<string, string>;
}

const PNG = renderPng('sandbox-storage-test', 'gradient');
const RUN_DURATION_MS = 60;

let sandbox: Sandbox;
let host: string;

function send(method: string, target: string, headers: Record<string, string> = {}, body?: Buffer): Promise<HttpResult> {
  const url = new URL(target, sandbox.url);
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: all, text: all.toString('utf8') });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

function signer(credentials: Credentials, region: string): SignatureV4 {
  return new SignatureV4({ credentials, region, service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false });
}

function queryString(query: Record<string, unknown> | undefined): string {
  const pairs = Object.entries(query ?? {}).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

/** An Authorization-header signed request for `path` (already S3-encoded), as an S3 client sends it. */
async function sign(method: string, path: string, options: SignOptions = {}): Promise<Signed> {
  const body = options.body ?? Buffer.alloc(0);
  const headers: Record<string, string> = {
    host,
    'x-amz-content-sha256': options.payloadHash ?? createHash('sha256').update(body).digest('hex'),
    ...options.headers,
  };
  const signed = await signer(options.credentials ?? SANDBOX_S3_CREDENTIALS, options.region ?? SANDBOX_S3_REGION).sign(
    { method, protocol: 'http:', hostname: '127.0.0.1', path, query: options.query ?? {}, headers },
    { signingDate: options.signingDate ?? new Date() },
  );
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    sent[name] = value;
  }
  return { path: `${path}${queryString(options.query)}`, headers: sent };
}

async function signedCall(method: string, path: string, options: SignOptions = {}): Promise<HttpResult> {
  const signed = await sign(method, path, options);
  const body = options.body;
  return send(
    method,
    signed.path,
    body === undefined ? signed.headers : { ...signed.headers, 'content-length': String(body.length) },
    body,
  );
}

async function presign(
  path: string,
  options: { credentials?: Credentials; region?: string; expiresIn?: number; signingDate?: Date } = {},
): Promise<string> {
  const presigned = await signer(options.credentials ?? SANDBOX_S3_CREDENTIALS, options.region ?? SANDBOX_S3_REGION).presign(
    // As @aws-sdk/s3-request-presigner does: the canonical request ends with UNSIGNED-PAYLOAD, which
    // travels neither as a header nor in the query.
    {
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query: {},
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    {
      expiresIn: options.expiresIn ?? 3600,
      signingDate: options.signingDate ?? new Date(),
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  assert.equal(presigned.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
  return `${sandbox.url}${path}${queryString(presigned.query)}`;
}

async function putPng(key: string, bucketPath = `/s3/${SANDBOX_S3_BUCKET}`, options: SignOptions = {}): Promise<string> {
  const path = `${bucketPath}/${key}`;
  const result = await signedCall('PUT', path, { body: PNG, headers: { 'content-type': 'image/png' }, ...options });
  assert.equal(result.status, 200, result.text);
  return path;
}

function errorCode(result: HttpResult): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(result.text)?.[1];
}

function assertS3Error(result: HttpResult, status: number, code: string): void {
  assert.equal(result.status, status, result.text);
  assert.equal(errorCode(result), code, result.text);
}

async function api(method: string, path: string, body?: unknown): Promise<HttpResult> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { Authorization: `Bearer ${SANDBOX_API_KEY}` };
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  return send(method, path, headers, payload);
}

interface PollReply {
  status: string;
  chargedCost?: number;
  errorCode?: string;
  errorMessage?: string;
  outputs?: { url: string }[];
}

async function runStudioShot(imageUrl: string): Promise<PollReply> {
  const created = await api('POST', '/api/v1/techniques/studio-shot/runs', {
    inputs: [{ id: 'product_image', type: 'imageUrl', value: imageUrl }],
    mode: 'async',
  });
  assert.equal(created.status, 201, created.text);
  const { pollUrl } = JSON.parse(created.text) as { pollUrl: string };
  return waitFor(
    'the run to finish',
    async () => {
      const reply = JSON.parse((await api('GET', new URL(pollUrl).pathname)).text) as PollReply;
      return reply.status === 'completed' || reply.status === 'failed' ? reply : undefined;
    },
    10_000,
    20,
  );
}

describe('sandbox storage', function () {
  this.timeout(60_000);

  before(async () => {
    sandbox = await startSandbox({ runDurationMs: RUN_DURATION_MS });
    host = new URL(sandbox.url).host;
  });

  after(async () => {
    await sandbox.close();
  });

  afterEach(() => {
    sandbox.faults.clear();
  });

  describe('S3 with header signatures', () => {
    it('stores, describes and returns an object signed with the right key', async () => {
      const path = await putPng('round/trip.png', undefined, { headers: { 'content-type': 'image/png', 'x-amz-meta-source': 'test' } });
      const head = await signedCall('HEAD', path);
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(PNG.length));
      assert.equal(head.headers['content-type'], 'image/png');
      assert.equal(head.headers['x-amz-meta-source'], 'test');
      const got = await signedCall('GET', path);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(PNG));
      assert.equal(got.headers.etag, `"${createHash('md5').update(PNG).digest('hex')}"`);
      const stored = sandbox.storage.objects().find((object) => object.key === 'round/trip.png');
      assert.deepEqual(stored && { service: stored.service, bucket: stored.bucket, size: stored.size, type: stored.contentType }, {
        service: 's3',
        bucket: SANDBOX_S3_BUCKET,
        size: PNG.length,
        type: 'image/png',
      });
      const operations = sandbox.storage.requests
        .filter((request) => request.path === path)
        .map((request) => `${request.operation} ${request.outcome}`);
      assert.deepEqual(operations, ['PutObject ok', 'HeadObject ok', 'GetObject ok']);
    });

    it('canonicalises encoded keys as S3 does', async () => {
      const path = `/s3/${SANDBOX_S3_BUCKET}/dir/a%20b%C3%A9%28x%29.png`;
      const result = await signedCall('PUT', path, { body: PNG });
      assert.equal(result.status, 200, result.text);
      assert.ok(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, 'dir/a bé(x).png')?.equals(PNG));
    });

    it('accepts UNSIGNED-PAYLOAD and a valid session token', async () => {
      const unsigned = await signedCall('PUT', `/s3/${SANDBOX_S3_BUCKET}/unsigned.png`, { body: PNG, payloadHash: 'UNSIGNED-PAYLOAD' });
      assert.equal(unsigned.status, 200, unsigned.text);
      const session = await signedCall('PUT', `/s3/${SANDBOX_S3_BUCKET}/session.png`, {
        body: PNG,
        credentials: SANDBOX_S3_SESSION_CREDENTIALS,
      });
      assert.equal(session.status, 200, session.text);
    });

    it('refuses a request signed with a wrong secret, and stores nothing', async () => {
      const result = await signedCall('PUT', `/s3/${SANDBOX_S3_BUCKET}/wrong-secret.png`, {
        body: PNG,
        credentials: { accessKeyId: SANDBOX_S3_CREDENTIALS.accessKeyId, secretAccessKey: `${SANDBOX_S3_CREDENTIALS.secretAccessKey}x` },
      });
      assertS3Error(result, 403, 'SignatureDoesNotMatch');
      assert.equal(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, 'wrong-secret.png'), undefined);
    });

    it('refuses a tampered path', async () => {
      const signed = await sign('PUT', `/s3/${SANDBOX_S3_BUCKET}/signed.png`, { body: PNG });
      const result = await send(
        'PUT',
        `/s3/${SANDBOX_S3_BUCKET}/other.png`,
        { ...signed.headers, 'content-length': String(PNG.length) },
        PNG,
      );
      assertS3Error(result, 403, 'SignatureDoesNotMatch');
      assert.equal(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, 'other.png'), undefined);
    });

    it('refuses a tampered signed header and a tampered query', async () => {
      const signed = await sign('PUT', `/s3/${SANDBOX_S3_BUCKET}/meta.png`, { body: PNG, headers: { 'x-amz-meta-owner': 'alice' } });
      const header = await send(
        'PUT',
        signed.path,
        { ...signed.headers, 'x-amz-meta-owner': 'mallory', 'content-length': String(PNG.length) },
        PNG,
      );
      assertS3Error(header, 403, 'SignatureDoesNotMatch');
      const create = await sign('POST', `/s3/${SANDBOX_S3_BUCKET}/query.png`, { query: { uploads: '' } });
      const query = await send('POST', `/s3/${SANDBOX_S3_BUCKET}/query.png?uploads=&x-id=Tampered`, create.headers);
      assertS3Error(query, 403, 'SignatureDoesNotMatch');
    });

    it('refuses a body that does not match its signed SHA-256, and an unsigned x-amz header', async () => {
      const signed = await sign('PUT', `/s3/${SANDBOX_S3_BUCKET}/body.png`, { body: PNG });
      const other = Buffer.from('not the signed body');
      const body = await send('PUT', signed.path, { ...signed.headers, 'content-length': String(other.length) }, other);
      assertS3Error(body, 400, 'XAmzContentSHA256Mismatch');
      const hash = await send(
        'PUT',
        signed.path,
        {
          ...signed.headers,
          'x-amz-content-sha256': createHash('sha256').update(other).digest('hex'),
          'content-length': String(other.length),
        },
        other,
      );
      assertS3Error(hash, 403, 'SignatureDoesNotMatch');
      const extra = await send(
        'PUT',
        signed.path,
        { ...signed.headers, 'x-amz-meta-sneaky': 'yes', 'content-length': String(PNG.length) },
        PNG,
      );
      assertS3Error(extra, 403, 'AccessDenied');
      assert.equal(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, 'body.png'), undefined);
    });

    it('refuses unknown, foreign and anonymous keys', async () => {
      const unknown = await signedCall('GET', `/s3/${SANDBOX_S3_BUCKET}/x.png`, {
        credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: SANDBOX_S3_CREDENTIALS.secretAccessKey },
      });
      assertS3Error(unknown, 403, 'InvalidAccessKeyId');
      const gcsKey = await signedCall('GET', `/s3/${SANDBOX_S3_BUCKET}/x.png`, { credentials: SANDBOX_GCS_HMAC });
      assertS3Error(gcsKey, 403, 'InvalidAccessKeyId');
      assertS3Error(await send('GET', `/s3/${SANDBOX_S3_BUCKET}/round/trip.png`), 403, 'AccessDenied');
      const bearer = await send('GET', `/s3/${SANDBOX_S3_BUCKET}/round/trip.png`, { authorization: `Bearer ${SANDBOX_API_KEY}` });
      assertS3Error(bearer, 400, 'InvalidArgument');
    });

    it('refuses expired and missing session tokens', async () => {
      const path = `/s3/${SANDBOX_S3_BUCKET}/token.png`;
      assertS3Error(await signedCall('PUT', path, { body: PNG, credentials: SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS }), 400, 'ExpiredToken');
      const { sessionToken: _ignored, ...withoutToken } = SANDBOX_S3_SESSION_CREDENTIALS;
      assertS3Error(await signedCall('PUT', path, { body: PNG, credentials: withoutToken }), 403, 'InvalidAccessKeyId');
      assertS3Error(
        await signedCall('PUT', path, { body: PNG, credentials: { ...SANDBOX_S3_SESSION_CREDENTIALS, sessionToken: 'forged' } }),
        400,
        'InvalidToken',
      );
    });

    it('refuses a bucket signed for the wrong region, naming the right one', async () => {
      const result = await signedCall('PUT', `/s3/${SANDBOX_S3_EU_BUCKET}/region.png`, { body: PNG, region: SANDBOX_S3_REGION });
      assertS3Error(result, 400, 'AuthorizationHeaderMalformed');
      assert.match(result.text, new RegExp(`<Region>${SANDBOX_S3_EU_REGION}</Region>`));
      assert.equal(result.headers['x-amz-bucket-region'], SANDBOX_S3_EU_REGION);
      const followed = await signedCall('PUT', `/s3/${SANDBOX_S3_EU_BUCKET}/region.png`, { body: PNG, region: SANDBOX_S3_EU_REGION });
      assert.equal(followed.status, 200, followed.text);
    });

    it('refuses a request signed long ago', async () => {
      const result = await signedCall('GET', `/s3/${SANDBOX_S3_BUCKET}/round/trip.png`, {
        signingDate: new Date(Date.now() - 60 * 60 * 1000),
      });
      assertS3Error(result, 403, 'RequestTimeTooSkewed');
    });

    it('lets the read-only bucket be read but not written, and refuses unknown buckets', async () => {
      const read = await signedCall('GET', `/s3/${SANDBOX_S3_READONLY_BUCKET}/samples/coral.png`);
      assert.equal(read.status, 200, read.text);
      assert.equal(read.headers['content-type'], 'image/png');
      assertS3Error(await signedCall('PUT', `/s3/${SANDBOX_S3_READONLY_BUCKET}/mine.png`, { body: PNG }), 403, 'AccessDenied');
      assertS3Error(await signedCall('PUT', '/s3/no-such-bucket/a.png', { body: PNG }), 404, 'NoSuchBucket');
    });

    it('refuses an upload without Content-Length (a stream S3 cannot sign for)', async () => {
      const signed = await sign('PUT', `/s3/${SANDBOX_S3_BUCKET}/chunked.png`, { body: PNG });
      const result = await send('PUT', signed.path, { ...signed.headers, 'transfer-encoding': 'chunked' }, PNG);
      assertS3Error(result, 411, 'MissingContentLength');
    });
  });

  describe('S3 presigned URLs', () => {
    let path: string;

    before(async () => {
      path = await putPng('presigned/photo.png');
    });

    it('serves a valid presigned URL without any header', async () => {
      const result = await send('GET', await presign(path));
      assert.equal(result.status, 200, result.text);
      assert.ok(result.body.equals(PNG));
      assert.equal(sandbox.storage.requests.at(-1)?.auth, 'query');
    });

    it('refuses an expired URL, counting from its own date and lifetime', async () => {
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      const expired = await send('GET', await presign(path, { signingDate: twoHoursAgo, expiresIn: 3600 }));
      assertS3Error(expired, 403, 'AccessDenied');
      assert.match(expired.text, /<Message>Request has expired<\/Message>/);
      const stillValid = await send('GET', await presign(path, { signingDate: twoHoursAgo, expiresIn: 3 * 3600 }));
      assert.equal(stillValid.status, 200, stillValid.text);
    });

    it('refuses tampered URLs', async () => {
      const url = new URL(await presign(path, { expiresIn: 60 }));
      const longer = new URL(url);
      longer.searchParams.set('X-Amz-Expires', '604800');
      assertS3Error(await send('GET', longer.href), 403, 'SignatureDoesNotMatch');
      const elsewhere = new URL(url);
      elsewhere.pathname = `/s3/${SANDBOX_S3_BUCKET}/round/trip.png`;
      assertS3Error(await send('GET', elsewhere.href), 403, 'SignatureDoesNotMatch');
      const wrongSecret = await presign(path, {
        credentials: { accessKeyId: SANDBOX_S3_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
      });
      assertS3Error(await send('GET', wrongSecret), 403, 'SignatureDoesNotMatch');
    });

    it('refuses a presigned URL for the wrong region or an expired session', async () => {
      const euPath = await putPng('eu.png', `/s3/${SANDBOX_S3_EU_BUCKET}`, { region: SANDBOX_S3_EU_REGION });
      const wrongRegion = await send('GET', await presign(euPath, { region: SANDBOX_S3_REGION }));
      assertS3Error(wrongRegion, 400, 'AuthorizationQueryParametersError');
      assert.equal(wrongRegion.headers['x-amz-bucket-region'], SANDBOX_S3_EU_REGION);
      assertS3Error(await send('GET', await presign(path, { credentials: SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS })), 400, 'ExpiredToken');
    });

    it('accepts requests signed by aws4fetch, the client’s signer', async () => {
      const client = new AwsClient({ ...SANDBOX_S3_CREDENTIALS, service: 's3', region: SANDBOX_S3_REGION });
      const target = `${sandbox.url}/s3/${SANDBOX_S3_BUCKET}/aws4fetch/${'a'.repeat(64)}.png`;
      const put = await client.sign(target, {
        method: 'PUT',
        headers: { 'content-type': 'image/png', 'x-amz-content-sha256': createHash('sha256').update(PNG).digest('hex') },
        body: PNG,
      });
      const headers: Record<string, string> = { 'content-length': String(PNG.length) };
      put.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const stored = await send('PUT', put.url, headers, PNG);
      assert.equal(stored.status, 200, stored.text);
      const get = await client.sign(`${target}?X-Amz-Expires=600`, { method: 'GET', aws: { signQuery: true } });
      const fetched = await send('GET', get.url);
      assert.equal(fetched.status, 200, fetched.text);
      assert.ok(fetched.body.equals(PNG));
    });
  });

  describe('multipart uploads', () => {
    const key = 'multipart/big.bin';
    const path = `/s3/${SANDBOX_S3_BUCKET}/${key}`;

    async function create(): Promise<string> {
      const result = await signedCall('POST', path, { query: { uploads: '' }, headers: { 'content-type': 'video/webm' } });
      assert.equal(result.status, 200, result.text);
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(result.text)?.[1];
      assert.ok(uploadId);
      return uploadId;
    }

    async function part(uploadId: string, partNumber: number, body: Buffer): Promise<string> {
      const result = await signedCall('PUT', path, { query: { partNumber: String(partNumber), uploadId }, body });
      assert.equal(result.status, 200, result.text);
      return String(result.headers.etag);
    }

    function completeBody(parts: [number, string][]): Buffer {
      const listed = parts.map(([number, etag]) => `<Part><PartNumber>${number}</PartNumber><ETag>${etag}</ETag></Part>`).join('');
      return Buffer.from(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${listed}</CompleteMultipartUpload>`);
    }

    it('assembles the listed parts and checks their ETags and order', async () => {
      const pieces = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.alloc(5 * 1024 * 1024, 2), Buffer.from('tail')];
      const uploadId = await create();
      const etags = [await part(uploadId, 1, pieces[0]), await part(uploadId, 2, pieces[1]), await part(uploadId, 3, pieces[2])];
      assert.deepEqual(sandbox.storage.multipartUploads().find((upload) => upload.uploadId === uploadId)?.partNumbers, [1, 2, 3]);

      const wrongEtag = await signedCall('POST', path, {
        query: { uploadId },
        body: completeBody([
          [1, etags[0]],
          [2, '"0000"'],
          [3, etags[2]],
        ]),
      });
      assertS3Error(wrongEtag, 400, 'InvalidPart');
      const disordered = await signedCall('POST', path, {
        query: { uploadId },
        body: completeBody([
          [2, etags[1]],
          [1, etags[0]],
        ]),
      });
      assertS3Error(disordered, 400, 'InvalidPartOrder');

      const done = await signedCall('POST', path, {
        query: { uploadId },
        body: completeBody([
          [1, etags[0]],
          [2, etags[1]],
          [3, etags[2]],
        ]),
      });
      assert.equal(done.status, 200, done.text);
      assert.match(done.text, /<ETag>&#34;[0-9a-f]{32}-3&#34;<\/ETag>/);
      const got = await signedCall('GET', path);
      assert.ok(got.body.equals(Buffer.concat(pieces)));
      assert.equal(got.headers['content-type'], 'video/webm');
      assert.equal(sandbox.storage.multipartUploads().length, 0);
    });

    it('refuses parts below 5 MiB but the last, and forgets an aborted upload', async () => {
      const uploadId = await create();
      const etags = [await part(uploadId, 1, Buffer.alloc(1024, 1)), await part(uploadId, 2, Buffer.alloc(1024, 2))];
      const small = await signedCall('POST', path, {
        query: { uploadId },
        body: completeBody([
          [1, etags[0]],
          [2, etags[1]],
        ]),
      });
      assertS3Error(small, 400, 'EntityTooSmall');
      const aborted = await signedCall('DELETE', path, { query: { uploadId } });
      assert.equal(aborted.status, 204, aborted.text);
      assert.equal(sandbox.storage.multipartUploads().length, 0);
      const late = await signedCall('PUT', path, { query: { partNumber: '3', uploadId }, body: Buffer.from('late') });
      assertS3Error(late, 404, 'NoSuchUpload');
    });
  });

  describe('GCS mode', () => {
    it('speaks the same protocol with HMAC keys and region auto', async () => {
      const path = `/gcs/${SANDBOX_GCS_BUCKET}/gcs/photo.png`;
      const stored = await signedCall('PUT', path, {
        body: PNG,
        credentials: SANDBOX_GCS_HMAC,
        region: 'auto',
        headers: { 'content-type': 'image/png' },
      });
      assert.equal(stored.status, 200, stored.text);
      const fetched = await send('GET', await presign(path, { credentials: SANDBOX_GCS_HMAC, region: 'auto' }));
      assert.equal(fetched.status, 200, fetched.text);
      assert.ok(fetched.body.equals(PNG));
      const wrongRegion = await signedCall('GET', path, { credentials: SANDBOX_GCS_HMAC, region: 'us-east-1' });
      assertS3Error(wrongRegion, 400, 'AuthorizationHeaderMalformed');
      assert.match(wrongRegion.text, /<Region>auto<\/Region>/);
      assertS3Error(await signedCall('GET', path, { region: 'auto' }), 403, 'InvalidAccessKeyId');
      assertS3Error(await signedCall('GET', `/s3/${SANDBOX_GCS_BUCKET}/gcs/photo.png`), 404, 'NoSuchBucket');
    });
  });

  describe('faults and capacity', () => {
    it('injects 5xx replies and dropped connections on storage requests', async () => {
      const path = `/s3/${SANDBOX_S3_BUCKET}/faults.png`;
      sandbox.faults.inject('storage', { kind: 'status', status: 503 }, { slug: 'PutObject' });
      assertS3Error(await signedCall('PUT', path, { body: PNG }), 503, 'ServiceUnavailable');
      assert.equal(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, 'faults.png'), undefined);
      sandbox.faults.inject('storage', { kind: 'dropAfter' });
      await assert.rejects(signedCall('PUT', path, { body: PNG }));
      assert.ok(sandbox.storage.content('s3', SANDBOX_S3_BUCKET, 'faults.png')?.equals(PNG), 'a dropAfter PUT is stored');
      sandbox.faults.inject('storage', { kind: 'dropBefore' });
      await assert.rejects(signedCall('GET', path));
      assert.equal((await signedCall('GET', path)).status, 200);
    });

    it('refuses writes beyond its capacity with 507 EntityTooLarge', async () => {
      const small = await startSandbox({ storage: { capacityBytes: 1000 } });
      try {
        const smallHost = new URL(small.url).host;
        const body = Buffer.alloc(2000, 7);
        const signed = await signer(SANDBOX_S3_CREDENTIALS, SANDBOX_S3_REGION).sign(
          {
            method: 'PUT',
            protocol: 'http:',
            hostname: '127.0.0.1',
            path: `/s3/${SANDBOX_S3_BUCKET}/big.bin`,
            query: {},
            headers: { host: smallHost, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') },
          },
          { signingDate: new Date() },
        );
        const result = await new Promise<HttpResult>((resolve, reject) => {
          const request = http.request(
            `${small.url}/s3/${SANDBOX_S3_BUCKET}/big.bin`,
            { method: 'PUT', headers: { ...signed.headers, 'content-length': String(body.length) }, agent: false },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => {
                const all = Buffer.concat(chunks);
                resolve({ status: response.statusCode ?? 0, headers: response.headers, body: all, text: all.toString('utf8') });
              });
            },
          );
          request.on('error', reject);
          request.end(body);
        });
        assertS3Error(result, 507, 'EntityTooLarge');
        assert.equal(small.storage.objects().filter((object) => !object.seeded).length, 0);
      } finally {
        await small.close();
      }
    });
  });

  describe('ImageKit', () => {
    async function upload(authorization: string | undefined, fields: Record<string, string | Blob>): Promise<HttpResult> {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) {
        if (typeof value === 'string') {
          form.append(name, value);
        } else {
          form.append(name, value, 'upload.png');
        }
      }
      const encoded = new Response(form);
      const body = Buffer.from(await encoded.arrayBuffer());
      const headers: Record<string, string> = {
        'content-type': encoded.headers.get('content-type') ?? '',
        'content-length': String(body.length),
      };
      if (authorization !== undefined) {
        headers.authorization = authorization;
      }
      return send('POST', '/imagekit/api/v1/files/upload', headers, body);
    }

    const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

    it('uploads with the private key and serves the file back', async () => {
      const result = await upload(basic(SANDBOX_IMAGEKIT_PRIVATE_KEY), {
        file: new Blob([PNG], { type: 'image/png' }),
        fileName: 'sneaker.png',
        folder: '/flora/',
        useUniqueFileName: 'false',
      });
      assert.equal(result.status, 200, result.text);
      const reply = JSON.parse(result.text) as { url: string; filePath: string; name: string; size: number; fileId: string };
      assert.equal(reply.filePath, '/flora/sneaker.png');
      assert.equal(reply.size, PNG.length);
      assert.equal(reply.url, `${storageEndpoints(sandbox.url).imagekitUrl}/flora/sneaker.png`);
      assert.ok(reply.url.startsWith(`${sandbox.url}/imagekit/${SANDBOX_IMAGEKIT_ID}/`));
      const served = await send('GET', reply.url);
      assert.equal(served.status, 200);
      assert.equal(served.headers['content-type'], 'image/png');
      assert.ok(served.body.equals(PNG));
      assert.equal((await runStudioShot(reply.url)).status, 'completed');
    });

    it('refuses a wrong or missing key and a missing file', async () => {
      const file = new Blob([PNG], { type: 'image/png' });
      assert.equal((await upload(basic('private_wrong'), { file, fileName: 'a.png' })).status, 401);
      assert.equal((await upload(undefined, { file, fileName: 'a.png' })).status, 401);
      const missing = await upload(basic(SANDBOX_IMAGEKIT_PRIVATE_KEY), { fileName: 'a.png' });
      assert.equal(missing.status, 400);
      assert.match(missing.text, /Missing file parameter/);
      assert.equal(sandbox.storage.objects().filter((object) => object.service === 'imagekit' && object.key.includes('/a')).length, 0);
    });
  });

  describe('runs fetch their inputs', () => {
    let path: string;

    before(async () => {
      path = await putPng('inputs/photo.png');
    });

    it('completes a run whose input is a valid presigned URL, after fetching it', async () => {
      const url = await presign(path);
      const before = sandbox.storage.requests.length;
      const run = await runStudioShot(url);
      assert.equal(run.status, 'completed', JSON.stringify(run));
      assert.equal(run.chargedCost, 5);
      const fetches = sandbox.storage.requests.slice(before).filter((request) => request.path === path);
      assert.deepEqual(
        fetches.map((request) => `${request.operation} ${request.auth} ${request.outcome} ${request.headers['user-agent']}`),
        ['GetObject query ok flora-sandbox-input-fetch/1'],
      );
    });

    it('fails a run whose input URL has expired or was tampered with, charging nothing', async () => {
      const credits = sandbox.credits;
      const expired = await runStudioShot(await presign(path, { signingDate: new Date(Date.now() - 2 * 3600 * 1000), expiresIn: 3600 }));
      assert.equal(expired.status, 'failed');
      assert.equal(expired.errorCode, 'input_unavailable');
      assert.match(expired.errorMessage ?? '', /product_image/);
      assert.match(expired.errorMessage ?? '', /403 \(AccessDenied: Request has expired\)/);
      assert.equal(expired.chargedCost, undefined);

      const tampered = new URL(await presign(path));
      tampered.pathname = `/s3/${SANDBOX_S3_BUCKET}/round/trip.png`;
      const refused = await runStudioShot(tampered.href);
      assert.equal(refused.errorCode, 'input_unavailable');
      assert.match(refused.errorMessage ?? '', /SignatureDoesNotMatch/);
      assert.doesNotMatch(refused.errorMessage ?? '', /X-Amz-Signature/, 'the message leaves the signature out');
      assert.equal(sandbox.credits, credits);
    });

    it('fails a run whose input is not an image or does not exist', async () => {
      const octets = await signedCall('PUT', `/s3/${SANDBOX_S3_BUCKET}/inputs/untyped`, { body: PNG });
      assert.equal(octets.status, 200);
      const untyped = await runStudioShot(await presign(`/s3/${SANDBOX_S3_BUCKET}/inputs/untyped`));
      assert.equal(untyped.errorCode, 'input_unavailable');
      assert.match(untyped.errorMessage ?? '', /binary\/octet-stream/);
      const missing = await runStudioShot(`${sandbox.url}/samples/nothing.png`);
      assert.equal(missing.errorCode, 'input_unavailable');
      assert.match(missing.errorMessage ?? '', /404/);
    });

    it('does not fetch URLs on FLORA’s real hosts', async () => {
      const before = sandbox.storage.requests.length;
      assert.equal((await runStudioShot('https://media.flora.ai/uploads/photo.jpg')).status, 'completed');
      assert.equal(sandbox.storage.requests.length, before);
    });
  });

  describe('samples', () => {
    it('lists sample images and a video without an API key, and serves them', async () => {
      const listed = await send('GET', '/sandbox/samples');
      assert.equal(listed.status, 200, listed.text);
      const { samples } = JSON.parse(listed.text) as { samples: { name: string; url: string; type: string }[] };
      const images = samples.filter((sample) => sample.type === 'imageUrl');
      assert.ok(images.length >= 3);
      assert.deepEqual(
        samples.filter((sample) => sample.type === 'videoUrl').map((sample) => sample.url),
        [`${sandbox.url}/samples/clip.webm`],
      );
      const bodies: string[] = [];
      for (const sample of samples) {
        assert.ok(sample.url.startsWith(`${sandbox.url}/samples/`));
        const served = await send('GET', sample.url);
        assert.equal(served.status, 200);
        assert.equal(served.headers['content-type'], sample.type === 'imageUrl' ? 'image/png' : 'video/webm');
        bodies.push(createHash('sha256').update(served.body).digest('hex'));
      }
      assert.equal(new Set(bodies).size, samples.length, 'every sample differs');
      assert.equal((await runStudioShot(images[0].url)).status, 'completed');
    });

    it('is accepted as input on the sandbox origin only, as the other storage paths are', () => {
      for (const path of [
        '/samples/coral.png',
        '/s3/b/k.png',
        '/gcs/b/k.png',
        `/imagekit/${SANDBOX_IMAGEKIT_ID}/k.png`,
        '/media/j57/x.png',
      ]) {
        assert.deepEqual(checkMediaUrl(`${sandbox.url}${path}`, sandbox.url), { accepted: true }, path);
        assert.equal(checkMediaUrl(`http://127.0.0.1:1${path}`, sandbox.url).accepted, false, path);
      }
      assert.equal(checkMediaUrl(`${sandbox.url}/api/v1/techniques/studio-shot`, sandbox.url).accepted, false);
      assert.equal(checkMediaUrl(`${sandbox.url}/sandbox/samples`, sandbox.url).accepted, false);
    });
  });
});
