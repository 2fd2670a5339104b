/**
 * The Poller following real runs on the sandbox over loopback HTTP. Its clock and timers are a ManualTime
 * (the schedule runs without waiting for it); what the tests wait for in real time is the sandbox's own
 * run, which finishes on the wall clock, asked of the sandbox directly and never by sleeping. One test
 * keeps the real timers: the one about the real schedule and connection reuse of 20 runs (it says why).
 */
import * as assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';

import { FloraClient } from '../../../src/core/api';
import {
  FloraCancelledError,
  FloraProtocolError,
  FloraRateLimitError,
  FloraServerError,
  FloraTransportError,
} from '../../../src/core/errors';
import { createDispatcher } from '../../../src/core/dispatcher';
import { englishText, message } from '../../../src/core/messages';
import {
  DEFAULT_LIVE_LIMIT_MS,
  DEFAULT_POLL_INTERVAL_MS,
  MAX_POLL_INTERVAL_MS,
  MIN_POLL_INTERVAL_MS,
  Poller,
  clampPollInterval,
  isFinalUpdate,
  type PollTarget,
  type PollUpdate,
  type RunFetcher,
} from '../../../src/core/poller';
import type { RunStatusReply } from '../../../src/core/runReplies';
import { ManualTime } from '../../common/manualTime';
import { followToEnd } from '../../common/pollUntilFinal';
import { startSandbox, type Sandbox, type SandboxRunSnapshot } from '../../sandbox/server';
import { createImageRun, gapsBetween, makeClient, pollThrough, pollsOf, waitFor } from './helpers';

/** Long enough for a first poll to find the run running, short enough that the tests wait little for it to end. */
const RUN_DURATION_MS = 1_000;
/** Timers may fire a millisecond or two early relative to the clock the sandbox stamps requests with. */
const TIMER_SLACK_MS = 5;

function targetOf(slug: string, created: { runId: string; pollUrl?: string }): PollTarget {
  return { slug, runId: created.runId, pollUrl: created.pollUrl };
}

function kindsOf(updates: readonly PollUpdate[]): string[] {
  return updates.map((update) => update.kind);
}

/** Waits (real time) until the sandbox itself says `test` of a run: it finishes runs on the wall clock. */
function sandboxSays(sandbox: Sandbox, runId: string, what: string, test: (run: SandboxRunSnapshot) => boolean): Promise<true> {
  return waitFor(`run ${runId} ${what} on the sandbox`, () => {
    const run = sandbox.runs().find((candidate) => candidate.runId === runId);
    return run !== undefined && test(run);
  });
}

const isFinished = (run: SandboxRunSnapshot): boolean => run.status === 'completed' || run.status === 'failed';

/** Moves manual time a second at a time until `done`, or fails after `limitMs`. */
async function advanceUntil(time: ManualTime, what: string, done: () => boolean, limitMs = 60_000): Promise<void> {
  const until = time.now + limitMs;
  while (!done()) {
    if (time.now >= until) throw new Error(`no ${what} after ${limitMs} ms of poller time`);
    await time.advance(1_000);
  }
}

/** A fetcher that records, per run, when (on the manual clock) each poll went out. */
function recorded(time: ManualTime, fetch: RunFetcher): { fetch: RunFetcher; polledAt: Map<string, number[]> } {
  const polledAt = new Map<string, number[]>();
  return {
    polledAt,
    fetch: (target, signal) => {
      polledAt.set(target.runId, [...(polledAt.get(target.runId) ?? []), time.now]);
      return fetch(target, signal);
    },
  };
}

function gapsOf(times: readonly number[] | undefined): number[] {
  return (times ?? []).slice(1).map((time, index) => time - (times?.[index] ?? 0));
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

  describe('following runs on the sandbox, on manual time', () => {
    let sandbox: Sandbox;
    let dispatcher: Dispatcher;
    let client: FloraClient;
    let time: ManualTime;
    let polledAt: Map<string, number[]>;
    let poller: Poller;

    before(async () => {
      sandbox = await startSandbox({ runDurationMs: RUN_DURATION_MS });
      dispatcher = createDispatcher();
      client = makeClient(sandbox, dispatcher);
    });

    beforeEach(() => {
      time = new ManualTime();
      const recording = recorded(time, pollThrough(client));
      polledAt = recording.polledAt;
      poller = new Poller({
        fetch: time.track(recording.fetch),
        intervalMs: 2_000,
        random: () => 0.5,
        now: time.clock,
        timers: time.timers,
      });
    });

    afterEach(() => {
      poller.dispose();
      sandbox.faults.clear();
    });

    after(async () => {
      await sandbox.close();
      await dispatcher.close();
    });

    it('follows a run to completed, reporting its progress on the way; the run is untracked when completed comes', async () => {
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      await sandboxSays(sandbox, created.runId, 'running', (run) => run.status === 'running' && run.progress > 0);
      const trackedDuring: boolean[] = [];
      const followed = followToEnd(poller, targetOf('studio-shot', created), {
        immediate: true,
        onUpdate: () => trackedDuring.push(poller.isTracking(created.runId)),
      });
      await time.advance(0);
      assert.deepEqual(kindsOf(followed.updates), ['status']);
      await sandboxSays(sandbox, created.runId, 'completed', isFinished);
      await time.advance(2_000);

      const final = followed.ended;
      assert.equal(final?.kind, 'completed');
      const reply = final.reply;
      assert.equal(reply.status, 'completed');
      assert.equal(reply.runId, created.runId);
      assert.equal(reply.outputs?.length, 1);
      assert.equal(reply.chargedCost, 5);
      const statuses = followed.updates.filter((update): update is Extract<PollUpdate, { kind: 'status' }> => update.kind === 'status');
      assert.ok(statuses.length >= 1);
      assert.ok(
        statuses.some(
          (update) => update.reply.status === 'running' && (update.reply.progress ?? 0) > 0 && (update.reply.progress ?? 100) < 100,
        ),
        JSON.stringify(statuses.map((update) => update.reply)),
      );
      assert.equal(followed.updates.at(-1)?.kind, 'completed');
      assert.equal(followed.updates.filter((update) => update.kind === 'completed').length, 1);
      assert.deepEqual(trackedDuring, [true, false], 'tracked while running, no longer when completed is reported');
      assert.equal(poller.isTracking(created.runId), false);
      assert.equal(poller.size, 0);
      assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 2);
      assert.deepEqual(gapsOf(polledAt.get(created.runId)), [2_000]);
      assert.equal(time.scheduled, 0, 'no timer is left');
    });

    it("follows a run to failed, with FLORA's errorCode and errorMessage", async () => {
      sandbox.faults.failRuns = { errorCode: 'generation_failed', errorMessage: 'The model gave up' };
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      sandbox.faults.failRuns = undefined;
      const followed = followToEnd(poller, targetOf('studio-shot', created), { immediate: true });
      await time.advance(0);
      await sandboxSays(sandbox, created.runId, 'failed', isFinished);
      await time.advance(2_000);
      const final = followed.ended;
      assert.equal(final?.kind, 'failed');
      assert.equal(final.reply.status, 'failed');
      assert.equal(final.reply.errorCode, 'generation_failed');
      assert.equal(final.reply.errorMessage, 'The model gave up');
      assert.deepEqual(kindsOf(followed.updates), ['status', 'failed']);
      assert.equal(poller.isTracking(created.runId), false);
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

      const runs = await Promise.all(cases.map((entry) => createImageRun(client, entry.slug, entry.inputId)));
      const followed = runs.map((created, index) => followToEnd(poller, targetOf(cases[index]?.slug ?? '', created), { immediate: true }));
      await time.advance(0);
      assert.deepEqual(
        followed.map((run) => kindsOf(run.updates)),
        cases.map(() => ['retrying']),
      );
      for (const created of runs) await sandboxSays(sandbox, created.runId, 'completed', isFinished);
      await advanceUntil(time, 'final updates', () => followed.every((run) => run.ended !== undefined));

      const updates = followed.flatMap((run) => run.updates);
      cases.forEach((entry, index) => {
        const runId = runs[index]?.runId ?? '';
        const mine = followed[index]?.updates ?? [];
        assert.equal(followed[index]?.ended?.kind, 'completed', entry.slug);
        const retrying = mine.filter((update): update is Extract<PollUpdate, { kind: 'retrying' }> => update.kind === 'retrying');
        assert.equal(retrying.length, 1, `${entry.slug}: ${kindsOf(mine).join(', ')}`);
        const [first] = retrying;
        assert.ok(first?.error instanceof entry.expected, `${entry.slug}: ${String(first?.error)}`);
        assert.equal(first?.consecutiveFailures, 1);
        assert.ok((first?.nextPollInMs ?? 0) >= 2_000);
        assert.equal(mine.at(-1)?.kind, 'completed');
        assert.equal(pollsOf(sandbox, entry.slug, runId).length, 2, entry.slug);
        assert.deepEqual(gapsOf(polledAt.get(runId)), [first?.nextPollInMs], `${entry.slug}: polled again when it said it would`);
      });
      const rateLimited = updates.find((update) => update.kind === 'retrying' && update.error instanceof FloraRateLimitError);
      assert.equal(rateLimited?.kind === 'retrying' ? rateLimited.nextPollInMs : undefined, 3_000, 'Retry-After is honoured');
      const transport = updates.find((update) => update.kind === 'retrying' && update.error instanceof FloraTransportError);
      assert.equal(
        transport?.kind === 'retrying' && transport.error instanceof FloraTransportError ? transport.error.failure : undefined,
        'reset',
      );
    });

    it('ends a run FLORA no longer knows in "gone" after notFoundLimit 404s, with its explanation and no invented reply', async () => {
      const strict = new Poller({
        fetch: time.track(pollThrough(client)),
        intervalMs: 2_000,
        notFoundLimit: 2,
        random: () => 0.5,
        now: time.clock,
        timers: time.timers,
      });
      try {
        const followed = followToEnd(strict, { slug: 'studio-shot', runId: 'j57nosuchrun' }, { immediate: true });
        await advanceUntil(time, 'final update', () => followed.ended !== undefined);
        assert.deepEqual(kindsOf(followed.updates), ['retrying', 'gone']);
        const gone = followed.ended;
        assert.equal(gone?.kind, 'gone');
        assert.deepEqual(gone.target, { slug: 'studio-shot', runId: 'j57nosuchrun' });
        // The verdict is the poller's, not FLORA's: a message the extension can translate, and no reply.
        assert.deepEqual(gone.explanation, message('runGone', 'j57nosuchrun', 2));
        assert.match(englishText(gone.explanation), /j57nosuchrun/);
        assert.equal('reply' in gone, false);
        assert.equal(
          followed.updates.some((update) => update.kind === 'failed'),
          false,
        );
        assert.equal(pollsOf(sandbox, 'studio-shot', 'j57nosuchrun').length, 2);
        assert.equal(strict.isTracking('j57nosuchrun'), false);
        assert.equal(time.scheduled, 0);
      } finally {
        strict.dispose();
      }
    });

    it('counts only 404s in a row towards "gone" (default limit 3): a readable reply starts the count again', async () => {
      const longSandbox = await startSandbox({ runDurationMs: 600_000 });
      const longClient = makeClient(longSandbox, dispatcher);
      const counting = new Poller({
        fetch: time.track(pollThrough(longClient)),
        intervalMs: 2_000,
        random: () => 0.5,
        now: time.clock,
        timers: time.timers,
      });
      try {
        const created = await createImageRun(longClient, 'studio-shot', 'product_image');
        longSandbox.faults.inject('poll', { kind: 'status', status: 404 }, { slug: 'studio-shot', times: 2 });
        const followed = followToEnd(counting, targetOf('studio-shot', created), { immediate: true });
        await advanceUntil(time, 'a readable reply', () => followed.updates.some((update) => update.kind === 'status'));
        assert.deepEqual(kindsOf(followed.updates), ['retrying', 'retrying', 'status']);
        longSandbox.faults.inject('poll', { kind: 'status', status: 404 }, { slug: 'studio-shot', times: 3 });
        await advanceUntil(time, 'final update', () => followed.ended !== undefined);
        assert.deepEqual(kindsOf(followed.updates), ['retrying', 'retrying', 'status', 'retrying', 'retrying', 'gone']);
        const gone = followed.ended;
        assert.deepEqual(gone?.kind === 'gone' ? gone.explanation : undefined, message('runGone', created.runId, 3));
        assert.equal(pollsOf(longSandbox, 'studio-shot', created.runId).length, 6);
      } finally {
        counting.dispose();
        await longSandbox.close();
      }
    });

    it('untrack() stops at once, even mid-request, emits nothing, and never polls that run again', async () => {
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      // The first poll hangs for a second, so the untrack lands while it is in flight.
      sandbox.faults.inject('poll', { kind: 'delay', ms: 1_000 }, { slug: 'studio-shot' });
      let signal: AbortSignal | undefined;
      let request: Promise<RunStatusReply> | undefined;
      const untrackedPoller = new Poller({
        fetch: time.track((target, requestSignal) => {
          signal = requestSignal;
          request = pollThrough(client)(target, requestSignal);
          return request;
        }),
        intervalMs: 2_000,
        now: time.clock,
        timers: time.timers,
      });
      try {
        const followed = followToEnd(untrackedPoller, targetOf('studio-shot', created), { immediate: true });
        // Not awaited: advancing waits for the request in flight, which the untrack below ends.
        const advancing = time.advance(0);
        await waitFor('the first poll at the sandbox', () => pollsOf(sandbox, 'studio-shot', created.runId).length === 1);
        assert.equal(signal?.aborted, false);
        untrackedPoller.untrack(created.runId);
        assert.equal(signal?.aborted, true, 'the request in flight is aborted at once');
        assert.equal(untrackedPoller.isTracking(created.runId), false);
        await assert.rejects(request ?? Promise.resolve(), FloraCancelledError);
        await advancing;

        await time.advance(60_000);
        assert.deepEqual(followed.updates, [], 'nothing is emitted after untrack, not even the cancelled request');
        assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 1, 'polled again after the untrack');
        assert.equal(time.scheduled, 0);
      } finally {
        untrackedPoller.dispose();
      }
    });

    it('untrack() before the first poll sends nothing and emits nothing; track() returns nothing to settle later', async () => {
      const before = sandbox.requests.length;
      const updates: PollUpdate[] = [];
      // One channel: no promise comes back that could report the untrack (or anything else) a second way.
      const returned: unknown = poller.track({ slug: 'studio-shot', runId: 'j57whatever' }, { onUpdate: (update) => updates.push(update) });
      assert.equal(returned, undefined);
      poller.untrack('j57whatever');
      await time.advance(60_000);
      assert.equal(sandbox.requests.length, before);
      assert.deepEqual(updates, []);
      assert.equal(time.scheduled, 0);
    });

    it('refuses to track the same run twice; dispose() drops every run without a word and refuses new ones', async () => {
      const target = { slug: 'studio-shot', runId: 'j57twice' };
      const waiting = followToEnd(poller, target);
      assert.throws(() => poller.track(target, { onUpdate: () => undefined }), /already being polled/);
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      const live = followToEnd(poller, targetOf('studio-shot', created), { immediate: true });
      await time.advance(0);
      assert.deepEqual(kindsOf(live.updates), ['status']);

      poller.dispose();
      await time.advance(60_000);
      assert.deepEqual(waiting.updates, [], 'a run dropped by dispose hears nothing');
      assert.deepEqual(kindsOf(live.updates), ['status'], 'nothing after dispose');
      assert.equal(poller.size, 0);
      assert.equal(time.scheduled, 0);
      assert.equal(pollsOf(sandbox, 'studio-shot', 'j57twice').length, 0);
      assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 1);
      assert.throws(() => poller.track({ slug: 'studio-shot', runId: 'j57after' }, { onUpdate: () => undefined }), FloraCancelledError);
    });
  });

  describe('one scheduler for many runs, on real timers', () => {
    // Real time on purpose: this is about the schedule the real timers (SYSTEM_TIMERS) keep as the server
    // sees it, and about keep-alive across real idle gaps. Nothing sleeps: it awaits the runs' final updates.
    it('polls 20 live runs each no more often than every 2 s, over a few connections', async () => {
      const sandbox = await startSandbox({ runDurationMs: 4_000 });
      const dispatcher = createDispatcher();
      const client = makeClient(sandbox, dispatcher);
      const poller = new Poller({ fetch: pollThrough(client), intervalMs: 2_000 });
      try {
        const runs = await Promise.all(Array.from({ length: 20 }, () => createImageRun(client, 'studio-shot', 'product_image')));
        const startedAt = Date.now();
        const finals = await Promise.all(
          runs.map((created) => followToEnd(poller, targetOf('studio-shot', created), { immediate: true }).final),
        );
        const windowMs = Date.now() - startedAt;
        assert.deepEqual(
          finals.map((final) => final.kind),
          runs.map(() => 'completed'),
        );
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

  describe('authentication pauses, on manual time', () => {
    it('pauses a run on 401, polls nothing while paused, and finishes it after resume() with the new key', async () => {
      const sandbox = await startSandbox({ runDurationMs: 600, apiKey: 'sk_live_first' });
      const dispatcher = createDispatcher();
      let currentKey = 'sk_live_first';
      const client = makeClient(sandbox, dispatcher, { getApiKey: () => currentKey });
      const time = new ManualTime();
      const poller = new Poller({ fetch: time.track(pollThrough(client)), intervalMs: 2_000, now: time.clock, timers: time.timers });
      try {
        const created = await createImageRun(client, 'studio-shot', 'product_image');
        sandbox.apiKey = 'sk_live_second'; // revoked on the server; the extension still has the old one
        const followed = followToEnd(poller, targetOf('studio-shot', created), { immediate: true });

        await time.advance(0);
        await time.advance(60_000); // a minute of poller time: a paused run waits for resume(), not a timer
        assert.deepEqual(kindsOf(followed.updates), ['paused']);
        const paused = followed.updates[0];
        assert.equal(paused?.kind === 'paused' ? paused.error.code : undefined, 'invalid_api_key');
        assert.equal(followed.updates.some(isFinalUpdate), false, 'a paused run is not given up');
        assert.equal(poller.isTracking(created.runId), true);
        assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 1, 'no polls while paused');
        assert.equal(time.scheduled, 0, 'no timer while the only run is paused');

        currentKey = 'sk_live_second';
        await sandboxSays(sandbox, created.runId, 'completed', isFinished);
        poller.resume();
        await time.advance(0);
        assert.equal(followed.ended?.kind, 'completed');
        assert.equal(followed.ended.reply.status, 'completed');
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

  describe('the ETA strategy, on manual time', () => {
    it('aims just after the estimated finish but keeps every gap within 2–5 s', async () => {
      // Scripted progress (the fetcher comes from outside): after 10 % at the first poll, the second poll
      // reports 11 % (finish far off), 50 % (finish 1.6–3.3 s off) or 95 % (finish in moments).
      const secondProgress: Record<string, number> = { slow: 11, steady: 50, fast: 95 };
      const time = new ManualTime();
      const calls = new Map<string, number[]>();
      const poller = new Poller({
        strategy: 'eta',
        intervalMs: 2_000,
        now: time.clock,
        timers: time.timers,
        // A server that keeps connections a minute: nothing is moved up to keep the connection warm.
        idleBudgetMs: () => 60_000,
        fetch: time.track((target) => {
          const times = calls.get(target.runId) ?? [];
          times.push(time.now);
          calls.set(target.runId, times);
          const progress = times.length === 1 ? 10 : (secondProgress[target.runId] ?? 0);
          const reply: RunStatusReply =
            times.length >= 3
              ? { runId: target.runId, status: 'completed', progress: 100, outputs: [] }
              : { runId: target.runId, status: 'running', progress };
          return Promise.resolve(reply);
        }),
      });
      try {
        const followed = Object.keys(secondProgress).map((runId) =>
          followToEnd(poller, { slug: 'studio-shot', runId }, { immediate: true }),
        );
        await advanceUntil(time, 'final updates', () => followed.every((run) => run.ended?.kind === 'completed'));
        const gaps = (runId: string) => gapsOf(calls.get(runId));
        for (const runId of Object.keys(secondProgress)) {
          for (const gap of gaps(runId)) assert.ok(gap >= 2_000 && gap <= 5_000, `${runId}: gap ${gap} ms`);
          assert.equal(gaps(runId)[0], 2_000, `${runId}: the first gap is the interval (one sample says nothing)`);
        }
        assert.equal(gaps('slow')[1], 5_000); // ~178 s to go: capped at 5 s
        // 10 % then 50 % two seconds apart, in steps of 10 % (the greatest common divisor): 30–50 % per 2 s,
        // so 100 % comes 1.6–3.33 s later; one poll at the window's latest end (+60 ms margin) finds it.
        assert.equal(gaps('steady')[1], 3_393);
        assert.equal(gaps('fast')[1], 2_000); // moments to go: never closer than 2 s
      } finally {
        poller.dispose();
      }
    });

    it('keeps the connection warm: a lone run is polled before the server would drop the idle connection, no more often', async () => {
      // A run whose progress grows over 60 s, on a server whose Keep-Alive hint leaves 3.75 s of idle time.
      const time = new ManualTime();
      const started = time.now;
      const polls: number[] = [];
      const poller = new Poller({
        strategy: 'eta',
        intervalMs: 3_000,
        now: time.clock,
        timers: time.timers,
        idleBudgetMs: () => 3_750,
        fetch: time.track((target) => {
          polls.push(time.now);
          const elapsed = time.now - started;
          return Promise.resolve(
            elapsed >= 60_000
              ? { runId: target.runId, status: 'completed', progress: 100, outputs: [] }
              : { runId: target.runId, status: 'running', progress: Math.floor(elapsed / 600), createdAt: 0, startedAt: 0 },
          );
        }),
      });
      try {
        const followed = followToEnd(poller, { slug: 'studio-shot', runId: 'j57lone' });
        await advanceUntil(time, 'the end', () => followed.ended !== undefined, 120_000);
        const gaps = gapsOf(polls);
        // Alone on its origin, every wait stays within the idle budget, those aimed at the finish too.
        assert.ok(
          gaps.every((gap) => gap <= 3_750),
          `gaps: ${gaps.join(', ')}`,
        );
        for (const gap of gaps) assert.ok(gap >= 2_000 && gap <= 5_000, `gap ${gap}`);
        // Not more often than needed: 60 s at ~3.75 s a poll.
        assert.ok(polls.length <= 18, `${polls.length} polls`);
        assert.equal(followed.ended?.kind, 'completed');
      } finally {
        poller.dispose();
      }
    });
  });

  describe('the bound on live time (issue 10: a run FLORA calls running for ever), on manual time', () => {
    const HOUR = 60 * 60_000;

    /** Follows one run FLORA always calls `running`, until its final update or until `horizonMs` passes. */
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
      const followed = followToEnd(
        poller,
        { slug: 'studio-shot', runId: 'j57run' },
        { immediate: true, liveSince: options.liveSince?.(time.now) },
      );
      while (!followed.ended && time.now - started < options.horizonMs) await time.advance(10 * 60_000);
      const tracking = poller.isTracking('j57run');
      poller.dispose();
      return { time, started, polls, updates: followed.updates, final: followed.ended, tracking };
    }

    it('stops a run still "running" 24 h after it began (the default bound): stopped, tooLong, no timer left', async function () {
      this.timeout(120_000);
      assert.equal(DEFAULT_LIVE_LIMIT_MS, 24 * HOUR);
      const { time, started, polls, updates, final, tracking } = await followForever({ horizonMs: 30 * 24 * HOUR });
      assert.equal(final?.kind, 'stopped');
      assert.equal(final.reason, 'tooLong');
      assert.equal(tracking, false);
      const stopped = updates.at(-1);
      assert.equal(stopped, final, 'the stop is the last update');
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
      const { time, started, final } = await followForever({ liveSince: (now) => now - 23 * HOUR, horizonMs: 3 * HOUR });
      assert.equal(final?.kind === 'stopped' ? final.reason : undefined, 'tooLong');
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
      const followed = followToEnd(poller, { slug: 'studio-shot', runId: 'j57run' }, { immediate: true });
      while (!followed.ended && time.now - start < 25 * HOUR) await time.advance(10 * 60_000);
      poller.dispose();
      assert.equal(followed.ended?.kind, 'completed');
      assert.equal(followed.ended.reply.status, 'completed');
      assert.ok(!followed.updates.some((update) => update.kind === 'stopped'));
      assert.ok(calls > 16_000);
    });
  });
});
