// Items 3, 4 and the scheduler part of 5: the extension's core (FloraClient + Poller + the shared undici
// dispatcher, from out/src/core) against the sandbox over loopback, no editor. The sandbox's request log
// (arrival time, path, client port) and its connection counter are the ground truth.
import { fork } from 'child_process';
import * as http from 'http';
import * as path from 'path';
import type { Dispatcher } from 'undici';
import { FloraClient } from '../../src/core/api';
import { createDispatcher } from '../../src/core/dispatcher';
import { Poller, type PollStrategy } from '../../src/core/poller';
import { finalReplyOf, followToEnd } from '../common/pollUntilFinal';
import { startSandbox, type RecordedRequest, type Sandbox } from '../sandbox/server';
import { maxInWindow, mean, median, percentile, sum } from './stats';

/** A text-only technique, so a run needs no media URL. */
export const BENCH_SLUG = 'icon-pack';
const BENCH_INPUTS = [{ id: 'prompt', type: 'text' as const, value: 'benchmark icons' }];
const USER_AGENT = 'flora-vscode-bench';

export interface StrategySpec {
  id: string;
  label: string;
  strategy: PollStrategy;
  intervalMs: number;
}

export const STRATEGIES: readonly StrategySpec[] = [
  { id: 'fixed3', label: 'fixed 3 s (API document example)', strategy: 'fixed', intervalMs: 3_000 },
  { id: 'fixed2', label: 'fixed 2 s', strategy: 'fixed', intervalMs: 2_000 },
  { id: 'eta', label: "ours: Poller 'eta' (setting 3 s)", strategy: 'eta', intervalMs: 3_000 },
];

export interface RunMeasurement {
  strategy: string;
  nominalSeconds: number;
  durationMs: number;
  runId: string;
  /** Detected (the poller said completed, local clock) minus the server's completedAt. */
  detectionLatencyMs: number;
  polls: number;
  minGapMs: number;
  maxGapMs: number;
  /** TCP connections this run's create and polls used (distinct client ports at the server). */
  connections: number;
}

function pollsOf(sandbox: Sandbox, runId: string): RecordedRequest[] {
  return sandbox.requests.filter((request) => request.method === 'GET' && request.path.includes(`/runs/${runId}`));
}

/** Gaps between a run's creation and its polls, as the server saw them. */
function gapsOf(createdAt: number, polls: readonly RecordedRequest[]): number[] {
  const times = [createdAt, ...polls.map((request) => request.at)].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let index = 1; index < times.length; index++) gaps.push((times[index] ?? 0) - (times[index - 1] ?? 0));
  return gaps;
}

function newClient(baseUrl: string, dispatcher: Dispatcher): FloraClient {
  return new FloraClient({ baseUrl, getApiKey: () => 'sk_live_sandbox_key', dispatcher, userAgent: USER_AGENT });
}

/**
 * Item 3. Runs of known durations whose progress grows with time, every strategy at once on the same
 * sandboxes (so every strategy sees the same runs). Each nominal duration is run at five offsets
 * spread over 0–2.4 s: with durations that are exact multiples of 2 s or 3 s a fixed poll lands a few
 * milliseconds after the finish by coincidence, which would flatter the fixed strategies.
 */
export async function measureDetection(options: { nominalSeconds?: number[]; offsetsMs?: number[] } = {}): Promise<{
  runs: RunMeasurement[];
  wallMs: number;
}> {
  const nominalSeconds = options.nominalSeconds ?? [5, 12, 30, 90];
  const offsetsMs = options.offsetsMs ?? [0, 600, 1_200, 1_800, 2_400];
  const started = Date.now();
  const sandboxes: Array<{ sandbox: Sandbox; nominal: number; durationMs: number }> = [];
  for (const nominal of nominalSeconds) {
    for (const offset of offsetsMs) {
      const durationMs = nominal * 1000 + offset;
      sandboxes.push({ sandbox: await startSandbox({ runDurationMs: durationMs, credits: 1_000_000 }), nominal, durationMs });
    }
  }
  const perStrategy = STRATEGIES.map((spec) => {
    const dispatcher = createDispatcher();
    const clients = new Map<string, FloraClient>();
    const poller = new Poller({
      strategy: spec.strategy,
      intervalMs: spec.intervalMs,
      fetch: (target, signal) => {
        const client = clients.get(target.runId);
        if (!client) throw new Error(`no client for ${target.runId}`);
        return client.getRun(target.slug, target.runId, { pollUrl: target.pollUrl, signal });
      },
    });
    return { spec, dispatcher, clients, poller };
  });
  try {
    const tracked = await Promise.all(
      sandboxes.flatMap(({ sandbox, nominal, durationMs }) =>
        perStrategy.map(async ({ spec, dispatcher, clients, poller }) => {
          const client = newClient(sandbox.url, dispatcher);
          const created = await client.createRun(BENCH_SLUG, BENCH_INPUTS, { idempotencyKey: `bench-${spec.id}-${durationMs}` });
          clients.set(created.runId, client);
          const finished = followToEnd(poller, { slug: BENCH_SLUG, runId: created.runId, pollUrl: created.pollUrl }).final.then((final) => {
            const reply = finalReplyOf(final);
            if (!reply) throw new Error(`run ${created.runId} ended ${final.kind}, not with a reply`);
            return { reply, detectedAt: Date.now() };
          });
          return { spec, sandbox, nominal, durationMs, created, finished };
        }),
      ),
    );
    const runs: RunMeasurement[] = [];
    for (const entry of tracked) {
      const { reply, detectedAt } = await entry.finished;
      const polls = pollsOf(entry.sandbox, entry.created.runId);
      const serverRun = entry.sandbox.runs().find((run) => run.runId === entry.created.runId);
      const createdAt = serverRun?.createdAt ?? entry.created.createdAt ?? Number.NaN;
      const gaps = gapsOf(createdAt, polls);
      const create = entry.sandbox.requests.find(
        (request) => request.method === 'POST' && request.body.includes(`bench-${entry.spec.id}-${entry.durationMs}`),
      );
      const ports = new Set([...polls, ...(create ? [create] : [])].map((request) => request.remotePort));
      runs.push({
        strategy: entry.spec.id,
        nominalSeconds: entry.nominal,
        durationMs: entry.durationMs,
        runId: entry.created.runId,
        detectionLatencyMs: detectedAt - (reply.completedAt ?? Number.NaN),
        polls: polls.length,
        minGapMs: Math.min(...gaps),
        maxGapMs: Math.max(...gaps),
        connections: ports.size,
      });
    }
    return { runs, wallMs: Date.now() - started };
  } finally {
    for (const { poller, dispatcher } of perStrategy) {
      poller.dispose();
      await dispatcher.close().catch(() => undefined);
    }
    await Promise.all(sandboxes.map(({ sandbox }) => sandbox.close()));
  }
}

export interface StrategySummary {
  strategy: string;
  label: string;
  medianLatencyMs: number;
  p90LatencyMs: number;
  maxLatencyMs: number;
  meanPollsPerRun: number;
  totalPolls: number;
  minGapMs: number;
  maxGapMs: number;
  /** TCP connections per 100 requests when a lone run is followed to its end. */
  connectionsPer100Requests: number;
  /** TCP connections a lone run used from create to its end: mean, and the most for one run. */
  meanConnectionsPerRun: number;
  maxConnectionsPerRun: number;
  byDuration: Array<{ nominalSeconds: number; medianLatencyMs: number; meanPolls: number }>;
}

export function summarizeDetection(runs: readonly RunMeasurement[]): StrategySummary[] {
  return STRATEGIES.map((spec) => {
    const mine = runs.filter((run) => run.strategy === spec.id);
    const latencies = mine.map((run) => run.detectionLatencyMs);
    const nominals = [...new Set(mine.map((run) => run.nominalSeconds))].sort((a, b) => a - b);
    return {
      strategy: spec.id,
      label: spec.label,
      medianLatencyMs: median(latencies),
      p90LatencyMs: percentile(latencies, 90),
      maxLatencyMs: Math.max(...latencies),
      meanPollsPerRun: mean(mine.map((run) => run.polls)),
      totalPolls: sum(mine.map((run) => run.polls)),
      minGapMs: Math.min(...mine.map((run) => run.minGapMs)),
      maxGapMs: Math.max(...mine.map((run) => run.maxGapMs)),
      connectionsPer100Requests: (100 * sum(mine.map((run) => run.connections))) / sum(mine.map((run) => run.polls + 1)),
      meanConnectionsPerRun: mean(mine.map((run) => run.connections)),
      maxConnectionsPerRun: Math.max(...mine.map((run) => run.connections)),
      byDuration: nominals.map((nominal) => {
        const group = mine.filter((run) => run.nominalSeconds === nominal);
        return {
          nominalSeconds: nominal,
          medianLatencyMs: median(group.map((run) => run.detectionLatencyMs)),
          meanPolls: mean(group.map((run) => run.polls)),
        };
      }),
    };
  });
}

export interface ConnectionScenario {
  name: string;
  polls: number;
  connections: number;
  wallMs: number;
}

/**
 * Item 4. TCP connections as the server counts them, for 100 polls:
 * - ours, realistic: the extension's dispatcher and Poller ('eta') following 25 runs started 200 ms apart,
 *   stopped at the 100th poll;
 * - ours, back to back: 100 polls of one run in a row through the client (keep-alive reuse alone);
 * - baseline: the API document's Python example (`requests.get` without a Session) opens a connection per
 *   request, reproduced with Node's http.get and no agent.
 */
export async function measureConnections(): Promise<{ scenarios: ConnectionScenario[]; keepAliveHint: string | undefined }> {
  const scenarios: ConnectionScenario[] = [];
  let keepAliveHint: string | undefined;

  {
    const sandbox = await startSandbox({ runDurationMs: 60_000, credits: 1_000_000 });
    const dispatcher = createDispatcher();
    const client = newClient(sandbox.url, dispatcher);
    const poller = new Poller({
      strategy: 'eta',
      intervalMs: 3_000,
      fetch: (target, signal) => client.getRun(target.slug, target.runId, { pollUrl: target.pollUrl, signal }),
    });
    const started = Date.now();
    const connectionsBefore = sandbox.connections;
    const pollCount = (): number => sandbox.requests.filter((request) => request.method === 'GET').length;
    try {
      let enough: () => void = () => undefined;
      const reached = new Promise<void>((resolve) => (enough = resolve));
      const onUpdate = (): void => {
        if (pollCount() >= 100) enough();
      };
      for (let index = 0; index < 25; index++) {
        const created = await client.createRun(BENCH_SLUG, BENCH_INPUTS, { idempotencyKey: `bench-connections-${index}` });
        poller.track({ slug: BENCH_SLUG, runId: created.runId, pollUrl: created.pollUrl }, { onUpdate });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await reached;
      // Connections the 100 polls used: every connection opened from the first create to the 100th poll.
      scenarios.push({
        name: "ours: 25 runs, Poller 'eta', shared dispatcher",
        polls: 100,
        connections: sandbox.connections - connectionsBefore,
        wallMs: Date.now() - started,
      });
    } finally {
      poller.dispose();
      await dispatcher.close().catch(() => undefined);
      await sandbox.close();
    }
  }

  {
    const sandbox = await startSandbox({ runDurationMs: 600_000, credits: 1_000_000 });
    const dispatcher = createDispatcher();
    const client = newClient(sandbox.url, dispatcher);
    try {
      const created = await client.createRun(BENCH_SLUG, BENCH_INPUTS, { idempotencyKey: 'bench-sequential' });
      const started = Date.now();
      const connectionsBefore = sandbox.connections;
      for (let index = 0; index < 100; index++) await client.getRun(BENCH_SLUG, created.runId, { pollUrl: created.pollUrl });
      scenarios.push({
        name: 'ours: 100 polls back to back, one run',
        polls: 100,
        connections: sandbox.connections - connectionsBefore,
        wallMs: Date.now() - started,
      });
      const idleStarted = Date.now();
      const idleBefore = sandbox.connections;
      for (let index = 0; index < 3; index++) {
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        await client.getRun(BENCH_SLUG, created.runId, { pollUrl: created.pollUrl });
      }
      scenarios.push({
        name: 'ours: 3 polls 5 s apart, one run (the longest gap the ETA strategy leaves)',
        polls: 3,
        connections: sandbox.connections - idleBefore,
        wallMs: Date.now() - idleStarted,
      });
    } finally {
      await dispatcher.close().catch(() => undefined);
      await sandbox.close();
    }
  }

  {
    const sandbox = await startSandbox({ runDurationMs: 600_000, credits: 1_000_000 });
    const dispatcher = createDispatcher();
    try {
      const created = await newClient(sandbox.url, dispatcher).createRun(BENCH_SLUG, BENCH_INPUTS, { idempotencyKey: 'bench-baseline' });
      await dispatcher.close();
      const url = new URL(`/api/v1/techniques/${BENCH_SLUG}/runs/${created.runId}`, sandbox.url);
      // What the sandbox tells keep-alive clients about idle connections (undici honours it).
      const agent = new http.Agent({ keepAlive: true });
      keepAliveHint = await new Promise<string | undefined>((resolve, reject) => {
        const request = http.get(url, { agent, headers: { authorization: `Bearer ${sandbox.apiKey}` } }, (response) => {
          response.resume();
          response.on('end', () => resolve(String(response.headers['keep-alive'] ?? '') || undefined));
        });
        request.on('error', reject);
      });
      agent.destroy();
      const started = Date.now();
      const connectionsBefore = sandbox.connections;
      for (let index = 0; index < 100; index++) {
        await new Promise<void>((resolve, reject) => {
          const request = http.get(url, { agent: false, headers: { authorization: `Bearer ${sandbox.apiKey}` } }, (response) => {
            response.resume();
            response.on('end', resolve);
          });
          request.on('error', reject);
        });
      }
      scenarios.push({
        name: 'baseline: document example (no keep-alive), 100 polls',
        polls: 100,
        connections: sandbox.connections - connectionsBefore,
        wallMs: Date.now() - started,
      });
    } finally {
      await sandbox.close();
    }
  }
  return { scenarios, keepAliveHint };
}

export interface SchedulerChildResult {
  mode: 'ours' | 'per-run-loop';
  runs: number;
  createMs: number;
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxTimers: number;
  maxRssMiB: number;
  maxHeapUsedMiB: number;
  runIds: string[];
}

export interface SchedulerMeasurement extends SchedulerChildResult {
  polls: number;
  maxPollsIn1s: number;
  maxPollsIn2s: number;
  minGapMs: number;
  maxGapMs: number;
  /** Gaps outside 2–5 s (with 100 ms for timers, loopback and a busy machine). */
  gapsOutsideWindow: number;
}

/** Scheduler behaviour as the server sees it, for a set of runs. */
export function schedulerFigures(sandbox: Sandbox, runIds: readonly string[]): Omit<SchedulerMeasurement, keyof SchedulerChildResult> {
  const wanted = new Set(runIds);
  const createdAt = new Map(sandbox.runs().map((run) => [run.runId, run.createdAt]));
  const pollTimes: number[] = [];
  const gaps: number[] = [];
  for (const runId of wanted) {
    const polls = pollsOf(sandbox, runId);
    pollTimes.push(...polls.map((request) => request.at));
    gaps.push(...gapsOf(createdAt.get(runId) ?? Number.NaN, polls));
  }
  return {
    polls: pollTimes.length,
    maxPollsIn1s: maxInWindow(pollTimes, 1_000),
    maxPollsIn2s: maxInWindow(pollTimes, 2_000),
    minGapMs: Math.min(...gaps),
    maxGapMs: Math.max(...gaps),
    gapsOutsideWindow: gaps.filter((gap) => gap < 2_000 - 100 || gap > 5_000 + 100).length,
  };
}

/**
 * Item 5, scheduler part: 200 concurrent runs followed by one child process (so its timers, CPU and memory
 * are its own, not the sandbox's): ours (one Poller) against the obvious per-run loop (the document's
 * `while: poll; sleep(3)` once per run).
 */
export async function measureScheduler(runs = 200, durationMs = 20_000): Promise<SchedulerMeasurement[]> {
  const results: SchedulerMeasurement[] = [];
  for (const mode of ['ours', 'per-run-loop'] as const) {
    const sandbox = await startSandbox({ runDurationMs: durationMs, credits: 10_000_000 });
    try {
      const child = fork(path.join(__dirname, 'schedulerChild.js'), [sandbox.url, mode, String(runs)], { stdio: 'inherit' });
      const result = await new Promise<SchedulerChildResult>((resolve, reject) => {
        child.once('message', (message) => resolve(message as SchedulerChildResult));
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`scheduler child (${mode}) exited with ${String(code)} before reporting`)));
      });
      results.push({ ...result, ...schedulerFigures(sandbox, result.runIds) });
    } finally {
      await sandbox.close();
    }
  }
  return results;
}
