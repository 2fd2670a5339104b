// flora.confirmBeforeRun in the real editor: a workspace (a repository someone cloned) cannot switch the cost
// confirmation off, the user's own settings can. Run Technique goes the palette's way: the technique picker,
// the input box (or, once the input has recent values, a picker), then the confirmation (the last step of
// the input), each answered by replacing the vscode.window function that shows it. Then what the
// confirmation shows and does: one line per input, Back to the inputs, and Run Again's Edit Inputs….
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Sandbox } from '../../sandbox/server';
import { readSettings } from '../../../src/services/settings';
import {
  answeringInputBox,
  answeringQuickPick,
  floraApi,
  IMAGE_URL,
  lastPostedInputs,
  postsTo,
  sandboxForExtension,
  seeingInputBox,
  waitFor,
  type ShownBox,
  type ShownPicker,
} from './helpers';

/** A documented technique whose only input is text, so the only prompt is one input box. */
const TEXT_ONLY_SLUG = 'icon-pack';
const PROMPT = 'a calm set of weather icons';

type WindowFunctions = Record<string, unknown>;

describe('flora.confirmBeforeRun: only the user may switch the cost confirmation off', () => {
  let sandbox: Sandbox;
  const originals = new Map<string, unknown>();
  /** The titles of every quick pick the extension showed. */
  const quickPickTitles: string[] = [];

  function replace(name: string, replacement: unknown): void {
    const window = vscode.window as unknown as WindowFunctions;
    originals.set(name, window[name]);
    window[name] = replacement;
  }

  /** Sets the value and waits until the extension has read it (its listener was registered before ours). */
  async function setConfirmBeforeRun(value: boolean | undefined, target: vscode.ConfigurationTarget): Promise<void> {
    const configuration = vscode.workspace.getConfiguration('flora');
    const inspection = configuration.inspect<boolean>('confirmBeforeRun');
    const current = target === vscode.ConfigurationTarget.Workspace ? inspection?.workspaceValue : inspection?.globalValue;
    if (current === value) return;
    const changed = new Promise<void>((resolve) => {
      const listener = vscode.workspace.onDidChangeConfiguration((event) => {
        if (!event.affectsConfiguration('flora.confirmBeforeRun')) return;
        listener.dispose();
        resolve();
      });
    });
    await configuration.update('confirmBeforeRun', value, target);
    await changed;
  }

  function confirmationsShown(): string[] {
    return quickPickTitles.filter((title) => title.endsWith('confirm the run'));
  }

  before(async () => {
    sandbox = await sandboxForExtension();
    assert.ok(vscode.workspace.workspaceFolders?.length, 'the host tests run in a workspace folder, so Workspace settings exist');
  });

  beforeEach(() => {
    quickPickTitles.length = 0;
    replace('showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      const list = (await items) as Array<vscode.QuickPickItem & { slug?: string }>;
      quickPickTitles.push(options?.title ?? '');
      // The technique picker gets the text-only technique; the confirmation (any other picker) gets Escape.
      return options?.title === 'FLORA: Run Technique' ? list.find((item) => item.slug === TEXT_ONLY_SLUG) : undefined;
    });
    replace('createInputBox', () => answeringInputBox(() => PROMPT));
    // The confirmation is a step of the input (a picker with Back): Escape. The prompt, when it offers
    // recent values, is a picker too: the prompt is typed.
    replace('createQuickPick', () =>
      answeringQuickPick((user) => {
        quickPickTitles.push(user.shown.title);
        if (user.shown.title.endsWith('confirm the run')) return user.escape();
        user.type(PROMPT);
        user.enter();
      }),
    );
  });

  afterEach(async () => {
    const window = vscode.window as unknown as WindowFunctions;
    for (const [name, original] of originals) window[name] = original;
    originals.clear();
    await setConfirmBeforeRun(undefined, vscode.ConfigurationTarget.Workspace);
    await setConfirmBeforeRun(undefined, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await sandbox.close();
  });

  it("still confirms when the workspace's settings say flora.confirmBeforeRun: false, and sends nothing when it is dismissed", async () => {
    await setConfirmBeforeRun(false, vscode.ConfigurationTarget.Workspace);
    const inspection = vscode.workspace.getConfiguration('flora').inspect<boolean>('confirmBeforeRun');
    assert.strictEqual(inspection?.workspaceValue, false, 'the workspace really says false');
    const before = postsTo(sandbox, TEXT_ONLY_SLUG);
    const result = await vscode.commands.executeCommand('flora.runTechnique');
    assert.strictEqual(result, undefined, 'dismissing the confirmation ends the command without a run');
    assert.ok(quickPickTitles.includes('FLORA: Run Technique'), `the palette's technique picker was shown: ${quickPickTitles.join(' | ')}`);
    assert.deepStrictEqual(confirmationsShown(), ['Icon Pack: confirm the run']);
    assert.strictEqual(postsTo(sandbox, TEXT_ONLY_SLUG), before, 'nothing was POSTed to FLORA');
  });

  it("runs without a confirmation when the user's own settings say flora.confirmBeforeRun: false", async () => {
    await setConfirmBeforeRun(false, vscode.ConfigurationTarget.Global);
    const before = postsTo(sandbox, TEXT_ONLY_SLUG);
    const result = await vscode.commands.executeCommand<{ runId?: string } | undefined>('flora.runTechnique');
    assert.ok(result?.runId, 'the run was created');
    assert.deepStrictEqual(confirmationsShown(), [], `no confirmation: ${quickPickTitles.join(' | ')}`);
    assert.strictEqual(postsTo(sandbox, TEXT_ONLY_SLUG), before + 1, 'one run was POSTed');
    // Followed to its end while the sandbox is up, so no poll of it outlives this suite.
    const api = await floraApi();
    await waitFor('the run to complete', () => api.getRuns().find((run) => run.runId === result.runId && run.status === 'completed'));
  });
});

describe('flora.maxHistory: only the user decides how much shared history is kept', () => {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const settingsFile = path.join(folder, '.vscode', 'settings.json');
  let before: string | undefined;

  beforeEach(() => {
    before = fs.existsSync(settingsFile) ? fs.readFileSync(settingsFile, 'utf8') : undefined;
  });

  afterEach(async () => {
    if (before === undefined) fs.rmSync(settingsFile, { force: true });
    else fs.writeFileSync(settingsFile, before);
    await waitFor('the workspace settings restored', () => (readSettings().insertFormat === 'auto' ? true : undefined));
    await vscode.workspace.getConfiguration('flora').update('maxHistory', undefined, vscode.ConfigurationTarget.Global);
  });

  it("ignores a workspace's flora.maxHistory (pruning to it would delete every window's runs), and honours the user's", async () => {
    // Written as a cloned repository would carry it (VS Code refuses to write an application setting there).
    assert.ok(folder, 'the host tests run in a workspace folder');
    const current = before === undefined ? {} : (JSON.parse(before) as Record<string, unknown>);
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({ ...current, 'flora.maxHistory': 10, 'flora.insertFormat': 'plain' }));
    // The other setting shows the file has been read.
    await waitFor('the workspace settings file to be read', () => (readSettings().insertFormat === 'plain' ? true : undefined));
    assert.strictEqual(readSettings().maxHistory, 200, 'the default, not the workspace value');
    await vscode.workspace.getConfiguration('flora').update('maxHistory', 50, vscode.ConfigurationTarget.Global);
    assert.strictEqual(readSettings().maxHistory, 50, "the user's value");
  });
});

describe('the confirmation: each input on its own line, Back to the inputs, Edit Inputs… on Run Again (issue 16, item 6)', function () {
  this.timeout(120_000);
  /** A documented technique with an image and a text input, run by no other suite. */
  const SLUG = 'facade-swap';
  let sandbox: Sandbox;
  const originals = new Map<string, unknown>();
  const window = vscode.window as unknown as WindowFunctions;
  function replace(name: string, replacement: unknown): void {
    if (!originals.has(name)) originals.set(name, window[name]);
    window[name] = replacement;
  }
  const labels = (items: readonly vscode.QuickPickItem[]) => items.map((item) => item.label);

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

  it('lists every input on its own line, Back returns to the last input with its value, and the run is sent with the changed value', async () => {
    const pickers: ShownPicker[] = [];
    const boxes: ShownBox[] = [];
    let confirmations = 0;
    replace('showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      const list = (await items) as Array<vscode.QuickPickItem & { slug?: string }>;
      return options?.title === 'FLORA: Run Technique' ? list.find((item) => item.slug === SLUG) : undefined;
    });
    replace('createQuickPick', () =>
      answeringQuickPick((user) => {
        if (user.shown.title === 'Facade Swap: Building Image (1/2)') {
          user.type(IMAGE_URL);
          return user.enter();
        }
        assert.strictEqual(user.shown.title, 'Facade Swap: confirm the run');
        confirmations++;
        if (confirmations === 1) return user.back();
        user.pick(/Run for 7 credits/);
      }, pickers),
    );
    replace('createInputBox', () => seeingInputBox((box) => (box.value === '' ? 'weathered copper' : 'polished marble'), boxes));
    const before = postsTo(sandbox, SLUG);
    const result = await vscode.commands.executeCommand<{ runId?: string } | undefined>('flora.runTechnique');
    assert.ok(result?.runId, 'the run was created');

    const [firstConfirmation, secondConfirmation] = pickers.filter((picker) => picker.title.endsWith('confirm the run'));
    assert.ok(firstConfirmation && secondConfirmation, `two confirmations: ${pickers.map((picker) => picker.title).join(' | ')}`);
    assert.strictEqual(firstConfirmation.back, true, 'the confirmation has Back');
    assert.strictEqual(firstConfirmation.placeholder, 'This run costs 7 credits');
    assert.deepStrictEqual(labels(firstConfirmation.items), [
      '$(play) Run for 7 credits',
      'inputs: pick one to change it',
      `Building Image: ${IMAGE_URL}`,
      'Material Prompt: weathered copper',
      '',
      '$(close) Cancel',
    ]);
    assert.deepStrictEqual(
      boxes.map((box) => [box.title, box.value]),
      [
        ['Facade Swap: Material Prompt (2/2)', ''],
        ['Facade Swap: Material Prompt (2/2)', 'weathered copper'],
      ],
      'Back returned to the last input, with its value kept',
    );
    assert.ok(labels(secondConfirmation.items).includes('Material Prompt: polished marble'));
    assert.strictEqual(postsTo(sandbox, SLUG), before + 1, 'one run was sent');
    assert.deepStrictEqual(lastPostedInputs(sandbox, SLUG), { building_image: IMAGE_URL, material_prompt: 'polished marble' });
    const api = await floraApi();
    await waitFor('the run to complete', () => api.getRuns().find((run) => run.runId === result.runId && run.status === 'completed'));
  });

  it("Run Again offers Edit Inputs…: the steps open with the run's values, then the confirmation again, and the run is sent with the edit", async () => {
    const api = await floraApi();
    const first = api.getRuns().find((run) => run.slug === SLUG && run.status === 'completed');
    assert.ok(first, 'the run of the test before');
    const plain: Array<{ title: string; items: vscode.QuickPickItem[] }> = [];
    replace('showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      const list = (await items) as vscode.QuickPickItem[];
      plain.push({ title: options?.title ?? '', items: list });
      return list.find((item) => item.label === '$(edit) Edit Inputs…');
    });
    const pickers: ShownPicker[] = [];
    replace('createQuickPick', () =>
      answeringQuickPick((user) => {
        if (user.shown.title === 'Facade Swap: Material Prompt (2/2)') {
          user.type('brushed steel');
          return user.enter();
        }
        if (user.shown.title.endsWith('confirm the run')) return user.pick(/Run for 7 credits/);
        // The image step: Enter takes what it offers first, the run's own value.
        user.enter();
      }, pickers),
    );
    const before = postsTo(sandbox, SLUG);
    await vscode.commands.executeCommand('flora.runAgain', first.runId);
    await waitFor('the edited run to be sent', () => postsTo(sandbox, SLUG) > before || undefined);

    const [again] = plain;
    assert.strictEqual(again?.title, 'Facade Swap: confirm the run');
    assert.deepStrictEqual(labels(again.items), [
      '$(play) Run for 7 credits',
      '$(edit) Edit Inputs…',
      'inputs: pick one to change it',
      `Building Image: ${IMAGE_URL}`,
      'Material Prompt: polished marble',
      '',
      '$(close) Cancel',
    ]);
    assert.deepStrictEqual(
      pickers.map((picker) => picker.title),
      ['Facade Swap: Building Image (1/2)', 'Facade Swap: Material Prompt (2/2)', 'Facade Swap: confirm the run'],
    );
    assert.strictEqual(pickers[1]?.value, 'polished marble', "the text step starts from the run's value");
    assert.ok(pickers[2]?.back, 'the confirmation after editing has Back');
    assert.ok(labels(pickers[2]?.items ?? []).includes('Material Prompt: brushed steel'));
    assert.strictEqual(postsTo(sandbox, SLUG), before + 1);
    assert.deepStrictEqual(lastPostedInputs(sandbox, SLUG), { building_image: IMAGE_URL, material_prompt: 'brushed steel' });
    const sent = await waitFor('the run to be recorded', () =>
      api.getRuns().find((run) => run.slug === SLUG && run.runId !== first.runId && run.runId !== ''),
    );
    await waitFor('the run to complete', () => api.getRuns().find((run) => run.runId === sent.runId && run.status === 'completed'));
  });
});
