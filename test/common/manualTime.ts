// A clock and timers a test moves by hand, for both tiers (free of vscode): whatever takes PollerTimers and
// a `now` (the Poller, the services that drive it) runs hours of its schedule in milliseconds, and no test
// sleeps on the extension's own timers.
import type { PollerTimers, RunFetcher } from '../../src/core/poller';

export class ManualTime {
  private nextId = 1;
  private readonly due = new Map<number, { at: number; callback: () => void }>();
  /** Promises started by timer callbacks (requests in flight, see track); advancing waits for them. */
  readonly pending = new Set<Promise<unknown>>();

  /** @param now where the clock starts, ms since the epoch. */
  constructor(public now = 1_700_000_000_000) {}

  /** The clock, for a `now` option. */
  readonly clock = (): number => this.now;

  readonly timers: PollerTimers = {
    setTimeout: (callback, milliseconds) => {
      const id = this.nextId++;
      this.due.set(id, { at: this.now + Math.max(0, milliseconds), callback });
      return id;
    },
    clearTimeout: (handle) => {
      this.due.delete(handle as number);
    },
  };

  /** How many timers are set. */
  get scheduled(): number {
    return this.due.size;
  }

  /** Wraps a fetcher so advancing waits for its requests in flight. */
  track(fetch: RunFetcher): RunFetcher {
    return (target, signal) => {
      const request = fetch(target, signal);
      const settled = request.then(
        () => undefined,
        () => undefined,
      );
      this.pending.add(settled);
      void settled.then(() => this.pending.delete(settled));
      return request;
    };
  }

  /** Runs timers in order until `milliseconds` have passed or nothing is scheduled. */
  async advance(milliseconds: number): Promise<void> {
    const until = this.now + milliseconds;
    for (;;) {
      await this.settle();
      const next = this.earliest();
      if (!next || next[1].at > until) break;
      this.fire(next);
    }
    this.now = Math.max(this.now, until);
    await this.settle();
  }

  /**
   * Moves the clock to the earliest timer and runs it; false when none is set. For work the test cannot
   * track (requests a service sends): the clock moves only when the code under test waits on it.
   */
  async runNext(): Promise<boolean> {
    const next = this.earliest();
    if (!next) return false;
    this.fire(next);
    await this.settle();
    return true;
  }

  private earliest(): [number, { at: number; callback: () => void }] | undefined {
    return [...this.due.entries()].sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
  }

  private fire([id, timer]: [number, { at: number; callback: () => void }]): void {
    this.due.delete(id);
    this.now = Math.max(this.now, timer.at);
    timer.callback();
  }

  private async settle(): Promise<void> {
    for (let round = 0; round < 5 || this.pending.size > 0; round++) {
      if (this.pending.size > 0) await Promise.all([...this.pending]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
