// Server text is hostile until it is made inert for the place it goes. VS Code gives meaning to some
// syntax in plain strings: a notification's text turns `[label](command:id?args)` into a link that runs
// the command when clicked, and labels (quick picks, the status bar, progress titles) turn `$(name)` into
// an icon. One function per destination, used for every string that did not come from this extension.
// Free of vscode so that plain mocha can check it against the workbench's own patterns.

/**
 * Written between the characters that would start link or icon syntax. A word joiner is invisible, has
 * no width and does not break the line, so the user reads the text as the server sent it.
 */
const BREAK = '\u2060';

/** Longest text kept for each destination; a megabyte of technique name helps nobody. */
export const MAX_MESSAGE_LENGTH = 2_000;
export const MAX_LABEL_LENGTH = 300;

// Controls other than tab and line breaks, and the Unicode bidirectional controls, which can make text read
// in an order other than the one it is in ("Trojan Source").
// eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029\t]/g;

/**
 * For the text of a notification (showInformationMessage, showWarningMessage, showErrorMessage): no link
 * and no icon syntax survives, line breaks do.
 */
export function messageText(text: string): string {
  return neutralise(truncate(text.replace(INVISIBLE, ''), MAX_MESSAGE_LENGTH));
}

/**
 * For a label on one line: tree item labels and descriptions, quick pick labels, descriptions and details,
 * input box titles, prompts and validation messages, the status bar, progress titles.
 */
export function labelText(text: string): string {
  return neutralise(truncate(text.replace(INVISIBLE, '').replace(LINE_BREAKS, ' '), MAX_LABEL_LENGTH));
}

/** Breaks `](` (a link's label meeting its target) and `$(` (an icon), the two openings VS Code acts on. */
function neutralise(text: string): string {
  return text.replace(/\]\(/g, `]${BREAK}(`).replace(/\$\(/g, `$${BREAK}(`);
}

function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  // Never cut a surrogate pair in half.
  let end = limit - 1;
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * For a Content-Security-Policy source list: the origin of an http(s) URL, re-serialised by the URL parser,
 * or undefined when its host holds anything but letters, digits, dots and hyphens (or is a bracketed IPv6
 * address). The URL parser lets `;`, `'`, `*` and `,` through in host names, and in a CSP they would end
 * the directive or widen it.
 */
export function cspOrigin(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  const host = parsed.hostname;
  const safeHost = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host) || /^\[[0-9A-Fa-f:.]+\]$/.test(host);
  if (!safeHost || !/^\d*$/.test(parsed.port)) return undefined;
  return parsed.origin;
}
