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
 * Characters a reader cannot see but a model reading the text can: controls other than tabs and line breaks
 * (shown as spaces), format characters (zero widths, the bidirectional controls, the tag characters of
 * "ASCII smuggling", interlinear annotations), everything Unicode says a renderer may ignore (variation
 * selectors, Hangul fillers, the combining grapheme joiner, unassigned ignorables), and the braille blank.
 * The format characters that print a mark (the Arabic number signs and their kin) are not hidden.
 */
const HIDDEN =
  /(?![\t\n\r\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u{110BD}\u{110CD}])[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;
const JOINERS = new Set([0x200c, 0x200d]);
const isVariationSelector = (code: number) => (code >= 0xfe00 && code <= 0xfe0f) || (code >= 0xe0100 && code <= 0xe01ef);
const isTag = (code: number) => code >= 0xe0020 && code <= 0xe007e;
const BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;

/**
 * The text split into what is shown and how many hidden characters it carries (counted as code points).
 * Hidden characters that are part of ordinary writing are kept: one joiner (zero width joiner or non-joiner)
 * between two visible characters (emoji sequences; Persian and Indic words), one variation selector after a
 * visible character (❤️), and a subdivision flag's tag sequence after 🏴 (England, Scotland, Wales). A
 * second one in a row, or one anywhere else, is hidden.
 */
function splitHidden(text: string): { shown: string; hidden: number } {
  const points = [...text];
  const codes = points.map((point) => point.codePointAt(0) ?? 0);
  const hiddenAt = points.map((point) => HIDDEN.test(point));
  let shown = '';
  let hidden = 0;
  // What came just before: a visible character, one followed by its variation selector, or anything else.
  let previous: 'visible' | 'selected' | 'other' = 'other';
  for (let index = 0; index < points.length; index++) {
    const code = codes[index] ?? 0;
    const point = points[index] ?? '';
    if (!hiddenAt[index]) {
      shown += point;
      previous = 'visible';
      continue;
    }
    const nextVisible = index + 1 < points.length && !hiddenAt[index + 1];
    if (previous !== 'other' && JOINERS.has(code) && nextVisible) {
      shown += point;
      previous = 'other';
      continue;
    }
    if (previous === 'visible' && isVariationSelector(code)) {
      shown += point;
      previous = 'selected';
      continue;
    }
    if (isTag(code) && codes[index - 1] === BLACK_FLAG) {
      // A flag's tag sequence: a few tags, then a cancel tag.
      let end = index;
      while (end < points.length && isTag(codes[end] ?? 0)) end++;
      if (codes[end] === CANCEL_TAG && end - index <= 8) {
        shown += points.slice(index, end + 1).join('');
        index = end;
        previous = 'visible';
        continue;
      }
    }
    hidden++;
    previous = 'other';
  }
  return { shown, hidden };
}

/** How many characters of `text` no one reading it sees (splitHidden), counted as code points. */
export function hiddenCharacterCount(text: string): number {
  return splitHidden(text).hidden;
}

/** The text without what no one reading it sees (splitHidden): for showing next to a count of them. */
export function withoutHiddenCharacters(text: string): string {
  return splitHidden(text).shown;
}

/** At most `limit` UTF-16 units, ending in "…" when shortened, never splitting a surrogate pair. */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = Math.max(0, limit - 1);
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}
