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
const ZERO_WIDTH_NON_JOINER = 0x200c;
const ZERO_WIDTH_JOINER = 0x200d;
const TEXT_PRESENTATION = 0xfe0e;
const EMOJI_PRESENTATION = 0xfe0f;
const COMBINING_KEYCAP = 0x20e3;
const BLACK_FLAG = 0x1f3f4;
const EMOJI = /[\p{Extended_Pictographic}\p{Emoji_Modifier}]/u;
const KEYCAP_BASE = /[0-9#*]/u;
/** Scripts whose words use joiners between their letters (Arabic and Persian, Syriac, the Indic scripts, …). */
const JOINING_SCRIPT =
  /[\p{scx=Arabic}\p{scx=Syriac}\p{scx=Nko}\p{scx=Mongolian}\p{scx=Devanagari}\p{scx=Bengali}\p{scx=Gurmukhi}\p{scx=Gujarati}\p{scx=Oriya}\p{scx=Tamil}\p{scx=Telugu}\p{scx=Kannada}\p{scx=Malayalam}\p{scx=Sinhala}\p{scx=Khmer}\p{scx=Myanmar}]/u;
/** 🏴 and the tags of the three subdivision flags Unicode recommends (England, Scotland, Wales), cancel tag last. */
const SUBDIVISION_FLAGS = ['gbeng', 'gbsct', 'gbwls'].map(
  (region) => `\u{1F3F4}${[...region].map((letter) => String.fromCodePoint(0xe0000 + (letter.codePointAt(0) ?? 0))).join('')}\u{E007F}`,
);

/**
 * The text split into what is shown and how many hidden characters it carries (counted as code points).
 * Only hidden characters that ordinary writing needs are kept, where it needs them, since any choice among
 * invisible characters a person would pass over can carry a message a model reads:
 * - the emoji or text presentation selector right after an emoji (❤️), or the emoji one in a keycap (1️⃣);
 * - a zero width joiner between emoji (👩‍💻), and either joiner between two letters of a script whose words
 *   use them (Persian, the Indic scripts);
 * - the tags of the flags of England, Scotland and Wales, after their 🏴.
 * Every other one is hidden, and so is a second in a row.
 */
function splitHidden(text: string): { shown: string; hidden: number } {
  const points = [...text];
  const hiddenAt = points.map((point) => HIDDEN.test(point));
  let shown = '';
  let hidden = 0;
  // The visible character the hidden ones that follow may belong to (undefined after a hidden one, a joiner
  // or at the start), and whether it already has its selector.
  let base: string | undefined;
  let selected = false;
  let offset = 0;
  for (let index = 0; index < points.length; offset += points[index]?.length ?? 0, index++) {
    const point = points[index] ?? '';
    const code = point.codePointAt(0) ?? 0;
    if (!hiddenAt[index]) {
      const flag = code === BLACK_FLAG ? SUBDIVISION_FLAGS.find((sequence) => text.startsWith(sequence, offset)) : undefined;
      if (flag !== undefined) {
        const length = [...flag].length;
        shown += flag;
        for (let skipped = 1; skipped < length; skipped++) offset += points[index + skipped]?.length ?? 0;
        index += length - 1;
        base = undefined;
        continue;
      }
      shown += point;
      base = point;
      selected = false;
      continue;
    }
    const next = index + 1 < points.length && !hiddenAt[index + 1] ? points[index + 1] : undefined;
    if (base !== undefined && !selected && isSelectorWriting(code, base, next)) {
      shown += point;
      selected = true;
      continue;
    }
    if (base !== undefined && next !== undefined && isJoinerWriting(code, base, next)) {
      shown += point;
      base = undefined;
      continue;
    }
    hidden++;
    base = undefined;
  }
  return { shown, hidden };
}

/** The presentation selector after an emoji (❤️, ☺︎), or the emoji one in a keycap (1️⃣). */
function isSelectorWriting(code: number, base: string, next: string | undefined): boolean {
  if (code !== EMOJI_PRESENTATION && code !== TEXT_PRESENTATION) return false;
  if (EMOJI.test(base)) return true;
  return code === EMOJI_PRESENTATION && KEYCAP_BASE.test(base) && next?.codePointAt(0) === COMBINING_KEYCAP;
}

/** A joiner between emoji (👩‍💻), or between two letters of a script whose words use joiners. */
function isJoinerWriting(code: number, base: string, next: string): boolean {
  if (code === ZERO_WIDTH_JOINER && EMOJI.test(base) && EMOJI.test(next)) return true;
  return (code === ZERO_WIDTH_JOINER || code === ZERO_WIDTH_NON_JOINER) && JOINING_SCRIPT.test(base) && JOINING_SCRIPT.test(next);
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
