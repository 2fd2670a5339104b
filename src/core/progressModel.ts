// When will a run finish? The poller's ETA strategy asks this after every reply. Progress is read as a
// lower bound on a straight line through time: reported percentages are rounded down, to whatever step the
// workflow reports in (1 %, or stages of 25 %), so each sample says "the line was at least p here, and below
// the next step". Every line that agrees with all samples gives a finish time; the window between the
// earliest and the latest of them is what the poller aims at. Progress that does not grow with time
// (a queue at 0 %, a stall at 95–99 %, a stage started over) shows up as samples no line agrees with: the
// oldest are dropped until one does, and a run still running after the latest finish allowed is "overdue"
// until the samples after the change of pace give a window of their own. The poller paces what this plans
// (poller.ts, notBefore): no more polls than polling at the configured interval, but for the last.

import { MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from './pollTiming';

export interface ProgressSample {
  /** When the poll went out (local clock): the server read the run after this. */
  sentAt: number;
  /** When its reply came back: the server read the run before this. */
  at: number;
  /** Percent, 0–100, as reported. */
  progress: number;
}

/** Local-clock bounds on the moment the run finishes. */
export interface FinishWindow {
  earliest: number;
  latest: number;
}

/** Samples kept per run: enough to pin the line down, few enough that solving stays cheap. */
const MAX_SAMPLES = 8;
/** Slopes considered, as ms per percent: runs of 0.5 s to 48 h. */
const MIN_MS_PER_PERCENT = 5;
const MAX_MS_PER_PERCENT = 1_728_000;
/**
 * How much earlier than its local estimate the run may have started: the estimate is late by the time the
 * create's reply took, taken as at most twice the longest poll reply seen (and START_SLACK_LIMIT_MS). Too
 * little slack shows up as samples no line through the start agrees with, and the start is dropped.
 */
const START_SLACK_MIN_MS = 20;
const START_SLACK_LIMIT_MS = 2_000;
/** A drop smaller than this is noise (a server that rounds differently between replies), not a stage started over. */
const BACKWARDS_TOLERANCE = 1;

/**
 * Servers report at most 99 % while a run is live, and many finish there: the finish may come this many
 * percent before the line reaches 100, so the window opens that much earlier.
 */
const EARLY_FINISH_PERCENT = 1;

/** T ≥ base + slope·u (a lower bound) or T ≤ base + slope·u (an upper bound), u in ms per percent. */
interface Bound {
  base: number;
  slope: number;
}

export class ProgressModel {
  private samples: ProgressSample[] = [];
  private start: number | undefined;
  private startRejected = false;
  private window: FinishWindow | undefined;
  /** The longest a poll's reply took (at - sentAt). */
  private slowestReplyMs = 0;
  /** The run was still running after the latest finish an earlier window allowed: its progress misled. */
  overdue = false;

  /**
   * When progress was 0 (the reply's startedAt placed on the local clock, a little late rather than early):
   * one sample with it already gives a line. Ignored once samples disagree with it.
   */
  setStart(at: number | undefined): void {
    if (at !== undefined && Number.isFinite(at) && !this.startRejected && this.start === undefined) this.start = at;
  }

  /** The finish window after the last sample, or undefined while progress says nothing. */
  finishWindow(): FinishWindow | undefined {
    return this.window;
  }

  observe(sample: ProgressSample): void {
    const progress = Math.max(0, Math.min(100, sample.progress));
    const previous = this.samples.at(-1);
    if (previous !== undefined && progress < previous.progress - BACKWARDS_TOLERANCE) {
      // A stage started over: what came before says nothing about the rest, nor does startedAt.
      this.samples = [];
      this.rejectStart();
      this.window = undefined;
      this.overdue = false;
    }
    if (this.window !== undefined && sample.sentAt > this.window.latest) this.overdue = true;
    this.slowestReplyMs = Math.max(this.slowestReplyMs, sample.at - sample.sentAt);
    this.samples.push({ ...sample, progress });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    const kept = this.samples.length;
    this.window = this.solveDroppingOldest();
    // Samples dropped: the run changed pace (a stall that still creeps), and the line through what came
    // after gives a finish of its own; overdue again only once the run outlives that one too.
    if (this.samples.length < kept && this.window !== undefined && this.window.latest > sample.at) this.overdue = false;
  }

  private rejectStart(): void {
    this.start = undefined;
    this.startRejected = true;
  }

  private solveDroppingOldest(): FinishWindow | undefined {
    for (let drop = 0; drop < this.samples.length; drop++) {
      const segment = this.samples.slice(drop);
      if (!segment.some((sample) => sample.progress > 0)) return undefined;
      const starts = drop === 0 && this.start !== undefined ? [this.start, undefined] : [undefined];
      for (const start of starts) {
        // Rounded down first; a server that rounds to nearest gets a percent of slack.
        for (const slack of [0, 1]) {
          const startSlackMs = Math.min(START_SLACK_LIMIT_MS, START_SLACK_MIN_MS + 2 * this.slowestReplyMs);
          const window = solve(segment, start === undefined ? undefined : { at: start, slackMs: startSlackMs }, slack);
          if (!window) continue;
          if (start === undefined && this.start !== undefined) this.rejectStart();
          // Samples no line agrees with are gone for good: the run changed pace after them.
          this.samples = segment;
          // Only the fastest slope considered bounds the earliest finish (one sample, any speed fits): nothing known.
          return window.fastest <= MIN_MS_PER_PERCENT ? undefined : { earliest: window.earliest, latest: window.latest };
        }
      }
    }
    return undefined;
  }
}

/** The step progress moves in: the greatest common divisor of the whole percentages seen, 1 for fractions. */
export function progressStep(values: readonly number[]): number {
  let step = 0;
  for (const value of values) {
    if (value <= 0 || value >= 100) continue;
    if (!Number.isInteger(value)) return 1;
    step = step === 0 ? value : gcd(step, value);
  }
  return step === 0 ? 1 : step;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The earliest and latest finish over every line through the samples (and through `start` at 0 %), or
 * undefined when none fits. A two-variable linear program (finish time T, ms per percent u), solved by
 * trying every vertex: the bounds are few.
 */
function solve(
  samples: readonly ProgressSample[],
  start: { at: number; slackMs: number } | undefined,
  slack: number,
): (FinishWindow & { fastest: number }) | undefined {
  const step = progressStep(samples.map((sample) => sample.progress));
  const lower: Bound[] = [];
  const upper: Bound[] = [];
  for (const sample of samples) {
    const p = sample.progress;
    // The line was at least p when the server read it (before the reply came back)…
    if (p > 0) upper.push({ base: sample.at, slope: 100 - p + slack });
    // …and below the next step (after the poll went out); at 0 % the line may still be below zero.
    lower.push({ base: sample.sentAt, slope: Math.max(0, 100 - p - step - slack) });
  }
  // Not finished when the last poll was read.
  const last = samples.at(-1);
  const notFinishedAt = last?.sentAt ?? Number.NEGATIVE_INFINITY;
  if (last) lower.push({ base: last.sentAt, slope: 0 });
  if (start !== undefined) {
    upper.push({ base: start.at, slope: 100 });
    lower.push({ base: start.at - start.slackMs, slope: 100 });
  }
  if (upper.length === 0) return undefined;

  const candidates = [MIN_MS_PER_PERCENT, MAX_MS_PER_PERCENT];
  const bounds = [...lower, ...upper];
  for (let first = 0; first < bounds.length; first++) {
    for (let second = first + 1; second < bounds.length; second++) {
      const a = bounds[first];
      const b = bounds[second];
      if (!a || !b || a.slope === b.slope) continue;
      const u = (b.base - a.base) / (a.slope - b.slope);
      if (u > MIN_MS_PER_PERCENT && u < MAX_MS_PER_PERCENT) candidates.push(u);
    }
  }
  let earliest = Number.POSITIVE_INFINITY;
  let latest = Number.NEGATIVE_INFINITY;
  let fastest = Number.POSITIVE_INFINITY;
  for (const u of candidates) {
    let low = Number.NEGATIVE_INFINITY;
    for (const bound of lower) low = Math.max(low, bound.base + bound.slope * u);
    let high = Number.POSITIVE_INFINITY;
    for (const bound of upper) high = Math.min(high, bound.base + bound.slope * u);
    // A millisecond of tolerance for the vertices' rounding.
    if (low > high + 1) continue;
    earliest = Math.min(earliest, Math.max(notFinishedAt, low - EARLY_FINISH_PERCENT * u));
    latest = Math.max(latest, high);
    fastest = Math.min(fastest, u);
  }
  if (!Number.isFinite(earliest) || !Number.isFinite(latest)) return undefined;
  return { earliest, latest: Math.max(earliest, latest), fastest };
}

/** How long after the latest possible finish the poll goes, so it lands after the server flips the status. */
export const FINISH_MARGIN_MS = 60;
/**
 * A window at least this wide is swept with its first poll WIDE_FIRST_GAP_MS after its earliest end, then
 * every 2 s. A finish equally likely anywhere in a window w wide is found 1 s late on average by polls every
 * 2 s from its earliest end, and 1 − 1/(2w) s late when the first gap is 1 s; and where the window is wide
 * because the run slowed down (a stall creeping towards 99 %), the finish tends to come early in it.
 */
const WIDE_WINDOW_MS = 3_000;
const WIDE_FIRST_GAP_MS = 1_000;
/** Progress at or above this, in a run past its predicted finish, means "any moment now" (a stall before the end). */
const NEARLY_DONE = 90;

export interface PollPlan {
  /** The wait before the next poll. */
  delayMs: number;
  /** The wait lands on (or leads up to) a planned moment: the poller must not move it to keep the connection warm. */
  aimed: boolean;
}

/**
 * The next wait for a live run, every wait within the document's 2–5 s:
 * - a finish window: a poll just after its latest end when it is narrow (found at once, late by at most its
 *   width), else sweeping it from its earliest end every 2 s (the first gap 1 s in a wide window);
 * - past the window at 90 % or more (a stall before the end): every 2 s, since the end may come at any moment;
 * - nothing known (queued, first sample of a stage): the configured interval.
 */
export function planPoll(input: {
  now: number;
  window: FinishWindow | undefined;
  overdue: boolean;
  progress: number;
  intervalMs: number;
  longWaitMs: number;
}): PollPlan {
  const { now, window, longWaitMs } = input;
  if (input.overdue && input.progress >= NEARLY_DONE) return { delayMs: MIN_POLL_INTERVAL_MS, aimed: true };
  if (window === undefined) return { delayMs: input.intervalMs, aimed: false };
  const firstGap = window.latest - window.earliest >= WIDE_WINDOW_MS ? WIDE_FIRST_GAP_MS : MIN_POLL_INTERVAL_MS;
  const target = Math.min(window.latest, Math.max(window.earliest + firstGap, now + MIN_POLL_INTERVAL_MS)) + FINISH_MARGIN_MS;
  const untilTarget = target - now;
  return { delayMs: planWait(untilTarget, longWaitMs), aimed: untilTarget < longWaitMs + MIN_POLL_INTERVAL_MS };
}

/**
 * The next wait, for a poll wanted `untilTarget` ms from now: at the target when it is in reach; the long
 * wait while it is far; and when it is just beyond reach, a wait that leaves exactly the shortest allowed
 * wait for the last step, so the poll after it lands on the target instead of up to 2 s late.
 */
export function planWait(untilTarget: number, longWaitMs = MAX_POLL_INTERVAL_MS): number {
  if (untilTarget <= longWaitMs) return Math.max(MIN_POLL_INTERVAL_MS, Math.round(untilTarget));
  if (untilTarget - longWaitMs >= MIN_POLL_INTERVAL_MS) return longWaitMs;
  // With a long wait under 4 s (a lone run on a server that drops idle connections soon), the target may be
  // too near for two waits of 2 s: the shortest first wait leaves the last step least late.
  return Math.max(MIN_POLL_INTERVAL_MS, Math.round(untilTarget - MIN_POLL_INTERVAL_MS));
}
