// One of several real Node processes contending for the same FileLease (forked by lease.test.ts). It
// takes, renews, gives up and abandons the lease for a number of rounds and reports, over IPC, every
// interval during which acquireOrRenew told it that it held the lease. The parent checks that no two
// processes' intervals overlap.
//
// Arguments: <lease file> <ttl ms> <rounds> <seed>.
import { FileLease } from '../../../src/core/lease';

export interface ContenderReport {
  pid: number;
  /** [from, until) by the shared clock: from acquireOrRenew's return until its claim ended. */
  intervals: Array<[number, number]>;
  acquisitions: number;
  releases: number;
  abandons: number;
  lateRenewals: number;
}

const [file, ttlText, roundsText, seedText] = process.argv.slice(2);
if (!file || !ttlText || !roundsText || !seedText) throw new Error('usage: leaseContender <file> <ttlMs> <rounds> <seed>');
const ttlMs = Number(ttlText);
const rounds = Number(roundsText);

/** One clock for every process on the machine (CLOCK_MONOTONIC), in milliseconds. */
function clock(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Deterministic per process, so a failing run can be replayed with the same seed. */
let state = Number(seedText) >>> 0;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const pause = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(pause, 0, 0, ms);
}

/** The earliest clock reading the lease made during the current call: its claim cannot outlast it + ttl. */
let earliestReading = Infinity;
const leaseClock = (): number => {
  const reading = clock();
  earliestReading = Math.min(earliestReading, reading);
  return reading;
};

const report: ContenderReport = { pid: process.pid, intervals: [], acquisitions: 0, releases: 0, abandons: 0, lateRenewals: 0 };
let lease = new FileLease(file, { ttlMs, now: leaseClock });
/** The claim this process believes it has: from when acquireOrRenew said so, until its expiry. */
let claim: { from: number; expiresAt: number } | undefined;

/** The belief ends when the process asks again (or gives up): close the interval there, or at expiry. */
function endClaim(at: number): void {
  if (claim) {
    const until = Math.min(at, claim.expiresAt);
    if (until > claim.from) report.intervals.push([claim.from, until]);
  }
  claim = undefined;
}

function acquireOrRenew(): boolean {
  endClaim(clock());
  earliestReading = Infinity;
  const held = lease.acquireOrRenew();
  const returned = clock();
  if (held) {
    report.acquisitions++;
    claim = { from: returned, expiresAt: earliestReading + ttlMs };
  }
  return held;
}

for (let round = 0; round < rounds; round++) {
  if (!claim) {
    // Mostly at once, so that several processes are at the lease together the moment it comes free.
    if (!acquireOrRenew() && random() < 0.5) sleep(1);
    continue;
  }
  const choice = random();
  if (choice < 0.6) {
    // Hold it a moment, then renew: usually in time, sometimes too late (the others may have taken it).
    const late = random() < 0.05;
    if (late) report.lateRenewals++;
    sleep(late ? ttlMs + Math.floor(random() * ttlMs) : Math.floor(random() * 3));
    acquireOrRenew();
  } else if (choice < 0.95) {
    sleep(Math.floor(random() * 3));
    endClaim(clock());
    lease.release();
    report.releases++;
  } else {
    // A window that crashed: it never renews nor releases; a new one starts with a new owner id.
    sleep(Math.floor(random() * 3));
    endClaim(clock());
    report.abandons++;
    lease = new FileLease(file, { ttlMs, now: leaseClock });
  }
}
endClaim(clock());
lease.release();
process.send?.(report, () => process.exit(0));
