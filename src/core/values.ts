// Telling apart and describing values whose shape nobody vouches for (FLORA's replies, the run journal):
// for the checks, and for the notes that say, in English for the log, what could not be used.
import { truncate } from './text';

/** A plain object, as JSON.parse makes one: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` is one of `choices`, narrowed to their type. */
export function isOneOf<T extends string>(choices: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (choices as readonly string[]).includes(value);
}

/**
 * A value as a note names it: a string quoted (and shortened, so a megabyte of text does not reach the
 * log), a number or boolean as itself, anything else by its kind.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(truncate(value, 40));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
