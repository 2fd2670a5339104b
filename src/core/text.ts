// Plain-text rules for text that comes from outside (FLORA's replies, settings, the journal): one set of
// characters that are invisible or reorder what is read, one way to put text on one line, and one way to
// shorten it without splitting a character.

/**
 * C0 and C1 controls other than tab and line breaks, and the Unicode bidirectional controls, which can make
 * text read in an order other than the one it is in ("Trojan Source"). Removed wherever such text is kept
 * for people to read.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
export const INVISIBLE_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Line breaks and tabs, and lone surrogates (half a character, which no parser or encoder agrees on). */
const BREAKS_AND_HALVES = /\r\n|[\r\n\u2028\u2029\t]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text without invisible characters, on one line (breaks, tabs and lone surrogates become spaces). */
export function oneLine(text: string): string {
  return text.replace(INVISIBLE_CHARACTERS, '').replace(BREAKS_AND_HALVES, ' ');
}

/**
 * Characters a reader cannot see but a model reading the text can: controls and format characters (zero
 * width spaces, word joiners, the tag characters of "ASCII smuggling", the bidirectional controls), other
 * than tabs and line breaks (shown as spaces) and the zero width joiner that emoji sequences are made of.
 */
const HIDDEN_CHARACTERS = /(?![\t\n\r\u200D])[\p{Cc}\p{Cf}]/gu;

/** How many characters of `text` no one reading it sees (HIDDEN_CHARACTERS), counted as code points. */
export function hiddenCharacterCount(text: string): number {
  return text.match(HIDDEN_CHARACTERS)?.length ?? 0;
}

/** The text without what no one reading it sees (HIDDEN_CHARACTERS): for showing next to a count of them. */
export function withoutHiddenCharacters(text: string): string {
  return text.replace(HIDDEN_CHARACTERS, '');
}

/** At most `limit` UTF-16 units, ending in "…" when shortened, never splitting a surrogate pair. */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = Math.max(0, limit - 1);
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}
