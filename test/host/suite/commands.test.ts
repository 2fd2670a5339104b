// The manifest and the running editor agree: every contributed command is registered, every registered
// flora.* command is contributed, and VS Code knows every declared setting. (That the code reads exactly
// the declared settings is test/unit/manifest.test.ts's check, which needs no editor.)
import * as assert from 'assert';
import * as vscode from 'vscode';
import { CommandId } from '../../../src/common/commandIds';
import { ViewId } from '../../../src/common/viewIds';
import { EXTENSION_ID, floraApi } from './helpers';

interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    views: Record<string, Array<{ id: string }>>;
    configuration: { properties: Record<string, { default?: unknown; scope?: string }> };
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

  it('has VS Code know every declared setting with its declared default, and flora.baseUrl is application-scoped', () => {
    const properties = manifest().contributes.configuration.properties;
    const declared = Object.keys(properties);
    assert.ok(declared.length > 0, 'the manifest declares settings');
    const configuration = vscode.workspace.getConfiguration();
    for (const name of declared) {
      const known = configuration.inspect(name);
      assert.ok(known, `VS Code does not know ${name}`);
      assert.deepStrictEqual(known.defaultValue, properties[name].default, `${name}: the default VS Code uses`);
    }
    assert.strictEqual(properties['flora.baseUrl'].scope, 'application');
  });
});
