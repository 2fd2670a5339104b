/** The daily budget's arithmetic: what today's runs cost or may still cost, and when one more run passes it. */
import * as assert from 'node:assert/strict';

import fc from 'fast-check';
import { budgetStanding, passesBudget } from '../../../src/core/budget';
import { clearedRecord, countsTowardsBudget, type RunRecord, type RunState } from '../../../src/core/runs';
import { runRecord } from '../../common/records';

const NOON = new Date(2026, 11, 2, 12, 0, 0).getTime();
const HOUR = 60 * 60 * 1000;

function run(status: RunState, at: number, runCost: number, chargedCost?: number, extra: Partial<RunRecord> = {}): RunRecord {
  return runRecord({
    status,
    startedLocallyAt: at,
    updatedAt: at,
    runCost,
    ...(chargedCost === undefined ? {} : { chargedCost, completedAt: at }),
    ...extra,
  });
}

describe('the daily budget', () => {
  it('counts what was charged today and what runs still going may cost', () => {
    const records = [
      run('completed', NOON - HOUR, 5, 5),
      run('completed', NOON - 30 * HOUR, 5, 5), // yesterday: not today's spending
      run('running', NOON - 60_000, 10), // may still be charged
      run('failed', NOON - 2 * HOUR, 5), // failed uncharged: nothing
      run('running', NOON - 3 * HOUR, 7, undefined, { stopped: { at: NOON - HOUR, reason: 'byUser' } }), // FLORA may still charge it
      run('running', NOON - 50 * HOUR, 9), // two days old and never finished: not expected any more
    ];
    const standing = budgetStanding(records, { now: NOON, cost: 5, limit: 30, reserved: 2 });
    assert.deepEqual(standing, { charged: 5, pending: 19, cost: 5, limit: 30 });
    assert.equal(passesBudget(standing), false); // 29 ≤ 30
    assert.equal(passesBudget({ ...standing, cost: 6 }), false); // exactly 30: within it
    assert.equal(passesBudget({ ...standing, cost: 7 }), true); // 31 > 30
    // Other windows' runs being prepared could not be counted: within the limit by what is known, yet asked.
    const uncounted = budgetStanding(records, { now: NOON, cost: 5, limit: 30, reserved: 2, uncounted: true });
    assert.equal(uncounted.uncounted, true);
    assert.equal(passesBudget(uncounted), true);
    assert.equal(passesBudget({ ...uncounted, limit: undefined }), false, 'no budget: nothing to ask');
  });

  it('counts a completed run whose charge was not readable at its quoted cost', () => {
    const standing = budgetStanding([run('completed', NOON - HOUR, 5)], { now: NOON, cost: 0, limit: 10 });
    assert.equal(standing.charged, 5);
  });

  it('never passes without a limit, and passes exactly when the total goes over it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ charged: fc.integer({ min: 0, max: 50 }), live: fc.boolean() }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 50 }),
        fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }),
        (runs, cost, limit) => {
          const records = runs.map((entry) =>
            entry.live ? run('running', NOON - 1000, entry.charged) : run('completed', NOON - 1000, entry.charged, entry.charged),
          );
          const standing = budgetStanding(records, { now: NOON, cost, limit });
          const total = runs.reduce((sum, entry) => sum + entry.charged, 0) + cost;
          assert.equal(standing.charged + standing.pending + standing.cost, total);
          assert.equal(passesBudget(standing), limit !== undefined && total > limit);
        },
      ),
      { seed: 20261201, numRuns: 200 },
    );
  });

  it('dates a charge by when the extension learned the run finished, not by the completedAt a server sent', () => {
    const hostile = [0, NOON - 40 * HOUR, NOON + 400 * 24 * HOUR].map((completedAt) =>
      run('completed', NOON - HOUR, 5, 5, { completedAt, finishedLocallyAt: NOON - HOUR }),
    );
    const standing = budgetStanding(hostile, { now: NOON, cost: 0, limit: 100 });
    assert.equal(standing.charged, 15, 'every one of them was charged today');
    for (const record of hostile) assert.equal(countsTowardsBudget(record, NOON), true);
    const [, , future] = hostile;
    assert.ok(future);
    assert.equal(countsTowardsBudget(future, NOON + 3 * 24 * HOUR), false, 'and stops counting when that says');
  });

  it('keeps every charge of the local day counting, on days of 23 and 25 hours too', () => {
    const zone = process.env.TZ;
    process.env.TZ = 'Europe/London';
    try {
      // 2026's clock changes in London: 29 March (23 hours) and 25 October (25 hours), and days around them.
      const days = [new Date(2026, 2, 29), new Date(2026, 9, 25), new Date(2026, 9, 26), new Date(2026, 5, 1)].map((day) => day.getTime());
      fc.assert(
        fc.property(
          fc.constantFrom(...days),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          (start, first, second) => {
            const end = new Date(start);
            end.setDate(end.getDate() + 1);
            const length = end.getTime() - start;
            const [finished, now] = [first, second].sort((a, b) => a - b).map((share) => start + Math.floor((share ?? 0) * (length - 1)));
            const record = run('completed', finished ?? start, 5, 5, { finishedLocallyAt: finished });
            const nowAt = now ?? start;
            assert.equal(budgetStanding([record], { now: nowAt, cost: 0, limit: 100 }).charged, 5, 'a charge of today counts');
            assert.equal(countsTowardsBudget(record, nowAt), true, 'so it is kept, and Clear Finished Runs keeps it');
            assert.equal(budgetStanding([clearedRecord(record, nowAt)], { now: nowAt, cost: 0, limit: 100 }).charged, 5, 'cleared too');
          },
        ),
        { seed: 20261202, numRuns: 400 },
      );
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});
