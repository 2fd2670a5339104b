// The daily budget's gate: every new run passes here before anything is uploaded or sent, however it was
// started (the palette, a script, a batch, an agent's tool). A run that would take today's spending past
// flora.budget.creditsPerDay waits for a person to confirm it in a modal dialog, which no agent or script
// can answer; declined, it is refused and nothing is sent. The arithmetic is core/budget.ts's, over the
// journal every window shares and the reservations of runs admitted but not on record yet, in any window
// (core/reservations.ts).
import * as vscode from 'vscode';
import { confirmModal } from '../common/notify';
import { budgetStanding, passesBudget, type BudgetStanding } from '../core/budget';
import { FloraCancelledError } from '../core/errors';
import { message } from '../core/messages';
import { ReservationBook } from '../core/reservations';
import type { RunsStore } from './runsStore';
import type { Settings } from './settings';

export interface BudgetRequest {
  techniqueName: string;
  /** The quoted cost (the technique's runCost). */
  cost: number;
  /**
   * The batch the run is part of: confirmed (or declined) once for the runs of it still to come, which
   * the question names with their total cost.
   */
  batch?: { id: string; remaining: number };
}

/** Asks a person whether to go past the budget; true when they confirmed. */
export type BudgetPrompt = (request: BudgetRequest, standing: BudgetStanding) => Promise<boolean>;

export interface BudgetGateOptions {
  runs: Pick<RunsStore, 'spending'>;
  settings: Pick<Settings, 'current'>;
  now?: () => number;
  prompt?: BudgetPrompt;
  /** Where admitted runs are held until they are on record, shared with the other windows; default this window's memory. */
  reservations?: ReservationBook;
}

export class BudgetGate {
  /** One question at a time: a second run waits for the first's answer and then sees its reservation. */
  private turn: Promise<unknown> = Promise.resolve();
  /** Credits of runs admitted, here or in another window, and not recorded yet (uploads may take a while). */
  private readonly reservations: ReservationBook;
  /** Batches a person answered for; a batch's answer holds for its later runs (a few ids a session). */
  private readonly answeredBatches = new Map<string, boolean>();
  private readonly now: () => number;
  private readonly prompt: BudgetPrompt;

  constructor(private readonly options: BudgetGateOptions) {
    this.now = options.now ?? Date.now;
    this.prompt = options.prompt ?? askToPassBudget;
    this.reservations = options.reservations ?? new ReservationBook(undefined);
  }

  /** Releases this window's reservations: its runs being prepared go with it. */
  dispose(): void {
    this.reservations.dispose();
  }

  /** Today's standing before a run of `cost` (0: what has been spent and is pending now). */
  standing(cost = 0): BudgetStanding {
    return this.standingWith(cost, this.reservations.total());
  }

  private standingWith(cost: number, reserved: number): BudgetStanding {
    return budgetStanding(this.options.runs.spending(), {
      now: this.now(),
      cost,
      limit: this.options.settings.current.creditsPerDay,
      reserved,
    });
  }

  /**
   * Admits a run, asking a person first when it would pass the budget; rejects with FloraCancelledError
   * when they did not confirm. The returned release is called once the run is recorded (it then counts
   * from the journal) or was never recorded.
   */
  admit(request: BudgetRequest, signal?: AbortSignal): Promise<() => void> {
    const admitted = this.turn.then(async () => {
      // Cancelled while another run's question was open: this one never asks.
      if (signal?.aborted) throw new FloraCancelledError();
      // A batch is judged by what its remaining runs cost together, so one answer covers them all.
      const runs = request.batch?.remaining ?? 1;
      // Held before it is judged: a window asking at the same moment sees it (see core/reservations.ts).
      const { reservation, elsewhere } = this.reservations.holdThenCount(request.cost);
      try {
        const standing = this.standingWith(request.cost * runs, elsewhere);
        const answered = request.batch && this.answeredBatches.get(request.batch.id);
        if (passesBudget(standing) && answered !== true) {
          const agreed = answered === undefined && (await this.prompt(request, standing));
          if (request.batch) this.answeredBatches.set(request.batch.id, agreed);
          if (!agreed) {
            throw new FloraCancelledError(
              message('budgetDeclined', standing.cost, standing.charged + standing.pending + standing.cost, standing.limit ?? 0),
            );
          }
        }
      } catch (error) {
        reservation.release();
        throw error;
      }
      return () => reservation.release();
    });
    this.turn = admitted.catch(() => undefined);
    return admitted;
  }
}

/** The dialog: modal, so only a person answers it; it names the run, its cost and where the day stands. */
function askToPassBudget(request: BudgetRequest, standing: BudgetStanding): Promise<boolean> {
  const remaining = request.batch?.remaining ?? 1;
  return confirmModal(
    remaining > 1
      ? vscode.l10n.t(
          "Run the remaining {0} runs of {1} for {2} credits? They pass today's FLORA budget of {3} credits.",
          remaining,
          request.techniqueName,
          standing.cost,
          standing.limit ?? 0,
        )
      : vscode.l10n.t(
          "Run {0} for {1} credits? It passes today's FLORA budget of {2} credits.",
          request.techniqueName,
          standing.cost,
          standing.limit ?? 0,
        ),
    vscode.l10n.t(
      'Charged today: {0} credits. Runs still going may cost {1} more. The budget is flora.budget.creditsPerDay in your user settings.',
      standing.charged,
      standing.pending,
    ),
    vscode.l10n.t('Run Anyway'),
  );
}
