/**
 * The Poller following real runs on the sandbox. The document's 2–5 s window is enforced by the Poller
 * itself, so these tests wait real seconds; each one keeps to a couple of poll intervals.
 */
import * as assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';

import { FloraClient } from '../../../src/core/api';
import {
  FloraCancelledError,
  FloraProtocolError,
  FloraRateLimitError,
  FloraServerError,
  FloraStoppedError,
  FloraTransportError,
} from '../../../src/core/errors';
import { createDispatcher } from '../../../src/core/dispatcher';
import { englishText } from '../../../src/core/messages';
import {
  DEFAULT_LIVE_LIMIT_MS,
  DEFAULT_POLL_INTERVAL_MS,
  MAX_POLL_INTERVAL_MS,
  MIN_POLL_INTERVAL_MS,
  Poller,
  clampPollInterval,
  type PollTarget,
  type PollUpdate,
} from '../../../src/core/poller';
import type { RunStatusReply } from '../../../src/core/runReplies';
import { ManualTime } from '../../common/manualTime';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { createImageRun, gapsBetween, makeClient, pollThrough, pollsOf, sleep } from './helpers';

/** Long enough that a poll 300 ms in sees the run running, short enough that the next poll sees it done. */
const RUN_DURATION_MS = 2_000;
/** Timers may fire a millisecond or two early relative to the clock the sandbox stamps requests with. */
const TIMER_SLACK_MS = 5;

function targetOf(slug: string, created: { runId: string; pollUrl?: string }): PollTarget {
  return { slug, runId: created.runId, pollUrl: created.pollUrl };
}

describe('core/poller', () => {
  describe('clampPollInterval', () => {
    it("clamps into the document's 2–5 s window and falls back to 3 s for non-numbers", () => {
      assert.equal(clampPollInterval(1_000), 2_000);
      assert.equal(clampPollInterval(9_000), 5_000);
      assert.equal(clampPollInterval(3_500), 3_500);
      assert.equal(clampPollInterval(2_000.4), 2_000);
      assert.equal(clampPollInterval(Number.NaN), 3_000);
      assert.equal(clampPollInterval(Number.POSITIVE_INFINITY), 3_000);
      assert.equal(clampPollInterval(-1), 2_000);
      assert.deepEqual([MIN_POLL_INTERVAL_MS, DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS], [2_000, 3_000, 5_000]);
    });
  });

  describe('following runs on the sandbox', () => {
    let sandbox: Sandbox;
    let dispatcher: Dispatcher;
    let client: FloraClient;
    let poller: Poller;

    before(async () => {
      sandbox = await startSandbox({ runDurationMs: RUN_DURATION_MS });
      dispatcher = createDispatcher();
      client = makeClient(sandbox, dispatcher);
    });

    beforeEach(() => {
      poller = new Poller({ fetch: pollThrough(client), intervalMs: 2_000, random: () => 0.5 });
    });

    afterEach(() => {
      poller.dispose();
      sandbox.faults.clear();
    });

    after(async () => {
      await sandbox.close();
      await dispatcher.close();
    });

    it('follows a run to completed, reporting its progress on the way', async () => {
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      await sleep(300); // past the sandbox's queued share, so the first poll sees the run running
      const updates: PollUpdate[] = [];
      const final = await poller.track(targetOf('studio-shot', created), {
        immediate: true,
        onUpdate: (update) => updates.push(update),
      });

      assert.equal(final.status, 'completed');
      assert.equal(final.runId, created.runId);
      assert.equal(final.outputs?.length, 1);
      assert.equal(final.chargedCost, 5);
      const statuses = updates.filter((update): update is Extract<PollUpdate, { kind: 'status' }> => update.kind === 'status');
      assert.ok(statuses.length >= 1);
      assert.ok(
        statuses.some(
          (update) => update.reply.status === 'running' && (update.reply.progress ?? 0) > 0 && (update.reply.progress ?? 100) < 100,
        ),
        JSON.stringify(statuses.map((update) => update.reply)),
      );
      assert.equal(updates.at(-1)?.kind, 'completed');
      assert.equal(updates.filter((update) => update.kind === 'completed').length, 1);
      assert.equal(poller.isTracking(created.runId), false);
      assert.equal(poller.size, 0);
      const polls = pollsOf(sandbox, 'studio-shot', created.runId);
      assert.equal(polls.length, 2);
      assert.ok((gapsBetween(polls)[0] ?? 0) >= 2_000 - TIMER_SLACK_MS);
    });

    it('follows a run to failed and resolves with its errorCode and errorMessage', async () => {
      sandbox.faults.failRuns = { errorCode: 'generation_failed', errorMessage: 'The model gave up' };
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      sandbox.faults.failRuns = undefined;
      const updates: PollUpdate[] = [];
      const final = await poller.track(targetOf('studio-shot', created), {
        immediate: true,
        onUpdate: (update) => updates.push(update),
      });
      assert.equal(final.status, 'failed');
      assert.equal(final.errorCode, 'generation_failed');
      assert.equal(final.errorMessage, 'The model gave up');
      assert.deepEqual(
        updates.map((update) => update.kind),
        ['status', 'failed'],
      );
    });

    it('keeps polling through a 5xx, a reset, a 429 and a malformed reply, and each run still completes', async () => {
      const cases = [
        { slug: 'studio-shot', inputId: 'product_image', expected: FloraServerError },
        { slug: 'mugshot', inputId: 'portrait', expected: FloraTransportError },
        { slug: 'memoji-me', inputId: 'face_image', expected: FloraRateLimitError },
        { slug: 'palette-pull', inputId: 'source_image', expected: FloraProtocolError },
      ] as const;
      sandbox.faults.inject('poll', { kind: 'status', status: 503 }, { slug: 'studio-shot' });
      sandbox.faults.inject('poll', { kind: 'dropBefore' }, { slug: 'mugshot' });
      sandbox.faults.inject('poll', { kind: 'rateLimit', retryAfterSeconds: 3 }, { slug: 'memoji-me' });
      sandbox.faults.inject('poll', { kind: 'malformed' }, { slug: 'palette-pull' });

      const updates: PollUpdate[] = [];
      poller.onUpdate((update) => updates.push(update));
      const runs = await Promise.all(cases.map((entry) => createImageRun(client, entry.slug, entry.inputId)));
      const finals = await Promise.all(
        runs.map((created, index) => poller.track(targetOf(cases[index]?.slug ?? '', created), { immediate: true })),
      );

      cases.forEach((entry, index) => {
        const runId = runs[index]?.runId ?? '';
        assert.equal(finals[index]?.status, 'completed', entry.slug);
        const mine = updates.filter((update) => update.target.runId === runId);
        const retrying = mine.filter((update): update is Extract<PollUpdate, { kind: 'retrying' }> => update.kind === 'retrying');
        assert.equal(retrying.length, 1, `${entry.slug}: ${mine.map((update) => update.kind).join(', ')}`);
        const [first] = retrying;
        assert.ok(first?.error instanceof entry.expected, `${entry.slug}: ${String(first?.error)}`);
        assert.equal(first?.consecutiveFailures, 1);
        assert.ok((first?.nextPollInMs ?? 0) >= 2_000);
        assert.equal(mine.at(-1)?.kind, 'completed');
        const polls = pollsOf(sandbox, entry.slug, runId);
        assert.equal(polls.length, 2, entry.slug);
        assert.ok((gapsBetween(polls)[0] ?? 0) >= (first?.nextPollInMs ?? 0) - TIMER_SLACK_MS, `${entry.slug} polled early`);
      });
      const rateLimited = updates.find((update) => update.kind === 'retrying' && update.error instanceof FloraRateLimitError);
      assert.equal(rateLimited?.kind === 'retrying' ? rateLimited.nextPollInMs : undefined, 3_000, 'Retry-After is honoured');
      const transport = updates.find((update) => update.kind === 'retrying' && update.error instanceof FloraTransportError);
      assert.equal(
        transport?.kind === 'retrying' && transport.error instanceof FloraTransportError ? transport.error.failure : undefined,
        'reset',
      );
    });

    it('resolves a run FLORA no longer knows as failed/not_found after notFoundLimit 404s', async () => {
      const strict = new Poller({ fetch: pollThrough(client), intervalMs: 2_000, notFoundLimit: 2, random: () => 0.5 });
      try {
        const updates: PollUpdate[] = [];
        const final = await strict.track(
          { slug: 'studio-shot', runId: 'j57nosuchrun' },
          { immediate: true, onUpdate: (update) => updates.push(update) },
        );
        assert.equal(final.status, 'failed');
        assert.equal(final.errorCode, 'not_found');
        assert.match(final.errorMessage ?? '', /j57nosuchrun/);
        assert.deepEqual(
          updates.map((update) => update.kind),
          ['retrying', 'failed'],
        );
        // The verdict is the poller's, not FLORA's: it comes as a message the extension can translate.
        const failed = updates[1];
        assert.ok(failed?.kind === 'failed' && failed.explanation, 'the failure carries its explanation');
        assert.equal(englishText(failed.explanation), final.errorMessage);
        assert.equal(pollsOf(sandbox, 'studio-shot', 'j57nosuchrun').length, 2);
      } finally {
        strict.dispose();
      }
    });

    it('stops at once when its AbortSignal fires, even mid-request, and never polls that run again', async () => {
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      // The first poll hangs for a second, so the abort lands while it is in flight.
      sandbox.faults.inject('poll', { kind: 'delay', ms: 1_000 }, { slug: 'studio-shot' });
      const controller = new AbortController();
      const tracking = poller.track(targetOf('studio-shot', created), { immediate: true, signal: controller.signal });
      await sleep(100);
      assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 1, 'the first poll is out');
      const abortedAt = Date.now();
      controller.abort();
      await assert.rejects(tracking, FloraCancelledError);
      assert.ok(Date.now() - abortedAt < 500, 'did not wait for the delayed reply');
      assert.equal(poller.isTracking(created.runId), false);

      await sleep(2_500);
      assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 1, 'polled again after the abort');
    });

    it('rejects at once, without a request, when the signal is already aborted', async () => {
      const before = sandbox.requests.length;
      await assert.rejects(
        poller.track({ slug: 'studio-shot', runId: 'j57whatever' }, { immediate: true, signal: AbortSignal.abort() }),
        FloraCancelledError,
      );
      await sleep(50);
      assert.equal(sandbox.requests.length, before);
    });

    it('refuses to track the same run twice and rejects pending tracks on dispose', async () => {
      const target = { slug: 'studio-shot', runId: 'j57twice' };
      const first = poller.track(target);
      await assert.rejects(poller.track(target), /already being polled/);
      poller.dispose();
      await assert.rejects(first, FloraCancelledError);
      await assert.rejects(poller.track({ slug: 'studio-shot', runId: 'j57after' }), FloraCancelledError);
    });
  });

  describe('one scheduler for many runs', () => {
    it('polls 20 live runs each no more often than every 2 s, over a few connections', async () => {
      const sandbox = await startSandbox({ runDurationMs: 4_000 });
      const dispatcher = createDispatcher();
      const client = makeClient(sandbox, dispatcher);
      const poller = new Poller({ fetch: pollThrough(client), intervalMs: 2_000 });
      try {
        const runs = await Promise.all(Array.from({ length: 20 }, () => createImageRun(client, 'studio-shot', 'product_image')));
        const startedAt = Date.now();
        const finals = await Promise.all(runs.map((created) => poller.track(targetOf('studio-shot', created), { immediate: true })));
        const windowMs = Date.now() - startedAt;
        assert.ok(finals.every((final) => final.status === 'completed'));
        let totalPolls = 0;
        for (const created of runs) {
          const polls = pollsOf(sandbox, 'studio-shot', created.runId);
          totalPolls += polls.length;
          assert.ok(polls.length >= 2, `run ${created.runId} polled ${polls.length} times`);
          assert.ok(polls.length <= Math.floor(windowMs / 2_000) + 1, `run polled ${polls.length} times in ${windowMs} ms`);
          for (const gap of gapsBetween(polls)) {
            assert.ok(gap >= 2_000 - TIMER_SLACK_MS, `polls of one run ${gap} ms apart`);
          }
        }
        // Keep-alive: the polls reuse connections instead of opening one each.
        assert.ok(sandbox.connections < totalPolls, `${sandbox.connections} connections for ${totalPolls} polls`);
      } finally {
        poller.dispose();
        await sandbox.close();
        await dispatcher.close();
      }
    });
  });

  describe('authentication pauses', () => {
    it('pauses a run on 401, polls nothing while paused, and finishes it after resume() with the new key', async () => {
      const sandbox = await startSandbox({ runDurationMs: 600, apiKey: 'sk_live_first' });
      const dispatcher = createDispatcher();
      let currentKey = 'sk_live_first';
      const client = makeClient(sandbox, dispatcher, { getApiKey: () => currentKey });
      const poller = new Poller({ fetch: pollThrough(client), intervalMs: 2_000 });
      try {
        const created = await createImageRun(client, 'studio-shot', 'product_image');
        sandbox.apiKey = 'sk_live_second'; // revoked on the server; the extension still has the old one
        const updates: PollUpdate[] = [];
        let settled = false;
        const tracking = poller
          .track(targetOf('studio-shot', created), { immediate: true, onUpdate: (update) => updates.push(update) })
          .finally(() => {
            settled = true;
          });

        await sleep(2_300);
        assert.deepEqual(
          updates.map((update) => update.kind),
          ['paused'],
        );
        const paused = updates[0];
        assert.equal(paused?.kind === 'paused' ? paused.error.code : undefined, 'invalid_api_key');
        assert.equal(settled, false, 'a paused run is not given up');
        assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 1, 'no polls while paused');

        currentKey = 'sk_live_second';
        poller.resume();
        const final: RunStatusReply = await tracking;
        assert.equal(final.status, 'completed');
        const polls = pollsOf(sandbox, 'studio-shot', created.runId);
        assert.equal(polls.length, 2);
        assert.equal(polls[1]?.authorization, 'Bearer sk_live_second');
      } finally {
        poller.dispose();
        await sandbox.close();
        await dispatcher.close();
      }
    });
  });

  describe('the ETA strategy', () => {
    it('aims just after the estimated finish but keeps every gap within 2–5 s', async () => {
      // Scripted progress (the fetcher comes from outside): after 10 % at the first poll, the second poll
      // reports 11 % (finish far off), 50 % (finish ~2.5 s off) or 95 % (finish in moments).
      const secondProgress: Record<string, number> = { slow: 11, steady: 50, fast: 95 };
      const calls = new Map<string, number[]>();
      const poller = new Poller({
        strategy: 'eta',
        intervalMs: 2_000,
        fetch: (target) => {
          const times = calls.get(target.runId) ?? [];
          times.push(Date.now());
          calls.set(target.runId, times);
          const progress = times.length === 1 ? 10 : (secondProgress[target.runId] ?? 0);
          const reply: RunStatusReply =
            times.length >= 3
              ? { runId: target.runId, status: 'completed', progress: 100, outputs: [] }
              : { runId: target.runId, status: 'running', progress };
          return Promise.resolve(reply);
        },
      });
      try {
        await Promise.all(Object.keys(secondProgress).map((runId) => poller.track({ slug: 'studio-shot', runId }, { immediate: true })));
        const gaps = (runId: string) => {
          const times = calls.get(runId) ?? [];
          return times.slice(1).map((time, index) => time - (times[index] ?? 0));
        };
        for (const runId of Object.keys(secondProgress)) {
          for (const gap of gaps(runId)) {
            assert.ok(gap >= 2_000 - TIMER_SLACK_MS && gap <= 5_000 + 250, `${runId}: gap ${gap} ms`);
          }
          assert.ok(Math.abs((gaps(runId)[0] ?? 0) - 2_000) < 250, `${runId}: the first gap is the interval`);
        }
        const within = (actual: number | undefined, expected: number) =>
          assert.ok(
            actual !== undefined && actual >= expected - TIMER_SLACK_MS && actual < expected + 250,
            `${actual} ms, expected ~${expected}`,
          );
        within(gaps('slow')[1], 5_000); // ~178 s to go: capped at 5 s
        within(gaps('steady')[1], 2_750); // 50 % in 2 s more, plus the 250 ms margin
        within(gaps('fast')[1], 2_000); // moments to go: never closer than 2 s
      } finally {
        poller.dispose();
      }
    });
  });

  describe('the bound on live time (issue 10: a run FLORA calls running for ever), on manual time', () => {
    const HOUR = 60 * 60_000;

    /** Follows one run FLORA always calls `running`, until its promise settles or `horizonMs` passes. */
    async function followForever(options: { liveSince?: (now: number) => number; liveLimitMs?: number; horizonMs: number }) {
      const time = new ManualTime();
      const started = time.now;
      let polls = 0;
      const poller = new Poller({
        fetch: time.track(() => {
          polls++;
          return Promise.resolve({ runId: 'j57run', status: 'running', progress: 50 });
        }),
        intervalMs: 5_000,
        random: () => 0.5,
        now: time.clock,
        timers: time.timers,
        liveLimitMs: options.liveLimitMs,
      });
      const updates: PollUpdate[] = [];
      let error: unknown;
      let settled = false;
      void poller
        .track(
          { slug: 'studio-shot', runId: 'j57run' },
          { immediate: true, liveSince: options.liveSince?.(time.now), onUpdate: (update) => updates.push(update) },
        )
        .then(
          () => (settled = true),
          (rejection: unknown) => {
            error = rejection;
            settled = true;
          },
        );
      while (!settled && time.now - started < options.horizonMs) await time.advance(10 * 60_000);
      const tracking = poller.isTracking('j57run');
      poller.dispose();
      return { time, started, polls, updates, error, tracking };
    }

    it('stops a run still "running" 24 h after it began (the default bound): stopped, tooLong, no timer left', async function () {
      this.timeout(120_000);
      assert.equal(DEFAULT_LIVE_LIMIT_MS, 24 * HOUR);
      const { time, started, polls, updates, error, tracking } = await followForever({ horizonMs: 30 * 24 * HOUR });
      assert.ok(error instanceof FloraStoppedError, String(error));
      assert.equal(error.reason, 'tooLong');
      assert.equal(tracking, false);
      const stopped = updates.at(-1);
      assert.equal(stopped?.kind, 'stopped');
      assert.match(
        stopped?.kind === 'stopped' ? englishText(stopped.explanation) : '',
        /^Stopped following run j57run — it had still not finished 24 h after it began\. .*"Resume Following"/,
      );
      const elapsed = time.now - started;
      assert.ok(elapsed >= 24 * HOUR && elapsed <= 24 * HOUR + 10 * 60_000, `stopped after ${elapsed} ms`);
      // One poll every 5 s for a day, then none: 17 280 polls, not the 518 400 of 30 days.
      assert.ok(polls >= 17_000 && polls <= 17_400, `${polls} polls`);
      assert.equal(time.scheduled, 0, 'no poll is scheduled');
    });

    it('counts from liveSince, which the caller keeps across reloads: a run begun 23 h ago stops an hour later', async () => {
      const { time, started, error } = await followForever({ liveSince: (now) => now - 23 * HOUR, horizonMs: 3 * HOUR });
      assert.equal(error instanceof FloraStoppedError ? error.reason : undefined, 'tooLong');
      const elapsed = time.now - started;
      assert.ok(elapsed >= HOUR && elapsed <= HOUR + 10 * 60_000, `stopped after ${elapsed} ms`);
    });

    it('never stops a run within its bound, and a completed reply after 23 h still completes it', async () => {
      const time = new ManualTime();
      let calls = 0;
      const poller = new Poller({
        fetch: time.track(() => {
          calls++;
          const done = time.now - start >= 23 * HOUR;
          return Promise.resolve(
            done ? { runId: 'j57run', status: 'completed', outputs: [] } : { runId: 'j57run', status: 'running', progress: 10 },
          );
        }),
        intervalMs: 5_000,
        now: time.clock,
        timers: time.timers,
        liveLimitMs: 24 * HOUR,
      });
      const start = time.now;
      let final: RunStatusReply | undefined;
      void poller.track({ slug: 'studio-shot', runId: 'j57run' }, { immediate: true }).then((reply) => (final = reply));
      while (!final && time.now - start < 25 * HOUR) await time.advance(10 * 60_000);
      poller.dispose();
      assert.equal(final?.status, 'completed');
      assert.ok(calls > 16_000);
    });
  });
});
