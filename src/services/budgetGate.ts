// The daily budget's gate: every new run passes here before anything is uploaded or sent, however it was
// started (the palette, a script, a batch, an agent's tool). A run that would take today's spending past
// flora.budget.creditsPerDay waits for a person to confirm it in a modal dialog, which no agent or script
// can answer; declined, it is refused and nothing is sent. The arithmetic is core/budget.ts's, over the
// journal every window shares and the reservations of runs admitted but not on record yet, in any window
// (core/reservations.ts).
import { randomUUID } from 'node:crypto';
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
  /** The local id the run will be recorded under, so other windows stop counting its hold once they read it. */
  localId?: string;
  /**
   * The batch the run is part of: confirmed (or declined) once for the runs of it still to come, which
   * the question names with their total cost.
   */
  batch?: { id: string; remaining: number };
}

/** Asks a person whether to go past the budget; true when they confirmed. */
export type BudgetPrompt = (request: BudgetRequest, standing: BudgetStanding) => Promise<boolean>;

/** Ends an admitted run's hold: `recorded` once it is in the journal (which counts it from then on). */
export type BudgetRelease = (recorded?: boolean) => void;

export interface BudgetGateOptions {
  runs: Pick<RunsStore, 'spending' | 'ready' | 'catchUp'>;
  settings: Pick<Settings, 'current'>;
  now?: () => number;
  prompt?: BudgetPrompt;
  /** Where admitted runs are held until they are on record, shared with the other windows; default this window's memory. */
  reservations?: ReservationBook;
}

export class BudgetGate {
  /** One question at a time: a second run waits for the first's answer and then sees its reservation. */
  private turn: Promise<unknown> = Promise.resolve();
  /**
   * Runs admitted, in any window, and not on record yet (uploads may take a while). Held with or without a
   * budget: one set while a run uploads must count it in every window.
   */
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

  /**
   * Today's standing before a run of `cost` (0: what has been spent and is pending now), for display: other
   * windows' runs being prepared as counted up to a second ago, unless `fresh`.
   */
  standing(cost = 0, options: { fresh?: boolean } = {}): BudgetStanding {
    const count = this.reservations.total(this.knownRuns(), options);
    return this.standingWith(cost, count.credits, !count.complete);
  }

  private knownRuns(): ReadonlySet<string> {
    return new Set(this.options.runs.spending().map((record) => record.localId));
  }

  private standingWith(cost: number, reserved: number, uncounted: boolean): BudgetStanding {
    return budgetStanding(this.options.runs.spending(), {
      now: this.now(),
      cost,
      limit: this.options.settings.current.creditsPerDay,
      reserved,
      uncounted,
    });
  }

  /**
   * Admits a run, asking a person first when it would pass the budget; rejects with FloraCancelledError
   * when they did not confirm. The returned release is called once the run is recorded (it then counts
   * from the journal) or was never recorded.
   */
  admit(request: BudgetRequest, signal?: AbortSignal): Promise<BudgetRelease> {
    const admitted = this.turn.then(async () => {
      // Cancelled while another run's question was open: this one never asks.
      if (signal?.aborted) throw new FloraCancelledError();
      // Every run on record counts: the journal read (a window's first moments) and what its watcher missed.
      await this.options.runs.ready;
      await this.options.runs.catchUp();
      if (signal?.aborted) throw new FloraCancelledError();
      // A batch is judged by what its remaining runs cost together, so one answer covers them all.
      const runs = request.batch?.remaining ?? 1;
      const id = request.localId ?? `admitted-${randomUUID()}`;
      const known = this.knownRuns();
      // Held before it is judged: a window asking at the same moment sees it (see core/reservations.ts).
      const held = this.reservations.holdThenCount(id, request.cost, known);
      try {
        const standing = this.standingWith(request.cost * runs, held.credits, !held.complete);
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
        held.reservation.release(false);
        throw error;
      }
      return (recorded?: boolean) => held.reservation.release(recorded === true);
    });
    this.turn = admitted.catch(() => undefined);
    return admitted;
  }
}

/** The dialog: modal, so only a person answers it; it names the run, its cost and where the day stands. */
function askToPassBudget(request: BudgetRequest, standing: BudgetStanding): Promise<boolean> {
  const remaining = request.batch?.remaining ?? 1;
  const limit = standing.limit ?? 0;
  const within = standing.charged + standing.pending + standing.cost <= limit;
  // Under the limit by what this window can count, but not everything could be counted.
  const unsure = standing.uncounted === true && within;
  const title = unsure
    ? remaining > 1
      ? vscode.l10n.t(
          "Run the remaining {0} runs of {1} for {2} credits? Other windows' runs being prepared could not be counted, so they may pass today's FLORA budget of {3} credits.",
          remaining,
          request.techniqueName,
          standing.cost,
          limit,
        )
      : vscode.l10n.t(
          "Run {0} for {1} credits? Other windows' runs being prepared could not be counted, so it may pass today's FLORA budget of {2} credits.",
          request.techniqueName,
          standing.cost,
          limit,
        )
    : undefined;
  const detail = vscode.l10n.t(
    'Charged today: {0} credits. Runs still going may cost {1} more. The budget is flora.budget.creditsPerDay in your user settings.',
    standing.charged,
    standing.pending,
  );
  return confirmModal(
    title ??
      (remaining > 1
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
          )),
    unsure ? `${detail} ${vscode.l10n.t('FLORA: Show Log says why they could not be counted.')}` : detail,
    vscode.l10n.t('Run Anyway'),
  );
}
