// The run record every view displays, and the rules for keeping a bounded history.
import * as path from 'node:path';

import { englishText, type Message } from './messages';
import { RUN_STATUSES } from './model';
import type { RunInput, RunStatus } from './model';
import type { RunOutput } from './runReplies';

/** "creating": the intent is recorded but FLORA has not answered the create request yet. */
export const RUN_STATES = ['creating', ...RUN_STATUSES] as const;
export type RunState = (typeof RUN_STATES)[number];

/**
 * Why the extension stopped following a run that had not finished (nothing is retried for ever):
 * - unreadable: FLORA's replies about the run could not be read for a long time;
 * - failing: polls kept failing (no reply, server errors) for a long time;
 * - unknownStatus: FLORA kept reporting a status the document does not list;
 * - createUnconfirmed: the create request was never confirmed (no runId), after re-sending it for a while;
 * - tooLong: the run had not finished a day after it began (FLORA kept saying queued or running);
 * - byUser: the user chose Stop Following.
 */
export const STOP_REASONS = ['unreadable', 'failing', 'unknownStatus', 'createUnconfirmed', 'tooLong', 'byUser'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** How the connection to FLORA is doing for a live run (shown in the views; kept by the store, never written). */
export const RUN_CONNECTIONS = ['ok', 'retrying', 'offline', 'paused'] as const;
export type RunConnection = (typeof RUN_CONNECTIONS)[number];

export interface RunBatch {
  id: string;
  index: number;
  size: number;
}

/** One output saved into a folder: which output, the file, and the run's provenance file beside it. */
export interface SavedOutput {
  index: number;
  /** Absolute path of the saved file. */
  file: string;
  /** Absolute path of the provenance JSON written beside it. */
  provenance: string;
  /** Local clock, ms. */
  at: number;
}

export interface RunRecord {
  /** Our own id, stable from the first moment; also the idempotency key sent to FLORA. */
  localId: string;
  idempotencyKey: string;
  runId: string | undefined;
  slug: string;
  techniqueName: string;
  inputs: RunInput[];
  status: RunState;
  progress: number;
  pollUrl?: string;
  runCost?: number;
  chargedCost?: number;
  outputs?: RunOutput[];
  /** Why the run failed, as FLORA's code (or the extension's kind of error when FLORA never answered). */
  errorCode?: string;
  /** Why the run failed, as FLORA said it (or the extension's explanation in English): what scripts and logs get. */
  errorMessage?: string;
  /**
   * The extension's own words, translated when shown: why the run failed when the extension decided it (a
   * refused create, a run FLORA no longer knows), or why it stopped following the run.
   */
  explanation?: Message;
  /**
   * Set when the extension stopped following the run before it finished: the run is no longer live (not
   * polled, not re-sent), keeps its status, runId and everything known, and "Resume Following" clears it.
   */
  stopped?: { reason: StopReason; at: number };
  /**
   * When the create request first failed in the current run of failures (ms since the epoch). Kept in the
   * record, so the bound on re-sending it holds across reloads and windows; cleared when FLORA answers or
   * refuses, and when the create is stopped, resumed or retried.
   */
  createFailingSince?: number;
  /**
   * When the user last resumed following the run (ms since the epoch): its bound on live time counts from
   * then. Kept in the record, so whichever window polls the run counts from the same moment.
   */
  followingSince?: number;
  /** What FLORA's replies about the run carried that could not be used, in English (capped). */
  replyNotes?: string[];
  /** The batch the run belongs to (one run per file, started together): its id, this run's place, its size. */
  batch?: RunBatch;
  /** Where this run's outputs were saved (a run saved into two workspaces has entries for both). */
  savedOutputs?: SavedOutput[];
  /** The window that started the run; it tells the user when the run finishes. */
  origin?: string;
  /** The user has seen (dismissed or acted on) the notification that the run finished. */
  acknowledged?: boolean;
  /**
   * Clear Finished Runs took the run out of every view while its charge still counts towards the daily
   * budget: the record is kept, emptied of its inputs and outputs (clearedRecord), until a day after it
   * finished, so clearing the history never makes room in the budget.
   */
  cleared?: boolean;
  /**
   * When this extension learned the run had finished (local clock, ms): what the daily budget dates its
   * charge by, since a server's completedAt may be skewed, or hostile (0 would date a charge out of today).
   */
  finishedLocallyAt?: number;
  /** Local clock, ms. */
  startedLocallyAt: number;
  createdAt?: number;
  startedAt?: number;
  completedAt?: number;
  updatedAt: number;
}

/** The record scripts and other extensions receive (the automation contract). */
export interface PublicRunRecord {
  runId: string;
  slug: string;
  status: RunStatus;
  progress: number;
  outputs?: RunOutput[];
  chargedCost?: number;
  errorCode?: string;
  errorMessage?: string;
  /** Set while a live run's polling has trouble: "retrying", "offline" or "paused" (waiting for a key). */
  connection?: Exclude<RunConnection, 'ok'>;
  /**
   * Set when the extension stopped following the run before it finished (status is the last one known);
   * `flora.resumeRun` follows it again. `message` says why, in English.
   */
  stopped?: { reason: StopReason; message?: string };
}

/**
 * The newest save of an output (into `folder` when given, a real path); the file may since have gone, which
 * only the disk can say.
 */
export function latestSavedOutput(record: RunRecord, index: number, folder?: string): SavedOutput | undefined {
  const entries = record.savedOutputs ?? [];
  for (let position = entries.length - 1; position >= 0; position--) {
    const entry = entries[position];
    if (entry && entry.index === index && (folder === undefined || path.dirname(entry.file) === folder)) return entry;
  }
  return undefined;
}

/**
 * Credits FLORA charged for runs that completed on the local calendar day of `now` (ms): every run in the
 * history, whichever window started it. A run without a completion time counts by its last update.
 */
export function creditsChargedToday(records: readonly RunRecord[], now: number): number {
  const start = new Date(now);
  start.setHours(0, 0, 0, 0);
  const end = new Date(start);
  end.setDate(end.getDate() + 1);
  let total = 0;
  for (const record of records) {
    const at = finishedAt(record);
    if (record.chargedCost !== undefined && at >= start.getTime() && at < end.getTime()) total += record.chargedCost;
  }
  return total;
}

/** A value a text input was given, and when (the start of the newest run that gave it, local clock, ms). */
export interface RecentTextValue {
  value: string;
  at: number;
}

/**
 * The distinct values a text input of the technique was given, newest first, at most `limit`: what the
 * prompt offers to pick from. Blank values are left out; values differing only in spacing at their ends
 * are one value (the newest spelling is kept), since FLORA would read them alike.
 */
export function recentTextValues(records: readonly RunRecord[], slug: string, inputId: string, limit = 5): RecentTextValue[] {
  const given: RecentTextValue[] = [];
  for (const record of records) {
    if (record.slug !== slug) continue;
    const input = record.inputs.find((candidate) => candidate.id === inputId && candidate.type === 'text');
    if (input && input.value.trim().length > 0) given.push({ value: input.value, at: record.startedLocallyAt });
  }
  given.sort((a, b) => b.at - a.at);
  const seen = new Set<string>();
  const recent: RecentTextValue[] = [];
  for (const entry of given) {
    if (recent.length >= limit) break;
    const key = entry.value.trim();
    if (seen.has(key)) continue;
    seen.add(key);
    recent.push(entry);
  }
  return recent;
}

/** Whether the run is being followed: unfinished and not stopped. */
export function isLive(record: RunRecord): boolean {
  if (record.stopped) return false;
  return record.status === 'creating' || record.status === 'pending' || record.status === 'running';
}

/** Completed or failed: what Clear Finished Runs removes. A stopped run has not finished, and is kept. */
export function isFinished(record: RunRecord): boolean {
  return record.status === 'completed' || record.status === 'failed';
}

/** `connection`: how this window's requests about the run are doing, when the runs store knows. */
export function toPublicRecord(record: RunRecord, connection?: RunConnection): PublicRunRecord {
  const status: RunStatus = record.status === 'creating' ? 'pending' : record.status;
  const result: PublicRunRecord = { runId: record.runId ?? '', slug: record.slug, status, progress: record.progress };
  if (record.outputs) result.outputs = record.outputs.map((output) => ({ ...output }));
  if (record.chargedCost !== undefined) result.chargedCost = record.chargedCost;
  if (record.errorCode !== undefined) result.errorCode = record.errorCode;
  if (record.errorMessage !== undefined) result.errorMessage = record.errorMessage;
  if (isLive(record) && connection && connection !== 'ok') result.connection = connection;
  if (record.stopped) {
    result.stopped = { reason: record.stopped.reason };
    if (record.explanation) result.stopped.message = englishText(record.explanation);
  }
  return result;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Two days: every charge of the local day (23 to 25 hours long) is kept, whatever the hour or the clock change. */
const BUDGET_KEPT_MS = 2 * DAY_MS;

/**
 * When the run finished, for the daily budget: when this extension learned it (finishedLocallyAt), else,
 * for a record written before that was kept (or by an older version in another window), FLORA's
 * completedAt when it lies between the run's start and its last change, else its last change.
 */
export function finishedAt(record: RunRecord): number {
  if (record.finishedLocallyAt !== undefined) return record.finishedLocallyAt;
  // FLORA's date only where it is possible: between the run's start here and its last change.
  const { completedAt } = record;
  return completedAt !== undefined && completedAt >= record.startedLocallyAt && completedAt <= record.updatedAt
    ? completedAt
    : record.updatedAt;
}

/**
 * Whether a finished run may still count towards today's budget (core/budget.ts): FLORA charged it, or it
 * completed (a completed run whose reply carried no readable charge counts at its quoted cost), in the last
 * two days. Such a run is never dropped from the history, by its limit or by Clear Finished Runs.
 */
export function countsTowardsBudget(record: RunRecord, now: number): boolean {
  if (record.chargedCost === undefined && !(record.status === 'completed' && record.runCost !== undefined)) return false;
  return now - finishedAt(record) < BUDGET_KEPT_MS;
}

/**
 * What Clear Finished Runs keeps of a run that still counts towards the budget: what the budget reads
 * (status, costs, when it finished, pinned in finishedLocallyAt) and the ids that name it, nothing the user asked to clear (inputs,
 * outputs, saved files, messages). `updatedAt` moves on so other windows adopt it.
 */
export function clearedRecord(record: RunRecord, now: number): RunRecord {
  const cleared: RunRecord = {
    localId: record.localId,
    idempotencyKey: record.idempotencyKey,
    runId: record.runId,
    slug: record.slug,
    techniqueName: record.techniqueName,
    inputs: [],
    status: record.status,
    progress: record.progress,
    startedLocallyAt: record.startedLocallyAt,
    finishedLocallyAt: finishedAt(record),
    updatedAt: Math.max(now, record.updatedAt + 1),
    cleared: true,
  };
  if (record.runCost !== undefined) cleared.runCost = record.runCost;
  if (record.chargedCost !== undefined) cleared.chargedCost = record.chargedCost;
  if (record.completedAt !== undefined) cleared.completedAt = record.completedAt;
  return cleared;
}

/**
 * Keeps at most `limit` records, newest first. Live runs are never dropped, whatever the limit: they are
 * runs the user is paying for; nor are stopped ones, which wait for the user to resume them; nor, with
 * `now`, runs that still count towards today's budget. A cleared record (clearedRecord) is kept only while
 * it counts, and takes no place of the limit: it is not shown.
 */
export function pruneHistory(records: readonly RunRecord[], limit: number, now?: number): RunRecord[] {
  const sorted = [...records].sort((a, b) => b.startedLocallyAt - a.startedLocallyAt);
  const counts = (record: RunRecord) => now !== undefined && countsTowardsBudget(record, now);
  const kept = (record: RunRecord) => isLive(record) || record.stopped !== undefined || counts(record);
  const finishedAllowed = Math.max(0, limit - sorted.filter((record) => !record.cleared && kept(record)).length);
  let finishedKept = 0;
  return sorted.filter((record) => {
    if (record.cleared) return counts(record);
    if (kept(record)) return true;
    finishedKept++;
    return finishedKept <= finishedAllowed;
  });
}

export function outputKind(type: string): 'image' | 'video' | 'text' | 'other' {
  if (type === 'imageUrl') return 'image';
  if (type === 'videoUrl') return 'video';
  if (type === 'text') return 'text';
  return 'other';
}

/** Why an output URL may not be loaded, linked, inserted, copied or downloaded. */
export type UrlProblem = 'invalid' | 'credentials' | 'scheme' | 'host';

/**
 * The one rule for output URLs, used by the preview, its CSP, Insert, Copy and every hop of a download:
 * https only, or an http(s) URL on the configured origin when it is the local sandbox; no credentials; a
 * host of plain letters, digits, dots and hyphens (or an IPv6 literal). javascript:, data:, file: and the
 * like never pass. Undefined when the URL passes.
 */
export function urlProblem(url: string, extraOrigins: readonly string[] = []): UrlProblem | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'invalid';
  }
  if (parsed.username || parsed.password) return 'credentials';
  const http = parsed.protocol === 'https:' || parsed.protocol === 'http:';
  if (!http || (parsed.protocol !== 'https:' && !extraOrigins.includes(parsed.origin))) return 'scheme';
  if (!isPlainHostname(parsed.hostname)) return 'host';
  return undefined;
}

export function isLoadableUrl(url: string, extraOrigins: readonly string[] = []): boolean {
  return urlProblem(url, extraOrigins) === undefined;
}

/**
 * The WHATWG parser lets `"`, `'`, `;`, `*`, `{` and the like through in host names (they are not
 * forbidden domain code points). No real host needs them, and in a CSP, an attribute or a snippet they
 * would end what they sit in.
 */
export function isPlainHostname(hostname: string): boolean {
  return /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])$/i.test(hostname);
}
