// The run journal and the polling lease: what lets several windows share runs without losing or
// double-polling one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { RunJournal } from '../../../src/core/journal';
import { FileLease } from '../../../src/core/lease';
import type { RunRecord } from '../../../src/core/runs';

function record(localId: string, change: Partial<RunRecord> = {}): RunRecord {
  return {
    localId,
    idempotencyKey: localId,
    runId: undefined,
    slug: 'studio-shot',
    techniqueName: 'Studio Shot',
    inputs: [{ id: 'product_image', type: 'imageUrl', value: 'https://media.flora.ai/a.png' }],
    status: 'creating',
    progress: 0,
    startedLocallyAt: 1,
    updatedAt: 1,
    ...change,
  };
}

describe('core/journal', () => {
  let directory: string;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-journal-'));
  });

  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('reads back what it wrote, one file per run, and nothing from an empty or missing folder', async () => {
    assert.deepEqual(await new RunJournal(path.join(directory, 'missing')).load(), []);
    const journal = new RunJournal(directory);
    await journal.save(record('a'));
    await journal.save(record('b/with slash', { status: 'running', runId: 'j57x', progress: 40 }));
    const loaded = (await journal.load()).sort((x, y) => x.localId.localeCompare(y.localId));
    assert.deepEqual(
      loaded.map((entry) => entry.localId),
      ['a', 'b/with slash'],
    );
    assert.equal(loaded[1]?.progress, 40);
    assert.equal(fs.readdirSync(directory).filter((name) => name.endsWith('.tmp')).length, 0, 'no temporary files left');
    await journal.delete('a');
    assert.equal(await journal.read('a'), undefined);
  });

  it('skips damaged entries and logs them instead of failing', async () => {
    const warnings: string[] = [];
    const journal = new RunJournal(directory, (level, message) => level === 'warn' && warnings.push(message));
    await journal.save(record('good'));
    fs.writeFileSync(path.join(directory, 'broken.json'), '{"localId": "broken", ');
    fs.writeFileSync(path.join(directory, 'alien.json'), '{"hello": "world"}');
    const loaded = await journal.load();
    assert.deepEqual(
      loaded.map((entry) => entry.localId),
      ['good'],
    );
    assert.equal(warnings.length, 2);
  });

  it('tells a watcher which run another writer changed', async () => {
    const reader = new RunJournal(directory);
    const writer = new RunJournal(directory);
    const seen: string[] = [];
    const watch = reader.watch((localId) => seen.push(localId));
    try {
      await writer.save(record('from-another-window'));
      const deadline = Date.now() + 3_000;
      while (!seen.includes('from-another-window') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(seen.includes('from-another-window'), `watcher saw ${JSON.stringify(seen)}`);
    } finally {
      watch.dispose();
    }
  });
});

describe('core/journal watching a folder that does not exist yet', () => {
  it('creates nothing, and reports runs once another writer creates the folder', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-journal-'));
    const directory = path.join(parent, 'runs');
    const seen: string[] = [];
    const watch = new RunJournal(directory).watch((localId) => seen.push(localId), { retryMs: 50 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 120));
      assert.equal(fs.existsSync(directory), false, 'watching wrote nothing');
      await new RunJournal(directory).save(record('first-run'));
      const deadline = Date.now() + 3_000;
      while (!seen.includes('first-run') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(seen.includes('first-run'));
    } finally {
      watch.dispose();
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('core/lease', () => {
  let directory: string;
  let now = 1_000;
  const clock = () => now;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-lease-'));
    now = 1_000;
  });

  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('gives the lease to one holder at a time', () => {
    const file = path.join(directory, 'poller.lease');
    const first = new FileLease(file, { ttlMs: 10_000, now: clock });
    const second = new FileLease(file, { ttlMs: 10_000, now: clock });
    assert.equal(first.acquireOrRenew(), true);
    assert.equal(second.acquireOrRenew(), false);
    now += 5_000;
    assert.equal(first.acquireOrRenew(), true, 'the holder renews');
    now += 9_000;
    assert.equal(second.acquireOrRenew(), false, 'renewed, so not yet expired');
  });

  it('passes to another holder when the holder releases it or stops renewing', () => {
    const file = path.join(directory, 'poller.lease');
    const first = new FileLease(file, { ttlMs: 10_000, now: clock });
    const second = new FileLease(file, { ttlMs: 10_000, now: clock });
    const third = new FileLease(file, { ttlMs: 10_000, now: clock });
    assert.equal(first.acquireOrRenew(), true);
    first.release();
    assert.equal(first.isHeld, false);
    assert.equal(second.acquireOrRenew(), true, 'released: taken at once');
    now += 10_001;
    assert.equal(third.acquireOrRenew(), true, 'expired: taken over');
    assert.equal(second.acquireOrRenew(), false, 'the old holder learns it lost the lease');
  });
});
