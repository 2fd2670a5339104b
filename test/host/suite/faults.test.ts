// The fault table, seen through the extension: while FLORA misbehaves mid-run the run is never lost, the
// user is told what is going on, and the key never travels anywhere but the configured origin.
import * as assert from 'assert';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as vscode from 'vscode';
import type { PublicRunRecord } from '../../../src/core/runs';
import type { Sandbox } from '../../sandbox/server';
import { floraApi, IMAGE_URL, sandboxForExtension, waitFor } from './helpers';

describe('faults while a run is live', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await sandboxForExtension({ runDurationMs: 5_000 });
  });

  after(async () => {
    await sandbox.close();
  });

  afterEach(async () => {
    sandbox.faults.clear();
    await vscode.commands.executeCommand('flora.setApiKey', sandbox.apiKey);
  });

  /** Starts a run of `slug` and collects every state the extension reported for it. */
  async function runWithUpdates(
    slug: string,
    inputs: Record<string, string>,
  ): Promise<{ record: PublicRunRecord; updates: PublicRunRecord[] }> {
    const api = await floraApi();
    const updates: PublicRunRecord[] = [];
    const subscription = api.onDidChangeRun((update) => updates.push(update));
    try {
      const record = await api.runTechnique(slug, inputs);
      return { record, updates: updates.filter((update) => update.runId === record.runId) };
    } finally {
      subscription.dispose();
    }
  }

  it('rides out a 5xx and 429 storm while polling, honouring Retry-After, and shows "retrying"', async () => {
    sandbox.faults.inject('poll', { kind: 'status', status: 503 }, { slug: 'studio-shot', times: 1 });
    sandbox.faults.inject('poll', { kind: 'rateLimit', retryAfterSeconds: 3 }, { slug: 'studio-shot', times: 1 });
    sandbox.faults.inject('poll', { kind: 'status', status: 502, html: true }, { slug: 'studio-shot', times: 1 });
    const { record, updates } = await runWithUpdates('studio-shot', { product_image: IMAGE_URL });
    assert.strictEqual(record.status, 'completed');
    assert.ok(
      updates.some((update) => update.connection === 'retrying'),
      'the run showed "retrying"',
    );
    const polls = sandbox.requests.filter((request) => request.method === 'GET' && request.path.endsWith(`/runs/${record.runId}`));
    const rateLimited = polls.findIndex((_request, index) => index === 1);
    assert.ok(rateLimited >= 0 && polls.length > 2);
    const gap = polls[2].at - polls[1].at;
    assert.ok(gap >= 2_900, `Retry-After: 3 was honoured (next poll after ${gap} ms)`);
  });

  it('keeps polling through malformed and wrongly shaped replies and completes', async () => {
    sandbox.faults.inject('poll', { kind: 'malformed' }, { slug: 'studio-shot', times: 1 });
    sandbox.faults.inject('poll', { kind: 'wrongShape' }, { slug: 'studio-shot', times: 1 });
    const { record, updates } = await runWithUpdates('studio-shot', { product_image: IMAGE_URL });
    assert.strictEqual(record.status, 'completed');
    assert.ok(updates.some((update) => update.connection === 'retrying'));
  });

  it('shows "offline" while connections drop and completes when they come back', async () => {
    sandbox.faults.inject('poll', { kind: 'dropBefore' }, { slug: 'studio-shot', times: 2 });
    const { record, updates } = await runWithUpdates('studio-shot', { product_image: IMAGE_URL });
    assert.strictEqual(record.status, 'completed');
    assert.ok(
      updates.some((update) => update.connection === 'offline'),
      'the run showed "offline — retrying"',
    );
  });

  it('pauses polling when the key is revoked mid-run and resumes with the new key', async () => {
    const api = await floraApi();
    const started = await vscode.commands.executeCommand<PublicRunRecord>('flora.runTechnique', {
      slug: 'studio-shot',
      inputs: { product_image: IMAGE_URL },
    });
    const oldKey = sandbox.apiKey;
    sandbox.apiKey = 'sk_live_rotated_sandbox_key';
    try {
      await waitFor(
        'the run to pause',
        () => api.getRuns().find((run) => run.runId === started.runId && run.connection === 'paused'),
        15_000,
      );
      const pausedAt = sandbox.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const pollsWhilePaused = sandbox.requests.slice(pausedAt).filter((request) => request.path.endsWith(`/runs/${started.runId}`));
      assert.strictEqual(pollsWhilePaused.length, 0, 'nothing is polled while waiting for a key');
      await vscode.commands.executeCommand('flora.setApiKey', sandbox.apiKey);
      const finished = await waitFor('the run to complete with the new key', () =>
        api.getRuns().find((run) => run.runId === started.runId && run.status === 'completed'),
      );
      assert.strictEqual(finished.connection, undefined);
      const last = sandbox.requests.filter((request) => request.path.endsWith(`/runs/${started.runId}`)).pop();
      assert.strictEqual(last?.authorization, `Bearer ${sandbox.apiKey}`);
    } finally {
      sandbox.apiKey = oldKey;
    }
  });

  it('ends a run FLORA no longer knows (404 on every poll) as failed, with an explanation', async () => {
    sandbox.faults.inject('poll', { kind: 'status', status: 404 }, { slug: 'palette-pull', times: Number.POSITIVE_INFINITY });
    const { record } = await runWithUpdates('palette-pull', { source_image: IMAGE_URL });
    assert.strictEqual(record.status, 'failed');
    assert.strictEqual(record.errorCode, 'not_found');
    assert.match(record.errorMessage ?? '', /no longer knows/);
  });

  it('never sends the key to an off-origin pollUrl', async () => {
    const received: Array<{ url?: string; authorization?: string }> = [];
    const elsewhere = http.createServer((request, response) => {
      received.push({ url: request.url, authorization: request.headers.authorization });
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      sandbox.faults.pollOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
      const { record } = await runWithUpdates('studio-shot', { product_image: IMAGE_URL });
      assert.strictEqual(record.status, 'completed', 'polled on the configured origin instead');
      assert.deepStrictEqual(received, [], 'nothing reached the other origin');
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });
});
