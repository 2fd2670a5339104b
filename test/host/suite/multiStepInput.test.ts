// The multi-step input of src/ui, driven directly: titles "(n/m)", Back with the earlier value kept,
// validation while typing and on accept, Escape as cancelled, and every widget and listener disposed. The
// widgets are VS Code's own (shown in the workbench); the test stands in for the user by firing their
// accept, typing and button events, and Escape is the workbench's own command.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { BACK, runSteps, showInputStep, showPickStep, type Step, type StepResult } from '../../../src/ui/multiStepInput';
import { waitFor } from '../../common/wait';

type Widget = vscode.InputBox | vscode.QuickPick<vscode.QuickPickItem>;
type WindowFunctions = Record<string, unknown>;

/** A widget the extension created, whose user events the test fires, counting the listeners still attached. */
class Controlled<W extends Widget> {
  readonly accept = new vscode.EventEmitter<void>();
  readonly changeValue = new vscode.EventEmitter<string>();
  readonly triggerButton = new vscode.EventEmitter<vscode.QuickInputButton>();
  private readonly hide = new vscode.EventEmitter<void>();
  listeners = 0;
  disposed = false;

  constructor(readonly widget: W) {
    // Escape in the workbench hides the real widget: that event still reaches the code under test.
    widget.onDidHide(() => this.hide.fire());
    this.override('onDidAccept', this.accept.event);
    this.override('onDidChangeValue', this.changeValue.event);
    this.override('onDidTriggerButton', this.triggerButton.event);
    this.override('onDidHide', this.hide.event);
    const dispose = widget.dispose.bind(widget);
    widget.dispose = () => {
      this.disposed = true;
      dispose();
    };
  }

  /** What the user does: type a value (the box shows it, then says it changed). */
  type(value: string): void {
    this.widget.value = value;
    this.changeValue.fire(value);
  }

  private override<T>(name: string, event: vscode.Event<T>): void {
    const counted: vscode.Event<T> = (listener, thisArgs) => {
      const subscription = event(listener, thisArgs);
      this.listeners++;
      let attached = true;
      return new vscode.Disposable(() => {
        if (attached) this.listeners--;
        attached = false;
        subscription.dispose();
      });
    };
    Object.defineProperty(this.widget, name, { value: counted, configurable: true, writable: true });
  }
}

describe('multi-step input (src/ui/multiStepInput.ts): Back, step titles, validation, cancel', () => {
  const window = vscode.window as unknown as WindowFunctions;
  const originals = new Map<string, unknown>();
  const boxes: Array<Controlled<vscode.InputBox>> = [];
  const pickers: Array<Controlled<vscode.QuickPick<vscode.QuickPickItem>>> = [];

  function replace(name: string, replacement: unknown): void {
    originals.set(name, window[name]);
    window[name] = replacement;
  }

  beforeEach(() => {
    const createInputBox = vscode.window.createInputBox;
    const createQuickPick = vscode.window.createQuickPick;
    replace('createInputBox', () => {
      const box = new Controlled(createInputBox.call(vscode.window));
      boxes.push(box);
      return box.widget;
    });
    replace('createQuickPick', () => {
      const picker = new Controlled(createQuickPick.call(vscode.window));
      pickers.push(picker);
      return picker.widget;
    });
  });

  afterEach(() => {
    for (const [name, original] of originals) window[name] = original;
    originals.clear();
    // Nothing stays on screen for the suites after this one.
    for (const left of [...boxes, ...pickers]) if (!left.disposed) left.widget.dispose();
    boxes.length = 0;
    pickers.length = 0;
  });

  function box(number: number): Promise<Controlled<vscode.InputBox>> {
    return waitFor(`input box ${number}`, () => boxes[number - 1]);
  }

  /** Whether a promise has settled, once the callbacks already due have run. */
  async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
    let settled = false;
    void promise.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    return settled;
  }

  const nonEmpty = (value: string) => (value.length === 0 ? 'Enter something' : value === 'bad' ? 'Not "bad"' : undefined);
  const textStep = (id: string, name: string): Step => ({
    id,
    name,
    show: (frame) => showInputStep({ frame, prompt: `Enter ${name}`, validate: nonEmpty }),
  });

  it('titles each step "(n/m)", offers Back from step 2, and Back returns to the previous step with its value kept', async () => {
    const result = runSteps('Heading', [textStep('first', 'First'), textStep('second', 'Second')]);

    const first = await box(1);
    assert.strictEqual(first.widget.title, 'Heading: First (1/2)');
    assert.strictEqual(first.widget.prompt, 'Enter First');
    assert.strictEqual(first.widget.ignoreFocusOut, true);
    assert.deepStrictEqual(first.widget.buttons, [], 'no Back on the first step');
    first.type('one');
    first.accept.fire();
    assert.ok(first.disposed, 'an accepted step disposes its input box');
    assert.strictEqual(first.listeners, 0, 'and its listeners');

    const second = await box(2);
    assert.strictEqual(second.widget.title, 'Heading: Second (2/2)');
    assert.deepStrictEqual(second.widget.buttons, [vscode.QuickInputButtons.Back]);
    second.type('abandoned');
    second.triggerButton.fire(vscode.QuickInputButtons.Back);
    assert.ok(second.disposed, 'Back disposes the step it leaves');
    assert.strictEqual(second.listeners, 0);

    const again = await box(3);
    assert.strictEqual(again.widget.title, 'Heading: First (1/2)', 'Back returns to step 1');
    assert.strictEqual(again.widget.value, 'one', 'with the value accepted there before');
    again.type('uno');
    again.accept.fire();

    const last = await box(4);
    assert.strictEqual(last.widget.title, 'Heading: Second (2/2)');
    assert.strictEqual(last.widget.value, '', 'a step left by Back was not accepted, so it starts empty');
    last.type('two');
    last.accept.fire();
    assert.deepStrictEqual(await result, { first: 'uno', second: 'two' });
  });

  it('shows why a value is refused as it is typed and on accept, keeps the step open, and clears the message for a valid one', async () => {
    const result = showInputStep({
      frame: { title: 'Title (1/1)', canGoBack: false, previous: undefined },
      prompt: 'Enter it',
      validate: nonEmpty,
    });
    const step = await box(1);
    step.type('bad');
    assert.strictEqual(step.widget.validationMessage, 'Not "bad"', 'refused while typing');
    step.accept.fire();
    assert.strictEqual(step.widget.validationMessage, 'Not "bad"');
    assert.ok(!step.disposed && !(await hasSettled(result)), 'an invalid value keeps the step open');

    step.type('good');
    assert.strictEqual(step.widget.validationMessage, undefined, 'a valid value clears the message');
    step.type('');
    assert.strictEqual(step.widget.validationMessage, undefined, 'an empty box is not refused while typing');
    step.accept.fire();
    assert.strictEqual(step.widget.validationMessage, 'Enter something', 'but is on accept');
    assert.ok(!step.disposed && !(await hasSettled(result)));

    step.type('good');
    step.accept.fire();
    assert.strictEqual(await result, 'good');
    assert.ok(step.disposed);
    assert.strictEqual(step.listeners, 0);
  });

  it('a picker offers the typed value first, marks refused values, and stays open saying why when one is accepted', async () => {
    const frame = { title: 'Pick (2/2)', canGoBack: true, previous: undefined };
    const result = showPickStep({
      frame,
      placeholder: 'Paste a link',
      suggestions: [
        { label: 'Good one', value: 'https://example.com/a.png', source: 'earlier' },
        { label: 'Bad one', value: 'ftp://example.com/b.png', source: 'clipboard' },
      ],
      validate: (value) => (value.startsWith('https://') ? undefined : 'Needs https'),
    });
    const picker = await waitFor('the picker', () => pickers[0]);
    assert.strictEqual(picker.widget.title, 'Pick (2/2)');
    assert.strictEqual(picker.widget.placeholder, 'Paste a link');
    assert.deepStrictEqual(picker.widget.buttons, [vscode.QuickInputButtons.Back]);
    assert.deepStrictEqual(
      picker.widget.items.map((item) => [item.label, item.description, item.detail]),
      [
        ['Good one', 'earlier', 'https://example.com/a.png'],
        ['Bad one', 'clipboard', '$(error) Needs https'],
      ],
    );

    picker.type('https://typed.example/c.png');
    assert.deepStrictEqual(
      picker.widget.items.map((item) => item.label),
      ['$(edit) Use "https://typed.example/c.png"', 'Good one', 'Bad one'],
    );
    assert.strictEqual(picker.widget.items[0]?.description, 'typed');

    const refused = picker.widget.items[2];
    assert.ok(refused);
    picker.widget.selectedItems = [refused];
    picker.accept.fire();
    assert.strictEqual(picker.widget.title, 'Pick (2/2) — Needs https', 'the title says why');
    assert.ok(!picker.disposed && !(await hasSettled(result)), 'a refused value keeps the picker open');

    const typed = picker.widget.items[0];
    assert.ok(typed);
    picker.widget.selectedItems = [typed];
    picker.accept.fire();
    assert.strictEqual(await result, 'https://typed.example/c.png');
    assert.ok(picker.disposed);
    assert.strictEqual(picker.listeners, 0);
  });

  it('Escape at any step cancels the whole input and disposes the widget', async () => {
    const result = runSteps('Heading', [textStep('first', 'First'), textStep('second', 'Second')]);
    const first = await box(1);
    first.type('one');
    first.accept.fire();
    const second = await box(2);
    second.type('half typed');
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.strictEqual(await result, undefined, 'cancelled');
    assert.ok(second.disposed, 'the hidden input box is disposed');
    assert.strictEqual(second.listeners, 0, 'and its listeners');
  });

  it('Back from a step resolves that step as BACK; the picker disposes on it too', async () => {
    const result: Promise<StepResult> = showPickStep({
      frame: { title: 'Pick (2/2)', canGoBack: true, previous: undefined },
      placeholder: 'Paste a link',
      suggestions: [],
      validate: () => undefined,
    });
    const picker = await waitFor('the picker', () => pickers[0]);
    picker.triggerButton.fire(vscode.QuickInputButtons.Back);
    assert.strictEqual(await result, BACK);
    assert.ok(picker.disposed);
    assert.strictEqual(picker.listeners, 0);
  });
});
