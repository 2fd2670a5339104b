// flora.confirmBeforeRun in the real editor: a workspace (a repository someone cloned) cannot switch the cost
// confirmation off, the user's own settings can. Run Technique goes the palette's way: the technique picker,
// the input box, then the confirmation, each answered by replacing the vscode.window function that shows it.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Sandbox } from '../../sandbox/server';
import { readSettings } from '../../../src/services/settings';
import { answeringInputBox, floraApi, postsTo, sandboxForExtension, waitFor } from './helpers';

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
