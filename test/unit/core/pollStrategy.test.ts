/**
 * The ETA strategy against each of the sandbox's progress profiles, beside fixed 3 s and fixed 2 s polling:
 * twelve runs of 15–40 s started at once on one Poller each, on manual time (the replies are computed from
 * the manual clock, so the figures are exact and nothing waits). Issue 12's goals, per profile: median
 * detection latency no worse than fixed 2 s, polls per run no more than fixed 3 s (the stall excepted:
 * see its test), every gap within the document's 2–5 s; progress growing with time found within 300 ms.
 */
import * as assert from 'node:assert/strict';

import { PROGRESS_PROFILES, type ProgressProfile } from '../../sandbox/techniques';
import { medianOf, simulate, TWELVE_DURATIONS_MS, type SimulatedRun } from './profileRuns';

interface Figures {
  medianLatencyMs: number;
  pollsPerRun: number;
  minGapMs: number;
  maxGapMs: number;
}

function figuresOf(runs: readonly SimulatedRun[]): Figures {
  const gaps = runs.flatMap((run) => run.polls.slice(1).map((at, index) => at - (run.polls[index] ?? at)));
  return {
    medianLatencyMs: medianOf(runs.map((run) => run.latencyMs)),
    pollsPerRun: runs.reduce((total, run) => total + run.polls.length, 0) / runs.length,
    minGapMs: Math.min(...gaps),
    maxGapMs: Math.max(...gaps),
  };
}

/** Twelve runs of 80–130 s: a stall of 40–65 s, where a finish estimated from startedAt drifts far off. */
const LONG_DURATIONS_MS: readonly number[] = TWELVE_DURATIONS_MS.map((durationMs, index) => durationMs + 65_000 + index * 2_500);

async function compare(
  profile: ProgressProfile,
  durationsMs: readonly number[] = TWELVE_DURATIONS_MS,
): Promise<{ ours: Figures; fixed3: Figures; fixed2: Figures }> {
  const [ours, fixed3, fixed2] = await Promise.all([
    simulate(profile, durationsMs, { strategy: 'eta', intervalMs: 3_000 }),
    simulate(profile, durationsMs, { strategy: 'fixed', intervalMs: 3_000 }),
    simulate(profile, durationsMs, { strategy: 'fixed', intervalMs: 2_000 }),
  ]);
  return { ours: figuresOf(ours), fixed3: figuresOf(fixed3), fixed2: figuresOf(fixed2) };
}

function describeFigures(figures: { ours: Figures; fixed3: Figures; fixed2: Figures }): string {
  const one = (name: string, value: Figures): string =>
    `${name} ${Math.round(value.medianLatencyMs)} ms, ${value.pollsPerRun.toFixed(1)} polls`;
  return [one('ours', figures.ours), one('fixed 3 s', figures.fixed3), one('fixed 2 s', figures.fixed2)].join('; ');
}

describe('the ETA strategy per progress profile (issue 12), on manual time', () => {
  for (const profile of PROGRESS_PROFILES.filter((name) => name !== 'linear' && name !== 'stall')) {
    it(`${profile}: every gap within 2–5 s, latency no worse than fixed 2 s, no more polls than fixed 3 s`, async () => {
      const figures = await compare(profile);
      const { ours, fixed2, fixed3 } = figures;
      assert.ok(ours.minGapMs >= 2_000 && ours.maxGapMs <= 5_000, `gaps ${ours.minGapMs}–${ours.maxGapMs} ms`);
      assert.ok(ours.medianLatencyMs <= fixed2.medianLatencyMs, describeFigures(figures));
      assert.ok(ours.pollsPerRun <= fixed3.pollsPerRun, describeFigures(figures));
    });
  }

  it('linear (progress grows with time): found within 300 ms (median), with at least 2 polls per run fewer than fixed 3 s', async () => {
    const figures = await compare('linear');
    const { ours, fixed3 } = figures;
    assert.ok(ours.minGapMs >= 2_000 && ours.maxGapMs <= 5_000, `gaps ${ours.minGapMs}–${ours.maxGapMs} ms`);
    assert.ok(ours.medianLatencyMs <= 300, describeFigures(figures));
    assert.ok(ours.pollsPerRun <= fixed3.pollsPerRun - 2, describeFigures(figures));
  });

  it('stall at 95–98 % for the second half: once the run is past its window, every 2 s, so no later than fixed 2 s, for long runs too', async () => {
    // Where progress stops telling the time, only polling every 2 s keeps the median no later than fixed 2 s
    // (a finish at any moment is found half a gap late on average). The polls saved before the stall pay for
    // most of that, not all when the stall is half the run: more polls than fixed 3 s, fewer than fixed 2 s.
    const short = await compare('stall');
    const long = await compare('stall', LONG_DURATIONS_MS);
    for (const figures of [short, long]) {
      const { ours, fixed2 } = figures;
      assert.ok(ours.minGapMs >= 2_000 && ours.maxGapMs <= 5_000, `gaps ${ours.minGapMs}–${ours.maxGapMs} ms`);
      assert.ok(ours.medianLatencyMs <= fixed2.medianLatencyMs, describeFigures(figures));
      assert.ok(ours.pollsPerRun < fixed2.pollsPerRun, describeFigures(figures));
    }
  });
});
