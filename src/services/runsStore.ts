// The one store of runs. Views (Runs tree, status bar, preview) only display what it holds and listen to
// its change events. Persisted in globalState so history survives reloads and live runs can resume.
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import { isLive, pruneHistory, type RunRecord } from '../core/runs';

const STATE_KEY = 'flora.runs.v1';
/** Progress updates are written at most this often; status changes are written at once. */
const PERSIST_DELAY_MS = 1_000;

export class RunsStore extends Disposable {
  private readonly records = new Map<string, RunRecord>();
  private readonly changed = this.register(new vscode.EventEmitter<RunRecord | undefined>());
  /** Fires with the record that changed, or undefined when many changed. */
  readonly onDidChange = this.changed.event;
  private persistTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly memento: vscode.Memento,
    private maxHistory: number,
  ) {
    super();
    const saved = memento.get<unknown>(STATE_KEY, []);
    if (Array.isArray(saved)) {
      for (const item of saved) {
        if (isRunRecord(item)) this.records.set(item.localId, { ...item, connection: undefined, connectionMessage: undefined });
      }
    }
  }

  /** Newest first. */
  all(): RunRecord[] {
    return [...this.records.values()].sort((a, b) => b.startedLocallyAt - a.startedLocallyAt);
  }

  live(): RunRecord[] {
    return this.all().filter(isLive);
  }

  get(localId: string): RunRecord | undefined {
    return this.records.get(localId);
  }

  findByRunId(runId: string): RunRecord | undefined {
    for (const record of this.records.values()) if (record.runId === runId) return record;
    return undefined;
  }

  /** Adds or replaces a record. `durable` writes it to storage before resolving. */
  async put(record: RunRecord, options: { durable?: boolean } = {}): Promise<void> {
    this.records.set(record.localId, record);
    this.changed.fire(record);
    if (options.durable) await this.persistNow();
    else this.schedulePersist();
  }

  /** Applies a change to a record; returns the new record, or undefined when it is gone. */
  async update(localId: string, change: Partial<RunRecord>, options: { durable?: boolean } = {}): Promise<RunRecord | undefined> {
    const current = this.records.get(localId);
    if (!current) return undefined;
    const next: RunRecord = { ...current, ...change, updatedAt: Date.now() };
    await this.put(next, options);
    return next;
  }

  async removeFinished(): Promise<number> {
    let removed = 0;
    for (const record of [...this.records.values()]) {
      if (!isLive(record)) {
        this.records.delete(record.localId);
        removed++;
      }
    }
    this.changed.fire(undefined);
    await this.persistNow();
    return removed;
  }

  setMaxHistory(limit: number): void {
    this.maxHistory = limit;
    this.schedulePersist();
  }

  async persistNow(): Promise<void> {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    const kept = pruneHistory([...this.records.values()], this.maxHistory);
    if (kept.length !== this.records.size) {
      const keep = new Set(kept.map((record) => record.localId));
      for (const id of [...this.records.keys()]) if (!keep.has(id)) this.records.delete(id);
      this.changed.fire(undefined);
    }
    await this.memento.update(
      STATE_KEY,
      kept.map(({ connection: _connection, connectionMessage: _message, ...rest }) => rest),
    );
  }

  private schedulePersist(): void {
    if (this.persistTimer) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      void this.persistNow();
    }, PERSIST_DELAY_MS);
  }

  override dispose(): void {
    if (this.persistTimer) void this.persistNow();
    super.dispose();
  }
}

function isRunRecord(value: unknown): value is RunRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<RunRecord>;
  return (
    typeof record.localId === 'string' &&
    typeof record.idempotencyKey === 'string' &&
    typeof record.slug === 'string' &&
    typeof record.status === 'string' &&
    typeof record.startedLocallyAt === 'number' &&
    Array.isArray(record.inputs)
  );
}
