// Local files as inputs, through the run controller of a window built like the extension's: a workspace
// file is uploaded to the sandbox's S3-protocol storage (which checks every signature), FLORA (the sandbox)
// fetches it from the presigned URL when the run starts, and the record says which input was local. What
// must not happen is checked as closely: nothing uploaded or sent without a target or without consent, a
// file that is not an image refused before anything leaves, a second run of the same file not uploaded
// again, and the storage secret nowhere on disk.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { isWorkspaceFileRead } from '../../../src/common/workspacePaths';
import { FloraCancelledError, UploadError } from '../../../src/core/errors';
import { Log, redact } from '../../../src/services/log';
import { runAgain } from '../../../src/commands/runTechnique';
import { mediaCandidates } from '../../../src/ui/mediaCandidates';
import { runRecord } from '../../common/records';
import { UPLOAD_SECRET } from '../../../src/services/uploads';
import { renderPng } from '../../sandbox/media';
import type { Sandbox } from '../../sandbox/server';
import { SANDBOX_S3_BUCKET, SANDBOX_S3_CREDENTIALS } from '../../sandbox/storage';
import {
  activateOver,
  IMAGE_URL,
  MemorySecrets,
  postsTo,
  sandboxForExtension,
  waitFor,
  type Session,
  type SessionOptions,
} from './helpers';

const UPLOAD_SETTINGS = ['upload.target', 'upload.endpoint', 'upload.s3.bucket', 'upload.s3.region', 'upload.s3.prefix'] as const;

describe('local files as inputs, uploaded to storage the user owns', () => {
  let sandbox: Sandbox;
  let workspace: vscode.Uri;
  const log = new Log('FLORA (upload tests)');
  const storageFolders: string[] = [];

  before(async () => {
    sandbox = await sandboxForExtension({ runDurationMs: 1_000 });
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the fixture workspace is open');
    workspace = folder.uri;
    const images = vscode.Uri.joinPath(workspace, 'upload-test');
    await vscode.workspace.fs.createDirectory(images);
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(images, 'sneaker.png'), renderPng('sneaker', 'gradient'));
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(images, 'notes.png'), Buffer.from('not a picture at all'));
  });

  after(async () => {
    await configureUpload(undefined);
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(workspace, 'upload-test'), { recursive: true });
    for (const folder of storageFolders) fs.rmSync(folder, { recursive: true, force: true });
    log.dispose();
    await sandbox.close();
  });

  /** The user's settings for the sandbox's S3 storage (or none). */
  async function configureUpload(target: 's3' | undefined): Promise<void> {
    const configuration = vscode.workspace.getConfiguration('flora');
    const values: Record<(typeof UPLOAD_SETTINGS)[number], string | undefined> = {
      'upload.target': target,
      'upload.endpoint': target ? `${sandbox.url}/s3` : undefined,
      'upload.s3.bucket': target ? SANDBOX_S3_BUCKET : undefined,
      'upload.s3.region': target ? 'us-east-1' : undefined,
      'upload.s3.prefix': target ? 'tests/' : undefined,
    };
    for (const key of UPLOAD_SETTINGS) await configuration.update(key, values[key], vscode.ConfigurationTarget.Global);
  }

  /** A window with its own storage folder, or `storage` (another window's: two windows of one profile). */
  async function window(
    options: { consent?: boolean | SessionOptions['consent']; storage?: string; budgetPrompt?: SessionOptions['budgetPrompt'] } = {},
  ): Promise<Session> {
    const storage = options.storage ?? fs.mkdtempSync(path.join(os.tmpdir(), 'flora-storage-'));
    storageFolders.push(storage);
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    await secrets.store(UPLOAD_SECRET.s3AccessKeyId, SANDBOX_S3_CREDENTIALS.accessKeyId);
    await secrets.store(UPLOAD_SECRET.s3SecretAccessKey, SANDBOX_S3_CREDENTIALS.secretAccessKey);
    const { consent } = options;
    return activateOver(storage, secrets, log, {
      consent: typeof consent === 'function' ? consent : async () => consent ?? true,
      budgetPrompt: options.budgetPrompt,
    });
  }

  function puts(): number {
    return sandbox.storage.requests.filter((request) => request.method === 'PUT' || request.operation === 'CreateMultipartUpload').length;
  }

  it('uploads a workspace file once, asks once, and the run completes with FLORA reading it from the signed URL', async () => {
    await configureUpload('s3');
    const session = await window();
    try {
      const started = await session.controller.startRun('studio-shot', { product_image: 'upload-test/sneaker.png' });
      const [input] = started.inputs;
      assert.strictEqual(input?.localPath, 'upload-test/sneaker.png');
      assert.ok(input?.value.startsWith(`${sandbox.url}/s3/${SANDBOX_S3_BUCKET}/tests/`), input?.value);
      assert.match(input.value, /[?&]X-Amz-Signature=[0-9a-f]{64}/);
      assert.deepStrictEqual(
        session.consents.map((consent) => consent.files),
        [['upload-test/sneaker.png']],
        'asked once, naming the file',
      );
      const finished = await session.controller.waitForRun(started.localId);
      assert.strictEqual(finished.status, 'completed', `${finished.errorCode ?? ''} ${finished.errorMessage ?? ''}`);

      // The same bytes again: no upload, no question, the same URL.
      const before = puts();
      const again = await session.controller.startRun('studio-shot', {
        product_image: vscode.Uri.joinPath(workspace, 'upload-test', 'sneaker.png').toString(),
      });
      assert.strictEqual(puts(), before, 'not uploaded again');
      assert.strictEqual(session.consents.length, 1, 'not asked again');
      assert.strictEqual(again.inputs[0]?.value, input.value);
      await session.controller.waitForRun(again.localId);
    } finally {
      session.dispose();
    }
  });

  it('sends nothing and offers Configure Upload when no storage is set', async () => {
    await configureUpload(undefined);
    const session = await window();
    try {
      const posts = postsTo(sandbox, 'studio-shot');
      const error = await session.controller.startRun('studio-shot', { product_image: 'upload-test/sneaker.png' }).then(
        () => assert.fail('the run was started'),
        (rejection: unknown) => rejection,
      );
      assert.ok(error instanceof UploadError, String(error));
      assert.strictEqual(error.reason, 'noTarget');
      assert.deepStrictEqual(error.remedy, { kind: 'configureUpload' });
      assert.strictEqual(postsTo(sandbox, 'studio-shot'), posts, 'nothing sent to FLORA');
      assert.strictEqual(session.runs.all().length, 0, 'nothing recorded');
    } finally {
      session.dispose();
    }
  });

  it('uploads and sends nothing when the person declines the first upload', async () => {
    await configureUpload('s3');
    const session = await window({ consent: false });
    try {
      const before = sandbox.storage.requests.length;
      const posts = postsTo(sandbox, 'studio-shot');
      await assert.rejects(session.controller.startRun('studio-shot', { product_image: 'upload-test/sneaker.png' }), FloraCancelledError);
      assert.strictEqual(sandbox.storage.requests.length, before, 'no request reached the storage');
      assert.strictEqual(postsTo(sandbox, 'studio-shot'), posts, 'nothing sent to FLORA');
    } finally {
      session.dispose();
    }
  });

  it("counts a run still uploading in one window in the other window's budget, until it is on record or its window closes", async () => {
    await configureUpload('s3');
    const configuration = vscode.workspace.getConfiguration('flora');
    const budgetBefore = configuration.inspect('budget.creditsPerDay')?.globalValue;
    await configuration.update('budget.creditsPerDay', 8, vscode.ConfigurationTarget.Global);
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-storage-'));
    const reservations = path.join(shared, 'budget-reservations');
    const onDisk = () => (fs.existsSync(reservations) ? fs.readdirSync(reservations).length : 0);
    // A window's upload waits at its consent question for as long as the test holds it.
    const answers: Array<(agreed: boolean) => void> = [];
    const heldConsent = () => new Promise<boolean>((resolve) => answers.push(resolve));
    const questions: number[] = [];
    const other = await window({
      storage: shared,
      budgetPrompt: async (_request, standing) => {
        questions.push(standing.pending);
        return false;
      },
    });
    const opened: Session[] = [other];
    try {
      const posts = postsTo(sandbox, 'studio-shot');
      // 1. A window closed mid-upload takes its reservation with it.
      const closing = await window({ storage: shared, consent: heldConsent });
      const abandoned = closing.controller.startRun('studio-shot', { product_image: 'upload-test/sneaker.png' });
      abandoned.catch(() => undefined);
      await waitFor('the closing window is asked for consent', () => answers.length === 1);
      assert.strictEqual(onDisk(), 1, 'its run is held on disk while it uploads');
      assert.strictEqual(other.budget.standing().pending, 5, 'and counted in the other window');
      closing.dispose();
      assert.strictEqual(onDisk(), 0, 'a closed window leaves no reservation');
      await waitFor("the other window's display no longer counts it (it may be a second old)", () => other.budget.standing().pending === 0);

      // 2. Admitted (5 of 8) in one window, its upload held: the other window's run would pass 8 and asks.
      const uploading = await window({ storage: shared, consent: heldConsent });
      opened.push(uploading);
      const started = uploading.controller.startRun('studio-shot', { product_image: 'upload-test/sneaker.png' });
      await waitFor('the uploading window is asked for consent', () => answers.length === 2);
      await assert.rejects(other.controller.startRun('studio-shot', { product_image: IMAGE_URL }), /daily budget of 8/);
      assert.deepStrictEqual(questions, [5], "the question counted the other window's run being prepared");
      assert.strictEqual(postsTo(sandbox, 'studio-shot'), posts, 'nothing sent to FLORA yet');

      // 3. On record, it counts from the journal, once; never zero times while the other window has yet to
      // read the record (its hold stays on disk, marked released, until then).
      const samples: number[] = [];
      const sampling = setInterval(() => {
        const standing = other.budget.standing(0, { fresh: true });
        samples.push(standing.charged + standing.pending);
      }, 1);
      answers[1]?.(true);
      const record = await started;
      assert.ok(fs.existsSync(path.join(reservations, `${record.localId}.recorded`)), 'its hold is marked released, not removed');
      await waitFor('the other window reads the run', () => other.runs.get(record.localId));
      clearInterval(sampling);
      assert.ok(
        samples.length > 0 && samples.every((credits) => credits === 5),
        `never counted zero times: ${JSON.stringify([...new Set(samples)])}`,
      );
      await waitFor('then counted once', () => {
        const standing = other.budget.standing();
        return standing.charged + standing.pending === 5;
      });
      // And a file replaced between the tool's read and the check (an editor's atomic save) is not the one read.
      const shoe = path.join(workspace.fsPath, 'upload-test', 'sneaker.png');
      const identity = fs.statSync(shoe, { bigint: true });
      const read = { device: String(identity.dev), inode: String(identity.ino) };
      assert.strictEqual(await isWorkspaceFileRead(shoe, read), true, 'the file read is the workspace file');
      const saved = `${shoe}.saving`;
      fs.copyFileSync(shoe, saved);
      fs.renameSync(saved, shoe);
      assert.strictEqual(await isWorkspaceFileRead(shoe, read), false, 'another inode at that path now');
      assert.strictEqual(await isWorkspaceFileRead(shoe, { device: read.device, inode: '1' }), false);
      await uploading.controller.waitForRun(record.localId);
    } finally {
      for (const session of opened.reverse()) session.dispose();
      await configuration.update('budget.creditsPerDay', budgetBefore, vscode.ConfigurationTarget.Global);
    }
  });

  it("uploads a model's file only if what was read is the workspace's file by real path, however its path changed after the tool's check", async () => {
    await configureUpload('s3');
    // The tool checked "upload-test/swapped/shoe.png" inside the workspace; then a folder on its path became
    // a link to a folder outside (the state the upload now finds).
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-outside-'));
    fs.writeFileSync(path.join(outside, 'shoe.png'), renderPng('private', 'gradient'));
    const swapped = path.join(workspace.fsPath, 'upload-test', 'swapped');
    fs.symlinkSync(outside, swapped);
    fs.mkdirSync(path.join(workspace.fsPath, 'upload-test', 'plain'));
    fs.writeFileSync(path.join(workspace.fsPath, 'upload-test', 'plain', 'shoe.png'), renderPng('shoe', 'gradient'));
    const session = await window();
    try {
      const before = sandbox.storage.requests.length;
      const posts = postsTo(sandbox, 'studio-shot');
      const error = await session.controller
        .prepareRun('studio-shot', { product_image: 'upload-test/swapped/shoe.png' }, { workspaceFilesOnly: true })
        .then(
          () => assert.fail('the run was prepared'),
          (rejection: unknown) => rejection,
        );
      assert.ok(error instanceof UploadError && error.reason === 'unreadable', String(error));
      assert.match(
        String(error.message),
        /"upload-test\/swapped\/shoe.png" changed while it was read, or a link on its path leads out of the workspace/,
      );
      assert.strictEqual(sandbox.storage.requests.length, before, 'no request reached the storage');
      assert.strictEqual(postsTo(sandbox, 'studio-shot'), posts, 'nothing sent to FLORA');
      assert.strictEqual(session.runs.all().length, 0, 'nothing recorded');

      // A workspace file by real path goes up as before; and a person's pick through the link is theirs.
      const inside = await session.controller.prepareRun(
        'studio-shot',
        { product_image: 'upload-test/plain/shoe.png' },
        { workspaceFilesOnly: true },
      );
      assert.strictEqual(inside.inputs[0]?.localPath, 'upload-test/plain/shoe.png');
      const picked = await session.controller.prepareRun('studio-shot', { product_image: 'upload-test/swapped/shoe.png' });
      assert.strictEqual(picked.inputs[0]?.localPath, 'upload-test/swapped/shoe.png');
    } finally {
      session.dispose();
      fs.unlinkSync(swapped);
      fs.rmSync(path.join(workspace.fsPath, 'upload-test', 'plain'), { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('refuses a file that is not an image by its contents, before anything leaves', async () => {
    await configureUpload('s3');
    const session = await window();
    try {
      const before = sandbox.storage.requests.length;
      const error = await session.controller.startRun('studio-shot', { product_image: 'upload-test/notes.png' }).then(
        () => assert.fail('the run was started'),
        (rejection: unknown) => rejection,
      );
      assert.ok(error instanceof UploadError && error.reason === 'unsupportedType', String(error));
      assert.strictEqual(sandbox.storage.requests.length, before, 'no request reached the storage');
    } finally {
      session.dispose();
    }
  });

  it('keeps the storage secret out of the journal and the settings', async () => {
    await configureUpload('s3');
    const session = await window();
    try {
      const started = await session.controller.startRun('studio-shot', { product_image: 'upload-test/sneaker.png' });
      await session.controller.waitForRun(started.localId);
    } finally {
      session.dispose();
    }
    const storage = storageFolders[storageFolders.length - 1] ?? assert.fail('a storage folder');
    const secret = SANDBOX_S3_CREDENTIALS.secretAccessKey;
    for (const file of filesUnder(storage)) assert.ok(!fs.readFileSync(file, 'utf8').includes(secret), `the secret is in ${file}`);
    const configuration = JSON.stringify(vscode.workspace.getConfiguration('flora'));
    assert.ok(!configuration.includes(secret), 'the secret is in the settings');
  });

  it('Run Again uploads a local input from its file again rather than resending its link, which may have expired', async () => {
    await configureUpload('s3');
    const session = await window();
    const window_ = vscode.window as { showQuickPick: typeof vscode.window.showQuickPick };
    const showQuickPick = window_.showQuickPick;
    // The cost confirmation: run.
    window_.showQuickPick = (async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) =>
      (await items).find((item) => (item as { run?: boolean }).run === true)) as unknown as typeof vscode.window.showQuickPick;
    try {
      const first = await session.controller.startRun('studio-shot', { product_image: 'upload-test/sneaker.png' });
      await session.controller.waitForRun(first.localId);
      const context = { ...session, lastTextEditor: () => undefined };
      const again = await runAgain(context, session.runs.get(first.localId) ?? assert.fail('recorded'));
      const record = session.runs.all().find((run) => run.runId === again?.runId);
      assert.strictEqual(record?.inputs[0]?.localPath, 'upload-test/sneaker.png', 'sent from the file');
      if (record) await session.controller.waitForRun(record.localId);
    } finally {
      window_.showQuickPick = showQuickPick;
      session.dispose();
    }
  });

  it("offers an earlier output as an input only when it is a web link, never a server's path to a local file", async () => {
    const outputs = [
      { outputId: 'a', type: 'imageUrl', url: 'file:///home/user/Pictures/passport.jpg' },
      { outputId: 'b', type: 'imageUrl', url: '/home/user/Pictures/passport.jpg' },
      { outputId: 'c', type: 'imageUrl', url: '../secret.png' },
      { outputId: 'd', type: 'imageUrl', url: 'https://media.flora.ai/out/fine.png' },
    ];
    const suggestions = await mediaCandidates({
      type: 'imageUrl',
      previous: undefined,
      editor: undefined,
      // No inputs: a link used before would be offered too (see pickers.test.ts); only outputs are looked at here.
      records: [runRecord({ outputs, inputs: [] })],
    });
    assert.deepStrictEqual(
      // "Choose a File…" is an action, not a value.
      suggestions.filter((suggestion) => suggestion.choose === undefined).map((suggestion) => suggestion.value),
      ['https://media.flora.ai/out/fine.png'],
    );
  });

  it('masks what signs a storage request in the log: presigned query values, authorisations, ImageKit keys', () => {
    const line = redact(
      'GET https://b.s3.us-east-1.amazonaws.com/k.png?X-Amz-Credential=AKIA0/20261201/us-east-1/s3/aws4_request&X-Amz-Signature=abc123&X-Amz-Security-Token=tok " Authorization: Basic cHJpdmF0ZV94 private_live_key0001=',
    );
    for (const secret of ['AKIA0', 'abc123', 'tok', 'cHJpdmF0ZV94', 'private_live_key0001='])
      assert.ok(!line.includes(secret), `${secret} in ${line}`);
    assert.ok(line.includes('b.s3.us-east-1.amazonaws.com/k.png'), 'the rest is kept');
  });
});

function filesUnder(folder: string): string[] {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(full) : entry.isFile() ? [full] : [];
  });
}
