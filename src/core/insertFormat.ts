// How an output URL is written into a document of a given language: an image or video element where the
// language has one, a CSS url(), or the plain URL.

export type InsertFormat = 'auto' | 'plain';

const MARKDOWN = new Set(['markdown', 'mdx']);
const HTML_LIKE = new Set(['html', 'vue', 'svelte', 'astro', 'php', 'handlebars', 'razor', 'erb']);
const JSX = new Set(['javascriptreact', 'typescriptreact']);
const CSS_LIKE = new Set(['css', 'scss', 'less', 'sass', 'stylus', 'postcss']);

export interface InsertableOutput {
  url: string;
  /** The output's type as FLORA reports it: imageUrl, videoUrl, or something else. */
  type: string;
  /** Alt text for images, e.g. the technique's name. */
  alt?: string;
}

export function formatOutputForLanguage(languageId: string, output: InsertableOutput, format: InsertFormat = 'auto'): string {
  const { url, type } = output;
  if (format === 'plain') return url;
  const alt = output.alt ?? 'FLORA output';
  const isVideo = type === 'videoUrl';
  const isImage = type === 'imageUrl';
  if (MARKDOWN.has(languageId)) {
    if (isImage) return `![${escapeMarkdownText(alt)}](${escapeMarkdownUrl(url)})`;
    if (isVideo) return `<video src="${escapeAttribute(url)}" controls></video>`;
    return `[${escapeMarkdownText(alt)}](${escapeMarkdownUrl(url)})`;
  }
  if (HTML_LIKE.has(languageId) || JSX.has(languageId)) {
    const close = JSX.has(languageId) ? ' />' : '>';
    if (isImage) return `<img src="${escapeAttribute(url)}" alt="${escapeAttribute(alt)}"${close}`;
    if (isVideo)
      return JSX.has(languageId)
        ? `<video src="${escapeAttribute(url)}" controls />`
        : `<video src="${escapeAttribute(url)}" controls></video>`;
    return url;
  }
  if (CSS_LIKE.has(languageId) && (isImage || isVideo)) return `url("${url.replace(/["\\\n]/g, (character) => `\\${character}`)}")`;
  return url;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeMarkdownText(text: string): string {
  return text.replace(/([\\[\]])/g, '\\$1');
}

/** Spaces and parentheses would end a Markdown link destination early. */
function escapeMarkdownUrl(url: string): string {
  return url.replace(/ /g, '%20').replace(/\(/g, '%28').replace(/\)/g, '%29');
}
