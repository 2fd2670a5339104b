// The walkthrough keeps up with what its steps teach, however it was done. The extension's calls into
// VS Code are recorded on the way (and still made): each step's completion context key turns true from the
// real action (a technique expanded in the tree with the keyboard, a run through the command, an insert, an
// upload target chosen, a key set). WalkthroughProgress, over a globalState of its own, then shows what it
// tells VS Code: each step marked done once per profile, even when VS Code fails to find a step not yet
// registered, and the walkthrough opened on a profile's first activation only. test/e2e/walkthrough.test.ts
// sees the check marks themselves.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { MARK_STEP_COMPLETE, WalkthroughProgress, WalkthroughStep } from '../../../src/views/walkthrough';
import type { Sandbox } from '../../sandbox/server';
import { EXTENSION_ID, IMAGE_URL, MemoryMemento, sandboxForExtension, waitFor } from './helpers';

type Call = [string, ...unknown[]];

/**
 * What the extension asked VS Code to set and mark since this file was loaded, the calls still made. Mocha
 * loads every suite file before it runs a test, so this sees the whole host run: a step is marked done once
 * per profile, maybe by an earlier suite's run or insert. Restored when this file's tests are done.
 */
const recorded: Call[] = [];
const commands = vscode.commands as unknown as Record<string, unknown>;
const executeCommand = vscode.commands.executeCommand;
commands.executeCommand = (id: string, ...args: unknown[]) => {
  if (id === 'setContext' || id === MARK_STEP_COMPLETE) recorded.push([id, ...args]);
  return executeCommand.call(vscode.commands, id, ...args);
};

/** Whether the extension set `key` to true since `from` (an index into recorded). */
function setTrue(key: string, from: number): boolean {
  return recorded.slice(from).some(([id, name, value]) => id === 'setContext' && name === key && value === true);
}

/** Whether the extension told VS Code that `step` is done, during this host run. */
function marked(step: WalkthroughStep): boolean {
  return recorded.some(([id, stepId]) => id === MARK_STEP_COMPLETE && stepId === `${EXTENSION_ID}#getStarted#${step}`);
}

describe('walkthrough', () => {
  after(() => {
    commands.executeCommand = executeCommand;
  });

  describe('each step completes from the real action', () => {
    let sandbox: Sandbox;

    before(async () => {
      sandbox = await sandboxForExtension();
    });

    after(async () => {
      const configuration = vscode.workspace.getConfiguration('flora');
      for (const name of ['upload.target', 'upload.s3.bucket'])
        await configuration.update(name, undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await sandbox.close();
    });

    it('Set your API key: the key set (sandboxForExtension set it from a script)', async () => {
      await waitFor('the step marked done', () => marked(WalkthroughStep.setApiKey));
    });

    it('Browse techniques: a technique expanded in the Techniques view, with the keyboard as a person would', async () => {
      const from = recorded.length;
      // The list needs the catalogue: focus its first technique and expand it until the view has answered.
      await waitFor(
        'flora.hasExpandedTechnique',
        async () => {
          await vscode.commands.executeCommand('flora.techniques.focus');
          await vscode.commands.executeCommand('list.focusFirst');
          await vscode.commands.executeCommand('list.expand');
          return setTrue('flora.hasExpandedTechnique', from);
        },
        30_000,
      );
      await waitFor('the step marked done', () => marked(WalkthroughStep.browseTechniques));
    });

    it('Run a technique: a run started through the command, as a script would', async () => {
      const from = recorded.length;
      await vscode.commands.executeCommand('flora.runTechnique', { slug: 'studio-shot', inputs: { product_image: IMAGE_URL } });
      await waitFor('flora.hasStartedRun', () => setTrue('flora.hasStartedRun', from));
      await waitFor('the step marked done', () => marked(WalkthroughStep.runTechnique));
    });

    it('Insert the output: an output inserted into an editor', async () => {
      const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: '' });
      await vscode.window.showTextDocument(document);
      const from = recorded.length;
      await vscode.commands.executeCommand('flora.insertOutputUrl', { url: IMAGE_URL, type: 'imageUrl' });
      assert.match(document.getText(), /^!\[.*\]\(https:\/\/media\.flora\.ai\//);
      await waitFor('flora.hasInsertedOutput', () => setTrue('flora.hasInsertedOutput', from));
      await waitFor('the step marked done', () => marked(WalkthroughStep.insertOutput));
    });

    it('Use local files: an upload target chosen, as Configure Upload writes it to the user settings', async () => {
      const from = recorded.length;
      const configuration = vscode.workspace.getConfiguration('flora');
      await configuration.update('upload.s3.bucket', 'walkthrough-bucket', vscode.ConfigurationTarget.Global);
      await configuration.update('upload.target', 's3', vscode.ConfigurationTarget.Global);
      await waitFor('flora.hasConfiguredUpload', () => setTrue('flora.hasConfiguredUpload', from));
      await waitFor('the step marked done', () => marked(WalkthroughStep.useLocalFiles));
    });
  });

  describe('what it tells VS Code', () => {
    /** A WalkthroughProgress over a fresh globalState, recording its commands; `fail` makes the mark fail. */
    function progress(options: { memento?: MemoryMemento; fail?: boolean; known?: string[]; real?: boolean } = {}) {
      const calls: Call[] = [];
      const memento = options.memento ?? new MemoryMemento();
      const tracker = new WalkthroughProgress({
        extensionId: EXTENSION_ID,
        memento,
        executeCommand: (id, ...args) => {
          calls.push([id, ...args]);
          if (id === MARK_STEP_COMPLETE && options.fail) return Promise.reject(new Error('Attempting to access step which does not exist'));
          if (options.real || id !== MARK_STEP_COMPLETE) return vscode.commands.executeCommand(id, ...args);
          return Promise.resolve(undefined);
        },
        getCommands: options.known ? () => Promise.resolve(options.known ?? []) : undefined,
      });
      return { tracker, calls, memento };
    }

    it('sets the step’s key and marks the step done, once per profile', async () => {
      const { tracker, calls, memento } = progress();
      await tracker.complete(WalkthroughStep.browseTechniques);
      await tracker.complete(WalkthroughStep.browseTechniques);
      assert.deepStrictEqual(calls, [
        ['setContext', 'flora.hasExpandedTechnique', true],
        [MARK_STEP_COMPLETE, `${EXTENSION_ID}#getStarted#browseTechniques`],
        ['setContext', 'flora.hasExpandedTechnique', true],
      ]);
      tracker.dispose();
      // The next activation of the same profile does not mark it again.
      const next = progress({ memento });
      await next.tracker.complete(WalkthroughStep.browseTechniques);
      assert.deepStrictEqual(next.calls, [['setContext', 'flora.hasExpandedTechnique', true]]);
      next.tracker.dispose();
    });

    it('leaves the API key’s context key to the KeyStore, and still marks the step', async () => {
      const { tracker, calls } = progress();
      await tracker.complete(WalkthroughStep.setApiKey);
      assert.deepStrictEqual(calls, [[MARK_STEP_COMPLETE, `${EXTENSION_ID}#getStarted#setApiKey`]]);
      tracker.dispose();
    });

    it('counts a mark VS Code failed to look up (the walkthrough not registered yet: it stored the step first)', async () => {
      const { tracker, calls } = progress({ fail: true });
      await tracker.complete(WalkthroughStep.runTechnique);
      await tracker.complete(WalkthroughStep.runTechnique);
      assert.strictEqual(calls.filter(([id]) => id === MARK_STEP_COMPLETE).length, 1);
      tracker.dispose();
    });

    it('keeps to the context keys in a VS Code without the mark command', async () => {
      const { tracker, calls } = progress({ known: ['setContext'] });
      await tracker.complete(WalkthroughStep.insertOutput);
      assert.deepStrictEqual(calls, [['setContext', 'flora.hasInsertedOutput', true]]);
      tracker.dispose();
    });

    it('marks a real step in this VS Code without an error, and knows the command', async () => {
      assert.ok((await vscode.commands.getCommands()).includes(MARK_STEP_COMPLETE), `${MARK_STEP_COMPLETE} exists in this VS Code`);
      const { tracker, calls } = progress({ real: true });
      await tracker.complete(WalkthroughStep.useLocalFiles);
      assert.ok(calls.some(([id]) => id === MARK_STEP_COMPLETE));
      tracker.dispose();
    });

    it('opens the walkthrough on the first activation in a profile, and not on the next', async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const tabs = () => vscode.window.tabGroups.all.flatMap((group) => group.tabs);
      const memento = new MemoryMemento();
      const first = progress({ memento });
      assert.strictEqual(await first.tracker.openOnce(), true);
      assert.deepStrictEqual(first.calls, [['workbench.action.openWalkthrough', `${EXTENSION_ID}#getStarted`, false]]);
      // The walkthrough is an editor the API does not model: a tab without an input.
      const opened = await waitFor('the walkthrough tab', () => tabs().find((tab) => tab.input === undefined));
      assert.ok(opened.isActive, `the walkthrough (${opened.label}) is the active tab`);
      first.tracker.dispose();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const second = progress({ memento });
      assert.strictEqual(await second.tracker.openOnce(), false);
      assert.deepStrictEqual(second.calls, []);
      assert.deepStrictEqual(
        tabs().map((tab) => tab.label),
        [],
      );
      second.tracker.dispose();
    });
  });
});
