// flora.insertOutputUrl writes the output at every cursor, formatted for the document's language.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { floraApi } from './helpers';

const IMAGE = { url: 'https://ik.imagekit.io/flora/out/a.png', type: 'imageUrl' };
const VIDEO = { url: 'https://ik.imagekit.io/flora/out/b.webm', type: 'videoUrl' };

async function insertInto(language: string, output: { url: string; type: string }, content = ''): Promise<string> {
  const document = await vscode.workspace.openTextDocument({ language, content });
  const editor = await vscode.window.showTextDocument(document);
  editor.selection = new vscode.Selection(document.positionAt(content.length), document.positionAt(content.length));
  await vscode.commands.executeCommand('flora.insertOutputUrl', output);
  return document.getText();
}

describe('inserting output URLs', () => {
  before(async () => {
    await floraApi();
  });

  afterEach(async () => {
    await vscode.workspace.getConfiguration('flora').update('insertFormat', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('writes a Markdown image', async () => {
    assert.strictEqual(await insertInto('markdown', IMAGE), '![FLORA output](https://ik.imagekit.io/flora/out/a.png)');
  });

  it('writes a video element in Markdown', async () => {
    assert.strictEqual(await insertInto('markdown', VIDEO), '<video src="https://ik.imagekit.io/flora/out/b.webm" controls></video>');
  });

  it('writes <img> in HTML and a self-closing one in TSX', async () => {
    assert.strictEqual(await insertInto('html', IMAGE), '<img src="https://ik.imagekit.io/flora/out/a.png" alt="FLORA output">');
    assert.strictEqual(
      await insertInto('typescriptreact', IMAGE),
      '<img src="https://ik.imagekit.io/flora/out/a.png" alt="FLORA output" />',
    );
  });

  it('writes url("…") in CSS', async () => {
    assert.strictEqual(
      await insertInto('css', IMAGE, '.hero { background: '),
      '.hero { background: url("https://ik.imagekit.io/flora/out/a.png")',
    );
  });

  it('writes the plain URL elsewhere, and everywhere when the setting says plain', async () => {
    assert.strictEqual(await insertInto('plaintext', IMAGE), IMAGE.url);
    await vscode.workspace.getConfiguration('flora').update('insertFormat', 'plain', vscode.ConfigurationTarget.Global);
    assert.strictEqual(await insertInto('markdown', IMAGE), IMAGE.url);
  });

  it('inserts at every cursor', async () => {
    const document = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'a\nb\n' });
    const editor = await vscode.window.showTextDocument(document);
    editor.selections = [new vscode.Selection(0, 1, 0, 1), new vscode.Selection(1, 1, 1, 1)];
    await vscode.commands.executeCommand('flora.insertOutputUrl', IMAGE);
    assert.strictEqual(document.getText(), `a${IMAGE.url}\nb${IMAGE.url}\n`);
  });
});
