// The pickers of FLORA: Run Technique… as a person reads them (issue 16, item 10): the technique picker
// names a technique's cost once FLORA has told it (and asks FLORA nothing to open), earlier outputs offered
// as inputs are named by their technique and age rather than a runId, and links typed in earlier runs are
// offered again for inputs of the same type only. The prompts are answered by replacing the vscode.window
// functions that show them (showQuickPick, createQuickPick), as a user would answer them.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { mediaCandidates } from '../../../src/ui/mediaCandidates';
import { runRecord } from '../../common/records';
import type { Sandbox } from '../../sandbox/server';
import { floraApi, sandboxForExtension } from './helpers';

type WindowFunctions = Record<string, unknown>;
type Item = vscode.QuickPickItem & { slug?: string };

/** What a picker showed: each item's label, description and detail. */
interface Shown {
  label: string;
  description?: string;
  detail?: string;
}

/** A stand-in for createQuickPick's widget: on show() it records the items and presses Escape. */
function escapingPicker(record: (items: readonly Shown[]) => void): vscode.QuickPick<vscode.QuickPickItem> {
  const hide = new vscode.EventEmitter<void>();
  const unused = new vscode.EventEmitter<never>();
  const picker = {
    items: [] as vscode.QuickPickItem[],
    selectedItems: [] as vscode.QuickPickItem[],
    activeItems: [] as vscode.QuickPickItem[],
    value: '',
    title: undefined as string | undefined,
    placeholder: undefined as string | undefined,
    buttons: [] as readonly vscode.QuickInputButton[],
    ignoreFocusOut: false,
    matchOnDescription: false,
    onDidAccept: unused.event,
    onDidHide: hide.event,
    onDidChangeValue: unused.event,
    onDidTriggerButton: unused.event,
    onDidChangeSelection: unused.event,
    onDidChangeActive: unused.event,
    show: () => {
      setTimeout(() => {
        record(picker.items.map(({ label, description, detail }) => ({ label, description, detail })));
        hide.fire();
      }, 0);
    },
    hide: () => hide.fire(),
    dispose: () => {
      hide.dispose();
      unused.dispose();
    },
  };
  return picker as unknown as vscode.QuickPick<vscode.QuickPickItem>;
}

const AGE = /^(just now|\d+ min ago)$/;

describe('the pickers of Run Technique', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  const originals = new Map<string, unknown>();
  const window = vscode.window as unknown as WindowFunctions;
  function replace(name: string, stand: unknown): void {
    if (!originals.has(name)) originals.set(name, window[name]);
    window[name] = stand;
  }
  // Links as a user types them, unique to this run of the suite so no other suite's history offers them.
  const stamp = Date.now();
  const typedImage = `https://media.flora.ai/examples/product.png?pickers=${stamp}`;
  const typedVideo = `https://media.flora.ai/examples/clip.mp4?pickers=${stamp}`;
  let studioShotRunId = '';

  /** Runs FLORA: Run Technique…, picking `slug`, and returns what the first input's picker offered. */
  async function firstInputPicker(slug: string): Promise<readonly Shown[]> {
    let offered: readonly Shown[] | undefined;
    replace('showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      const list = (await items) as Item[];
      return options?.title === 'FLORA: Run Technique' ? list.find((item) => item.slug === slug) : undefined;
    });
    replace('createQuickPick', () => escapingPicker((items) => (offered ??= items)));
    await vscode.commands.executeCommand('flora.runTechnique');
    assert.ok(offered, `the first input of ${slug} was prompted with a picker`);
    return offered;
  }

  before(async () => {
    sandbox = await sandboxForExtension();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const api = await floraApi();
    // The video run first: the image link is then the newest one used.
    const video = await api.runTechnique('ugc-creation', { product_video: typedVideo, script: 'unboxing, handheld' });
    assert.strictEqual(video.status, 'completed');
    const image = await api.runTechnique('studio-shot', { product_image: typedImage });
    assert.strictEqual(image.status, 'completed');
    studioShotRunId = image.runId;
  });

  afterEach(() => {
    for (const [name, original] of originals) window[name] = original;
    originals.clear();
  });

  after(async () => {
    await sandbox.close();
  });

  it('names the cost of a technique FLORA has told it for, guesses none, and asks FLORA nothing to open', async () => {
    // Studio Shot's details were fetched for its run (5 credits in the sandbox); Photo Wireframe's never were.
    const detailRequests = () =>
      sandbox.requests.filter((request) => request.method === 'GET' && /\/techniques\/[^/?]+(?:\?|$)/.test(request.path)).length;
    const before = detailRequests();
    let shown: readonly Item[] = [];
    replace('showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      if (options?.title === 'FLORA: Run Technique') shown = (await items) as Item[];
      return undefined;
    });
    await vscode.commands.executeCommand('flora.runTechnique');
    const studioShot = shown.find((item) => item.slug === 'studio-shot');
    const wireframe = shown.find((item) => item.slug === 'wireframe');
    assert.ok(studioShot && wireframe, 'both are offered');
    assert.strictEqual(studioShot.description, 'studio-shot · Cost: 5 credits per run', 'in the Techniques view’s words');
    assert.strictEqual(wireframe.description, 'wireframe');
    assert.ok(
      ![wireframe.label, wireframe.description, wireframe.detail].some((text) => text?.includes('credit')),
      'an unknown cost is not guessed',
    );
    assert.strictEqual(detailRequests(), before, 'opening the picker fetched no details');
  });

  it('names an earlier output by its technique and age, not by its runId', async () => {
    const offered = await firstInputPicker('studio-shot');
    const outputs = offered.filter((item) => item.label === '$(sparkle) Output of Studio Shot');
    assert.ok(outputs.length > 0, `an earlier output is offered: ${JSON.stringify(offered)}`);
    for (const output of outputs) {
      assert.match(output.description ?? '', AGE);
      assert.ok(!`${output.label} ${output.description ?? ''}`.includes(studioShotRunId), 'no runId in the label or description');
    }
  });

  it('offers a link typed in an earlier run again for an input of its type, and not for another type', async () => {
    const usedBefore = (items: readonly Shown[]) => items.filter((item) => item.label === '$(history) Used before');
    const forImage = await firstInputPicker('studio-shot');
    const image = usedBefore(forImage).find((item) => item.detail === typedImage);
    assert.ok(image, `the typed image link is offered: ${JSON.stringify(forImage)}`);
    assert.match(image.description ?? '', /^Studio Shot · (just now|\d+ min ago)$/);
    assert.ok(!forImage.some((item) => item.detail === typedVideo), 'the video link is not offered for an image');

    const forVideo = await firstInputPicker('ugc-creation');
    const video = usedBefore(forVideo).find((item) => item.detail === typedVideo);
    assert.ok(video, `the typed video link is offered: ${JSON.stringify(forVideo)}`);
    assert.match(video.description ?? '', /^UGC Creator · (just now|\d+ min ago)$/);
    assert.ok(!forVideo.some((item) => item.detail === typedImage), 'the image link is not offered for a video');
  });

  it('offers links used before newest first, at most five, before earlier outputs, never uploads or outputs, within the cap', async () => {
    const now = 10 * 3_600_000;
    const minutes = (count: number) => now - count * 60_000;
    const links = Array.from({ length: 7 }, (_, index) => `https://example.com/used-${index}.png`);
    const output = 'https://cdn.example.com/outputs/j57x/0.png';
    const records = [
      // Newest first, as the runs store gives them.
      runRecord({ startedLocallyAt: minutes(1), inputs: [{ id: 'product_image', type: 'imageUrl', value: output }] }),
      runRecord({
        startedLocallyAt: minutes(2),
        inputs: [{ id: 'product_image', type: 'imageUrl', value: 'https://uploads.example.com/a.png', localPath: 'img/a.png' }],
      }),
      ...links.map((value, index) =>
        runRecord({
          startedLocallyAt: minutes(5 + index),
          techniqueName: 'Relighting $(alert) [x](command:evil)',
          inputs: [{ id: 'product_image', type: 'imageUrl', value }],
        }),
      ),
      runRecord({
        runId: 'j57six',
        techniqueName: 'Character Lock',
        startedLocallyAt: minutes(30),
        completedAt: minutes(25),
        outputs: [
          { type: 'imageUrl', url: output },
          { type: 'imageUrl', url: 'https://cdn.example.com/outputs/j57x/1.png' },
        ],
      }),
    ];
    const offered = await mediaCandidates({
      type: 'imageUrl',
      previous: undefined,
      editor: undefined,
      records,
      localFiles: false,
      now: () => now,
    });
    const used = offered.filter((item) => item.label === '$(history) Used before');
    assert.deepStrictEqual(
      used.map((item) => item.value),
      links.slice(0, 5),
      'the five newest typed links, not the upload nor the output',
    );
    assert.strictEqual(used[0].source, 'Relighting $\u2060(alert) [x]\u2060(command:evil) · 5 min ago', 'the technique name is inert');
    const outputs = offered.filter((item) => item.label === '$(sparkle) Output of Character Lock');
    assert.deepStrictEqual(
      outputs.map((item) => [item.value, item.source]),
      [
        [output, '25 min ago · 1 of 2'],
        ['https://cdn.example.com/outputs/j57x/1.png', '25 min ago · 2 of 2'],
      ],
    );
    assert.ok(offered.indexOf(used[used.length - 1]) < offered.indexOf(outputs[0]), 'links used before come before earlier outputs');
    assert.ok(!offered.some((item) => item.source.includes('j57six')), 'no runId');

    // A long history stops at the cap of 15, links used before included.
    const many = Array.from({ length: 20 }, (_, index) =>
      runRecord({ completedAt: minutes(60), outputs: [{ type: 'imageUrl', url: `https://cdn.example.com/outputs/many/${index}.png` }] }),
    );
    const capped = await mediaCandidates({
      type: 'imageUrl',
      previous: undefined,
      editor: undefined,
      records: [...records, ...many],
      localFiles: false,
      now: () => now,
    });
    assert.ok(capped.length <= 15, `at most 15 offered, got ${capped.length}`);
  });
});
