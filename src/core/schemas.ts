// The shapes of FLORA's replies (flora-api.md, steps 3–5 and "Errors"). Every reply goes through one of
// these before anything else reads it, so a server that changes shape produces a ProtocolError that says
// what was wrong instead of `undefined` flowing through the extension. Extra fields are tolerated.
// zod/mini: the same validation at a fraction of the classic API's size in the bundle.
import * as z from 'zod/mini';
import { RUN_STATUSES } from './model';

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
const timestamp = z.number().check(z.nonnegative());

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

export const techniqueDetailsSchema = z.object({
  techniqueId: nonEmpty(),
  name: z.string(),
  description: optional(z.string()),
  runCost: z.number().check(z.nonnegative()),
  inputs: z.array(techniqueInputSchema),
  outputs: optional(z.array(techniqueOutputSchema)),
});

export const runStatusSchema = z.enum(RUN_STATUSES);

export const createRunReplySchema = z.object({
  runId: nonEmpty(),
  createdAt: optional(timestamp),
  status: runStatusSchema,
  progress: optional(z.number()),
  pollUrl: optional(z.string()),
});

export const runOutputSchema = z.object({
  outputId: optional(z.string()),
  type: nonEmpty(),
  url: nonEmpty(),
});

export const runStatusReplySchema = z.object({
  runId: nonEmpty(),
  status: runStatusSchema,
  progress: optional(z.number()),
  createdAt: optional(timestamp),
  startedAt: optional(timestamp),
  completedAt: optional(timestamp),
  chargedCost: optional(z.number().check(z.nonnegative())),
  outputs: optional(z.array(runOutputSchema)),
  errorCode: optional(z.string()),
  errorMessage: optional(z.string()),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: nonEmpty(),
    message: optional(z.string()),
  }),
});

export type TechniqueInput = z.infer<typeof techniqueInputSchema>;
export type TechniqueOutput = z.infer<typeof techniqueOutputSchema>;
export type TechniqueDetails = z.infer<typeof techniqueDetailsSchema>;
export type CreateRunReply = z.infer<typeof createRunReplySchema>;
export type RunOutput = z.infer<typeof runOutputSchema>;
export type RunStatusReply = z.infer<typeof runStatusReplySchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;

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

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
