// How a saved output is written into a document: the path from the document's folder to the file, in the
// form the document's language reads as "this file, next to me", then the same constructs insertFormat.ts
// writes for URLs (an image, a video, a link, a url()). The path comes from the user's output folder, which
// may hold any character a file system allows, so each construct carries it as data: percent-encoded where
// it is read as a URL reference, a string literal in JSX, and never able to end the construct early.
import * as path from 'node:path';

import {
  cleanAltText,
  CSS_LIKE,
  escapeCssString,
  escapeMarkdownText,
  escapeMarkup,
  HTML_LIKE,
  JSX,
  MARKDOWN,
  type InsertFormat,
} from './insertFormat';
import { pathReference } from './urlReplacement';

/**
 * Languages whose references go through a bundler (Vite, webpack, Parcel, the Vue/Svelte/Astro compilers),
 * which reads a bare `flora-outputs/x.png` as a package name and only `./` or `../` as a file.
 */
const BUNDLED = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'vue', 'svelte', 'astro']);

/** Whether the language's paths must start with `./` or `../` (bundlers read a bare path as a package). */
export function wantsExplicitlyRelative(languageId: string): boolean {
  return BUNDLED.has(languageId);
}

export interface SavedOutput {
  /** The path as relativeOutputPath gives it: relative, with '/' separators. */
  path: string;
  /** The output's type as FLORA reports it: imageUrl, videoUrl, or something else. */
  type: string;
  /** Alt text for images and the text of links, e.g. the technique's name. */
  alt?: string;
}

export interface SavedPathOptions {
  format?: InsertFormat;
}

/**
 * A drive path (`C:\…`, `c:/…`) or a UNC path (`\\server\share\…`). No POSIX absolute path has either form,
 * so the form alone tells which platform's rules apply, on whichever platform this runs (VS Code's fsPath
 * has the platform's form).
 */
function isWindowsPath(file: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(file) || file.startsWith('\\\\');
}

/**
 * The path from the document's folder to the saved file, with '/' separators, for the document's language.
 * Undefined when no relative path exists (different Windows drives or shares, one Windows and one POSIX
 * path, or the document is untitled: documentFile undefined). A `\` in a POSIX name is part of the name and
 * stays one.
 */
export function relativeOutputPath(documentFile: string | undefined, savedFile: string, languageId: string): string | undefined {
  if (documentFile === undefined) return undefined;
  const windows = isWindowsPath(documentFile);
  if (windows !== isWindowsPath(savedFile)) return undefined;
  const pathApi = windows ? path.win32 : path.posix;
  const relative = pathApi.relative(pathApi.dirname(documentFile), savedFile);
  // Across drives or shares win32.relative gives the absolute target back: there is no relative path.
  if (relative === '' || pathApi.isAbsolute(relative)) return undefined;
  const forward = windows ? relative.replace(/\\/g, '/') : relative;
  return BUNDLED.has(languageId) ? asModulePath(forward) : asRelativeReference(forward);
}

/**
 * RFC 3986 §4.2: a first segment with `:` reads as a URL scheme (a folder named `javascript:x` would be
 * one); `~` and `@` at the start are module or alias prefixes to webpack's css-loader, Vue and Vite. `./`
 * in front makes each a plain relative path again.
 */
function asRelativeReference(relative: string): string {
  const first = relative.split('/')[0] ?? '';
  return first.includes(':') || /^[~@]/.test(first) ? `./${relative}` : relative;
}

/** A path a bundler resolves as a file: starting `./` or `../`. */
function asModulePath(relative: string): string {
  return relative.startsWith('./') || relative.startsWith('../') ? relative : `./${relative}`;
}

/**
 * The text to insert for a saved output, as formatOutputForLanguage does for URLs: an image, video or link
 * in Markdown and HTML-like languages, an element whose source is `new URL("…", import.meta.url).href` in
 * JSX, `url("…")` for media in CSS-like languages, and the path as it is for plain format and other
 * languages.
 */
export function formatSavedPathForLanguage(languageId: string, output: SavedOutput, options: SavedPathOptions = {}): string {
  // Plain text may be a shell script, YAML or a string of any language: every character beyond the
  // unreserved ones is percent-encoded, so a folder named `$(…)` or `'; rm` cannot become code there.
  if (options.format === 'plain') return pathReference(output.path, false);
  const alt = cleanAltText(output.alt);
  const isImage = output.type === 'imageUrl';
  const isVideo = output.type === 'videoUrl';
  if (MARKDOWN.has(languageId)) {
    // As for URLs, a video becomes a link: raw HTML in Markdown is what a hostile value would need.
    const link = `[${escapeMarkdownText(alt)}](${markdownDestination(output.path)})`;
    return isImage ? `!${link}` : link;
  }
  if (JSX.has(languageId)) {
    // Vite, webpack 5 and Parcel 2 copy the file the literal names and put its final URL here.
    const source = `{new URL(${javaScriptString(asModulePath(output.path))}, import.meta.url).href}`;
    if (isImage) return `<img src=${source} alt="${escapeMarkup(alt)}" />`;
    if (isVideo) return `<video src=${source} controls />`;
    return `<a href=${source}>${escapeMarkup(alt)}</a>`;
  }
  if (HTML_LIKE.has(languageId)) {
    const reference = escapeMarkup(urlReference(output.path));
    if (isImage) return `<img src="${reference}" alt="${escapeMarkup(alt)}">`;
    if (isVideo) return `<video src="${reference}" controls></video>`;
    return `<a href="${reference}">${escapeMarkup(alt)}</a>`;
  }
  if (CSS_LIKE.has(languageId) && (isImage || isVideo)) return `url("${escapeCssString(urlReference(output.path))}")`;
  return pathReference(output.path, false);
}

/**
 * What a URL reference must not hold as itself for the file to be the one loaded: ASCII controls, space and
 * `"#%<>?[\]^`{|}` (RFC 3986 and the WHATWG URL parser, which also reads `\` as `/`), plus every non-ASCII
 * separator, control, format (bidirectional), private-use or unassigned character, which a reader cannot
 * see for what it is. Letters and symbols of any script stay readable.
 */
const URL_UNSAFE = /[\p{C}\p{Z}"#%<>?[\\\]^`{|}]/gu;

/** In a Markdown destination `(`, `)` unbalanced end it or nest, and `&` starts an entity that would be decoded. */
const MARKDOWN_DESTINATION_UNSAFE = /[()&]/g;

const utf8 = new TextEncoder();

function percentEncode(character: string): string {
  return Array.from(utf8.encode(character), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** The path as a relative URL reference naming exactly that file. */
function urlReference(relative: string): string {
  return asRelativeReference(relative).replace(URL_UNSAFE, percentEncode);
}

/**
 * Percent-encoding rather than a `<…>` destination: GitHub and every CommonMark reader take it, and in MDX a
 * `<` is where JSX begins.
 */
function markdownDestination(relative: string): string {
  return urlReference(relative).replace(MARKDOWN_DESTINATION_UNSAFE, percentEncode);
}

/**
 * A double-quoted JavaScript string whose value is the text exactly: `"` and `\` escaped, and controls,
 * separators, format (bidirectional) and unpaired surrogate characters as `\u` escapes so the source shows
 * what the string holds.
 */
function javaScriptString(text: string): string {
  const escaped = text.replace(/[\\"]/g, '\\$&').replace(/[\p{C}\p{Z}]/gu, (character) => {
    if (character === ' ') return character;
    const code = character.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}
