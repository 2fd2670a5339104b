/**
 * The ETA strategy's reading of progress (core/progressModel.ts), on made-up samples: the finish window
 * holds the true finish for every profile the sandbox serves, narrows as samples come, and says nothing
 * (or "overdue") when progress stops telling the time.
 */
import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';

import { MIN_POLL_INTERVAL_MS } from '../../../src/core/pollTiming';
import { FINISH_MARGIN_MS, planPoll, planWait, ProgressModel, progressStep, type FinishWindow } from '../../../src/core/progressModel';
import { PENDING_FRACTION, progressOf, type ProgressProfile } from '../../sandbox/techniques';

/** Feeds `model` the sandbox's progress for a run created at 0 lasting `durationMs`, polled at `times`. */
function feed(model: ProgressModel, profile: ProgressProfile, durationMs: number, times: readonly number[]): void {
  for (const at of times) {
    const view = progressOf(profile, at / durationMs);
    model.observe({ sentAt: at, at, progress: view.status === 'pending' ? 0 : view.progress });
  }
}

function contains(window: FinishWindow | undefined, at: number): boolean {
  return window !== undefined && window.earliest <= at && at <= window.latest;
}

describe('core/progressModel', () => {
  it('reads the step progress moves in from the values seen (1 % for fractions)', () => {
    assert.equal(progressStep([25, 50, 75]), 25);
    assert.equal(progressStep([10, 20, 35]), 5);
    assert.equal(progressStep([16, 33, 49]), 1);
    assert.equal(progressStep([0, 40]), 40);
    assert.equal(progressStep([12.5, 50]), 1);
    assert.equal(progressStep([]), 1);
  });

  it('progress growing with time: one sample and startedAt already bound the finish, more samples narrow it', () => {
    const durationMs = 30_000;
    const model = new ProgressModel();
    model.setStart(durationMs * PENDING_FRACTION);
    feed(model, 'linear', durationMs, [8_000]);
    const first = model.finishWindow();
    assert.ok(contains(first, durationMs), JSON.stringify(first));
    feed(model, 'linear', durationMs, [13_000, 18_000, 23_000]);
    const later = model.finishWindow();
    assert.ok(contains(later, durationMs), JSON.stringify(later));
    // Within 2 % of the run's length: one poll just after `latest` finds it, a few hundred ms late at most.
    assert.ok(later && later.latest - later.earliest <= durationMs / 50, JSON.stringify(later));
    assert.ok(first && later && later.latest - later.earliest < first.latest - first.earliest);
    assert.equal(model.overdue, false);
  });

  it('a queue at 0 % with a startedAt from before it: startedAt is dropped and the window still holds the finish', () => {
    const durationMs = 40_000;
    const model = new ProgressModel();
    model.setStart(durationMs * PENDING_FRACTION);
    feed(model, 'queued', durationMs, [5_000, 10_000, 15_000, 20_000, 25_000, 30_000]);
    const window = model.finishWindow();
    assert.ok(contains(window, durationMs), JSON.stringify(window));
    // With startedAt believed, 35 % at 30 s would put the finish near 80 s.
    assert.ok(window && window.latest < durationMs + 2_000, JSON.stringify(window));
  });

  it('steps of 25 %: the step is learnt, and the window holds the finish however the polls fall', () => {
    for (const offset of [0, 700, 1_400, 2_100, 2_800, 3_500, 4_200]) {
      const durationMs = 24_000 + offset;
      const model = new ProgressModel();
      model.setStart(durationMs * PENDING_FRACTION);
      const times: number[] = [];
      for (let at = 3_000; at < durationMs; at += 5_000) times.push(at);
      feed(model, 'steps', durationMs, times);
      assert.ok(contains(model.finishWindow(), durationMs), `${durationMs}: ${JSON.stringify(model.finishWindow())}`);
    }
  });

  it('a stall at 95–98 %: once the run outlives the window progress gave, it is overdue (polled every 2 s from then on)', () => {
    const durationMs = 30_000;
    const model = new ProgressModel();
    model.setStart(durationMs * PENDING_FRACTION);
    feed(model, 'stall', durationMs, [3_000, 8_000, 13_000]);
    const window = model.finishWindow();
    assert.ok(window && window.latest < durationMs * 0.7, `progress up to 95 % promised an early finish: ${JSON.stringify(window)}`);
    assert.equal(model.overdue, false);
    feed(model, 'stall', durationMs, [(window?.latest ?? 0) + FINISH_MARGIN_MS]);
    assert.equal(model.overdue, true);
    const plan = planPoll({
      now: 20_000,
      window: model.finishWindow(),
      overdue: model.overdue,
      progress: 95,
      intervalMs: 3_000,
      longWaitMs: 5_000,
    });
    assert.deepEqual(plan, { delayMs: MIN_POLL_INTERVAL_MS, aimed: true });
  });

  it('a stall that creeps (95 → 96 → 97 %): the samples since the change of pace give a window of their own, which holds the finish', () => {
    const durationMs = 30_000;
    const model = new ProgressModel();
    model.setStart(durationMs * PENDING_FRACTION);
    feed(model, 'stall', durationMs, [3_000, 8_000, 13_000, 18_000]);
    assert.equal(model.overdue, true, 'past the window the first half promised');
    feed(model, 'stall', durationMs, [21_000, 24_000, 27_000]);
    const window = model.finishWindow();
    assert.equal(model.overdue, false, `a new window: ${JSON.stringify(window)}`);
    // The run finishes at 99 % (the last whole percent a server reports), a percent before the line's 100 %.
    assert.ok(contains(window, durationMs), JSON.stringify(window));
    assert.ok(window && window.latest > 27_000);
  });

  it('progress going backwards starts over: nothing before the drop (nor startedAt) is trusted', () => {
    const durationMs = 30_000;
    const model = new ProgressModel();
    model.setStart(durationMs * PENDING_FRACTION);
    feed(model, 'backwards', durationMs, [5_000, 10_000, 15_000]);
    feed(model, 'backwards', durationMs, [18_000]); // 60 % → 25 %
    assert.equal(model.finishWindow(), undefined, 'one sample of the new stage says nothing');
    feed(model, 'backwards', durationMs, [23_000, 28_000]);
    assert.ok(contains(model.finishWindow(), durationMs), JSON.stringify(model.finishWindow()));
  });

  it('property: for any run whose progress grows with time, polled 2–5 s apart, the window holds the true finish', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6_000, max: 600_000 }),
        fc.integer({ min: 0, max: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.integer({ min: 2_000, max: 5_000 }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (durationMs, replyMs, createShare, gaps, knowsStart) => {
          const startedAt = durationMs * PENDING_FRACTION;
          const model = new ProgressModel();
          // The start placed on the local clock is late by the create's reply time (no longer than a poll's), never early.
          if (knowsStart) model.setStart(startedAt + Math.round(createShare * replyMs));
          let at = 0;
          for (const gap of gaps) {
            at += gap;
            if (at >= durationMs) break;
            // The server reads the run somewhere between the poll going out and its reply coming back.
            const readAt = at + Math.round(createShare * replyMs);
            const view = progressOf('linear', readAt / durationMs);
            model.observe({ sentAt: at, at: at + replyMs, progress: view.status === 'pending' ? 0 : view.progress });
            const window = model.finishWindow();
            if (window !== undefined && !contains(window, durationMs)) return false;
            if (model.overdue) return false;
          }
          return true;
        },
      ),
      { seed: 20261201, numRuns: 300 },
    );
  });

  describe('planPoll', () => {
    const base = { now: 100_000, overdue: false, progress: 50, intervalMs: 3_000, longWaitMs: 5_000 };

    it('a narrow window in reach: one poll just after its latest end', () => {
      const plan = planPoll({ ...base, window: { earliest: 103_000, latest: 103_400 } });
      assert.deepEqual(plan, { delayMs: 3_400 + FINISH_MARGIN_MS, aimed: true });
    });

    it('a wide window: the sweep starts 1 s after its earliest end (2 s in a window under 3 s), never under 2 s from now', () => {
      const wide = planPoll({ ...base, window: { earliest: 102_000, latest: 110_000 } });
      assert.deepEqual(wide, { delayMs: 3_000 + FINISH_MARGIN_MS, aimed: true });
      const narrower = planPoll({ ...base, window: { earliest: 102_000, latest: 104_900 } });
      assert.deepEqual(narrower, { delayMs: 4_000 + FINISH_MARGIN_MS, aimed: true });
      const begun = planPoll({ ...base, window: { earliest: 100_500, latest: 110_000 } });
      assert.deepEqual(begun, { delayMs: 2_000 + FINISH_MARGIN_MS, aimed: true });
    });

    it('a finish far off: the long wait, which the poller may move up to keep the connection warm', () => {
      assert.deepEqual(planPoll({ ...base, window: { earliest: 160_000, latest: 161_000 } }), { delayMs: 5_000, aimed: false });
    });

    it('nothing known: the configured interval; never under 2 s even for a finish already due', () => {
      assert.deepEqual(planPoll({ ...base, window: undefined }), { delayMs: 3_000, aimed: false });
      assert.equal(planPoll({ ...base, window: { earliest: 90_000, latest: 99_000 } }).delayMs, MIN_POLL_INTERVAL_MS);
    });

    it('planWait leaves the shortest wait for the last step when the target is just out of reach', () => {
      assert.equal(planWait(6_000, 5_000), 4_000);
      assert.equal(planWait(7_000, 5_000), 5_000);
      assert.equal(planWait(1_000, 5_000), 2_000);
      // A long wait under 4 s (a lone run, a server that drops idle connections soon): no wait under 2 s.
      assert.equal(planWait(3_995, 3_750), 2_000);
      assert.equal(planWait(5_000, 3_750), 3_000);
    });
  });
});
