// The shapes of FLORA's technique details and error bodies (flora-api.md, step 3 and "Errors"), checked
// with zod. Run replies are read by hand, tolerantly, in runReplies.ts: a run may be paid for, so one field
// off the document must never cost its runId or its outputs. Extra fields are tolerated everywhere.
// zod/mini: the same validation at a fraction of the classic API's size in the bundle.
import * as z from 'zod/mini';
import { Notes, readText, REPLY_LIMITS, type Reading } from './runReplies';
import { describeValue, isObject } from './values';

export { clampProgress, INPUT_TYPES, isFinalStatus, isInputType, RUN_STATUSES } from './model';
export type { InputType, RunInput, RunStatus } from './model';

/** Servers written in other languages send `null` for absent fields; treat it as absent. */
function optional<T extends z.ZodMiniType>(schema: T) {
  return z.optional(
    z.pipe(
      z.nullish(schema),
      z.transform((value: z.infer<T> | null | undefined) => value ?? undefined),
    ),
  );
}

const nonEmpty = () => z.string().check(z.minLength(1));

export const techniqueInputSchema = z.object({
  id: nonEmpty(),
  name: optional(z.string()),
  // Kept as a string so a technique with a type this extension does not know yet still loads; the
  // prompt flow then explains that input cannot be given from the editor.
  type: nonEmpty(),
});

export const techniqueOutputSchema = z.object({
  id: nonEmpty(),
  name: optional(z.string()),
  type: nonEmpty(),
});

/**
 * What a run needs of a technique, checked strictly: a run sent with a guessed input would be refused or
 * charged for the wrong thing. The description and the outputs only inform, so readTechniqueDetails reads
 * them tolerantly beside this schema.
 */
export const techniqueDetailsSchema = z.object({
  techniqueId: nonEmpty(),
  name: z.string(),
  runCost: z.number().check(z.nonnegative()),
  inputs: z.array(techniqueInputSchema),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: nonEmpty(),
    message: optional(z.string()),
  }),
});

export type TechniqueInput = z.infer<typeof techniqueInputSchema>;
export type TechniqueOutput = z.infer<typeof techniqueOutputSchema>;
export type TechniqueDetails = z.infer<typeof techniqueDetailsSchema> & {
  description?: string;
  outputs?: TechniqueOutput[];
};
export type ErrorBody = z.infer<typeof errorBodySchema>;

/**
 * Reads technique details: what a run needs (id, name, cost, inputs) through techniqueDetailsSchema,
 * strictly; a bad description or list of outputs is dropped (a bad output entry alone) with a note.
 */
export function readTechniqueDetails(json: unknown): Reading<TechniqueDetails> {
  const parsed = techniqueDetailsSchema.safeParse(json, { reportInput: true });
  if (!parsed.success || !isObject(json)) {
    return { value: undefined, notes: [parsed.success ? '(reply): expected an object' : describeSchemaError(parsed.error)] };
  }
  const notes = new Notes();
  const details: TechniqueDetails = { ...parsed.data };
  const description = readText(json.description, 'description', notes, REPLY_LIMITS.maxTextLength);
  if (description !== undefined) details.description = description;
  if (Array.isArray(json.outputs)) {
    details.outputs = [];
    json.outputs.forEach((entry: unknown, index) => {
      const output = techniqueOutputSchema.safeParse(entry, { reportInput: true });
      if (output.success) details.outputs?.push(output.data);
      else notes.add(`outputs.${index}: ${describeSchemaError(output.error)}; that output was left out`);
    });
  } else if (json.outputs !== undefined && json.outputs !== null) {
    notes.add(`outputs: expected an array, got ${describeValue(json.outputs)}`);
  }
  return { value: details, notes: notes.list() };
}

/**
 * Describes a zod failure in one line a person can read in the log: the path and what was expected,
 * e.g. `status: expected one of "pending"|"running"|…, got "done"`.
 */
export function describeSchemaError(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(reply)'}: ${describeIssue(issue)}`)
    .join('; ');
}

/** zod/mini carries no message catalogue; these say what was expected, which is what a log reader needs. */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}${issue.input === undefined ? ', but it is missing' : `, got ${describeValue(issue.input)}`}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((value) => JSON.stringify(value)).join('|')}${issue.input === undefined ? '' : `, got ${describeValue(issue.input)}`}`;
    case 'too_small':
      return issue.origin === 'string'
        ? 'must not be empty'
        : `must be at least ${String(issue.minimum)}${issue.input === undefined ? '' : `, got ${describeValue(issue.input)}`}`;
    default:
      return issue.message;
  }
}
