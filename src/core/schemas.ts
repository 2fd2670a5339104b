// The shapes of FLORA's replies (flora-api.md, steps 3–5 and "Errors"). Every reply goes through one of
// these before anything else reads it, so a server that changes shape produces a ProtocolError that says
// what was wrong instead of `undefined` flowing through the extension. Extra fields are tolerated.
import { z } from 'zod';
import { RUN_STATUSES } from './model';

export { clampProgress, INPUT_TYPES, isFinalStatus, isInputType, RUN_STATUSES } from './model';
export type { InputType, RunInput, RunStatus } from './model';

/** Servers written in other languages send `null` for absent fields; treat it as absent. */
function optional<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .transform((value) => value ?? undefined)
    .optional();
}

const timestamp = z.number().finite().nonnegative();

export const techniqueInputSchema = z.object({
  id: z.string().min(1),
  name: optional(z.string()),
  // Kept as a string so a technique with a type this extension does not know yet still loads; the
  // prompt flow then explains that input cannot be given from the editor.
  type: z.string().min(1),
});

export const techniqueOutputSchema = z.object({
  id: z.string().min(1),
  name: optional(z.string()),
  type: z.string().min(1),
});

export const techniqueDetailsSchema = z.object({
  techniqueId: z.string().min(1),
  name: z.string(),
  description: optional(z.string()),
  runCost: z.number().finite().nonnegative(),
  inputs: z.array(techniqueInputSchema),
  outputs: optional(z.array(techniqueOutputSchema)),
});

export const runStatusSchema = z.enum(RUN_STATUSES);

export const createRunReplySchema = z.object({
  runId: z.string().min(1),
  createdAt: optional(timestamp),
  status: runStatusSchema,
  progress: optional(z.number().finite()),
  pollUrl: optional(z.string()),
});

export const runOutputSchema = z.object({
  outputId: optional(z.string()),
  type: z.string().min(1),
  url: z.string().min(1),
});

export const runStatusReplySchema = z.object({
  runId: z.string().min(1),
  status: runStatusSchema,
  progress: optional(z.number().finite()),
  createdAt: optional(timestamp),
  startedAt: optional(timestamp),
  completedAt: optional(timestamp),
  chargedCost: optional(z.number().finite().nonnegative()),
  outputs: optional(z.array(runOutputSchema)),
  errorCode: optional(z.string()),
  errorMessage: optional(z.string()),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().min(1),
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
export function describeSchemaError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(reply)'}: ${issue.message}`)
    .join('; ');
}
