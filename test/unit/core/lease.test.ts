// The polling lease: of several windows (processes) exactly one holds it at any moment, and it passes on
// when the holder gives it up, stops renewing or crashes.
import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import fsModule from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FileLease } from '../../../src/core/lease';
import type { ContenderReport } from './leaseContender';
import { NamedPipes } from '../../common/pipes';

describe('core/lease', () => {
  let directory: string;
  let now = 1_000;
  const clock = () => now;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-lease-'));
    now = 1_000;
  });

  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('gives the lease to one holder at a time', () => {
    const file = path.join(directory, 'poller.lease');
    const first = new FileLease(file, { ttlMs: 10_000, now: clock });
    const second = new FileLease(file, { ttlMs: 10_000, now: clock });
    assert.equal(first.acquireOrRenew(), true);
    assert.equal(second.acquireOrRenew(), false);
    now += 5_000;
    assert.equal(first.acquireOrRenew(), true, 'the holder renews');
    now += 9_000;
    assert.equal(second.acquireOrRenew(), false, 'renewed, so not yet expired');
  });

  it('passes to another holder when the holder releases it or stops renewing', () => {
    const file = path.join(directory, 'poller.lease');
    const first = new FileLease(file, { ttlMs: 10_000, now: clock });
    const second = new FileLease(file, { ttlMs: 10_000, now: clock });
    const third = new FileLease(file, { ttlMs: 10_000, now: clock });
    assert.equal(first.acquireOrRenew(), true);
    first.release();
    assert.equal(first.isHeld, false);
    assert.equal(second.acquireOrRenew(), true, 'released: taken at once');
    now += 10_001;
    assert.equal(third.acquireOrRenew(), true, 'expired: taken over');
    assert.equal(second.acquireOrRenew(), false, 'the old holder learns it lost the lease');
    assert.equal(first.acquireOrRenew(), false);
  });

  /**
   * The window in which the old read–write–read-back lost: another window acts between one window's look
   * at the lease and its write. The hook runs the rival's whole acquireOrRenew at the moment the first
   * window publishes its claim (a rename or a link, whichever the lease uses), for a free lease and for an
   * expired one.
   */
  for (const start of ['free', 'expired'] as const) {
    it(`lets only one of two windows take a${start === 'free' ? '' : 'n'} ${start} lease when they race`, () => {
      const file = path.join(directory, 'poller.lease');
      if (start === 'expired') {
        const crashed = new FileLease(file, { ttlMs: 10_000, now: clock });
        assert.equal(crashed.acquireOrRenew(), true);
        now += 10_001;
      }
      const first = new FileLease(file, { ttlMs: 10_000, now: clock });
      const rival = new FileLease(file, { ttlMs: 10_000, now: clock });
      let rivalHeld: boolean | undefined;
      const originals = { renameSync: fsModule.renameSync, linkSync: fsModule.linkSync };
      const mutable = fsModule as { renameSync: typeof fs.renameSync; linkSync: typeof fs.linkSync };
      const interleave = () => {
        mutable.renameSync = originals.renameSync;
        mutable.linkSync = originals.linkSync;
        rivalHeld = rival.acquireOrRenew();
      };
      mutable.renameSync = (...args) => {
        interleave();
        originals.renameSync(...args);
      };
      mutable.linkSync = (...args) => {
        interleave();
        originals.linkSync(...args);
      };
      let firstHeld: boolean;
      try {
        firstHeld = first.acquireOrRenew();
      } finally {
        mutable.renameSync = originals.renameSync;
        mutable.linkSync = originals.linkSync;
      }
      assert.equal(rivalHeld, true, 'the rival, done first, holds the lease');
      assert.equal(firstHeld, false, 'the window that was overtaken does not believe it holds it too');
      assert.equal(rival.acquireOrRenew(), true, 'and the rival keeps it');
    });
  }
});

/**
 * What another program (or a damaged disk, or a window whose clock was wrong) can leave in the lease's
 * folder. None of it may leave the lease with no holder for good, nor make two windows hold it.
 */
describe('core/lease over a folder it did not write alone', () => {
  let directory: string;
  let file: string;
  let chain: string;
  let now = 1_000;
  const clock = () => now;
  const lease = () => new FileLease(file, { ttlMs: 10_000, now: clock });
  const pipes = new NamedPipes();

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-lease-junk-'));
    file = path.join(directory, 'poller.lease');
    chain = `${file}.d`;
    fs.mkdirSync(chain);
    now = 1_000;
  });

  afterEach(() => {
    pipes.release();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  /** One window takes the lease, the next does not, and the lease passes on when it is given up. */
  function assertOneHolderAtATime(): void {
    const first = lease();
    const second = lease();
    assert.equal(first.acquireOrRenew(), true, 'a window takes the lease');
    assert.equal(second.acquireOrRenew(), false, 'and only one');
    now += 5_000;
    assert.equal(first.acquireOrRenew(), true, 'the holder renews');
    assert.equal(second.acquireOrRenew(), false);
    first.release();
    assert.equal(second.acquireOrRenew(), true, 'given up: another window takes it');
    assert.equal(first.acquireOrRenew(), false);
  }

  const JUNK_NAMES = [
    // Its successor has 16 digits, which the chain once refused to create.
    '999999999999999',
    '9007199254740993',
    '9'.repeat(40),
    // The last number the chain counts to: it has no successor in range.
    '9'.repeat(30),
    '1' + '0'.repeat(200),
    '007',
    'notes.txt',
  ];
  for (const name of JUNK_NAMES) {
    it(`keeps working past a junk file named ${name.length > 20 ? `${name.slice(0, 6)}… (${name.length} characters)` : name}, and tidies it away`, () => {
      fs.writeFileSync(path.join(chain, name), 'junk');
      assertOneHolderAtATime();
      assert.ok(!fs.readdirSync(chain).includes(name), `the junk is gone: ${fs.readdirSync(chain).join(', ')}`);
    });
  }

  it('keeps working when a file stands where the folder of generations goes', () => {
    fs.rmdirSync(chain);
    fs.writeFileSync(chain, 'junk');
    assertOneHolderAtATime();
    assert.ok(fs.statSync(chain).isDirectory());
  });

  it('keeps working past a junk generation that holds a valid lease', () => {
    // Another window's lease, as good as real, at a number no window reached.
    fs.writeFileSync(path.join(chain, '9'.repeat(20)), JSON.stringify({ owner: 'someone', expiresAt: now + 5_000 }));
    const first = lease();
    assert.equal(first.acquireOrRenew(), false, 'a live holder is respected, whatever its number');
    now += 5_001;
    assertOneHolderAtATime();
  });

  for (const [what, expiresAt] of [
    ['a ghost holder a year ahead', () => now + 365 * 24 * 3_600_000],
    ['a holder whose clock was two hours ahead, then crashed', () => now + 2 * 3_600_000 + 10_000],
    ['an expiry too large to be a time', () => 1e308],
  ] as const) {
    it(`treats a lease that expires later than any holder could claim as stale: ${what}`, () => {
      fs.writeFileSync(path.join(chain, '7'), JSON.stringify({ owner: 'ghost', expiresAt: expiresAt() }));
      assertOneHolderAtATime();
    });
  }

  for (const [what, make] of [
    ['a directory', (target: string) => fs.mkdirSync(target)],
    ['a directory with files in it', (target: string) => fs.mkdirSync(path.join(target, 'inner'), { recursive: true })],
    ['a symbolic link to /dev/zero', (target: string) => fs.symlinkSync('/dev/zero', target)],
    [
      'a symbolic link to a valid lease',
      (target: string) => {
        const elsewhere = path.join(directory, 'elsewhere');
        fs.writeFileSync(elsewhere, JSON.stringify({ owner: 'elsewhere', expiresAt: now + 5_000 }));
        fs.symlinkSync(elsewhere, target);
      },
    ],
    [
      // Valid JSON, but no lease this code writes is a megabyte: it is not read.
      'a megabyte holding a valid lease',
      (target: string) => fs.writeFileSync(target, JSON.stringify({ owner: 'big', expiresAt: now + 5_000 }) + ' '.repeat(1_048_576)),
    ],
    [
      'a named pipe',
      (target: string) => {
        pipes.make(target);
      },
    ],
  ] as const) {
    it(`takes the lease over ${what} at the highest generation: no throw, one holder`, () => {
      fs.writeFileSync(path.join(chain, '41'), JSON.stringify({ owner: 'gone', expiresAt: 0 }));
      make(path.join(chain, '42'));
      assertOneHolderAtATime();
      now += 5_000;
      const later = lease();
      assert.equal(later.acquireOrRenew(), false, 'the holder of the moment keeps it');
      assert.ok(!fs.readdirSync(chain).includes('42'), 'the junk generation is tidied once two newer exist');
    });
  }
});

describe('core/lease across real processes', function () {
  this.timeout(60_000);

  const PROCESSES = 6;
  const ROUNDS = 5_000;
  const TTL_MS = 20;

  let directory: string;

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-lease-race-'));
  });

  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  function contend(file: string, seed: number): Promise<ContenderReport> {
    return new Promise((resolve, reject) => {
      const child = fork(path.join(__dirname, 'leaseContender.js'), [file, String(TTL_MS), String(ROUNDS), String(seed)], {
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      let report: ContenderReport | undefined;
      child.on('message', (message) => (report = message as ContenderReport));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 && report ? resolve(report) : reject(new Error(`contender ${seed} exited with ${String(code)}`)),
      );
    });
  }

  it('never has two holders at once, and the lease changes hands', async () => {
    const file = path.join(directory, 'poller.lease');
    const reports = await Promise.all(Array.from({ length: PROCESSES }, (_, index) => contend(file, 20261201 + index)));

    const intervals = reports
      .flatMap((report) => report.intervals.map(([from, until]) => ({ pid: report.pid, from, until })))
      .sort((a, b) => a.from - b.from);
    let latest: (typeof intervals)[number] | undefined;
    for (const interval of intervals) {
      if (latest && latest.pid !== interval.pid && interval.from < latest.until) {
        assert.fail(
          `two holders at once: process ${latest.pid} held it over [${latest.from.toFixed(3)}, ${latest.until.toFixed(3)}) ` +
            `and process ${interval.pid} from ${interval.from.toFixed(3)} (${(latest.until - interval.from).toFixed(3)} ms together)`,
        );
      }
      if (!latest || interval.until > latest.until) latest = interval;
    }

    const holders = reports.filter((report) => report.intervals.length > 0).length;
    const handovers = intervals.filter((interval, index) => index > 0 && intervals[index - 1]?.pid !== interval.pid).length;
    const total = (key: 'releases' | 'abandons' | 'lateRenewals') => reports.reduce((sum, report) => sum + report[key], 0);
    assert.ok(holders >= 2, `only ${holders} of ${PROCESSES} processes ever held the lease`);
    assert.ok(handovers >= 10, `the lease changed hands only ${handovers} times`);
    // The run went through every way a lease passes on: given up, abandoned (crash) and renewed too late.
    assert.ok(
      total('releases') > 0 && total('abandons') > 0 && total('lateRenewals') > 0,
      JSON.stringify(reports.map(({ intervals: _, ...counts }) => counts)),
    );
  });
});
