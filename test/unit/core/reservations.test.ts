// Budget reservations shared by windows (core/reservations.ts): runs admitted and not on record yet count in
// every window's budget, crashed windows' credits expire, and of windows asking at the same moment no two
// both pass the limit unasked.
import * as assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ReservationBook } from '../../../src/core/reservations';
import { ManualTime } from '../../common/manualTime';
import type { ContenderCommand, ContenderReply } from './reservationContender';

describe('core/reservations', () => {
  let directory: string;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-reservations-'));
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it("counts other windows' runs being prepared until they are released", () => {
    const time = new ManualTime();
    const here = new ReservationBook(directory, { now: time.clock, timers: time.timers });
    const there = new ReservationBook(directory, { now: time.clock, timers: time.timers });
    const first = here.holdThenCount(5);
    assert.equal(first.elsewhere, 0);
    const second = there.holdThenCount(7);
    assert.equal(second.elsewhere, 5, "the other window's run counts");
    const third = here.holdThenCount(2);
    assert.equal(third.elsewhere, 12, "this window's other run and the other window's");
    assert.equal(there.total(), 14);
    first.reservation.release();
    first.reservation.release();
    assert.equal(there.total(), 9, 'a released run no longer counts (released twice: once)');
    here.dispose();
    assert.equal(there.total(), 7, 'a closing window releases what it holds');
    assert.equal(here.total(), 7);
    second.reservation.release();
    assert.deepEqual(fs.readdirSync(directory), [], 'nothing is left behind');
  });

  it("lets a crashed window's credits expire, and renews a live one's for as long as it holds them", async () => {
    const time = new ManualTime();
    const live = new ReservationBook(directory, { now: time.clock, timers: time.timers, ttlMs: 60_000 });
    const crashed = new ReservationBook(directory, { now: time.clock, timers: new ManualTime().timers, ttlMs: 60_000 });
    const reader = new ReservationBook(directory, { now: time.clock, timers: time.timers, ttlMs: 60_000 });
    live.holdThenCount(5);
    crashed.holdThenCount(3); // its timers never run: it renews nothing, like a window that is gone
    assert.equal(reader.total(), 8);
    await time.advance(59_000);
    assert.equal(reader.total(), 8);
    await time.advance(2_000);
    assert.equal(reader.total(), 5, 'the crashed window counted for one lifetime after its last write, no longer');
    assert.equal(fs.readdirSync(directory).length, 1, 'the expired file is tidied away by whoever reads it');
    await time.advance(10 * 60_000);
    assert.equal(reader.total(), 5, 'ten minutes on, the live window still holds its run');
    live.dispose();
    assert.equal(reader.total(), 0);
  });

  it('counts nothing that is not a reservation this code could have written', () => {
    const time = new ManualTime();
    const reader = new ReservationBook(directory, { now: time.clock, timers: time.timers, ttlMs: 60_000 });
    const id = (digit: string) => digit.repeat(32);
    const write = (name: string, content: string) => fs.writeFileSync(path.join(directory, name), content);
    write(`${id('a')}.json`, JSON.stringify({ credits: 4, expiresAt: time.now + 30_000 })); // the one that counts
    write(`${id('b')}.json`, 'not json');
    write(`${id('c')}.json`, JSON.stringify({ credits: -50, expiresAt: time.now + 30_000 }));
    write(`${id('d')}.json`, JSON.stringify({ credits: 'many', expiresAt: time.now + 30_000 }));
    write(`${id('e')}.json`, JSON.stringify({ credits: 5, expiresAt: time.now + 10 * 60_000 })); // outlasts any holder
    write(`${id('f')}.json`, JSON.stringify({ credits: 5e12, expiresAt: time.now + 30_000 }));
    write(`${id('0')}.json`, `${JSON.stringify({ credits: 1, expiresAt: time.now + 30_000 })}${' '.repeat(5000)}`); // too big
    write('notes.json', JSON.stringify({ credits: 9, expiresAt: time.now + 30_000 }));
    fs.mkdirSync(path.join(directory, `${id('1')}.json`));
    fs.symlinkSync(path.join(directory, `${id('a')}.json`), path.join(directory, `${id('2')}.json`));
    assert.equal(reader.total(), 4);
    const missing = new ReservationBook(path.join(directory, 'not-yet'), { now: time.clock, timers: time.timers });
    assert.equal(missing.total(), 0, 'no folder yet: nothing held');
    const held = missing.holdThenCount(3);
    assert.equal(fs.readdirSync(path.join(directory, 'not-yet')).length, 1, 'the folder is made on the first hold');
    held.reservation.release();
  });

  it('still counts its own runs when the folder cannot be written, and says so once', () => {
    const blocked = path.join(directory, 'a-file');
    fs.writeFileSync(blocked, '');
    const said: string[] = [];
    const time = new ManualTime();
    const book = new ReservationBook(blocked, { now: time.clock, timers: time.timers, log: (_level, text) => said.push(text) });
    book.holdThenCount(5);
    const second = book.holdThenCount(6);
    assert.equal(second.elsewhere, 5);
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0] ?? '', /other windows do not see them/);
    book.dispose();
  });
});

describe('core/reservations, real processes asking at once', function () {
  this.timeout(120_000);
  const PROCESSES = 6;
  const ROUNDS = 150;
  const CREDITS = 5;
  const LIMIT = 12; // two runs fit, a third passes it

  it('never lets more runs go ahead unasked than the budget holds', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-reservations-race-'));
    const children: ChildProcess[] = [];
    try {
      for (let index = 0; index < PROCESSES; index++) {
        children.push(
          fork(path.join(__dirname, 'reservationContender.js'), [directory, String(CREDITS), String(LIMIT)], {
            execArgv: [],
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          }),
        );
      }
      // Each child answers every command once, in order.
      const waiting = children.map(() => [] as Array<(reply: ContenderReply) => void>);
      children.forEach((child, index) => {
        child.on('message', (reply) => waiting[index]?.shift()?.(reply as ContenderReply));
        child.on('exit', (code) => {
          if (code !== 0) for (const resolve of waiting[index]?.splice(0) ?? []) resolve({ round: -1, unasked: true });
        });
      });
      const ask = (command: ContenderCommand) =>
        Promise.all(
          children.map(
            (child, index) =>
              new Promise<ContenderReply>((resolve) => {
                waiting[index]?.push(resolve);
                child.send(command);
              }),
          ),
        );
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
    } finally {
      for (const child of children) if (child.connected) child.send({ quit: true } satisfies ContenderCommand);
      await Promise.all(
        children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)))),
      );
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
