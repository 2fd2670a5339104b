// What happens across a deactivate/activate (a window reload, a host restart): the runs store reads the
// history back, and a fresh FLORA service picks up every unfinished run — re-sending a create that may or
// may not have reached FLORA with the same idempotency key (so it is created once), and polling live runs
// to completion. Built from the extension's own modules over real VS Code APIs, against the sandbox.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunRecord } from '../../../src/core/runs';
import { FloraService } from '../../../src/services/floraService';
import { KeyStore } from '../../../src/services/keyStore';
import { Log } from '../../../src/services/log';
import { RunsStore } from '../../../src/services/runsStore';
import type { Sandbox } from '../../sandbox/server';
import { IMAGE_URL, sandboxForExtension, waitFor } from './helpers';

/** globalState as VS Code keeps it between sessions: a key-value map. */
class MemoryMemento implements vscode.Memento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, defaultValue?: T): T {
    return (this.values.has(key) ? this.values.get(key) : defaultValue) as T;
  }
  update(key: string, value: unknown): Thenable<void> {
    this.values.set(key, JSON.parse(JSON.stringify(value)) as unknown);
    return Promise.resolve();
  }
}

class MemorySecrets implements vscode.SecretStorage {
  private readonly values = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.SecretStorageChangeEvent>();
  readonly onDidChange = this.changed.event;
  get(key: string): Thenable<string | undefined> {
    return Promise.resolve(this.values.get(key));
  }
  store(key: string, value: string): Thenable<void> {
    this.values.set(key, value);
    this.changed.fire({ key });
    return Promise.resolve();
  }
  delete(key: string): Thenable<void> {
    this.values.delete(key);
    this.changed.fire({ key });
    return Promise.resolve();
  }
}

interface Session {
  runs: RunsStore;
  service: FloraService;
  dispose(): void;
}

/** One "activation": the stores and service over the given persistent state. */
async function activateOver(memento: vscode.Memento, secrets: vscode.SecretStorage, log: Log): Promise<Session> {
  const keys = new KeyStore(secrets);
  const runs = new RunsStore(memento, 200);
  const service = new FloraService({ keys, runs, log, memento, userAgent: 'flora-vscode-test' });
  await keys.get();
  return {
    runs,
    service,
    dispose: () => {
      service.dispose();
      runs.dispose();
      keys.dispose();
    },
  };
}

describe('runs across deactivate and activate', () => {
  let sandbox: Sandbox;
  const log = new Log();

  before(async () => {
    sandbox = await sandboxForExtension({ runDurationMs: 4_000 });
  });

  after(async () => {
    log.dispose();
    await sandbox.close();
  });

  afterEach(() => sandbox.faults.clear());

  it('keeps the history and resumes a live run to completion after a restart', async () => {
    const memento = new MemoryMemento();
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    const first = await activateOver(memento, secrets, log);
    const started = await first.service.startRun('studio-shot', { product_image: IMAGE_URL });
    assert.ok(started.runId);
    assert.ok(['pending', 'running'].includes(started.status));
    // Deactivate mid-run: everything is disposed, polling stops.
    first.dispose();
    const saved = (memento.get<RunRecord[]>('flora.runs.v1') ?? []).find((record) => record.localId === started.localId);
    assert.strictEqual(saved?.runId, started.runId, 'the run was persisted with its runId');

    const second = await activateOver(memento, secrets, log);
    try {
      assert.ok(second.runs.get(started.localId), 'the history is read back');
      second.service.resumeLiveRuns();
      const finished = await second.service.waitForRun(started.localId);
      assert.strictEqual(finished.status, 'completed');
      assert.strictEqual(finished.outputs?.length, 1);
      assert.strictEqual(sandbox.runs().filter((run) => run.runId === started.runId).length, 1);
    } finally {
      second.dispose();
    }
  });

  it('re-sends an interrupted create with the same idempotency key: one run, one charge', async () => {
    const memento = new MemoryMemento();
    const secrets = new MemorySecrets();
    await secrets.store('flora.apiKey', sandbox.apiKey);
    const first = await activateOver(memento, secrets, log);
    // The intent is recorded; the create reaches FLORA, which creates the run, but the reply is lost and
    // the window goes away before any retry.
    const intent = await first.service.prepareRun('relight-technique', { photo: IMAGE_URL, lighting_prompt: 'golden hour' });
    sandbox.faults.inject('create', { kind: 'dropAfter' }, { slug: 'relight-technique', times: Number.POSITIVE_INFINITY });
    const controller = new AbortController();
    const sending = first.service.create(intent.localId, controller.signal).catch(() => undefined);
    await waitFor('the create to reach the sandbox', () => sandbox.runs().find((run) => run.idempotencyKey === intent.idempotencyKey));
    controller.abort();
    await sending;
    first.dispose();
    sandbox.faults.clear();
    const chargesBefore = sandbox.charges();

    const second = await activateOver(memento, secrets, log);
    try {
      const reloaded = second.runs.get(intent.localId);
      assert.strictEqual(reloaded?.status, 'creating', 'the run is still an unfinished intent after the restart');
      second.service.resumeLiveRuns();
      const finished = await second.service.waitForRun(intent.localId);
      assert.strictEqual(finished.status, 'completed');
      const matching = sandbox.runs().filter((run) => run.idempotencyKey === intent.idempotencyKey);
      assert.strictEqual(matching.length, 1, 'created exactly once');
      assert.strictEqual(finished.runId, matching[0]?.runId);
      assert.strictEqual(sandbox.charges(), chargesBefore + 1, 'charged exactly once');
    } finally {
      second.dispose();
    }
  });
});
