// The benchmark's module inside the extension host (named by `extensionTestsPath`; the host awaits run()).
// It reads what VS Code itself records about activation (the extension host's performance marks), and
// drives the 200-run scale test through the extension's automation contract, measuring this process's
// CPU time and memory. It talks to the driver (test/bench/editor.ts) through files in FLORA_BENCH_DIR:
// the host writes `<step>.json`, the driver answers with `<step>.go`.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FloraApi } from '../../../src/extension';
import { waitFor } from '../../common/wait';

export const FLORA_ID = 'flora-community.flora-vscode';
export const HELLO_ID = 'flora-bench.flora-bench-hello-world';

export interface ActivationMarks {
  extensionId: string;
  /** require() of the extension's main module. */
  loadCodeMs: number;
  /** activate() until its result (and returned promise) settled. */
  activateCallMs: number;
  /** From starting to load the code until activation finished (what a command waiting on activation waits). */
  totalMs: number;
  /** The didActivateExtension mark, in the marks' own clock. */
  didActivateAt: number;
}

export interface ActivationStep {
  extensions: ActivationMarks[];
  /** Runs in FLORA's history once activated. */
  historyRuns: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** Extension host uptime (ms) when both extensions were active. */
  hostUptimeMs: number;
  pid: number;
  /**
   * From the end of FLORA's activate() until its history held FLORA_BENCH_EXPECT_RUNS runs: the history is
   * read after activation, so this is how long the Runs view may still be filling.
   */
  historyLoadedMs: number;
}

export interface ScaleStep {
  runs: number;
  idle: { wallMs: number; cpuMs: number };
  create: { wallMs: number; cpuMs: number };
  follow: { wallMs: number; cpuMs: number };
  rssMiB: { before: number; peak: number; after: number };
  heapUsedMiB: { before: number; peak: number; after: number };
  /** Every store change the extension published (onDidChangeRun), local clock: the uncoalesced rate. */
  changeEventTimes: number[];
  startedAt: number;
  createdAt: number;
  finishedAt: number;
  runIds: string[];
  failedToCreate: number;
}

interface PerformanceMark {
  name: string;
  startTime: number;
}

function performanceMarks(): PerformanceMark[] {
  const holder = globalThis as { MonacoPerformanceMarks?: { getMarks(): PerformanceMark[] } };
  return holder.MonacoPerformanceMarks?.getMarks() ?? [];
}

function activationMarks(extensionId: string): ActivationMarks {
  const marks = performanceMarks();
  const at = (what: string): number => {
    const name = `code/extHost/${what}/${extensionId}`.toLowerCase();
    const mark = marks.find((candidate) => candidate.name.toLowerCase() === name);
    if (!mark) throw new Error(`no performance mark ${name}`);
    return mark.startTime;
  };
  const willLoad = at('willLoadExtensionCode');
  const didLoad = at('didLoadExtensionCode');
  const willActivate = at('willActivateExtension');
  const didActivate = at('didActivateExtension');
  return {
    extensionId,
    loadCodeMs: didLoad - willLoad,
    activateCallMs: didActivate - willActivate,
    totalMs: didActivate - willLoad,
    didActivateAt: didActivate,
  };
}

/** "Now" in the clock of the performance marks: epoch ms in the extension host's polyfill, else performance.now(). */
function markClock(): number {
  const sample = performanceMarks()[0];
  return sample && sample.startTime > 1e12 ? Date.now() : performance.now();
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

class Channel {
  constructor(private readonly directory: string) {}

  send(step: string, data: unknown): void {
    const file = path.join(this.directory, `${step}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(data));
    fs.renameSync(`${file}.tmp`, file);
  }

  async receive(step: string, timeoutMs = 10 * 60_000): Promise<void> {
    const file = path.join(this.directory, `${step}.go`);
    await waitFor(`${step}.go`, () => fs.existsSync(file), timeoutMs, 25);
  }
}

const mib = (bytes: number): number => bytes / (1024 * 1024);

async function activationStep(): Promise<{ step: ActivationStep; api: FloraApi }> {
  const flora = await waitFor(
    'FLORA active',
    () => {
      const extension = vscode.extensions.getExtension<FloraApi>(FLORA_ID);
      return extension?.isActive ? extension : undefined;
    },
    120_000,
    25,
  );
  await waitFor('hello-world active', () => vscode.extensions.getExtension(HELLO_ID)?.isActive, 120_000, 25);
  const hostUptimeMs = process.uptime() * 1000;
  const api = flora.exports;
  const floraMarks = activationMarks(FLORA_ID);
  const expected = Number(process.env.FLORA_BENCH_EXPECT_RUNS) || 0;
  await waitFor(`${expected} runs in the history`, () => api.getRuns().length >= expected, 120_000, 25);
  const memory = process.memoryUsage();
  return {
    api,
    step: {
      extensions: [floraMarks, activationMarks(HELLO_ID)],
      historyRuns: api.getRuns().length,
      rssMiB: mib(memory.rss),
      heapUsedMiB: mib(memory.heapUsed),
      hostUptimeMs,
      pid: process.pid,
      historyLoadedMs: expected > 0 ? markClock() - floraMarks.didActivateAt : 0,
    },
  };
}

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

async function scaleStep(api: FloraApi, runs: number, slug: string): Promise<ScaleStep> {
  let peakRss = 0;
  let peakHeap = 0;
  const sampleMemory = (): NodeJS.MemoryUsage => {
    const memory = process.memoryUsage();
    peakRss = Math.max(peakRss, memory.rss);
    peakHeap = Math.max(peakHeap, memory.heapUsed);
    return memory;
  };
  // The idle baseline: the same host doing nothing of ours for a few seconds.
  const idleStarted = Date.now();
  const idleCpu = process.cpuUsage();
  await sleep(5_000);
  const idle = { wallMs: Date.now() - idleStarted, cpuMs: cpuMs(process.cpuUsage(idleCpu)) };

  const before = sampleMemory();
  peakRss = before.rss;
  peakHeap = before.heapUsed;
  const sampler = setInterval(sampleMemory, 200);
  const changeEventTimes: number[] = [];
  const subscription = api.onDidChangeRun(() => changeEventTimes.push(Date.now()));
  try {
    const startedAt = Date.now();
    const createCpu = process.cpuUsage();
    const created = await Promise.allSettled(
      Array.from({ length: runs }, (_, index) =>
        vscode.commands.executeCommand<{ runId: string }>('flora.runTechnique', {
          slug,
          inputs: { prompt: `benchmark run ${index}` },
          confirm: false,
        }),
      ),
    );
    const createdAt = Date.now();
    const create = { wallMs: createdAt - startedAt, cpuMs: cpuMs(process.cpuUsage(createCpu)) };
    const runIds = created.flatMap((result) => (result.status === 'fulfilled' && result.value?.runId ? [result.value.runId] : []));
    const followCpu = process.cpuUsage();
    const wanted = new Set(runIds);
    await waitFor(
      'all runs finished',
      () => !api.getRuns().some((record) => wanted.has(record.runId) && (record.status === 'pending' || record.status === 'running')),
      10 * 60_000,
      25,
    );
    const finishedAt = Date.now();
    const follow = { wallMs: finishedAt - createdAt, cpuMs: cpuMs(process.cpuUsage(followCpu)) };
    const after = sampleMemory();
    return {
      runs,
      idle,
      create,
      follow,
      rssMiB: { before: mib(before.rss), peak: mib(peakRss), after: mib(after.rss) },
      heapUsedMiB: { before: mib(before.heapUsed), peak: mib(peakHeap), after: mib(after.heapUsed) },
      changeEventTimes,
      startedAt,
      createdAt,
      finishedAt,
      runIds,
      failedToCreate: runs - runIds.length,
    };
  } finally {
    clearInterval(sampler);
    subscription.dispose();
  }
}

export async function run(): Promise<void> {
  const directory = process.env.FLORA_BENCH_DIR;
  const phase = process.env.FLORA_BENCH_PHASE;
  if (!directory || !phase) throw new Error('FLORA_BENCH_DIR and FLORA_BENCH_PHASE must be set');
  const channel = new Channel(directory);
  try {
    const { step, api } = await activationStep();
    channel.send('ready', step);
    if (phase === 'interactive') {
      await channel.receive('scale');
      channel.send('scale', await scaleStep(api, Number(process.env.FLORA_BENCH_RUNS) || 200, process.env.FLORA_BENCH_SLUG || 'icon-pack'));
    }
    await channel.receive('done');
  } catch (error) {
    channel.send('error', { message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    throw error;
  }
}
