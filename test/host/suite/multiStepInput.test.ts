// The multi-step input of src/ui, driven directly: titles "(n/m)", Back with the earlier value kept,
// validation while typing and on accept, Escape as cancelled, and every widget and listener disposed. The
// widgets are VS Code's own (shown in the workbench); the test stands in for the user by firing their
// accept, typing and button events, and Escape is the workbench's own command.
import * as assert from 'assert';
import * as vscode from 'vscode';
import {
  BACK,
  runSteps,
  showChoiceStep,
  showInputStep,
  showPickStep,
  type ReviewResult,
  type Step,
  type StepResult,
} from '../../../src/ui/multiStepInput';
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

  it('a picker offers the typed value first, marks refused values, and stays open when one is accepted, its title unchanged', async () => {
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
    assert.strictEqual(picker.widget.title, 'Pick (2/2)', "the title does not repeat the item's reason");
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

  describe('one validation message, in one place, for the value there now (issue 16, item 1)', () => {
    /** Refuses http:// links naming their host, as the image prompt does. */
    const httpsOnly = (value: string) => {
      const host = /^http:\/\/([^/]+)/.exec(value)?.[1];
      return host ? `FLORA only accepts https:// links (${host} is http://)` : value.startsWith('https://') ? undefined : 'Not a link';
    };

    /** Every text the picker shows: title, placeholder, and each item's label, description and detail. */
    function texts(picker: vscode.QuickPick<vscode.QuickPickItem>): string[] {
      return [
        picker.title ?? '',
        picker.placeholder ?? '',
        ...picker.items.flatMap((item) => [item.label, item.description ?? '', item.detail ?? '']),
      ];
    }
    const count = (all: readonly string[], part: string) => all.filter((text) => text.includes(part)).length;

    it('the image prompt: an http:// link is refused once, the refusal goes when it is fixed or cleared, and a valid link shows none', async () => {
      const result = showPickStep({
        frame: { title: 'Studio Shot: Product Image (1/1)', canGoBack: false, previous: undefined },
        placeholder: 'Paste an https:// image link',
        suggestions: [{ label: 'Sample', value: 'https://media.flora.ai/examples/product.png', source: 'sandbox' }],
        validate: httpsOnly,
      });
      const picker = await waitFor('the picker', () => pickers[0]);
      const title = 'Studio Shot: Product Image (1/1)';

      picker.type('http://old-host.example/shoe.png');
      assert.strictEqual(count(texts(picker.widget), 'only accepts https://'), 1, 'said once');
      assert.strictEqual(picker.widget.items[0]?.detail, '$(error) FLORA only accepts https:// links (old-host.example is http://)');
      const typed = picker.widget.items[0];
      assert.ok(typed);
      picker.widget.selectedItems = [typed];
      picker.accept.fire();
      assert.ok(!(await hasSettled(result)), 'refused: the prompt stays open');
      assert.strictEqual(picker.widget.title, title, 'the title carries no error');
      assert.strictEqual(count(texts(picker.widget), 'only accepts https://'), 1, 'still said once after Enter, not in the title too');

      picker.type('https://old-host.example/shoe.png');
      assert.strictEqual(count(texts(picker.widget), '$(error)'), 0, 'fixed: no error anywhere');
      assert.strictEqual(count(texts(picker.widget), 'only accepts'), 0);

      picker.type('http://old-host.example/shoe.png');
      picker.widget.selectedItems = [picker.widget.items[0] ?? assert.fail('typed item')];
      picker.accept.fire();
      picker.type('');
      assert.strictEqual(picker.widget.title, title);
      assert.strictEqual(count(texts(picker.widget), 'old-host.example'), 0, 'cleared: the old host is named nowhere');
      assert.strictEqual(count(texts(picker.widget), '$(error)'), 0, 'cleared: no error');

      picker.type('https://media.flora.ai/examples/other.png');
      assert.strictEqual(count(texts(picker.widget), '$(error)'), 0, 'valid: none');
      picker.widget.selectedItems = [picker.widget.items[0] ?? assert.fail('typed item')];
      picker.accept.fire();
      assert.strictEqual(await result, 'https://media.flora.ai/examples/other.png');
    });

    it('the input box: its validation message follows every keystroke, and a value it starts from is checked at once', async () => {
      const result = showInputStep({
        frame: { title: 'Title (1/1)', canGoBack: false, previous: 'http://old-host.example/a.png' },
        prompt: 'Enter a link',
        validate: httpsOnly,
      });
      const step = await box(1);
      assert.strictEqual(step.widget.value, 'http://old-host.example/a.png');
      assert.strictEqual(
        step.widget.validationMessage,
        'FLORA only accepts https:// links (old-host.example is http://)',
        'the value it starts from is refused before any keystroke',
      );
      step.type('https://old-host.example/a.png');
      assert.strictEqual(step.widget.validationMessage, undefined, 'fixed: gone');
      step.type('http://other.example/a.png');
      assert.strictEqual(
        step.widget.validationMessage,
        'FLORA only accepts https:// links (other.example is http://)',
        'names the host typed now',
      );
      step.type('');
      assert.strictEqual(step.widget.validationMessage, undefined, 'cleared: no stale message');
      assert.strictEqual(step.widget.title, 'Title (1/1)', 'the title never carries it');
      step.type('https://media.flora.ai/a.png');
      step.accept.fire();
      assert.strictEqual(await result, 'https://media.flora.ai/a.png');
    });
  });

  describe('the review after the last step, initial values and the choice step (issue 16, item 6)', () => {
    it('Back from the review returns to the last step with its value; picking an input goes to its step; the review sees every value', async () => {
      const reviews: Array<{ values: Record<string, string>; canGoBack: boolean }> = [];
      const answers: ReviewResult[] = [BACK, { edit: 'first' }, 'run'];
      const result = runSteps('Heading', [textStep('first', 'First'), textStep('second', 'Second')], {
        review: (values, canGoBack) => {
          reviews.push({ values: { ...values }, canGoBack });
          return Promise.resolve(answers.shift());
        },
      });
      (await box(1)).type('one');
      (await box(1)).accept.fire();
      (await box(2)).type('two');
      (await box(2)).accept.fire();
      // Back: the last step again, with its value.
      const last = await box(3);
      assert.strictEqual(last.widget.title, 'Heading: Second (2/2)');
      assert.strictEqual(last.widget.value, 'two');
      last.type('deux');
      last.accept.fire();
      // { edit: 'first' }: that step, with its value, then on through the rest.
      const first = await box(4);
      assert.strictEqual(first.widget.title, 'Heading: First (1/2)');
      assert.strictEqual(first.widget.value, 'one');
      first.type('uno');
      first.accept.fire();
      const second = await box(5);
      assert.strictEqual(second.widget.value, 'deux');
      second.accept.fire();
      assert.deepStrictEqual(await result, { first: 'uno', second: 'deux' });
      assert.deepStrictEqual(reviews, [
        { values: { first: 'one', second: 'two' }, canGoBack: true },
        { values: { first: 'one', second: 'deux' }, canGoBack: true },
        { values: { first: 'uno', second: 'deux' }, canGoBack: true },
      ]);
    });

    it('starts from initial values at the step asked for; a review with no steps has no Back; cancelling the review cancels all', async () => {
      const result = runSteps('Heading', [textStep('first', 'First'), textStep('second', 'Second')], {
        initial: { first: 'one', second: 'two' },
        startAt: 'second',
        review: () => Promise.resolve(undefined),
      });
      const second = await box(1);
      assert.strictEqual(second.widget.title, 'Heading: Second (2/2)');
      assert.strictEqual(second.widget.value, 'two');
      second.accept.fire();
      assert.strictEqual(await result, undefined, 'the review cancelled');

      let backOffered: boolean | undefined;
      const none = await runSteps('Heading', [], {
        review: (_values, canGoBack) => {
          backOffered = canGoBack;
          return Promise.resolve('run');
        },
      });
      assert.deepStrictEqual(none, {});
      assert.strictEqual(backOffered, false);
    });

    it('a picker starts from the value given as typed', async () => {
      const result = showPickStep({
        frame: { title: 'Pick (1/1)', canGoBack: false, previous: undefined },
        placeholder: 'Type it',
        suggestions: [{ label: 'Recent', value: 'recent', source: '1 h ago' }],
        validate: () => undefined,
        value: 'kept',
      });
      const picker = await waitFor('the picker', () => pickers[0]);
      assert.strictEqual(picker.widget.value, 'kept');
      assert.deepStrictEqual(
        picker.widget.items.map((item) => item.label),
        ['$(edit) Use "kept"', 'Recent'],
      );
      picker.widget.selectedItems = [picker.widget.items[0] ?? assert.fail('typed item')];
      picker.accept.fire();
      assert.strictEqual(await result, 'kept');
    });

    it('the choice step: Back, an inert line keeps it open, a choice resolves with its item', async () => {
      const items = [{ label: 'Run', run: true }, { label: 'name: value', inert: true }, { label: 'Cancel' }];
      const first = showChoiceStep({ title: 'Confirm', placeholder: 'Costs 5', items, canGoBack: true });
      const picker = await waitFor('the picker', () => pickers[0]);
      assert.deepStrictEqual(picker.widget.buttons, [vscode.QuickInputButtons.Back]);
      assert.strictEqual(picker.widget.title, 'Confirm');
      picker.widget.selectedItems = [picker.widget.items[1] ?? assert.fail('line')];
      picker.accept.fire();
      assert.ok(!(await hasSettled(first)) && !picker.disposed, 'an inert line does nothing');
      picker.triggerButton.fire(vscode.QuickInputButtons.Back);
      assert.strictEqual(await first, BACK);
      assert.ok(picker.disposed);
      assert.strictEqual(picker.listeners, 0);

      const second = showChoiceStep({ title: 'Confirm', placeholder: 'Costs 5', items, canGoBack: false });
      const again = await waitFor('the second picker', () => pickers[1]);
      assert.deepStrictEqual(again.widget.buttons, []);
      again.widget.selectedItems = [again.widget.items[0] ?? assert.fail('run')];
      again.accept.fire();
      assert.strictEqual(await second, items[0]);
    });
  });
});
