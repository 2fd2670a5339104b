// Last-resort cleanup when the driver process dies before it could stop what it started (an uncaught
// error, process.exit from a signal handler). Only synchronous work can run on 'exit', so each hook
// must be synchronous: kill a process group, remove a folder.
import * as fs from 'fs';

const hooks = new Set<() => void>();
let installed = false;

function runHooks(): void {
  for (const hook of [...hooks]) {
    try {
      hook();
    } catch {
      // One failing hook must not stop the others; the process is going away regardless.
    }
  }
  hooks.clear();
}

/** Registers `hook` to run if the process exits while it is still registered; returns the unregister. */
export function onProcessExit(hook: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once('exit', runHooks);
  }
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}

/** Sends `signal` to every process in the group led by `groupLeaderPid`; false when the group is gone. */
export function signalProcessGroup(groupLeaderPid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-groupLeaderPid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes a folder tree, retrying briefly: a browser or server that is still exiting may write one more
 * file into it (ENOTEMPTY) right after being told to stop.
 */
export function removeDirectory(directory: string): void {
  fs.rmSync(directory, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
