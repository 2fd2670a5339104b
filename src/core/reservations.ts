// Credits held for runs that the daily budget admitted and the journal does not show yet, shared by every
// window. A run is on record only once its files are uploaded, which can take minutes; until then it
// counted only in the window that admitted it, so two windows (two agents in a loop, each uploading) could
// each pass the limit by the other's cost. Each held reservation is a small file in global storage, and
// every window's budget counts the others' files.
//
// Why hold first, then count: no filesystem call checks the others and reserves in one step across
// processes. A window writes its reservation before it reads the others', so of two windows asking at the
// same time, the one that reads last sees the other's (both may see each other: then both ask a person,
// which costs a question, never credits).
//
// A window that crashes cannot remove its files: a reservation expires unless renewed, and its holder
// renews it every third of that time until it is released. Other programs may leave anything in the
// folder: a name this code does not write is ignored; a file that is not a small reservation, or one
// that claims to last longer than any holder could have asked, does not count.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from './model';
import { SYSTEM_TIMERS, type PollerTimers } from './poller';
import { readRegularFileSync } from './regularFile';

/** A crashed window's credits count for at most this long after its last renewal. */
const DEFAULT_TTL_MS = 60_000;
const NAME = /^([0-9a-f]{32})\.json$/;
const MAX_FILE_BYTES = 4096;
/** No run costs more than this: a larger figure is not a reservation this code wrote. */
const MAX_CREDITS = 1_000_000_000;

const reservationFile = z.object({
  credits: z.number().finite().min(0).max(MAX_CREDITS),
  expiresAt: z.number().finite(),
});

export interface HeldReservation {
  readonly id: string;
  readonly credits: number;
  /** Removes the file and stops renewing it; a second call does nothing. */
  release(): void;
}

export interface ReservationBookOptions {
  /** Wall-clock time: every window sharing the folder must read the same clock. */
  now?: () => number;
  timers?: PollerTimers;
  ttlMs?: number;
  log?: Logger;
}

export class ReservationBook {
  private readonly now: () => number;
  private readonly timers: PollerTimers;
  private readonly ttlMs: number;
  private readonly log: Logger;
  /** This window's reservations, counted from memory whether or not their files could be written. */
  private readonly held = new Map<string, { credits: number; timer: unknown }>();
  /** A write that fails is logged once until one succeeds again. */
  private writeProblem = false;

  /** @param directory the folder every window shares; undefined keeps the reservations in this window's memory. */
  constructor(
    readonly directory: string | undefined,
    options: ReservationBookOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Holds `credits` (written before anything is read), then counts every other reservation: what this
   * window holds besides and what other windows hold. The caller judges the budget by `elsewhere` plus
   * the run's own cost, and releases the reservation if the run does not go ahead.
   */
  holdThenCount(credits: number): { reservation: HeldReservation; elsewhere: number } {
    const reservation = this.hold(credits);
    return { reservation, elsewhere: this.total(reservation.id) };
  }

  /** Credits held now by this window and every other, but for the reservation `except`. */
  total(except?: string): number {
    let sum = 0;
    for (const [id, entry] of this.held) if (id !== except) sum += entry.credits;
    for (const other of this.readOthers()) sum += other;
    return sum;
  }

  /** Releases everything this window holds (the window is closing). */
  dispose(): void {
    for (const id of [...this.held.keys()]) this.release(id);
  }

  private hold(credits: number): HeldReservation {
    if (this.directory === undefined) {
      const id = randomBytes(16).toString('hex');
      this.held.set(id, { credits, timer: undefined });
      return { id, credits, release: () => void this.held.delete(id) };
    }
    const id = randomBytes(16).toString('hex');
    const entry = { credits, timer: undefined as unknown };
    this.held.set(id, entry);
    const directory = this.directory;
    const renew = (): void => {
      if (!this.held.has(id)) return;
      this.write(directory, id, credits);
      entry.timer = this.timers.setTimeout(renew, Math.max(1_000, Math.floor(this.ttlMs / 3)));
    };
    renew();
    return { id, credits, release: () => this.release(id) };
  }

  private release(id: string): void {
    const entry = this.held.get(id);
    if (!entry) return;
    this.held.delete(id);
    this.timers.clearTimeout(entry.timer);
    if (this.directory === undefined) return;
    try {
      fs.rmSync(this.fileOf(this.directory, id), { force: true });
    } catch (error) {
      // Left behind, it expires by itself within the reservation's lifetime.
      this.log('warn', `A budget reservation could not be removed (${String(error)}); it expires by itself.`);
    }
  }

  /** Written whole or not at all (temporary file, then rename), so a reader never sees half of it. */
  private write(directory: string, id: string, credits: number): void {
    const temporary = path.join(directory, `${id}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      fs.mkdirSync(directory, { recursive: true });
      fs.writeFileSync(temporary, JSON.stringify({ credits, expiresAt: this.now() + this.ttlMs }));
      fs.renameSync(temporary, this.fileOf(directory, id));
      this.writeProblem = false;
    } catch (error) {
      removeIfOlder(temporary, Number.POSITIVE_INFINITY);
      if (!this.writeProblem) {
        this.log(
          'warn',
          `A budget reservation could not be written to ${directory} (${String(error)}): this window still counts its runs, but other windows do not see them until they are on record.`,
        );
      }
      this.writeProblem = true;
    }
  }

  /** Credits of every live reservation file another window wrote; expired ones are tidied away. */
  private readOthers(): number[] {
    const directory = this.directory;
    if (directory === undefined) return [];
    let names: string[];
    try {
      names = fs.readdirSync(directory);
    } catch {
      return [];
    }
    const now = this.now();
    const credits: number[] = [];
    for (const name of names) {
      const file = path.join(directory, name);
      const id = NAME.exec(name)?.[1];
      if (id === undefined) {
        // A temporary file a crash left between writing and renaming (its age by the file system's clock).
        if (name.endsWith('.tmp')) removeIfOlder(file, Date.now() - this.ttlMs);
        continue;
      }
      if (this.held.has(id)) continue;
      const read = readRegularFileSync(file, MAX_FILE_BYTES);
      if (read.kind !== 'text') continue;
      const parsed = reservationFile.safeParse(parseJson(read.text));
      if (!parsed.success) continue;
      const { expiresAt } = parsed.data;
      if (expiresAt <= now) {
        // Its holder stopped renewing it (closed, crashed, or stalled for three renewals, in which case its
        // next renewal writes it again): nobody else will remove it.
        removeIfOlder(file, Number.POSITIVE_INFINITY);
        continue;
      }
      // Longer than any holder asks for: not written by a window of this clock.
      if (expiresAt > now + this.ttlMs) continue;
      credits.push(parsed.data.credits);
    }
    return credits;
  }

  private fileOf(directory: string, id: string): string {
    return path.join(directory, `${id}.json`);
  }
}

/** Tidying is best effort: another window may have removed the file first, or renewed it just now. */
function removeIfOlder(file: string, modifiedBefore: number): void {
  try {
    if (fs.lstatSync(file).mtimeMs < modifiedBefore) fs.rmSync(file, { force: true });
  } catch {
    // Gone already, or not ours to remove.
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
