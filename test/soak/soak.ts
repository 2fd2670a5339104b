// npm run soak: several hundred runs through the sandbox while it injects random faults, driven by the
// extension's own core (client, idempotent creates, the poller) with the service's create policy. Prints
// figures; exits non-zero when a run was duplicated, lost, charged twice, or the key leaked.
//
//   node out/test/soak/soak.js [--runs 300] [--rate 0.2] [--seed 42] [--duration-ms 3000] [--json file]
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

import { FloraClient, newIdempotencyKey } from '../../src/core/api';
import { FloraCancelledError, FloraError } from '../../src/core/errors';
import { createDispatcher } from '../../src/core/dispatcher';
import { englishText } from '../../src/core/messages';
import { Poller } from '../../src/core/poller';
import type { RunInput } from '../../src/core/model';
import type { RunStatusReply } from '../../src/core/runReplies';
import { followToEnd } from '../common/pollUntilFinal';
import { startSandbox, type Fault } from '../sandbox/server';

interface Options {
  runs: number;
  rate: number;
  seed: number;
  durationMs: number;
  json: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  return {
    runs: Number(value('runs') ?? 300),
    rate: Number(value('rate') ?? 0.2),
    seed: Number(value('seed') ?? 42),
    durationMs: Number(value('duration-ms') ?? 3_000),
    json: value('json'),
  };
}

/** mulberry32: a small seeded generator, so a soak run can be repeated exactly. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHAOS: readonly Fault[] = [
  { kind: 'status', status: 500 },
  { kind: 'status', status: 503, html: true },
  { kind: 'rateLimit', retryAfterSeconds: 1 },
  { kind: 'dropBefore' },
  { kind: 'dropAfter' },
  { kind: 'malformed' },
  { kind: 'wrongShape' },
  { kind: 'delay', ms: 400 },
  { kind: 'hang' },
];

interface Plan {
  slug: string;
  inputs: RunInput[];
  expectFailure: boolean;
}

const IMAGE = 'https://media.flora.ai/soak/product.png';

function planRun(random: () => number): Plan {
  const draw = random();
  if (draw < 0.1)
    return { slug: 'icon-pack', inputs: [{ id: 'prompt', type: 'text', value: 'this one should fail' }], expectFailure: true };
  if (draw < 0.4) return { slug: 'icon-pack', inputs: [{ id: 'prompt', type: 'text', value: 'weather icons' }], expectFailure: false };
  if (draw < 0.7) return { slug: 'studio-shot', inputs: [{ id: 'product_image', type: 'imageUrl', value: IMAGE }], expectFailure: false };
  return {
    slug: 'product-animator',
    inputs: [
      { id: 'product_image', type: 'imageUrl', value: IMAGE },
      { id: 'motion_prompt', type: 'text', value: 'slow turntable' },
    ],
    expectFailure: false,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const random = seeded(options.seed);
  const sandbox = await startSandbox({ runDurationMs: options.durationMs, credits: 1_000_000 });
  // Where an off-origin pollUrl points: anything arriving here with the key is a leak.
  const leaks: string[] = [];
  let elsewhereRequests = 0;
  const elsewhere = http.createServer((request, response) => {
    elsewhereRequests++;
    if (request.headers.authorization) leaks.push(`${request.method} ${request.url}`);
    response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  const elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  const dispatcher = createDispatcher({ timeouts: { connectMs: 2_000 } });
  const client = new FloraClient({
    baseUrl: sandbox.url,
    getApiKey: () => sandbox.apiKey,
    dispatcher,
    userAgent: 'flora-vscode-soak',
    timeouts: { headersMs: 3_000, bodyMs: 3_000 },
    random,
  });
  const poller = new Poller({
    fetch: (target, signal) => client.getRun(target.slug, target.runId, { pollUrl: target.pollUrl, signal }),
    intervalMs: 2_000,
    strategy: 'eta',
    maxBackoffMs: 10_000,
    random,
  });
  sandbox.faults.chaos = { rate: options.rate, faults: CHAOS, random };

  const started = Date.now();
  const outcomes: Array<{ plan: Plan; key: string; reply?: RunStatusReply; error?: string }> = [];
  const run = async (plan: Plan): Promise<void> => {
    const key = newIdempotencyKey();
    const outcome: (typeof outcomes)[number] = { plan, key };
    outcomes.push(outcome);
    // The service's create policy: the client retries; after that the same request (same key) again.
    for (let attempt = 0; ; attempt++) {
      try {
        const created = await client.createRun(plan.slug, plan.inputs, { idempotencyKey: key });
        const final = await followToEnd(poller, { slug: plan.slug, runId: created.runId, pollUrl: created.pollUrl }).final;
        if (final.kind === 'completed' || final.kind === 'failed') outcome.reply = final.reply;
        // A run FLORA no longer knows is recorded as the extension records it: failed, not_found.
        else if (final.kind === 'gone')
          outcome.reply = { runId: created.runId, status: 'failed', errorCode: 'not_found', errorMessage: englishText(final.explanation) };
        else outcome.error = englishText(final.explanation);
        return;
      } catch (error) {
        const retryable = error instanceof FloraError && error.retryable && !(error instanceof FloraCancelledError);
        if (!retryable || attempt >= 20) {
          outcome.error = error instanceof Error ? error.message : String(error);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };

  const pending: Array<Promise<void>> = [];
  for (let index = 0; index < options.runs; index++) {
    // Half the runs get their pollUrl on another origin.
    sandbox.faults.pollOrigin = index % 2 === 0 ? elsewhereOrigin : undefined;
    pending.push(run(planRun(random)));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  sandbox.faults.pollOrigin = undefined;
  await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 10 * 60_000))]);
  const elapsedSeconds = (Date.now() - started) / 1000;

  const completed = outcomes.filter((outcome) => outcome.reply?.status === 'completed');
  const failedExpected = outcomes.filter((outcome) => outcome.reply?.status === 'failed' && outcome.plan.expectFailure);
  const failedUnexpected = outcomes.filter(
    (outcome) => (outcome.reply?.status === 'failed' && !outcome.plan.expectFailure) || outcome.error,
  );
  const lost = outcomes.filter(
    (outcome) =>
      !outcome.reply ||
      (outcome.reply.status === 'completed' && (outcome.reply.outputs?.length ?? 0) === 0) ||
      (outcome.reply.status === 'completed' && outcome.plan.expectFailure),
  );
  const byKey = new Map<string, number>();
  for (const sandboxRun of sandbox.runs()) {
    if (sandboxRun.idempotencyKey) byKey.set(sandboxRun.idempotencyKey, (byKey.get(sandboxRun.idempotencyKey) ?? 0) + 1);
  }
  const duplicates =
    [...byKey.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0) +
    sandbox.runs().filter((entry) => !entry.idempotencyKey).length;
  const apiRequests = sandbox.requests.filter((request) => request.path.startsWith('/api/')).length;
  const figures = {
    seed: options.seed,
    faultRate: options.rate,
    runsStarted: outcomes.length,
    completed: completed.length,
    failedAsExpected: failedExpected.length,
    failedUnexpectedly: failedUnexpected.length,
    duplicatesCreated: duplicates,
    resultsLost: lost.length,
    chargesMinusCompleted: sandbox.charges() - completed.length,
    keyLeaks: leaks.length,
    requestsToOffOrigin: elsewhereRequests,
    requestsPerRun: Number((apiRequests / Math.max(1, outcomes.length)).toFixed(2)),
    elapsedSeconds: Number(elapsedSeconds.toFixed(1)),
  };

  poller.dispose();
  await dispatcher.close().catch(() => undefined);
  await sandbox.close();
  await new Promise<void>((resolve) => elsewhere.close(() => resolve()));

  const rows: Array<[string, string | number, string]> = [
    ['runs started', figures.runsStarted, ''],
    ['completed', figures.completed, ''],
    ['failed as expected', figures.failedAsExpected, ''],
    ['failed unexpectedly', figures.failedUnexpectedly, 'should be 0'],
    ['duplicates created', figures.duplicatesCreated, 'must be 0'],
    ['results lost', figures.resultsLost, 'must be 0'],
    ['charges − completed', figures.chargesMinusCompleted, 'must be 0'],
    ['key leaks', figures.keyLeaks, 'must be 0'],
    ['requests to the off-origin pollUrl', figures.requestsToOffOrigin, 'must be 0'],
    ['API requests per run', figures.requestsPerRun, ''],
    ['elapsed (s)', figures.elapsedSeconds, ''],
  ];
  console.log(
    `\nFLORA soak: ${options.runs} runs, fault rate ${options.rate}, seed ${options.seed}, run duration ${options.durationMs} ms\n`,
  );
  for (const [label, value, goal] of rows) console.log(`  ${label.padEnd(36)} ${String(value).padStart(8)}  ${goal}`);
  for (const outcome of failedUnexpected.slice(0, 5))
    console.log(`  unexpected: ${outcome.plan.slug}: ${outcome.error ?? `${outcome.reply?.errorCode}: ${outcome.reply?.errorMessage}`}`);
  if (options.json) {
    fs.mkdirSync(path.dirname(options.json), { recursive: true });
    fs.writeFileSync(options.json, `${JSON.stringify(figures, null, 2)}\n`);
  }
  const broken =
    figures.duplicatesCreated +
    figures.resultsLost +
    Math.abs(figures.chargesMinusCompleted) +
    figures.keyLeaks +
    figures.requestsToOffOrigin;
  console.log(broken === 0 ? '\nsoak: every run accounted for, none duplicated, no key leaked.' : '\nsoak: FAILED');
  process.exit(broken === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
