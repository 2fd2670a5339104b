// Everyday UI (issue 16): a text prompt says what it wants, and once the technique's input was given
// values, offers the recent ones to pick (typed text still goes), and the Runs view's description says how
// many credits today's runs were charged, across windows.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { runsViewDescription } from '../../../src/views/runLabels';
import { runRecord } from '../../common/records';
import type { Sandbox } from '../../sandbox/server';
import {
  answeringInputBox,
  answeringQuickPick,
  floraApi,
  lastPostedInputs,
  postsTo,
  sandboxForExtension,
  waitFor,
  type PickerUser,
  type ShownPicker,
} from './helpers';

type WindowFunctions = Record<string, unknown>;

describe('the everyday UI', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  const originals = new Map<string, unknown>();
  const window = vscode.window as unknown as WindowFunctions;
  function replace(name: string, stand: unknown): void {
    if (!originals.has(name)) originals.set(name, window[name]);
    window[name] = stand;
  }

  before(async () => {
    sandbox = await sandboxForExtension();
  });

  afterEach(() => {
    for (const [name, original] of originals) window[name] = original;
    originals.clear();
  });

  after(async () => {
    await sandbox.close();
  });

  it('a text prompt says what it wants; once the input was given values it offers the recent ones, newest first, and still takes typed text', async () => {
    // Tarot Pull is run by no other suite: its one text input has no history before this test.
    const slug = 'tarot-pull';
    const api = await floraApi();
    const boxes: Array<{ title: string; password: boolean; placeholder?: string }> = [];
    const pickers: ShownPicker[] = [];
    let answerText: (user: PickerUser) => void = (user) => user.escape();
    replace('showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      const list = (await items) as Array<vscode.QuickPickItem & { slug?: string }>;
      return options?.title === 'FLORA: Run Technique' ? list.find((item) => item.slug === slug) : undefined;
    });
    replace('createInputBox', () => answeringInputBox(() => undefined, boxes));
    replace('createQuickPick', () =>
      answeringQuickPick(
        (user) => (user.shown.title.endsWith('confirm the run') ? user.pick(/Run for 5 credits/) : answerText(user)),
        pickers,
      ),
    );

    // No history: an input box that says what it wants.
    await vscode.commands.executeCommand('flora.runTechnique');
    assert.deepStrictEqual(
      boxes.map((box) => [box.title, box.placeholder]),
      [['Tarot Pull: Question (1/1)', 'Type the Question for this run']],
    );

    const long = `Will the launch go well?\nAsk the cards about the ${'very '.repeat(20)}long road ahead`;
    for (const question of ['first question', long, 'first question', 'will it rain']) {
      assert.strictEqual((await api.runTechnique(slug, { question })).status, 'completed');
    }

    // The recent values, newest first, each once: a one-line preview; the value picked is sent whole.
    answerText = (user) => user.pick(/Will the launch/);
    await vscode.commands.executeCommand('flora.runTechnique');
    const recent = pickers.find((picker) => picker.title === 'Tarot Pull: Question (1/1)');
    assert.ok(recent, 'the prompt is a picker now');
    assert.strictEqual(recent.placeholder, 'Type the Question for this run, or pick one used before');
    assert.deepStrictEqual(
      recent.items.map((item) => item.label),
      // "first question" was given again after the long one: it counts from then, once.
      [
        '$(history) will it rain',
        '$(history) first question',
        '$(history) Will the launch go well? Ask the cards about the very very very very …',
      ],
    );
    assert.ok(
      recent.items.every((item) => /ago|just now/.test(item.description ?? '')),
      'each says how long ago',
    );
    await waitFor('the picked run to be sent', () => lastPostedInputs(sandbox, slug)?.question === long || undefined);

    // Typed text is taken as typed, though recent values are offered.
    answerText = (user) => {
      user.type('a question of my own');
      assert.strictEqual(user.items()[0]?.label, '$(edit) Use "a question of my own"');
      user.enter();
    };
    const before = postsTo(sandbox, slug);
    await vscode.commands.executeCommand('flora.runTechnique');
    assert.strictEqual(postsTo(sandbox, slug), before + 1);
    assert.deepStrictEqual(lastPostedInputs(sandbox, slug), { question: 'a question of my own' });
    // Followed to their end while the sandbox is up, so no poll of them outlives this suite.
    await waitFor(
      'the runs to complete',
      () => api.getRuns().every((run) => run.slug !== slug || run.status === 'completed' || run.status === 'failed') || undefined,
    );
  });

  it("says in the Runs view how many credits today's runs were charged", () => {
    const now = Date.now();
    const today = new Date(now);
    today.setHours(0, 0, 1, 0);
    const yesterday = today.getTime() - 2_000;
    assert.strictEqual(runsViewDescription([], now), undefined);
    assert.strictEqual(
      runsViewDescription([runRecord({ chargedCost: 1, completedAt: today.getTime(), updatedAt: today.getTime() })], now),
      '1 credit today',
    );
    assert.strictEqual(
      runsViewDescription(
        [
          runRecord({ chargedCost: 5, completedAt: today.getTime(), updatedAt: today.getTime() }),
          runRecord({ chargedCost: 8, completedAt: now, updatedAt: now }),
          runRecord({ chargedCost: 3, completedAt: yesterday, updatedAt: yesterday }),
          runRecord({ status: 'running', completedAt: undefined, updatedAt: now }),
        ],
        now,
      ),
      '13 credits today',
    );
  });
});
