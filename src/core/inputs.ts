// Checks a run's inputs against the technique and the document's rules before anything is sent, so a
// mistake costs the user a message, not a request (flora-api.md, "Create run request fields" and
// "Input media URL restrictions").
import { FloraInputError, type InputProblem } from './errors';
import { message, type Message } from './messages';
import { isInputType, type RunInput } from './model';
import { truncate } from './text';
import type { TechniqueDetails, TechniqueInput } from './schemas';

/** How much of a refused value a message quotes. */
const QUOTED_LENGTH = 60;

const bucket = '[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]';
const gcsBucket = '[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]';
const region = '[a-z]{2}(?:-[a-z]+)+-\\d';

/**
 * The hosts the document accepts for imageUrl/videoUrl inputs, as whole-hostname patterns: anchored at
 * both ends so that look-alikes such as `ik.imagekit.io.evil.com` or `evil-media.flora.ai` never match.
 */
const SUPPORTED_HOSTS: ReadonlyArray<{ label: string; pattern: RegExp }> = [
  { label: 'Flora media', pattern: /^media\.flora\.ai$/ },
  { label: 'Google Cloud Storage (path-style)', pattern: /^storage\.googleapis\.com$/ },
  {
    label: 'Google Cloud Storage (virtual-hosted)',
    pattern: new RegExp(`^${gcsBucket}\\.storage\\.googleapis\\.com$`),
  },
  // Amazon S3 path-style: s3.amazonaws.com, s3.<region>.amazonaws.com, legacy s3-<region>.amazonaws.com.
  { label: 'Amazon S3 (path-style)', pattern: new RegExp(`^s3(?:[.-]${region})?\\.amazonaws\\.com$`) },
  { label: 'Amazon S3 (dual-stack)', pattern: new RegExp(`^s3\\.dualstack\\.${region}\\.amazonaws\\.com$`) },
  // Virtual-hosted: <bucket>.s3.amazonaws.com, <bucket>.s3.<region>…, legacy <bucket>.s3-<region>….
  {
    label: 'Amazon S3 (virtual-hosted)',
    pattern: new RegExp(`^${bucket}\\.s3(?:[.-]${region})?\\.amazonaws\\.com$`),
  },
  {
    label: 'Amazon S3 (virtual-hosted, dual-stack)',
    pattern: new RegExp(`^${bucket}\\.s3\\.dualstack\\.${region}\\.amazonaws\\.com$`),
  },
  {
    label: 'Amazon S3 Transfer Acceleration',
    pattern: new RegExp(`^${bucket}\\.s3-accelerate(?:\\.dualstack)?\\.amazonaws\\.com$`),
  },
  { label: 'ImageKit', pattern: /^ik\.imagekit\.io$/ },
];

export function isSupportedMediaHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  // An empty label ("my..bucket") makes no DNS name and no bucket name, though the bucket pattern allows it.
  if (host.split('.').includes('')) return false;
  return SUPPORTED_HOSTS.some(({ pattern }) => pattern.test(host));
}

export interface MediaUrlOptions {
  /**
   * Origins accepted besides the document's hosts. Only the local sandbox uses this: it serves outputs
   * from its own loopback origin and accepts them back as inputs, so outputs chain into new runs there.
   */
  extraOrigins?: readonly string[];
}

/** Why a media URL would be refused, or undefined when FLORA accepts it. */
export function checkMediaUrl(value: string, options: MediaUrlOptions = {}): Message | undefined {
  return normaliseMediaUrl(value, options).problem;
}

export type MediaUrlVerdict =
  { readonly url: string; readonly problem?: undefined } | { readonly url?: undefined; readonly problem: Message };

/**
 * The URL as it is sent (its WHATWG serialisation: host lower-cased and IDNA-mapped, default port, tabs
 * and newlines dropped, dot segments resolved, non-ASCII percent-encoded), or why it is refused. The
 * checks read that same form, so what FLORA receives is exactly what was checked, never a raw string its
 * own parser might read as another host.
 */
export function normaliseMediaUrl(value: string, options: MediaUrlOptions = {}): MediaUrlVerdict {
  const first = checkParsedMediaUrl(value, options);
  if (first.problem) return first;
  // The serialisation must pass the same check and serialise to itself, or it is not the form that was checked.
  const again = checkParsedMediaUrl(first.url, options);
  if (again.problem) return again;
  return again.url === first.url ? again : { problem: message('urlInvalid', truncate(value.trim(), QUOTED_LENGTH)) };
}

function checkParsedMediaUrl(value: string, options: MediaUrlOptions): MediaUrlVerdict {
  const problem = checkUrlText(value, options);
  return problem ? { problem } : { url: new URL(value.trim()).href };
}

function checkUrlText(value: string, options: MediaUrlOptions): Message | undefined {
  const text = value.trim();
  if (text.length === 0) return message('urlEmpty');
  // A WHATWG parser reads "\" as "/", other parsers as part of a user name: "https://media.flora.ai\@evil.com"
  // is media.flora.ai to one and evil.com to another, so it is refused rather than guessed at.
  if (text.includes('\\')) return message('urlBackslash', truncate(text, QUOTED_LENGTH));
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return message('urlInvalid', truncate(text, QUOTED_LENGTH));
  }
  if (options.extraOrigins?.includes(url.origin)) return undefined;
  if (url.protocol !== 'https:') {
    return url.protocol === 'http:' ? message('urlHttp') : message('urlScheme', url.protocol);
  }
  if (url.username || url.password) {
    return message('urlCredentials');
  }
  if (url.port) return message('urlPort', url.port);
  if (!isSupportedMediaHost(url.hostname)) {
    return message('urlHost', url.hostname);
  }
  return undefined;
}

/** Why a value for this input would be refused, or undefined when it is fine. */
export function checkInputValue(input: TechniqueInput, value: string, options: MediaUrlOptions = {}): Message | undefined {
  if (!isInputType(input.type)) return message('inputUnsupportedType', input.type);
  if (input.type === 'text') return value.trim().length === 0 ? message('inputTextEmpty') : undefined;
  return checkMediaUrl(value, options);
}

export function inputLabel(input: TechniqueInput): Message {
  return input.name && input.name !== input.id ? message('inputLabelNamed', input.name, input.id) : message('inputLabel', input.id);
}

/**
 * Turns `{ inputId: value }` into the request's `inputs` array, checking count, ids, types and values
 * against the technique. Throws FloraInputError listing every problem, each naming its input.
 */
export function buildRunInputs(
  technique: TechniqueDetails,
  values: Readonly<Record<string, unknown>>,
  options: MediaUrlOptions = {},
  /** Inputs whose values name local files still to be uploaded: checked for presence only, not as URLs. */
  localInputIds: ReadonlySet<string> = new Set(),
): RunInput[] {
  const problems: InputProblem[] = [];
  const known = new Set(technique.inputs.map((input) => input.id));
  for (const id of Object.keys(values)) {
    if (!known.has(id)) {
      const expected = technique.inputs.map((input) => input.id).join(', ');
      problems.push({
        inputId: id,
        text: expected ? message('inputUnknown', id, technique.name, expected) : message('inputUnknownNoInputs', id, technique.name),
      });
    }
  }
  const runInputs: RunInput[] = [];
  for (const input of technique.inputs) {
    const value = values[input.id];
    if (value === undefined || value === null) {
      problems.push({ inputId: input.id, text: message('inputMissing', inputLabel(input), describeType(input.type)) });
      continue;
    }
    if (typeof value !== 'string') {
      problems.push({ inputId: input.id, text: message('inputNotString', inputLabel(input), describeType(input.type)) });
      continue;
    }
    const problem = localInputIds.has(input.id) ? undefined : checkInputValue(input, value, options);
    if (problem) {
      problems.push({ inputId: input.id, text: message('inputProblem', inputLabel(input), problem) });
      continue;
    }
    if (input.type === 'text') runInputs.push({ id: input.id, type: input.type, value });
    else if (isInputType(input.type)) {
      // Checked above, so the verdict carries the URL; sent in exactly the form the check read.
      const { url } = normaliseMediaUrl(value, options);
      if (url !== undefined) runInputs.push({ id: input.id, type: input.type, value: url });
    }
  }
  const [first, ...rest] = problems;
  if (first) throw new FloraInputError([first, ...rest]);
  return runInputs;
}

/** What an input of this type takes, as a noun phrase that stands alone ("Expected: …"); a type the document does not list is named as FLORA sent it. */
export function describeType(type: string): Message | string {
  switch (type) {
    case 'imageUrl':
      return message('typeImageUrl');
    case 'videoUrl':
      return message('typeVideoUrl');
    case 'text':
      return message('typeText');
    default:
      return type;
  }
}
