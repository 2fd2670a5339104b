// Local files in the real editor, through the extension's own commands: the image prompt offers the file
// under the cursor and the image open in a preview, "Choose a File…" opens a dialog filtered to images,
// Configure Upload keeps its keys out of the settings, and Run FLORA Technique with This File runs one
// file, or ten as a batch with one bad file, never more at once than flora.batch.concurrency, asking the
// upload consent once and summing up at the end. The prompts are answered by replacing the vscode.window
// functions that show them (createQuickPick, createInputBox, showQuickPick, showOpenDialog,
// showWarningMessage for the modal consent), as a user would answer them.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { RunJournal } from '../../../src/core/journal';
import { RunsStore } from '../../../src/services/runsStore';
import { mediaCandidates } from '../../../src/ui/mediaCandidates';
import type { Suggestion } from '../../../src/ui/multiStepInput';
import { RunsTree } from '../../../src/views/runsTree';
import { RunsStatusBar } from '../../../src/views/statusBar';
import { runRecord } from '../../common/records';
import { renderPng } from '../../sandbox/media';
import type { Sandbox } from '../../sandbox/server';
import { SANDBOX_S3_BUCKET, SANDBOX_S3_CREDENTIALS, SANDBOX_S3_REGION } from '../../sandbox/storage';
import { answeringInputBox, floraApi, sandboxForExtension, waitFor } from './helpers';

type WindowFunctions = Record<string, unknown>;
type Item = vscode.QuickPickItem & { slug?: string; run?: boolean; target?: string; choice?: string; candidate?: { slug: string } };

/** A stand-in for createQuickPick's widget: on show() the test's `answer` plays the user. */
class FakePicker {
  items: Item[] = [];
  selectedItems: Item[] = [];
  activeItems: Item[] = [];
  value = '';
  title: string | undefined;
  placeholder: string | undefined;
  buttons: readonly vscode.QuickInputButton[] = [];
  ignoreFocusOut = false;
  matchOnDescription = false;
  readonly accept = new vscode.EventEmitter<void>();
  private readonly hidden = new vscode.EventEmitter<void>();
  readonly onDidAccept = this.accept.event;
  readonly onDidHide = this.hidden.event;
  readonly onDidChangeValue = new vscode.EventEmitter<string>().event;
  readonly onDidTriggerButton = new vscode.EventEmitter<vscode.QuickInputButton>().event;
  readonly onDidChangeSelection = new vscode.EventEmitter<Item[]>().event;
  readonly onDidChangeActive = new vscode.EventEmitter<Item[]>().event;
  constructor(private readonly answer: (picker: FakePicker) => void) {}
  show(): void {
    setTimeout(() => this.answer(this), 0);
  }
  hide(): void {
    this.hidden.fire();
  }
  choose(item: Item): void {
    this.selectedItems = [item];
    this.accept.fire();
  }
  dispose(): void {
    this.accept.dispose();
    this.hidden.dispose();
  }
}

/** The most uploads (PutObject) the sandbox's storage was answering at once, each answered `delayMs` after it arrived. */
function mostUploadsAtOnce(sandbox: Sandbox, since: number, delayMs: number): number {
  const arrivals = sandbox.storage.requests
    .filter((request) => request.operation === 'PutObject' && request.at >= since)
    .map((request) => request.at);
  return Math.max(0, ...arrivals.map((at) => arrivals.filter((other) => other <= at && at < other + delayMs).length));
}

describe('local files: the prompts, Configure Upload, and Run FLORA Technique with This File (batch)', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let workspace: vscode.Uri;
  let folder: vscode.Uri;
  const originals = new Map<string, unknown>();
  const window = vscode.window as unknown as WindowFunctions;
  /** Modal warnings (the upload consent) and other warnings and informations, in order. */
  const consents: string[] = [];
  const notices: string[] = [];
  let pickAnswer: (items: readonly Item[], title: string) => Item | undefined = () => undefined;

  function replace(name: string, replacement: unknown): void {
    if (!originals.has(name)) originals.set(name, window[name]);
    window[name] = replacement;
  }

  async function setting(key: string, value: unknown): Promise<void> {
    await vscode.workspace.getConfiguration('flora').update(key, value, vscode.ConfigurationTarget.Global);
  }

  before(async () => {
    sandbox = await sandboxForExtension({ runDurationMs: 1_000 });
    const workspaceFolder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(workspaceFolder, 'the fixture workspace is open');
    workspace = workspaceFolder.uri;
    folder = vscode.Uri.joinPath(workspace, 'local-files');
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(folder, 'img'));
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(folder, 'batch'));
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'img', 'a.png'), renderPng('local/a', 'gradient'));
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'img', 'b.png'), renderPng('local/b', 'gradient'));
    await vscode.workspace.fs.writeFile(
      vscode.Uri.joinPath(folder, 'page.html'),
      Buffer.from('<img src="./img/a.png">\n<img src="./img/missing.png">\n<img src="https://example.com/x/img/a.png">\n'),
    );
    for (let index = 0; index < 10; index++) {
      // The fifth is not a picture: its upload is refused, and the batch goes on without it.
      const bytes = index === 4 ? Buffer.from('these bytes are not an image') : renderPng(`batch/${index}`, 'gradient');
      await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'batch', `shot-${index}.png`), bytes);
    }
    await setting('upload.endpoint', `${sandbox.url}/s3`);
  });

  beforeEach(() => {
    consents.length = 0;
    notices.length = 0;
    pickAnswer = () => undefined;
    replace('showWarningMessage', (text: string, ...rest: unknown[]) => {
      const [options] = rest;
      const modal = typeof options === 'object' && options !== null && (options as vscode.MessageOptions).modal === true;
      if (modal) {
        consents.push(text);
        return Promise.resolve('Upload');
      }
      notices.push(text);
      return Promise.resolve(undefined);
    });
    replace('showInformationMessage', (text: string) => {
      notices.push(text);
      return Promise.resolve(undefined);
    });
    replace('showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      const list = (await items) as Item[];
      return pickAnswer(list, options?.title ?? '');
    });
  });

  afterEach(async () => {
    for (const [name, original] of originals) window[name] = original;
    originals.clear();
    sandbox.faults.clear();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async () => {
    for (const key of [
      'upload.target',
      'upload.endpoint',
      'upload.s3.bucket',
      'upload.s3.region',
      'upload.s3.prefix',
      'batch.concurrency',
    ]) {
      await setting(key, undefined);
    }
    await vscode.workspace.fs.delete(folder, { recursive: true });
    await sandbox.close();
  });

  it('Configure Upload writes the bucket to the user settings and the access key pair to secret storage only', async () => {
    const boxes: Array<{ title: string; password: boolean }> = [];
    const answers: Record<string, string> = {
      Bucket: SANDBOX_S3_BUCKET,
      Region: SANDBOX_S3_REGION,
      Prefix: 'local-tests/',
      'Access Key ID': SANDBOX_S3_CREDENTIALS.accessKeyId,
      'Secret Access Key': SANDBOX_S3_CREDENTIALS.secretAccessKey,
    };
    replace('createInputBox', () =>
      answeringInputBox((title) => {
        const step = /^Configure Upload: (.+) \(\d+\/\d+\)$/.exec(title)?.[1];
        return step === undefined ? undefined : answers[step];
      }, boxes),
    );
    pickAnswer = (items, title) => {
      if (title === 'FLORA: Configure Upload') return items.find((item) => item.target === 's3');
      if (title === 'Configure Upload: Credentials') return items.find((item) => item.choice === 'keys');
      return undefined;
    };
    const result = await vscode.commands.executeCommand<string | undefined>('flora.configureUpload');
    assert.strictEqual(result, `s3://${SANDBOX_S3_BUCKET}/local-tests/`);
    const configuration = vscode.workspace.getConfiguration('flora');
    assert.strictEqual(configuration.inspect('upload.target')?.globalValue, 's3');
    assert.strictEqual(configuration.inspect('upload.s3.bucket')?.globalValue, SANDBOX_S3_BUCKET);
    assert.strictEqual(configuration.inspect('upload.s3.region')?.globalValue, SANDBOX_S3_REGION);
    assert.strictEqual(configuration.inspect('upload.s3.prefix')?.globalValue, 'local-tests/');
    assert.deepStrictEqual(
      boxes.map((box) => [box.title, box.password]),
      [
        ['Configure Upload: Bucket (1/3)', false],
        ['Configure Upload: Region (2/3)', false],
        ['Configure Upload: Prefix (3/3)', false],
        ['Configure Upload: Access Key ID (1/2)', true],
        ['Configure Upload: Secret Access Key (2/2)', true],
      ],
      'the keys are typed into masked boxes',
    );
    // No value of any flora setting, at any level, holds either key.
    const everything = JSON.stringify(
      Object.keys(configuration)
        .concat(['upload.s3.accessKeyId', 'upload.s3.secretAccessKey'])
        .map((key) => configuration.inspect(key)),
    );
    for (const secret of [SANDBOX_S3_CREDENTIALS.accessKeyId, SANDBOX_S3_CREDENTIALS.secretAccessKey]) {
      assert.ok(!everything.includes(secret), 'a key is in the settings');
      assert.ok(!notices.some((notice) => notice.includes(secret)), 'a key was shown');
    }
    // That the pair really is stored is shown by the next tests: the sandbox verifies their uploads' signatures.
  });

  it('offers the existing file a path under the cursor names (from the document folder), not a missing one nor a URL path', async () => {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'page.html'));
    const editor = await vscode.window.showTextDocument(document);
    const offered = async (line: number, character: number): Promise<Suggestion[]> => {
      editor.selection = new vscode.Selection(line, character, line, character);
      return mediaCandidates({ type: 'imageUrl', previous: undefined, editor, records: [] });
    };
    const fileA = vscode.Uri.joinPath(folder, 'img', 'a.png');
    const underCursor = await offered(0, 14);
    const candidate = underCursor.find((suggestion) => suggestion.value === fileA.toString());
    assert.ok(candidate, `a.png is offered: ${JSON.stringify(underCursor)}`);
    assert.match(candidate.label, /^\$\(selection\) a\.png$/);
    assert.strictEqual(candidate.source, 'local-files/img/a.png', 'described by its workspace-relative path');
    const missing = await offered(1, 14);
    assert.ok(!missing.some((suggestion) => suggestion.value.includes('missing.png')), 'a missing file is not offered');
    const url = await offered(2, 30);
    assert.ok(!url.some((suggestion) => suggestion.value.startsWith('file:')), 'the path inside a URL is not a file');
    assert.ok(
      underCursor.some((suggestion) => suggestion.label.includes('Choose a File')),
      'Choose a File… is offered',
    );
    // A selection offers every path in it.
    editor.selection = new vscode.Selection(0, 0, 2, 0);
    const selected = await mediaCandidates({ type: 'imageUrl', previous: undefined, editor, records: [] });
    assert.ok(selected.some((suggestion) => suggestion.value === fileA.toString()));
  });

  it("offers the image open in the editor's image preview", async () => {
    const fileB = vscode.Uri.joinPath(folder, 'img', 'b.png');
    await vscode.commands.executeCommand('vscode.open', fileB);
    await waitFor('the image preview', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.uri.toString() === fileB.toString();
    });
    const offered = await mediaCandidates({ type: 'imageUrl', previous: undefined, editor: undefined, records: [] });
    const candidate = offered.find((suggestion) => suggestion.value === fileB.toString());
    assert.ok(candidate, `b.png is offered: ${JSON.stringify(offered)}`);
    assert.match(candidate.label, /^\$\(file-media\) b\.png$/);
    const video = await mediaCandidates({ type: 'videoUrl', previous: undefined, editor: undefined, records: [] });
    assert.ok(!video.some((suggestion) => suggestion.value === fileB.toString()), 'an image is not offered for a video input');
  });

  it('Choose a File… opens a dialog for images, and the run uploads the file chosen (after one consent)', async () => {
    await setting('upload.s3.prefix', 'choose/');
    const fileA = vscode.Uri.joinPath(folder, 'img', 'a.png');
    const dialogs: vscode.OpenDialogOptions[] = [];
    replace('showOpenDialog', (options: vscode.OpenDialogOptions) => {
      dialogs.push(options);
      return Promise.resolve([fileA]);
    });
    const pickers: FakePicker[] = [];
    replace('createQuickPick', () => {
      const picker = new FakePicker((shown) => {
        // The confirmation is the input's last step, a picker too: run.
        if (shown.title?.endsWith('confirm the run')) {
          const run = shown.items.find((item) => item.run === true);
          if (run) shown.choose(run);
          return;
        }
        const choose = shown.items.find((item) => item.label.includes('Choose a File'));
        if (choose) shown.choose(choose);
      });
      pickers.push(picker);
      return picker;
    });
    pickAnswer = (items, title) => {
      if (title === 'FLORA: Run Technique') return items.find((item) => item.slug === 'studio-shot');
      if (title.endsWith('confirm the run')) return items.find((item) => item.run === true);
      return undefined;
    };
    const putsBefore = sandbox.storage.requests.filter((request) => request.method === 'PUT').length;
    const record = await vscode.commands.executeCommand<{ runId?: string } | undefined>('flora.runTechnique');
    assert.ok(record?.runId, 'the run was created');
    assert.deepStrictEqual(
      dialogs.map((options) => options.filters),
      [{ Images: ['png', 'jpg', 'jpeg', 'gif', 'webp'] }],
    );
    assert.strictEqual(dialogs[0]?.canSelectMany, false);
    assert.strictEqual(consents.length, 1, `one consent: ${consents.join(' | ')}`);
    assert.ok(consents[0]?.includes('local-files/img/a.png'), consents[0]);
    const puts = sandbox.storage.requests.filter((request) => request.method === 'PUT');
    assert.strictEqual(puts.length, putsBefore + 1, 'the file was uploaded');
    assert.strictEqual(puts.at(-1)?.accessKeyId, SANDBOX_S3_CREDENTIALS.accessKeyId, 'signed with the pair Configure Upload stored');
    const api = await floraApi();
    const finished = await waitFor('the run to complete', () =>
      api.getRuns().find((run) => run.runId === record.runId && (run.status === 'completed' || run.status === 'failed')),
    );
    assert.strictEqual(finished.status, 'completed', `FLORA read the upload: ${finished.errorMessage ?? ''}`);
  });

  it('runs the Explorer file with the technique picked, only offering techniques that take an image', async () => {
    await setting('upload.s3.prefix', 'explorer-one/');
    const offered: string[] = [];
    pickAnswer = (items, title) => {
      if (title === 'FLORA: Run Technique with This File') {
        offered.push(...items.map((item) => item.candidate?.slug ?? ''));
        return items.find((item) => item.candidate?.slug === 'studio-shot');
      }
      if (title.endsWith('confirm the run')) return items.find((item) => item.run === true);
      return undefined;
    };
    const fileB = vscode.Uri.joinPath(folder, 'img', 'b.png');
    const records = await vscode.commands.executeCommand<Array<{ runId: string }> | undefined>('flora.runTechniqueWithFile', fileB, [
      fileB,
    ]);
    assert.strictEqual(records?.length, 1);
    assert.ok(records[0]?.runId);
    assert.ok(offered.includes('studio-shot'));
    assert.ok(!offered.includes('icon-pack'), 'a text-only technique is not offered');
    assert.ok(!offered.includes('ugc-creation'), 'a video technique is not offered for an image');
    assert.strictEqual(consents.length, 1);
    const posted = sandbox.requests
      .filter((request) => request.method === 'POST' && request.path.includes('/techniques/studio-shot/runs'))
      .at(-1);
    assert.ok(posted?.body.includes(`/s3/${SANDBOX_S3_BUCKET}/explorer-one/`), 'FLORA was sent the upload URL, not the path');
    assert.ok(!posted?.body.includes('file:'), 'no local path reaches FLORA');
  });

  it('takes a workspace-relative path through the automation contract (flora.runTechnique and the API), and the run completes', async () => {
    await setting('upload.s3.prefix', 'automation/');
    const relative = vscode.workspace.asRelativePath(vscode.Uri.joinPath(folder, 'img', 'a.png'), false);
    const started = await vscode.commands.executeCommand<{ runId: string; status: string }>('flora.runTechnique', {
      slug: 'studio-shot',
      inputs: { product_image: relative },
    });
    assert.ok(started.runId, 'created');
    const posted = sandbox.requests
      .filter((request) => request.method === 'POST' && request.path.includes('/techniques/studio-shot/runs'))
      .at(-1);
    assert.ok(posted?.body.includes(`/s3/${SANDBOX_S3_BUCKET}/automation/`), 'FLORA was sent the upload URL');
    assert.ok(!posted?.body.includes(relative), 'not the path');
    // A programmatic caller is a person's script: the first upload to the target still asks the person.
    assert.strictEqual(consents.length, 1, 'the consent was asked');

    const api = await floraApi();
    const finished = await api.runTechnique('studio-shot', { product_image: vscode.Uri.joinPath(folder, 'img', 'b.png').toString() });
    assert.strictEqual(finished.status, 'completed', `${finished.errorCode ?? ''} ${finished.errorMessage ?? ''}`);

    // Run Again sends the file again (its link may have expired), not the old link.
    pickAnswer = (items, title) => (title.endsWith('confirm the run') ? items.find((item) => item.run === true) : undefined);
    const postsBefore = sandbox.requests.filter((request) => request.method === 'POST').length;
    await vscode.commands.executeCommand('flora.runAgain', started.runId);
    await waitFor(
      'the second create',
      () => sandbox.requests.filter((request) => request.method === 'POST').length > postsBefore || undefined,
    );
    const again = api.getRuns().find((run) => run.runId !== started.runId && run.runId !== finished.runId && run.slug === 'studio-shot');
    assert.ok(again, 'Run Again started a run');
  });

  it('a batch of 10 files: one run per file, the cost confirmed once, one consent, at most flora.batch.concurrency at once, a bad file does not stop the rest', async () => {
    await setting('upload.s3.prefix', 'batch/');
    await setting('batch.concurrency', 3);
    const delayMs = 700;
    // Uploads are where a batch's concurrency shows: the API's small requests share one queued connection
    // (core/dispatcher.ts), so creates go one after another, while uploads have connections of their own.
    sandbox.faults.inject('storage', { kind: 'delay', ms: delayMs }, { times: Infinity, slug: 'PutObject' });
    const confirmations: string[] = [];
    pickAnswer = (items, title) => {
      if (title === 'FLORA: Run Technique with 10 Files') return items.find((item) => item.candidate?.slug === 'studio-shot');
      if (title.endsWith('confirm the run')) {
        confirmations.push(items[0]?.label ?? '');
        return items.find((item) => item.run === true);
      }
      return undefined;
    };
    const files = Array.from({ length: 10 }, (_, index) => vscode.Uri.joinPath(folder, 'batch', `shot-${index}.png`));
    const since = Date.now();
    const records = await vscode.commands.executeCommand<Array<{ runId: string }> | undefined>(
      'flora.runTechniqueWithFile',
      files[0],
      files,
    );
    assert.strictEqual(records?.length, 9, 'nine runs started; the file that is not an image was not');
    assert.deepStrictEqual(confirmations, ['$(play) Run 10 times for 50 credits'], 'the total cost, confirmed once');
    assert.strictEqual(consents.length, 1, `one consent for the batch: ${consents.join(' | ')}`);
    assert.match(consents[0] ?? '', /\b10 files\b/, 'the consent names every file that goes, not the first');
    const most = mostUploadsAtOnce(sandbox, since, delayMs);
    assert.ok(most <= 3, `at most 3 uploads at once, saw ${most}`);
    assert.ok(most >= 2, `the batch ran in parallel (saw ${most} at once)`);
    const summary = await waitFor('the summary', () => notices.find((notice) => notice.includes('Studio Shot × 10')));
    assert.match(summary, /9 completed, 1 failed/);
    assert.match(summary, /shot-4\.png/, 'it names the file that was not run');
  });

  it('the Runs view groups a batch under one node with its counts, and the tooltip names the local file', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-batch-view-'));
    const journal = new RunJournal(directory);
    const batch = (index: number, status: 'completed' | 'failed' | 'running') =>
      runRecord({
        localId: `batch-${index}`,
        status,
        progress: status === 'running' ? 40 : 100,
        startedLocallyAt: 2_000 + index,
        updatedAt: 2_000 + index,
        batch: { id: 'b1', index, size: 4 },
        inputs: [
          { id: 'product_image', type: 'imageUrl', value: 'https://media.flora.ai/u/x.png', localPath: `public/img/shot-${index}.jpg` },
        ],
      });
    await journal.save(runRecord({ localId: 'alone', startedLocallyAt: 1_000, updatedAt: 1_000 }));
    await journal.save(batch(0, 'completed'));
    await journal.save(batch(1, 'failed'));
    await journal.save(batch(2, 'running'));
    const runs = new RunsStore(journal, 1_000);
    const tree = new RunsTree(runs);
    const statusBar = new RunsStatusBar(runs);
    try {
      await runs.ready;
      const top = tree.getChildren();
      assert.deepStrictEqual(top, [
        { kind: 'batch', batchId: 'b1' },
        { kind: 'run', localId: 'alone' },
      ]);
      const group = tree.getTreeItem(top[0]);
      assert.strictEqual(group.label, 'Studio Shot × 4');
      assert.strictEqual(group.description, '1 completed, 1 failed, 1 running, 1 waiting');
      const children = tree.getChildren(top[0]);
      assert.deepStrictEqual(
        children.map((child) => (child.kind === 'run' ? child.localId : '')),
        ['batch-0', 'batch-1', 'batch-2'],
      );
      assert.deepStrictEqual(tree.getParent(children[0]), { kind: 'batch', batchId: 'b1' });
      const runItem = tree.getTreeItem(children[0]);
      assert.strictEqual(runItem.label, 'shot-0.jpg', 'a run under its batch is named by its file');
      const resolved = tree.resolveTreeItem(runItem, children[0]);
      // The tooltip is escaped Markdown (spaces as &nbsp;): read without its escapes.
      const tooltip = (resolved.tooltip instanceof vscode.MarkdownString ? resolved.tooltip.value : '')
        .replace(/\\/g, '')
        .replace(/&nbsp;/g, ' ');
      assert.ok(tooltip.includes('product_image: public/img/shot-0.jpg (uploaded)'), tooltip);
      assert.ok(!tooltip.includes('media.flora.ai'), 'the local path is shown instead of the upload URL');
      statusBar.update();
      const item = (statusBar as unknown as { item: vscode.StatusBarItem }).item;
      assert.strictEqual(item.text, '$(sync~spin) Studio Shot × 4 2/4', 'the live batch is one item in the status bar');
    } finally {
      statusBar.dispose();
      tree.dispose();
      runs.dispose();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
