// Which window polls: when the polling lease fails, no window may start polling on the strength of the
// failure alone (every window would poll and re-send every unfinished create).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FileLease } from '../../../src/core/lease';
import { WindowCoordinator, type WindowCoordinatorOptions } from '../../../src/services/windowCoordinator';

describe('services/windowCoordinator when the lease fails, or its folder holds what it did not write', () => {
  let directory: string;
  let windows: WindowCoordinator[];

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-coordinator-'));
    windows = [];
  });

  afterEach(() => {
    for (const window of windows) window.dispose();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  interface Window {
    coordinator: WindowCoordinator;
    started: number;
    stopped: number;
    warnings: string[];
  }

  function openWindow(lease: WindowCoordinatorOptions['lease'], windowKey?: string): Window {
    const seen = { started: 0, stopped: 0, warnings: [] as string[] };
    const coordinator = new WindowCoordinator({
      lease,
      windowKey,
      log: { info: () => undefined, warn: (message) => seen.warnings.push(message) },
      hasLiveRuns: () => true,
      onStartPolling: () => seen.started++,
      onStopPolling: () => seen.stopped++,
    });
    windows.push(coordinator);
    return Object.assign(seen, { coordinator });
  }

  /** A lease whose every use throws, the way one in unwritable (or full) global storage does. */
  function brokenLease(file: string, broken: { now: boolean }): WindowCoordinatorOptions['lease'] {
    const real = new FileLease(file, { ttlMs: 10_000 });
    return {
      owner: real.owner,
      file,
      acquireOrRenew: () => {
        if (broken.now) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return real.acquireOrRenew();
      },
      release: () => real.release(),
    };
  }

  it('polls in no window while the lease throws, logs it once, and polls in one once it works', () => {
    const file = path.join(directory, 'poller.lease');
    const broken = { now: true };
    const all = [openWindow(brokenLease(file, broken)), openWindow(brokenLease(file, broken)), openWindow(brokenLease(file, broken))];
    for (let tick = 0; tick < 3; tick++) for (const window of all) window.coordinator.check();
    assert.deepEqual(
      all.map((window) => [window.coordinator.isPolling, window.started]),
      [
        [false, 0],
        [false, 0],
        [false, 0],
      ],
      'no window polls on a lease error',
    );
    for (const window of all) assert.equal(window.warnings.length, 1, `logged once: ${JSON.stringify(window.warnings)}`);

    broken.now = false;
    for (const window of all) window.coordinator.check();
    assert.equal(all.filter((window) => window.coordinator.isPolling).length, 1, 'the lease works again: one window polls');
  });

  it('stops polling in the window that held the lease when the lease starts failing', () => {
    const broken = { now: false };
    const window = openWindow(brokenLease(path.join(directory, 'poller.lease'), broken));
    window.coordinator.check();
    assert.equal(window.coordinator.isPolling, true);
    broken.now = true;
    window.coordinator.check();
    assert.equal(window.coordinator.isPolling, false, 'it can no longer tell whether another window took the lease');
    assert.equal(window.stopped, 1);
  });

  it('gives one window the lease over a directory at its highest generation', () => {
    const file = path.join(directory, 'poller.lease');
    fs.mkdirSync(path.join(`${file}.d`, '42'), { recursive: true });
    const all = [openWindow(new FileLease(file)), openWindow(new FileLease(file)), openWindow(new FileLease(file))];
    for (let tick = 0; tick < 3; tick++) for (const window of all) window.coordinator.check();
    assert.deepEqual(
      all.map((window) => window.coordinator.isPolling),
      [true, false, false],
    );
  });

  it('tells whether a window is alive without waiting on a pipe or reading outside its folder', () => {
    const file = path.join(directory, 'poller.lease');
    const other = openWindow(new FileLease(file), 'other-window');
    other.coordinator.check();
    const here = openWindow(new FileLease(file), 'this-window');
    assert.equal(here.coordinator.isWindowAlive('other-window'), true, 'a window that beats is alive');
    const fifo = path.join(directory, 'windows', 'piped.json');
    execFileSync('mkfifo', [fifo]);
    assert.equal(here.coordinator.isWindowAlive('piped'), false, 'a pipe is no heartbeat, and is not waited on');
    // A run record's origin names the window: one shaped like a path reads nothing outside the folder.
    fs.writeFileSync(path.join(directory, 'elsewhere.json'), JSON.stringify({ expiresAt: Date.now() + 60_000 }));
    assert.equal(here.coordinator.isWindowAlive('../elsewhere'), false);
  });
});
