// The one store of runs. Views (Runs tree, status bar, preview) only display what it holds and listen to
// its change events. It is backed by the run journal in global storage, shared by every window: what
// another window writes arrives through the journal's watcher. Records are what is stored; how this
// window's connection to FLORA is doing for a live run is kept beside them, never written. One piece although
// over 350 lines: reads, writes, deletes, clears and trims of one run all decide together which copy of it
// stands (the deleted map, the cleared state, the journal turns), and split apart they would disagree.
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import type { RunJournal } from '../core/journal';
import {
  clearedRecord,
  countsTowardsBudget,
  isFinished,
  isLive,
  pruneHistory,
  toPublicRecord,
  type PublicRunRecord,
  type RunConnection,
  type RunRecord,
} from '../core/runs';

/** Progress updates are written at most this often per run; status changes are written at once. */
const PERSIST_DELAY_MS = 1_000;

/** How this window's requests about a live run are doing, and why when they have trouble (in the user's language). */
export interface ConnectionState {
  state: RunConnection;
  message?: string;
}

export class RunsStore extends Disposable {
  private readonly records = new Map<string, RunRecord>();
  private readonly connections = new Map<string, ConnectionState>();
  private readonly changed = this.register(new vscode.EventEmitter<RunRecord | undefined>());
  /** Fires with the record that changed (or whose connection did), or undefined when many changed. */
  readonly onDidChange = this.changed.event;
  private readonly settled = this.register(new vscode.EventEmitter<RunRecord>());
  /**
   * A run stopped being live, in this window or another: it completed or failed, or the extension stopped
   * following it (`stopped` is set then).
   */
  readonly onDidSettle = this.settled.event;
  private readonly pendingWrites = new Map<string, NodeJS.Timeout>();
  /**
   * Runs this window deleted from the journal, with the updatedAt they had: a watcher's read that began
   * before the delete and ends after it, or a late write of the record as it was, must not bring the run
   * back. A newer record is news only when the run is live again (another window retried a create under
   * its id); a newer finished one is a window that had not seen the delete, and its file goes again.
   */
  private readonly deleted = new Map<string, number>();
  /**
   * The deletes remembered, oldest forgotten first: a late write comes within seconds of a delete (or a
   * window's sleep later), and a window that clears thousands of runs over weeks does not keep them all.
   */
  private readonly deletesRemembered: number;
  /** Each run's journal writes and deletes, one after another: a slow write never lands after a later one. */
  private readonly journalTurns = new Map<string, Promise<void>>();
  /** Resolves once the journal has been read; activation does not wait for it. */
  readonly ready: Promise<void>;

  constructor(
    private readonly journal: RunJournal,
    private maxHistory: number,
    options: { deletesRemembered?: number } = {},
  ) {
    super();
    this.deletesRemembered = options.deletesRemembered ?? 10_000;
    this.ready = this.load();
    this.register(journal.watch((localId) => void this.reload(localId)));
    this.register({
      dispose: () => {
        for (const timer of this.pendingWrites.values()) clearTimeout(timer);
      },
    });
  }

  private async load(): Promise<void> {
    const saved = await this.journal.load();
    for (const record of saved) {
      const known = this.records.get(record.localId);
      if (!known || known.updatedAt < record.updatedAt) this.records.set(record.localId, record);
    }
    if (saved.length > 0) this.changed.fire(undefined);
    // What no longer belongs (a cleared run past its two days, runs over the limit another window left)
    // goes now rather than at this window's first change.
    await this.prune().catch(() => undefined);
  }

  /** Another window (or this one) changed a journal entry: adopt it when it is newer than ours. */
  private async reload(localId: string): Promise<void> {
    if (this.isDisposed) return;
    const stored = await this.journal.read(localId);
    const deletedAt = this.deleted.get(localId);
    if (deletedAt !== undefined) {
      if (!stored || stored.updatedAt <= deletedAt) return;
      // Written again by a window that had not seen the delete: news only when the run is live again (a
      // create retried under its id); otherwise the clear wins, and the file goes again.
      if (!isLive(stored)) {
        await this.deleteFromJournal(localId, stored.updatedAt).catch(() => undefined);
        return;
      }
      this.deleted.delete(localId);
    }
    const known = this.records.get(localId);
    if (!stored) {
      // No window deletes a live run (trims and clears keep them): gone from disk by mistake (a trim from
      // a copy read before another window retried it), it is written back, or FLORA could charge a run
      // recorded nowhere.
      if (known && isLive(known)) {
        await this.write(localId).catch(() => undefined);
        return;
      }
      // Read as missing while a write of this window was on its way (a delete's event, then a put): once
      // this window's journal turn for the run is over, the file says what stands.
      if (known && !this.pendingWrites.has(localId) && !(await this.onDiskAfterTurn(localId))) {
        if (this.records.get(localId) !== known) return;
        this.records.delete(localId);
        this.connections.delete(localId);
        this.changed.fire(undefined);
      }
      return;
    }
    if (known && known.updatedAt >= stored.updatedAt) return;
    if (known?.cleared && !stored.cleared) {
      // Another window wrote the run before it saw the clear (an acknowledgement, a save): the clear wins,
      // and what it removed is taken off the disk again.
      this.records.set(localId, { ...known, updatedAt: Math.max(Date.now(), stored.updatedAt + 1) });
      // A failed write leaves the cleared record in memory; the watcher or the next clear writes it again.
      await this.write(localId).catch(() => undefined);
      return;
    }
    this.records.set(localId, stored);
    // Another window wrote it last: what this window knew of its connection is no longer news.
    this.connections.delete(localId);
    // A run another window cleared leaves the views (they refresh whole, as for this window's clear), and
    // says nothing of how it ended: it was seen, and cleared.
    this.changed.fire(stored.cleared ? undefined : stored);
    if (known && isLive(known) && !isLive(stored) && !stored.cleared) this.settled.fire(stored);
  }

  /** Newest first; what the views, scripts and agents see (not the runs Clear Finished Runs took away). */
  all(): RunRecord[] {
    return this.spending().filter((record) => !record.cleared);
  }

  /**
   * Every record, newest first, cleared ones included: what the daily budget and today's credits count, so
   * that clearing the history never forgets what today's runs cost.
   */
  spending(): RunRecord[] {
    return [...this.records.values()].sort((a, b) => b.startedLocallyAt - a.startedLocallyAt);
  }

  live(): RunRecord[] {
    return [...this.records.values()].filter(isLive).sort((a, b) => b.startedLocallyAt - a.startedLocallyAt);
  }

  /** Whether any run is live, without sorting the history (checked on every lease tick). */
  hasLive(): boolean {
    for (const record of this.records.values()) if (isLive(record)) return true;
    return false;
  }

  get(localId: string): RunRecord | undefined {
    const record = this.records.get(localId);
    return record?.cleared ? undefined : record;
  }

  /** How this window's requests about a live run are doing; undefined when nothing is known or it is not live. */
  connectionOf(localId: string): ConnectionState | undefined {
    return this.connections.get(localId);
  }

  /** The record scripts and other extensions receive, with the connection state this window knows. */
  publicRecord(record: RunRecord): PublicRunRecord {
    return toPublicRecord(record, this.connections.get(record.localId)?.state);
  }

  /** Records how requests about a run are doing (never written to the journal); undefined clears it. */
  setConnection(localId: string, connection: ConnectionState | undefined): void {
    const record = this.records.get(localId);
    const previous = this.connections.get(localId);
    if (!record || (previous?.state === connection?.state && previous?.message === connection?.message)) return;
    if (connection && isLive(record)) this.connections.set(localId, connection);
    else this.connections.delete(localId);
    this.changed.fire(record);
  }

  findByRunId(runId: string): RunRecord | undefined {
    for (const record of this.records.values()) if (record.runId === runId && !record.cleared) return record;
    return undefined;
  }

  /** Adds or replaces a record. `durable` writes it to the journal before resolving. */
  async put(given: RunRecord, options: { durable?: boolean; persist?: boolean } = {}): Promise<void> {
    const previous = this.records.get(given.localId);
    // A cleared or deleted run stays so: a late write from work begun before the clear (a save) brings
    // nothing back.
    const deletedAt = this.deleted.get(given.localId);
    if ((deletedAt !== undefined && given.updatedAt <= deletedAt) || (previous?.cleared && !given.cleared)) return;
    this.deleted.delete(given.localId);
    // The moment the run finished, on this machine's clock, seen here: what the daily budget dates its charge
    // by (whatever an earlier finish left in the record: a create refused, then retried).
    const justFinished = previous !== undefined && !isFinished(previous) && isFinished(given);
    const record = justFinished ? { ...given, finishedLocallyAt: Date.now() } : given;
    this.records.set(record.localId, record);
    if (!isLive(record)) this.connections.delete(record.localId);
    this.changed.fire(record);
    if (previous && isLive(previous) && !isLive(record)) this.settled.fire(record);
    if (options.durable) await this.write(record.localId);
    else if (options.persist !== false) this.scheduleWrite(record.localId);
    if (!isLive(record)) await this.prune();
  }

  /**
   * Applies a change to a record; returns the new record, or undefined when it is gone. `connection`, when
   * given (undefined included), replaces the run's connection state in the same change event.
   */
  async update(
    localId: string,
    change: Partial<RunRecord>,
    options: { durable?: boolean; connection?: ConnectionState } = {},
  ): Promise<RunRecord | undefined> {
    const current = this.get(localId);
    if (!current) return undefined;
    const next: RunRecord = { ...current, ...change, updatedAt: Math.max(Date.now(), current.updatedAt + 1) };
    if ('connection' in options) {
      if (options.connection) this.connections.set(localId, options.connection);
      else this.connections.delete(localId);
    }
    await this.put(next, { durable: options.durable });
    // As put stored it (with the moment it finished, when this change finished it).
    return this.get(localId);
  }

  /**
   * Clear Finished Runs: every finished run leaves the views. One that still counts towards today's budget
   * stays in the journal, emptied (clearedRecord), until it no longer counts; the rest are deleted.
   */
  async removeFinished(now = Date.now()): Promise<number> {
    let removed = 0;
    const writes: Promise<void>[] = [];
    for (const record of this.spending().filter(isFinished)) {
      this.connections.delete(record.localId);
      const counts = countsTowardsBudget(record, now);
      // One cleared before and still counting stays as it is.
      if (record.cleared && counts) continue;
      if (!record.cleared) removed++;
      if (counts) {
        this.records.set(record.localId, clearedRecord(record, now));
        writes.push(this.write(record.localId));
      } else {
        this.forget(record.localId);
        writes.push(this.deleteFromJournal(record.localId, record.updatedAt));
      }
    }
    this.changed.fire(undefined);
    await Promise.all(writes);
    return removed;
  }

  setMaxHistory(limit: number): void {
    if (limit === this.maxHistory) return;
    this.maxHistory = limit;
    void this.prune();
  }

  /** Writes every pending change now (on deactivation). */
  async flush(): Promise<void> {
    await Promise.all([...this.pendingWrites.keys()].map((localId) => this.write(localId)));
  }

  private async prune(): Promise<void> {
    const kept = new Set(pruneHistory([...this.records.values()], this.maxHistory, Date.now()).map((record) => record.localId));
    const dropped = [...this.records.keys()].filter((localId) => !kept.has(localId));
    if (dropped.length === 0) return;
    const updatedAt = new Map(dropped.map((localId) => [localId, this.records.get(localId)?.updatedAt ?? 0]));
    for (const localId of dropped) this.forget(localId);
    this.changed.fire(undefined);
    await Promise.all(dropped.map((localId) => this.deleteFromJournal(localId, updatedAt.get(localId) ?? 0)));
  }

  private forget(localId: string): void {
    const record = this.records.get(localId);
    this.records.delete(localId);
    this.connections.delete(localId);
    this.deleted.delete(localId);
    this.deleted.set(localId, record?.updatedAt ?? Number.POSITIVE_INFINITY);
    for (const oldest of this.deleted.keys()) {
      if (this.deleted.size <= this.deletesRemembered) break;
      this.deleted.delete(oldest);
    }
  }

  /** Whether the run's entry exists once this window's queued writes and deletes of it are done. */
  private async onDiskAfterTurn(localId: string): Promise<boolean> {
    await this.journalTurns.get(localId);
    return (await this.journal.read(localId)) !== undefined;
  }

  /** Runs `operation` on the run's journal entry after every earlier one has ended. */
  private inTurn(localId: string, operation: () => Promise<void>): Promise<void> {
    const turn = (this.journalTurns.get(localId) ?? Promise.resolve()).then(operation);
    const settled = turn.catch(() => undefined);
    this.journalTurns.set(localId, settled);
    void settled.then(() => {
      if (this.journalTurns.get(localId) === settled) this.journalTurns.delete(localId);
    });
    return turn;
  }

  /**
   * Deletes the run's entry as this window last knew it (`updatedAt`); one another window changed since,
   * or made live again, stays and is read again (a live one comes back into view).
   */
  private deleteFromJournal(localId: string, updatedAt: number): Promise<void> {
    return this.inTurn(localId, async () => {
      if (!(await this.journal.deleteUnlessChanged(localId, updatedAt, isLive))) void this.reload(localId);
    });
  }

  /**
   * Reads the entries this window has not heard of: the budget asks this before it admits a run, since a
   * watcher can be late (a folder made after activation is watched within 3 s) or down (no inotify watches
   * left), and a run another window recorded must count here.
   */
  async catchUp(): Promise<void> {
    const ids = await this.journal.ids().catch(() => []);
    await Promise.all(
      ids.filter((localId) => !this.records.has(localId) && !this.deleted.has(localId)).map((localId) => this.reload(localId)),
    );
  }

  private scheduleWrite(localId: string): void {
    if (this.pendingWrites.has(localId)) return;
    this.pendingWrites.set(
      localId,
      setTimeout(() => void this.write(localId), PERSIST_DELAY_MS),
    );
  }

  private async write(localId: string): Promise<void> {
    const timer = this.pendingWrites.get(localId);
    if (timer) clearTimeout(timer);
    this.pendingWrites.delete(localId);
    await this.inTurn(localId, async () => {
      // What the run is when its turn comes: a write queued behind another writes the newest state.
      const record = this.records.get(localId);
      if (record) await this.journal.save(record);
    });
  }

  override dispose(): void {
    void this.flush();
    super.dispose();
  }
}
