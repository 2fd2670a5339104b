// The fault table, seen through the extension: while FLORA misbehaves mid-run the run is never lost, the
// user is told what is going on, and the key never travels anywhere but the configured origin.
import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { isLive, type PublicRunRecord } from '../../../src/core/runs';
import { Log } from '../../../src/services/log';
import { ManualTime } from '../../common/manualTime';
import type { RecordedRequest, Sandbox } from '../../sandbox/server';
import { activateOver, advanceUntil, floraApi, IMAGE_URL, MemorySecrets, sandboxForExtension } from './helpers';

/** What the sandbox answered one request, from its log line (`GET /path -> 429 [fault rateLimit] (1 ms)`). */
interface Answer {
  method: string;
  path: string;
  outcome: string;
}

function isPollOf(runId: string | undefined): (request: { method: string; path: string }) => boolean {
  return (request) => request.method === 'GET' && request.path.endsWith(`/runs/${runId ?? '-'}`);
}

/** The extension's poll interval in these tests (sandboxForExtension sets flora.pollIntervalSeconds to 2). */
const POLL_INTERVAL_MS = 2_000;

describe('faults while a run is live', () => {
  let sandbox: Sandbox;
  const answers: Answer[] = [];

  before(async () => {
    sandbox = await sandboxForExtension({
      runDurationMs: 5_000,
      log: (line) => {
        const parsed = /^(\S+) (\S+) -> (.*) \(\d+ ms\)$/.exec(line);
        if (parsed) answers.push({ method: parsed[1], path: parsed[2], outcome: parsed[3] });
      },
    });
  });

  after(async () => {
    await sandbox.close();
  });

  afterEach(async () => {
    sandbox.faults.clear();
    await vscode.commands.executeCommand('flora.setApiKey', sandbox.apiKey);
  });

  /**
   * Resolves once the sandbox has recorded a request sent now, and with it whatever the extension sent
   * before (requests over loopback arrive in the order they were sent): so that a poll that should not
   * have happened is seen, without sleeping.
   */
  async function requestsArrived(): Promise<void> {
    const seen = sandbox.requests.length;
    const response = await fetch(`${sandbox.url}/fence`);
    await response.arrayBuffer();
    assert.ok(sandbox.requests.length > seen);
  }

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
    // The 429 answers the first poll: after a first failure the backoff is at most one interval (2 s), so
    // a gap of 3 s after it can only come from its Retry-After.
    sandbox.faults.inject('poll', { kind: 'rateLimit', retryAfterSeconds: 3 }, { slug: 'studio-shot', times: 1 });
    sandbox.faults.inject('poll', { kind: 'status', status: 503 }, { slug: 'studio-shot', times: 1 });
    sandbox.faults.inject('poll', { kind: 'status', status: 502, html: true }, { slug: 'studio-shot', times: 1 });
    const { record, updates } = await runWithUpdates('studio-shot', { product_image: IMAGE_URL });
    assert.strictEqual(record.status, 'completed');
    assert.ok(
      updates.some((update) => update.connection === 'retrying'),
      'the run showed "retrying"',
    );
    const polls: RecordedRequest[] = sandbox.requests.filter(isPollOf(record.runId));
    // One poll of a run is out at a time, so the sandbox's answers line up with the requests it recorded.
    const answered = answers.filter(isPollOf(record.runId)).map((answer) => answer.outcome);
    assert.strictEqual(answered.length, polls.length, 'every poll was answered');
    assert.deepStrictEqual(
      answered.slice(0, 4),
      ['429 [fault rateLimit]', '503 [fault status]', '502 [fault status]', '200'],
      'each injected fault answered one poll, in order, and the next poll was served',
    );
    const rateLimited = answered.indexOf('429 [fault rateLimit]');
    const gap = polls[rateLimited + 1].at - polls[rateLimited].at;
    assert.ok(gap >= 2_900, `Retry-After: 3 was honoured (next poll ${gap} ms after the 429)`);
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
    // A window of its own on a manual clock: while paused, the clock moves past many poll intervals
    // without the test waiting for any of them.
    const time = new ManualTime(Date.now());
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-faults-'));
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    const log = new Log('FLORA (fault tests)');
    const window = await activateOver(storage, secrets, log, { time });
    const oldKey = sandbox.apiKey;
    try {
      const started = await window.controller.startRun('studio-shot', { product_image: IMAGE_URL });
      sandbox.apiKey = 'sk_live_rotated_sandbox_key';
      await advanceUntil(time, 'the run to pause', () =>
        window.runs.connectionOf(started.localId)?.state === 'paused' ? true : undefined,
      );
      const pollsBefore = sandbox.requests.filter(isPollOf(started.runId)).length;
      await time.advance(30 * POLL_INTERVAL_MS);
      await requestsArrived();
      const pollsWhilePaused = sandbox.requests.filter(isPollOf(started.runId)).length - pollsBefore;
      assert.strictEqual(pollsWhilePaused, 0, 'nothing is polled while waiting for a key');
      assert.strictEqual(window.runs.connectionOf(started.localId)?.state, 'paused', 'still waiting for a key');

      await secrets.store('flora.apiKey', sandbox.apiKey);
      const finished = await advanceUntil(time, 'the run to complete with the new key', () => {
        const run = window.runs.get(started.localId);
        return run && !isLive(run) ? run : undefined;
      });
      assert.strictEqual(finished.status, 'completed');
      const last = sandbox.requests.filter(isPollOf(started.runId)).pop();
      assert.strictEqual(last?.authorization, `Bearer ${sandbox.apiKey}`);
    } finally {
      sandbox.apiKey = oldKey;
      window.dispose();
      log.dispose();
      fs.rmSync(storage, { recursive: true, force: true });
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
