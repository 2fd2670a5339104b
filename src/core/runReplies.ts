// The run replies of FLORA's document (steps 4 and 5), read by hand rather than with a schema: a run may
// be paid for, so one field off the document must never cost its runId or its outputs. Every reader takes
// each field that is usable and notes, in English for the log and the run record, each one that is not.
// Extra fields are tolerated everywhere. Free of zod, and loaded with the client (never at activation).
import { RUN_STATUSES, type RunStatus } from './model';
import { truncate } from './text';
import { describeValue, isObject } from './values';

/**
 * What a reader made of a reply: the value when the reply was usable at all, and, in English for the log
 * and the run record, every field it could not use. `value` is undefined only when nothing could be used.
 */
export type Reading<T> = { value: T; notes: string[] } | { value: undefined; notes: string[] };

/** One output of a run. `type` is kept as FLORA sent it; the views treat types they do not know as files. */
export interface RunOutput {
  outputId?: string;
  type: string;
  url: string;
}

/** What a create reply and a poll reply share. */
export interface RunReplyFields {
  runId: string;
  /** "pending" when FLORA sent no status or one the document does not list (see `unknownStatus`). */
  status: RunStatus;
  /**
   * Set when FLORA sent no status ("missing") or one the document does not list (that status, shortened):
   * the run exists and is treated as still running, for a bounded time.
   */
  unknownStatus?: string;
  progress?: number;
  createdAt?: number;
  /** What the reply carried that could not be used, in English. */
  notes?: string[];
}

export interface CreateRunReply extends RunReplyFields {
  pollUrl?: string;
}

export interface RunStatusReply extends RunReplyFields {
  startedAt?: number;
  completedAt?: number;
  chargedCost?: number;
  outputs?: RunOutput[];
  errorCode?: string;
  errorMessage?: string;
}

/**
 * What is kept of a reply. A completed run with 10 000 outputs is recorded, but only its first outputs are
 * kept (the journal, the tree and the preview stay small); an output URL is kept whole or not at all,
 * because a shortened URL points somewhere else.
 */
export const REPLY_LIMITS = {
  /** Longer runIds cannot be part of a request path; a reply with one has no usable runId. */
  maxRunIdLength: 1024,
  maxUrlLength: 16 * 1024,
  maxOutputs: 1000,
  /** errorMessage and other prose: shortened, with a note. */
  maxTextLength: 4000,
  /** outputId, type, errorCode, an unknown status: names, shortened, with a note. */
  maxNameLength: 200,
  /** Per reply, and per run record (see mergeReplyNotes). */
  maxNotes: 20,
  maxNoteLength: 300,
} as const;

/** Collects notes, at most REPLY_LIMITS.maxNotes of them, each shortened; the rest are counted. */
export class Notes {
  private readonly kept: string[] = [];
  private dropped = 0;

  add(note: string): void {
    if (this.kept.length < REPLY_LIMITS.maxNotes) this.kept.push(truncate(note, REPLY_LIMITS.maxNoteLength));
    else this.dropped++;
  }

  list(): string[] {
    return this.dropped > 0 ? [...this.kept, `${this.dropped} more fields could not be used`] : [...this.kept];
  }
}

/**
 * The notes a run record keeps: those it had, then the new ones not seen before, at most
 * REPLY_LIMITS.maxNotes in all (a run polled for hours must not grow its record with every reply).
 */
export function mergeReplyNotes(previous: readonly string[] | undefined, added: readonly string[] | undefined): string[] | undefined {
  if (!added || added.length === 0) return previous ? [...previous] : undefined;
  const merged = [...(previous ?? [])];
  for (const note of added) {
    if (merged.length >= REPLY_LIMITS.maxNotes) break;
    if (!merged.includes(note)) merged.push(note);
  }
  return merged;
}

function readRunId(value: unknown, notes: Notes): string | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    notes.add(`runId: expected a non-empty string${value === undefined ? ', but it is missing' : `, got ${describeValue(value)}`}`);
    return undefined;
  }
  if (value.length > REPLY_LIMITS.maxRunIdLength) {
    notes.add(`runId: ${value.length} characters long, more than ${REPLY_LIMITS.maxRunIdLength}`);
    return undefined;
  }
  return value;
}

function readStatus(value: unknown, notes: Notes): { status: RunStatus; unknownStatus?: string } {
  if (typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value)) return { status: value as RunStatus };
  if (value === undefined || value === null) {
    notes.add('status: missing; the run is treated as still running');
    return { status: 'pending', unknownStatus: 'missing' };
  }
  notes.add(`status: ${describeValue(value)} is not one of ${RUN_STATUSES.join('|')}; the run is treated as still running`);
  return {
    status: 'pending',
    unknownStatus: typeof value === 'string' ? truncate(value, REPLY_LIMITS.maxNameLength) : describeValue(value),
  };
}

/** A time in ms since the epoch: a non-negative number, or an ISO-8601 date string, which some servers send. */
function readTimestamp(value: unknown, field: string, notes: Notes): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && value >= 0 && value <= MAX_TIME_MS) return value;
  if (typeof value === 'string' && ISO_DATE.test(value)) {
    const parsed = Date.parse(value);
    if (Number.isFinite(parsed) && parsed >= 0) return parsed;
  }
  notes.add(`${field}: expected a time in ms or an ISO-8601 date, got ${describeValue(value)}`);
  return undefined;
}

/** The largest time a Date can hold. */
const MAX_TIME_MS = 8.64e15;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function readNumber(value: unknown, field: string, notes: Notes, options: { nonNegative?: boolean } = {}): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && (!options.nonNegative || value >= 0)) return value;
  notes.add(`${field}: expected ${options.nonNegative ? 'a number of at least 0' : 'a number'}, got ${describeValue(value)}`);
  return undefined;
}

/** A string field: absent when null or missing, dropped with a note when not a string, shortened past `limit`. */
export function readText(value: unknown, field: string, notes: Notes, limit: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    notes.add(`${field}: expected a string, got ${describeValue(value)}`);
    return undefined;
  }
  if (value.length > limit) {
    notes.add(`${field}: shortened from ${value.length} to ${limit} characters`);
    return truncate(value, limit);
  }
  return value;
}

function readUrl(value: unknown, field: string, notes: Notes): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim().length === 0) {
    notes.add(`${field}: expected a URL, got ${describeValue(value)}`);
    return undefined;
  }
  if (value.length > REPLY_LIMITS.maxUrlLength) {
    notes.add(`${field}: ${value.length} characters long, more than ${REPLY_LIMITS.maxUrlLength}`);
    return undefined;
  }
  return value;
}

function readOutput(value: unknown, index: number, notes: Notes): RunOutput | undefined {
  const field = `outputs.${index}`;
  if (!isObject(value)) {
    notes.add(`${field}: expected an object, got ${describeValue(value)}; that output was left out`);
    return undefined;
  }
  const url = readUrl(value.url, `${field}.url`, notes);
  if (url === undefined) {
    if (value.url === undefined || value.url === null) notes.add(`${field}.url: missing; that output was left out`);
    else notes.add(`${field}: left out, its url is unusable`);
    return undefined;
  }
  let type = readText(value.type, `${field}.type`, notes, REPLY_LIMITS.maxNameLength);
  if (!type) {
    if (type === '' || value.type === undefined || value.type === null) notes.add(`${field}.type: missing; kept as "unknown"`);
    type = 'unknown';
  }
  const output: RunOutput = { type, url };
  const outputId = readText(value.outputId, `${field}.outputId`, notes, REPLY_LIMITS.maxNameLength);
  if (outputId !== undefined && outputId.length > 0) output.outputId = outputId;
  return output;
}

function readOutputs(value: unknown, notes: Notes): RunOutput[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    notes.add(`outputs: expected an array, got ${describeValue(value)}`);
    return undefined;
  }
  const outputs: RunOutput[] = [];
  let usable = 0;
  value.forEach((entry: unknown, index) => {
    // Past the limit the rest are only counted: reading them would note every one of 10 000 entries.
    if (outputs.length >= REPLY_LIMITS.maxOutputs) {
      if (isObject(entry) && typeof entry.url === 'string' && entry.url.trim().length > 0) usable++;
      return;
    }
    const output = readOutput(entry, index, notes);
    if (output) {
      outputs.push(output);
      usable++;
    }
  });
  if (usable > outputs.length) notes.add(`outputs: kept the first ${outputs.length} of ${usable} outputs`);
  return outputs;
}

/**
 * Reads the fields a create reply and a poll reply share. `runId` is empty when it is unusable; the other
 * fields are still read, so the notes of an unreadable reply name every bad field.
 */
function readRunFields(json: Record<string, unknown>, notes: Notes): RunReplyFields {
  const runId = readRunId(json.runId, notes) ?? '';
  const { status, unknownStatus } = readStatus(json.status, notes);
  const reply: RunReplyFields = { runId, status };
  if (unknownStatus !== undefined) reply.unknownStatus = unknownStatus;
  const progress = readNumber(json.progress, 'progress', notes);
  if (progress !== undefined) reply.progress = progress;
  const createdAt = readTimestamp(json.createdAt, 'createdAt', notes);
  if (createdAt !== undefined) reply.createdAt = createdAt;
  return reply;
}

function notAnObject(json: unknown): Reading<never> {
  return { value: undefined, notes: [`(reply): expected an object, got ${describeValue(json)}`] };
}

/** Reads a create reply (step 4). Only a reply without a usable runId is unreadable. */
export function readCreateRunReply(json: unknown): Reading<CreateRunReply> {
  if (!isObject(json)) return notAnObject(json);
  const notes = new Notes();
  const reply: CreateRunReply = readRunFields(json, notes);
  const pollUrl = readUrl(json.pollUrl, 'pollUrl', notes);
  if (pollUrl !== undefined) reply.pollUrl = pollUrl;
  return finish(reply, notes);
}

/**
 * Reads a poll reply (step 5): every field that is usable, a note for each that is not. Only a reply without
 * a usable runId (or a body that is not an object) is unreadable; an output that parsed is never dropped
 * because another field, or another output, is off the document.
 */
export function readRunStatusReply(json: unknown): Reading<RunStatusReply> {
  if (!isObject(json)) return notAnObject(json);
  const notes = new Notes();
  const reply: RunStatusReply = readRunFields(json, notes);
  const startedAt = readTimestamp(json.startedAt, 'startedAt', notes);
  if (startedAt !== undefined) reply.startedAt = startedAt;
  const completedAt = readTimestamp(json.completedAt, 'completedAt', notes);
  if (completedAt !== undefined) reply.completedAt = completedAt;
  const chargedCost = readNumber(json.chargedCost, 'chargedCost', notes, { nonNegative: true });
  if (chargedCost !== undefined) reply.chargedCost = chargedCost;
  const outputs = readOutputs(json.outputs, notes);
  if (outputs !== undefined) reply.outputs = outputs;
  const errorCode = readText(json.errorCode, 'errorCode', notes, REPLY_LIMITS.maxNameLength);
  if (errorCode !== undefined) reply.errorCode = errorCode;
  const errorMessage = readText(json.errorMessage, 'errorMessage', notes, REPLY_LIMITS.maxTextLength);
  if (errorMessage !== undefined) reply.errorMessage = errorMessage;
  return finish(reply, notes);
}

/** The reading of a reply: unreadable without a runId, else the reply with its notes. */
function finish<T extends RunReplyFields>(reply: T, notes: Notes): Reading<T> {
  const list = notes.list();
  if (reply.runId === '') return { value: undefined, notes: list };
  if (list.length > 0) reply.notes = list;
  return { value: reply, notes: list };
}
