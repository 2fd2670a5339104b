// The run journal: what lets several windows share runs without losing one, whatever else is in its folder.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { RunJournal } from '../../../src/core/journal';
import { isWellFormedRunRecord, readRunRecord } from '../../../src/core/runRecordSchema';
import type { RunRecord } from '../../../src/core/runs';
import { ManualTime } from '../../common/manualTime';
import { runRecord } from '../../common/records';
import { waitFor } from './helpers';
import { NamedPipes } from '../../common/pipes';

/** A run just recorded, not yet confirmed by FLORA: what the journal holds most often. */
function record(localId: string, change: Partial<RunRecord> = {}): RunRecord {
  return runRecord({ localId, runId: undefined, status: 'creating', progress: 0, startedLocallyAt: 1, updatedAt: 1, ...change });
}

describe('core/journal', () => {
  let directory: string;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-journal-'));
  });

  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('reads the explanation of a record written before it was renamed from errorText, and keeps a newer one', async () => {
    const explanation = { id: 'stoppedByUser', args: ['j57old'] };
    const legacy = {
      ...record('legacy', { status: 'running', runId: 'j57old', stopped: { reason: 'byUser', at: 2_000 } }),
      errorText: explanation,
    };
    writeEntry(directory, `${encodeURIComponent('legacy')}.json`, legacy);
    const both = { ...record('both'), explanation: { id: 'cancelled', args: [] }, errorText: explanation };
    writeEntry(directory, `${encodeURIComponent('both')}.json`, both);
    const journal = new RunJournal(directory, () => undefined);
    const old = await journal.read('legacy');
    assert.deepEqual(old?.explanation, explanation);
    assert.equal(Object.hasOwn(old ?? {}, 'errorText'), false, 'the old name is not carried along');
    assert.deepEqual((await journal.read('both'))?.explanation, { id: 'cancelled', args: [] });
  });

  it('reads back what it wrote, one file per run, and nothing from an empty or missing folder', async () => {
    assert.deepEqual(await new RunJournal(path.join(directory, 'missing')).load(), []);
    const journal = new RunJournal(directory);
    await journal.save(record('a'));
    await journal.save(record('b/with slash', { status: 'running', runId: 'j57x', progress: 40 }));
    const loaded = (await journal.load()).sort((x, y) => x.localId.localeCompare(y.localId));
    assert.deepEqual(
      loaded.map((entry) => entry.localId),
      ['a', 'b/with slash'],
    );
    assert.equal(loaded[1]?.progress, 40);
    assert.equal(fs.readdirSync(directory).filter((name) => name.endsWith('.tmp')).length, 0, 'no temporary files left');
    await journal.delete('a');
    assert.equal(await journal.read('a'), undefined);
  });

  it('skips damaged entries and logs them instead of failing', async () => {
    const warnings: string[] = [];
    const journal = new RunJournal(directory, (level, message) => level === 'warn' && warnings.push(message));
    await journal.save(record('good'));
    fs.writeFileSync(path.join(directory, 'broken.json'), '{"localId": "broken", ');
    fs.writeFileSync(path.join(directory, 'alien.json'), '{"hello": "world"}');
    const loaded = await journal.load();
    assert.deepEqual(
      loaded.map((entry) => entry.localId),
      ['good'],
    );
    assert.equal(warnings.length, 2);
  });

  it('tells a watcher which run another writer changed', async () => {
    const reader = new RunJournal(directory);
    const writer = new RunJournal(directory);
    const seen: string[] = [];
    const watch = reader.watch((localId) => seen.push(localId));
    try {
      await writer.save(record('from-another-window'));
      await waitFor('the watcher to see from-another-window', () => seen.includes('from-another-window'));
    } finally {
      watch.dispose();
    }
  });
});

describe('core/journal watching a folder that does not exist yet', () => {
  it('creates nothing, and reports runs once another writer creates the folder', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-journal-'));
    const directory = path.join(parent, 'runs');
    const seen: string[] = [];
    // The journal's retry timer runs on a manual clock: three looks for the folder take no real time.
    const time = new ManualTime();
    const watch = new RunJournal(directory).watch((localId) => seen.push(localId), { retryMs: 3_000, timers: time.timers });
    try {
      for (let look = 0; look < 3; look++) assert.ok(await time.runNext(), `look ${look + 1} was scheduled`);
      assert.equal(time.scheduled, 1, 'still looking, with one timer');
      assert.equal(fs.existsSync(directory), false, 'watching wrote nothing');
      await new RunJournal(directory).save(record('first-run'));
      // The next look finds the folder, starts watching and announces what was written meanwhile.
      await time.runNext();
      await waitFor('the late watcher to see first-run', () => seen.includes('first-run'));
      assert.equal(time.scheduled, 0, 'watching, no longer looking');
    } finally {
      watch.dispose();
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});

/** Writes a file into the journal folder by hand, the way another program (or a damaged disk) could. */
function writeEntry(directory: string, name: string, content: unknown): void {
  fs.writeFileSync(path.join(directory, name), typeof content === 'string' ? content : JSON.stringify(content));
}

const BAD_NAMES = ['%E0%A4%A.json', '%.json', '%zz.json', 'good%2fcopy.json'];

describe('core/journal with files it did not write', () => {
  let directory: string;
  let warnings: string[];
  let journal: RunJournal;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-journal-'));
    warnings = [];
    journal = new RunJournal(directory, (level, message) => level === 'warn' && warnings.push(message));
  });

  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('skips files whose names are not percent-encoding (or not its spelling), and loads the rest', async () => {
    await journal.save(record('good/1'));
    await journal.save(record('good 2'));
    // Each holds a perfectly good record: only the name is wrong.
    for (const name of BAD_NAMES) writeEntry(directory, name, record('good/copy'));
    writeEntry(directory, 'elsewhere.json', record('not-elsewhere'));
    const loaded = await journal.load();
    assert.deepEqual(loaded.map((entry) => entry.localId).sort(), ['good 2', 'good/1']);
    for (const name of [...BAD_NAMES, 'elsewhere.json']) {
      assert.ok(
        warnings.some((warning) => warning.includes(JSON.stringify(name))),
        `${name} is logged: ${JSON.stringify(warnings)}`,
      );
    }
  });

  it('keeps watching when such a file appears, and reports the runs written after it', async () => {
    const seen: string[] = [];
    const watch = journal.watch((localId) => seen.push(localId));
    try {
      for (const name of BAD_NAMES) writeEntry(directory, name, record('x'));
      await new RunJournal(directory).save(record('after the bad names'));
      await waitFor('the watcher to see the run written after the bad names', () => seen.includes('after the bad names'));
      assert.deepEqual(
        seen.filter((localId) => localId !== 'after the bad names'),
        [],
        'nothing is reported for the badly named files',
      );
    } finally {
      watch.dispose();
    }
  });

  it('starts watching late over a folder that already holds such a file', async () => {
    const late = path.join(directory, 'runs');
    const seen: string[] = [];
    const time = new ManualTime();
    const watch = new RunJournal(late, () => undefined).watch((localId) => seen.push(localId), { retryMs: 3_000, timers: time.timers });
    try {
      fs.mkdirSync(late);
      writeEntry(late, '%E0%A4%A.json', record('x'));
      await new RunJournal(late).save(record('first-run'));
      assert.ok(await time.runNext(), 'the watcher looks for the folder again');
      await waitFor('the late watcher to see first-run', () => seen.includes('first-run'));
    } finally {
      watch.dispose();
    }
  });

  /**
   * Files no read may wait on or follow: a named pipe (reading one blocks in open() until a writer comes,
   * holding one of libuv's four threads, and four of them stall every file and DNS call of the extension
   * host), a link to /dev/zero (an endless file), a directory. Each test is bounded by mocha's timeout:
   * a read that waits fails it.
   */
  describe('beside files that are not regular files', function () {
    this.timeout(5_000);
    const pipes = new NamedPipes();
    afterEach(() => pipes.release());

    function makeHostileEntries(): void {
      const fifo = path.join(directory, 'pipe.json');
      pipes.make(fifo);
      fs.symlinkSync('/dev/zero', path.join(directory, 'zero.json'));
      // A link to a good record is not followed either: the extension never writes links.
      writeEntry(directory, 'elsewhere.txt', record('linked'));
      fs.symlinkSync(path.join(directory, 'elsewhere.txt'), path.join(directory, 'linked.json'));
      fs.mkdirSync(path.join(directory, 'folder.json'));
    }

    function assertRefused(name: string, reason: RegExp): void {
      assert.ok(
        warnings.some((warning) => warning.includes(JSON.stringify(name)) && reason.test(warning)),
        `${name} is logged as refused (${String(reason)}): ${JSON.stringify(warnings)}`,
      );
    }

    it('loads the good records at once and logs the others', async () => {
      await journal.save(record('good 1'));
      makeHostileEntries();
      await journal.save(record('good 2'));
      const loaded = await journal.load();
      assert.deepEqual(loaded.map((entry) => entry.localId).sort(), ['good 1', 'good 2']);
      assertRefused('pipe.json', /not a regular file/);
      assertRefused('zero.json', /symbolic link/);
      assertRefused('linked.json', /symbolic link/);
      assertRefused('folder.json', /not a regular file/);
      for (const localId of ['pipe', 'zero', 'linked', 'folder']) assert.equal(await journal.read(localId), undefined, localId);
    });

    it('keeps a watcher, and the reads it triggers, going', async () => {
      const settled = new Map<string, RunRecord | undefined>();
      const watch = journal.watch((localId) => void journal.read(localId).then((value) => settled.set(localId, value)));
      try {
        makeHostileEntries();
        await new RunJournal(directory).save(record('after the pipe'));
        await waitFor('every announced read to settle', () =>
          ['pipe', 'zero', 'linked', 'after the pipe'].every((localId) => settled.has(localId)),
        );
        assert.equal(settled.get('after the pipe')?.localId, 'after the pipe');
        for (const localId of ['pipe', 'zero', 'linked']) assert.equal(settled.get(localId), undefined, localId);
      } finally {
        watch.dispose();
      }
    });
  });

  /** Shapes that passed the old check and then broke the views: each record is refused whole. */
  const REFUSED: Array<[string, Record<string, unknown>]> = [
    ['an input that is a number', { inputs: [1] }],
    ['an input whose value is an object', { inputs: [{ id: 'product_image', type: 'imageUrl', value: { url: 'x' } }] }],
    ['an input without an id', { inputs: [{ type: 'imageUrl', value: 'https://media.flora.ai/a.png' }] }],
    ['an input of a type nobody sends', { inputs: [{ id: 'product_image', type: 'script', value: 'x' }] }],
    ['progress as a string', { progress: '50' }],
    ['a runId that is a number', { runId: 42 }],
    ['a runId that is an object', { runId: { toString: 'x' } }],
    ['an empty slug', { slug: '' }],
    ['an idempotency key of 100 000 characters', { idempotencyKey: 'k'.repeat(100_000) }],
    ['no status', { status: undefined }],
    ['no idempotency key', { idempotencyKey: undefined }],
  ];

  it('refuses, and logs, a record whose required parts have the wrong shape', async () => {
    await journal.save(record('good'));
    for (const [index, [, change]] of REFUSED.entries())
      writeEntry(directory, `bad-${index}.json`, { ...record(`bad-${index}`), ...change });
    const loaded = await journal.load();
    assert.deepEqual(
      loaded.map((entry) => entry.localId),
      ['good'],
    );
    for (const [index, [shape]] of REFUSED.entries()) {
      assert.ok(
        warnings.some((warning) => warning.includes(`"bad-${index}.json"`)),
        `${shape} is logged`,
      );
      const value = { ...record(`bad-${index}`), ...REFUSED[index]?.[1] };
      assert.equal(readRunRecord(value).record, undefined, `readRunRecord refuses ${shape}`);
      assert.equal(isWellFormedRunRecord(value), false, `isWellFormedRunRecord refuses ${shape}`);
    }
  });

  it('keeps a paid run whose optional parts are damaged: drops or repairs those, keeps the rest, unknown fields too', async () => {
    const output = { outputId: 'o1', type: 'imageUrl', url: 'https://media.flora.ai/out.png' };
    const paid = { ...record('paid', { status: 'completed', runId: 'j57x', progress: 100, chargedCost: 12 }), outputs: [output] };
    const damaged: Record<string, Record<string, unknown>> = {
      'outputs-string': { outputs: 'x' },
      'outputs-mixed': { outputs: [output, { url: 5, type: 'imageUrl' }, { type: 'imageUrl' }, null, 'x', { ...output, outputId: 7 }] },
      'explanation-number': { explanation: 7 },
      'explanation-unknown': { explanation: { id: 'noSuchMessage', args: [] } },
      'legacy-error-text-nested': { errorText: { id: 'runGone', args: [{ id: 'runGone', args: [{}] }, 3] } },
      costs: { chargedCost: '12', runCost: -1 },
      times: { completedAt: '2026-12-01T10:00:00Z', createdAt: null, startedAt: {} },
      flags: { acknowledged: 'yes', origin: 5 },
      'poll-url': { pollUrl: ['https://app.flora.ai/'] },
      'huge-text': { errorMessage: 'e'.repeat(200_000), techniqueName: 'T'.repeat(200_000) },
      'progress-range': { progress: 140 },
      'stopped-garbage': { status: 'running', stopped: 'yes' },
      'reply-notes': { replyNotes: ['kept', 3, 'also kept'] },
      'create-failing-since': { status: 'creating', runId: undefined, createFailingSince: -5 },
      'saved-outputs': {
        savedOutputs: [
          { index: 0, file: '/w/flora-outputs/a.png', provenance: '/w/flora-outputs/a.flora.json', at: 5 },
          { index: -1, file: '/w/x.png', provenance: '/w/x.flora.json', at: 5 },
          { index: 0, file: 7, provenance: '/w/x.flora.json', at: 5 },
          'junk',
        ],
      },
      'saved-outputs-string': { savedOutputs: 'x' },
    };
    for (const [localId, change] of Object.entries(damaged))
      writeEntry(directory, `${localId}.json`, { ...paid, localId, idempotencyKey: localId, ...change });
    const future = {
      ...paid,
      localId: 'future',
      idempotencyKey: 'future',
      createFailingSince: 1_000,
      addedByANewerVersion: { nested: [1, 'two'] },
    };
    writeEntry(directory, 'future.json', future);
    // A "__proto__" key in the file stays a plain field and pollutes nothing.
    writeEntry(
      directory,
      'proto.json',
      JSON.stringify({ ...paid, localId: 'proto', idempotencyKey: 'proto' }).replace(/^\{/, '{"__proto__":{"polluted":true},'),
    );

    const loaded = new Map((await journal.load()).map((entry) => [entry.localId, entry]));
    assert.deepEqual([...loaded.keys()].sort(), [...Object.keys(damaged), 'future', 'proto'].sort(), 'no paid run is lost');
    const get = (localId: string): Record<string, unknown> => {
      const entry = loaded.get(localId);
      assert.ok(entry, localId);
      return entry as unknown as Record<string, unknown>;
    };
    assert.equal(get('outputs-string').outputs, undefined);
    assert.deepEqual(get('outputs-mixed').outputs, [output], 'every usable output is kept, every other one dropped');
    for (const localId of ['explanation-number', 'explanation-unknown', 'legacy-error-text-nested']) {
      assert.equal(get(localId).explanation, undefined, localId);
      assert.deepEqual(get(localId).outputs, [output], `${localId} keeps its outputs`);
      assert.equal(get(localId).runId, 'j57x');
    }
    assert.equal(get('costs').chargedCost, undefined);
    assert.equal(get('costs').runCost, undefined);
    for (const field of ['completedAt', 'createdAt', 'startedAt']) assert.equal(get('times')[field], undefined, field);
    for (const field of ['acknowledged', 'origin']) assert.equal(get('flags')[field], undefined, field);
    assert.equal(get('poll-url').pollUrl, undefined);
    assert.deepEqual(
      get('saved-outputs').savedOutputs,
      [{ index: 0, file: '/w/flora-outputs/a.png', provenance: '/w/flora-outputs/a.flora.json', at: 5 }],
      'the usable saved outputs kept, the others dropped',
    );
    assert.equal(get('saved-outputs-string').savedOutputs, undefined);
    assert.ok((get('huge-text').errorMessage as string).length <= 65_536);
    assert.ok((get('huge-text').techniqueName as string).length <= 65_536);
    assert.equal(get('progress-range').progress, 100);
    assert.deepEqual(get('stopped-garbage').stopped, { reason: 'unreadable', at: 1 }, 'an unreadable stop stays a stop');
    assert.deepEqual(get('reply-notes').replyNotes, ['kept', 'also kept']);
    assert.equal(get('create-failing-since').createFailingSince, undefined, 'a create failing since before 1970 is no time');
    for (const localId of Object.keys(damaged)) {
      assert.ok(
        warnings.some((warning) => warning.includes(`"${localId}.json"`)),
        `what was dropped from ${localId} is logged`,
      );
    }

    // Fields this version does not know survive a read and a write.
    assert.deepEqual(get('future').addedByANewerVersion, { nested: [1, 'two'] });
    assert.equal(isWellFormedRunRecord(future), true);
    await journal.save(loaded.get('future') as RunRecord);
    assert.deepEqual(await journal.read('future'), future);
    assert.equal(Object.getPrototypeOf(get('proto')), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(isWellFormedRunRecord({ ...paid, explanation: 7 }), false, 'isWellFormedRunRecord is the whole check');
  });
});
