// Child process of measureScheduler (polling.ts): follows N concurrent runs on the sandbox at argv[2],
// either with the extension's one Poller ('ours') or with one sleep-loop per run ('per-run-loop'), and
// reports its own timers, CPU time and memory to the parent over IPC.
import { FloraClient } from '../../src/core/api';
import { createDispatcher } from '../../src/core/dispatcher';
import { Poller } from '../../src/core/poller';
import { isFinalStatus } from '../../src/core/schemas';
import { followToEnd } from '../common/pollUntilFinal';
import type { SchedulerChildResult } from './polling';

const SLUG = 'icon-pack';

async function main(): Promise<void> {
  const [baseUrl, modeArgument, countArgument] = process.argv.slice(2);
  if (!baseUrl || (modeArgument !== 'ours' && modeArgument !== 'per-run-loop'))
    throw new Error('usage: schedulerChild <url> ours|per-run-loop <count>');
  const mode = modeArgument;
  const count = Number(countArgument) || 200;
  const dispatcher = createDispatcher();
  const client = new FloraClient({ baseUrl, getApiKey: () => 'sk_live_sandbox_key', dispatcher, userAgent: 'flora-vscode-bench' });

  let maxTimers = 0;
  let maxRss = 0;
  let maxHeap = 0;
  const sample = (): void => {
    // The sampler's own interval is one of them; it is taken off below.
    const timers = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length - 1;
    maxTimers = Math.max(maxTimers, timers);
    const memory = process.memoryUsage();
    maxRss = Math.max(maxRss, memory.rss);
    maxHeap = Math.max(maxHeap, memory.heapUsed);
  };
  const sampler = setInterval(sample, 50);

  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  const created = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      client.createRun(SLUG, [{ id: 'prompt', type: 'text', value: `scale ${index}` }], { idempotencyKey: `scale-${mode}-${index}` }),
    ),
  );
  const createMs = Date.now() - started;

  if (mode === 'ours') {
    const poller = new Poller({
      strategy: 'eta',
      intervalMs: 3_000,
      fetch: (target, signal) => client.getRun(target.slug, target.runId, { pollUrl: target.pollUrl, signal }),
    });
    await Promise.all(created.map((run) => followToEnd(poller, { slug: SLUG, runId: run.runId, pollUrl: run.pollUrl }).final));
    poller.dispose();
  } else {
    await Promise.all(
      created.map(async (run) => {
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, 3_000));
          const reply = await client.getRun(SLUG, run.runId, { pollUrl: run.pollUrl });
          if (isFinalStatus(reply.status)) return;
        }
      }),
    );
  }
  const wallMs = Date.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  await dispatcher.close().catch(() => undefined);
  const result: SchedulerChildResult = {
    mode,
    runs: count,
    createMs,
    wallMs,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    maxTimers,
    maxRssMiB: maxRss / (1024 * 1024),
    maxHeapUsedMiB: maxHeap / (1024 * 1024),
    runIds: created.map((run) => run.runId),
  };
  process.send?.(result);
  process.disconnect?.();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
