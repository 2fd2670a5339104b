// Where the user's words are made: core's messages (errors, input problems) are ids with arguments because
// core cannot import vscode, and they are translated here, through vscode.l10n; so is the text of the
// errors the extension raises itself. Logs and scripts keep getting English (`error.message`).
import * as vscode from 'vscode';
import { FloraError, FloraInputError, messageOf, SHOW_LOG, type Remedy } from '../core/errors';
import { fillTemplate, isMessage, renderText, type DisplayText, type Message, type TranslatedText } from '../core/messages';
import type { RunRecord } from '../core/runs';

function translate(template: string, ...args: Array<string | number>): string {
  // The template is the translation key: MESSAGE_TEMPLATES' values are in media/l10n/bundle.l10n.json.
  return vscode.l10n.t(template, ...args);
}

/** In the user's language; a plain string is a value (a slug, a type name FLORA sent) and shown as it is. */
export function localize(text: DisplayText | string): string {
  return typeof text === 'string' ? text : renderText(text, translate);
}

/**
 * vscode.l10n.t for the text of an error: the user sees the translation, the log and scripts the English.
 * `npm run l10n` reads its template like a vscode.l10n.t key, so it must be a literal too.
 */
export function l10nText(template: string, ...args: Array<string | number>): TranslatedText {
  return { english: fillTemplate(template, ...args), translated: vscode.l10n.t(template, ...args) };
}

/**
 * An error the extension raises itself, not FLORA's: an English message, translated text for the user, and
 * the action that fixes it (by default the log, which has the details).
 */
export class ExtensionError extends Error {
  constructor(
    readonly text: TranslatedText,
    readonly remedy: Remedy = SHOW_LOG,
  ) {
    super(text.english);
    this.name = 'ExtensionError';
  }
}

/** The action that fixes an error; the log for errors that are not ours (they may be anything). */
export function remedyOf(error: unknown): Remedy {
  return error instanceof FloraError || error instanceof ExtensionError ? error.remedy : SHOW_LOG;
}

/** What to show the user for an error: FLORA's and the extension's translated, any other error's own message. */
export function describeError(error: unknown): string {
  // Every problem, not only the first; each is a whole sentence, so the list reads in any language.
  if (error instanceof FloraInputError) return error.problems.map((problem) => localize(problem.text)).join(' ');
  if (error instanceof FloraError || error instanceof ExtensionError) return localize(error.text);
  return messageOf(error);
}

/** Core's explanation of an error, when it has one, for a run record (plain data, so it can be stored). */
export function explanationOf(error: unknown): Message | undefined {
  return error instanceof FloraError && !(error instanceof FloraInputError) && isMessage(error.text) ? error.text : undefined;
}

/** Why a run failed, in the user's language when the extension explained it, else as FLORA said it. */
export function runErrorText(record: RunRecord): string {
  const own = record.explanation && isMessage(record.explanation) ? localize(record.explanation) : undefined;
  const message = own ?? record.errorMessage;
  if (record.errorCode && message)
    return vscode.l10n.t({ message: '{0}: {1}', args: [record.errorCode, message], comment: 'error code: error message' });
  return record.errorCode || message || '';
}
