// The user journey through commands and the API, against the sandbox: key round trip, runs to completion
// and failure, validation that sends nothing, error paths with actionable messages, and the preview.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { PublicRunRecord } from '../../../src/core/runs';
import type { Sandbox } from '../../sandbox/server';
import { floraApi, IMAGE_URL, postsTo, rejection, sandboxForExtension, waitFor } from './helpers';

describe('runs against the sandbox', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await sandboxForExtension();
  });

  after(async () => {
    await sandbox.close();
  });

  afterEach(() => {
    sandbox.faults.clear();
  });

  it('runs a technique through the API to completion, with outputs served by the sandbox', async () => {
    const api = await floraApi();
    const seen: PublicRunRecord[] = [];
    const subscription = api.onDidChangeRun((record) => seen.push(record));
    const record = await api.runTechnique('studio-shot', { product_image: IMAGE_URL });
    subscription.dispose();
    assert.strictEqual(record.status, 'completed');
    assert.strictEqual(record.progress, 100);
    assert.strictEqual(record.chargedCost, 5);
    assert.strictEqual(record.outputs?.length, 1);
    assert.ok(record.outputs?.[0]?.url.startsWith(`${sandbox.url}/media/`));
    assert.ok(seen.some((update) => update.runId === record.runId && update.status === 'completed'));
    assert.ok(api.getRuns().some((run) => run.runId === record.runId && run.status === 'completed'));
    const sandboxRun = sandbox.runs().find((run) => run.runId === record.runId);
    assert.strictEqual(sandboxRun?.status, 'completed');
  });

  it('runs through the command without prompting and resolves once the run is created', async () => {
    const before = sandbox.runs().length;
    const record = await vscode.commands.executeCommand<PublicRunRecord>('flora.runTechnique', {
      slug: 'icon-pack',
      inputs: { prompt: 'four weather icons, flat, pastel' },
    });
    assert.ok(record.runId, 'the record carries the runId');
    assert.strictEqual(record.slug, 'icon-pack');
    assert.ok(['pending', 'running'].includes(record.status), `status ${record.status}`);
    assert.strictEqual(sandbox.runs().length, before + 1);
    const api = await floraApi();
    const finished = await waitFor('the icon pack to complete', () =>
      api.getRuns().find((run) => run.runId === record.runId && run.status === 'completed'),
    );
    assert.strictEqual(finished.outputs?.length, 4);
  });

  it('reports a run FLORA failed, with its errorCode and errorMessage', async () => {
    sandbox.faults.failRuns = { errorCode: 'generation_failed', errorMessage: 'The model could not render <b>this</b>.' };
    const api = await floraApi();
    const record = await api.runTechnique('studio-shot', { product_image: IMAGE_URL });
    assert.strictEqual(record.status, 'failed');
    assert.strictEqual(record.errorCode, 'generation_failed');
    assert.strictEqual(record.errorMessage, 'The model could not render <b>this</b>.');
    assert.strictEqual(record.chargedCost, undefined);
  });

  it('rejects invalid inputs with the validation message and sends nothing', async () => {
    await floraApi().then((api) => api.runTechnique('studio-shot', { product_image: IMAGE_URL })); // details cached
    const posts = postsTo(sandbox, 'studio-shot');
    const insecure = await rejection(
      vscode.commands.executeCommand('flora.runTechnique', {
        slug: 'studio-shot',
        inputs: { product_image: 'http://media.flora.ai/a.png' },
      }),
    );
    assert.match(insecure, /product_image/);
    assert.match(insecure, /https:\/\//);
    const lookAlike = await rejection(
      vscode.commands.executeCommand('flora.runTechnique', {
        slug: 'studio-shot',
        inputs: { product_image: 'https://ik.imagekit.io.evil.com/a.png' },
      }),
    );
    assert.match(lookAlike, /ik\.imagekit\.io\.evil\.com/);
    const unknownInput = await rejection(
      vscode.commands.executeCommand('flora.runTechnique', { slug: 'studio-shot', inputs: { product_image: IMAGE_URL, extra: 'x' } }),
    );
    assert.match(unknownInput, /"extra" is not an input/);
    const missing = await rejection(vscode.commands.executeCommand('flora.runTechnique', { slug: 'icon-pack', inputs: { prompt: '   ' } }));
    assert.match(missing, /prompt/);
    assert.strictEqual(postsTo(sandbox, 'studio-shot'), posts, 'no create request was sent');
  });

  it('explains an unknown technique slug', async () => {
    const message = await rejection(vscode.commands.executeCommand('flora.runTechnique', { slug: 'no-such-technique', inputs: {} }));
    assert.match(message, /no-such-technique/);
    assert.match(message, /slug/);
  });

  it('explains running out of credits, and does not retry', async () => {
    const credits = sandbox.credits;
    sandbox.credits = 0;
    try {
      const posts = postsTo(sandbox, 'studio-shot');
      const message = await rejection(
        vscode.commands.executeCommand('flora.runTechnique', { slug: 'studio-shot', inputs: { product_image: IMAGE_URL } }),
      );
      assert.match(message, /out of FLORA credits/);
      assert.strictEqual(postsTo(sandbox, 'studio-shot'), posts + 1);
    } finally {
      sandbox.credits = credits;
    }
  });

  it('round-trips the key: removed means unauthorized with nothing sent, set again means it works', async () => {
    await vscode.commands.executeCommand('flora.removeApiKey');
    const requests = sandbox.requests.length;
    const message = await rejection(
      vscode.commands.executeCommand('flora.runTechnique', { slug: 'studio-shot', inputs: { product_image: IMAGE_URL } }),
    );
    assert.match(message, /Set API Key/);
    assert.strictEqual(sandbox.requests.length, requests, 'no request without a key');
    await vscode.commands.executeCommand('flora.setApiKey', sandbox.apiKey);
    const record = await vscode.commands.executeCommand<PublicRunRecord>('flora.runTechnique', {
      slug: 'studio-shot',
      inputs: { product_image: IMAGE_URL },
    });
    assert.ok(record.runId);
    const last = sandbox.requests[sandbox.requests.length - 1];
    assert.strictEqual(last?.authorization, `Bearer ${sandbox.apiKey}`);
  });

  it('explains a rejected key and asks for a new one', async () => {
    await vscode.commands.executeCommand('flora.setApiKey', 'sk_live_wrong_key_123');
    try {
      const message = await rejection(vscode.commands.executeCommand('flora.runTechnique', { slug: 'relight-technique', inputs: {} }));
      assert.match(message, /rejected the API key/);
    } finally {
      await vscode.commands.executeCommand('flora.setApiKey', sandbox.apiKey);
    }
  });

  it('refuses a base URL that would send the key over plain HTTP', async () => {
    const configuration = vscode.workspace.getConfiguration('flora');
    await configuration.update('baseUrl', 'http://flora.example.com', vscode.ConfigurationTarget.Global);
    try {
      const message = await rejection(
        vscode.commands.executeCommand('flora.runTechnique', { slug: 'studio-shot', inputs: { product_image: IMAGE_URL } }),
      );
      assert.match(message, /https:\/\//);
    } finally {
      await configuration.update('baseUrl', sandbox.url, vscode.ConfigurationTarget.Global);
    }
  });

  it('survives a dropped connection after create: exactly one run', async () => {
    sandbox.faults.inject('create', { kind: 'dropAfter' }, { slug: 'palette-pull' });
    const before = sandbox.runs().filter((run) => run.slug === 'palette-pull').length;
    const record = await vscode.commands.executeCommand<PublicRunRecord>('flora.runTechnique', {
      slug: 'palette-pull',
      inputs: { source_image: IMAGE_URL },
    });
    assert.ok(record.runId);
    assert.strictEqual(sandbox.runs().filter((run) => run.slug === 'palette-pull').length, before + 1);
  });

  it('opens the preview of a run by runId', async () => {
    const api = await floraApi();
    const record = await api.runTechnique('studio-shot', { product_image: IMAGE_URL });
    const opened = await vscode.commands.executeCommand<boolean>('flora.openPreview', record.runId);
    assert.strictEqual(opened, true);
    await waitFor('the preview tab', () =>
      vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .find((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('flora.preview')),
    );
    const unknown = await rejection(vscode.commands.executeCommand('flora.openPreview', 'j57-not-a-run'));
    assert.match(unknown, /no run/i);
  });

  it('downloads an output into flora.outputFolder in the workspace', async () => {
    const api = await floraApi();
    const record = await api.runTechnique('studio-shot', { product_image: IMAGE_URL });
    const output = record.outputs?.[0];
    assert.ok(output);
    const saved = await vscode.commands.executeCommand<vscode.Uri>('flora.downloadOutput', { url: output.url, type: output.type });
    assert.ok(saved, 'the command returns the saved file');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    assert.ok(folder && saved.fsPath.startsWith(vscode.Uri.joinPath(folder, 'flora-outputs').fsPath), saved.fsPath);
    const bytes = await vscode.workspace.fs.readFile(saved);
    assert.deepStrictEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a real PNG was saved');
    const refused = await rejection(
      vscode.commands.executeCommand('flora.downloadOutput', { url: 'file:///etc/passwd', type: 'imageUrl' }),
    );
    assert.match(refused, /https:\/\//);
  });

  it('runs a finished run again with the same inputs: a new run', async () => {
    const configuration = vscode.workspace.getConfiguration('flora');
    await configuration.update('confirmBeforeRun', false, vscode.ConfigurationTarget.Global);
    try {
      const api = await floraApi();
      const first = await api.runTechnique('studio-shot', { product_image: IMAGE_URL });
      const again = await vscode.commands.executeCommand<PublicRunRecord>('flora.runAgain', first.runId);
      assert.ok(again.runId && again.runId !== first.runId, 'a new run');
      assert.strictEqual(again.slug, 'studio-shot');
      const created = sandbox.runs().find((run) => run.runId === again.runId);
      assert.deepStrictEqual(created?.inputs, sandbox.runs().find((run) => run.runId === first.runId)?.inputs);
    } finally {
      await configuration.update('confirmBeforeRun', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
