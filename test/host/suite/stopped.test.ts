// Issue 10, item 5, in the service: a create that is never confirmed, polls that never read and a run that
// never finishes are followed for a bounded time only, end "stopped" (not live, runId and everything known
// kept), and Resume Following picks them up again; the user can stop following a live run too. The service
// runs on a manual clock and timers, so its bounds are crossed by moving the clock, never by sleeping;
// FLORA is the real sandbox over loopback. Also: the API key never goes through a proxy to a loopback
// (sandbox) base URL.
import * as assert from 'assert';
import * as fs from 'fs';
import MarkdownIt from 'markdown-it';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { RunJournal } from '../../../src/core/journal';
import { isLive, type RunRecord } from '../../../src/core/runs';
import { Log } from '../../../src/services/log';
import { RunsStore } from '../../../src/services/runsStore';
import { RunsTree } from '../../../src/views/runsTree';
import { ManualTime } from '../../common/manualTime';
import { startProxy } from '../../common/proxy';
import { runRecord } from '../../common/records';
import type { Sandbox } from '../../sandbox/server';
import { activateOver, advanceUntil, floraApi, IMAGE_URL, MemorySecrets, postsTo, sandboxForExtension, waitFor } from './helpers';

/** Shorter than the defaults so that few requests cross them; on the manual clock, no test waits for them. */
const BOUNDS = { createRetryMs: 15_000, createRetryLimitMs: 60_000, pollFailureLimitMs: 60_000 };

function storageFolder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'flora-stopped-'));
}

function stoppedRecord(runs: RunsStore, localId: string): RunRecord | undefined {
  const record = runs.get(localId);
  return record?.stopped ? record : undefined;
}

/** Polls (GETs) of one run the sandbox received. */
function pollsOf(sandbox: Sandbox, runId: string | undefined): number {
  return sandbox.requests.filter((request) => request.method === 'GET' && request.path.includes(`/runs/${runId ?? '-'}`)).length;
}

const HOUR = 60 * 60_000;

function finishedRecord(runs: RunsStore, localId: string): RunRecord | undefined {
  const record = runs.get(localId);
  return record && !isLive(record) ? record : undefined;
}

describe('bounded following: stopped runs and Resume Following', () => {
  let sandbox: Sandbox;
  const secrets = new MemorySecrets();
  const log = new Log('FLORA (stopped tests)');

  before(async () => {
    sandbox = await sandboxForExtension({ runDurationMs: 1_000 });
    await secrets.store('flora.apiKey', sandbox.apiKey);
  });

  after(async () => {
    log.dispose();
    await sandbox.close();
  });

  afterEach(() => sandbox.faults.clear());

  /**
   * Every create of Studio Shot is refused for now (429, Retry-After: 0): retryable, and the client's own
   * retries take no real time, so only the service's bound decides when it stops.
   */
  function refuseCreates(): void {
    sandbox.faults.inject('create', { kind: 'rateLimit', retryAfterSeconds: 0 }, { slug: 'studio-shot', times: Number.POSITIVE_INFINITY });
  }

  it('stops re-sending a create that never gets through, keeps the intent, and resumes it with the same key', async () => {
    const time = new ManualTime(Date.now());
    const window = await activateOver(storageFolder(), secrets, log, { time, bounds: BOUNDS });
    try {
      refuseCreates();
      const intent = await window.controller.prepareRun('studio-shot', { product_image: IMAGE_URL });
      const firstTry = time.now;
      await window.controller.create(intent.localId).catch(() => undefined);
      const stopped = await advanceUntil(time, 'the create to be stopped', () => stoppedRecord(window.runs, intent.localId));
      assert.strictEqual(stopped.stopped?.reason, 'createUnconfirmed');
      assert.strictEqual(stopped.stopped?.at, firstTry + BOUNDS.createRetryLimitMs, 'stopped when the bound ran out');
      assert.strictEqual(stopped.status, 'creating');
      assert.strictEqual(isLive(stopped), false);
      assert.strictEqual(time.scheduled, 0, 'no re-send is scheduled');
      const posts = postsTo(sandbox, 'studio-shot');
      await time.advance(10 * BOUNDS.createRetryMs);
      assert.strictEqual(postsTo(sandbox, 'studio-shot'), posts, 'nothing is re-sent once stopped');

      sandbox.faults.clear();
      const resumed = await window.controller.resumeFollowing(intent.localId);
      assert.ok(resumed.runId);
      assert.strictEqual(resumed.stopped, undefined);
      assert.strictEqual(resumed.createFailingSince, undefined);
      const finished = await advanceUntil(time, 'the run to finish', () => finishedRecord(window.runs, intent.localId));
      assert.strictEqual(finished.status, 'completed');
      assert.strictEqual(sandbox.runs().filter((run) => run.idempotencyKey === intent.idempotencyKey).length, 1, 'one run, one charge');
    } finally {
      window.dispose();
    }
  });

  it("keeps a create's deadline across a reload: the re-activated window stops it at the original time", async () => {
    const time = new ManualTime(Date.now());
    const storage = storageFolder();
    refuseCreates();
    const first = await activateOver(storage, secrets, log, { time, bounds: BOUNDS });
    const firstTry = time.now;
    let localId: string;
    try {
      const intent = await first.controller.prepareRun('studio-shot', { product_image: IMAGE_URL });
      localId = intent.localId;
      await first.controller.create(localId).catch(() => undefined);
      assert.strictEqual(first.runs.get(localId)?.createFailingSince, firstTry, 'the first failure is on the record');
    } finally {
      first.dispose();
    }
    // The window reloads while half the bound passes; the new activation re-sends the create.
    await time.advance(BOUNDS.createRetryLimitMs / 2);
    const second = await activateOver(storage, secrets, log, { time, bounds: BOUNDS });
    try {
      const stopped = await advanceUntil(time, 'the re-activated window to stop the create', () => stoppedRecord(second.runs, localId));
      assert.strictEqual(stopped.stopped?.reason, 'createUnconfirmed');
      assert.strictEqual(stopped.stopped?.at, firstTry + BOUNDS.createRetryLimitMs, 'at the original deadline, not one a full bound later');
      assert.ok(postsTo(sandbox, 'studio-shot') > 0);
      assert.strictEqual(time.scheduled, 0, 'no re-send is scheduled');
    } finally {
      second.dispose();
    }
  });

  it('stops polling a run whose replies cannot be read, keeps its runId, and Resume Following completes it', async () => {
    const time = new ManualTime(Date.now());
    const window = await activateOver(storageFolder(), secrets, log, { time, bounds: BOUNDS });
    try {
      sandbox.faults.inject('poll', { kind: 'malformed' }, { slug: 'studio-shot', times: Number.POSITIVE_INFINITY });
      const started = await window.controller.startRun('studio-shot', { product_image: IMAGE_URL });
      const stopped = await advanceUntil(time, 'polling to stop', () => stoppedRecord(window.runs, started.localId));
      assert.strictEqual(stopped.stopped?.reason, 'unreadable');
      assert.strictEqual(stopped.runId, started.runId);
      assert.ok(['pending', 'running'].includes(stopped.status), stopped.status);
      assert.strictEqual(isLive(stopped), false);
      assert.strictEqual(window.runs.live().length, 0, 'a stopped run holds no lease and is not polled');
      assert.strictEqual(time.scheduled, 0, 'no poll is scheduled');

      sandbox.faults.clear();
      await window.controller.resumeFollowing(started.localId);
      const finished = await advanceUntil(time, 'the run to finish', () => finishedRecord(window.runs, started.localId));
      assert.strictEqual(finished.status, 'completed');
      assert.strictEqual(finished.outputs?.length, 1);
    } finally {
      window.dispose();
    }
  });

  it("shows in a run's tooltip what FLORA sent that could not be used, as inert text", async () => {
    const directory = storageFolder();
    const journal = new RunJournal(directory);
    const notes = [
      'chargedCost: expected a number of at least 0, got -5',
      'status: "[Open Terminal](command:workbench.action.terminal.new)" is not one of pending|running|completed|failed',
    ];
    await journal.save(runRecord({ status: 'running', progress: 40, replyNotes: notes }));
    const runs = new RunsStore(journal, 100);
    const tree = new RunsTree(runs);
    try {
      await runs.ready;
      const [node] = tree.getChildren();
      assert.ok(node, 'the run is listed');
      const { tooltip } = tree.resolveTreeItem(tree.getTreeItem(node), node);
      assert.ok(tooltip instanceof vscode.MarkdownString);
      const html = new MarkdownIt({ html: true, linkify: false }).render(tooltip.value);
      // appendText writes spaces as &nbsp;, which the parser turns into U+00A0.
      const text = html
        .replace(/<[^>]*>/g, '')
        .replace(/&quot;/g, '"')
        .replace(/\u00a0/g, ' ');
      assert.ok(text.includes('FLORA replied with fields that could not be used:'), text);
      assert.ok(text.includes(notes[0] ?? ''), text);
      assert.ok(text.includes('is not one of pending|running|completed|failed'), text);
      assert.ok(!/<a\b/.test(html), `no link in ${html}`);
    } finally {
      tree.dispose();
      runs.dispose();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  /** A sandbox whose runs stay queued or running for an hour, the extension pointed at it while `body` runs. */
  async function withSlowSandbox(body: (slow: Sandbox) => Promise<void>): Promise<void> {
    const slow = await sandboxForExtension({ runDurationMs: HOUR });
    try {
      await body(slow);
    } finally {
      await vscode.workspace.getConfiguration('flora').update('baseUrl', sandbox.url, vscode.ConfigurationTarget.Global);
      await slow.close();
    }
  }

  it('stops following a run FLORA still calls running a day after it was requested (tooLong); Resume follows it another day', async () => {
    await withSlowSandbox(async (slow) => {
      const time = new ManualTime(Date.now());
      const window = await activateOver(storageFolder(), secrets, log, { time, bounds: BOUNDS });
      try {
        const started = await window.controller.startRun('studio-shot', { product_image: IMAGE_URL });
        assert.ok(started.runId);
        await advanceUntil(time, 'a first poll', () => pollsOf(slow, started.runId) >= 1 || undefined);
        assert.strictEqual(stoppedRecord(window.runs, started.localId), undefined, 'followed within the bound');
        // A day passes without FLORA finishing the run (the default bound, 24 h): the bound is on the clock, so
        // one jump crosses it without 17 000 polls.
        time.now = started.startedLocallyAt + 24 * HOUR;
        const stopped = await advanceUntil(time, 'following to stop', () => stoppedRecord(window.runs, started.localId));
        assert.strictEqual(stopped.stopped?.reason, 'tooLong');
        assert.ok((stopped.stopped?.at ?? 0) >= started.startedLocallyAt + 24 * HOUR);
        assert.strictEqual(stopped.runId, started.runId);
        assert.ok(['pending', 'running'].includes(stopped.status), stopped.status);
        assert.strictEqual(stopped.explanation?.id, 'stoppedTooLong');
        assert.strictEqual(isLive(stopped), false);
        assert.strictEqual(time.scheduled, 0, 'no poll is scheduled');

        // Resumed: followed again, counted from the resume, so its first polls do not stop it again.
        const polls = pollsOf(slow, started.runId);
        await window.controller.resumeFollowing(started.localId);
        await advanceUntil(time, 'polls after the resume', () => pollsOf(slow, started.runId) >= polls + 3 || undefined);
        const resumed = window.runs.get(started.localId);
        assert.strictEqual(resumed?.stopped, undefined);
        assert.ok(resumed && isLive(resumed));
      } finally {
        window.dispose();
      }
    });
  });

  it('Stop Following stops polling a live run, keeps it and says nothing; Resume Following completes it once', async () => {
    const time = new ManualTime(Date.now());
    const window = await activateOver(storageFolder(), secrets, log, { time, bounds: BOUNDS });
    const { finished, stopped: announcedStops } = window.notices;
    try {
      const started = await window.controller.startRun('studio-shot', { product_image: IMAGE_URL });
      assert.ok(started.runId);
      const stopped = await window.controller.stopFollowing(started.localId);
      assert.strictEqual(stopped.stopped?.reason, 'byUser');
      assert.strictEqual(stopped.runId, started.runId);
      assert.strictEqual(stopped.explanation?.id, 'stoppedByUser');
      assert.strictEqual(isLive(stopped), false);
      assert.strictEqual(time.scheduled, 0, 'no poll is scheduled');
      const polls = pollsOf(sandbox, started.runId);
      await time.advance(HOUR);
      assert.strictEqual(pollsOf(sandbox, started.runId), polls, 'nothing is polled once stopped');
      assert.strictEqual(
        (await window.controller.stopFollowing(started.localId)).stopped?.at,
        stopped.stopped?.at,
        'stopping twice changes nothing',
      );
      assert.deepStrictEqual(announcedStops, [], 'the user stopped it: no notice');

      await window.controller.resumeFollowing(started.localId);
      const done = await advanceUntil(time, 'the run to finish', () => finishedRecord(window.runs, started.localId));
      assert.strictEqual(done.status, 'completed');
      assert.strictEqual(done.stopped, undefined);
      assert.strictEqual(done.outputs?.length, 1);
      assert.strictEqual(finished.length, 1, 'announced as finished once');
      assert.strictEqual(sandbox.runs().filter((run) => run.idempotencyKey === started.idempotencyKey).length, 1, 'one run, one charge');
    } finally {
      window.dispose();
    }
  });

  it('flora.stopFollowing takes a runId or { runId } and stops a run the extension follows; flora.resumeRun follows it again', async () => {
    await withSlowSandbox(async (slow) => {
      const api = await floraApi();
      const result = api.runTechnique('studio-shot', { product_image: IMAGE_URL });
      const live = await waitFor('the run to be created', () =>
        api.getRuns().find((record) => slow.runs().some((run) => run.runId === record.runId) && !record.stopped),
      );
      await vscode.commands.executeCommand('flora.stopFollowing', live.runId);
      const stopped = await result;
      assert.strictEqual(stopped.runId, live.runId);
      assert.strictEqual(stopped.stopped?.reason, 'byUser');
      assert.match(stopped.stopped?.message ?? '', /You stopped following run/);

      const polls = pollsOf(slow, live.runId);
      await vscode.commands.executeCommand('flora.resumeRun', live.runId);
      await waitFor('polls after the resume', () => pollsOf(slow, live.runId) > polls || undefined);
      assert.strictEqual(api.getRuns().find((record) => record.runId === live.runId)?.stopped, undefined);
      await vscode.commands.executeCommand('flora.stopFollowing', { runId: live.runId });
      const again = await waitFor('the run to be stopped again', () =>
        api.getRuns().find((record) => record.runId === live.runId && record.stopped),
      );
      assert.strictEqual(again.stopped?.reason, 'byUser');
    });
  });

  it('sends nothing through a configured proxy to a loopback base URL, and goes through it once flora.baseUrl is remote', async () => {
    const proxy = await startProxy();
    // As extension.ts builds it, with VS Code's http.proxy pointing at the loopback proxy.
    const session = await activateOver(storageFolder(), secrets, log, { start: false, proxyUrl: proxy.url });
    const { catalog, controller, settings } = session;
    const configuration = () => vscode.workspace.getConfiguration('flora');
    try {
      const from = sandbox.requests.length;
      await catalog.get('studio-shot', { refresh: true });
      const started = await controller.startRun('studio-shot', { product_image: IMAGE_URL });
      assert.ok(started.runId, 'created');
      assert.strictEqual(proxy.seen.length, 0, `the proxy saw no request: ${proxy.seen.join(', ')}`);
      assert.deepStrictEqual(proxy.authorizations, [], 'nor the key');
      const keyed = sandbox.requests.slice(from).filter((request) => request.authorization === `Bearer ${sandbox.apiKey}`);
      assert.strictEqual(keyed.length, 2, 'the sandbox got both requests (details, create), with the key');

      // A remote base URL goes through the proxy: the dispatcher is made again for the new base URL.
      await configuration().update('baseUrl', 'https://flora.test', vscode.ConfigurationTarget.Global);
      await waitFor('the settings to hold the new base URL', () => settings.current.baseUrl === 'https://flora.test' || undefined);
      await assert.rejects(catalog.get('studio-shot', { refresh: true }));
      assert.ok(proxy.seen.includes('CONNECT flora.test:443'), proxy.seen.join(', '));

      // And back: direct again.
      proxy.seen.length = 0;
      await configuration().update('baseUrl', sandbox.url, vscode.ConfigurationTarget.Global);
      await waitFor('the settings to hold the sandbox base URL', () => settings.current.baseUrl === sandbox.url || undefined);
      await catalog.get('studio-shot', { refresh: true });
      assert.deepStrictEqual(proxy.seen, []);
    } finally {
      await configuration().update('baseUrl', sandbox.url, vscode.ConfigurationTarget.Global);
      session.dispose();
      await proxy.close();
    }
  });
});
