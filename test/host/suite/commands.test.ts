// The manifest and the code agree: every contributed command is registered, every registered flora.*
// command is contributed, and every setting the code reads is declared.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { CommandId, ViewId } from '../../../src/common/commandIds';
import { EXTENSION_ID, floraApi } from './helpers';

interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    views: Record<string, Array<{ id: string }>>;
    configuration: { properties: Record<string, unknown> };
    menus: Record<string, Array<{ command: string }>>;
  };
}

function manifest(): Manifest {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension);
  return extension.packageJSON as Manifest;
}

describe('contributions', () => {
  before(async () => {
    await floraApi();
  });

  it('registers every contributed command, and contributes every command it registers', async () => {
    const contributed = manifest()
      .contributes.commands.map((command) => command.command)
      .sort();
    const inCode = Object.values(CommandId).sort();
    assert.deepStrictEqual(contributed, inCode);
    // VS Code registers commands of its own for each view (flora.runs.focus, flora.runs.open, …).
    const viewIds: string[] = [ViewId.techniques, ViewId.addedTechniques, ViewId.runs];
    const registered = (await vscode.commands.getCommands(true)).filter(
      (id) => id.startsWith('flora.') && !viewIds.some((view) => id.startsWith(`${view}.`)),
    );
    assert.deepStrictEqual(registered.sort(), inCode);
  });

  it('titles and categorises every command', () => {
    for (const command of manifest().contributes.commands) {
      assert.strictEqual(command.category, 'FLORA', command.command);
      assert.ok(command.title.length > 0, command.command);
    }
  });

  it('menus only name contributed commands', () => {
    const known = new Set<string>(Object.values(CommandId));
    for (const [menu, entries] of Object.entries(manifest().contributes.menus)) {
      for (const entry of entries) assert.ok(known.has(entry.command), `${menu} names unknown command ${entry.command}`);
    }
  });

  it('contributes the FLORA views', () => {
    const views = manifest().contributes.views[ViewId.container]?.map((view) => view.id);
    assert.deepStrictEqual(views, [ViewId.techniques, ViewId.addedTechniques, ViewId.runs]);
  });

  it('declares every setting the extension reads, and flora.baseUrl is application-scoped', () => {
    const properties = manifest().contributes.configuration.properties;
    for (const name of ['baseUrl', 'pollIntervalSeconds', 'techniques', 'confirmBeforeRun', 'insertFormat', 'outputFolder', 'maxHistory']) {
      assert.ok(properties[`flora.${name}`], `flora.${name} is not declared`);
    }
    assert.strictEqual((properties['flora.baseUrl'] as { scope?: string }).scope, 'application');
  });
});
