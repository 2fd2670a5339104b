// A lease on a file, so that of several VS Code windows exactly one polls FLORA for the shared runs. The
// holder renews it; when the holder goes away (closed, crashed) the lease expires and another takes it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

interface LeaseContent {
  owner: string;
  expiresAt: number;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal. */
  ttlMs?: number;
  now?: () => number;
}

export class FileLease {
  readonly owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private held = false;

  constructor(
    readonly file: string,
    options: LeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Takes the lease when it is free or expired, renews it when already ours. Returns whether we hold it.
   * Two windows racing for a free lease both write; both read back, and the last writer wins for both.
   */
  acquireOrRenew(): boolean {
    const current = this.read();
    if (current && current.owner !== this.owner && current.expiresAt > this.now()) {
      this.held = false;
      return false;
    }
    this.write({ owner: this.owner, expiresAt: this.now() + this.ttlMs });
    this.held = this.read()?.owner === this.owner;
    return this.held;
  }

  /** Gives the lease up at once, so another window need not wait for it to expire. */
  release(): void {
    if (this.read()?.owner === this.owner) {
      try {
        fs.rmSync(this.file, { force: true });
      } catch {
        // Expiry frees it anyway.
      }
    }
    this.held = false;
  }

  private read(): LeaseContent | undefined {
    try {
      const value = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<LeaseContent>;
      return typeof value.owner === 'string' && typeof value.expiresAt === 'number'
        ? { owner: value.owner, expiresAt: value.expiresAt }
        : undefined;
    } catch {
      return undefined;
    }
  }

  private write(content: LeaseContent): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${this.owner}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(content));
    fs.renameSync(temporary, this.file);
  }
}
