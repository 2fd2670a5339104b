/**
 * Issue 10, item 5: one unexpected field must not lose a paid result, and nothing is retried for ever.
 * Replies go through the real client over loopback HTTP and through the Poller, whose clock and timers are
 * driven by the test (no sleeps): every run ends in a defined state, every well-formed output is kept.
 */
import * as assert from 'node:assert/strict';
import type * as http from 'node:http';
import fc from 'fast-check';
import type { Dispatcher } from 'undici';

import { FloraClient, MAX_RUN_BODY_BYTES } from '../../../src/core/api';
import { createDispatcher } from '../../../src/core/dispatcher';
import { FloraProtocolError, FloraServerError } from '../../../src/core/errors';
import { englishText } from '../../../src/core/messages';
import {
  DEFAULT_FAILURE_LIMIT_MS,
  DEFAULT_UNKNOWN_STATUS_LIMIT_MS,
  Poller,
  type PollUpdate,
  type RunFetcher,
} from '../../../src/core/poller';
import { readRunStatusReply, REPLY_LIMITS, type RunOutput, type RunStatusReply } from '../../../src/core/runReplies';
import { ManualTime } from '../../common/manualTime';
import { followToEnd } from '../../common/pollUntilFinal';
import { makeClient, pollThrough, sendJson, startLoopbackServer, type LoopbackServer } from './helpers';

const SEED = 20261201;
const SLUG = 'studio-shot';

interface Outcome {
  /** 'following': still polled at the horizon (FLORA keeps saying pending or running, which is no retry). */
  state: 'completed' | 'failed' | 'gone' | 'stopped' | 'following';
  final?: RunStatusReply;
  /** The final update when it is 'stopped'. */
  stopped?: Extract<PollUpdate, { kind: 'stopped' }>;
  updates: PollUpdate[];
}

/** How an outcome ended, for assertion messages. */
function describeOutcome(outcome: Outcome): string {
  return outcome.stopped ? `stopped (${outcome.stopped.reason}): ${englishText(outcome.stopped.explanation)}` : outcome.state;
}

/** Follows one run with a poller on manual time until its final update (or `horizonMs` passes). */
async function follow(
  time: ManualTime,
  fetch: RunFetcher,
  options: { horizonMs?: number; failureLimitMs?: number; unknownStatusLimitMs?: number } = {},
): Promise<Outcome> {
  const poller = new Poller({
    fetch: time.track(fetch),
    intervalMs: 2_000,
    random: () => 0.5,
    now: time.clock,
    timers: time.timers,
    failureLimitMs: options.failureLimitMs,
    unknownStatusLimitMs: options.unknownStatusLimitMs,
  });
  const followed = followToEnd(poller, { slug: SLUG, runId: 'j57run' }, { immediate: true });
  const horizon = time.now + (options.horizonMs ?? 4 * 60 * 60_000);
  while (!followed.ended && time.now < horizon) await time.advance(60_000);
  poller.dispose();
  const { ended, updates } = followed;
  if (!ended) return { state: 'following', updates };
  if (ended.kind === 'completed' || ended.kind === 'failed') return { state: ended.kind, final: ended.reply, updates };
  if (ended.kind === 'stopped') return { state: 'stopped', stopped: ended, updates };
  return { state: ended.kind, updates };
}

describe('tolerant reading of run replies (issue 10, item 5)', () => {
  let dispatcher: Dispatcher;
  let server: LoopbackServer;
  /** What the loopback server answers next; a function so each test scripts its own sequence. */
  let respond: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  let client: FloraClient;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    dispatcher = createDispatcher();
    server = await startLoopbackServer((request, response) => respond(request, response));
    client = makeClient({ url: server.url, apiKey: 'sk_live_loopback' }, dispatcher, { retry: { attempts: 1 } });
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server.close();
    await dispatcher.close();
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });

  /** The server answers every request with `body` (JSON unless a string). */
  function serve(body: unknown, status = 200): void {
    respond = (_request, response) => {
      if (typeof body === 'string') {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(body);
      } else sendJson(response, status, body);
    };
  }

  const GOOD = { type: 'imageUrl', url: 'https://ik.imagekit.io/flora/out.png' };

  describe('examples from the issue, through the real client', () => {
    it('records a completed reply with an ISO-8601 completedAt', async () => {
      serve({ runId: 'j57run', status: 'completed', completedAt: '2024-03-09T16:00:30Z', chargedCost: 5, outputs: [GOOD] });
      const reply = await client.getRun(SLUG, 'j57run');
      assert.equal(reply.status, 'completed');
      assert.equal(reply.completedAt, Date.UTC(2024, 2, 9, 16, 0, 30));
      assert.deepEqual(reply.outputs, [GOOD]);
    });

    it('reads a status the document does not list as still running, keeping the outputs', async () => {
      serve({ runId: 'j57run', status: 'succeeded', outputs: [GOOD] });
      const reply = await client.getRun(SLUG, 'j57run');
      assert.equal(reply.status, 'pending');
      assert.equal(reply.unknownStatus, 'succeeded');
      assert.deepEqual(reply.outputs, [GOOD]);
      assert.match(reply.notes?.join() ?? '', /status: "succeeded"/);
    });

    it('keeps the good outputs beside an empty output URL, and notes the empty one', async () => {
      serve({ runId: 'j57run', status: 'completed', outputs: [GOOD, { type: 'imageUrl', url: '' }, GOOD] });
      const reply = await client.getRun(SLUG, 'j57run');
      assert.deepEqual(reply.outputs, [GOOD, GOOD]);
      assert.match(reply.notes?.join() ?? '', /outputs\.1\.url/);
    });

    it('drops a negative chargedCost and records the rest', async () => {
      serve({ runId: 'j57run', status: 'completed', chargedCost: -5, outputs: [GOOD] });
      const reply = await client.getRun(SLUG, 'j57run');
      assert.equal(reply.status, 'completed');
      assert.equal(reply.chargedCost, undefined);
      assert.deepEqual(reply.outputs, [GOOD]);
    });

    it('keeps the runId of a create reply whose status is unknown', async () => {
      serve({ runId: 'j57created', status: 'accepted', createdAt: 'soon' }, 201);
      const reply = await client.createRun(SLUG, [{ id: 'product_image', type: 'imageUrl', value: GOOD.url }], {
        idempotencyKey: 'flora-vscode-test',
      });
      assert.equal(reply.runId, 'j57created');
      assert.equal(reply.status, 'pending');
      assert.equal(reply.unknownStatus, 'accepted');
      assert.equal(reply.createdAt, undefined);
    });

    it('reads a completed reply with 10 000 outputs and a 1 MB string (past the old 1 MiB cap)', async () => {
      const outputs = Array.from({ length: 10_000 }, (_, index) => ({
        outputId: `o${index}`,
        type: 'imageUrl',
        url: `https://ik.imagekit.io/flora/${index}.png`,
      }));
      const body = { runId: 'j57run', status: 'completed', errorMessage: 'x'.repeat(1_000_000), outputs };
      assert.ok(Buffer.byteLength(JSON.stringify(body)) > 1024 * 1024, 'the reply is larger than the old cap');
      serve(body);
      const reply = await client.getRun(SLUG, 'j57run');
      assert.equal(reply.status, 'completed');
      assert.deepEqual(reply.outputs, outputs.slice(0, REPLY_LIMITS.maxOutputs));
      assert.equal(reply.errorMessage?.length, REPLY_LIMITS.maxTextLength);
    });

    it('records a completed reply of 10 000 outputs with 1.7 KB URLs (17 MB) with the capped outputs and a note', async () => {
      // Each URL is long but well inside maxUrlLength, so every one of them is well-formed.
      const outputs = Array.from({ length: 10_000 }, (_, index) => ({
        outputId: `o${index}`,
        type: 'imageUrl',
        url: `https://ik.imagekit.io/flora/${String(index).padStart(5, '0')}/${'a'.repeat(1_700)}.png`,
      }));
      const body = JSON.stringify({ runId: 'j57run', status: 'completed', chargedCost: 5, outputs });
      assert.ok(Buffer.byteLength(body) > 17_000_000, `the reply is ${Buffer.byteLength(body)} bytes`);
      assert.ok(MAX_RUN_BODY_BYTES >= 2 * REPLY_LIMITS.maxOutputs * REPLY_LIMITS.maxUrlLength, 'the cap covers what the reader keeps');
      serve(body);
      const outcome = await follow(new ManualTime(), pollThrough(client));
      assert.equal(outcome.state, 'completed', describeOutcome(outcome));
      assert.equal(outcome.final?.chargedCost, 5);
      assert.deepEqual(outcome.final?.outputs, outputs.slice(0, REPLY_LIMITS.maxOutputs));
      assert.ok(
        outcome.final?.notes?.includes(`outputs: kept the first ${REPLY_LIMITS.maxOutputs} of 10000 outputs`),
        outcome.final?.notes?.join('; '),
      );
    });

    it('still refuses a reply larger than the run cap, and one without a runId, as FloraProtocolError', async () => {
      respond = (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(`{"runId":"j57run","status":"running","pad":"${'p'.repeat(MAX_RUN_BODY_BYTES)}"}`);
      };
      await assert.rejects(
        client.getRun(SLUG, 'j57run'),
        (error: unknown) => error instanceof FloraProtocolError && /larger than/.test(error.detail),
      );
      serve({ status: 'completed', outputs: [GOOD] });
      await assert.rejects(
        client.getRun(SLUG, 'j57run'),
        (error: unknown) => error instanceof FloraProtocolError && /runId/.test(error.detail),
      );
      serve('[1, 2]');
      await assert.rejects(client.getRun(SLUG, 'j57run'), FloraProtocolError);
    });
  });

  describe('bounded following, on manual time', () => {
    it('follows a completed reply with an ISO completedAt to completed (it used to be polled for ever)', async () => {
      serve({ runId: 'j57run', status: 'completed', completedAt: '2024-03-09T16:00:30Z', outputs: [GOOD] });
      const outcome = await follow(new ManualTime(), pollThrough(client));
      assert.equal(outcome.state, 'completed');
      assert.deepEqual(outcome.final?.outputs, [GOOD]);
    });

    it('stops following after 30 min of unreadable replies: stopped, with the reason and a message', async () => {
      serve({ status: 42 });
      const time = new ManualTime();
      const started = time.now;
      const outcome = await follow(time, pollThrough(client));
      assert.equal(outcome.state, 'stopped');
      assert.equal(outcome.stopped?.reason, 'unreadable');
      const stopped = outcome.updates.at(-1);
      assert.equal(stopped?.kind, 'stopped');
      assert.match(
        stopped?.kind === 'stopped' ? englishText(stopped.explanation) : '',
        /Stopped following run j57run — FLORA's replies could not be read for 30 min/,
      );
      const elapsed = time.now - started;
      assert.ok(elapsed >= DEFAULT_FAILURE_LIMIT_MS && elapsed <= DEFAULT_FAILURE_LIMIT_MS + 2 * 60_000, `stopped after ${elapsed} ms`);
    });

    it('stops following after 30 min of server errors, as "failing"', async () => {
      const outcome = await follow(new ManualTime(), () => Promise.reject(new FloraServerError(503, { id: 'serverError', args: [503] })));
      assert.equal(outcome.state, 'stopped');
      assert.equal(outcome.stopped?.reason, 'failing');
    });

    it('treats an unknown status as running for 2 h, recording each reply, then stops', async () => {
      serve({ runId: 'j57run', status: 'succeeded', outputs: [GOOD] });
      const time = new ManualTime();
      const started = time.now;
      const outcome = await follow(time, pollThrough(client), { horizonMs: 3 * 60 * 60_000 });
      assert.equal(outcome.state, 'stopped');
      assert.equal(outcome.stopped?.reason, 'unknownStatus');
      const elapsed = time.now - started;
      assert.ok(
        elapsed >= DEFAULT_UNKNOWN_STATUS_LIMIT_MS && elapsed <= DEFAULT_UNKNOWN_STATUS_LIMIT_MS + 2 * 60_000,
        `stopped after ${elapsed} ms`,
      );
      const statuses = outcome.updates.filter((update) => update.kind === 'status');
      assert.ok(statuses.length > 1000, 'polled (and recorded) throughout');
      assert.deepEqual(statuses.at(-1)?.kind === 'status' ? statuses.at(-1)?.reply.outputs : undefined, [GOOD]);
    });

    it('a readable reply resets the failure bound; a known status resets the unknown-status bound', async () => {
      let call = 0;
      const time = new ManualTime();
      const outcome = await follow(
        time,
        () => {
          call++;
          // Every 20th poll is readable and running; the rest fail. Without the reset this would stop.
          if (call > 2_000) return Promise.resolve({ runId: 'j57run', status: 'completed', outputs: [] });
          if (call % 20 === 0) return Promise.resolve({ runId: 'j57run', status: 'running' });
          return Promise.reject(new FloraProtocolError('bad', { id: 'replyNotJson', args: [200] }));
        },
        { failureLimitMs: 10 * 60_000, horizonMs: 48 * 60 * 60_000 },
      );
      assert.equal(outcome.state, 'completed');
    });

    it('leaves no timer behind once a run is stopped', async () => {
      serve({ status: 42 });
      const time = new ManualTime();
      const outcome = await follow(time, pollThrough(client), { failureLimitMs: 60_000 });
      assert.equal(outcome.state, 'stopped');
      assert.equal(time.scheduled, 0);
    });
  });

  describe('property: any reply, in any status, ends in a defined state with its well-formed outputs', function () {
    // Manual time: hours of polling run in real milliseconds, but many cases of them take a while.
    this.timeout(300_000);
    const url = fc.webUrl({ withQueryParameters: true, withFragments: true });
    const wellFormedOutput = fc.record(
      { outputId: fc.string({ minLength: 1, maxLength: 20 }), type: fc.constantFrom('imageUrl', 'videoUrl', 'text'), url },
      { requiredKeys: ['type', 'url'] },
    );
    const junk = fc.oneof(
      fc.constant(null),
      fc.constant(''),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.string({ maxLength: 30 }),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.object({ maxDepth: 1, maxKeys: 3 }),
      fc.constant('2024-03-09T16:00:30Z'),
      fc.constant(-1),
      fc.constant(1e300),
    );
    const badOutput = fc.oneof(
      junk,
      fc.record({ type: fc.constantFrom('imageUrl', ''), url: fc.constantFrom('', '   ', null, 5) }),
      fc.record({ type: fc.constant('imageUrl'), url: fc.constant(`https://x.io/${'u'.repeat(REPLY_LIMITS.maxUrlLength)}`) }),
    );
    const field = (good: fc.Arbitrary<unknown>) =>
      fc.option(fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: junk }), { nil: undefined });
    const status = fc.oneof(
      fc.constantFrom('pending', 'running', 'completed', 'failed'),
      fc.constantFrom('done', 'COMPLETED', '', 'succeeded'),
      junk,
    );
    const reply = fc.record(
      {
        runId: fc.oneof({ weight: 9, arbitrary: fc.constant('j57run') }, { weight: 1, arbitrary: junk }),
        status,
        progress: field(fc.integer({ min: -50, max: 250 })),
        createdAt: field(
          fc.oneof(
            fc.nat(),
            fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
          ),
        ),
        startedAt: field(fc.nat()),
        completedAt: field(fc.oneof(fc.nat(), fc.constant('2024-03-09T16:00:30.123+02:00'))),
        chargedCost: field(fc.integer({ min: -10, max: 100 })),
        outputs: fc.option(
          fc.array(
            fc.oneof(
              { weight: 3, arbitrary: wellFormedOutput.map((output) => ({ good: true, output })) },
              { weight: 1, arbitrary: badOutput.map((output) => ({ good: false, output })) },
            ),
            {
              maxLength: 8,
            },
          ),
          { nil: undefined },
        ),
        errorCode: field(fc.string({ maxLength: 20 })),
        errorMessage: field(fc.string({ maxLength: 50 })),
        extra: fc.option(fc.object({ maxDepth: 2 }), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    /** Sometimes huge: a 1 MB string in a field, or 10 000 outputs. */
    const huge = fc.constantFrom('none', 'none', 'none', 'none', 'string', 'outputs');

    it('through the real client over loopback HTTP and the poller', async () => {
      await fc.assert(
        fc.asyncProperty(reply, huge, async (generated, size) => {
          const body: Record<string, unknown> = { ...generated, outputs: generated.outputs?.map((entry) => entry.output) };
          let expected: RunOutput[] = (generated.outputs ?? []).filter((entry) => entry.good).map((entry) => entry.output as RunOutput);
          if (size === 'string') body.errorMessage = 'm'.repeat(1_000_000);
          if (size === 'outputs') {
            const many = Array.from({ length: 10_000 }, (_, index) => ({
              type: 'imageUrl',
              url: `https://ik.imagekit.io/flora/${index}.png`,
            }));
            body.outputs = many;
            expected = many;
          }
          serve(body);
          const outcome = await follow(new ManualTime(), pollThrough(client), {
            failureLimitMs: 60_000,
            unknownStatusLimitMs: 60_000,
            horizonMs: 10 * 60_000,
          });

          // A defined end: FLORA's verdict, or stopped with a reason; still followed only while FLORA
          // says, in a status the document lists, that the run is queued or running.
          const usableRunId = body.runId === 'j57run';
          const reason = outcome.stopped?.reason;
          if (!usableRunId) assert.equal(reason, 'unreadable', describeOutcome(outcome));
          else if (body.status === 'completed' || body.status === 'failed') assert.equal(outcome.state, body.status);
          else if (body.status === 'pending' || body.status === 'running') assert.equal(outcome.state, 'following');
          else assert.equal(reason, 'unknownStatus', describeOutcome(outcome));

          // Every well-formed output reached the record's updates, in order, within the cap.
          if (usableRunId && expected.length > 0) {
            const last = [...outcome.updates]
              .reverse()
              .find((update) => update.kind !== 'stopped' && update.kind !== 'retrying' && update.kind !== 'paused');
            const outputs = last && 'reply' in last ? last.reply.outputs : undefined;
            assert.deepEqual(
              outputs?.map((output) => output.url),
              expected.slice(0, REPLY_LIMITS.maxOutputs).map((output) => output.url),
            );
          }
        }),
        { seed: SEED, numRuns: 60 },
      );
    });

    it('through the reader and the poller, over sequences of replies and failures', async () => {
      const step = fc.oneof(
        reply.map((generated) => ({
          kind: 'reply' as const,
          body: { ...generated, runId: 'j57run', outputs: generated.outputs?.map((entry) => entry.output) },
        })),
        fc.constant({ kind: 'error' as const, body: undefined }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
          let index = 0;
          const fetch: RunFetcher = () => {
            const current = steps[Math.min(index++, steps.length - 1)];
            if (!current || current.kind === 'error') return Promise.reject(new FloraServerError(502, { id: 'serverError', args: [502] }));
            const reading = readRunStatusReply(JSON.parse(JSON.stringify(current.body)));
            return reading.value
              ? Promise.resolve(reading.value)
              : Promise.reject(new FloraProtocolError(reading.notes.join('; '), { id: 'replyNotJson', args: [200] }));
          };
          const outcome = await follow(new ManualTime(), fetch, {
            failureLimitMs: 60_000,
            unknownStatusLimitMs: 60_000,
            horizonMs: 10 * 60_000,
          });
          // FLORA's verdict, a stop with a reason, or still following (checked below); never gone (no 404 here).
          assert.ok(['completed', 'failed', 'stopped', 'following'].includes(outcome.state), describeOutcome(outcome));
          // Still followed only when the last reply is readable and says pending or running.
          if (outcome.state === 'following') {
            const last = steps.at(-1);
            const reading = last?.kind === 'reply' ? readRunStatusReply(JSON.parse(JSON.stringify(last.body))) : undefined;
            assert.ok(reading?.value && reading.value.unknownStatus === undefined && ['pending', 'running'].includes(reading.value.status));
          }
        }),
        { seed: SEED, numRuns: 200 },
      );
    });
  });
});
