// What a run journal entry must look like before any view sees it. The journal is a folder of files any
// process (another window, an older or newer version of the extension, a person with an editor) can
// write, so every field and every nested part is checked: `outputs: "x"` must not reach the Runs tree.
//
// Plain checks rather than zod: the journal is read at activation, and zod (the schemas of FLORA's
// replies) is kept unloaded until the first request, like everything model.ts keeps out of activation.
//
// Tolerant where it costs nothing: fields this version does not know are kept as they are (a newer
// version may have written them), and an optional field that is unusable is dropped (or shortened)
// with a note, so a paid run with good outputs survives a bad explanation. A record whose identity or
// required parts are unusable is refused whole.
import { MESSAGE_TEMPLATES, type Message, type MessageArgument } from './messages';
import { INPUT_TYPES } from './model';
import { RUN_STATES, STOP_REASONS, type RunRecord } from './runs';
import { truncate } from './text';
import { describeValue, isObject, isOneOf } from './values';

/**
 * Bounds of what the journal accepts. They are wider than what the reply readers keep (REPLY_LIMITS in
 * schemas.ts), so a record this extension wrote always reads back; they stop a hostile or damaged file
 * from filling the views with megabytes of text.
 */
const RUN_RECORD_LIMITS = {
  /** Ids, slugs, codes, types: refused (or, when optional, dropped) when longer. */
  maxNameLength: 4_096,
  /** URLs are kept whole or not at all: a shortened URL points somewhere else. */
  maxUrlLength: 65_536,
  /** Prose (technique name, error message, notes): shortened when longer. */
  maxTextLength: 65_536,
  /** A text input can be a long prompt. */
  maxInputValueLength: 1_048_576,
  maxInputs: 1_000,
  maxOutputs: 100_000,
  maxNotes: 1_000,
  maxMessageDepth: 4,
  maxMessageArguments: 64,
} as const;

/**
 * The record when it is usable, with every repair made to it; `problems` says, in English for the log,
 * what was dropped or shortened, or why the record was refused.
 */
export type RunRecordReading = { record: RunRecord; problems: string[] } | { record: undefined; problems: string[] };

type Fields = Record<string, unknown>;

/** The keys of T that may be left out. */
type OptionalKeys<T> = { [K in keyof T]-?: Partial<Pick<T, K>> extends Pick<T, K> ? K : never }[keyof T];

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= RUN_RECORD_LIMITS.maxNameLength;
}

function isUrl(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= RUN_RECORD_LIMITS.maxUrlLength;
}

/** A saved file's absolute path: as long as a URL may be, never empty. */
function isPath(value: unknown): value is string {
  return isUrl(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isTimestamp(value: unknown): value is number {
  return isFiniteNumber(value) && value >= 0;
}

function isMessageArgument(value: unknown, depth: number): value is MessageArgument {
  if (typeof value === 'string') return value.length <= RUN_RECORD_LIMITS.maxTextLength;
  if (typeof value === 'number') return Number.isFinite(value);
  return isWellFormedMessage(value, depth + 1);
}

/** Stricter than messages.ts's isMessage: every argument, nested messages included, is checked. */
function isWellFormedMessage(value: unknown, depth = 0): value is Message {
  if (depth > RUN_RECORD_LIMITS.maxMessageDepth || !isObject(value)) return false;
  const { id, args } = value;
  return (
    typeof id === 'string' &&
    Object.hasOwn(MESSAGE_TEMPLATES, id) &&
    Array.isArray(args) &&
    args.length <= RUN_RECORD_LIMITS.maxMessageArguments &&
    args.every((argument) => isMessageArgument(argument, depth))
  );
}

/** Why an input is unusable, or undefined when it is a RunInput. */
function inputProblem(value: unknown): string | undefined {
  if (!isObject(value)) return `expected an object, got ${describeValue(value)}`;
  if (!isName(value.id)) return 'id: expected a non-empty string';
  if (!isOneOf(INPUT_TYPES, value.type)) {
    return `type: expected one of ${INPUT_TYPES.join('|')}`;
  }
  if (typeof value.value !== 'string' || value.value.length > RUN_RECORD_LIMITS.maxInputValueLength) {
    return `value: expected a string of at most ${RUN_RECORD_LIMITS.maxInputValueLength} characters`;
  }
  return undefined;
}

/** Why an output is unusable, or undefined when it is a RunOutput. */
function outputProblem(value: unknown): string | undefined {
  if (!isObject(value)) return `expected an object, got ${describeValue(value)}`;
  if (!isName(value.type)) return `type: expected a non-empty string, got ${describeValue(value.type)}`;
  if (!isUrl(value.url))
    return `url: expected a non-empty string of at most ${RUN_RECORD_LIMITS.maxUrlLength} characters, got ${describeValue(value.url)}`;
  if (value.outputId !== undefined && !isName(value.outputId))
    return `outputId: expected a non-empty string, got ${describeValue(value.outputId)}`;
  return undefined;
}

/** An optional field's check: the value to keep, or undefined to drop it. */
type OptionalCheck = (value: unknown, record: Fields, problems: string[]) => unknown;

function keepIf(test: (value: unknown) => boolean, expected: string): OptionalCheck {
  return (value, _record, problems) => {
    if (test(value)) return value;
    problems.push(`${expected}, got ${describeValue(value)}; dropped`);
    return undefined;
  };
}

function prose(expected: string): OptionalCheck {
  return (value, _record, problems) => {
    if (typeof value !== 'string') {
      problems.push(`${expected}, got ${describeValue(value)}; dropped`);
      return undefined;
    }
    if (value.length > RUN_RECORD_LIMITS.maxTextLength) problems.push(`shortened from ${value.length} characters`);
    return truncate(value, RUN_RECORD_LIMITS.maxTextLength);
  };
}

/**
 * Every optional field of RunRecord and what makes it usable (the `satisfies` makes a field added to
 * RunRecord without a check here a compile error). A field not listed here is one this version does not
 * know: kept unchecked, for the version that wrote it.
 */
const OPTIONAL_FIELDS = {
  pollUrl: keepIf(isUrl, 'expected a URL'),
  runCost: keepIf((value) => isTimestamp(value), 'expected a number of at least 0'),
  chargedCost: keepIf((value) => isTimestamp(value), 'expected a number of at least 0'),
  outputs: (value, _record, problems) => {
    if (!Array.isArray(value)) {
      problems.push(`expected an array, got ${describeValue(value)}; dropped`);
      return undefined;
    }
    // Every usable output is kept: each one may be a paid result.
    const kept: unknown[] = [];
    value.forEach((output: unknown, index) => {
      const problem = outputProblem(output);
      if (problem) problems.push(`[${index}].${problem}; dropped`);
      else if (kept.length < RUN_RECORD_LIMITS.maxOutputs) kept.push(output);
    });
    if (kept.length === RUN_RECORD_LIMITS.maxOutputs && value.length > kept.length) {
      problems.push(`more than ${RUN_RECORD_LIMITS.maxOutputs}; the first ${RUN_RECORD_LIMITS.maxOutputs} usable ones kept`);
    }
    return kept;
  },
  errorCode: keepIf(isName, 'expected a non-empty string'),
  errorMessage: prose('expected a string'),
  explanation: keepIf((value) => isWellFormedMessage(value), 'expected a message of this version'),
  stopped: (value, record, problems) => {
    if (isObject(value) && isOneOf(STOP_REASONS, value.reason) && isTimestamp(value.at)) return value;
    // Present but unreadable: stopping is the safe reading (nothing is polled or re-sent until the user
    // chooses Resume), so the run stays stopped rather than becoming live again.
    problems.push(`expected { reason, at }, got ${describeValue(value)}; kept as stopped`);
    const reason = isObject(value) && isOneOf(STOP_REASONS, value.reason) ? value.reason : 'unreadable';
    const at = isObject(value) && isTimestamp(value.at) ? value.at : (record.updatedAt as number);
    return { reason, at };
  },
  replyNotes: (value, _record, problems) => {
    if (!Array.isArray(value)) {
      problems.push(`expected an array of strings, got ${describeValue(value)}; dropped`);
      return undefined;
    }
    const notes = value.filter((note): note is string => typeof note === 'string').slice(0, RUN_RECORD_LIMITS.maxNotes);
    if (notes.length !== value.length) problems.push('only the first strings kept');
    return notes.map((note) => truncate(note, RUN_RECORD_LIMITS.maxTextLength));
  },
  batch: keepIf(
    (value) =>
      isObject(value) &&
      isName(value.id) &&
      Number.isInteger(value.index) &&
      Number.isInteger(value.size) &&
      (value.index as number) >= 0 &&
      (value.index as number) < (value.size as number),
    'expected { id, index, size }',
  ),
  savedOutputs: (value, _record, problems) => {
    if (!Array.isArray(value)) {
      problems.push(`expected an array, got ${describeValue(value)}; dropped`);
      return undefined;
    }
    const kept = (value as unknown[]).filter(
      (entry) =>
        isObject(entry) &&
        Number.isInteger(entry.index) &&
        (entry.index as number) >= 0 &&
        isPath(entry.file) &&
        isPath(entry.provenance) &&
        isTimestamp(entry.at),
    );
    if (kept.length !== value.length) problems.push(`${value.length - kept.length} unreadable entries dropped`);
    return kept.slice(0, RUN_RECORD_LIMITS.maxOutputs);
  },
  origin: keepIf(isName, 'expected a non-empty string'),
  acknowledged: keepIf((value) => typeof value === 'boolean', 'expected true or false'),
  cleared: keepIf((value) => typeof value === 'boolean', 'expected true or false'),
  createdAt: keepIf(isTimestamp, 'expected a time'),
  startedAt: keepIf(isTimestamp, 'expected a time'),
  completedAt: keepIf(isTimestamp, 'expected a time'),
  finishedLocallyAt: keepIf(isTimestamp, 'expected a time'),
  createFailingSince: keepIf(isTimestamp, 'expected a time'),
  followingSince: keepIf(isTimestamp, 'expected a time'),
} satisfies Record<OptionalKeys<RunRecord>, OptionalCheck>;

/** Why the required part of a record is unusable, or undefined when it is usable. */
function requiredProblem(value: Fields): string | undefined {
  for (const field of ['localId', 'idempotencyKey', 'slug'] as const) {
    if (!isName(value[field]))
      return `${field}: expected a non-empty string of at most ${RUN_RECORD_LIMITS.maxNameLength} characters, got ${describeValue(value[field])}`;
  }
  if (typeof value.techniqueName !== 'string') return `techniqueName: expected a string, got ${describeValue(value.techniqueName)}`;
  if (!isOneOf(RUN_STATES, value.status)) return `status: expected one of ${RUN_STATES.join('|')}`;
  // An empty runId is no runId; any other non-string is not one this extension wrote.
  if (value.runId !== undefined && value.runId !== null && value.runId !== '' && !isName(value.runId)) {
    return `runId: expected a string of at most ${RUN_RECORD_LIMITS.maxNameLength} characters, got ${describeValue(value.runId)}`;
  }
  for (const field of ['progress', 'startedLocallyAt', 'updatedAt'] as const) {
    if (!isFiniteNumber(value[field])) return `${field}: expected a number, got ${describeValue(value[field])}`;
  }
  if (!Array.isArray(value.inputs)) return `inputs: expected an array, got ${describeValue(value.inputs)}`;
  if (value.inputs.length > RUN_RECORD_LIMITS.maxInputs) return `inputs: more than ${RUN_RECORD_LIMITS.maxInputs}`;
  for (const [index, input] of (value.inputs as unknown[]).entries()) {
    const problem = inputProblem(input);
    if (problem) return `inputs[${index}]: ${problem}`;
  }
  return undefined;
}

/** Reads a value from the journal as a run record: repaired where that costs nothing, refused otherwise. */
export function readRunRecord(value: unknown): RunRecordReading {
  if (!isObject(value)) return { record: undefined, problems: [`expected a run record, got ${describeValue(value)}`] };
  const refused = requiredProblem(value);
  if (refused) return { record: undefined, problems: [refused] };
  const problems: string[] = [];
  // A spread defines own properties, so a "__proto__" key in the file stays a plain (unused) field.
  const record: Fields = { ...value };
  // Journals written before the field was named for what it holds call the extension's explanation errorText.
  if (Object.hasOwn(record, 'errorText')) {
    if (!Object.hasOwn(record, 'explanation')) record.explanation = record.errorText;
    delete record.errorText;
  }
  if (record.runId === null || record.runId === '') {
    problems.push('runId: empty; dropped');
    delete record.runId;
  }
  if (typeof record.techniqueName === 'string' && record.techniqueName.length > RUN_RECORD_LIMITS.maxTextLength) {
    problems.push(`techniqueName: shortened from ${record.techniqueName.length} characters`);
    record.techniqueName = truncate(record.techniqueName, RUN_RECORD_LIMITS.maxTextLength);
  }
  const progress = record.progress as number;
  if (progress < 0 || progress > 100) {
    problems.push(`progress: ${progress} is outside 0–100; clamped`);
    record.progress = Math.min(100, Math.max(0, progress));
  }
  // Where a local input came from is shown, never used: one that cannot be read is dropped, the input kept.
  record.inputs = (record.inputs as Array<Record<string, unknown>>).map((input, index) => {
    if (input.localPath === undefined) return input;
    if (typeof input.localPath === 'string' && input.localPath.length <= RUN_RECORD_LIMITS.maxInputValueLength) return input;
    problems.push(`inputs[${index}].localPath: expected a string; dropped`);
    const { localPath: _dropped, ...kept } = input;
    return kept;
  });
  for (const [field, check] of Object.entries(OPTIONAL_FIELDS)) {
    if (!Object.hasOwn(record, field) || record[field] === undefined) continue;
    const fieldProblems: string[] = [];
    const kept = check(record[field], record, fieldProblems);
    if (kept === undefined) delete record[field];
    else record[field] = kept;
    problems.push(...fieldProblems.map((problem) => `${field}${problem.startsWith('[') ? '' : ': '}${problem}`));
  }
  return { record: record as unknown as RunRecord, problems };
}

/** Whether a value is a run record exactly as this version writes it: usable with nothing to repair. */
export function isWellFormedRunRecord(value: unknown): value is RunRecord {
  const reading = readRunRecord(value);
  return reading.record !== undefined && reading.problems.length === 0;
}
