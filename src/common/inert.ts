// Server text is hostile until it is made inert for the place it goes. VS Code gives meaning to some
// syntax in plain strings: a notification's text turns `[label](command:id?args)` into a link that runs
// the command when clicked, and labels (quick picks, the status bar, progress titles) turn `$(name)` into
// an icon. One function per destination, used for every string that did not come from this extension.
// Free of vscode so that plain mocha can check it against the workbench's own patterns.
import { INVISIBLE_CHARACTERS, oneLine, truncate } from '../core/text';

/**
 * Written between the characters that would start link or icon syntax. A word joiner is invisible, has
 * no width and does not break the line, so the user reads the text as the server sent it.
 */
const BREAK = '\u2060';

/** Longest text kept for each destination; a megabyte of technique name helps nobody. */
export const MAX_MESSAGE_LENGTH = 2_000;
export const MAX_LABEL_LENGTH = 300;

/**
 * For the text of a notification (showInformationMessage, showWarningMessage, showErrorMessage): no link
 * and no icon syntax survives, line breaks do.
 */
export function messageText(text: string): string {
  return neutralise(truncate(text.replace(INVISIBLE_CHARACTERS, ''), MAX_MESSAGE_LENGTH));
}

/**
 * For a label on one line: tree item labels and descriptions, quick pick labels, descriptions and details,
 * input box titles, prompts and validation messages, the status bar, progress titles.
 */
export function labelText(text: string): string {
  return neutralise(truncate(oneLine(text), MAX_LABEL_LENGTH));
}

/** Breaks `](` (a link's label meeting its target) and `$(` (an icon), the two openings VS Code acts on. */
function neutralise(text: string): string {
  return text.replace(/\]\(/g, `]${BREAK}(`).replace(/\$\(/g, `$${BREAK}(`);
}

/**
 * For text appended to a Markdown tooltip. MarkdownString.appendText escapes Markdown's own syntax, but the
 * renderer still turns a bare `https://…`, `www.…`, `someone@example.com` or `<file:…>` into a link, which
 * a server could use to dress up a phishing link as the extension's; those are broken too.
 */
export function tooltipText(text: string): string {
  return messageText(text)
    .replace(/:\/\//g, `:${BREAK}//`)
    .replace(/\b(www)\./gi, `$1${BREAK}.`)
    .replace(/@/g, `@${BREAK}`)
    .replace(/</g, `<${BREAK}`);
}
