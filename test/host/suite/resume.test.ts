// What happens across a deactivate/activate (a window reload, a host restart): the runs store reads the
// history back, and a fresh FLORA service picks up every unfinished run — re-sending a create that may or
// may not have reached FLORA with the same idempotency key (so it is created once), and polling live runs
// to completion. Built from the extension's own modules over real VS Code APIs, against the sandbox.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunJournal } from '../../../src/core/journal';
import { Log } from '../../../src/services/log';
import type { Sandbox } from '../../sandbox/server';
import { runRecord } from '../../common/records';
import { activateOver, IMAGE_URL, MemorySecrets, sandboxForExtension, waitFor } from './helpers';

describe('runs across deactivate and activate', () => {
  let sandbox: Sandbox;
  const log = new Log('FLORA (resume tests)');

  before(async () => {
    sandbox = await sandboxForExtension({ runDurationMs: 4_000 });
  });

  after(async () => {
    log.dispose();
    await sandbox.close();
  });

  afterEach(() => sandbox.faults.clear());

  it('keeps the history and resumes a live run to completion after a restart', async () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-storage-'));
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    const first = await activateOver(storage, secrets, log);
    const started = await first.controller.startRun('studio-shot', { product_image: IMAGE_URL });
    assert.ok(started.runId);
    assert.ok(['pending', 'running'].includes(started.status));
    // Deactivate mid-run: everything is disposed, polling stops.
    first.dispose();
    const saved = await new RunJournal(path.join(storage, 'runs')).read(started.localId);
    assert.strictEqual(saved?.runId, started.runId, 'the run was journaled with its runId');

    const second = await activateOver(storage, secrets, log);
    try {
      assert.ok(second.runs.get(started.localId), 'the history is read back');
      const finished = await second.controller.waitForRun(started.localId);
      assert.strictEqual(finished.status, 'completed');
      assert.strictEqual(finished.outputs?.length, 1);
      assert.strictEqual(sandbox.runs().filter((run) => run.runId === started.runId).length, 1);
    } finally {
      second.dispose();
    }
  });

  it('re-sends an interrupted create with the same idempotency key: one run, one charge', async () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-storage-'));
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    const first = await activateOver(storage, secrets, log);
    // The intent is recorded; the create reaches FLORA, which creates the run, but the reply is lost and
    // the window goes away before any retry.
    const intent = await first.controller.prepareRun('relight-technique', { photo: IMAGE_URL, lighting_prompt: 'golden hour' });
    sandbox.faults.inject('create', { kind: 'dropAfter' }, { slug: 'relight-technique', times: Number.POSITIVE_INFINITY });
    const controller = new AbortController();
    const sending = first.controller.create(intent.localId, controller.signal).catch(() => undefined);
    await waitFor('the create to reach the sandbox', () => sandbox.runs().find((run) => run.idempotencyKey === intent.idempotencyKey));
    controller.abort();
    await sending;
    first.dispose();
    sandbox.faults.clear();
    const chargesBefore = sandbox.charges();

    const stored = await new RunJournal(path.join(storage, 'runs')).read(intent.localId);
    assert.strictEqual(stored?.status, 'creating', 'the run is still an unfinished intent after the restart');
    const second = await activateOver(storage, secrets, log);
    try {
      const finished = await second.controller.waitForRun(intent.localId);
      assert.strictEqual(finished.status, 'completed');
      const matching = sandbox.runs().filter((run) => run.idempotencyKey === intent.idempotencyKey);
      assert.strictEqual(matching.length, 1, 'created exactly once');
      assert.strictEqual(finished.runId, matching[0]?.runId);
      assert.strictEqual(sandbox.charges(), chargesBefore + 1, 'charged exactly once');
    } finally {
      second.dispose();
    }
  });

  it('shares runs between windows: one window polls, another takes over when it goes away', async () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-storage-'));
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    const windowA = await activateOver(storage, secrets, log);
    const windowB = await activateOver(storage, secrets, log);
    let windowBClosed = false;
    try {
      assert.strictEqual(
        windowA.coordinator.isPolling || windowB.coordinator.isPolling,
        false,
        'with nothing live, nobody holds the lease',
      );
      const started = await windowB.controller.startRun('studio-shot', { product_image: IMAGE_URL });
      // The run started in B shows in A through the journal; exactly one window polls it (B took the lease).
      await waitFor('window A to see the run', () => windowA.runs.get(started.localId));
      await waitFor('one polling window', () => windowB.coordinator.isPolling);
      assert.strictEqual(windowA.coordinator.isPolling, false);
      const pollsBefore = sandbox.requests.filter(
        (request) => request.method === 'GET' && request.path.endsWith(`/runs/${started.runId}`),
      ).length;
      // B goes away mid-run; A takes over the lease and finishes the run.
      windowB.dispose();
      windowBClosed = true;
      await waitFor('window A to take over polling', () => windowA.coordinator.isPolling, 10_000);
      const finished = await windowA.controller.waitForRun(started.localId);
      assert.strictEqual(finished.status, 'completed');
      const polls = sandbox.requests.filter((request) => request.method === 'GET' && request.path.endsWith(`/runs/${started.runId}`));
      assert.ok(polls.length > pollsBefore, 'window A polled after taking over');
      assert.strictEqual(sandbox.runs().filter((run) => run.runId === started.runId).length, 1);
      const journal = new RunJournal(path.join(storage, 'runs'));
      await waitFor(
        'the journal to record the completion',
        async () => (await journal.read(started.localId))?.status === 'completed' || undefined,
      );
    } finally {
      windowA.dispose();
      if (!windowBClosed) windowB.dispose();
    }
  });

  it('polls a run from one window at a time', async () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-storage-'));
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    const windows = [
      await activateOver(storage, secrets, log),
      await activateOver(storage, secrets, log),
      await activateOver(storage, secrets, log),
    ];
    try {
      const started = await windows[2].controller.startRun('studio-shot', { product_image: IMAGE_URL });
      await waitFor('a polling window', () => windows.some((window) => window.coordinator.isPolling));
      assert.strictEqual(windows.filter((window) => window.coordinator.isPolling).length, 1);
      await waitFor('the first window to see the run', () => windows[0]?.runs.get(started.localId));
      await windows[0].controller.waitForRun(started.localId);
      const polls = sandbox.requests
        .filter((request) => request.method === 'GET' && request.path.endsWith(`/runs/${started.runId}`))
        .map((request) => request.at);
      for (let index = 1; index < polls.length; index++) {
        assert.ok(
          polls[index] - polls[index - 1] >= 1_900,
          `two polls ${polls[index] - polls[index - 1]} ms apart: more than one window polls`,
        );
      }
    } finally {
      for (const window of windows) window.dispose();
    }
  });

  it("forgets a window's connection state for a run once another window wrote the run last", async () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-storage-'));
    const secrets = new MemorySecrets();
    const windowA = await activateOver(storage, secrets, log, { start: false });
    const windowB = await activateOver(storage, secrets, log, { start: false });
    try {
      const live = runRecord({ status: 'running', progress: 10, updatedAt: Date.now() });
      await windowA.runs.put(live, { durable: true });
      windowA.runs.setConnection(live.localId, { state: 'offline', message: 'unreachable' });
      assert.strictEqual(windowA.runs.publicRecord(live).connection, 'offline');
      await waitFor('window B to read the run', () => windowB.runs.get(live.localId));
      // Window B took over and polled it: its write is the news, A's "offline" is not.
      await windowB.runs.update(live.localId, { progress: 60 }, { durable: true, connection: { state: 'ok' } });
      await waitFor('window A to read B’s write', () => windowA.runs.get(live.localId)?.progress === 60);
      assert.strictEqual(windowA.runs.connectionOf(live.localId), undefined);
    } finally {
      windowA.dispose();
      windowB.dispose();
    }
  });

  it('records the runId of a create answered after the window closed, and nothing else', async () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-storage-'));
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    const window = await activateOver(storage, secrets, log);
    const intent = await window.controller.prepareRun('studio-shot', { product_image: IMAGE_URL });
    sandbox.faults.inject('create', { kind: 'delay', ms: 1_000 }, { slug: 'studio-shot' });
    const sending = window.controller.create(intent.localId);
    await waitFor('the create to reach the sandbox', () => sandbox.runs().find((run) => run.idempotencyKey === intent.idempotencyKey));
    window.dispose();
    const created = await sending;
    assert.ok(created.runId, 'the create resolved with its runId');
    const stored = await new RunJournal(path.join(storage, 'runs')).read(intent.localId);
    assert.strictEqual(stored?.runId, created.runId, 'the runId is on disk for the next activation');
    assert.strictEqual(stored?.createFailingSince, undefined, 'a closed window is not a failing create');
  });
});
