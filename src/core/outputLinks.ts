// Finding output URLs, and the paths of saved outputs, in a document's text: what the diagnostics, their
// quick fixes, the hovers and the workspace-wide replacement all read. Plain text in, offsets out, so it is
// the same in the editor and in a bench, and a whole file is scanned in one pass.
//
// Where a URL ends is decided character by character rather than by one regular expression, because the
// answer depends on context a regular expression would need backtracking for: the URLs the extension
// writes (insertFormat.ts) may hold `(`, `)`, `&` and end in `.` or `?` — safeOutputUrl leaves those as the
// WHATWG serialiser does — and each language then wraps them its own way: Markdown as `\(`, `\)`, `\&`
// inside `( )`, HTML and JSX as `&amp;` inside quotes, CSS inside `url("…")`.
import { HTML_LIKE, JSX, MARKDOWN } from './insertFormat';

export interface FoundUrl {
  /** Offset of the URL's first character. */
  start: number;
  /** Offset just past its last character. */
  end: number;
  /** Exactly text.slice(start, end): the URL as written, with the language's escapes (see hrefOfWrittenUrl). */
  url: string;
}

/**
 * Where a URL may start: `http://` or `https://`, any case. Whether the character before it is a letter
 * or digit (`xhttps://` is part of a word, not a URL) is checked in code: a lookbehind would be evaluated
 * at every position of the text, and skipping a refused match here only skips its scheme, so the scan
 * stays one linear pass.
 */
const SCHEME = /https?:\/\//gi;

const enum Kind {
  /** Part of the URL. */
  Accept,
  /** Ends the URL before it: whitespace, controls, quotes and the brackets and marks of code and markup. */
  Stop,
  /** `.,;:!?`: part of the URL only when more of it follows (otherwise sentence punctuation). */
  Trailing,
  Open,
  Close,
  Backslash,
}

const ASCII_KINDS: readonly Kind[] = (() => {
  const kinds = new Array<Kind>(128).fill(Kind.Accept);
  for (let code = 0; code <= 0x20; code++) kinds[code] = Kind.Stop;
  kinds[0x7f] = Kind.Stop;
  for (const character of '"\'`<>[]{}|^') kinds[character.charCodeAt(0)] = Kind.Stop;
  for (const character of '.,;:!?') kinds[character.charCodeAt(0)] = Kind.Trailing;
  kinds['('.charCodeAt(0)] = Kind.Open;
  kinds[')'.charCodeAt(0)] = Kind.Close;
  kinds['\\'.charCodeAt(0)] = Kind.Backslash;
  return kinds;
})();

/**
 * Beyond ASCII, what no URL as written contains: C1 controls, Unicode spaces and line breaks, and the
 * zero-width and bidirectional controls, which would make the range differ from what the reader sees.
 */
function isStopBeyondAscii(code: number): boolean {
  return (
    (code >= 0x80 && code <= 0xa0) ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202f) ||
    (code >= 0x205f && code <= 0x206f) ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function kindOf(code: number): Kind {
  return code < 128 ? (ASCII_KINDS[code] ?? Kind.Accept) : isStopBeyondAscii(code) ? Kind.Stop : Kind.Accept;
}

/** Markdown's escapes for what escapeMarkdownUrl escapes in a URL; a safe URL never holds a raw `\`. */
function isEscapable(code: number): boolean {
  return code === 0x28 || code === 0x29 || code === 0x26;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;

function isWordCharacterBefore(text: string, offset: number): boolean {
  if (offset === 0) return false;
  const code = text.charCodeAt(offset - 1);
  if (code < 128) return (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a);
  // A letter outside the Basic Multilingual Plane ends in a low surrogate.
  const isLowSurrogate = code >= 0xdc00 && code <= 0xdfff;
  const codePoint = isLowSurrogate && offset >= 2 ? text.codePointAt(offset - 2) : code;
  return LETTER_OR_DIGIT.test(String.fromCodePoint(codePoint ?? code));
}

/** Quotes (and `<…>`, Markdown's autolink) that, filled exactly by a URL, make every character of it part of it. */
const CLOSER_OF: Readonly<Record<string, string>> = { '"': '"', "'": "'", '`': '`', '<': '>' };

/** `;` ending `&amp;`, `&#38;` or `&#x26;`: HTML's escape of a `&` in the URL, not punctuation. */
const ENTITY_BEFORE = /&(?:[a-z][a-z0-9]{0,31}|#[0-9]{1,8}|#x[0-9a-f]{1,8})$/i;

function endsEntity(text: string, semicolon: number, bodyStart: number): boolean {
  const from = Math.max(bodyStart, semicolon - 34);
  return ENTITY_BEFORE.test(text.slice(from, semicolon));
}

interface Extent {
  /** Past the URL's last character; equal to the body's start when there is no URL. */
  end: number;
  /** Where scanning for the next URL resumes. */
  resume: number;
}

/**
 * Where the URL whose scheme ends at `bodyStart` ends. One forward pass over it:
 * - a `(`…`)` pair inside is part of it; a `)` with no `(` before it ends a URL that a `(` opened (a
 *   Markdown destination, CSS's unquoted url()), and elsewhere is part of it only when more follows, as in
 *   GitHub's autolinks;
 * - `\(`, `\)` and `\&` (Markdown's escapes) are part of it, any other `\` ends it;
 * - trailing `.,;:!?` are sentence punctuation, except a `;` closing a character reference;
 * - a URL filling a pair of quotes exactly (an attribute, a string, CSS's url("…")) keeps every character.
 */
function extentOf(text: string, start: number, bodyStart: number): Extent {
  const opener = start > 0 ? text[start - 1] : undefined;
  const enclosedByParenthesis = opener === '(';
  let depth = 0;
  let end = bodyStart;
  let index = bodyStart;
  for (; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const kind = kindOf(code);
    if (kind === Kind.Accept) {
      end = index + 1;
    } else if (kind === Kind.Stop) {
      break;
    } else if (kind === Kind.Trailing) {
      if (code === 0x3b && endsEntity(text, index, bodyStart)) end = index + 1;
    } else if (kind === Kind.Open) {
      depth++;
      end = index + 1;
    } else if (kind === Kind.Close) {
      if (depth > 0) {
        depth--;
        end = index + 1;
      } else if (enclosedByParenthesis) {
        return { end: index, resume: index };
      }
    } else {
      if (index + 1 >= text.length || !isEscapable(text.charCodeAt(index + 1))) break;
      index++;
      end = index + 1;
    }
  }
  const closer = opener === undefined ? undefined : CLOSER_OF[opener];
  if (closer !== undefined && index < text.length && text[index] === closer) return { end: index, resume: index };
  return { end, resume: index };
}

/**
 * Calls `visit` with each URL in text[from, to) in order until it returns true. `to` bounds only where
 * URLs may start: one that starts before it is followed to its end.
 */
function scan(text: string, from: number, to: number, visit: (start: number, end: number) => boolean): void {
  // Its own copy (V8 shares the compiled code): a visitor that scans another text cannot move this one's lastIndex.
  const scheme = new RegExp(SCHEME);
  scheme.lastIndex = from;
  for (;;) {
    const match = scheme.exec(text);
    if (match === null || match.index >= to) return;
    const start = match.index;
    const bodyStart = start + match[0].length;
    if (isWordCharacterBefore(text, start)) continue;
    const extent = extentOf(text, start, bodyStart);
    scheme.lastIndex = Math.max(bodyStart, extent.resume);
    if (extent.end > bodyStart && visit(start, extent.end)) return;
  }
}

/** Every http(s) URL in the text that `isCandidate` accepts, in order. */
export function findOutputUrls(text: string, isCandidate: (url: string) => boolean): FoundUrl[] {
  const found: FoundUrl[] = [];
  scan(text, 0, text.length, (start, end) => {
    const url = text.slice(start, end);
    if (isCandidate(url)) found.push({ start, end, url });
    return false;
  });
  return found;
}

/**
 * The URL found at an offset (for hovers and code actions; an offset just past its end counts, as for a
 * word at the cursor), or undefined. Only the whitespace-delimited stretch around the offset is read:
 * no URL crosses whitespace, and whitespace before a URL reads as the start of the text does.
 */
export function outputUrlAt(text: string, offset: number, isCandidate: (url: string) => boolean): FoundUrl | undefined {
  if (offset < 0 || offset > text.length) return undefined;
  let from = Math.min(offset, text.length);
  while (from > 0 && !isWhitespace(text.charCodeAt(from - 1))) from--;
  let result: FoundUrl | undefined;
  scan(text, from, offset + 1, (start, end) => {
    if (offset > end) return false;
    const url = text.slice(start, end);
    if (isCandidate(url)) result = { start, end, url };
    return true;
  });
  return result;
}

function isWhitespace(code: number): boolean {
  return (
    code <= 0x20 ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** FLORA's output hosts, exactly: on ik.imagekit.io only FLORA's own account's path is FLORA's. */
const OUTPUT_HOSTS: readonly { host: string; pathPrefix: string }[] = [
  { host: 'media.flora.ai', pathPrefix: '/' },
  { host: 'ik.imagekit.io', pathPrefix: '/flora/' },
];

/**
 * FLORA's own output hosts: https://media.flora.ai/… and https://ik.imagekit.io/flora/…. Exact host (as
 * the WHATWG parser normalises it: case, default port), https only, no credentials, and something after
 * the prefix — the host alone is not an output.
 */
export function isFloraOutputHost(url: string): boolean {
  if (isPlainlyElsewhere(url)) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') return false;
  return OUTPUT_HOSTS.some(
    ({ host, pathPrefix }) => parsed.host === host && parsed.pathname.startsWith(pathPrefix) && parsed.pathname.length > pathPrefix.length,
  );
}

/**
 * An authority of lowercase-able ASCII letters, digits, dots and hyphens, ended by a path, query or fragment,
 * is the host the WHATWG parser would give (lowercased), so another one is answered without parsing: most
 * URLs in a document are someone else's, and the diagnostics ask about each on every change. Anything
 * else (a port, credentials, escapes, spaces the parser strips, `https:///`) is left to the parser.
 */
const PLAIN_AUTHORITY = /^https?:\/\/([a-z0-9.-]+)(?:[/?#\\]|$)/i;

function isPlainlyElsewhere(url: string): boolean {
  const host = PLAIN_AUTHORITY.exec(url)?.[1]?.toLowerCase();
  return host !== undefined && !OUTPUT_HOSTS.some((output) => output.host === host);
}

const MARKDOWN_ESCAPES = /\\([()&])|&(amp|lt|gt|quot|apos|#[0-9]{1,8}|#x[0-9a-f]{1,8});/gi;
const CHARACTER_REFERENCE = /&(amp|lt|gt|quot|apos|#[0-9]{1,8}|#x[0-9a-f]{1,8});/gi;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The URL a found URL stands for, as the document's language reads it: Markdown's backslash escapes and
 * character references (read in one pass, so `\&amp;` stays `&amp;` as CommonMark reads it), and
 * character references in HTML-like and JSX documents. Elsewhere the text is the URL. Use it before
 * downloading or looking a found URL up in the history; keep `url` and the offsets for edits.
 */
export function hrefOfWrittenUrl(written: string, languageId: string): string {
  if (MARKDOWN.has(languageId)) {
    return written.replace(MARKDOWN_ESCAPES, (whole, escaped: string | undefined, reference: string | undefined) =>
      escaped !== undefined ? escaped : decodeReference(whole, reference ?? ''),
    );
  }
  // formatOutputForLanguage writes `&` as `&amp;` in these, and each reads character references back.
  if (HTML_LIKE.has(languageId) || JSX.has(languageId))
    return written.replace(CHARACTER_REFERENCE, (whole, reference: string) => decodeReference(whole, reference));
  return written;
}

function decodeReference(whole: string, reference: string): string {
  const named = NAMED[reference.toLowerCase()];
  if (named !== undefined && reference === reference.toLowerCase()) return named;
  if (!reference.startsWith('#')) return whole;
  const codePoint = reference[1] === 'x' || reference[1] === 'X' ? parseInt(reference.slice(2), 16) : parseInt(reference.slice(1), 10);
  // What HTML replaces or refuses (NUL, surrogates, beyond Unicode) is left as written rather than guessed.
  if (!(codePoint > 0 && codePoint <= 0x10ffff) || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return whole;
  return String.fromCodePoint(codePoint);
}

/** Ends a path token on either side. */
function isPathDelimiter(code: number): boolean {
  return (
    isWhitespace(code) ||
    code === 0x22 ||
    code === 0x27 ||
    code === 0x60 ||
    code === 0x28 ||
    code === 0x29 ||
    code === 0x3c ||
    code === 0x3e
  );
}

/**
 * The token that looks like a file path at an offset (for hovers over saved outputs' paths): delimited by
 * quotes, parentheses, whitespace, `<>` and backticks, and by `=` at its start (an unquoted attribute).
 * `start`/`end` are the token as written; `path` is it without a trailing `?query`/`#hash` and
 * percent-decoded when that is valid. Whether the path names a saved output is the caller's question.
 */
export function pathTokenAt(text: string, offset: number): { start: number; end: number; path: string } | undefined {
  if (offset < 0 || offset > text.length) return undefined;
  let start = offset;
  while (start > 0) {
    const code = text.charCodeAt(start - 1);
    if (isPathDelimiter(code) || code === 0x3d) break;
    start--;
  }
  let end = offset;
  while (end < text.length && !isPathDelimiter(text.charCodeAt(end))) end++;
  if (end === start) return undefined;
  const token = text.slice(start, end);
  const suffix = token.search(/[?#]/);
  const written = suffix === -1 ? token : token.slice(0, suffix);
  if (written.length === 0) return undefined;
  return { start, end, path: percentDecoded(written) };
}

function percentDecoded(written: string): string {
  if (!written.includes('%')) return written;
  try {
    return decodeURIComponent(written);
  } catch {
    return written;
  }
}
