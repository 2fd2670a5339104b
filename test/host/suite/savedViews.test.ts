// Where each output was saved, in the Runs view and the preview, after the extension's own Save Outputs to
// Workspace on a sandbox run: the output row says "saved · flora-outputs/…" and gains the `saved;` context
// value that Open Saved File's menu entries match, the preview's model carries the saved path (and stops
// offering Save to Workspace), and Open Saved File opens the file in an editor tab.
//
// The views are built here over the very journal the extension writes (a second window of the same
// profile sees the same), because the extension's own tree provider and panels live in its bundle, out of
// the tests' reach; a second PreviewPanels cannot register beside the extension's, so the preview is read
// through previewModel, the function that makes what the panel posts.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { RunJournal } from '../../../src/core/journal';
import type { RunRecord } from '../../../src/core/runs';
import { RunsStore } from '../../../src/services/runsStore';
import { previewModel, type PreviewSources } from '../../../src/views/previewPanel';
import { RunsTree, type OutputNode, type RunsTreeNode } from '../../../src/views/runsTree';
import type { Sandbox } from '../../sandbox/server';
import { EXTENSION_ID, floraApi, IMAGE_URL, sandboxForExtension, waitFor } from './helpers';

function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(folder, 'the host tests open a workspace folder');
  return folder;
}

/**
 * The extension's run journal: runHostTests.ts puts the workspace and code-server's run folder side by side
 * (`<run>/workspace`, `<run>/code-server/user-data`), and VS Code keeps an extension's global storage in
 * `<user data>/User/globalStorage/<extension id>`; composition.ts keeps the journal in its `runs` folder.
 */
function extensionJournalFolder(): string {
  const root = path.join(workspaceFolder(), '..', 'code-server', 'user-data', 'User', 'globalStorage');
  // The folder is named after the extension id, in the case VS Code chose.
  const name = fs.existsSync(root) ? fs.readdirSync(root).find((entry) => entry.toLowerCase() === EXTENSION_ID) : undefined;
  assert.ok(name, `the extension's global storage is in ${root}`);
  return path.join(root, name, 'runs');
}

/** The `viewItem =~ /…/` patterns of a command's entries in the Runs view's item menus (package.json). */
function menuPatterns(command: string): RegExp[] {
  const manifest = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as {
    contributes: { menus: Record<string, Array<{ command: string; when?: string }>> };
  };
  const entries = manifest.contributes.menus['view/item/context'] ?? [];
  const patterns = entries
    .filter((entry) => entry.command === command)
    .map((entry) => /viewItem =~ \/(.+?)\/(?:\s|$)/.exec(entry.when ?? '')?.[1])
    .filter((source): source is string => source !== undefined)
    .map((source) => new RegExp(source));
  assert.ok(patterns.length > 0, `${command} has entries in the Runs view's item menus`);
  return patterns;
}

function openTabOf(file: string): vscode.Tab | undefined {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .find((tab) => {
      const input = tab.input;
      const uri = input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? input.uri : undefined;
      return uri?.fsPath === file;
    });
}

function markdownOf(tooltip: vscode.TreeItem['tooltip']): string {
  // Escaped Markdown (spaces as &nbsp;): read without its escapes.
  return (tooltip instanceof vscode.MarkdownString ? tooltip.value : (tooltip ?? '')).replace(/\\/g, '').replace(/&nbsp;/g, ' ');
}

describe('saved outputs in the Runs view and the preview', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  /** Read once a run has been recorded: the extension makes its storage folder on its first write. */
  let journalOf: () => RunJournal;

  before(async () => {
    sandbox = await sandboxForExtension();
    await vscode.workspace.getConfiguration('flora').update('saveOutputs', 'ask', vscode.ConfigurationTarget.Global);
    let journal: RunJournal | undefined;
    journalOf = () => (journal ??= new RunJournal(extensionJournalFolder()));
  });

  after(async () => {
    await vscode.workspace.getConfiguration('flora').update('saveOutputs', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await sandbox.close();
  });

  it('shows where the output was saved, offers Save until then, and opens the saved file', async () => {
    const api = await floraApi();
    const run = await api.runTechnique('studio-shot', { product_image: IMAGE_URL });
    assert.strictEqual(run.status, 'completed');
    // The extension's localId is the idempotency key it sent.
    const localId = sandbox.runs().find((candidate) => candidate.runId === run.runId)?.idempotencyKey;
    assert.ok(localId, 'the sandbox saw the run’s idempotency key');
    const journal = journalOf();
    const sources = (saveOutputs: PreviewSources['saveOutputs']): PreviewSources => ({
      connection: { extraOrigins: () => [new URL(sandbox.url).origin] },
      runs: { connectionOf: () => undefined },
      saveOutputs,
    });
    const stored = (): Promise<RunRecord> =>
      waitFor('the saved output in the extension’s journal', async () => {
        const record = await journal.read(localId);
        return record?.savedOutputs?.length ? record : undefined;
      });
    const openSaved = menuPatterns('flora.openSavedOutput');

    // Before saving: the row is a plain output, the preview offers Save to Workspace (but not under "never").
    const unsaved = await waitFor('the completed run in the journal', async () => {
      const record = await journal.read(localId);
      return record?.status === 'completed' ? record : undefined;
    });
    const before = previewModel(unsaved, sources('ask'));
    assert.strictEqual(before.offerSave, true, 'a completed run not saved yet is offered Save to Workspace');
    assert.strictEqual(previewModel(unsaved, sources('never')).offerSave, false, 'flora.saveOutputs = never offers nothing');
    assert.strictEqual(before.outputs[0]?.savedPath, '');

    const files = await vscode.commands.executeCommand<vscode.Uri[]>('flora.saveOutputsToWorkspace', run.runId);
    assert.strictEqual(files.length, 1);
    const [file] = files;
    assert.ok(file && fs.existsSync(file.fsPath), 'the output was saved');
    const relative = vscode.workspace.asRelativePath(file);
    assert.match(relative, /^flora-outputs\/studio-shot-[^/]+\.png$/, `shown relative to the workspace: ${relative}`);

    const record = await stored();
    const runs = new RunsStore(journal, 1_000);
    const tree = new RunsTree(runs);
    try {
      await runs.ready;
      const runNode = tree
        .getChildren()
        .find((node): node is RunsTreeNode & { kind: 'run' } => node.kind === 'run' && node.localId === localId);
      assert.ok(runNode, 'the run is in the Runs view');
      const [outputNode] = tree.getChildren(runNode) as OutputNode[];
      assert.ok(outputNode);
      const item = tree.getTreeItem(outputNode);
      assert.strictEqual(item.description, `saved · ${relative}`);
      assert.strictEqual(item.contextValue, `output;${outputNode.output.type};saved;`);
      assert.ok(
        openSaved.some((pattern) => pattern.test(item.contextValue ?? '')),
        'Open Saved File is on the row',
      );
      for (const pattern of menuPatterns('flora.copyOutputUrl')) assert.match(item.contextValue ?? '', pattern, 'the output menus stay');
      assert.strictEqual(typeof item.tooltip, 'string');
      assert.ok(markdownOf(item.tooltip).includes(`Saved to ${relative}`), markdownOf(item.tooltip));
      const runTooltip = markdownOf(tree.resolveTreeItem(tree.getTreeItem(runNode), runNode).tooltip);
      assert.ok(runTooltip.includes(`Saved to ${relative}`), runTooltip);

      // The preview: "Saved as …" with Open File, and no more Save to Workspace.
      const after = previewModel(record, sources('ask'));
      assert.strictEqual(after.outputs[0]?.savedPath, relative);
      assert.strictEqual(after.outputs[0]?.savedText, `Saved as ${relative}`);
      assert.strictEqual(after.offerSave, false, 'nothing left to save');
      assert.strictEqual(after.labels.openSaved, 'Open File');

      // Open Saved File from the row (the node the menu passes), then as a script calls it.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('flora.openSavedOutput', outputNode);
      await waitFor('the saved file opened from the Runs view', () => openTabOf(file.fsPath));
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('flora.openSavedOutput', { localId, index: 0 });
      await waitFor('the saved file opened by { localId, index }', () => openTabOf(file.fsPath));
    } finally {
      tree.dispose();
      runs.dispose();
    }
  });

  it('keeps an unsaved output row as it was: no saved description, no saved; context value', async () => {
    const api = await floraApi();
    const run = await api.runTechnique('studio-shot', { product_image: IMAGE_URL });
    const localId = sandbox.runs().find((candidate) => candidate.runId === run.runId)?.idempotencyKey;
    assert.ok(localId);
    const journal = journalOf();
    const runs = new RunsStore(journal, 1_000);
    const tree = new RunsTree(runs);
    try {
      const outputNode = await waitFor('the completed run in the Runs view', async () => {
        await runs.ready;
        return runs.get(localId)?.status === 'completed' ? (tree.getChildren({ kind: 'run', localId }) as OutputNode[])[0] : undefined;
      });
      const item = tree.getTreeItem(outputNode);
      assert.strictEqual(item.description, 'image');
      assert.strictEqual(item.contextValue, `output;${outputNode.output.type};`);
      assert.ok(!menuPatterns('flora.openSavedOutput').some((pattern) => pattern.test(item.contextValue ?? '')), 'no Open Saved File');
      for (const pattern of menuPatterns('flora.copyOutputUrl')) assert.match(item.contextValue ?? '', pattern);
    } finally {
      tree.dispose();
      runs.dispose();
    }
  });
});
