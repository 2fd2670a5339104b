// A lease on a file, so that of several VS Code windows exactly one polls FLORA for the shared runs. The
// holder renews it; when the holder goes away (closed, crashed) the lease expires and another takes it.
//
// Why a chain of generations rather than one file rewritten in place: no filesystem call compares and
// swaps a file's content, so "read, see it free or expired, write" lets two windows both believe they
// took it. What the filesystem does offer atomically is creating a name that does not exist yet
// (link(2) fails with EEXIST). So every change of the lease — taking it, renewing it, giving it up — is
// the creation of the next generation file, `<n+1>`, in `<file>.d/`, and the lease is whatever the
// highest generation says. Of several windows that saw generation n, exactly one creates n+1; the others
// get EEXIST and know they lost. Nothing is ever removed to make room, so there is no "remove the stale
// lease, then create mine" race, and a crashed holder needs no cleaning up: its last generation expires.
//
// Old generations are deleted (all but the last two) so the folder stays small. A window that slept
// through many changes may then create a generation number that is reused; it checks, after creating
// it, that no higher generation exists (the highest one is never deleted), and if one does it has lost.
//
// Other programs (or a damaged disk, or a window whose clock was wrong) can leave anything in the folder;
// none of it may leave the lease without a holder for good, nor give it to two windows. So a generation
// that is not a small regular file holding a lease (a directory, a named pipe, a link, junk) is free; a
// lease that expires later than any holder could have claimed is stale; a name that is not a number this
// code counts to is ignored and tidied away; and the last number of the range, which has no successor, is
// removed rather than left to end the chain.
//
// `file` itself still gets a copy of the current holder, which the lease never reads: the benchmark's
// waitForPollingLease (test/bench/editor.ts) reads it to wait until a closed window's lease is free.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readRegularFileSync } from './regularFile';

interface LeaseContent {
  owner: string;
  /** By the lease's clock; 0 when the holder gave it up. */
  expiresAt: number;
}

interface Generation {
  number: bigint;
  /** Undefined when the file holds no lease (damaged, or not a small regular file): treated as free. */
  content: LeaseContent | undefined;
}

export interface LeaseOptions {
  /**
   * How long a lease lasts without renewal. Every window sharing the lease must use the same one: a lease
   * that expires later than now plus this is taken for stale.
   */
  ttlMs?: number;
  /** The clock expiry is measured by; every window sharing the lease must use the same one. */
  now?: () => number;
}

/** Decimal, without leading zeros, so each number has one name. Compared as bigint: no digit is lost. */
const GENERATION_NAME = /^[1-9]\d*$/;
/**
 * No chain counts this far (10^30 changes), so a longer name was left by something else: it is ignored
 * and tidied away. A cap, rather than none, because file names have one anyway (255 bytes): where the
 * range ends must be known, so that junk at its very end (30 nines) can be removed.
 */
const MAX_GENERATION_DIGITS = 30;
/** A generation is a few dozen bytes; a bigger file is not one, and is not read. */
const MAX_GENERATION_BYTES = 4_096;
/** A temporary file left by a window that crashed while writing it is removed after this long. */
const ABANDONED_TEMPORARY_MS = 60_000;

export class FileLease {
  readonly owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Where the generations live. */
  private readonly chain: string;
  private held = false;

  constructor(
    readonly file: string,
    options: LeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.chain = `${file}.d`;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Takes the lease when it is free, expired or given up, renews it when it is ours. Returns whether we
   * hold it: until the clock, as read at the start of this call, passes that reading plus the ttl.
   */
  acquireOrRenew(): boolean {
    // Read once, first: the expiry we claim is never later than what the others measure us by.
    const now = this.now();
    const latest = this.latest();
    if (latest === 'busy') return (this.held = false);
    const content = latest.content;
    const ours = content?.owner === this.owner;
    if (content && !ours && content.expiresAt > now && !this.claimsTooMuch(content)) return (this.held = false);
    this.held = this.append(latest.number + 1n, { owner: this.owner, expiresAt: now + this.ttlMs });
    return this.held;
  }

  /** Gives the lease up at once, so another window need not wait for it to expire. */
  release(): void {
    this.held = false;
    try {
      // Only a lease still ours is given up; one another window took meanwhile is theirs.
      const latest = this.latest();
      if (latest !== 'busy' && latest.content?.owner === this.owner && latest.content.expiresAt > 0) {
        this.append(latest.number + 1n, { owner: this.owner, expiresAt: 0 });
      }
    } catch {
      // Expiry frees it anyway.
    }
  }

  /**
   * Whether a lease claims more time than its holder could have: it read its clock before writing the
   * generation, which was before we read it, so an honest claim ends by our clock, read now, plus the ttl.
   * A later one is a ghost (or a holder whose clock was far ahead, then crashed): held to it, the lease
   * would have no holder until then.
   */
  private claimsTooMuch(content: LeaseContent): boolean {
    return content.expiresAt > this.now() + this.ttlMs;
  }

  /** The highest generation, or 'busy' when the chain kept changing under us (someone else is active). */
  private latest(): Generation | 'busy' {
    for (let attempt = 0; attempt < 3; attempt++) {
      const number = this.highest().highest;
      if (number === 0n) return { number, content: undefined };
      if (String(number + 1n).length > MAX_GENERATION_DIGITS) {
        // The end of the range, which no window reaches: junk, and it would end the chain. Look again.
        remove(this.generationFile(number));
        continue;
      }
      // Not readFileSync: a named pipe would block this thread (the extension host's) until a writer came.
      const read = readRegularFileSync(this.generationFile(number), MAX_GENERATION_BYTES);
      // Deleted between listing and reading: two newer generations exist now; look again.
      if (read.kind === 'missing') continue;
      // Whatever is not a small regular file (a directory, a pipe, a link) holds no lease: it is free.
      return { number, content: read.kind === 'text' ? parse(read.text) : undefined };
    }
    return 'busy';
  }

  /** The highest generation number in the chain (0 when there is none), and every name in its folder. */
  private highest(): { highest: bigint; names: string[] } {
    let names: string[];
    try {
      names = fs.readdirSync(this.chain);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { highest: 0n, names: [] };
      if (code !== 'ENOTDIR') throw error;
      // A file where the chain's folder goes is junk (this code only makes the folder): removed, never
      // recursively, so that a folder another window made meanwhile stays. When the lease's own folder is
      // not one, the next mkdir says so.
      try {
        fs.rmSync(this.chain, { force: true });
      } catch {
        // A folder now, or not ours to remove: the next step finds out.
      }
      return { highest: 0n, names: [] };
    }
    let highest = 0n;
    for (const name of names) {
      const number = generationOf(name);
      if (number !== undefined && number > highest) highest = number;
    }
    return { highest, names };
  }

  /**
   * Creates generation `number` with `content`, complete from its first moment (written to a temporary
   * file, then hard-linked into place, which fails if the name exists). Returns whether it is now the
   * lease: false when another window created that generation first, or a higher one exists.
   */
  private append(number: bigint, content: LeaseContent): boolean {
    fs.mkdirSync(this.chain, { recursive: true });
    const temporary = path.join(this.chain, `${this.owner}.${randomBytes(4).toString('hex')}.tmp`);
    fs.writeFileSync(temporary, JSON.stringify(content));
    try {
      fs.linkSync(temporary, this.generationFile(number));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
    const { highest, names } = this.highest();
    if (highest !== number) return false;
    this.tidy(number, names);
    this.describe(content);
    return true;
  }

  /**
   * Deletes generations older than the one before `number`, names this code never writes (junk, numbers
   * past the range) and temporary files abandoned by crashes.
   */
  private tidy(number: bigint, names: readonly string[]): void {
    for (const name of names) {
      const generation = generationOf(name);
      const file = path.join(this.chain, name);
      try {
        if (generation !== undefined) {
          if (generation < number - 1n) remove(file);
        } else if (!name.endsWith('.tmp') || Date.now() - fs.lstatSync(file).mtimeMs > ABANDONED_TEMPORARY_MS) {
          remove(file);
        }
      } catch {
        // Another window tidied it first.
      }
    }
  }

  /**
   * Copies the current holder to `file`; best effort, never read back. Kept for test/bench/editor.ts
   * (waitForPollingLease), which reads it to tell when the lease of a window it closed is free.
   */
  private describe(content: LeaseContent): void {
    try {
      const temporary = `${this.file}.${this.owner}.tmp`;
      fs.writeFileSync(temporary, JSON.stringify(content));
      fs.renameSync(temporary, this.file);
    } catch {
      // Only informative.
    }
  }

  private generationFile(number: bigint): string {
    return path.join(this.chain, String(number));
  }
}

function generationOf(name: string): bigint | undefined {
  return name.length <= MAX_GENERATION_DIGITS && GENERATION_NAME.test(name) ? BigInt(name) : undefined;
}

/** Removes whatever is at `file` (junk may be a folder); a link is removed, not what it points to. */
function remove(file: string): void {
  try {
    fs.rmSync(file, { recursive: true, force: true });
  } catch {
    // Another window removed it first, or it cannot be: what is left is ignored or free anyway.
  }
}

function parse(text: string): LeaseContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LeaseContent>;
    return typeof value.owner === 'string' && typeof value.expiresAt === 'number'
      ? { owner: value.owner, expiresAt: value.expiresAt }
      : undefined;
  } catch {
    return undefined;
  }
}
