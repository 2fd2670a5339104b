// One of several real Node processes asking the daily budget at the same moment (forked by
// reservations.test.ts), each through its own ReservationBook over one shared folder, as windows do.
// For every round the parent names a moment on the machine's monotonic clock; the process spins until
// then, holds its run's credits and judges the budget as the gate does, and reports whether its run went
// ahead unasked. It keeps holding until the parent ends the round.
//
// Arguments: <folder> <credits per run> <limit>.
import { budgetStanding, passesBudget } from '../../../src/core/budget';
import { ReservationBook, type HeldReservation } from '../../../src/core/reservations';

export type ContenderCommand = { round: number; at: number } | { end: number } | { quit: true };
export interface ContenderReply {
  round: number;
  /** The run went ahead without asking a person. */
  unasked: boolean;
}

const [folder, creditsText, limitText] = process.argv.slice(2);
if (!folder || !creditsText || !limitText) throw new Error('usage: reservationContender <folder> <credits> <limit>');
const credits = Number(creditsText);
const limit = Number(limitText);
const book = new ReservationBook(folder);
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
    held?.release();
    held = undefined;
    process.send?.({ round: command.end, unasked: false } satisfies ContenderReply);
    return;
  }
  while (clock() < command.at) {
    // Spin, so that every process asks within microseconds of the others.
  }
  const { reservation, elsewhere } = book.holdThenCount(credits);
  const unasked = !passesBudget(budgetStanding([], { now: Date.now(), cost: credits, limit, reserved: elsewhere }));
  // A run that would have asked a person is declined here: its credits go at once.
  if (unasked) held = reservation;
  else reservation.release();
  process.send?.({ round: command.round, unasked } satisfies ContenderReply);
});
