// Checks the test harness itself, not the extension: the editor started, loaded this repository in
// development mode, opened the fixture workspace and passed the driver's environment through.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

const extensionId = 'flora-community.flora-vscode';

describe('test harness', () => {
  it('runs inside a real VS Code: the one the driver installed', () => {
    // runHostTests reads the version from the installed code-server; the Electron runner names none, so
    // there the editor's own product.json (where VS Code takes vscode.version from) stands in.
    const installed =
      process.env.FLORA_TEST_EDITOR_VERSION ??
      (JSON.parse(fs.readFileSync(path.join(vscode.env.appRoot, 'product.json'), 'utf8')) as { version?: string }).version;
    assert.ok(installed, 'no installed editor version to compare with');
    assert.strictEqual(vscode.version, installed);
  });

  it('loads the extension under development', () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `${extensionId} is not known to the extension host`);
    assert.strictEqual((extension.packageJSON as { publisher?: string }).publisher, 'flora-community');
  });

  it('opens the fixture workspace', async () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.strictEqual(folders.length, 1);
    const readme = await vscode.workspace.fs.stat(vscode.Uri.joinPath(folders[0].uri, 'README.md'));
    assert.strictEqual(readme.type, vscode.FileType.File);
  });

  it('passes the driver environment to the extension host', () => {
    assert.ok(process.env.FLORA_TEST_RESULT_FILE, 'FLORA_TEST_RESULT_FILE is not set in the extension host');
  });
});
