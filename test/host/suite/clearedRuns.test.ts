/**
 * Clear Finished Runs and the daily budget: clearing the history takes runs out of every view, in every
 * window, but never forgets what today's runs cost. Real journals on disk, two stores over one (two
 * windows), the real gate and the Runs view's description.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunJournal } from '../../../src/core/journal';
import { clearedRecord } from '../../../src/core/runs';
import { BudgetGate } from '../../../src/services/budgetGate';
import { RunsStore } from '../../../src/services/runsStore';
import type { Settings } from '../../../src/services/settings';
import { runsViewDescription } from '../../../src/views/runLabels';
import { runRecord } from '../../common/records';
import { waitFor } from './helpers';

const HOUR_MS = 3_600_000;

describe('Clear Finished Runs and the daily budget', () => {
  const budget = { current: { creditsPerDay: 10 } } as unknown as Settings;

  it("clears every finished run from the views of both windows, yet the budget and today's credits still count them", async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-cleared-'));
    const here = new RunsStore(new RunJournal(directory), 100);
    const there = new RunsStore(new RunJournal(directory), 100);
    try {
      await Promise.all([here.ready, there.ready]);
      const now = Date.now();
      const charged = runRecord({
        localId: 'charged',
        status: 'completed',
        chargedCost: 6,
        runCost: 6,
        startedLocallyAt: now - 60_000,
        updatedAt: now - 30_000,
        completedAt: now - 30_000,
        inputs: [{ id: 'prompt', type: 'text', value: 'a private prompt' }],
        outputs: [{ type: 'imageUrl', url: 'https://media.flora.ai/out/a.png' }],
      });
      const failed = runRecord({ localId: 'failed', status: 'failed', startedLocallyAt: now - 50_000, updatedAt: now - 40_000 });
      const old = runRecord({
        localId: 'old',
        status: 'completed',
        chargedCost: 3,
        startedLocallyAt: now - 50 * HOUR_MS,
        updatedAt: now - 50 * HOUR_MS,
      });
      const live = runRecord({
        localId: 'live',
        status: 'running',
        progress: 40,
        runCost: 2,
        startedLocallyAt: now - 5_000,
        updatedAt: now - 5_000,
      });
      for (const record of [charged, failed, old, live]) await here.put(record, { durable: true });
      await waitFor('the other window reads the four runs', () => there.all().length === 4);
      const gate = new BudgetGate({ runs: here, settings: budget, prompt: async () => false });
      const before = gate.standing(3);
      assert.deepStrictEqual([before.charged, before.pending], [6, 2]);
      assert.strictEqual(runsViewDescription(here.spending(), now), '6 credits today');

      assert.strictEqual(await here.removeFinished(now), 3, 'three finished runs cleared');
      assert.deepStrictEqual(
        here.all().map((record) => record.localId),
        ['live'],
        'only the live run is shown',
      );
      assert.strictEqual(here.get('charged'), undefined);
      assert.strictEqual(here.findByRunId(charged.runId ?? ''), undefined);
      assert.deepStrictEqual(gate.standing(3), before, 'the budget stands where it stood');
      assert.strictEqual(runsViewDescription(here.spending(), now), '6 credits today');
      await assert.rejects(
        gate.admit({ techniqueName: 'Studio Shot', cost: 3 }),
        /daily budget/,
        'still past the budget: the person is asked (and declined)',
      );

      // The other window: the cleared run leaves its views, and its gate counts it too.
      await waitFor('the other window shows only the live run', () => there.all().length === 1);
      const elsewhere = new BudgetGate({ runs: there, settings: budget });
      assert.strictEqual(elsewhere.standing().charged, 6);

      // On disk: the charged run is kept without what the user cleared; the others are gone.
      const files = fs.readdirSync(directory).sort();
      assert.deepStrictEqual(files, ['charged.json', 'live.json']);
      const stored = fs.readFileSync(path.join(directory, 'charged.json'), 'utf8');
      assert.doesNotMatch(stored, /private prompt|media\.flora\.ai/);
      assert.strictEqual((JSON.parse(stored) as { cleared?: unknown }).cleared, true);

      // A late write from work begun before the clear brings nothing back.
      await here.put({ ...charged, acknowledged: true }, { durable: true });
      assert.strictEqual(here.get('charged'), undefined);
      assert.strictEqual(await here.update('charged', { acknowledged: true }), undefined);
      await here.put(failed, { durable: true });
      assert.strictEqual(here.get('failed'), undefined, 'nor does one for a run the clear deleted');
      assert.ok(!fs.existsSync(path.join(directory, 'failed.json')));
      assert.doesNotMatch(fs.readFileSync(path.join(directory, 'charged.json'), 'utf8'), /private prompt/);

      // Another window that wrote the run before it saw the clear (its full record, newer): the clear wins,
      // on disk too.
      const settledThere: boolean[] = [];
      const listening = there.onDidSettle((record) => settledThere.push(record.cleared === true));
      await new RunJournal(directory).save({ ...charged, acknowledged: true, updatedAt: Date.now() + 5 });
      await waitFor('the cleared record is written again', () => {
        const text = fs.readFileSync(path.join(directory, 'charged.json'), 'utf8');
        return !text.includes('private prompt') && (JSON.parse(text) as { cleared?: unknown }).cleared === true;
      });
      assert.strictEqual(here.get('charged'), undefined);
      await waitFor('the other window keeps it cleared', () => there.all().every((record) => record.localId !== 'charged'));
      listening.dispose();
      assert.ok(!settledThere.includes(true), 'no window announces how a cleared run ended');

      // A window that acknowledged the failed run before it saw the delete writes it again: it goes again.
      await new RunJournal(directory).save({ ...failed, acknowledged: true, updatedAt: Date.now() + 5 });
      await waitFor('the deleted run is deleted again', () => !fs.existsSync(path.join(directory, 'failed.json')));
      assert.strictEqual(here.get('failed'), undefined);

      // A window opened later reads the journal: the run stays out of view and in the budget.
      const later = new RunsStore(new RunJournal(directory), 100);
      try {
        await later.ready;
        assert.deepStrictEqual(
          later.all().map((record) => record.localId),
          ['live'],
        );
        assert.strictEqual(new BudgetGate({ runs: later, settings: budget }).standing().charged, 6);
      } finally {
        later.dispose();
      }
    } finally {
      here.dispose();
      there.dispose();
    }
  });

  it("dates a finished run by this machine's clock, whatever completedAt FLORA sent", async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-cleared-'));
    const runs = new RunsStore(new RunJournal(directory), 100);
    try {
      await runs.ready;
      const started = Date.now();
      await runs.put(runRecord({ localId: 'dated', status: 'running', progress: 50, startedLocallyAt: started, updatedAt: started }), {
        durable: true,
      });
      const before = Date.now();
      const finished = await runs.update('dated', { status: 'completed', chargedCost: 5, completedAt: 0 });
      assert.ok(
        finished?.finishedLocallyAt !== undefined && finished.finishedLocallyAt >= before && finished.finishedLocallyAt <= Date.now(),
      );
      assert.strictEqual(new BudgetGate({ runs, settings: budget }).standing().charged, 5, 'a completedAt of 0 dates nothing out of today');
      const later = await runs.update('dated', { acknowledged: true });
      assert.strictEqual(later?.finishedLocallyAt, finished.finishedLocallyAt, 'a later change keeps the date');

      // A create refused late one day and retried the next: its charge is dated by the second finish.
      await runs.put(
        runRecord({
          localId: 'retried',
          runId: undefined,
          status: 'failed',
          startedLocallyAt: started - 50 * HOUR_MS,
          updatedAt: started - 49 * HOUR_MS,
          finishedLocallyAt: started - 49 * HOUR_MS,
        }),
        { durable: true },
      );
      await runs.update('retried', { status: 'creating' });
      const retried = await runs.update('retried', { status: 'completed', runId: 'j57retried', chargedCost: 7 });
      assert.ok(retried?.finishedLocallyAt !== undefined && retried.finishedLocallyAt >= before, 'stamped again when it finished again');
      assert.strictEqual(new BudgetGate({ runs, settings: budget }).standing().charged, 12);
    } finally {
      runs.dispose();
    }
  });

  it('drops a cleared run from the journal once it no longer counts, two days after it finished', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-cleared-'));
    const runs = new RunsStore(new RunJournal(directory), 100);
    try {
      await runs.ready;
      const now = Date.now();
      const finishedAt = now - 47 * HOUR_MS;
      await runs.put(
        runRecord({
          localId: 'days-ago',
          chargedCost: 4,
          startedLocallyAt: finishedAt - 1_000,
          updatedAt: finishedAt,
          completedAt: finishedAt,
        }),
        { durable: true },
      );
      await runs.removeFinished(now);
      assert.deepStrictEqual(fs.readdirSync(directory), ['days-ago.json']);
      assert.deepStrictEqual(
        runs.spending().map((record) => [record.localId, record.cleared]),
        [['days-ago', true]],
      );
      // A run finishing prunes the history, which keeps the cleared run within its two days; the next clear, two
      // hours on, finds it past them and deletes it.
      await runs.put(runRecord({ localId: 'new', startedLocallyAt: now, updatedAt: now, completedAt: now }), { durable: true });
      assert.ok(fs.readdirSync(directory).includes('days-ago.json'), 'still within its two days');
      assert.strictEqual(await runs.removeFinished(now + 2 * HOUR_MS), 1, 'the new run is cleared; the old one was already');
      assert.deepStrictEqual(fs.readdirSync(directory), [], 'the cleared run past its two days is deleted, the new one with no charge too');
      assert.deepStrictEqual(runs.spending(), []);
    } finally {
      runs.dispose();
    }
  });

  it("keeps a run another window made live again after this window's copy was read, and writes back a live run deleted by mistake", async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-cleared-'));
    // A window whose watcher is slow: it has not heard of the other window's write when it clears.
    class SlowToHear extends RunJournal {
      override watch(): { dispose(): void } {
        return { dispose: () => undefined };
      }
    }
    const now = Date.now();
    const failed = runRecord({ localId: 'retried', status: 'failed', startedLocallyAt: now - 60_000, updatedAt: now - 50_000 });
    await new RunJournal(directory).save(failed);
    const here = new RunsStore(new SlowToHear(directory), 100);
    try {
      await here.ready;
      assert.strictEqual(here.get('retried')?.status, 'failed');
      // The other window retries its create under the same id (live, newer).
      await new RunJournal(directory).save({ ...failed, status: 'creating', updatedAt: now });
      assert.strictEqual(await here.removeFinished(now), 1, 'cleared by its copy');
      assert.ok(fs.existsSync(path.join(directory, 'retried.json')), 'the live run on disk is not deleted');
      await waitFor('this window reads it back, live', () => here.get('retried')?.status === 'creating');

      // Its file removed behind its back (a trim from an older copy, elsewhere): a live run is written back.
      const live = runRecord({ localId: 'live', status: 'running', progress: 10, startedLocallyAt: now, updatedAt: now });
      const watching = new RunsStore(new RunJournal(directory), 100);
      try {
        await watching.ready;
        await watching.put(live, { durable: true });
        fs.rmSync(path.join(directory, 'live.json'));
        await waitFor('the live run is written back', () => fs.existsSync(path.join(directory, 'live.json')));
        assert.strictEqual(watching.get('live')?.status, 'running');
      } finally {
        watching.dispose();
      }
    } finally {
      here.dispose();
    }
  });

  it('remembers a bounded number of deletes, the oldest forgotten first', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-cleared-'));
    const runs = new RunsStore(new RunJournal(directory), 100, { deletesRemembered: 2 });
    try {
      await runs.ready;
      const now = Date.now();
      const old = (localId: string, minutes: number) =>
        runRecord({ localId, status: 'failed', startedLocallyAt: now - minutes * 60_000, updatedAt: now - minutes * 60_000 });
      const records = [old('first', 30), old('second', 20), old('third', 10)];
      for (const record of records) await runs.put(record, { durable: true });
      assert.strictEqual(await runs.removeFinished(now), 3);
      // Late writes of each as it was (a window that had not seen the clear): the two deleted last stay
      // deleted; the one deleted first (the newest run: a clear goes newest first), forgotten, is news again.
      for (const record of records) await runs.put(record, { durable: true });
      assert.deepStrictEqual(
        runs.all().map((record) => record.localId),
        ['third'],
      );
      await waitFor('the journal holds it', () => fs.existsSync(path.join(directory, 'third.json')));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepStrictEqual(
        runs.all().map((record) => record.localId),
        ['third'],
        "the delete's late event does not take the written run out of memory",
      );
    } finally {
      runs.dispose();
    }
  });

  it('drops a cleared run past its two days as a window opens, without waiting for a change', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-cleared-'));
    const now = Date.now();
    const finished = (localId: string, hoursAgo: number) =>
      clearedRecord(
        runRecord({
          localId,
          chargedCost: 4,
          startedLocallyAt: now - hoursAgo * HOUR_MS - 1_000,
          updatedAt: now - hoursAgo * HOUR_MS,
          finishedLocallyAt: now - hoursAgo * HOUR_MS,
        }),
        now - hoursAgo * HOUR_MS,
      );
    const journal = new RunJournal(directory);
    await journal.save(finished('three-days-ago', 72));
    await journal.save(finished('an-hour-ago', 1));
    const runs = new RunsStore(new RunJournal(directory), 100);
    try {
      await runs.ready;
      assert.deepStrictEqual(fs.readdirSync(directory), ['an-hour-ago.json'], 'only the run that still counts is kept');
      assert.deepStrictEqual(
        runs.spending().map((record) => record.localId),
        ['an-hour-ago'],
      );
    } finally {
      runs.dispose();
    }
  });
});
