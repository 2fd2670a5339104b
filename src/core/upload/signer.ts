// SigV4 for S3 and GCS's XML API, through aws4fetch, which only computes signatures here: requests are sent
// with undici by s3.ts. The one file that uses aws4fetch, through ./vendor, which the bundler turns into
// the separate dist/aws.js (see esbuild.mjs), loaded at the first upload.
import { AwsV4Signer } from './vendor';
import type { StorageCredentials } from './types';

export interface SigningRequest {
  method: string;
  url: URL;
  /** Headers to send and sign (lower-case names); content-type and content-length are sent but not signed. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body: signed as x-amz-content-sha256, and checked by the store against the body. */
  payloadSha256: string;
  credentials: StorageCredentials;
  region: string;
  /** When the request is signed (epoch ms). */
  now: number;
}

/** The headers of a header-signed request: the given ones plus authorization, x-amz-date and the rest. */
export async function signRequest(request: SigningRequest): Promise<Record<string, string>> {
  const signer = new AwsV4Signer({
    method: request.method,
    url: request.url.href,
    headers: { ...request.headers, 'x-amz-content-sha256': request.payloadSha256 },
    accessKeyId: request.credentials.accessKeyId,
    secretAccessKey: request.credentials.secretAccessKey,
    sessionToken: request.credentials.sessionToken,
    service: 's3',
    region: request.region,
    datetime: amzDate(request.now),
  });
  const signed = await signer.sign();
  const headers: Record<string, string> = {};
  signed.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return headers;
}

export interface PresignRequest {
  url: URL;
  credentials: StorageCredentials;
  region: string;
  now: number;
  expiresSeconds: number;
}

/** A presigned GET URL (query-signed, UNSIGNED-PAYLOAD), valid for `expiresSeconds` from `now`. */
export async function presignGet(request: PresignRequest): Promise<string> {
  const url = new URL(request.url.href);
  url.searchParams.set('X-Amz-Expires', String(request.expiresSeconds));
  const signer = new AwsV4Signer({
    method: 'GET',
    url: url.href,
    accessKeyId: request.credentials.accessKeyId,
    secretAccessKey: request.credentials.secretAccessKey,
    sessionToken: request.credentials.sessionToken,
    service: 's3',
    region: request.region,
    datetime: amzDate(request.now),
    signQuery: true,
  });
  const signed = await signer.sign();
  return signed.url.href;
}

/** SigV4's date form: 20261201T213700Z. */
function amzDate(now: number): string {
  return new Date(now).toISOString().replace(/[:-]|\.\d{3}/g, '');
}
