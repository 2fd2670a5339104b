// What the tools hand back to a language model. The model reads the result, so server strings in it could
// read as instructions ("ignore the above…"): every value goes in as JSON data under a lead sentence of our
// own, never spliced into our sentences. Results are in English, like logs and the errors scripts receive:
// they are for the model, which answers the person in their own language.
import * as vscode from 'vscode';
import { FloraApiError, FloraCancelledError, FloraInputError } from '../../core/errors';
import { englishText } from '../../core/messages';

/** A part of a result, as 1.95's types know them (a newer host also takes an image part: see runTool.ts). */
export type ResultPart = vscode.LanguageModelTextPart | vscode.LanguageModelPromptTsxPart;

/** A lead sentence and the data it introduces; optional extra parts (an image) after the text. */
export function toolResult(lead: string, data?: unknown, extra: readonly ResultPart[] = []): vscode.LanguageModelToolResult {
  const text = data === undefined ? lead : `${lead}\n${JSON.stringify(data, null, 2)}`;
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text), ...extra]);
}

/**
 * A failure as a result the model can act on: which input to correct and how, or what the person must do.
 * Nothing was sent when this is an input problem or a declined budget.
 */
export function failureResult(error: unknown, slug?: string): vscode.LanguageModelToolResult {
  if (error instanceof FloraInputError) {
    return toolResult('Nothing was sent: some inputs are invalid. Correct each input named below and call the tool again.', {
      problems: error.problems.map((problem) => ({ inputId: problem.inputId, problem: englishText(problem.text) })),
    });
  }
  if (error instanceof FloraCancelledError) return toolResult(`Nothing was sent. ${englishText(error.text)}`);
  if (error instanceof FloraApiError) {
    if (error.isAuthError) {
      return toolResult(
        'FLORA refused the API key. Nothing was run. Ask the person to run the command "FLORA: Set API Key" and then try again.',
        { status: error.status, code: error.code },
      );
    }
    if (error.code === 'insufficient_credits') {
      return toolResult('The FLORA account is out of credits. Nothing was run. Tell the person; they can buy credits at flora.ai.', {
        status: error.status,
        code: error.code,
      });
    }
    if (error.status === 404 && slug !== undefined) {
      return toolResult('FLORA does not know this technique. Call flora_list_techniques for the slugs it offers.', {
        slug,
        status: error.status,
        code: error.code,
      });
    }
    return toolResult('FLORA refused the request.', { status: error.status, code: error.code, message: error.serverMessage });
  }
  return toolResult('The request failed.', { error: error instanceof Error ? error.message : String(error) });
}
