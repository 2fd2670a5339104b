// Budget reservations shared by windows (core/reservations.ts): runs admitted and not on record yet count in
// every window's budget until that window has the record, a crashed window's credits expire, a sleeping
// one's do not, and of windows asking at the same moment no two both pass the limit unasked.
import * as assert from 'node:assert/strict';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { removeIfUnchanged, ReservationBook } from '../../../src/core/reservations';
import { ManualTime } from '../../common/manualTime';
import type { ContenderCommand, ContenderReply } from './reservationContender';

const TTL_MS = 60_000;
const HOUR_MS = 3_600_000;
const none: ReadonlySet<string> = new Set();

/** The id of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  assert.ok(pid !== undefined && pid > 0);
  return pid;
}

describe('core/reservations', () => {
  let directory: string;
  let time: ManualTime;
  const book = (options: { timers?: ManualTime['timers']; log?: (level: string, text: string) => void; folder?: string } = {}) =>
    new ReservationBook(options.folder ?? directory, {
      now: time.clock,
      timers: options.timers ?? time.timers,
      ttlMs: TTL_MS,
      log: options.log,
    });
  /** A reservation file as another window (or program) left it, modified at `modifiedAt` (default now). */
  const leave = (name: string, content: string, modifiedAt = time.now) => {
    const file = path.join(directory, name);
    fs.writeFileSync(file, content);
    fs.utimesSync(file, modifiedAt / 1000, modifiedAt / 1000);
  };

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-reservations-'));
    time = new ManualTime();
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it("counts other windows' runs being prepared until they are released, or until this window has their record", () => {
    const here = book();
    const there = book();
    const first = here.holdThenCount('run-a', 5, none);
    assert.equal(first.credits, 0);
    const second = there.holdThenCount('run-b', 7, none);
    assert.equal(second.credits, 5, "the other window's run counts");
    const third = here.holdThenCount('run-c', 2, none);
    assert.equal(third.credits, 12, "this window's other run and the other window's");
    time.now += 1_500; // past the display's second of caching
    assert.deepEqual(there.total(none), { credits: 14, complete: true });

    first.reservation.release(false);
    first.reservation.release(true);
    assert.ok(!fs.existsSync(path.join(directory, 'run-a.json')), 'a run that never got on record takes its hold away at once');
    time.now += 1_500; // past the display's second of caching
    assert.equal(there.total(none).credits, 9, 'released (twice: once)');

    second.reservation.release(true);
    assert.ok(fs.existsSync(path.join(directory, 'run-b.json')), 'a run on record leaves its hold for the windows that have not read it');
    assert.equal(here.total(none).credits, 2 + 7, 'counted here until this window reads the record');
    assert.equal(here.total(new Set(['run-b'])).credits, 2, 'then the journal counts it, not the hold');
    assert.equal(there.total(none).credits, 2, 'the window that recorded it counts it from its journal only');
    time.now += TTL_MS + 1_000;
    assert.equal(here.total(none).credits, 2, 'a lifetime after release it no longer counts anywhere, though its window lives');
    assert.deepEqual(fs.readdirSync(directory).sort(), ['run-c.json'], 'and it is tidied away, with its marker');

    here.dispose();
    assert.equal(there.total(none).credits, 0, 'a closing window releases what it holds');
    assert.equal(here.holdThenCount('run-d', 3, none).credits, 0);
    assert.ok(!fs.existsSync(path.join(directory, 'run-d.json')), 'a closed window holds nothing on disk');
  });

  it('renews by the modification time, never by another name or content, and a renewal newer than the reader is still counted', async () => {
    const holder = book();
    holder.holdThenCount('run-a', 5, none);
    const file = path.join(directory, 'run-a.json');
    const before = fs.statSync(file);
    const content = fs.readFileSync(file, 'utf8');
    await time.advance(25 * 60_000);
    const after = fs.statSync(file);
    assert.equal(after.ino, before.ino, 'the same file');
    assert.equal(fs.readFileSync(file, 'utf8'), content);
    assert.ok(after.mtimeMs > time.now - TTL_MS, 'renewed within its lifetime');
    // The holder's clock a little ahead of the reader's: renewed "in the future", still held.
    fs.utimesSync(file, (time.now + 5_000) / 1000, (time.now + 5_000) / 1000);
    assert.equal(book().total(none).credits, 5);
  });

  it("lets a crashed window's credits expire, but keeps a sleeping window's while its process lives", async () => {
    leave('crashed.json', JSON.stringify({ credits: 3, pid: deadPid() }));
    const asleep = book({ timers: new ManualTime().timers }); // its timers never run, like a machine asleep
    asleep.holdThenCount('asleep', 5, none);
    const reader = book();
    assert.equal(reader.total(none).credits, 8);
    time.now += TTL_MS - 1_000;
    assert.equal(book().total(none).credits, 8);
    time.now += 2_000;
    assert.equal(book().total(none).credits, 5, 'the crashed window counted for one lifetime, no longer');
    assert.deepEqual(fs.readdirSync(directory), ['asleep.json'], 'its file is tidied away by whoever reads it');
    time.now += 5 * HOUR_MS;
    assert.equal(book().total(none).credits, 5, 'five hours unrenewed, its process alive: the machine slept, the run is still held');
    time.now += 2 * HOUR_MS;
    assert.equal(book().total(none).credits, 0, 'no upload takes six hours: a reused process id holds nothing for ever');
  });

  it('counts nothing that is not a reservation this code could have written, and tidies stale junk of its names', () => {
    leave('run-ok.json', JSON.stringify({ credits: 4, pid: process.pid })); // the one that counts
    leave('run-not-json.json', 'not json');
    leave('run-negative.json', JSON.stringify({ credits: -50 }));
    leave('run-words.json', JSON.stringify({ credits: 'many' }));
    leave('run-huge.json', JSON.stringify({ credits: 5e12 }));
    leave('run-pid-zero.json', JSON.stringify({ credits: 5, pid: 0 }));
    leave('run-too-big.json', `${JSON.stringify({ credits: 1 })}${' '.repeat(5000)}`);
    leave('run-old-junk.json', 'junk', time.now - 2 * TTL_MS);
    leave('notes.txt', JSON.stringify({ credits: 9 }));
    leave('run-renamed.json.tmp', JSON.stringify({ credits: 9 }));
    fs.mkdirSync(path.join(directory, 'run-folder.json'));
    fs.symlinkSync(path.join(directory, 'run-ok.json'), path.join(directory, 'run-link.json'));
    spawnSync('mkfifo', [path.join(directory, 'run-pipe.json')]);
    const reader = book();
    assert.deepEqual(reader.total(none), { credits: 4, complete: true });
    assert.ok(!fs.existsSync(path.join(directory, 'run-old-junk.json')), 'junk under a reservation name, past a lifetime, is removed');
    assert.ok(fs.existsSync(path.join(directory, 'run-not-json.json')), 'fresh junk is left (it may be half of something)');
    assert.ok(fs.existsSync(path.join(directory, 'notes.txt')), 'other names are not ours to remove');

    const missing = book({ folder: path.join(directory, 'not-yet') });
    assert.deepEqual(missing.total(none), { credits: 0, complete: true }, 'no folder yet: nothing held');
    missing.holdThenCount('run-x', 3, none);
    assert.deepEqual(fs.readdirSync(path.join(directory, 'not-yet')), ['run-x.json'], 'the folder is made on the first hold');
    assert.throws(() => reader.holdThenCount('../run', 1, none), /letters, digits and hyphens/);
  });

  it('says the count is incomplete when its hold cannot be written, the folder cannot be listed, or holds more than any windows do', () => {
    const blocked = path.join(directory, 'a-file');
    fs.writeFileSync(blocked, '');
    const said: string[] = [];
    const unwritable = book({ folder: blocked, log: (_level, text) => said.push(text) });
    const first = unwritable.holdThenCount('run-a', 5, none);
    assert.equal(first.complete, false, 'neither written nor listed');
    const second = unwritable.holdThenCount('run-b', 6, none);
    assert.equal(second.credits, 5, 'its own runs still count');
    assert.ok(
      said.some((text) => /other windows cannot see this window's runs/.test(text)),
      said.join('\n'),
    );
    assert.equal(said.filter((text) => /could not be written/.test(text)).length, 1, 'said once while it lasts');

    for (let index = 0; index < 1_001; index++) leave(`run-${index}.json`, JSON.stringify({ credits: 0, pid: process.pid }));
    assert.equal(book().total(none).complete, false, 'a thousand and one reservations: not ours alone');
  });

  it('says the count is incomplete when a hold of another window cannot be read (no permission)', function () {
    // As root every file is readable: the reader runs as nobody, in a process of its own.
    if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) this.skip();
    fs.chmodSync(directory, 0o755);
    // The reader's clock is the real one.
    leave('run-readable.json', JSON.stringify({ credits: 2 }), Date.now());
    leave('run-private.json', JSON.stringify({ credits: 5 }), Date.now());
    fs.chmodSync(path.join(directory, 'run-private.json'), 0o600);
    const module = path.join(__dirname, '../../../src/core/reservations.js');
    const script = `const { ReservationBook } = require(${JSON.stringify(module)}); console.log(JSON.stringify(new ReservationBook(${JSON.stringify(directory)}).total(new Set())));`;
    const run = () =>
      spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8' });
    const unreadable = run();
    assert.equal(unreadable.status, 0, unreadable.stderr);
    assert.deepEqual(JSON.parse(unreadable.stdout), { credits: 2, complete: false });
    fs.chmodSync(path.join(directory, 'run-private.json'), 0o644);
    assert.deepEqual(JSON.parse(run().stdout), { credits: 7, complete: true });
  });

  it('counts nothing renewed more than a lifetime in the future, and tidies it', () => {
    leave('run-future.json', JSON.stringify({ credits: 5, pid: process.pid }), time.now + 2 * TTL_MS);
    leave('run-near-future.json', JSON.stringify({ credits: 3 }), time.now + TTL_MS / 2);
    assert.equal(book().total(none).credits, 3, 'a holder a little ahead counts; one a lifetime ahead does not, even alive');
    assert.deepEqual(fs.readdirSync(directory), ['run-near-future.json']);
  });

  it('removes a file only if it was not renewed since it was read', () => {
    const file = path.join(directory, 'run-a.json');
    leave('run-a.json', '{}', time.now - 10_000);
    const read = fs.statSync(file).mtimeMs;
    fs.utimesSync(file, time.now / 1000, time.now / 1000); // its holder renews it in between
    removeIfUnchanged(file, read);
    assert.ok(fs.existsSync(file), 'renewed since: kept');
    removeIfUnchanged(file, fs.statSync(file).mtimeMs);
    assert.ok(!fs.existsSync(file), 'unchanged: removed');
  });

  it("answers the display from a count at most a second old, and a run's admission from a fresh one", () => {
    const here = book();
    const there = book();
    assert.equal(here.total(none).credits, 0);
    there.holdThenCount('run-a', 5, none);
    assert.equal(here.total(none).credits, 0, 'the display within its second');
    assert.equal(here.total(none, { fresh: true }).credits, 5, 'or afresh on request');
    there.holdThenCount('run-c', 2, none);
    assert.equal(here.holdThenCount('run-b', 1, none).credits, 7, 'an admission reads afresh');
    time.now += 1_001;
    assert.equal(here.total(none).credits, 8);
  });
});

describe('core/reservations, real processes at once', function () {
  this.timeout(120_000);
  const PROCESSES = 6;
  const ROUNDS = 150;
  const CREDITS = 5;
  const LIMIT = 12; // two runs fit, a third passes it
  let directory: string;
  let children: ChildProcess[];
  let ask: (command: ContenderCommand, only?: number[]) => Promise<ContenderReply[]>;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-reservations-race-'));
    children = Array.from({ length: PROCESSES }, () =>
      fork(path.join(__dirname, 'reservationContender.js'), [directory, String(CREDITS), String(LIMIT)], {
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    // Each child answers every command once, in order; one that exits answers what it owed with a failure.
    const waiting = children.map(() => [] as Array<(reply: ContenderReply) => void>);
    children.forEach((child, index) => {
      child.on('message', (reply) => waiting[index]?.shift()?.(reply as ContenderReply));
      child.on('exit', (code) => {
        if (code !== 0) for (const resolve of waiting[index]?.splice(0) ?? []) resolve({ round: -2, unasked: true, misses: -1 });
      });
    });
    ask = (command, only = children.map((_, index) => index)) =>
      Promise.all(
        only.map(
          (index) =>
            new Promise<ContenderReply>((resolve) => {
              waiting[index]?.push(resolve);
              children[index]?.send(command);
            }),
        ),
      );
  });

  afterEach(async () => {
    for (const child of children) if (child.connected) child.send({ quit: true } satisfies ContenderCommand);
    await Promise.all(
      children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)))),
    );
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it('never lets more runs go ahead unasked than the budget holds', async () => {
    const unaskedPerRound: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const replies = await ask({ round, at: Number(process.hrtime.bigint()) / 1e6 + 15 });
      assert.ok(
        replies.every((reply) => reply.round === round),
        `a contender exited or answered out of turn: ${JSON.stringify(replies)}`,
      );
      const unasked = replies.filter((reply) => reply.unasked).length;
      assert.ok(unasked * CREDITS <= LIMIT, `round ${round}: ${unasked} runs of ${CREDITS} credits went ahead unasked, past ${LIMIT}`);
      unaskedPerRound.push(unasked);
      await ask({ end: round });
    }
    // The limit is reached, not just respected: most rounds admit the two runs that fit.
    assert.ok(unaskedPerRound.filter((count) => count === 2).length > ROUNDS / 2, JSON.stringify(unaskedPerRound));
  });

  it('never misses a reservation while its holder renews it', async () => {
    const holder = new ReservationBook(directory);
    holder.holdThenCount('held-run', 5, none);
    try {
      const [touched, ...counts] = await Promise.all([
        ask({ touch: path.join(directory, 'held-run.json'), ms: 3_000 }, [0]),
        ask({ count: 3_000, expected: 5 }, [1, 2, 3, 4, 5]),
      ]);
      assert.equal(touched?.[0]?.round, -1, 'the renewing process ran');
      assert.deepEqual(
        counts.flat().map((reply) => reply.misses),
        [0, 0, 0, 0, 0],
        'every count saw the renewed reservation',
      );
    } finally {
      holder.dispose();
    }
  });
});
