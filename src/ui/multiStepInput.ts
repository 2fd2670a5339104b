// A multi-step input: one prompt per step, titled "Heading: Step (n/m)", with a Back button from the second
// step on, validation as the user types and again on accept, and Escape (or the prompt losing its place to
// another) ending the whole input as cancelled. An optional review after the last step (the cost
// confirmation) has Back too, and can send the user to any step. Three kinds of prompt share one lifetime:
// an input box for a typed value, a picker of suggested values that also takes a typed one, and a picker of
// choices (the review). Built on createInputBox and createQuickPick, looked up on vscode.window at each
// call, so tests can stand in for them.
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

/** What the user did at the review after the last step: go ahead, change a step's value, Back, or cancel. */
export type ReviewResult = 'run' | { edit: string } | typeof BACK | undefined;

export interface RunStepsOptions {
  /** Step id → the value a step starts from (Run Again's Edit Inputs…); a value accepted since wins. */
  initial?: Readonly<Record<string, string>>;
  /** The id of the step to start at (the input the user chose to change); the first step otherwise. */
  startAt?: string;
  /**
   * Shown once every step has a value, with them all: 'run' finishes, { edit } goes to that step, BACK to
   * the last step (offered when `canGoBack`, i.e. there are steps), undefined cancels the whole input.
   */
  review?: (values: Readonly<Record<string, string>>, canGoBack: boolean) => Promise<ReviewResult>;
}

/**
 * Steps through `steps` in order; Back returns to the previous step with its value kept. Resolves with the
 * value of every step by id, or undefined when the user cancelled.
 */
export async function runSteps(
  heading: string,
  steps: readonly Step[],
  options: RunStepsOptions = {},
): Promise<Record<string, string> | undefined> {
  const values: Record<string, string> = {};
  for (const step of steps) {
    const initial = options.initial?.[step.id];
    if (initial !== undefined) values[step.id] = initial;
  }
  const indexOf = (id: string | undefined) =>
    Math.max(
      0,
      steps.findIndex((step) => step.id === id),
    );
  let index = options.startAt === undefined ? 0 : indexOf(options.startAt);
  for (;;) {
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
    if (!options.review) return values;
    const outcome = await options.review({ ...values }, steps.length > 0);
    if (outcome === 'run') return values;
    if (outcome === undefined || (outcome === BACK && steps.length === 0)) return undefined;
    // Back from the review is Back from a step: to the one before it, the last, with every value kept.
    index = outcome === BACK ? steps.length - 1 : indexOf(outcome.edit);
  }
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
  // The one place a refusal shows is the box's validation message, set from the value now on every change
  // (a value it starts from included), so it never describes a value the box no longer holds.
  if (box.value.length > 0) box.validationMessage = problemOf(box.value);
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
  /** What the field starts with, as if typed (the value accepted before Back, for a text input). */
  value?: string;
}

interface PickItem extends vscode.QuickPickItem {
  value: string;
  problem: string | undefined;
  choose?: () => Promise<string | undefined>;
}

/**
 * A picker of suggested values that also takes a typed one, offered first as 'Use "…"'. Why a value would
 * be refused is said in one place: that value's own detail line. The typed item is rebuilt from the field
 * on every keystroke, so its reason is always the one for what is typed now, and goes with the text (a
 * cleared field has no typed item, so no reason). The title never carries a reason: it is not rebuilt as
 * the user types, so a reason there would outlive the value it was about, and would say it twice.
 * Accepting a refused value keeps the picker open with that item and its reason in view.
 */
export function showPickStep({ frame, placeholder, suggestions, validate, detailOf, value }: PickStepOptions): Promise<StepResult> {
  const picker = vscode.window.createQuickPick<PickItem>();
  picker.title = frame.title;
  if (value !== undefined) picker.value = value;
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
      // Open still: the refused item's detail line already says why.
      if (choice.problem) return;
      finish(choice.value);
    }),
  ]);
}

/** A choice of the review: accepted, it is the step's result; an inert one (a line of information) is not. */
export interface ChoiceItem extends vscode.QuickPickItem {
  inert?: boolean;
}

export interface ChoiceStepOptions<T extends ChoiceItem> {
  /** Our words, with what they embed made inert. */
  title: string;
  placeholder: string;
  /** Our labels; whatever they show that is not ours is made inert by the caller. */
  items: readonly T[];
  canGoBack: boolean;
}

/**
 * A picker of fixed choices with Back (the review after the last step): resolves with the item accepted,
 * BACK, or undefined when the user left. Accepting an inert item (or a separator) keeps it open.
 */
export function showChoiceStep<T extends ChoiceItem>({
  title,
  placeholder,
  items,
  canGoBack,
}: ChoiceStepOptions<T>): Promise<T | typeof BACK | undefined> {
  const picker = vscode.window.createQuickPick<T>();
  picker.title = title;
  picker.placeholder = placeholder;
  picker.ignoreFocusOut = true;
  picker.items = items;
  return settleStep<T | typeof BACK | undefined>(picker, { canGoBack }, (finish) => [
    picker.onDidAccept(() => {
      const [selected] = picker.selectedItems;
      if (selected && !selected.inert && selected.kind !== vscode.QuickPickItemKind.Separator) finish(selected);
    }),
  ]);
}

/** What the shared lifetime needs of a prompt: both vscode.InputBox and vscode.QuickPick have it. */
type StepWidget = Pick<vscode.QuickInput, 'show' | 'dispose' | 'onDidHide'> & {
  buttons: readonly vscode.QuickInputButton[];
  readonly onDidTriggerButton: vscode.Event<vscode.QuickInputButton>;
};

/** Set while the step's prompt is hidden on purpose (a dialog of its own is open): a hide then is no cancel. */
interface Away {
  active: boolean;
}

/**
 * The lifetime every prompt shares: Back when `canGoBack`, hide (Escape, or another prompt taking its
 * place) as cancelled, the first outcome wins, and then the listeners and the widget are disposed.
 * `listen` registers the prompt's own listeners, which call `finish` with the accepted value.
 */
function settleStep<R = StepResult>(
  widget: StepWidget,
  frame: Pick<StepFrame, 'canGoBack'>,
  listen: (finish: (result: R | typeof BACK | undefined) => void, away: Away) => vscode.Disposable[],
): Promise<R | typeof BACK | undefined> {
  return new Promise<R | typeof BACK | undefined>((resolve) => {
    const listeners: vscode.Disposable[] = [];
    let settled = false;
    const away: Away = { active: false };
    const finish = (result: R | typeof BACK | undefined) => {
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
