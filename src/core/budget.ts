// The daily budget: how many credits today's runs have cost or may still cost, and whether one more run
// would pass the limit. Pure arithmetic over the run history (the journal every window shares), so the same
// answer holds however the run was started: the palette, a script, a batch, an agent's tool call.
import { creditsChargedToday, finishedAt, isFinished, type RunRecord } from './runs';

/** Unfinished runs older than this are not expected to be charged any more (a run takes minutes). */
const PENDING_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface BudgetStanding {
  /** Credits FLORA charged for runs that completed today (local calendar day). */
  charged: number;
  /**
   * Credits quoted for runs started in the last day and not finished yet: each may still be charged, and
   * an agent starting runs in a loop would otherwise pass the limit before any of them completes. A run
   * the extension stopped following counts too: FLORA may still finish and charge it.
   */
  pending: number;
  /** The quoted cost of the run asked for. */
  cost: number;
  /** Credits per day; undefined when the user set no budget. */
  limit: number | undefined;
  /**
   * Other windows' runs being prepared could not all be counted (their folder could not be read, or this
   * window's hold written): the standing may be short, so a run under a limit asks a person.
   */
  uncounted?: boolean;
}

/** Where today's spending stands if the run asked for is sent; `reserved` counts runs being prepared now. */
export function budgetStanding(
  records: readonly RunRecord[],
  options: { now: number; cost: number; limit: number | undefined; reserved?: number; uncounted?: boolean },
): BudgetStanding {
  let pending = options.reserved ?? 0;
  for (const record of records) {
    const recent = options.now - record.startedLocallyAt < PENDING_WINDOW_MS;
    if (recent && !isFinished(record) && record.chargedCost === undefined) pending += record.runCost ?? 0;
  }
  // A completed run whose reply carried no readable charge is counted at its quoted cost: it was paid for.
  const start = new Date(options.now);
  start.setHours(0, 0, 0, 0);
  let unreported = 0;
  for (const record of records) {
    const at = finishedAt(record);
    if (record.status === 'completed' && record.chargedCost === undefined && at >= start.getTime() && at <= options.now)
      unreported += record.runCost ?? 0;
  }
  return {
    charged: creditsChargedToday(records, options.now) + unreported,
    pending,
    cost: options.cost,
    limit: options.limit,
    ...(options.uncounted ? { uncounted: true } : {}),
  };
}

/** Whether sending the run would take today's spending past the limit (never, without a limit). */
export function passesBudget(standing: BudgetStanding): boolean {
  if (standing.limit === undefined) return false;
  return standing.uncounted === true || standing.charged + standing.pending + standing.cost > standing.limit;
}
