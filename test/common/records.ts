// The one RunRecord builder of the tests (unit and host tiers): a record as the extension writes it, with
// only what a test is about given as overrides.
import type { RunRecord } from '../../src/core/runs';

let made = 0;

/**
 * A completed Studio Shot run with one image input and no outputs. Without a `localId` override each call
 * gets a new one (`run-1`, `run-2`, …); the idempotency key is the local id and the runId derives from it,
 * unless given. Times are fixed (1 000 ms on the local clock), so records compare equal across runs.
 */
export function runRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  made += 1;
  const localId = overrides.localId ?? `run-${made}`;
  return {
    localId,
    idempotencyKey: localId,
    runId: `j57${localId}`,
    slug: 'studio-shot',
    techniqueName: 'Studio Shot',
    inputs: [{ id: 'product_image', type: 'imageUrl', value: 'https://media.flora.ai/uploads/photo.jpg' }],
    status: 'completed',
    progress: 100,
    startedLocallyAt: 1_000,
    updatedAt: 1_000,
    ...overrides,
  };
}
