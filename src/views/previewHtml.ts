// The run preview's HTML shell and its Content Security Policy. Free of vscode, so plain mocha can parse what
// it makes: the shell holds only constants and extension-made values (URIs, a nonce, translated words); run
// data reaches the page only as a typed message and is set as text by media/preview.js, never as HTML.
import { isLoadableUrl, type RunRecord } from '../core/runs';

export interface PreviewShell {
  /** Fresh per document: the only script that runs is the one carrying it. */
  nonce: string;
  /** The webview's own source (`webview.cspSource`): the stylesheet comes from there. */
  cspSource: string;
  /** The exact origins of the run's loadable outputs, space-separated; empty when there are none. */
  origins: string;
  styleUri: string;
  scriptUri: string;
  language: string;
  localId: string;
  /** Translated words: a translation must not be able to add markup either. */
  title: string;
  loading: string;
}

/**
 * The page's policy: nothing by default; images and videos only from the exact origins of this run's
 * loadable outputs; the stylesheet from the extension; only the script with the nonce. Input thumbnails need
 * no source: the page draws their bytes, which arrive in a message, onto a canvas and loads no URL for them.
 */
export function previewCsp(shell: Pick<PreviewShell, 'nonce' | 'cspSource' | 'origins'>): string {
  const media = shell.origins || "'none'";
  return [
    "default-src 'none'",
    `img-src ${media}`,
    `media-src ${media}`,
    `style-src ${shell.cspSource}`,
    `script-src 'nonce-${shell.nonce}'`,
  ].join('; ');
}

/**
 * The exact origins this run's loadable outputs come from, sorted and space-separated: the CSP allows those
 * and nothing else (never an input's). The URL rule admits only plain host names, so the parser's
 * serialised origin cannot end or widen a directive.
 */
export function previewOrigins(record: Pick<RunRecord, 'outputs'>, extraOrigins: readonly string[]): string {
  const origins = new Set<string>();
  for (const output of record.outputs ?? []) {
    if (isLoadableUrl(output.url, extraOrigins)) origins.add(new URL(output.url).origin);
  }
  return [...origins].sort().join(' ');
}

export function previewHtml(shell: PreviewShell): string {
  const text = escapeHtml;
  return `<!DOCTYPE html>
<html lang="${text(encodeURIComponent(shell.language))}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${text(previewCsp(shell))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${text(shell.styleUri)}">
<title>${text(shell.title)}</title>
</head>
<body data-local-id="${text(encodeURIComponent(shell.localId))}">
<main id="app" aria-live="polite"><p class="muted">${text(shell.loading)}</p></main>
<script nonce="${text(shell.nonce)}" src="${text(shell.scriptUri)}"></script>
</body>
</html>`;
}

/** Every value written into the shell goes through this one function, in text and in attributes alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
