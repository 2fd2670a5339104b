/** The run record helpers: bounded history, the public record, and which URLs the preview may load. */
import * as assert from 'node:assert/strict';

import fc from 'fast-check';
import { budgetStanding } from '../../../src/core/budget';
import {
  clearedRecord,
  countsTowardsBudget,
  creditsChargedToday,
  isLive,
  isLoadableUrl,
  outputKind,
  pruneHistory,
  recentTextValues,
  toPublicRecord,
  type RunRecord,
  type RunState,
} from '../../../src/core/runs';
import type { InputType } from '../../../src/core/model';
import { runRecord } from '../../common/records';

function record(localId: string, status: RunState, startedLocallyAt: number): RunRecord {
  return runRecord({
    localId,
    ...(status === 'creating' ? { runId: undefined } : {}),
    status,
    progress: 0,
    startedLocallyAt,
    updatedAt: startedLocallyAt,
  });
}

const ids = (records: readonly RunRecord[]) => records.map((entry) => entry.localId);

describe('core/runs', () => {
  describe('pruneHistory', () => {
    const history = [
      record('done-oldest', 'completed', 1),
      record('live-old', 'running', 2),
      record('failed-mid', 'failed', 3),
      record('creating', 'creating', 4),
      record('done-new', 'completed', 5),
      record('pending-new', 'pending', 6),
      record('done-newest', 'completed', 7),
    ];

    it('keeps every live run and fills the rest of the limit with the newest finished ones, newest first', () => {
      assert.deepEqual(ids(pruneHistory(history, 5)), ['done-newest', 'pending-new', 'done-new', 'creating', 'live-old']);
    });

    it('keeps runs charged in the last two days, which the daily budget may count, whatever the limit', () => {
      const now = 10 * 24 * 3_600_000;
      const charged = (localId: string, at: number) =>
        runRecord({ localId, status: 'completed', startedLocallyAt: at, updatedAt: at, completedAt: at, chargedCost: 5 });
      const older = [charged('charged-two-days-ago', now - 49 * 3_600_000), charged('charged-today', now - 3_600_000)];
      assert.deepEqual(ids(pruneHistory(older, 0, now)), ['charged-today']);
      assert.deepEqual(ids(pruneHistory(older, 0)), [], 'without a clock, the limit alone decides');
    });

    it('keeps a run completed in the last two days without a readable charge (counted at its quoted cost), not one without a cost', () => {
      const now = 10 * 24 * 3_600_000;
      const completed = (localId: string, overrides: Partial<RunRecord>) =>
        runRecord({ localId, status: 'completed', startedLocallyAt: now - 3_600_000, updatedAt: now - 3_600_000, ...overrides });
      const history = [
        completed('quoted', { runCost: 4 }),
        completed('unpriced', {}),
        completed('failed-quoted', { status: 'failed', runCost: 4 }),
        completed('quoted-two-days-ago', { runCost: 4, finishedLocallyAt: now - 49 * 3_600_000 }),
      ];
      assert.deepEqual(ids(pruneHistory(history, 0, now)), ['quoted']);
    });

    it('keeps a cleared run only while it counts towards the budget, and gives it no place of the limit', () => {
      const now = 10 * 24 * 3_600_000;
      const cleared = (localId: string, at: number) =>
        clearedRecord(runRecord({ localId, status: 'completed', startedLocallyAt: at, updatedAt: at, chargedCost: 3 }), at);
      const history = [
        cleared('cleared-two-days-ago', now - 49 * 3_600_000),
        cleared('cleared-today', now - 3_600_000),
        record('done-a', 'completed', now - 2 * 3_600_000),
        record('done-b', 'completed', now - 4 * 3_600_000),
      ];
      assert.deepEqual(ids(pruneHistory(history, 2, now)), ['cleared-today', 'done-a', 'done-b'], 'two shown runs fit a limit of two');
      assert.deepEqual(ids(pruneHistory(history, 2)), ['done-a', 'done-b'], 'without a clock nothing says a cleared run still counts');
    });

    it('keeps live runs even when they alone exceed the limit', () => {
      assert.deepEqual(ids(pruneHistory(history, 0)), ['pending-new', 'creating', 'live-old']);
      assert.deepEqual(ids(pruneHistory(history, 2)), ['pending-new', 'creating', 'live-old']);
    });

    it('drops nothing under the limit and leaves its input untouched', () => {
      const copy = ids(history);
      assert.equal(pruneHistory(history, 100).length, history.length);
      assert.deepEqual(ids(history), copy);
    });

    it('drops the oldest finished run first', () => {
      assert.deepEqual(
        ids(pruneHistory(history, 6)).sort(),
        ids(history)
          .filter((id) => id !== 'done-oldest')
          .sort(),
      );
    });
  });

  describe('clearing a run that counts towards the budget', () => {
    const now = Date.UTC(2026, 11, 2, 12);
    const full = runRecord({
      localId: 'charged',
      status: 'completed',
      runCost: 6,
      chargedCost: 5,
      startedLocallyAt: now - 60_000,
      updatedAt: now - 30_000,
      outputs: [{ type: 'imageUrl', url: 'https://media.flora.ai/out/a.png' }],
      savedOutputs: [{ index: 0, file: '/work/a.png', provenance: '/work/a.png.flora.json', at: now - 20_000 }],
      errorMessage: 'none',
      replyNotes: ['a note'],
      acknowledged: true,
    });

    it('keeps the costs, the ids and when it finished, and nothing the user cleared', () => {
      const cleared = clearedRecord(full, now);
      assert.deepEqual(cleared, {
        localId: 'charged',
        idempotencyKey: 'charged',
        runId: 'j57charged',
        slug: 'studio-shot',
        techniqueName: 'Studio Shot',
        inputs: [],
        status: 'completed',
        progress: 100,
        startedLocallyAt: now - 60_000,
        finishedLocallyAt: now - 30_000,
        updatedAt: now,
        cleared: true,
        runCost: 6,
        chargedCost: 5,
      });
      assert.equal(clearedRecord({ ...full, updatedAt: now + 5 }, now).updatedAt, now + 6, 'later than the record it replaces');
    });

    it("leaves today's standing as it was, and counts for two days after the run finished", () => {
      const unreported = runRecord({
        localId: 'quoted',
        status: 'completed',
        runCost: 4,
        startedLocallyAt: now - 9_000,
        updatedAt: now - 9_000,
      });
      const before = budgetStanding([full, unreported], { now, cost: 0, limit: 100 });
      const after = budgetStanding([clearedRecord(full, now), clearedRecord(unreported, now)], { now, cost: 0, limit: 100 });
      assert.equal(before.charged, 9);
      assert.deepEqual(after, before);
      assert.equal(countsTowardsBudget(full, now), true);
      assert.equal(countsTowardsBudget(clearedRecord(full, now), now - 30_000 + 48 * 3_600_000 - 1), true);
      assert.equal(countsTowardsBudget(clearedRecord(full, now), now - 30_000 + 48 * 3_600_000), false);
      assert.equal(countsTowardsBudget(runRecord({ status: 'failed', updatedAt: now }), now), false, 'a failed run FLORA did not charge');
      assert.equal(
        countsTowardsBudget(runRecord({ status: 'failed', chargedCost: 2, updatedAt: now }), now),
        true,
        'a failed run FLORA charged',
      );
    });
  });

  it('isLive is true for creating, pending and running only', () => {
    const states: RunState[] = ['creating', 'pending', 'running', 'completed', 'failed'];
    assert.deepEqual(
      states.map((state) => isLive(record('x', state, 0))),
      [true, true, true, false, false],
    );
  });

  it('toPublicRecord shows a creating run as pending and copies outputs', () => {
    const creating = toPublicRecord(record('a', 'creating', 0));
    assert.deepEqual(creating, { runId: '', slug: 'studio-shot', status: 'pending', progress: 0 });
    const done = {
      ...record('b', 'completed', 0),
      progress: 100,
      chargedCost: 5,
      outputs: [{ outputId: 'o', type: 'imageUrl', url: 'https://ik.imagekit.io/x.png' }],
    };
    const published = toPublicRecord(done);
    assert.equal(published.chargedCost, 5);
    assert.deepEqual(published.outputs, done.outputs);
    assert.notEqual(published.outputs?.[0], done.outputs[0], 'a copy, so callers cannot change the store');
    assert.equal('idempotencyKey' in published, false);
  });

  it('outputKind maps the output types', () => {
    assert.deepEqual(['imageUrl', 'videoUrl', 'text', 'audioUrl'].map(outputKind), ['image', 'video', 'text', 'other']);
  });

  describe('isLoadableUrl', () => {
    it('loads https URLs', () => {
      assert.equal(isLoadableUrl('https://ik.imagekit.io/flora/x.png'), true);
    });

    it('never loads javascript:, data:, file:, blob: or plain http:', () => {
      for (const url of [
        'javascript:alert(1)',
        'JavaScript:alert(1)',
        'data:image/png;base64,iVBORw0KGgo=',
        'file:///etc/passwd',
        'blob:https://ik.imagekit.io/1234',
        'http://ik.imagekit.io/x.png',
        'vscode-resource://x',
        'not a url',
        '',
      ]) {
        assert.equal(isLoadableUrl(url), false, url);
      }
    });

    it('loads http only from an allowed extra origin (the local sandbox), matched exactly', () => {
      const origin = 'http://127.0.0.1:7717';
      assert.equal(isLoadableUrl(`${origin}/media/j57/x.png`, [origin]), true);
      assert.equal(isLoadableUrl('http://127.0.0.1:7718/media/j57/x.png', [origin]), false);
      assert.equal(isLoadableUrl('http://localhost:7717/media/j57/x.png', [origin]), false);
      assert.equal(isLoadableUrl(`${origin}/media/j57/x.png`), false);
    });

    it('refuses URLs carrying a user name or password', () => {
      assert.equal(isLoadableUrl('https://user:pw@ik.imagekit.io/x.png'), false);
      assert.equal(isLoadableUrl('https://ik.imagekit.io@evil.com/x.png'), false);
    });

    it('refuses hosts that would end or widen a CSP directive, which the URL parser lets through', () => {
      for (const url of [
        "https://a';script-src*/x.png",
        'https://a.example;script-src:*/x.png',
        'https://a%3Bb.example/x.png',
        'https://a,b.example/x.png',
        'https://*.example/x.png',
        'https://a.example"onload="x/x.png',
      ]) {
        assert.equal(isLoadableUrl(url), false, url);
      }
      assert.equal(isLoadableUrl('https://bücher.example/a.png'), true, 'an IDN host is punycode, plain');
      assert.equal(isLoadableUrl('http://[::1]:7717/a.png', ['http://[::1]:7717']), true, 'an IPv6 sandbox');
    });

    it('admits only origins that are a scheme, a plain host and a port (what the preview puts in its CSP)', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.webUrl(),
            fc.string({ unit: 'binary' }).map((text) => `https://${text}/x.png`),
          ),
          (url) => {
            if (isLoadableUrl(url)) assert.match(new URL(url).origin, /^https:\/\/(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d+)?$/);
          },
        ),
        { seed: 20261201, numRuns: 2_000 },
      );
    });
  });
});

describe('core/runs: what the everyday UI reads from the history', () => {
  it('sums the credits charged by runs completed on the local day, and nothing else', () => {
    const noon = new Date(2026, 11, 1, 12, 0, 0).getTime();
    const midnight = new Date(2026, 11, 1, 0, 0, 0).getTime();
    // Records as the extension writes them: started before, last changed when they completed.
    const completed = (chargedCost: number | undefined, completedAt: number) =>
      runRecord({ chargedCost, completedAt, startedLocallyAt: midnight - 3 * 3_600_000, updatedAt: completedAt });
    const records = [
      completed(5, midnight),
      completed(7, noon),
      completed(11, midnight - 1),
      completed(13, midnight + 24 * 3_600_000),
      completed(undefined, noon),
      runRecord({ chargedCost: 2, completedAt: undefined, updatedAt: noon }),
    ];
    assert.equal(creditsChargedToday(records, noon), 14);
    // A completedAt a server made up (before the run started here, or after its last change) dates nothing:
    // the record's last change does. The moment the extension saw the run finish wins over both.
    const madeUp = [0, midnight + 30 * 3_600_000].map((completedAt) => ({ ...completed(3, noon), completedAt }));
    assert.equal(creditsChargedToday(madeUp, noon), 6);
    assert.equal(creditsChargedToday([{ ...completed(3, noon), finishedLocallyAt: midnight - 1 }], noon), 0);
    assert.equal(creditsChargedToday([], noon), 0);
  });

  describe('recentTextValues', () => {
    const given = (slug: string, at: number, value: string, id = 'prompt', type: InputType = 'text') =>
      runRecord({ slug, startedLocallyAt: at, inputs: [{ id, type, value }] });

    it('offers the distinct values of that input of that technique, newest first, at most five', () => {
      const records = [
        given('icon-pack', 1, 'first'),
        given('icon-pack', 7, 'seventh'),
        given('icon-pack', 3, 'third'),
        given('icon-pack', 5, 'third'),
        given('icon-pack', 6, '  '),
        given('icon-pack', 8, 'eighth'),
        given('icon-pack', 2, 'second'),
        given('icon-pack', 4, 'fourth'),
        given('sigil', 9, 'another technique'),
        given('icon-pack', 10, 'another input', 'style'),
        given('icon-pack', 11, 'https://media.flora.ai/x.png', 'prompt', 'imageUrl'),
      ];
      assert.deepEqual(recentTextValues(records, 'icon-pack', 'prompt'), [
        { value: 'eighth', at: 8 },
        { value: 'seventh', at: 7 },
        { value: 'third', at: 5 },
        { value: 'fourth', at: 4 },
        { value: 'second', at: 2 },
      ]);
      assert.deepEqual(
        recentTextValues(records, 'icon-pack', 'prompt', 2).map((entry) => entry.value),
        ['eighth', 'seventh'],
      );
      assert.deepEqual(recentTextValues(records, 'icon-pack', 'prompt', 0), []);
      assert.deepEqual(recentTextValues(records, 'wireframe', 'prompt'), []);
    });

    it('keeps a value in full, line breaks and all, and reads values differing only in end spaces as one (the newest spelling)', () => {
      const long = `line one\nline two ${'x'.repeat(500)}`;
      const records = [given('icon-pack', 1, 'calm'), given('icon-pack', 2, long), given('icon-pack', 3, ' calm ')];
      assert.deepEqual(recentTextValues(records, 'icon-pack', 'prompt'), [
        { value: ' calm ', at: 3 },
        { value: long, at: 2 },
      ]);
    });

    it('whatever the history, gives distinct non-blank values of the input, newest first, within the limit', () => {
      const entry = fc.record({
        slug: fc.constantFrom('a', 'b'),
        id: fc.constantFrom('prompt', 'style'),
        type: fc.constantFrom<InputType>('text', 'imageUrl'),
        value: fc.constantFrom('', ' ', 'one', ' one', 'two', 'three', 'four', 'five', 'six'),
        at: fc.integer({ min: 0, max: 50 }),
      });
      fc.assert(
        fc.property(fc.array(entry, { maxLength: 30 }), fc.integer({ min: 0, max: 7 }), (entries, limit) => {
          const records = entries.map((item) => given(item.slug, item.at, item.value, item.id, item.type));
          const recent = recentTextValues(records, 'a', 'prompt', limit);
          const eligible = entries.filter((item) => item.slug === 'a' && item.id === 'prompt' && item.type === 'text' && item.value.trim());
          const distinct = new Set(eligible.map((item) => item.value.trim()));
          assert.equal(recent.length, Math.min(limit, distinct.size));
          assert.equal(new Set(recent.map((item) => item.value.trim())).size, recent.length, 'distinct');
          for (let index = 1; index < recent.length; index++) {
            assert.ok((recent[index - 1]?.at ?? 0) >= (recent[index]?.at ?? 0), 'newest first');
          }
          for (const item of recent) {
            const newest = Math.max(...eligible.filter((other) => other.value.trim() === item.value.trim()).map((other) => other.at));
            assert.equal(item.at, newest, 'each value dated by the newest run that gave it');
          }
        }),
        { seed: 20261201, numRuns: 300 },
      );
    });
  });
});
