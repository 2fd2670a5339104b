// flora.insertOutputUrl writes the output at every cursor, formatted for the document's language.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { floraApi, rejection } from './helpers';

const IMAGE = { url: 'https://ik.imagekit.io/flora/out/a.png', type: 'imageUrl' };
const VIDEO = { url: 'https://ik.imagekit.io/flora/out/b.webm', type: 'videoUrl' };
const TEXT = { url: 'https://ik.imagekit.io/flora/out/c.txt', type: 'text' };

/** Outputs whose URL the preview would not load either: none of them is inserted or copied. */
const REFUSED = [
  { url: 'javascript:alert(document.cookie)', type: 'imageUrl' },
  { url: 'data:text/html,<script>alert(1)</script>', type: 'imageUrl' },
  { url: 'http://ik.imagekit.io/flora/out/a.png', type: 'imageUrl' },
  { url: 'https://user:secret@ik.imagekit.io/flora/out/a.png', type: 'imageUrl' },
  { url: 'https://a"onerror="alert(1).example/a.png', type: 'imageUrl' },
  { url: 'command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D', type: 'videoUrl' },
];

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

  it('writes a link, not raw HTML, for a video in Markdown', async () => {
    assert.strictEqual(await insertInto('markdown', VIDEO), '[FLORA output](https://ik.imagekit.io/flora/out/b.webm)');
  });

  it('writes a link for a non-media output in HTML', async () => {
    assert.strictEqual(await insertInto('html', TEXT), '<a href="https://ik.imagekit.io/flora/out/c.txt">FLORA output</a>');
  });

  it('writes a hostile but https URL normalised and escaped, so it cannot end the snippet', async () => {
    const hostile = { url: 'https://IK.imagekit.io/a).png\n<b>{{x}}', type: 'imageUrl' };
    assert.strictEqual(await insertInto('markdown', hostile), '![FLORA output](https://ik.imagekit.io/a\\).png%3Cb%3E%7B%7Bx%7D%7D)');
    assert.strictEqual(
      await insertInto('css', { url: 'https://ik.imagekit.io/a".png#{x}', type: 'imageUrl' }, '.hero { background: '),
      '.hero { background: url("https://ik.imagekit.io/a%22.png#%7Bx%7D")',
    );
  });

  it('refuses an output whose URL the preview would not load, with a message, leaving the document unchanged', async () => {
    for (const output of REFUSED) {
      for (const language of ['markdown', 'html', 'css', 'plaintext']) {
        const content = 'before\n';
        const document = await vscode.workspace.openTextDocument({ language, content });
        const editor = await vscode.window.showTextDocument(document);
        editor.selection = new vscode.Selection(1, 0, 1, 0);
        const refused = await rejection(vscode.commands.executeCommand('flora.insertOutputUrl', output));
        assert.match(refused, /not inserted or copied/, `${language}: ${output.url}`);
        assert.strictEqual(document.getText(), content, `${language}: ${output.url}`);
        await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      }
    }
  });

  it('copies the checked, normalised URL, and leaves the clipboard alone for a refused one', async () => {
    const copied = await vscode.commands.executeCommand('flora.copyOutputUrl', {
      url: ' HTTPS://IK.ImageKit.IO:443/a b{c}.png',
      type: 'imageUrl',
    });
    assert.strictEqual(copied, 'https://ik.imagekit.io/a%20b%7Bc%7D.png');
    assert.strictEqual(await vscode.env.clipboard.readText(), 'https://ik.imagekit.io/a%20b%7Bc%7D.png');
    const sentinel = `kept ${Date.now()}`;
    await vscode.env.clipboard.writeText(sentinel);
    for (const output of REFUSED) {
      const refused = await rejection(vscode.commands.executeCommand('flora.copyOutputUrl', output));
      assert.match(refused, /not inserted or copied/, output.url);
      assert.strictEqual(await vscode.env.clipboard.readText(), sentinel, output.url);
    }
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
    // An untitled document of its own name: `openTextDocument({ content })` may hand back the previous
    // test's Untitled-1, just closed but not yet disposed, with that test's text (seen once in CI).
    const uri = vscode.Uri.from({ scheme: 'untitled', path: `every-cursor-${Date.now()}.txt` });
    const document = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(document);
    await editor.edit((builder) => builder.insert(new vscode.Position(0, 0), 'a\nb\n'));
    assert.strictEqual(document.getText(), 'a\nb\n');
    editor.selections = [new vscode.Selection(0, 1, 0, 1), new vscode.Selection(1, 1, 1, 1)];
    await vscode.commands.executeCommand('flora.insertOutputUrl', IMAGE);
    assert.strictEqual(document.getText(), `a${IMAGE.url}\nb${IMAGE.url}\n`);
  });
});
