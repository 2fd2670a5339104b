// Named pipes for the tests that check nothing waits on one: made with mkfifo, and let go afterwards, so
// that a reader stuck in open() on a pipe (a failing test) does not stall the rest of the suite.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export class NamedPipes {
  private readonly made: string[] = [];

  make(file: string): void {
    execFileSync('mkfifo', [file]);
    this.made.push(file);
  }

  /** Opens each pipe for writing once, which lets a reader blocked in open() go on; then forgets them. */
  release(): void {
    for (const pipe of this.made.splice(0)) {
      try {
        fs.closeSync(fs.openSync(pipe, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      } catch {
        // ENXIO: nobody is reading it, as it should be.
      }
    }
  }
}
