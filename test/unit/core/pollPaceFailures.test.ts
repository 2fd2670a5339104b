/**
 * The pace rule (poller.ts, notBefore) where replies are slow, fail, or pause for a key, on manual time:
 * the ETA strategy keeps its aim at a 5 s interval and after an early retry (no debt), earns no credit
 * while failing or paused, counts the time replies take as polling at an interval does, and a key set
 * again resumes a run no sooner than 2 s after its last reply, even when the old key's 401 comes after.
 */
import * as assert from 'node:assert/strict';

import { FloraApiError, FloraServerError } from '../../../src/core/errors';
import { message } from '../../../src/core/messages';
import { Poller, type PollStrategy } from '../../../src/core/poller';
import type { RunStatusReply } from '../../../src/core/runReplies';
import { ManualTime } from '../../common/manualTime';
import { followToEnd } from '../../common/pollUntilFinal';
import { medianOf, TWELVE_DURATIONS_MS } from './profileRuns';

/** What the server does with the `index`-th poll, `elapsedMs` after tracking: after `delayMs`, a reply or an error. */
type Server = (request: { elapsedMs: number; index: number }) => { delayMs?: number; reply?: Reply; error?: Error };

interface Followed {
  /** When each poll went out, ms after tracking. */
  sent: number[];
  /** When each reply (or failure) came back. */
  replied: number[];
  ended: string | undefined;
}

async function follow(options: {
  strategy?: PollStrategy;
  intervalMs?: number;
  server: Server;
  /** Called every 50 ms of manual time. */
  script?: (poller: Poller, elapsedMs: number) => void;
  limitMs?: number;
}): Promise<Followed> {
  const time = new ManualTime();
  const started = time.now;
  const sent: number[] = [];
  const replied: number[] = [];
  const poller = new Poller({
    strategy: options.strategy ?? 'eta',
    intervalMs: options.intervalMs ?? 3_000,
    now: time.clock,
    timers: time.timers,
    idleBudgetMs: () => 60_000,
    random: () => 0.5,
    fetch: (target) =>
      new Promise((resolve, reject) => {
        const answer = options.server({ elapsedMs: time.now - started, index: sent.length });
        sent.push(time.now - started);
        time.timers.setTimeout(() => {
          replied.push(time.now - started);
          if (answer.error) reject(answer.error);
          else resolve({ runId: target.runId, ...(answer.reply ?? { status: 'running', progress: 0 }) });
        }, answer.delayMs ?? 0);
      }),
  });
  try {
    const run = followToEnd(poller, { slug: 'studio-shot', runId: 'j57paced', pollUrl: 'https://api.flora.test/v1/runs/j57paced' });
    const limit = started + (options.limitMs ?? 300_000);
    while (run.ended === undefined && time.now < limit) {
      options.script?.(poller, time.now - started);
      await time.advance(50);
    }
    return { sent, replied, ended: run.ended?.kind };
  } finally {
    poller.dispose();
  }
}

type Reply = Omit<RunStatusReply, 'runId'>;
const completed: Reply = { status: 'completed', progress: 100, outputs: [] };
const stuck: Reply = { status: 'running', progress: 99, createdAt: 0, startedAt: 0 };
const busy = (retryAfterMs?: number) => new FloraServerError(503, message('serverUnexpected', 'busy'), retryAfterMs);
const unauthorized = () => new FloraApiError(401, 'unauthorized', undefined, message('serverUnexpected', 'invalid key'));

/** Twelve linear runs at a 5 s interval; `firstFails`: the first poll of each gets a 503 with Retry-After 0. */
async function linearAtFiveSeconds(firstFails: boolean): Promise<number> {
  const latencies: number[] = [];
  for (const durationMs of TWELVE_DURATIONS_MS) {
    const followed = await follow({
      intervalMs: 5_000,
      server: ({ elapsedMs, index }) => {
        if (firstFails && index === 0) return { error: busy(0) };
        if (elapsedMs >= durationMs) return { reply: completed };
        return { reply: { status: 'running', progress: Math.floor((100 * elapsedMs) / durationMs), createdAt: 0, startedAt: 0 } };
      },
    });
    assert.equal(followed.ended, 'completed');
    latencies.push((followed.sent.at(-1) ?? Number.NaN) - durationMs);
  }
  return medianOf(latencies);
}

describe('core/poller: the pace rule under slow, failing and paused replies (issue 12), on manual time', () => {
  it('a 5 s interval keeps the aim (median within 300 ms, fixed 5 s is 2.5 s), and so does a first poll retried at once', async () => {
    const plain = await linearAtFiveSeconds(false);
    const retried = await linearAtFiveSeconds(true);
    assert.ok(plain <= 300, `median ${plain} ms`);
    assert.ok(retried <= 300, `median ${retried} ms after a 503 with Retry-After 0`);
  });

  it('slow replies: no more polls than fixed polling under the same replies, but for the last', async () => {
    for (const delayMs of [1_000, 2_000, 4_000]) {
      const server: Server = ({ elapsedMs }) => ({ delayMs, reply: elapsedMs >= 120_000 ? completed : stuck });
      const ours = await follow({ server });
      const fixed = await follow({ server, strategy: 'fixed' });
      assert.equal(ours.ended, 'completed');
      assert.ok(
        ours.sent.length <= fixed.sent.length + 1,
        `replies of ${delayMs} ms: ${ours.sent.length} polls, fixed 3 s ${fixed.sent.length}`,
      );
    }
  });

  it('replies that take 1 s: FLORA still sees a run polled at most 5 s apart (the wait counts from the request), and 2 s after each reply at least', async () => {
    const followed = await follow({
      server: ({ elapsedMs }) => ({
        delayMs: 1_000,
        reply:
          elapsedMs >= 120_000 ? completed : { status: 'running', progress: Math.floor(elapsedMs / 1_200), createdAt: 0, startedAt: 0 },
      }),
    });
    assert.equal(followed.ended, 'completed');
    const gaps = followed.sent.slice(1).map((at, index) => at - (followed.sent[index] ?? at));
    assert.ok(Math.max(...gaps) <= 5_000, `gaps between requests: ${gaps.join(', ')}`);
    followed.sent.slice(1).forEach((at, index) => assert.ok(at - (followed.replied[index] ?? 0) >= 2_000, `poll ${index + 2}`));
  });

  it('100 s of 503s, then 99 % for a minute: the time spent failing earns no credit', async () => {
    const server: Server = ({ elapsedMs }) =>
      elapsedMs < 100_000 ? { error: busy() } : { reply: elapsedMs >= 160_000 ? completed : stuck };
    const ours = await follow({ server });
    const fixed = await follow({ server, strategy: 'fixed' });
    const after = (followed: Followed) => followed.sent.filter((at) => at >= 100_000).length;
    assert.equal(ours.ended, 'completed');
    assert.ok(after(ours) <= after(fixed) + 1, `${after(ours)} polls after recovering, fixed 3 s ${after(fixed)}`);
  });

  it('paused for 100 s by a 401, then a key: the pause earns no credit, and the next poll is 2 s after the 401 at least', async () => {
    const server: Server = ({ elapsedMs }) =>
      elapsedMs < 100_000 ? { error: unauthorized() } : { reply: elapsedMs >= 160_000 ? completed : stuck };
    let resumed = false;
    const ours = await follow({
      server,
      script: (poller, elapsedMs) => {
        if (!resumed && elapsedMs >= 100_000) {
          resumed = true;
          poller.resume();
        }
      },
    });
    assert.equal(ours.ended, 'completed');
    const after = ours.sent.filter((at) => at >= 100_000).length;
    // Polling every 3 s from the resume to the end at 160 s: 21 polls.
    assert.ok(after <= 22, `${after} polls after the key was set`);

    // A key set 50 ms after the 401 came back: FLORA still sees the two polls 2 s apart.
    let quick = false;
    const soon = await follow({
      server: ({ index, elapsedMs }) => (index === 0 ? { error: unauthorized() } : { reply: elapsedMs >= 20_000 ? completed : stuck }),
      script: (poller, elapsedMs) => {
        if (!quick && elapsedMs >= 3_050) {
          quick = true;
          poller.resume();
        }
      },
    });
    assert.equal(soon.ended, 'completed');
    assert.ok(
      (soon.sent[1] ?? 0) - (soon.replied[0] ?? 0) >= 2_000,
      `polls at ${soon.sent.join(', ')}; the 401 came back at ${soon.replied[0]}`,
    );
  });

  it('the key replaced while a poll with the old one is out: its late 401 pauses nothing, and the run is followed to its end', async () => {
    let resumed = false;
    const followed = await follow({
      // The first poll's reply takes 1 s; the user sets a new key half-way through it.
      server: ({ index }) => (index === 0 ? { delayMs: 1_000, error: unauthorized() } : { reply: completed }),
      script: (poller, elapsedMs) => {
        if (!resumed && elapsedMs >= 3_500) {
          resumed = true;
          poller.resume();
        }
      },
      limitMs: 60_000,
    });
    assert.equal(followed.ended, 'completed', `polls at ${followed.sent.join(', ')}`);
    assert.ok((followed.sent[1] ?? 0) - (followed.replied[0] ?? 0) >= 2_000);
  });
});
