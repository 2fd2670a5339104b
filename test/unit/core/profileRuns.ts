// Runs of the sandbox's progress profiles (test/sandbox/techniques.ts) followed by a Poller on manual time:
// the reply to each poll is computed from the manual clock, so hours of polling take milliseconds and every
// figure is exact. Detection latency here is the poll's own lateness: a reply travels in no time.
import { Poller, type PollStrategy } from '../../../src/core/poller';
import type { RunStatusReply } from '../../../src/core/runReplies';
import { ManualTime } from '../../common/manualTime';
import { followToEnd } from '../../common/pollUntilFinal';
import { PENDING_FRACTION, progressOf, type ProgressProfile } from '../../sandbox/techniques';

export interface SimulatedRun {
  durationMs: number;
  /** The poll that found the run completed, minus the moment it completed. */
  latencyMs: number;
  /** Manual-clock times of every poll. */
  polls: number[];
}

export interface SimulatedStrategy {
  strategy: PollStrategy;
  intervalMs: number;
}

/** What the sandbox replies `elapsed` ms after creating a run of `durationMs` with `profile`. */
export function profileReply(runId: string, profile: ProgressProfile, createdAt: number, durationMs: number, now: number): RunStatusReply {
  const elapsed = now - createdAt;
  const startedAt = createdAt + Math.round(durationMs * PENDING_FRACTION);
  if (elapsed >= durationMs) {
    return { runId, status: 'completed', progress: 100, createdAt, startedAt, completedAt: createdAt + durationMs, outputs: [] };
  }
  const view = progressOf(profile, elapsed / durationMs);
  return view.status === 'pending'
    ? { runId, status: 'pending', progress: 0, createdAt }
    : { runId, status: 'running', progress: view.progress, createdAt, startedAt };
}

/** Starts every run at once on one Poller and follows them to the end. */
export async function simulate(
  profile: ProgressProfile,
  durationsMs: readonly number[],
  spec: SimulatedStrategy,
  options: { idleBudgetMs?: () => number } = {},
): Promise<SimulatedRun[]> {
  const time = new ManualTime();
  const createdAt = time.now;
  const polls = new Map<string, number[]>();
  const durations = new Map(durationsMs.map((durationMs, index) => [`run${index}`, durationMs]));
  const poller = new Poller({
    strategy: spec.strategy,
    intervalMs: spec.intervalMs,
    now: time.clock,
    timers: time.timers,
    idleBudgetMs: options.idleBudgetMs,
    fetch: time.track((target) => {
      polls.set(target.runId, [...(polls.get(target.runId) ?? []), time.now]);
      return Promise.resolve(profileReply(target.runId, profile, createdAt, durations.get(target.runId) ?? 0, time.now));
    }),
  });
  try {
    const followed = [...durations.keys()].map((runId) => ({ runId, run: followToEnd(poller, { slug: 'icon-pack', runId }) }));
    const limit = time.now + 10 * Math.max(...durationsMs) + 60_000;
    while (followed.some(({ run }) => run.ended === undefined)) {
      if (time.now > limit) throw new Error(`runs of ${profile} not finished after ${limit - createdAt} ms`);
      await time.advance(100);
    }
    return followed.map(({ runId, run }) => {
      const durationMs = durations.get(runId) ?? 0;
      const times = polls.get(runId) ?? [];
      if (run.ended?.kind !== 'completed') throw new Error(`${runId} ended ${run.ended?.kind ?? 'never'}`);
      return { durationMs, latencyMs: (times.at(-1) ?? Number.NaN) - (createdAt + durationMs), polls: times };
    });
  } finally {
    poller.dispose();
  }
}

/** The mean detection latency of `runs` and the standard error of that mean. */
export function meanLatencyOf(runs: readonly SimulatedRun[]): { mean: number; error: number } {
  const latencies = runs.map((run) => run.latencyMs);
  const mean = latencies.reduce((total, value) => total + value, 0) / latencies.length;
  const variance = latencies.reduce((total, value) => total + (value - mean) ** 2, 0) / Math.max(1, latencies.length - 1);
  return { mean, error: Math.sqrt(variance / latencies.length) };
}

export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * Twelve runs of 15–40 s whose ends fall at spread-out points of the 6 s a fixed 2 s and a fixed 3 s poll
 * both repeat over (golden-ratio offsets): with durations in step with either, fixed polling would land just
 * after every finish by coincidence, or just before it.
 */
export const TWELVE_DURATIONS_MS: readonly number[] = Array.from(
  { length: 12 },
  (_, index) => 15_000 + index * 1_500 + Math.floor(((index * 0.618_034) % 1) * 6_000),
);

/**
 * Six hundred runs of 15–130 s spread evenly by golden-ratio offsets: where no strategy can beat another by
 * much, twelve runs decide nothing (the median of twelve uniform latencies moves by about a quarter of the
 * range), and six hundred pin a mean down to a few tens of milliseconds.
 */
export const MANY_DURATIONS_MS: readonly number[] = Array.from(
  { length: 600 },
  (_, index) => 15_000 + Math.floor(((index * 0.618_034) % 1) * 115_000),
);
