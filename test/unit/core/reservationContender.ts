// One of several real Node processes sharing a folder of budget reservations (forked by
// reservations.test.ts), each through its own ReservationBook, as windows do.
// - A round: the parent names a moment on the machine's monotonic clock; the process spins until then,
//   holds its run's credits and judges the budget as the gate does, and reports whether its run went
//   ahead unasked. It keeps holding until the parent ends the round.
// - A count loop: the process counts the folder `times` times and reports how often it saw less than
//   `expected` credits held, while another process renews a reservation the way a holder does.
// - A touch loop: the process renews `file` (sets its modification time) without pause for `ms`.
//
// Arguments: <folder> <credits per run> <limit>.
import * as fs from 'node:fs';
import { budgetStanding, passesBudget } from '../../../src/core/budget';
import { ReservationBook, type HeldReservation } from '../../../src/core/reservations';

export type ContenderCommand =
  { round: number; at: number } | { end: number } | { count: number; expected: number } | { touch: string; ms: number } | { quit: true };
export interface ContenderReply {
  round: number;
  /** The run went ahead without asking a person. */
  unasked: boolean;
  /** Counts that saw less than expected (a count loop). */
  misses?: number;
}

const [folder, creditsText, limitText] = process.argv.slice(2);
if (!folder || !creditsText || !limitText) throw new Error('usage: reservationContender <folder> <credits> <limit>');
const credits = Number(creditsText);
const limit = Number(limitText);
const book = new ReservationBook(folder);
const none: ReadonlySet<string> = new Set();
let held: HeldReservation | undefined;

function clock(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

process.on('message', (command: ContenderCommand) => {
  if ('quit' in command) {
    book.dispose();
    process.disconnect();
    return;
  }
  if ('end' in command) {
    held?.release(false);
    held = undefined;
    process.send?.({ round: command.end, unasked: false } satisfies ContenderReply);
    return;
  }
  if ('count' in command) {
    let misses = 0;
    // A new book each time: a fresh listing, never a cached one.
    for (let index = 0; index < command.count; index++) if (new ReservationBook(folder).total(none).credits < command.expected) misses++;
    process.send?.({ round: -1, unasked: false, misses } satisfies ContenderReply);
    return;
  }
  if ('touch' in command) {
    const until = clock() + command.ms;
    while (clock() < until) {
      const at = Date.now() / 1000;
      fs.utimesSync(command.touch, at, at);
    }
    process.send?.({ round: -1, unasked: false } satisfies ContenderReply);
    return;
  }
  while (clock() < command.at) {
    // Spin, so that every process asks within microseconds of the others.
  }
  const id = `run-${process.pid}-${command.round}`;
  const counted = book.holdThenCount(id, credits, none);
  const standing = budgetStanding([], { now: Date.now(), cost: credits, limit, reserved: counted.credits, uncounted: !counted.complete });
  const unasked = !passesBudget(standing);
  // A run that would have asked a person is declined here: its credits go at once.
  if (unasked) held = counted.reservation;
  else counted.reservation.release(false);
  process.send?.({ round: command.round, unasked } satisfies ContenderReply);
});
