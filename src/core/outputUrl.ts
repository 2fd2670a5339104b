// The one gate an output URL passes before the extension writes it anywhere (a document, the clipboard):
// the preview's own check, then its WHATWG-normalised form with every character RFC 3986 never allows
// unencoded percent-encoded, so that no target language's syntax can be carried in by the URL.
import { FloraInputError } from './errors';
import { message, type Message } from './messages';
import { urlProblem } from './runs';

export type OutputUrlVerdict =
  { readonly url: string; readonly problem?: undefined } | { readonly url?: undefined; readonly problem: Message };

/**
 * Encoded wherever they stand after the origin, for every language and format (a URL is often pasted
 * where the extension cannot see the syntax around it):
 * - what RFC 3986 never allows unencoded, which the WHATWG serialiser leaves as it is in some components
 *   (`{` in a query, `|` and `[` in a path, `\` in a fragment…): `{` opens Svelte/Astro/SCSS/Less/
 *   Handlebars syntax, `\` and `"` end a CSS string, `<` opens markup, a space ends a Markdown link;
 * - `$`, `@` and `'`, which RFC 3986 allows but which start code in shells (`$(…)`), Razor (`@(…)`),
 *   Blade (`@php(…)`) and end single-quoted strings. Servers read `%24`, `%40` and `%27` in a path, query
 *   or fragment as the same data.
 */
const NEVER_UNENCODED = /[^\x21-\x7e]|["<>\\^`{|}[\]$@']/gu;

/**
 * Whether the URL may be inserted or copied, and its insert-safe form when it may: https (or one of
 * `extraOrigins`, the local sandbox's loopback origin) without credentials, exactly as the preview
 * decides what it loads (isLoadableUrl), normalised by the WHATWG parser.
 */
export function checkOutputUrl(raw: string, extraOrigins: readonly string[] = []): OutputUrlVerdict {
  switch (urlProblem(raw, extraOrigins)) {
    case 'invalid':
      return { problem: message('outputUrlInvalid') };
    case 'credentials':
      return { problem: message('outputUrlCredentials') };
    case 'scheme':
      return { problem: message('outputUrlScheme', new URL(raw).protocol) };
    case 'host':
      return { problem: message('outputUrlHost') };
    case undefined:
      break;
  }
  const url = new URL(raw);
  const origin = `${url.protocol}//${url.host}`;
  const href = url.href;
  if (!href.startsWith(origin)) return { problem: message('outputUrlInvalid') };
  const safe = origin + href.slice(origin.length).replace(NEVER_UNENCODED, percentEncode);
  // What is written must read back as the same URL, or the user would get another link than was checked.
  if (new URL(safe).href !== safe) return { problem: message('outputUrlInvalid') };
  return { url: safe };
}

/** The insert-safe form of the URL; throws FloraInputError, with the reason, when it may not be inserted or copied. */
export function safeOutputUrl(raw: string, extraOrigins: readonly string[] = []): string {
  const verdict = checkOutputUrl(raw, extraOrigins);
  if (verdict.problem) throw new FloraInputError([{ inputId: undefined, text: verdict.problem }]);
  return verdict.url;
}

function percentEncode(character: string): string {
  return Array.from(new TextEncoder().encode(character), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}
