// Outputs that last, in the real editor on the sandbox: Save Outputs to Workspace names the files and writes
// the provenance beside them; flora.saveOutputs saves on completion (always) or only offers it (ask, never);
// Insert writes the saved file's path relative to documents in nested folders, for every insert language;
// output URLs in documents get diagnostics that follow the text, quick fixes that save and replace them (run
// through vscode.executeCodeActionProvider), a workspace-wide command that respects .gitignore and
// files.exclude and is undone in one step, and a hover (vscode.executeHoverProvider) with a thumbnail, the
// run's details escaped, and only the extension's own command links; a URL that answers 404 becomes a
// warning whose fix is Run Again.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { PublicRunRecord } from '../../../src/core/runs';
import type { Sandbox } from '../../sandbox/server';
import { floraApi, IMAGE_URL, sandboxForExtension, waitFor } from './helpers';

const STEM = /^studio-shot-\d{8}-\d{6}-[A-Za-z0-9_-]{1,8}$/;
const OUR_COMMANDS = new Set([
  'flora.openPreview',
  'flora.saveOutputsToWorkspace',
  'flora.saveOutputUrl',
  'flora.runAgain',
  'flora.copyOutputUrl',
  'flora.openSavedOutput',
]);

function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(folder, 'the host tests open a workspace folder');
  return folder;
}

function outputsFolder(): string {
  return path.join(workspaceFolder(), 'flora-outputs');
}

async function setting(name: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('flora').update(name, value, vscode.ConfigurationTarget.Global);
}

/** Writes a file into the workspace and opens it in an editor. */
async function openWorkspaceFile(relative: string, content: string): Promise<vscode.TextEditor> {
  const file = path.join(workspaceFolder(), relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  const document = await vscode.workspace.openTextDocument(file);
  return vscode.window.showTextDocument(document);
}

function diagnosticsOf(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === 'FLORA');
}

async function fixesAt(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
  const actions = await vscode.commands.executeCommand<Array<vscode.CodeAction | vscode.Command>>(
    'vscode.executeCodeActionProvider',
    uri,
    range,
    vscode.CodeActionKind.QuickFix.value,
  );
  return actions.filter((action): action is vscode.CodeAction => 'title' in action && 'kind' in action && action.command !== undefined);
}

async function run(slug: string, inputs: Record<string, string>): Promise<PublicRunRecord> {
  const record = await (await floraApi()).runTechnique(slug, inputs);
  assert.strictEqual(record.status, 'completed');
  return record;
}

function hoverText(hovers: vscode.Hover[]): string {
  return (
    hovers
      .flatMap((hover) => hover.contents)
      .map((content) => (typeof content === 'string' ? content : content.value))
      .join('\n---\n')
      .replace(/base64,[A-Za-z0-9+/=]{64,}/g, 'base64,AAAA')
      // appendText keeps spaces as &nbsp;; the assertions read the words.
      .replace(/&nbsp;/g, ' ')
  );
}

/** Records the information messages shown (and the buttons offered) instead of showing them. */
function recordInformationMessages(): { shown: Array<{ text: string; actions: string[] }>; restore: () => void } {
  const window = vscode.window as unknown as Record<string, unknown>;
  const original = window.showInformationMessage;
  const shown: Array<{ text: string; actions: string[] }> = [];
  window.showInformationMessage = (text: string, ...rest: unknown[]) => {
    shown.push({ text, actions: rest.filter((item): item is string => typeof item === 'string') });
    return Promise.resolve(undefined);
  };
  return { shown, restore: () => void (window.showInformationMessage = original) };
}

describe('outputs that last', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await sandboxForExtension();
  });

  after(async () => {
    for (const name of ['saveOutputs', 'insertPathWhenSaved', 'insertFormat']) await setting(name, undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await sandbox.close();
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.files.saveAll');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it("saves a run's outputs under <technique>-<time>-<short runId> with the provenance JSON beside them", async () => {
    const record = await run('studio-shot', { product_image: IMAGE_URL });
    const saved = await vscode.commands.executeCommand<vscode.Uri[]>('flora.saveOutputsToWorkspace', record.runId);
    assert.strictEqual(saved.length, 1);
    const [file] = saved;
    assert.ok(file);
    assert.strictEqual(path.dirname(file.fsPath), fs.realpathSync(outputsFolder()));
    assert.match(path.basename(file.fsPath, '.png'), STEM);
    assert.ok(path.basename(file.fsPath).includes(record.runId.slice(0, 8)), 'the name carries the short runId');
    assert.deepStrictEqual([...fs.readFileSync(file.fsPath).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
    const provenanceFile = file.fsPath.replace(/\.png$/, '.flora.json');
    const provenance = JSON.parse(fs.readFileSync(provenanceFile, 'utf8')) as Record<string, unknown>;
    assert.strictEqual(provenance.format, 'flora-provenance/1');
    assert.strictEqual(provenance.runId, record.runId);
    assert.deepStrictEqual(provenance.technique, { slug: 'studio-shot', name: 'Studio Shot' });
    assert.deepStrictEqual(provenance.inputs, [{ id: 'product_image', type: 'imageUrl', value: IMAGE_URL }]);
    assert.deepStrictEqual(provenance.cost, { charged: record.chargedCost, quoted: 5 });
    assert.match(String(provenance.createdAt), /^\d{4}-\d\d-\d\dT/);
    assert.match(String(provenance.completedAt), /^\d{4}-\d\d-\d\dT/);
    assert.deepStrictEqual(provenance.outputs, [
      { outputId: record.outputs?.[0]?.outputId, type: 'imageUrl', url: record.outputs?.[0]?.url, file: path.basename(file.fsPath) },
    ]);
    // Saving again downloads nothing and names the same file.
    const downloads = sandbox.requests.filter((request) => request.path.startsWith('/media/')).length;
    const again = await vscode.commands.executeCommand<vscode.Uri[]>('flora.saveOutputsToWorkspace', record.runId);
    assert.deepStrictEqual(
      again.map((uri) => uri.fsPath),
      [file.fsPath],
    );
    assert.strictEqual(sandbox.requests.filter((request) => request.path.startsWith('/media/')).length, downloads);
  });

  it('saves on completion with flora.saveOutputs = always, and only offers it with ask (never: not even that)', async () => {
    const messages = recordInformationMessages();
    try {
      await setting('saveOutputs', 'always');
      const always = await run('studio-shot', { product_image: IMAGE_URL });
      const savedName = await waitFor('the output saved on completion', () =>
        fs.readdirSync(outputsFolder()).find((name) => name.endsWith('.png') && name.includes(always.runId.slice(0, 8))),
      );
      assert.match(savedName, /^studio-shot-/);
      const alwaysNotice = await waitFor('the completion notice', () =>
        messages.shown.find((message) => message.text.includes('was saved to')),
      );
      assert.ok(!alwaysNotice.actions.includes('Save to Workspace'), 'nothing left to offer');

      for (const mode of ['ask', 'never'] as const) {
        await setting('saveOutputs', mode);
        const before = messages.shown.length;
        const record = await run('studio-shot', { product_image: IMAGE_URL });
        const notice = await waitFor(`the ${mode} completion notice`, () =>
          messages.shown.slice(before).find((message) => message.text.includes('Studio Shot completed')),
        );
        assert.strictEqual(notice.actions.includes('Save to Workspace'), mode === 'ask', `${mode}: ${notice.actions.join(', ')}`);
        assert.ok(
          !fs.readdirSync(outputsFolder()).some((name) => name.includes(record.runId.slice(0, 8))),
          `${mode}: nothing saved unasked`,
        );
      }
    } finally {
      messages.restore();
      await setting('saveOutputs', undefined);
    }
  });

  it("inserts the saved file's path relative to documents in nested folders, for every insert language", async () => {
    const record = await run('studio-shot', { product_image: IMAGE_URL });
    const [file] = await vscode.commands.executeCommand<vscode.Uri[]>('flora.saveOutputsToWorkspace', record.runId);
    assert.ok(file);
    const name = path.basename(file.fsPath);
    const cases: Array<[string, string]> = [
      ['docs/guide/page.md', `![Studio Shot](../../flora-outputs/${name})`],
      ['README-output.md', `![Studio Shot](flora-outputs/${name})`],
      ['site/index.html', `<img src="../flora-outputs/${name}" alt="Studio Shot">`],
      ['site/styles/hero.css', `url("../../flora-outputs/${name}")`],
      ['src/components/Hero.tsx', `<img src={new URL("../../flora-outputs/${name}", import.meta.url).href} alt="Studio Shot" />`],
      ['flora-outputs/notes.txt', name],
    ];
    for (const [relative, expected] of cases) {
      const editor = await openWorkspaceFile(relative, '');
      await vscode.commands.executeCommand('flora.insertOutputUrl', record.runId);
      assert.strictEqual(editor.document.getText(), expected, relative);
      await editor.document.save();
      fs.rmSync(editor.document.uri.fsPath);
    }
    // The setting off: the URL again.
    await setting('insertPathWhenSaved', false);
    const editor = await openWorkspaceFile('docs/url.md', '');
    await vscode.commands.executeCommand('flora.insertOutputUrl', record.runId);
    assert.match(editor.document.getText(), /^!\[Studio Shot\]\(http:\/\/127\.0\.0\.1:\d+\/media\//);
    await setting('insertPathWhenSaved', undefined);
  });

  it('marks output URLs in documents, follows the text as it changes, and fixes one or all through the code actions', async () => {
    const first = await run('studio-shot', { product_image: IMAGE_URL });
    const second = await run('studio-shot', { product_image: IMAGE_URL });
    const [firstUrl, secondUrl] = [first.outputs?.[0]?.url, second.outputs?.[0]?.url];
    assert.ok(firstUrl && secondUrl);
    const content = `# Hero\n\n![a](${firstUrl})\n\n![b](${secondUrl})\n\n![c](https://media.flora.ai/x/y.png)\n\nhttps://example.com/not-ours.png\n`;
    const editor = await openWorkspaceFile('docs/marked.md', content);
    const uri = editor.document.uri;
    const marked = await waitFor('three diagnostics', () => (diagnosticsOf(uri).length === 3 ? diagnosticsOf(uri) : undefined));
    assert.deepStrictEqual(
      marked.map((diagnostic) => editor.document.getText(diagnostic.range)),
      [firstUrl, secondUrl, 'https://media.flora.ai/x/y.png'],
    );
    assert.ok(marked.every((diagnostic) => diagnostic.severity === vscode.DiagnosticSeverity.Information));
    assert.match(marked[0]?.message ?? '', /not permanent/);
    // Typing removes one; it goes, the others stay.
    const third = marked[2];
    assert.ok(third);
    await editor.edit((builder) => builder.delete(third.range));
    await waitFor('the deleted URL unmarked', () => diagnosticsOf(uri).length === 2);

    const firstDiagnostic = diagnosticsOf(uri)[0];
    assert.ok(firstDiagnostic);
    const fixes = await fixesAt(uri, firstDiagnostic.range);
    assert.deepStrictEqual(
      fixes.map((fix) => fix.title),
      ['Save to Workspace and Replace', 'Save All in File and Replace'],
    );
    const one = fixes[0];
    assert.ok(one?.command);
    await vscode.commands.executeCommand(one.command.command, ...((one.command.arguments ?? []) as unknown[]));
    const afterOne = editor.document.getText();
    assert.ok(!afterOne.includes(firstUrl), 'the first URL replaced');
    assert.ok(afterOne.includes(secondUrl), 'the second left alone');
    const replacedPath = /!\[a\]\(([^)]+)\)/.exec(afterOne)?.[1];
    assert.ok(replacedPath?.startsWith('../flora-outputs/studio-shot-'), replacedPath);
    assert.ok(fs.existsSync(path.resolve(path.dirname(uri.fsPath), replacedPath ?? '')), 'the path names the saved file');
    await waitFor('one diagnostic left', () => diagnosticsOf(uri).length === 1);

    const left = diagnosticsOf(uri)[0];
    assert.ok(left);
    const all = (await fixesAt(uri, left.range)).find((fix) => fix.title === 'Save All in File and Replace');
    assert.ok(all?.command);
    await vscode.commands.executeCommand(all.command.command, ...((all.command.arguments ?? []) as unknown[]));
    assert.ok(!editor.document.getText().includes(secondUrl));
    await waitFor('no diagnostics left', () => diagnosticsOf(uri).length === 0);
    // One undo brings the URL back, and its diagnostic.
    await vscode.commands.executeCommand('undo');
    assert.ok(editor.document.getText().includes(secondUrl), 'undone');
    await waitFor('the diagnostic back', () => diagnosticsOf(uri).length === 1);
  });

  it('replaces every output URL of the workspace in one edit, leaving git-ignored and excluded files alone, and undoes it', async () => {
    const record = await run('studio-shot', { product_image: IMAGE_URL });
    const url = record.outputs?.[0]?.url;
    assert.ok(url);
    const root = workspaceFolder();
    // Only this test's files hold URLs: the documents earlier tests left go first.
    fs.rmSync(path.join(root, 'docs'), { recursive: true, force: true });
    // The workspace is its own repository, so git answers for its .gitignore (and not an enclosing one).
    execFileSync('git', ['init', '-q', root]);
    fs.writeFileSync(path.join(root, '.gitignore'), 'ignored/\n');
    const files: Record<string, string> = {
      'pages/a.md': `![x](${url})\nand again ${url}.\n`,
      'ignored/b.md': `![x](${url})\n`,
      'excluded/c.md': `![x](${url})\n`,
    };
    for (const [relative, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
      fs.writeFileSync(path.join(root, relative), text);
    }
    // A link in the workspace to a file outside it: the edit must not reach through it.
    const outside = path.join(os.tmpdir(), `flora-outside-${process.pid}-${Date.now()}.md`);
    fs.writeFileSync(outside, `![x](${url})\n`);
    fs.symlinkSync(outside, path.join(root, 'pages/linked.md'));
    await vscode.workspace.getConfiguration('files').update('exclude', { '**/excluded': true }, vscode.ConfigurationTarget.Workspace);
    try {
      const downloadsBefore = sandbox.requests.filter((request) => request.path.startsWith('/media/')).length;
      const result = await vscode.commands.executeCommand<{ urls: number; files: number; replaced: number; failed: unknown[] }>(
        'flora.saveOutputUrlsInWorkspace',
        { confirm: false },
      );
      assert.deepStrictEqual([result.urls, result.files, result.replaced], [1, 1, 2], JSON.stringify(result));
      assert.deepStrictEqual(result.failed, []);
      const downloads = sandbox.requests.filter((request) => request.path.startsWith('/media/')).length - downloadsBefore;
      assert.strictEqual(downloads, 1, 'the URL downloaded once, for its two places');
      const page = vscode.workspace.textDocuments.find((document) => document.uri.fsPath === path.join(root, 'pages/a.md'));
      assert.ok(page, 'the edited file is open as a document');
      assert.doesNotMatch(page.getText(), /http:\/\//, page.getText());
      assert.match(
        page.getText(),
        /^!\[x\]\(\.\.\/flora-outputs\/studio-shot-[^)]+\.png\)\nand again \.\.\/flora-outputs\/studio-shot-[^ ]+\.png\.\n$/,
      );
      // The edit changes open documents (left unsaved): none of these may be among them.
      for (const relative of ['ignored/b.md', 'excluded/c.md', 'pages/linked.md']) {
        const opened = vscode.workspace.textDocuments.find((document) => document.uri.fsPath === path.join(root, relative));
        assert.strictEqual(opened, undefined, `${relative} was not opened for the edit`);
      }
      assert.strictEqual(fs.readFileSync(path.join(root, 'ignored/b.md'), 'utf8'), files['ignored/b.md'], 'git-ignored file untouched');
      assert.strictEqual(fs.readFileSync(path.join(root, 'excluded/c.md'), 'utf8'), files['excluded/c.md'], 'excluded file untouched');
      assert.strictEqual(fs.readFileSync(outside, 'utf8'), `![x](${url})\n`, 'the file outside, behind a link, untouched');
      // Undo from the edited file takes the whole edit back.
      await vscode.window.showTextDocument(page);
      await vscode.commands.executeCommand('undo');
      assert.strictEqual(page.getText(), files['pages/a.md']);
    } finally {
      await vscode.workspace.getConfiguration('files').update('exclude', undefined, vscode.ConfigurationTarget.Workspace);
      for (const folder of ['pages', 'ignored', 'excluded', '.git']) fs.rmSync(path.join(root, folder), { recursive: true, force: true });
      fs.rmSync(path.join(root, '.gitignore'), { force: true });
      fs.rmSync(outside, { force: true });
    }
  });

  it("hovers a URL and a saved path with a thumbnail, the run escaped, and only the extension's own command links", async () => {
    const hostile = '[run me](command:workbench.action.terminal.new) $(alert) <img src=x onerror=alert(1)> https://evil.example/x';
    const record = await run('icon-pack', { prompt: hostile });
    const url = record.outputs?.[0]?.url;
    assert.ok(url);
    const editor = await openWorkspaceFile('docs/hover.md', `See ${url} here.\n`);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      editor.document.uri,
      new vscode.Position(0, 10),
    );
    const text = hoverText(hovers);
    assert.match(text, /!\[\]\(data:image\/png;base64,AAAA\|width=200\)/, 'a thumbnail');
    assert.match(text, /Icon Pack/);
    assert.match(text, /8 credits/);
    const linked = [...text.matchAll(/\]\(command:([^?)\s]+)/g)].map((match) => match[1] ?? '');
    assert.ok(linked.length >= 3, text);
    assert.deepStrictEqual(
      linked.filter((command) => !OUR_COMMANDS.has(command)),
      [],
      'no command link but ours',
    );
    assert.ok(!text.includes('[run me](command:'), 'the prompt is escaped, not a link');
    assert.ok(!text.includes('<img src=x'), 'no raw HTML');
    assert.ok(!text.includes('https://evil.example'), 'no bare link from the prompt');
    assert.ok(!/(^|[^\\])\$\(alert\)/.test(text), 'no icon syntax from the prompt');
    const ours = hovers
      .flatMap((hover) => hover.contents)
      .find((content): content is vscode.MarkdownString => typeof content !== 'string' && content.value.includes('command:flora.'));
    assert.ok(ours, 'our hover');
    const trust = ours.isTrusted;
    assert.ok(typeof trust === 'object', `only listed commands are trusted, not all: ${JSON.stringify(trust)}`);
    assert.ok(trust.enabledCommands.every((command) => OUR_COMMANDS.has(command)));
    // The same on the path of the saved file.
    await vscode.commands.executeCommand('flora.saveOutputsToWorkspace', record.runId);
    await vscode.commands.executeCommand('flora.saveOutputUrlsInFile', { uri: editor.document.uri.toString() });
    const line = editor.document.lineAt(0).text;
    const pathStart = line.indexOf('../flora-outputs/');
    assert.ok(pathStart > 0, line);
    const pathHover = hoverText(
      await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        editor.document.uri,
        new vscode.Position(0, pathStart + 5),
      ),
    );
    assert.match(pathHover, /data:image\/png;base64,/);
    assert.match(pathHover, /Saved as flora-outputs\/icon-pack-/);
    assert.match(pathHover, /command:flora\.openSavedOutput/);
  });

  it('asks to save an untitled document first rather than write a path relative to nowhere', async () => {
    const record = await run('studio-shot', { product_image: IMAGE_URL });
    const url = record.outputs?.[0]?.url;
    assert.ok(url);
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: `![x](${url})\n` });
    await vscode.window.showTextDocument(document);
    const refused = await Promise.resolve(
      vscode.commands.executeCommand('flora.saveOutputUrlsInFile', { uri: document.uri.toString() }),
    ).then(
      () => 'replaced',
      (error: unknown) => String(error),
    );
    assert.match(refused, /Save the document first/);
    assert.strictEqual(document.getText(), `![x](${url})\n`);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('offers both forms of a saved output in the insert picker, the path first unless the setting says otherwise', async () => {
    const record = await run('studio-shot', { product_image: IMAGE_URL });
    await vscode.commands.executeCommand('flora.saveOutputsToWorkspace', record.runId);
    const window = vscode.window as unknown as Record<string, unknown>;
    const original = window.showQuickPick;
    const offered: string[][] = [];
    window.showQuickPick = (items: Array<vscode.QuickPickItem & { output?: { form?: string } }>) => {
      const mine = items.filter((item) => item.label.includes('Studio Shot') && item.output?.form !== undefined);
      offered.push(mine.slice(0, 2).map((item) => item.output?.form ?? ''));
      return Promise.resolve(mine[0]);
    };
    try {
      const editor = await openWorkspaceFile('docs/picked.md', '');
      await vscode.commands.executeCommand('flora.insertOutputUrl');
      assert.match(editor.document.getText(), /^!\[Studio Shot\]\(\.\.\/flora-outputs\/studio-shot-/);
      await setting('insertPathWhenSaved', false);
      await vscode.commands.executeCommand('undo');
      await vscode.commands.executeCommand('flora.insertOutputUrl');
      assert.match(editor.document.getText(), /^!\[Studio Shot\]\(http:\/\/127\.0\.0\.1:/);
      assert.deepStrictEqual(offered, [
        ['path', 'url'],
        ['url', 'path'],
      ]);
    } finally {
      window.showQuickPick = original;
      await setting('insertPathWhenSaved', undefined);
    }
  });

  it('offers the file last worked in, or a new file of its language, when no editor is open', async () => {
    const record = await run('studio-shot', { product_image: IMAGE_URL });
    // The user worked in a TSX file, then closed every editor.
    await openWorkspaceFile('docs/last.tsx', '');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const window = vscode.window as unknown as Record<string, unknown>;
    const original = window.showQuickPick;
    const asked: string[] = [];
    const targets: string[] = [];
    window.showQuickPick = (
      items: Array<vscode.QuickPickItem & { output?: { url: string }; choice?: string }>,
      options?: vscode.QuickPickOptions,
    ) => {
      asked.push(options?.placeHolder ?? '');
      if (items.some((item) => item.choice)) targets.push(...items.map((item) => item.label));
      const output = items.find((item) => item.output?.url === record.outputs?.[0]?.url && item.label.includes('Studio Shot'));
      return Promise.resolve(output ?? items.find((item) => item.choice === 'same'));
    };
    try {
      await vscode.commands.executeCommand('flora.insertOutputUrl');
      const editor = await waitFor('a new editor', () => vscode.window.activeTextEditor);
      assert.strictEqual(editor.document.isUntitled, true);
      assert.strictEqual(editor.document.languageId, 'typescriptreact');
      assert.match(editor.document.getText(), /^<img src="http:\/\/127\.0\.0\.1:\d+\/.+" alt="Studio Shot" \/>$/);
      assert.match(asked[1] ?? '', /No editor is open/);
      assert.deepStrictEqual(targets, [
        '$(go-to-file) Insert into docs/last.tsx',
        '$(new-file) New File (typescriptreact)',
        '$(list-selection) New File of Another Language…',
        '$(copy) Copy the Output Instead',
      ]);
    } finally {
      window.showQuickPick = original;
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  it("trusts a cloned repository's provenance file only so far: shown as such, its URL never fetched, nothing else opened", async () => {
    const root = workspaceFolder();
    const name = 'logo-20261201-000000-abcdefgh.png';
    const fetchedPath = '/media/not-a-run/tracker.png';
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
    // Beside the provenance file, with a name it would be looked up under, but not listed in it.
    const unlisted = path.join(root, 'assets', 'logo-20261201-000000-abcdefgh-2.png');
    fs.writeFileSync(unlisted, 'private\n');
    fs.writeFileSync(
      path.join(root, 'assets', 'logo-20261201-000000-abcdefgh.flora.json'),
      JSON.stringify({
        format: 'flora-provenance/1',
        runId: 'spoofed',
        technique: { slug: 'studio-shot', name: 'Spoofed Technique' },
        inputs: [],
        cost: { charged: 1 },
        outputs: [{ type: 'imageUrl', url: `${sandbox.url}${fetchedPath}`, file: name }],
      }),
    );
    try {
      const editor = await openWorkspaceFile('docs/logo.md', `![logo](../assets/${name})\n`);
      const requestsBefore = sandbox.requests.filter((request) => request.path === fetchedPath).length;
      const text = hoverText(
        await vscode.commands.executeCommand<vscode.Hover[]>(
          'vscode.executeHoverProvider',
          editor.document.uri,
          new vscode.Position(0, 15),
        ),
      );
      assert.match(text, /Spoofed Technique/);
      assert.match(text, /From the provenance file beside it, not from your run history/);
      assert.doesNotMatch(text, /data:image/, 'no thumbnail from a URL only the repository names');
      assert.strictEqual(sandbox.requests.filter((request) => request.path === fetchedPath).length, requestsBefore, 'nothing fetched');
      // Open Saved File opens only a file a provenance file lists, not any file beside one.
      const refused = await Promise.resolve(vscode.commands.executeCommand('flora.openSavedOutput', { file: unlisted })).then(
        () => 'opened',
        (error: unknown) => String(error),
      );
      assert.match(refused, /has not been saved/);
    } finally {
      fs.rmSync(path.join(root, 'assets'), { recursive: true, force: true });
    }
  });

  it('turns a URL that answers 404 into a warning whose fix is Run Again with the Same Inputs', async () => {
    const record = await run('studio-shot', { product_image: IMAGE_URL });
    const url = record.outputs?.[0]?.url;
    assert.ok(url);
    const editor = await openWorkspaceFile('docs/gone.md', `![gone](${url})\n`);
    const uri = editor.document.uri;
    const [diagnostic] = await waitFor('the diagnostic', () => (diagnosticsOf(uri).length === 1 ? diagnosticsOf(uri) : undefined));
    assert.ok(diagnostic);
    sandbox.faults.inject('media', { kind: 'status', status: 404 }, { times: Infinity });
    try {
      const save = (await fixesAt(uri, diagnostic.range)).find((fix) => fix.title === 'Save to Workspace and Replace');
      assert.ok(save?.command);
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand(save.command.command, ...((save.command.arguments ?? []) as unknown[]))),
        /404/,
      );
      assert.ok(editor.document.getText().includes(url), 'nothing replaced');
      const warning = await waitFor('the warning', () =>
        diagnosticsOf(uri).find((found) => found.severity === vscode.DiagnosticSeverity.Warning),
      );
      assert.match(warning.message, /no longer answers/);
      const fixes = await fixesAt(uri, warning.range);
      assert.deepStrictEqual(
        fixes.map((fix) => fix.title),
        ['Run Again with the Same Inputs'],
      );
      assert.strictEqual(fixes[0]?.command?.command, 'flora.runAgain');
    } finally {
      sandbox.faults.clear();
    }
  });
});
