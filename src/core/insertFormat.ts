// How an output URL is written into a document of a given language: an image or video element where the
// language has one, a link for other outputs, a CSS url(), or the plain URL. The URL and the technique's
// name come from the server, so each is made inert for the language it lands in: whatever they hold, the
// snippet parses as exactly the one element, link or url() we mean, and no template syntax comes alive.
import { safeOutputUrl } from './outputUrl';
import { oneLine } from './text';

export type InsertFormat = 'auto' | 'plain';

export const MARKDOWN = new Set(['markdown', 'mdx']);
export const HTML_LIKE = new Set(['html', 'vue', 'svelte', 'astro', 'php', 'handlebars', 'razor', 'erb']);
export const JSX = new Set(['javascriptreact', 'typescriptreact']);
export const CSS_LIKE = new Set(['css', 'scss', 'less', 'sass', 'stylus', 'postcss']);

/** Long enough for any real technique name; a name longer than this is someone's payload, not a label. */
export const MAX_ALT_LENGTH = 120;
const DEFAULT_ALT = 'FLORA output';

export interface InsertableOutput {
  url: string;
  /** The output's type as FLORA reports it: imageUrl, videoUrl, or something else. */
  type: string;
  /** Alt text for images and the text of links, e.g. the technique's name. */
  alt?: string;
}

export interface InsertOptions {
  format?: InsertFormat;
  /** Origins accepted besides https (the local sandbox's), as for the preview. */
  extraOrigins?: readonly string[];
}

/**
 * The text to insert for the output. Throws FloraInputError, with the reason, for a URL the preview would
 * not load either: nothing is inserted then.
 */
export function formatOutputForLanguage(languageId: string, output: InsertableOutput, options: InsertOptions = {}): string {
  const url = safeOutputUrl(output.url, options.extraOrigins);
  if (options.format === 'plain') return url;
  const alt = cleanAltText(output.alt);
  const isVideo = output.type === 'videoUrl';
  const isImage = output.type === 'imageUrl';
  if (MARKDOWN.has(languageId)) {
    // A video becomes a link: raw HTML in Markdown is what a hostile value would need to break out.
    const link = `[${escapeMarkdownText(alt)}](${escapeMarkdownUrl(url)})`;
    return isImage ? `!${link}` : link;
  }
  if (JSX.has(languageId)) {
    if (isImage) return `<img src="${escapeMarkup(url)}" alt="${escapeMarkup(alt)}" />`;
    if (isVideo) return `<video src="${escapeMarkup(url)}" controls />`;
    return `<a href="${escapeMarkup(url)}">${escapeMarkup(alt)}</a>`;
  }
  if (HTML_LIKE.has(languageId)) {
    if (isImage) return `<img src="${escapeMarkup(url)}" alt="${escapeMarkup(alt)}">`;
    if (isVideo) return `<video src="${escapeMarkup(url)}" controls></video>`;
    return `<a href="${escapeMarkup(url)}">${escapeMarkup(alt)}</a>`;
  }
  if (CSS_LIKE.has(languageId) && (isImage || isVideo)) return `url("${escapeCssString(url)}")`;
  return url;
}

/**
 * The name as one line of plain text (core/text.ts: no controls or bidirectional overrides, which would
 * reorder what the reader sees; breaks become spaces), runs of spaces one, and at most MAX_ALT_LENGTH
 * characters.
 */
export function cleanAltText(name: string | undefined): string {
  const line = oneLine(name ?? '')
    .replace(/\p{Zs}+/gu, ' ')
    .trim();
  const characters = Array.from(line);
  const capped =
    characters.length > MAX_ALT_LENGTH
      ? `${characters
          .slice(0, MAX_ALT_LENGTH - 1)
          .join('')
          .trimEnd()}…`
      : line;
  return capped.length > 0 ? capped : DEFAULT_ALT;
}

/**
 * Entities for attribute values and text alike. Beyond HTML's own (& " ' < >): `{ }` open expressions in
 * Svelte, Astro and JSX and `{{ }}` in Vue and Handlebars; `@` starts Razor code. Their numeric entities
 * read back as the same characters in every one of these languages.
 */
export function escapeMarkup(text: string): string {
  return text.replace(/[&"'<>{}@]/g, (character) => MARKUP_ENTITIES[character] ?? character);
}

const MARKUP_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '"': '&quot;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
  '{': '&#123;',
  '}': '&#125;',
  '@': '&#64;',
};

/**
 * CommonMark lets any ASCII punctuation be backslash-escaped, so escaping all of it leaves no emphasis,
 * link, entity, HTML or (in MDX) `{expression}` or `<Component>` syntax in the text.
 */
export function escapeMarkdownText(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/**
 * The safe URL has no spaces, controls or `<>`; what could still end the destination early or change it
 * is `(`/`)` (unbalanced) and `&` (an entity reference is decoded there), and `\` itself.
 */
function escapeMarkdownUrl(url: string): string {
  return url.replace(/[()&\\]/g, '\\$&');
}

/** The safe URL has none of these, but a CSS string would end or break at any of them. */
export function escapeCssString(url: string): string {
  return url.replace(/["\\]/g, '\\$&').replace(/[\n\r\f]/g, (character) => `\\${character.charCodeAt(0).toString(16)} `);
}
