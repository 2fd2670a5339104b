// Which window polls FLORA for the runs of every window. The windows of a profile share the run journal;
// the one holding a file lease in global storage polls, the others follow the journal, and when the holder
// goes (closed, crashed) another takes the lease over. Each window also keeps a heartbeat beside the lease,
// so the polling window can tell whether a run's own window is still open to tell the user it finished.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { FileLease } from '../core/lease';
import { readRegularFileSync } from '../core/regularFile';
import type { Log } from './log';

export interface WindowCoordinatorOptions {
  /** Shared by the windows of a profile: its holder is the one window that polls FLORA. */
  lease: Pick<FileLease, 'owner' | 'file' | 'acquireOrRenew' | 'release'>;
  /** How often the lease is renewed or, by the other windows, checked; default 3 s. */
  checkMs?: number;
  /** Names this window, stable across its reloads; default the lease's owner id. */
  windowKey?: string;
  log: Pick<Log, 'info' | 'warn'>;
  /** With no live run there is nothing to coordinate: no lease, no heartbeat, nothing written. */
  hasLiveRuns(): boolean;
  /** This window now polls: follow every live run. */
  onStartPolling(): void;
  /** Another window polls now: stop following runs here. */
  onStopPolling(): void;
}

/** What window ids look like (a UUID, or a lease owner `<pid>-<hex>`). */
const WINDOW_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** A heartbeat is a few dozen bytes. */
const MAX_HEARTBEAT_BYTES = 1_024;

export class WindowCoordinator extends Disposable {
  private pollingHere = false;
  /** The lease's last error, so that one that lasts is logged once, not on every tick. */
  private leaseProblem: string | undefined;

  constructor(private readonly options: WindowCoordinatorOptions) {
    super();
    this.register(toDisposable(() => options.lease.release()));
    this.register(toDisposable(() => fs.rmSync(this.heartbeatFile(this.windowId), { force: true })));
  }

  get windowId(): string {
    return this.options.windowKey ?? this.options.lease.owner;
  }

  /** Whether this window is the one polling FLORA for every window's runs. */
  get isPolling(): boolean {
    return this.pollingHere;
  }

  /** Checks now, then on every tick: take the lease when it is free, renew it while held, notice a holder. */
  start(): void {
    this.check();
    const timer = setInterval(() => this.check(), this.checkMs);
    this.register(toDisposable(() => clearInterval(timer)));
  }

  check(): void {
    if (this.isDisposed) return;
    if (!this.options.hasLiveRuns()) {
      if (this.pollingHere) {
        this.options.lease.release();
        this.pollingHere = false;
      }
      return;
    }
    this.beat();
    let held: boolean;
    try {
      held = this.options.lease.acquireOrRenew();
      if (this.leaseProblem !== undefined) this.options.log.info('The polling lease works again.');
      this.leaseProblem = undefined;
    } catch (error) {
      // Not held. A window that cannot tell whether another holds the lease must not poll: the windows share
      // global storage, so the error is usually the same in all of them, and polling on it would make every
      // window poll and re-send every unfinished create at once. Nothing is lost by waiting: the runs stay in
      // the journal, a window whose lease works polls them, and once this one's works again it can take over.
      held = false;
      const problem = String(error);
      if (problem !== this.leaseProblem)
        this.options.log.warn(`The polling lease is unavailable (${problem}); this window does not poll FLORA until it works again.`);
      this.leaseProblem = problem;
    }
    if (held && !this.pollingHere) {
      this.pollingHere = true;
      this.options.log.info('This window now polls FLORA for the runs of every window.');
      this.options.onStartPolling();
    } else if (!held && this.pollingHere) {
      this.pollingHere = false;
      this.options.log.info('Another window polls FLORA now; this one follows the shared run journal.');
      this.options.onStopPolling();
    }
  }

  /** Whether that window has beaten its heartbeat lately (so it is open and tells its own user). */
  isWindowAlive(windowId: string | undefined): boolean {
    // The id comes from a run record in the journal: only a plain name, never a path out of the folder.
    if (!windowId || !WINDOW_ID.test(windowId)) return false;
    // Not readFileSync: a named pipe in the folder would block the extension host until a writer came.
    const read = readRegularFileSync(this.heartbeatFile(windowId), MAX_HEARTBEAT_BYTES);
    if (read.kind !== 'text') return false;
    try {
      const { expiresAt } = JSON.parse(read.text) as { expiresAt?: unknown };
      return typeof expiresAt === 'number' && expiresAt > Date.now();
    } catch {
      return false;
    }
  }

  private get checkMs(): number {
    return this.options.checkMs ?? 3_000;
  }

  private heartbeatFile(windowId: string): string {
    return path.join(path.dirname(this.options.lease.file), 'windows', `${windowId}.json`);
  }

  private beat(): void {
    try {
      const file = this.heartbeatFile(this.windowId);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ expiresAt: Date.now() + 3 * this.checkMs }));
    } catch {
      // Without a heartbeat the polling window also notifies; nothing is lost.
    }
  }
}
