/**
 * The document's "Input media URL restrictions": HTTPS only, on a short list of hosts. Hostnames are
 * matched whole, after WHATWG parsing, so look-alikes such as `media.flora.ai.evil.com`,
 * `evilmedia.flora.ai` or `https://ik.imagekit.io@evil.com/` are refused.
 */

export type MediaUrlVerdict = { accepted: true } | { accepted: false; reason: string };

const exactHosts = new Set(['media.flora.ai', 'storage.googleapis.com', 'ik.imagekit.io']);

// Regions look like us-east-1, eu-central-2, ap-southeast-5, us-gov-west-1. Requiring the two-letter
// prefix keeps S3 website endpoints (s3-website-us-east-1) out, which serve HTML rather than objects.
const region = '[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}';
const s3Bucket = '[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]';
const gcsBucket = '[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]';

const hostPatterns: readonly RegExp[] = [
  // Google Cloud Storage, virtual-hosted (the path-style host is in exactHosts).
  new RegExp(`^${gcsBucket}\\.storage\\.googleapis\\.com$`),
  // Amazon S3 path-style: the bucket is the first path segment.
  /^s3\.amazonaws\.com$/,
  new RegExp(`^s3\\.${region}\\.amazonaws\\.com$`),
  new RegExp(`^s3-${region}\\.amazonaws\\.com$`),
  new RegExp(`^s3\\.dualstack\\.${region}\\.amazonaws\\.com$`),
  // Amazon S3 virtual-hosted, including the legacy dash form and dual-stack.
  new RegExp(`^${s3Bucket}\\.s3\\.amazonaws\\.com$`),
  new RegExp(`^${s3Bucket}\\.s3\\.${region}\\.amazonaws\\.com$`),
  new RegExp(`^${s3Bucket}\\.s3-${region}\\.amazonaws\\.com$`),
  new RegExp(`^${s3Bucket}\\.s3\\.dualstack\\.${region}\\.amazonaws\\.com$`),
  // Amazon S3 Transfer Acceleration, which exists only in virtual-hosted form.
  new RegExp(`^${s3Bucket}\\.s3-accelerate\\.amazonaws\\.com$`),
  new RegExp(`^${s3Bucket}\\.s3-accelerate\\.dualstack\\.amazonaws\\.com$`),
];

/**
 * The sandbox-origin paths that serve media: run outputs, the S3 and GCS stand-ins, ImageKit files and
 * the samples. Written out here rather than imported, so this file stays an oracle of its own.
 */
export const SANDBOX_MEDIA_PATH_PREFIXES: readonly string[] = ['/media/', '/s3/', '/gcs/', '/imagekit/', '/samples/'];

export const SUPPORTED_HOSTS_HINT =
  'media.flora.ai, storage.googleapis.com (or <bucket>.storage.googleapis.com), Amazon S3 object URLs, or ik.imagekit.io';

export function isSupportedMediaHost(hostname: string): boolean {
  if (hostname.includes('..')) {
    return false;
  }
  return exactHosts.has(hostname) || hostPatterns.some((pattern) => pattern.test(hostname));
}

/**
 * @param sandboxOrigin the sandbox's own origin, e.g. `http://127.0.0.1:7717`.
 */
export function checkMediaUrl(value: string, sandboxOrigin: string): MediaUrlVerdict {
  // A value the WHATWG parser would silently repair (surrounding spaces, backslashes read as slashes)
  // may be read differently by the service's own parser, so it is refused rather than guessed at.
  if (value !== value.trim() || value.includes('\\')) {
    return { accepted: false, reason: 'is not a valid URL' };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { accepted: false, reason: 'is not a valid URL' };
  }
  // Sandbox-only extension: the real service returns outputs on a supported host (ImageKit), so a
  // client can feed one run's output into the next, and reads uploads from S3, GCS and ImageKit. The
  // sandbox serves its outputs, its stand-ins for those stores and its sample inputs itself over plain
  // HTTP on loopback; accepting exactly those paths of its own origin keeps chaining and uploads
  // testable without a network, while its API paths stay refused as inputs.
  if (url.origin === sandboxOrigin && SANDBOX_MEDIA_PATH_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) {
    return { accepted: true };
  }
  if (url.protocol !== 'https:') {
    return { accepted: false, reason: `must be an https:// URL (got ${url.protocol}//)` };
  }
  if (url.username !== '' || url.password !== '') {
    return { accepted: false, reason: 'must not contain a user name or password' };
  }
  if (url.port !== '') {
    return { accepted: false, reason: `must not name a port (got ${url.port})` };
  }
  if (!isSupportedMediaHost(url.hostname)) {
    return { accepted: false, reason: `is on an unsupported host "${url.hostname}"; use ${SUPPORTED_HOSTS_HINT}` };
  }
  return { accepted: true };
}
