// Download Output in the real editor: a workspace's flora.outputFolder cannot send files outside the
// workspace (`../..`, an absolute path), the message names the remedy and offers to open that setting,
// nothing is written outside, and a normal download lands in the workspace under a new name each time
// (never over an existing file).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Sandbox } from '../../sandbox/server';
import { floraApi, IMAGE_URL, rejection, sandboxForExtension, waitFor } from './helpers';

describe('downloads and flora.outputFolder', () => {
  let sandbox: Sandbox;
  let output: { url: string; type: string };

  before(async () => {
    sandbox = await sandboxForExtension();
    const record = await (await floraApi()).runTechnique('studio-shot', { product_image: IMAGE_URL });
    const first = record.outputs?.[0];
    assert.ok(first, 'the run has an output');
    output = { url: first.url, type: first.type };
  });

  after(async () => {
    await vscode.workspace.getConfiguration('flora').update('outputFolder', undefined, vscode.ConfigurationTarget.Workspace);
    await sandbox.close();
  });

  function workspaceFolder(): string {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'the host tests open a workspace folder');
    return folder;
  }

  it("refuses a workspace's flora.outputFolder of ../.. or an absolute path, and writes nothing outside", async () => {
    const configuration = vscode.workspace.getConfiguration('flora');
    const above = path.resolve(workspaceFolder(), '../..');
    const before = fs.readdirSync(above).sort();
    const absolute = path.join(os.tmpdir(), `flora-outside-${process.pid}-${Date.now()}`);
    for (const value of ['../..', absolute]) {
      await configuration.update('outputFolder', value, vscode.ConfigurationTarget.Workspace);
      const message = await rejection(vscode.commands.executeCommand('flora.downloadOutput', output));
      assert.match(message, /Set flora\.outputFolder .*in your User settings to save outside the workspace/, message);
    }
    assert.deepStrictEqual(fs.readdirSync(above).sort(), before, 'nothing new next to the workspace');
    assert.strictEqual(fs.existsSync(absolute), false, 'the absolute folder was not created');
  });

  it('offers "Open Settings" on flora.outputFolder when the folder is refused', async () => {
    await vscode.workspace.getConfiguration('flora').update('outputFolder', '../..', vscode.ConfigurationTarget.Workspace);
    const window = vscode.window as unknown as Record<string, unknown>;
    const commands = vscode.commands as unknown as Record<string, unknown>;
    const showErrorMessage = window.showErrorMessage;
    const executeCommand = vscode.commands.executeCommand;
    const offered: string[][] = [];
    const opened: unknown[][] = [];
    // The user clicks "Open Settings" when it is offered; opening the settings is recorded, not done.
    window.showErrorMessage = (_text: string, ...actions: string[]) => {
      offered.push(actions);
      return Promise.resolve(actions.includes('Open Settings') ? 'Open Settings' : undefined);
    };
    commands.executeCommand = (id: string, ...args: unknown[]) => {
      if (id !== 'workbench.action.openSettings') return executeCommand.call(vscode.commands, id, ...args);
      opened.push(args);
      return Promise.resolve(undefined);
    };
    try {
      await rejection(vscode.commands.executeCommand('flora.downloadOutput', output));
      await waitFor('the error message', () => (offered.length > 0 ? true : undefined));
      assert.deepStrictEqual(offered, [['Open Settings']]);
      await waitFor('the settings to open', () => (opened.length > 0 ? true : undefined));
      assert.deepStrictEqual(opened, [['flora.outputFolder']]);
    } finally {
      window.showErrorMessage = showErrorMessage;
      commands.executeCommand = executeCommand;
    }
  });

  it('saves a normal download inside the workspace, under a new name each time', async () => {
    const configuration = vscode.workspace.getConfiguration('flora');
    await configuration.update('outputFolder', 'flora-outputs/download-test', vscode.ConfigurationTarget.Workspace);
    const folder = path.join(fs.realpathSync(workspaceFolder()), 'flora-outputs', 'download-test');
    const first = await vscode.commands.executeCommand<vscode.Uri>('flora.downloadOutput', output);
    const firstBytes = fs.readFileSync(first.fsPath);
    fs.writeFileSync(first.fsPath, 'edited by the user');
    const second = await vscode.commands.executeCommand<vscode.Uri>('flora.downloadOutput', output);
    for (const saved of [first, second]) assert.strictEqual(path.dirname(saved.fsPath), folder, saved.fsPath);
    assert.notStrictEqual(second.fsPath, first.fsPath, 'a second download gets a new name');
    assert.match(path.basename(second.fsPath), /-2\.png$/);
    assert.strictEqual(fs.readFileSync(first.fsPath, 'utf8'), 'edited by the user', 'the existing file was not overwritten');
    assert.deepStrictEqual([...fs.readFileSync(second.fsPath)], [...firstBytes]);
    assert.deepStrictEqual([...firstBytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a real PNG, named .png by its content type');
  });
});
