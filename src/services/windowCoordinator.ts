// Which window polls FLORA for the runs of every window. The windows of a profile share the run journal;
// the one holding a file lease in global storage polls, the others follow the journal, and when the holder
// goes (closed, crashed) another takes the lease over. Each window also keeps a heartbeat beside the lease,
// so the polling window can tell whether a run's own window is still open to tell the user it finished.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Disposable, toDisposable } from '../common/lifecycle';
import type { FileLease } from '../core/lease';
import type { Log } from './log';

export interface WindowCoordinatorOptions {
  /** Shared by the windows of a profile: its holder is the one window that polls FLORA. */
  lease: FileLease;
  /** How often the lease is renewed or, by the other windows, checked; default 3 s. */
  checkMs?: number;
  /** Names this window, stable across its reloads; default the lease's owner id. */
  windowKey?: string;
  log: Log;
  /** With no live run there is nothing to coordinate: no lease, no heartbeat, nothing written. */
  hasLiveRuns(): boolean;
  /** This window now polls: follow every live run. */
  onStartPolling(): void;
  /** Another window polls now: stop following runs here. */
  onStopPolling(): void;
}

export class WindowCoordinator extends Disposable {
  private pollingHere = false;

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
    } catch (error) {
      // Global storage unwritable: poll here rather than not at all.
      this.options.log.warn(`The polling lease is unavailable (${String(error)}); this window polls its runs itself.`);
      held = true;
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
    if (!windowId) return false;
    try {
      const { expiresAt } = JSON.parse(fs.readFileSync(this.heartbeatFile(windowId), 'utf8')) as { expiresAt?: unknown };
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
