// The run record every view displays, and the rules for keeping a bounded history.
import type { Message } from './messages';
import { RUN_STATUSES } from './model';
import type { RunInput, RunOutput, RunStatus } from './schemas';

/** "creating": the intent is recorded but FLORA has not answered the create request yet. */
export type RunState = 'creating' | RunStatus;

/** How the connection to FLORA is doing for a live run (shown in the views; not persisted meaningfully). */
export type RunConnection = 'ok' | 'retrying' | 'offline' | 'paused';

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
  errorCode?: string;
  /** FLORA's message, or the extension's English explanation: what scripts and logs get. */
  errorMessage?: string;
  /** When the extension, not FLORA, explained the failure: the explanation, translated when shown. */
  errorText?: Message;
  connection?: RunConnection;
  /** Why polling has trouble, in the user's language (never stored). */
  connectionMessage?: string;
  /** The window that started the run; it tells the user when the run finishes. */
  origin?: string;
  /** The user has seen (dismissed or acted on) the notification that the run finished. */
  acknowledged?: boolean;
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
}

export function isLive(record: RunRecord): boolean {
  return record.status === 'creating' || record.status === 'pending' || record.status === 'running';
}

export function toPublicRecord(record: RunRecord): PublicRunRecord {
  const status: RunStatus = record.status === 'creating' ? 'pending' : record.status;
  const result: PublicRunRecord = { runId: record.runId ?? '', slug: record.slug, status, progress: record.progress };
  if (record.outputs) result.outputs = record.outputs.map((output) => ({ ...output }));
  if (record.chargedCost !== undefined) result.chargedCost = record.chargedCost;
  if (record.errorCode !== undefined) result.errorCode = record.errorCode;
  if (record.errorMessage !== undefined) result.errorMessage = record.errorMessage;
  if (isLive(record) && record.connection && record.connection !== 'ok') result.connection = record.connection;
  return result;
}

/**
 * Keeps at most `limit` records, newest first. Live runs are never dropped, whatever the limit: they are
 * runs the user is paying for.
 */
export function pruneHistory(records: readonly RunRecord[], limit: number): RunRecord[] {
  const sorted = [...records].sort((a, b) => b.startedLocallyAt - a.startedLocallyAt);
  const finishedAllowed = Math.max(0, limit - sorted.filter(isLive).length);
  let finishedKept = 0;
  return sorted.filter((record) => {
    if (isLive(record)) return true;
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

/**
 * Whether the preview may load or link a URL: https only, or the configured origin when it is the local
 * sandbox. javascript:, data:, file: and the like are never loaded.
 */
export function isLoadableUrl(url: string, extraOrigins: readonly string[] = []): boolean {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) return false;
    return parsed.protocol === 'https:' || extraOrigins.includes(parsed.origin);
  } catch {
    return false;
  }
}

/** Whether a value read from storage is a run record this version can use. */
export function isRunRecord(value: unknown): value is RunRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<RunRecord>;
  return (
    typeof record.localId === 'string' &&
    typeof record.idempotencyKey === 'string' &&
    typeof record.slug === 'string' &&
    typeof record.techniqueName === 'string' &&
    typeof record.status === 'string' &&
    ['creating', ...RUN_STATUSES].includes(record.status) &&
    typeof record.progress === 'number' &&
    typeof record.startedLocallyAt === 'number' &&
    typeof record.updatedAt === 'number' &&
    Array.isArray(record.inputs)
  );
}
