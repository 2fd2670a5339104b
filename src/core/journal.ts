// The run journal: one small JSON file per run in the extension's global storage, shared by every window
// of the same profile. A file per run means the window that writes a run never rewrites another's, each
// write is atomic (temporary file + rename), and a watcher tells every window what another one changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from './model';
import { readRegularFile } from './regularFile';
import { SYSTEM_TIMERS, type PollerTimers } from './poller';
import { readRunRecord } from './runRecordSchema';
import type { RunRecord } from './runs';

const SUFFIX = '.json';
/** Far more than a record with every output FLORA can send; a bigger file is not one this extension wrote. */
const MAX_ENTRY_BYTES = 32 * 1024 * 1024;

export class RunJournal {
  /** Names already reported as unusable, so a watcher that sees them again does not repeat itself. */
  private readonly reported = new Set<string>();

  constructor(
    readonly directory: string,
    private readonly log: Logger = () => undefined,
  ) {}

  /** Every readable record; unreadable files are logged and skipped, never fatal. */
  async load(): Promise<RunRecord[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: RunRecord[] = [];
    // Bounded concurrency: thousands of small reads without thousands of open files.
    const files = names.filter((name) => this.localIdOf(name) !== undefined);
    for (let start = 0; start < files.length; start += 64) {
      const batch = await Promise.all(files.slice(start, start + 64).map((name) => this.readFile(name)));
      for (const record of batch) if (record) records.push(record);
    }
    return records;
  }

  read(localId: string): Promise<RunRecord | undefined> {
    return this.readFile(fileName(localId));
  }

  async save(record: RunRecord): Promise<void> {
    await fs.promises.mkdir(this.directory, { recursive: true });
    const target = path.join(this.directory, fileName(record.localId));
    const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.promises.writeFile(temporary, JSON.stringify(record), 'utf8');
    await fs.promises.rename(temporary, target);
  }

  async delete(localId: string): Promise<void> {
    await fs.promises.rm(path.join(this.directory, fileName(localId)), { force: true });
  }

  /**
   * Deletes the entry unless it was changed after `updatedAt` or is live: what this window decided to
   * delete (a trim, a clear) was its copy, and another window may have written the run since (a create
   * retried). Returns whether it is gone.
   */
  async deleteUnlessChanged(localId: string, updatedAt: number, isLive: (record: RunRecord) => boolean): Promise<boolean> {
    const stored = await this.read(localId);
    if (stored && (stored.updatedAt > updatedAt || isLive(stored))) return false;
    await this.delete(localId);
    return true;
  }

  /** The local ids of every entry on disk (a listing, for a window whose watcher may have missed some). */
  async ids(): Promise<string[]> {
    try {
      const names = await fs.promises.readdir(this.directory);
      return names.map((name) => this.localIdOf(name)).filter((localId): localId is string => localId !== undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /**
   * Calls `listener` with the local id of every run file another writer (or this one) changed. Creates
   * nothing: until the first run is written (by any window) it only checks, now and then, for the folder.
   */
  watch(listener: (localId: string) => void, options: { retryMs?: number; timers?: PollerTimers } = {}): { dispose(): void } {
    const timers = options.timers ?? SYSTEM_TIMERS;
    let watcher: fs.FSWatcher | undefined;
    let retry: unknown;
    let disposed = false;
    let late = false;
    const start = () => {
      if (disposed) return;
      try {
        watcher = fs.watch(this.directory, (_event, name) => {
          const localId = typeof name === 'string' ? this.localIdOf(name) : undefined;
          if (localId !== undefined) this.announce(listener, localId);
        });
        watcher.on('error', (error) => this.log('warn', `Watching the run journal stopped: ${error.message}`));
        // A watcher that starts late (the folder appeared after activation) announces what was written in
        // the meantime; one that starts at once leaves that to the caller's initial load.
        if (late) {
          for (const name of fs.readdirSync(this.directory)) {
            const localId = this.localIdOf(name);
            if (localId !== undefined) this.announce(listener, localId);
          }
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          late = true;
          retry = timers.setTimeout(start, options.retryMs ?? 3_000);
          return;
        }
        this.log('warn', `Cannot watch the run journal (${String(error)}); other windows' runs appear after a reload.`);
      }
    };
    start();
    return {
      dispose: () => {
        disposed = true;
        if (retry !== undefined) timers.clearTimeout(retry);
        watcher?.close();
      },
    };
  }

  /**
   * The local id a journal file name stands for, or undefined when the name is not one `save` writes:
   * another suffix, a temporary file, or a name that is not percent-encoding (decodeURIComponent throws
   * on `%E0%A4%A`). Such a file is skipped and reported once.
   */
  private localIdOf(name: string): string | undefined {
    if (!name.endsWith(SUFFIX)) return undefined;
    let localId: string | undefined;
    try {
      localId = decodeURIComponent(name.slice(0, -SUFFIX.length));
    } catch {
      localId = undefined;
    }
    // Only the one spelling `save` writes: `a%2fb.json` beside `a%2Fb.json` would be a second copy of a run.
    if (localId !== undefined && fileName(localId) === name) return localId;
    this.reportOnce(name, 'its name is not one the extension writes');
    return undefined;
  }

  /** A listener that throws must not take the watcher (and the extension host) down with it. */
  private announce(listener: (localId: string) => void, localId: string): void {
    try {
      listener(localId);
    } catch (error) {
      this.log('warn', `Handling a change to run ${JSON.stringify(localId)} failed: ${String(error)}`);
    }
  }

  private reportOnce(name: string, reason: string): void {
    if (this.reported.has(name)) return;
    if (this.reported.size < 1_000) this.reported.add(name);
    this.log('warn', `Ignoring run journal entry ${JSON.stringify(name)}: ${reason}.`);
  }

  private async readFile(name: string): Promise<RunRecord | undefined> {
    // Not fs.readFile: a named pipe here would block it for good, a link to /dev/zero never end (see regularFile.ts).
    const read = await readRegularFile(path.join(this.directory, name), MAX_ENTRY_BYTES);
    if (read.kind === 'missing') return undefined;
    if (read.kind === 'refused') {
      this.log('warn', `Ignoring run journal entry ${JSON.stringify(name)}: ${read.reason}.`);
      return undefined;
    }
    const text = read.text;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.log('warn', `Ignoring run journal entry ${JSON.stringify(name)}: it is not JSON.`);
      return undefined;
    }
    const { record, problems } = readRunRecord(value);
    if (!record) {
      this.log('warn', `Ignoring run journal entry ${JSON.stringify(name)}: it is not a run record (${problems.join('; ')}).`);
      return undefined;
    }
    if (fileName(record.localId) !== name) {
      this.log(
        'warn',
        `Ignoring run journal entry ${JSON.stringify(name)}: it holds run ${JSON.stringify(record.localId)}, which belongs in another file.`,
      );
      return undefined;
    }
    if (problems.length > 0)
      this.log(
        'warn',
        `Run journal entry ${JSON.stringify(name)}: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}.`,
      );
    return record;
  }
}

function fileName(localId: string): string {
  return `${encodeURIComponent(localId)}${SUFFIX}`;
}
