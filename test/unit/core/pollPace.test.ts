/**
 * The ETA strategy's two promises that hold whatever a server says (issue 12), on manual time: the pace
 * rule (a run's k-th poll no earlier than k − ½ pace intervals after polling at that interval would have
 * started — the configured interval, no slower than 3 s — so never more polls than that polling, give or
 * take the last one; pollPaceFailures.test.ts has slow, failing and paused replies), and the document's 2 s between two
 * requests for a run as FLORA sees them, even when keeping the connection warm moves a poll up behind a
 * queue of slow requests on the one connection.
 */
import * as assert from 'node:assert/strict';

import fc from 'fast-check';

import { FloraServerError } from '../../../src/core/errors';
import { message } from '../../../src/core/messages';
import { Poller, type RunFetcher } from '../../../src/core/poller';
import type { RunStatusReply } from '../../../src/core/runReplies';
import { ManualTime } from '../../common/manualTime';
import { followToEnd, type FollowedRun } from '../../common/pollUntilFinal';

const ORIGIN_URL = 'https://api.flora.test/v1/techniques/studio-shot/runs/';

interface HostileRun {
  durationMs: number;
  /** The progress of each reply in turn, again from the start when used up. */
  progress: number[];
  /** Whether replies carry createdAt/startedAt, and how far startedAt lies (ms after createdAt). */
  startedAfterMs: number | undefined;
  immediate: boolean;
}

const hostileRun: fc.Arbitrary<HostileRun> = fc.record({
  durationMs: fc.integer({ min: 1_000, max: 120_000 }),
  progress: fc.array(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(0, 25, 95, 99, 100)), { minLength: 1, maxLength: 30 }),
  startedAfterMs: fc.option(fc.integer({ min: -5_000, max: 200_000 }), { nil: undefined }),
  immediate: fc.boolean(),
});

async function followAll(
  time: ManualTime,
  poller: Poller,
  runs: readonly { runId: string; immediate: boolean }[],
  limitMs: number,
): Promise<FollowedRun[]> {
  const followed = runs.map(({ runId, immediate }) =>
    followToEnd(poller, { slug: 'studio-shot', runId, pollUrl: `${ORIGIN_URL}${runId}` }, { immediate }),
  );
  const until = time.now + limitMs;
  while (followed.some((run) => run.ended === undefined)) {
    if (time.now > until) throw new Error(`runs not finished after ${limitMs} ms`);
    await time.advance(250);
  }
  return followed;
}

/** A Poller on `time` whose one server says 99 % until 60 s after `started`, then completed; `polls` records each poll. */
function stuckAt99(time: ManualTime, intervalMs: number, polls: number[]): Poller {
  const started = time.now;
  return new Poller({
    strategy: 'eta',
    intervalMs,
    now: time.clock,
    timers: time.timers,
    idleBudgetMs: () => 60_000,
    fetch: time.track((target) => {
      polls.push(time.now);
      const done = time.now - started >= 60_000;
      return Promise.resolve(
        done
          ? { runId: target.runId, status: 'completed', progress: 100, outputs: [] }
          : { runId: target.runId, status: 'running', progress: 99, createdAt: 0, startedAt: 0 },
      );
    }),
  });
}

describe('core/poller: the pace rule and the 2 s FLORA sees (issue 12), on manual time', () => {
  it('whatever progress a server reports, every run keeps the pace of polling at the interval and gaps of 2–5 s', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileRun, { minLength: 1, maxLength: 5 }),
        fc.constantFrom(2_000, 3_000, 5_000),
        fc.integer({ min: 2_000, max: 60_000 }),
        async (runs, intervalMs, idleBudgetMs) => {
          const time = new ManualTime();
          const trackedAt = time.now;
          const polls = new Map<string, number[]>();
          const byId = new Map(runs.map((run, index) => [`run${index}`, run]));
          const fetch: RunFetcher = (target) => {
            const run = byId.get(target.runId);
            const times = polls.get(target.runId) ?? [];
            times.push(time.now);
            polls.set(target.runId, times);
            if (!run) return Promise.reject(new Error(`unknown run ${target.runId}`));
            const createdAt = trackedAt - (run.immediate ? 60_000 : 0);
            const elapsed = time.now - trackedAt;
            const base = {
              runId: target.runId,
              createdAt,
              ...(run.startedAfterMs === undefined ? {} : { startedAt: createdAt + run.startedAfterMs }),
            };
            const reply: RunStatusReply =
              elapsed >= run.durationMs
                ? { ...base, status: 'completed', progress: 100, outputs: [] }
                : { ...base, status: 'running', progress: run.progress[(times.length - 1) % run.progress.length] ?? 0 };
            return Promise.resolve(reply);
          };
          const poller = new Poller({
            strategy: 'eta',
            intervalMs,
            now: time.clock,
            timers: time.timers,
            idleBudgetMs: () => idleBudgetMs,
            fetch: time.track(fetch),
          });
          try {
            const followed = await followAll(
              time,
              poller,
              runs.map((run, index) => ({ runId: `run${index}`, immediate: run.immediate })),
              200_000,
            );
            followed.forEach((run, index) => assert.equal(run.ended?.kind, 'completed', `run${index}`));
          } finally {
            poller.dispose();
          }
          for (const [runId, run] of byId) {
            const times = polls.get(runId) ?? [];
            // The pace: the interval, but no slower than the document's 3 s. It starts its count one pace
            // interval before the first poll (at once for a resumed run, one interval after the create).
            const paceMs = Math.min(intervalMs, 3_000);
            const paceOrigin = trackedAt + (run.immediate ? 0 : intervalMs) - paceMs;
            times.forEach((at, index) => {
              const k = index + 1;
              assert.ok(at >= paceOrigin + (k - 0.5) * paceMs, `${runId}: poll ${k} at ${at - trackedAt} ms, interval ${intervalMs}`);
            });
            for (let index = 1; index < times.length; index++) {
              const gap = (times[index] ?? 0) - (times[index - 1] ?? 0);
              assert.ok(gap >= 2_000 && gap <= 5_000, `${runId}: gap ${gap} ms`);
            }
            // Polling at the pace makes ceil(duration / pace) polls (one more, at once, for a resumed run).
            const fixedPolls = run.immediate ? Math.ceil(run.durationMs / paceMs) + 1 : Math.max(1, Math.ceil(run.durationMs / paceMs));
            assert.ok(times.length <= fixedPolls + 1, `${runId}: ${times.length} polls, polling every ${paceMs} ms: ${fixedPolls}`);
          }
        },
      ),
      { seed: 20261202, numRuns: 120 },
    );
  });

  it('a server at 99 % from the first poll for a minute: at most the last poll more than polling every 3 s', async () => {
    // Polling every 3 s makes 20 polls (the 20th at 60 s finds the end); without the pace rule, "overdue at
    // 99 %" would poll every 2 s: 30. The half interval of credit may cost one poll when the finish falls
    // on the fixed poller's grid, as here.
    const time = new ManualTime();
    const started = time.now;
    const polls: number[] = [];
    const poller = stuckAt99(time, 3_000, polls);
    try {
      const [run] = await followAll(time, poller, [{ runId: 'j57stuck', immediate: false }], 120_000);
      assert.equal(run?.ended?.kind, 'completed');
      assert.ok(polls.length <= 21, `${polls.length} polls`);
      // And it is found no later than polling every 3 s would find it.
      const foundAfterMs = (polls.at(-1) ?? Number.NaN) - started - 60_000;
      assert.ok(foundAfterMs <= 3_000, `found ${foundAfterMs} ms after the end`);
    } finally {
      poller.dispose();
    }
  });

  it('a raised interval (2 → 5 s), a run stuck at 99 %: no gap past 5 s, and the pace of the document’s 3 s, its slowest', async () => {
    const time = new ManualTime();
    const polls: number[] = [];
    const poller = stuckAt99(time, 2_000, polls);
    try {
      const followed = followToEnd(poller, { slug: 'studio-shot', runId: 'j57raised', pollUrl: `${ORIGIN_URL}j57raised` });
      await time.advance(20_000);
      const before = polls.length;
      poller.setIntervalMs(5_000);
      await time.advance(45_000);
      assert.equal(followed.ended?.kind, 'completed');
      const gaps = polls.slice(before).map((at, index) => at - (polls[before + index - 1] ?? at));
      for (const gap of gaps) assert.ok(gap >= 2_000 && gap <= 5_000, `gap ${gap} ms after the interval was raised: ${gaps.join(', ')}`);
      // At 99 % the run may finish any moment: the poll planned before the change (2 s on), then the pace,
      // which is the interval but never slower than 3 s (a 5 s interval is for waiting while nothing is known).
      assert.deepEqual(
        gaps.slice(1),
        Array.from({ length: gaps.length - 1 }, () => 3_000),
        gaps.join(', '),
      );
    } finally {
      poller.dispose();
    }
  });

  it('keeping the connection warm counts 2 s from the last reply: FLORA sees a run’s requests 2 s apart after one waited in the queue', async () => {
    // One connection (requests take turns). A run whose polls fail slowly (0.9 s, then a 503: it backs off,
    // and a backoff is never moved) holds the connection while a second run's poll waits 0.8 s behind it.
    // The second run reports nothing useful (pending: the 5 s interval), and the server keeps idle
    // connections so briefly (0.3 s of idle budget) that the poller moves its next poll up to keep the
    // connection warm: 2 s after its last *reply*, or FLORA would see the two requests 1.2 s apart.
    const time = new ManualTime();
    const started = time.now;
    let busyUntil = time.now;
    const arrivals = new Map<string, number[]>();
    const fetch: RunFetcher = (target) =>
      new Promise((resolve, reject) => {
        const failing = target.runId === 'j57failing';
        const arrival = Math.max(time.now, busyUntil);
        busyUntil = arrival + (failing ? 900 : 50);
        arrivals.set(target.runId, [...(arrivals.get(target.runId) ?? []), arrival]);
        const done = arrival - started >= 20_000;
        time.timers.setTimeout(() => {
          if (failing) reject(new FloraServerError(503, message('serverUnexpected', 'busy')));
          else resolve({ runId: target.runId, status: done ? 'completed' : 'pending', progress: done ? 100 : 0, outputs: [] });
        }, busyUntil - time.now);
      });
    const poller = new Poller({
      strategy: 'eta',
      intervalMs: 5_000,
      now: time.clock,
      timers: time.timers,
      idleBudgetMs: () => 300,
      random: () => 0.5,
      fetch,
    });
    try {
      const failing = followToEnd(
        poller,
        { slug: 'studio-shot', runId: 'j57failing', pollUrl: `${ORIGIN_URL}j57failing` },
        { immediate: true },
      );
      await time.advance(100);
      const [followed] = await followAll(time, poller, [{ runId: 'j57queued', immediate: true }], 60_000);
      assert.equal(followed?.ended?.kind, 'completed');
      assert.equal(failing.ended, undefined, 'the failing run is still being retried');
      const times = arrivals.get('j57queued') ?? [];
      assert.equal(times[0], started + 900, 'the first poll waited 0.8 s behind the failing one');
      for (let index = 1; index < times.length; index++) {
        const gap = (times[index] ?? 0) - (times[index - 1] ?? 0);
        assert.ok(gap >= 2_000, `FLORA saw two requests for a run ${gap} ms apart (${times.map((at) => at - started).join(', ')})`);
      }
      // Moved up: without keeping the connection warm the second poll would go 5 s after the first reply.
      assert.ok((times[1] ?? Number.POSITIVE_INFINITY) < started + 950 + 5_000, `second poll at ${(times[1] ?? 0) - started} ms`);
    } finally {
      poller.dispose();
    }
  });
});
