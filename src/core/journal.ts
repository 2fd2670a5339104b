// The run journal: one small JSON file per run in the extension's global storage, shared by every window
// of the same profile. A file per run means the window that writes a run never rewrites another's, each
// write is atomic (temporary file + rename), and a watcher tells every window what another one changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from './model';
import { isRunRecord, type RunRecord } from './runs';

const SUFFIX = '.json';

export class RunJournal {
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
    const files = names.filter((name) => name.endsWith(SUFFIX));
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
   * Calls `listener` with the local id of every run file another writer (or this one) changed. Creates
   * nothing: until the first run is written (by any window) it only checks, now and then, for the folder.
   */
  watch(listener: (localId: string) => void, options: { retryMs?: number } = {}): { dispose(): void } {
    let watcher: fs.FSWatcher | undefined;
    let retry: NodeJS.Timeout | undefined;
    let disposed = false;
    let late = false;
    const start = () => {
      if (disposed) return;
      try {
        watcher = fs.watch(this.directory, (_event, name) => {
          const file = typeof name === 'string' ? name : undefined;
          if (file?.endsWith(SUFFIX)) listener(decodeURIComponent(file.slice(0, -SUFFIX.length)));
        });
        watcher.on('error', (error) => this.log('warn', `Watching the run journal stopped: ${error.message}`));
        // A watcher that starts late (the folder appeared after activation) announces what was written in
        // the meantime; one that starts at once leaves that to the caller's initial load.
        if (late) {
          for (const name of fs.readdirSync(this.directory)) {
            if (name.endsWith(SUFFIX)) listener(decodeURIComponent(name.slice(0, -SUFFIX.length)));
          }
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          late = true;
          retry = setTimeout(start, options.retryMs ?? 3_000);
          return;
        }
        this.log('warn', `Cannot watch the run journal (${String(error)}); other windows' runs appear after a reload.`);
      }
    };
    start();
    return {
      dispose: () => {
        disposed = true;
        if (retry) clearTimeout(retry);
        watcher?.close();
      },
    };
  }

  private async readFile(name: string): Promise<RunRecord | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(path.join(this.directory, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log('warn', `Cannot read run journal entry ${name}: ${String(error)}`);
      return undefined;
    }
    try {
      const value = JSON.parse(text) as unknown;
      if (isRunRecord(value)) return value;
    } catch {
      // Falls through to the warning below.
    }
    this.log('warn', `Ignoring run journal entry ${name}: it is not a run record.`);
    return undefined;
  }
}

function fileName(localId: string): string {
  return `${encodeURIComponent(localId)}${SUFFIX}`;
}
