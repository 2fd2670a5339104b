/** The reply schemas: what they tolerate, what they refuse, and how a refusal reads. */
import * as assert from 'node:assert/strict';

import {
  clampProgress,
  createRunReplySchema,
  describeSchemaError,
  errorBodySchema,
  isFinalStatus,
  runStatusReplySchema,
  techniqueDetailsSchema,
} from '../../../src/core/schemas';

/** The document's step 5 example reply. */
const COMPLETED = {
  runId: 'j57abc',
  status: 'completed',
  progress: 100,
  createdAt: 1710000000000,
  startedAt: 1710000001000,
  completedAt: 1710000030000,
  chargedCost: 5,
  outputs: [{ outputId: 'output_image', type: 'imageUrl', url: 'https://ik.imagekit.io/flora/x.png' }],
};

/** describeSchemaError's account of why a poll reply is refused; fails the test if it is accepted. */
function failureOf(value: unknown): string {
  const result = runStatusReplySchema.safeParse(value);
  assert.equal(result.success, false, `accepted ${JSON.stringify(value)}`);
  return result.success ? '' : describeSchemaError(result.error);
}

describe('core/schemas', () => {
  it("accepts the document's example replies", () => {
    assert.ok(runStatusReplySchema.safeParse(COMPLETED).success);
    assert.ok(
      createRunReplySchema.safeParse({
        runId: 'j57abc',
        createdAt: 1710000000000,
        status: 'pending',
        progress: 0,
        pollUrl: 'https://app.flora.ai/api/v1/techniques/x/runs/j57abc',
      }).success,
    );
    assert.ok(
      techniqueDetailsSchema.safeParse({
        techniqueId: 'abc123',
        name: 'Portrait Enhancer',
        description: 'Enhance portrait photos with AI',
        runCost: 5,
        inputs: [{ id: 'input_image', name: 'Input Image', type: 'imageUrl' }],
        outputs: [{ id: 'output_image', name: 'Output Image', type: 'imageUrl' }],
      }).success,
    );
    assert.ok(errorBodySchema.safeParse({ error: { code: 'not_found', message: 'Technique not found' } }).success);
  });

  it('tolerates extra fields at every level', () => {
    const parsed = runStatusReplySchema.parse({
      ...COMPLETED,
      queuePosition: 3,
      outputs: [{ ...COMPLETED.outputs[0], width: 1024 }],
    });
    assert.equal(parsed.status, 'completed');
    assert.equal(parsed.outputs?.[0]?.url, COMPLETED.outputs[0]?.url);
    assert.ok(
      techniqueDetailsSchema.safeParse({
        techniqueId: 't',
        name: 'n',
        runCost: 1,
        inputs: [{ id: 'a', type: 'text', hint: 'x' }],
        tags: [],
      }).success,
    );
  });

  it('reads null optional fields as absent', () => {
    const parsed = runStatusReplySchema.parse({
      runId: 'j57abc',
      status: 'running',
      progress: null,
      createdAt: null,
      startedAt: null,
      completedAt: null,
      chargedCost: null,
      outputs: null,
      errorCode: null,
      errorMessage: null,
    });
    assert.equal(parsed.progress, undefined);
    assert.equal(parsed.outputs, undefined);
    assert.equal(parsed.errorMessage, undefined);
    const details = techniqueDetailsSchema.parse({
      techniqueId: 't',
      name: 'n',
      description: null,
      runCost: 0,
      inputs: [{ id: 'a', name: null, type: 'text' }],
      outputs: null,
    });
    assert.equal(details.description, undefined);
    assert.equal(details.inputs[0]?.name, undefined);
    assert.equal(errorBodySchema.parse({ error: { code: 'x', message: null } }).error.message, undefined);
  });

  it('refuses an unknown status and names the field in describeSchemaError', () => {
    const description = failureOf({ ...COMPLETED, status: 'done' });
    assert.match(description, /^status: /);
    assert.match(description, /"?done"?|pending/);
  });

  it('names nested paths and every bad field (up to five)', () => {
    const nested = failureOf({ ...COMPLETED, outputs: [{ type: 'imageUrl' }] });
    assert.match(nested, /outputs\.0\.url/);
    const many = failureOf({ status: 42, progress: 'half', chargedCost: -1 });
    for (const field of ['runId', 'status', 'progress', 'chargedCost']) assert.match(many, new RegExp(field));
    const whole = failureOf('not an object');
    assert.match(whole, /^\(reply\): /);
  });

  it('refuses values that would poison the views: non-finite progress, negative cost or timestamps', () => {
    failureOf({ ...COMPLETED, chargedCost: -5 });
    failureOf({ ...COMPLETED, createdAt: -1 });
    failureOf({ ...COMPLETED, runId: '' });
    assert.equal(techniqueDetailsSchema.safeParse({ techniqueId: 't', name: 'n', runCost: -1, inputs: [] }).success, false);
    assert.equal(techniqueDetailsSchema.safeParse({ techniqueId: 't', name: 'n', runCost: 1 }).success, false);
  });

  it('clampProgress keeps progress a whole number within 0–100', () => {
    assert.equal(clampProgress(undefined), 0);
    assert.equal(clampProgress(Number.NaN), 0);
    assert.equal(clampProgress(Number.POSITIVE_INFINITY), 0);
    assert.equal(clampProgress(-5), 0);
    assert.equal(clampProgress(140), 100);
    assert.equal(clampProgress(42.6), 43);
    assert.equal(clampProgress(57), 57);
  });

  it('isFinalStatus is true for completed and failed only', () => {
    assert.deepEqual((['pending', 'running', 'completed', 'failed'] as const).map(isFinalStatus), [false, false, true, true]);
  });
});
