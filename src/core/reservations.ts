// Credits held for runs that the daily budget admitted and the journal does not show yet, shared by every
// window. A run is on record only once its files are uploaded, which can take minutes; until then it
// counted only in the window that admitted it, so two windows (two agents in a loop, each uploading) could
// each pass the limit by the other's cost. Each held reservation is a small file in global storage, named
// by the run's local id, and every window's budget counts the others' files.
//
// Why hold first, then count: no filesystem call checks the others and reserves in one step across
// processes. A window creates its reservation (a new name, by rename) before it lists the others', so of
// two windows asking at the same time, the one that lists last sees the other's (both may see each other:
// then both ask a person, which costs a question, never credits).
//
// Why renewal touches the file rather than writing it again: a name renamed over while another window
// lists the folder can be missed by that listing (btrfs gives it a new directory index), and a rewritten
// expiry can be read as "later than any holder asks". So a reservation's content never changes; its
// holder sets its modification time (by the holder's clock) every third of its lifetime, and a reader
// judges it by that.
//
// Why a released run's file stays a while: another window learns of the record through its journal
// watcher, some milliseconds (or, on a fresh profile, seconds) later. Until it has the run, the file still
// counts there; once it has it, the file is skipped (the journal counts it). It expires a lifetime after
// release, whether or not its holder lives on: a marker beside it (`<id>.recorded`, a new name, so the
// reservation's own is never touched) says it is released.
//
// A window that crashes cannot remove its files: a reservation counts while it is renewed, or while its
// holder's process is alive (a machine that slept stops the holder's timers but not the clock), for at
// most MAX_HOLD_MS. Other programs may leave anything in the folder: a name this code does not write is
// ignored; a file that is not a small reservation counts nothing. When the folder cannot be written or
// listed, the count says it is incomplete, and the budget asks a person rather than guess.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from './model';
import { SYSTEM_TIMERS, type PollerTimers } from './poller';
import { readRegularFileSync } from './regularFile';

/** A crashed window's credits count for at most this long after its last renewal. */
const DEFAULT_TTL_MS = 60_000;
/** No upload takes longer: past this, even a live process's reservation no longer counts (a reused pid). */
const MAX_HOLD_MS = 6 * 60 * 60 * 1000;
/** A run's local id (flora-vscode-<uuid>), as a file name: nothing a path could be made of. */
const ID = /^[A-Za-z0-9-]{1,100}$/;
const NAME = /^([A-Za-z0-9-]{1,100})\.json$/;
const RELEASED_SUFFIX = '.recorded';
const MAX_FILE_BYTES = 4096;
/** More reservations than any number of windows holds: the folder is not ours alone, and the count says so. */
const MAX_ENTRIES = 1_000;
/** No run costs more than this: a larger figure is not a reservation this code wrote. */
const MAX_CREDITS = 1_000_000_000;
/** The display's count (status bar, a tool's confirmation) may be this old; a run's admission reads afresh. */
const DISPLAY_CACHE_MS = 1_000;

const reservationFile = z.object({
  credits: z.number().finite().min(0).max(MAX_CREDITS),
  pid: z.number().int().positive().optional(),
});

export interface HeldReservation {
  readonly id: string;
  readonly credits: number;
  /**
   * Stops renewing it. A run now on record leaves its file for the other windows until they have read
   * the record; a run that never got there takes it away at once. A second call does nothing.
   */
  release(recorded?: boolean): void;
}

/** What other holders reserve, and whether every reservation could be read (and this one written). */
export interface ReservationCount {
  credits: number;
  complete: boolean;
}

export interface ReservationBookOptions {
  /** Wall-clock time: every window sharing the folder must read the same clock. */
  now?: () => number;
  timers?: PollerTimers;
  ttlMs?: number;
  log?: Logger;
}

interface OtherReservation {
  id: string;
  credits: number;
}

export class ReservationBook {
  private readonly now: () => number;
  private readonly timers: PollerTimers;
  private readonly ttlMs: number;
  private readonly log: Logger;
  /** This window's reservations, counted from memory whether or not their files could be written. */
  private readonly held = new Map<string, { credits: number; timer: unknown }>();
  /** Released runs now on record, whose files stay for the other windows: not counted here. */
  /** With when they were released: after a lifetime their files count nowhere, and the id is let go. */
  private readonly recorded = new Map<string, number>();
  /** This window's holds whose files could not be written: invisible elsewhere until a renewal writes them. */
  private readonly unwritten = new Set<string>();
  private cached: { at: number; others: OtherReservation[]; complete: boolean } | undefined;
  private disposed = false;

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
   * Holds `credits` for the run `id` (created before anything is read), then counts every other
   * reservation: what this window holds besides and what other windows hold, but for runs `known` to the
   * journal here. The caller judges the budget by that plus the run's own cost, and releases it.
   */
  holdThenCount(id: string, credits: number, known: ReadonlySet<string>): { reservation: HeldReservation } & ReservationCount {
    const reservation = this.hold(id, credits);
    return { reservation, ...this.count(known, { except: id, fresh: true }) };
  }

  /** Credits held now by this window and every other, but for runs `known` to the journal (a second old, unless `fresh`). */
  total(known: ReadonlySet<string>, options: { fresh?: boolean } = {}): ReservationCount {
    return this.count(known, { fresh: options.fresh === true });
  }

  /** Releases everything this window holds (the window is closing); nothing is held after it. */
  dispose(): void {
    this.disposed = true;
    for (const id of [...this.held.keys()]) this.release(id, false);
  }

  private count(known: ReadonlySet<string>, options: { except?: string; fresh: boolean }): ReservationCount {
    const now = this.now();
    for (const [id, releasedAt] of this.recorded) if (now - releasedAt > 2 * this.ttlMs) this.recorded.delete(id);
    let credits = 0;
    for (const [id, entry] of this.held) if (id !== options.except && !known.has(id)) credits += entry.credits;
    if (options.fresh || !this.cached || now - this.cached.at > DISPLAY_CACHE_MS || now < this.cached.at) {
      this.cached = { at: now, ...this.readOthers() };
    }
    for (const other of this.cached.others) {
      if (other.id !== options.except && !known.has(other.id) && !this.held.has(other.id) && !this.recorded.has(other.id))
        credits += other.credits;
    }
    return { credits, complete: this.cached.complete && this.unwritten.size === 0 };
  }

  private hold(id: string, credits: number): HeldReservation {
    if (!ID.test(id)) throw new Error(`A reservation's id must be letters, digits and hyphens: ${JSON.stringify(id)}`);
    const entry = { credits, timer: undefined as unknown };
    this.held.set(id, entry);
    const directory = this.directory;
    if (directory !== undefined && !this.disposed) {
      this.create(directory, id, credits);
      const renew = (): void => {
        if (!this.held.has(id)) return;
        this.touch(directory, id, credits);
        entry.timer = this.timers.setTimeout(renew, this.renewEveryMs());
      };
      entry.timer = this.timers.setTimeout(renew, this.renewEveryMs());
    }
    return { id, credits, release: (recorded) => this.release(id, recorded === true) };
  }

  private renewEveryMs(): number {
    return Math.max(1_000, Math.floor(this.ttlMs / 3));
  }

  private release(id: string, recorded: boolean): void {
    const entry = this.held.get(id);
    if (!entry) return;
    this.held.delete(id);
    this.unwritten.delete(id);
    this.timers.clearTimeout(entry.timer);
    const directory = this.directory;
    if (directory === undefined) return;
    if (recorded) {
      // Left for the windows that have not read the record yet, a whole lifetime from now.
      this.recorded.set(id, this.now());
      this.touch(directory, id, entry.credits);
      try {
        fs.writeFileSync(path.join(directory, `${id}${RELEASED_SUFFIX}`), '', { flag: 'wx' });
      } catch {
        // Without the marker it counts while this window lives, until a reader has the record: more, never less.
      }
      return;
    }
    try {
      fs.rmSync(this.fileOf(directory, id), { force: true });
    } catch (error) {
      // Left behind, it expires by itself.
      this.log('warn', `A budget reservation could not be removed (${String(error)}); it expires by itself.`);
    }
  }

  /** A new name, complete from its first moment (temporary file, then rename). */
  private create(directory: string, id: string, credits: number): void {
    const temporary = path.join(directory, `${id}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      fs.mkdirSync(directory, { recursive: true });
      fs.writeFileSync(temporary, JSON.stringify({ credits, pid: process.pid }));
      const at = this.now() / 1000;
      fs.utimesSync(temporary, at, at);
      fs.renameSync(temporary, this.fileOf(directory, id));
      this.unwritten.delete(id);
    } catch (error) {
      removeIfUnchanged(temporary, undefined);
      this.noteWriteFailure(directory, id, error);
    }
  }

  /** Renewal: the modification time moves, the name and content stay (see the comment at the top). */
  private touch(directory: string, id: string, credits: number): void {
    const at = this.now() / 1000;
    try {
      fs.utimesSync(this.fileOf(directory, id), at, at);
    } catch {
      // Gone (a reader that took this window for dead, or a cleaned folder): made again.
      this.create(directory, id, credits);
    }
  }

  private noteWriteFailure(directory: string, id: string, error: unknown): void {
    if (this.unwritten.size === 0) {
      this.log(
        'warn',
        `A budget reservation could not be written to ${directory} (${String(error)}): other windows cannot see this window's runs being prepared, so runs ask before they are sent while a daily budget is set.`,
      );
    }
    if (this.held.has(id)) this.unwritten.add(id);
  }

  /** Every live reservation file in the folder; expired ones and stale junk are tidied away. */
  private readOthers(): { others: OtherReservation[]; complete: boolean } {
    const directory = this.directory;
    if (directory === undefined) return { others: [], complete: true };
    let names: string[];
    try {
      names = fs.readdirSync(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { others: [], complete: true };
      this.log('warn', `The budget reservations in ${directory} cannot be listed (${String(error)}).`);
      return { others: [], complete: false };
    }
    const others: OtherReservation[] = [];
    const listed = new Set(names);
    let complete = true;
    let entries = 0;
    for (const name of names) {
      const file = path.join(directory, name);
      const id = NAME.exec(name)?.[1];
      if (id === undefined) {
        // A temporary file a crash left between writing and renaming, or the marker of a reservation gone
        // (their age by the file system's clock).
        const orphanMarker = name.endsWith(RELEASED_SUFFIX) && !listed.has(`${name.slice(0, -RELEASED_SUFFIX.length)}.json`);
        if (name.endsWith('.tmp') || orphanMarker) removeIfOlder(file, Date.now() - this.ttlMs);
        continue;
      }
      if (++entries > MAX_ENTRIES) {
        complete = false;
        break;
      }
      const read = readRegularFileSync(file, MAX_FILE_BYTES);
      if (read.kind === 'missing') continue;
      if (read.kind !== 'text' || read.modifiedMs === undefined) {
        // A link, a folder, a pipe or a big file is not ours; a small regular file that could not be read
        // (too many open files, no permission) may be a window's hold: the count is not whole.
        if (isSmallRegularFile(file)) complete = false;
        continue;
      }
      const modifiedMs = read.modifiedMs;
      // The clock read after the file: a renewal between listing and reading is never taken for the future.
      const age = this.now() - modifiedMs;
      const parsed = reservationFile.safeParse(parseJson(read.text));
      if (!parsed.success) {
        if (age > this.ttlMs) removeIfUnchanged(file, modifiedMs);
        continue;
      }
      // Renewed "in the future" by more than a lifetime: a clock stepped back, or not a holder's doing.
      const plausible = age >= -this.ttlMs;
      const renewed = plausible && age <= this.ttlMs;
      const released = listed.has(`${id}${RELEASED_SUFFIX}`);
      const holderAlive = plausible && !released && parsed.data.pid !== undefined && processAlive(parsed.data.pid) && age <= MAX_HOLD_MS;
      if (renewed || holderAlive) {
        others.push({ id, credits: parsed.data.credits });
      } else {
        // Its holder is gone (or released it) and stopped renewing it a lifetime ago: nobody else will
        // remove it. Not if it was renewed since it was read (the holder's clock was behind).
        removeIfUnchanged(file, modifiedMs);
        if (released) removeIfOlder(path.join(directory, `${id}${RELEASED_SUFFIX}`), Number.POSITIVE_INFINITY);
      }
    }
    return { others, complete };
  }

  private fileOf(directory: string, id: string): string {
    return path.join(directory, `${id}.json`);
  }
}

/** Whether a process with this id exists (one of another user's says EPERM: it exists). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isSmallRegularFile(file: string): boolean {
  try {
    const stats = fs.lstatSync(file);
    return stats.isFile() && stats.size <= MAX_FILE_BYTES;
  } catch {
    return false;
  }
}

/** Tidying is best effort: another window may have removed the file first. */
function removeIfOlder(file: string, modifiedBefore: number): void {
  try {
    if (fs.lstatSync(file).mtimeMs < modifiedBefore) fs.rmSync(file, { force: true });
  } catch {
    // Gone already, or not ours to remove.
  }
}

/** Removes `file` unless it was modified since `modifiedMs` was read (undefined: whatever its time). */
export function removeIfUnchanged(file: string, modifiedMs: number | undefined): void {
  try {
    if (modifiedMs === undefined || fs.lstatSync(file).mtimeMs === modifiedMs) fs.rmSync(file, { force: true });
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
