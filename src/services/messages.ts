// Where core's messages (errors, input problems) become text in the user's language. Core keeps them as
// ids with arguments because it cannot import vscode; every one is translated here, through vscode.l10n.
import * as vscode from 'vscode';
import { FloraError, FloraInputError } from '../core/errors';
import { renderText, type DisplayText } from '../core/messages';

function translate(template: string, ...args: Array<string | number>): string {
  // The template is the translation key: MESSAGE_TEMPLATES' values are in l10n/bundle.l10n.json.
  return vscode.l10n.t(template, ...args);
}

export function localize(text: DisplayText): string {
  return renderText(text, translate);
}

/** What to show the user for an error: FLORA's errors translated, any other error's own message. */
export function describeError(error: unknown): string {
  // Every problem, not only the first; each is a whole sentence, so the list reads in any language.
  if (error instanceof FloraInputError) return error.problems.map((problem) => localize(problem.text)).join(' ');
  if (error instanceof FloraError) return localize(error.text);
  return error instanceof Error ? error.message : String(error);
}
