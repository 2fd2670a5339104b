// The one store of runs. Views (Runs tree, status bar, preview) only display what it holds and listen to
// its change events. It is backed by the run journal in global storage, shared by every window: what
// another window writes arrives through the journal's watcher.
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import type { RunJournal } from '../core/journal';
import { isFinished, isLive, pruneHistory, type RunRecord } from '../core/runs';

/** Progress updates are written at most this often per run; status changes are written at once. */
const PERSIST_DELAY_MS = 1_000;

export class RunsStore extends Disposable {
  private readonly records = new Map<string, RunRecord>();
  private readonly changed = this.register(new vscode.EventEmitter<RunRecord | undefined>());
  /** Fires with the record that changed, or undefined when many changed. */
  readonly onDidChange = this.changed.event;
  private readonly finished = this.register(new vscode.EventEmitter<RunRecord>());
  /** A run went from live to completed or failed, in this window or another. */
  readonly onDidFinish = this.finished.event;
  private readonly pendingWrites = new Map<string, NodeJS.Timeout>();
  /** Resolves once the journal has been read; activation does not wait for it. */
  readonly ready: Promise<void>;

  constructor(
    private readonly journal: RunJournal,
    private maxHistory: number,
  ) {
    super();
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
      if (!known || known.updatedAt < record.updatedAt)
        this.records.set(record.localId, { ...record, connection: undefined, connectionMessage: undefined });
    }
    if (saved.length > 0) this.changed.fire(undefined);
  }

  /** Another window (or this one) changed a journal entry: adopt it when it is newer than ours. */
  private async reload(localId: string): Promise<void> {
    if (this.isDisposed) return;
    const stored = await this.journal.read(localId);
    const known = this.records.get(localId);
    if (!stored) {
      if (known && !this.pendingWrites.has(localId)) {
        this.records.delete(localId);
        this.changed.fire(undefined);
      }
      return;
    }
    if (known && known.updatedAt >= stored.updatedAt) return;
    this.records.set(localId, stored);
    this.changed.fire(stored);
    if (known && isLive(known) && !isLive(stored)) this.finished.fire(stored);
  }

  /** Newest first. */
  all(): RunRecord[] {
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
    return this.records.get(localId);
  }

  findByRunId(runId: string): RunRecord | undefined {
    for (const record of this.records.values()) if (record.runId === runId) return record;
    return undefined;
  }

  /** Adds or replaces a record. `durable` writes it to the journal before resolving. */
  async put(record: RunRecord, options: { durable?: boolean; persist?: boolean } = {}): Promise<void> {
    const previous = this.records.get(record.localId);
    this.records.set(record.localId, record);
    this.changed.fire(record);
    if (previous && isLive(previous) && !isLive(record)) this.finished.fire(record);
    if (options.durable) await this.write(record.localId);
    else if (options.persist !== false) this.scheduleWrite(record.localId);
    if (!isLive(record)) await this.prune();
  }

  /** Applies a change to a record; returns the new record, or undefined when it is gone. */
  async update(localId: string, change: Partial<RunRecord>, options: { durable?: boolean } = {}): Promise<RunRecord | undefined> {
    const current = this.records.get(localId);
    if (!current) return undefined;
    const next: RunRecord = { ...current, ...change, updatedAt: Math.max(Date.now(), current.updatedAt + 1) };
    // The connection state is never stored (write() drops it): a change to it alone writes nothing.
    const transientOnly = Object.keys(change).every((key) => key === 'connection' || key === 'connectionMessage');
    await this.put(next, { ...options, persist: !transientOnly });
    return next;
  }

  async removeFinished(): Promise<number> {
    const finished = [...this.records.values()].filter(isFinished);
    for (const record of finished) this.records.delete(record.localId);
    this.changed.fire(undefined);
    await Promise.all(finished.map((record) => this.journal.delete(record.localId)));
    return finished.length;
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
    const kept = new Set(pruneHistory([...this.records.values()], this.maxHistory).map((record) => record.localId));
    const dropped = [...this.records.keys()].filter((localId) => !kept.has(localId));
    if (dropped.length === 0) return;
    for (const localId of dropped) this.records.delete(localId);
    this.changed.fire(undefined);
    await Promise.all(dropped.map((localId) => this.journal.delete(localId)));
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
    const record = this.records.get(localId);
    if (!record) return;
    const { connection: _connection, connectionMessage: _message, ...persisted } = record;
    await this.journal.save(persisted);
  }

  override dispose(): void {
    void this.flush();
    super.dispose();
  }
}
