// The cost confirmation, the last step of a run's input: "Run for N credits", then each input on its own
// line (picking one leads to its step), Back to the last input, and on Run Again "Edit Inputs…". Shared by
// Run Technique and the Explorer's batch (src/commands/runTechnique.ts, runWithFile.ts).
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import type { TechniqueDetails, TechniqueInput } from '../core/schemas';
import { oneLine, truncate } from '../core/text';
import { Uploads } from '../services/uploads';
import { BACK, showChoiceStep, type ChoiceItem, type ReviewResult } from './multiStepInput';

/** How a value reads in a summary: a local file by its path (marked as a file), a link or text as it is. */
export function displayValue(value: string): string {
  if (!Uploads.isLocalValue(value)) return value;
  const uri = Uploads.toUri(value);
  return uri ? vscode.l10n.t('{0} (local file)', Uploads.displayPath(uri)) : value;
}

/** How much of a value a one-line preview shows (a confirmation's input line, a recent text value). */
export const PREVIEW_LENGTH = 70;

/** An input's line in a confirmation: "name: value", the value as a summary reads it, shortened, inert. */
export function inputLine(input: TechniqueInput, value: string): string {
  return vscode.l10n.t({
    message: '{0}: {1}',
    args: [labelText(input.name ?? input.id), labelText(truncate(oneLine(displayValue(value)), PREVIEW_LENGTH))],
    comment: 'input name: input value',
  });
}

/** What a confirmation shows: its Run item (with the cost), then one line per input. */
export interface Confirmation {
  title: string;
  placeholder: string;
  run: Pick<vscode.QuickPickItem, 'label' | 'description' | 'detail'>;
  /** In order; a line with `edit` leads to that input's step when picked, one without is information. */
  lines: ReadonlyArray<{ label: string; edit?: string }>;
  /** Offer "Edit Inputs…", leading to this input's step (the first). */
  editInputs?: string;
}

interface ConfirmItem extends ChoiceItem {
  /** The item that starts the run. */
  run: boolean;
  edit?: string;
}

/**
 * Shows a confirmation: a step of the input with Back when there are inputs to go back to, else a plain
 * quick pick (nothing to go back to). Resolves 'run', { edit } (an input to change), BACK or undefined.
 */
export async function showConfirmation(confirmation: Confirmation, canGoBack: boolean): Promise<ReviewResult> {
  const { title, placeholder, lines } = confirmation;
  const editable = lines.some((line) => line.edit !== undefined);
  const items: ConfirmItem[] = [
    { ...confirmation.run, run: true },
    ...(confirmation.editInputs !== undefined
      ? [{ label: vscode.l10n.t('$(edit) Edit Inputs…'), run: false, edit: confirmation.editInputs }]
      : []),
    {
      label: editable ? vscode.l10n.t('inputs: pick one to change it') : vscode.l10n.t('inputs'),
      kind: vscode.QuickPickItemKind.Separator,
      run: false,
      inert: true,
    },
    ...lines.map((line): ConfirmItem => ({ label: line.label, run: false, edit: line.edit, inert: line.edit === undefined })),
    { label: '', kind: vscode.QuickPickItemKind.Separator, run: false, inert: true },
    { label: vscode.l10n.t('$(close) Cancel'), run: false },
  ];
  for (;;) {
    const picked = canGoBack
      ? await showChoiceStep({ title, placeholder, items, canGoBack })
      : await vscode.window.showQuickPick(items, { title, placeHolder: placeholder, ignoreFocusOut: true });
    if (picked === BACK || picked === undefined) return picked;
    if (picked.run) return 'run';
    if (picked.edit !== undefined) return { edit: picked.edit };
    if (!picked.inert) return undefined;
    // A line of information, picked in the plain quick pick (which closes on any pick): the same again.
  }
}

/**
 * The cost confirmation of one run: "Run for N credits", then each input on its own line (when
 * `editable`, picking one leads to its step), and on Run Again "Edit Inputs…".
 */
export function confirmRun(
  technique: TechniqueDetails,
  values: Readonly<Record<string, string>>,
  options: { canGoBack: boolean; editable: boolean; editInputs?: boolean },
): Promise<ReviewResult> {
  const first = technique.inputs[0]?.id;
  return showConfirmation(
    {
      title: vscode.l10n.t('{0}: confirm the run', labelText(technique.name)),
      placeholder: vscode.l10n.t('This run costs {0} credits', technique.runCost),
      run: { label: vscode.l10n.t('$(play) Run for {0} credits', technique.runCost) },
      lines: technique.inputs.map((input) => ({
        label: inputLine(input, values[input.id] ?? ''),
        edit: options.editable ? input.id : undefined,
      })),
      editInputs: options.editInputs ? first : undefined,
    },
    options.canGoBack,
  );
}
