// A multi-step input: one prompt per step, titled "Heading: Step (n/m)", with a Back button from the second
// step on, validation as the user types and again on accept, and Escape (or the prompt losing its place to
// another) ending the whole input as cancelled. Two kinds of prompt share one lifetime: an input box for a
// typed value and a picker of suggested values that also takes a typed one. Built on createInputBox and
// createQuickPick, looked up on vscode.window at each call, so tests can stand in for them.
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { truncate } from '../core/text';

/** What the user did at a step: a value, Back, or cancelled. */
export const BACK = Symbol('back');
export type StepResult = string | typeof BACK | undefined;

/** Where a step stands in the input, as its prompt needs it. */
export interface StepFrame {
  /** "Heading: Step (n/m)", made inert. */
  title: string;
  /** From the second step on: the prompt shows Back. */
  canGoBack: boolean;
  /** The value accepted at this step before the user went Back, to start from. */
  previous: string | undefined;
}

export interface Step {
  /** The key of the step's value in the result. */
  id: string;
  /** Shown in the title after the heading; server text is fine, it is made inert. */
  name: string;
  /** Opens the step's prompt (showInputStep or showPickStep, given the frame). */
  show(frame: StepFrame): Promise<StepResult>;
}

/**
 * Steps through `steps` in order; Back returns to the previous step with its value kept. Resolves with the
 * value of every step by id, or undefined when the user cancelled.
 */
export async function runSteps(heading: string, steps: readonly Step[]): Promise<Record<string, string> | undefined> {
  const values: Record<string, string> = {};
  let index = 0;
  while (index < steps.length) {
    const step = steps[index];
    if (!step) break;
    const title = vscode.l10n.t({
      message: '{0}: {1} ({2}/{3})',
      args: [labelText(heading), labelText(step.name), index + 1, steps.length],
      comment: 'technique name: input name (step number/number of steps)',
    });
    const result = await step.show({ title, canGoBack: index > 0, previous: values[step.id] });
    if (result === undefined) return undefined;
    if (result === BACK) {
      index = Math.max(0, index - 1);
      continue;
    }
    values[step.id] = result;
    index++;
  }
  return values;
}

/** The reason a value is refused, in the user's words (made inert here), or undefined when it is fine. */
export type Validate = (value: string) => string | undefined;

export interface InputStepOptions {
  frame: StepFrame;
  prompt: string;
  validate: Validate;
  /** A secret: typed masked, and never kept as the value to start from after Back. */
  password?: boolean;
  /** Shown greyed while the box is empty. */
  placeholder?: string;
}

/** An input box: the reason an entered value is refused shows under it, and accepting it keeps the box open. */
export function showInputStep({ frame, prompt, validate, password, placeholder }: InputStepOptions): Promise<StepResult> {
  const box = vscode.window.createInputBox();
  box.title = frame.title;
  box.prompt = prompt;
  box.password = password === true;
  if (placeholder !== undefined) box.placeholder = placeholder;
  box.value = password ? '' : (frame.previous ?? '');
  box.ignoreFocusOut = true;
  const problemOf = (value: string) => {
    const problem = validate(value);
    return problem && labelText(problem);
  };
  return settleStep(box, frame, (finish) => [
    box.onDidChangeValue((value) => {
      // An empty box is not refused while typing (the user may have just cleared it), only when accepted.
      box.validationMessage = value.length > 0 ? problemOf(value) : undefined;
    }),
    box.onDidAccept(() => {
      const problem = problemOf(box.value);
      if (problem) {
        box.validationMessage = problem;
        return;
      }
      finish(box.value);
    }),
  ]);
}

/** A value the picker suggests: `label` is ours (with icons); `value` and `source` are shown inert. */
export interface Suggestion {
  label: string;
  value: string;
  source: string;
  /**
   * An action instead of a value (e.g. an open dialog): run when the item is accepted, its result is the
   * step's value; undefined (the user cancelled it) returns to the picker.
   */
  choose?: () => Promise<string | undefined>;
}

export interface PickStepOptions {
  frame: StepFrame;
  placeholder: string;
  suggestions: readonly Suggestion[];
  validate: Validate;
  /** The detail line of an acceptable value instead of the value itself: our words, with what they embed made inert. */
  detailOf?: (value: string) => string | undefined;
}

interface PickItem extends vscode.QuickPickItem {
  value: string;
  problem: string | undefined;
  choose?: () => Promise<string | undefined>;
}

/**
 * A picker of suggested values that also takes a typed one, offered first as 'Use "…"'. Each item's detail
 * line says why its value would be refused; accepting a refused one keeps the picker open and says why in
 * the title.
 */
export function showPickStep({ frame, placeholder, suggestions, validate, detailOf }: PickStepOptions): Promise<StepResult> {
  const picker = vscode.window.createQuickPick<PickItem>();
  picker.title = frame.title;
  picker.placeholder = placeholder;
  picker.ignoreFocusOut = true;
  picker.matchOnDescription = true;
  // Values (typed, pasted, an earlier output's URL) and sources (a runId) are not ours: inert labels.
  const toItem = (label: string, value: string, source: string): PickItem => {
    const found = validate(value);
    const problem = found && labelText(found);
    return {
      label,
      description: labelText(source),
      detail: problem ? `$(error) ${problem}` : (detailOf?.(value) ?? labelText(value)),
      value,
      problem,
      alwaysShow: true,
    };
  };
  const suggested = suggestions.map((suggestion): PickItem =>
    suggestion.choose
      ? {
          label: suggestion.label,
          description: labelText(suggestion.source),
          value: '',
          problem: undefined,
          choose: suggestion.choose,
          alwaysShow: true,
        }
      : toItem(suggestion.label, suggestion.value, suggestion.source),
  );
  const refresh = () => {
    const typed = picker.value.trim();
    const typedItem = typed
      ? [toItem(vscode.l10n.t('$(edit) Use "{0}"', labelText(truncate(typed, 70))), typed, vscode.l10n.t('typed'))]
      : [];
    picker.items = [...typedItem, ...suggested];
  };
  refresh();
  return settleStep(picker, frame, (finish, away) => [
    picker.onDidChangeValue(refresh),
    picker.onDidAccept(() => {
      const [selected] = picker.selectedItems;
      const typed = picker.value.trim();
      const choice = selected ?? (typed ? toItem(labelText(typed), typed, '') : undefined);
      if (!choice) return;
      if (choice.choose) {
        // The dialog may itself be a quick input (the simple file dialog of remote and web editors), which
        // hides the picker: that hide is not the user leaving the step.
        away.active = true;
        picker.hide();
        const back = () => {
          away.active = false;
          picker.show();
        };
        choice.choose().then((value) => {
          if (value === undefined) back();
          else finish(value);
        }, back);
        return;
      }
      if (choice.problem) {
        // Keep the picker open: the reason is in the item's detail line, and the title says what to do.
        picker.title = vscode.l10n.t({
          message: '{0} — {1}',
          args: [frame.title, choice.problem],
          comment: 'prompt title — why the value was refused',
        });
        return;
      }
      finish(choice.value);
    }),
  ]);
}

type StepWidget = vscode.InputBox | vscode.QuickPick<PickItem>;

/** Set while the step's prompt is hidden on purpose (a dialog of its own is open): a hide then is no cancel. */
interface Away {
  active: boolean;
}

/**
 * The lifetime both prompts share: Back from the second step on, hide (Escape, or another prompt taking its
 * place) as cancelled, the first outcome wins, and then the listeners and the widget are disposed.
 * `listen` registers the prompt's own listeners, which call `finish` with the accepted value.
 */
function settleStep(
  widget: StepWidget,
  frame: StepFrame,
  listen: (finish: (result: StepResult) => void, away: Away) => vscode.Disposable[],
): Promise<StepResult> {
  return new Promise<StepResult>((resolve) => {
    const listeners: vscode.Disposable[] = [];
    let settled = false;
    const away: Away = { active: false };
    const finish = (result: StepResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
      for (const listener of listeners.splice(0)) listener.dispose();
      widget.dispose();
    };
    if (frame.canGoBack) widget.buttons = [vscode.QuickInputButtons.Back];
    listeners.push(
      widget.onDidTriggerButton((button) => button === vscode.QuickInputButtons.Back && finish(BACK)),
      widget.onDidHide(() => away.active || finish(undefined)),
      ...listen(finish, away),
    );
    widget.show();
  });
}
