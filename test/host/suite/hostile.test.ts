// A hostile server's strings in every place the extension shows them: notifications, quick picks, input
// boxes, progress titles, tree labels, descriptions and tooltips, the status bar. The sandbox's hostile
// techniques carry command links `[label](command:…)`, codicons `$(…)` and markup in their names,
// descriptions, input and output names, error codes and messages. What VS Code would render as a link or an
// icon is found with the workbench's own patterns, read out of the installed workbench.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import MarkdownIt from 'markdown-it';
import * as vscode from 'vscode';
import { FloraApiError, messageForApiError } from '../../../src/core/errors';
import { RunJournal } from '../../../src/core/journal';
import { checkOutputUrl } from '../../../src/core/outputUrl';
import type { RunRecord } from '../../../src/core/runs';
import type { TechniqueDetails } from '../../../src/core/schemas';
import type { FloraConnection } from '../../../src/services/floraConnection';
import type { KeyStore } from '../../../src/services/keyStore';
import { RunsStore } from '../../../src/services/runsStore';
import { Settings } from '../../../src/services/settings';
import { TechniqueCatalog } from '../../../src/services/techniqueCatalog';
import { RunsTree } from '../../../src/views/runsTree';
import { RunsStatusBar } from '../../../src/views/statusBar';
import { TechniquesTree, type TechniquesTreeNode } from '../../../src/views/techniquesTree';
import { runRecord } from '../../common/records';
import { activeSyntax, readWorkbenchPatterns, type WorkbenchPatterns } from '../../harness/workbenchPatterns';
import { detailsOf, type Sandbox } from '../../sandbox/server';
import { findTechnique, HOSTILE_FAILURE_SLUG, HOSTILE_SLUG, HOSTILE_STRINGS } from '../../sandbox/techniques';
import { floraApi, MemoryMemento, rejection, sandboxForExtension, waitFor } from './helpers';

interface Shown {
  where: string;
  text: string;
}

type WindowFunctions = Record<string, unknown>;

/** Records what the extension asks VS Code to show, answering as a user who dismisses everything. */
class ShownRecorder {
  readonly shown: Shown[] = [];
  private readonly originals = new Map<string, unknown>();
  /** What showQuickPick answers, by the picker's title; nothing picked otherwise. */
  pick: (items: readonly vscode.QuickPickItem[], title: string | undefined) => vscode.QuickPickItem | undefined = () => undefined;

  install(): void {
    const window = vscode.window as unknown as WindowFunctions;
    for (const name of ['showInformationMessage', 'showWarningMessage', 'showErrorMessage']) {
      this.replace(window, name, (text: string) => {
        this.shown.push({ where: name, text });
        return Promise.resolve(undefined);
      });
    }
    this.replace(window, 'showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      const list = (await items) as Array<vscode.QuickPickItem | string>;
      const objects = list.map((item) => (typeof item === 'string' ? { label: item } : item));
      if (options?.title) this.shown.push({ where: 'quick pick title', text: options.title });
      if (options?.placeHolder) this.shown.push({ where: 'quick pick placeholder', text: options.placeHolder });
      for (const item of objects) this.recordItem(item);
      return this.pick(objects, options?.title);
    });
    const createInputBox = window.createInputBox as () => vscode.InputBox;
    this.replace(window, 'createInputBox', () => {
      const box = createInputBox.call(vscode.window);
      const show = box.show.bind(box);
      box.show = () => {
        this.shown.push({ where: 'input box title', text: box.title ?? '' }, { where: 'input box prompt', text: box.prompt ?? '' });
        show();
        setTimeout(() => box.hide(), 0);
      };
      return box;
    });
    // A text input with recent values is a picker of its own (createQuickPick): recorded as it shows.
    const createQuickPick = window.createQuickPick as () => vscode.QuickPick<vscode.QuickPickItem>;
    this.replace(window, 'createQuickPick', () => {
      const picker = createQuickPick.call(vscode.window);
      const show = picker.show.bind(picker);
      picker.show = () => {
        if (picker.title) this.shown.push({ where: 'quick pick title', text: picker.title });
        if (picker.placeholder) this.shown.push({ where: 'quick pick placeholder', text: picker.placeholder });
        for (const item of picker.items) this.recordItem(item);
        show();
        setTimeout(() => picker.hide(), 0);
      };
      return picker;
    });
    const withProgress = window.withProgress as typeof vscode.window.withProgress;
    this.replace(window, 'withProgress', (options: vscode.ProgressOptions, task: unknown) => {
      if (options.title) this.shown.push({ where: 'progress title', text: options.title });
      return withProgress.call(vscode.window, options, task as Parameters<typeof vscode.window.withProgress>[1]);
    });
  }

  recordItem(item: vscode.QuickPickItem): void {
    this.shown.push({ where: 'quick pick label', text: item.label });
    if (item.description) this.shown.push({ where: 'quick pick description', text: item.description });
    if (item.detail) this.shown.push({ where: 'quick pick detail', text: item.detail });
  }

  restore(): void {
    const window = vscode.window as unknown as WindowFunctions;
    for (const [name, original] of this.originals) window[name] = original;
    this.originals.clear();
  }

  private replace(window: WindowFunctions, name: string, replacement: unknown): void {
    this.originals.set(name, window[name]);
    window[name] = replacement;
  }
}

/** Our own icons and links are allowed; none of what the server sent may become one. */
const OWN_ICONS = new Set(['$(play)', '$(close)', '$(edit)', '$(history)', '$(selection)', '$(clippy)', '$(sparkle)', '$(error)']);

function assertInert(patterns: WorkbenchPatterns, shown: readonly Shown[]): void {
  for (const { where, text } of shown) {
    const active = activeSyntax(patterns, text).filter((syntax) => !OWN_ICONS.has(syntax));
    assert.deepStrictEqual(active, [], `${where} renders server syntax: ${JSON.stringify(text)}`);
  }
}

function labelOf(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

function treeTexts(item: vscode.TreeItem, where: string): Shown[] {
  const texts: Shown[] = [{ where: `${where} label`, text: labelOf(item) }];
  if (typeof item.description === 'string') texts.push({ where: `${where} description`, text: item.description });
  if (typeof item.tooltip === 'string') texts.push({ where: `${where} tooltip`, text: item.tooltip });
  return texts;
}

/** A Markdown tooltip, rendered by a real Markdown parser: no link and no HTML may come out of it. */
function assertInertMarkdown(tooltip: vscode.TreeItem['tooltip'], where: string): void {
  assert.ok(tooltip instanceof vscode.MarkdownString, `${where} is Markdown`);
  assert.notStrictEqual(tooltip.isTrusted, true, `${where} is not trusted`);
  // Bare https:// URLs become links too, as in VS Code's renderer (GFM autolinks).
  const markdown = new MarkdownIt({ html: true, linkify: true });
  markdown.linkify.set({ fuzzyLink: false });
  const html = markdown.render(tooltip.value);
  assert.ok(!/<a[\s>]|<img|<script|<b>/i.test(html), `${where} renders markup: ${html}`);
}

/** What the sandbox serves as the details of a hostile technique. */
function hostileDetails(slug: string): TechniqueDetails {
  const technique = findTechnique(slug);
  assert.ok(technique, `the sandbox serves ${slug}`);
  return detailsOf(technique);
}

function hostileRecord(status: RunRecord['status']): RunRecord {
  return runRecord({
    localId: `hostile-${status}`,
    runId: `j57hostile${status}`,
    slug: HOSTILE_SLUG,
    techniqueName: `${HOSTILE_STRINGS.name} Renew at https://flora-billing.example <file:///etc/passwd>`,
    inputs: [{ id: HOSTILE_STRINGS.inputName, type: 'text', value: HOSTILE_STRINGS.terminalLink }],
    status,
    progress: 40,
    outputs: [
      { outputId: HOSTILE_STRINGS.outputName, type: HOSTILE_STRINGS.errorCode, url: `https://a.example/${HOSTILE_STRINGS.terminalLink}` },
    ],
    errorCode: HOSTILE_STRINGS.errorCode,
    errorMessage: HOSTILE_STRINGS.errorMessage,
    startedLocallyAt: Date.now(),
    updatedAt: Date.now(),
  });
}

describe('hostile server strings are inert everywhere they are shown', () => {
  let sandbox: Sandbox;
  let patterns: WorkbenchPatterns;
  const recorder = new ShownRecorder();

  before(async () => {
    patterns = readWorkbenchPatterns();
    sandbox = await sandboxForExtension();
    await vscode.workspace
      .getConfiguration('flora')
      .update('techniques', [HOSTILE_SLUG, HOSTILE_FAILURE_SLUG], vscode.ConfigurationTarget.Global);
    recorder.install();
  });

  after(async () => {
    recorder.restore();
    await vscode.workspace.getConfiguration('flora').update('techniques', undefined, vscode.ConfigurationTarget.Global);
    await sandbox.close();
  });

  beforeEach(() => {
    recorder.shown.length = 0;
    recorder.pick = () => undefined;
  });

  it('notifications of runs that complete and fail, and of refused requests, hold no server link or icon', async () => {
    const api = await floraApi();
    const failed = await api.runTechnique(HOSTILE_FAILURE_SLUG, { prompt: 'anything' });
    assert.strictEqual(failed.errorCode, HOSTILE_STRINGS.errorCode, 'scripts still get what FLORA said, unchanged');
    const completed = await api.runTechnique(HOSTILE_SLUG, { prompt: 'a calm one' });
    assert.strictEqual(completed.status, 'completed');
    const refused = await rejection(
      vscode.commands.executeCommand('flora.runTechnique', { slug: HOSTILE_SLUG, inputs: { prompt: HOSTILE_STRINGS.rejectWord } }),
    );
    assert.ok(refused.length > 0);
    const failure = await waitFor('the failure notification', () =>
      recorder.shown.find((entry) => entry.where === 'showErrorMessage' && entry.text.includes('failed')),
    );
    await waitFor('the completion notification', () =>
      recorder.shown.find((entry) => entry.where === 'showInformationMessage' && entry.text.includes('completed')),
    );
    await waitFor('the refusal', () =>
      recorder.shown.find((entry) => entry.where === 'showErrorMessage' && entry.text.includes('Input rejected')),
    );
    // The user still reads what FLORA said: the words are there, only the syntax is broken.
    assert.ok(failure.text.includes('Click here'), failure.text);
    assert.ok(failure.text.includes('workbench.action.terminal.sendSequence'), 'the target is shown as text');
    assertInert(patterns, recorder.shown);
  });

  it('quick picks, input boxes and progress titles of the palette flows', async () => {
    // Run Technique from the palette: pick the hostile technique, then the input box opens and is dismissed.
    recorder.pick = (items, title) =>
      title === 'FLORA: Run Technique' ? items.find((item) => (item as { slug?: string }).slug === HOSTILE_SLUG) : undefined;
    await vscode.commands.executeCommand('flora.runTechnique');
    await waitFor('the text prompt', () =>
      recorder.shown.find(
        (entry) => entry.where === 'input box prompt' || (entry.where === 'quick pick title' && /\(1\/1\)$/.test(entry.text)),
      ),
    );
    assert.ok(
      recorder.shown.some((entry) => entry.where === 'quick pick label' && entry.text.includes('Hostile')),
      'the hostile technique was offered',
    );
    // The confirmation of Run Again names the technique and its inputs.
    const finished = (await floraApi()).getRuns().find((run) => run.slug === HOSTILE_SLUG && run.status === 'completed');
    assert.ok(finished, 'a completed hostile run from the first test');
    await vscode.commands.executeCommand('flora.runAgain', finished.runId);
    await waitFor('the confirmation', () =>
      recorder.shown.find((entry) => entry.where === 'quick pick title' && entry.text.includes('confirm')),
    );
    // Output pickers list every output with its technique's name, output id, type and URL.
    await vscode.commands.executeCommand('flora.copyOutputUrl');
    assert.ok(recorder.shown.some((entry) => entry.where === 'quick pick detail' && entry.text.startsWith(sandbox.url)));
    assertInert(patterns, recorder.shown);
  });

  it("opens in the browser the host the preview checked, as VS Code's own URI parser reads it", () => {
    // WHATWG reads the host as ik.imagekit.io; VS Code's parser, which openExternal uses, would not.
    const raw = 'https://ik.imagekit.io\\@evil.example/x.png';
    assert.strictEqual(new URL(raw).hostname, 'ik.imagekit.io');
    assert.notStrictEqual(vscode.Uri.parse(raw, true).authority, 'ik.imagekit.io', 'the raw URL would open elsewhere');
    const checked = checkOutputUrl(raw).url;
    assert.ok(checked);
    assert.strictEqual(vscode.Uri.parse(checked, true).authority, 'ik.imagekit.io');
  });

  it('tree labels, descriptions and tooltips, and the status bar', async () => {
    const details = new Map([HOSTILE_SLUG, HOSTILE_FAILURE_SLUG].map((slug) => [slug, hostileDetails(slug)]));
    const keysChanged = new vscode.EventEmitter<boolean>();
    // The real catalogue over a connection whose client answers with the hostile details (or error reply).
    const client = {
      getTechnique: async (slug: string) => {
        if (slug === HOSTILE_FAILURE_SLUG) {
          const { errorCode, errorBodyMessage } = HOSTILE_STRINGS;
          throw new FloraApiError(
            400,
            errorCode,
            errorBodyMessage,
            messageForApiError(400, errorCode, errorBodyMessage, { kind: 'technique', slug }),
          );
        }
        return details.get(slug) ?? assert.fail(slug);
      },
    };
    const connection = { client: () => client } as unknown as FloraConnection;
    const keys = { onDidChange: keysChanged.event, has: async () => true } as unknown as KeyStore;
    const settings = new Settings();
    const catalog = new TechniqueCatalog({ connection, settings, keys, memento: new MemoryMemento() });
    await catalog.get(HOSTILE_SLUG);
    await assert.rejects(catalog.get(HOSTILE_FAILURE_SLUG));
    const techniques = new TechniquesTree(catalog, keys, 'added');
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-hostile-'));
    const journal = new RunJournal(directory);
    await journal.save(hostileRecord('failed'));
    await journal.save(hostileRecord('running'));
    const runs = new RunsStore(journal, 100);
    const runsTree = new RunsTree(runs);
    const statusBar = new RunsStatusBar(runs);
    try {
      await runs.ready;
      await waitFor('the added techniques', async () => ((await techniques.getChildren()).length === 2 ? true : undefined));
      const shown: Shown[] = [];
      const visit = async (node: TechniquesTreeNode | undefined, depth: number): Promise<void> => {
        for (const child of await techniques.getChildren(node)) {
          const item = techniques.getTreeItem(child);
          shown.push(...treeTexts(item, `technique tree (depth ${depth})`));
          if (item.tooltip instanceof vscode.MarkdownString) assertInertMarkdown(item.tooltip, 'technique tooltip');
          if (depth < 3) await visit(child, depth + 1);
        }
      };
      await visit(undefined, 0);
      assert.ok(
        shown.some((entry) => entry.text.includes('Input rejected')),
        'the failed details are shown',
      );
      assert.ok(
        shown.some((entry) => entry.text.includes('Prompt')),
        'the input names are shown',
      );
      for (const node of runsTree.getChildren()) {
        const item = runsTree.resolveTreeItem(runsTree.getTreeItem(node), node);
        shown.push(...treeTexts(item, 'run'));
        assertInertMarkdown(item.tooltip, 'run tooltip');
        for (const output of runsTree.getChildren(node)) shown.push(...treeTexts(runsTree.getTreeItem(output), 'output'));
      }
      assert.ok(
        shown.some((entry) => entry.where === 'output label'),
        'outputs were listed',
      );
      statusBar.update();
      const item = (statusBar as unknown as { item: vscode.StatusBarItem }).item;
      assert.ok(item.text.includes('Hostile'), item.text);
      const icons = activeSyntax(patterns, item.text);
      assert.deepStrictEqual(icons, ['$(sync~spin)'], 'only our own spinner');
      assertInertMarkdown(item.tooltip, 'status bar tooltip');
      assertInert(patterns, shown);
    } finally {
      statusBar.dispose();
      runsTree.dispose();
      runs.dispose();
      techniques.dispose();
      catalog.dispose();
      settings.dispose();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
