/**
 * The run reply readers (core/runReplies) and the technique and error schemas (core/schemas): what they
 * tolerate, what they note, what is unreadable, and how a refusal reads.
 */
import * as assert from 'node:assert/strict';

import { clampProgress, isFinalStatus } from '../../../src/core/model';
import { mergeReplyNotes, readCreateRunReply, readRunStatusReply, REPLY_LIMITS, type RunStatusReply } from '../../../src/core/runReplies';
import { describeSchemaError, errorBodySchema, readTechniqueDetails, techniqueDetailsSchema } from '../../../src/core/schemas';

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

/** The reader's notes about a poll reply it still read; fails the test if it was unreadable. */
function readable(value: unknown): { reply: RunStatusReply; notes: string[] } {
  const reading = readRunStatusReply(value);
  assert.ok(reading.value, `unreadable: ${reading.notes.join('; ')}`);
  return { reply: reading.value, notes: reading.notes };
}

/** The reader's account of why a poll reply is unreadable; fails the test if it was read. */
function unreadable(value: unknown): string {
  const reading = readRunStatusReply(value);
  assert.equal(reading.value, undefined, `read ${JSON.stringify(value)}`);
  return reading.notes.join('; ');
}

describe('core/runReplies and core/schemas', () => {
  it("reads the document's example replies without a note", () => {
    assert.deepEqual(readable(COMPLETED), { reply: COMPLETED, notes: [] });
    const create = {
      runId: 'j57abc',
      createdAt: 1710000000000,
      status: 'pending',
      progress: 0,
      pollUrl: 'https://app.flora.ai/api/v1/techniques/x/runs/j57abc',
    };
    assert.deepEqual(readCreateRunReply(create), { value: create, notes: [] });
    const details = {
      techniqueId: 'abc123',
      name: 'Portrait Enhancer',
      description: 'Enhance portrait photos with AI',
      runCost: 5,
      inputs: [{ id: 'input_image', name: 'Input Image', type: 'imageUrl' }],
      outputs: [{ id: 'output_image', name: 'Output Image', type: 'imageUrl' }],
    };
    assert.deepEqual(readTechniqueDetails(details), { value: details, notes: [] });
    assert.ok(techniqueDetailsSchema.safeParse(details).success);
    assert.ok(errorBodySchema.safeParse({ error: { code: 'not_found', message: 'Technique not found' } }).success);
  });

  it('tolerates extra fields at every level, without a note', () => {
    const { reply, notes } = readable({
      ...COMPLETED,
      queuePosition: 3,
      outputs: [{ ...COMPLETED.outputs[0], width: 1024 }],
    });
    assert.deepEqual(notes, []);
    assert.equal(reply.status, 'completed');
    assert.deepEqual(reply.outputs, COMPLETED.outputs);
    assert.ok(
      readTechniqueDetails({ techniqueId: 't', name: 'n', runCost: 1, inputs: [{ id: 'a', type: 'text', hint: 'x' }], tags: [] }).value,
    );
  });

  it('reads null optional fields as absent, without a note', () => {
    const { reply, notes } = readable({
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
    assert.deepEqual(reply, { runId: 'j57abc', status: 'running' });
    assert.deepEqual(notes, []);
    const details = readTechniqueDetails({
      techniqueId: 't',
      name: 'n',
      description: null,
      runCost: 0,
      inputs: [{ id: 'a', name: null, type: 'text' }],
      outputs: null,
    }).value;
    assert.equal(details?.description, undefined);
    assert.equal(details?.inputs[0]?.name, undefined);
    assert.equal(errorBodySchema.parse({ error: { code: 'x', message: null } }).error.message, undefined);
  });

  // Changed with issue 10 item 5: an unknown status used to make the whole reply unreadable.
  it('reads an unknown status as still running (pending), keeps the rest, and notes it', () => {
    const { reply, notes } = readable({ ...COMPLETED, status: 'done' });
    assert.equal(reply.status, 'pending');
    assert.equal(reply.unknownStatus, 'done');
    assert.deepEqual(reply.outputs, COMPLETED.outputs);
    assert.equal(reply.chargedCost, 5);
    assert.match(notes.join('; '), /^status: "done" is not one of pending\|running\|completed\|failed/);
    const missing = readable({ runId: 'j57abc' });
    assert.equal(missing.reply.unknownStatus, 'missing');
    assert.match(missing.notes.join(), /status: missing/);
  });

  it('reads an ISO-8601 completedAt as ms and drops a date that does not parse, with a note', () => {
    const iso = readable({ ...COMPLETED, completedAt: '2024-03-09T16:00:30.000Z', startedAt: '2024-03-09T16:00:01+01:00' });
    assert.equal(iso.reply.completedAt, Date.UTC(2024, 2, 9, 16, 0, 30));
    assert.equal(iso.reply.startedAt, Date.UTC(2024, 2, 9, 15, 0, 1));
    assert.deepEqual(iso.notes, []);
    const bad = readable({ ...COMPLETED, completedAt: 'yesterday', createdAt: -1 });
    assert.equal(bad.reply.completedAt, undefined);
    assert.equal(bad.reply.createdAt, undefined);
    assert.deepEqual(bad.reply.outputs, COMPLETED.outputs);
    assert.match(bad.notes.join('; '), /completedAt: .*"yesterday"/);
    assert.match(bad.notes.join('; '), /createdAt: .*-1/);
  });

  it('keeps the good outputs when one is empty or invalid, and names the bad one', () => {
    const good = COMPLETED.outputs[0];
    const { reply, notes } = readable({
      ...COMPLETED,
      outputs: [good, { type: 'imageUrl', url: '' }, 'x', { type: 'imageUrl' }, { type: 7, url: 'https://ik.imagekit.io/flora/y.png' }],
    });
    assert.deepEqual(reply.outputs, [good, { type: 'unknown', url: 'https://ik.imagekit.io/flora/y.png' }]);
    const text = notes.join('; ');
    for (const field of ['outputs.1.url', 'outputs.2', 'outputs.3.url', 'outputs.4.type'])
      assert.match(text, new RegExp(field.replace('.', '\\.')));
  });

  it('drops a negative or non-number chargedCost with a note and keeps everything else', () => {
    for (const chargedCost of [-5, '5', { credits: 5 }, true]) {
      const { reply, notes } = readable({ ...COMPLETED, chargedCost });
      assert.equal(reply.chargedCost, undefined);
      assert.equal(reply.status, 'completed');
      assert.deepEqual(reply.outputs, COMPLETED.outputs);
      assert.match(notes.join(), /^chargedCost: expected a number of at least 0/);
    }
  });

  it('drops optional fields of the wrong type with a note each', () => {
    const { reply, notes } = readable({ ...COMPLETED, progress: 'half', errorCode: 42, errorMessage: ['x'], outputs: 'none' });
    const { progress: _progress, outputs: _outputs, ...rest } = COMPLETED;
    assert.deepEqual(reply, { ...rest, notes });
    for (const field of ['progress', 'errorCode', 'errorMessage', 'outputs'])
      assert.match(notes.join('; '), new RegExp(`${field}: expected`));
  });

  it('is unreadable only without a usable runId or when the body is not an object, naming every bad field', () => {
    const many = unreadable({ status: 42, progress: 'half', chargedCost: -1 });
    for (const field of ['runId', 'status', 'progress', 'chargedCost']) assert.match(many, new RegExp(field));
    assert.match(unreadable({ ...COMPLETED, runId: '' }), /runId/);
    assert.match(unreadable({ ...COMPLETED, runId: 'x'.repeat(REPLY_LIMITS.maxRunIdLength + 1) }), /runId/);
    assert.match(unreadable('not an object'), /^\(reply\): /);
    assert.match(unreadable([COMPLETED]), /^\(reply\): /);
    assert.equal(readCreateRunReply({ status: 'pending' }).value, undefined);
  });

  it('a create reply with an unknown status keeps its runId', () => {
    const reading = readCreateRunReply({ runId: 'j57abc', status: 'accepted', pollUrl: 42 });
    assert.equal(reading.value?.runId, 'j57abc');
    assert.equal(reading.value?.status, 'pending');
    assert.equal(reading.value?.unknownStatus, 'accepted');
    assert.equal(reading.value?.pollUrl, undefined);
    assert.match(reading.notes.join('; '), /pollUrl/);
  });

  it('keeps what is kept small: the first outputs of a huge list, long text shortened, over-long URLs left out', () => {
    const outputs = Array.from({ length: 10_000 }, (_, index) => ({ type: 'imageUrl', url: `https://ik.imagekit.io/flora/${index}.png` }));
    const many = readable({ ...COMPLETED, outputs });
    assert.deepEqual(many.reply.outputs, outputs.slice(0, REPLY_LIMITS.maxOutputs));
    assert.match(many.notes.join(), new RegExp(`kept the first ${REPLY_LIMITS.maxOutputs} of 10000 outputs`));
    const longUrl = `https://ik.imagekit.io/flora/${'a'.repeat(REPLY_LIMITS.maxUrlLength - 40)}.png`;
    const huge = readable({
      ...COMPLETED,
      errorMessage: 'e'.repeat(1_000_000),
      outputs: [
        { type: 'imageUrl', url: longUrl },
        { type: 'imageUrl', url: `https://x.io/${'b'.repeat(1_000_000)}` },
      ],
    });
    assert.deepEqual(huge.reply.outputs, [{ type: 'imageUrl', url: longUrl }]);
    assert.equal(huge.reply.errorMessage?.length, REPLY_LIMITS.maxTextLength);
    assert.ok(huge.notes.every((note) => note.length <= REPLY_LIMITS.maxNoteLength));
    const noisy = readable({ ...COMPLETED, outputs: Array.from({ length: 100 }, () => 'x') });
    assert.equal(noisy.notes.length, REPLY_LIMITS.maxNotes + 1);
    assert.match(noisy.notes.at(-1) ?? '', /more fields could not be used/);
  });

  it('a run record keeps the notes of its replies once each, at most REPLY_LIMITS.maxNotes', () => {
    assert.equal(mergeReplyNotes(undefined, undefined), undefined);
    assert.deepEqual(mergeReplyNotes(['a'], []), ['a']);
    assert.deepEqual(mergeReplyNotes(['a', 'b'], ['b', 'c', 'a']), ['a', 'b', 'c']);
    const many = Array.from({ length: 3 * REPLY_LIMITS.maxNotes }, (_, index) => `note ${index}`);
    const merged = mergeReplyNotes(['first'], many);
    assert.equal(merged?.length, REPLY_LIMITS.maxNotes);
    assert.deepEqual(merged, ['first', ...many.slice(0, REPLY_LIMITS.maxNotes - 1)]);
    assert.deepEqual(mergeReplyNotes(merged, ['one more']), merged, 'a full record takes no more');
  });

  it('technique details: strict about what a run needs, tolerant of a bad description or output entry', () => {
    const base = { techniqueId: 't', name: 'n', runCost: 1, inputs: [{ id: 'a', type: 'text' }] };
    const tolerated = readTechniqueDetails({ ...base, description: 5, outputs: [{ id: 'o', type: 'imageUrl' }, { id: '' }] });
    assert.deepEqual(tolerated.value?.outputs, [{ id: 'o', type: 'imageUrl' }]);
    assert.equal(tolerated.value?.description, undefined);
    assert.match(tolerated.notes.join('; '), /description/);
    assert.match(tolerated.notes.join('; '), /outputs\.1/);
    assert.equal(readTechniqueDetails({ ...base, runCost: -1 }).value, undefined);
    assert.equal(readTechniqueDetails({ techniqueId: 't', name: 'n', runCost: 1 }).value, undefined);
    assert.match(readTechniqueDetails({ ...base, inputs: [{ type: 'text' }] }).notes.join(), /inputs\.0\.id/);
    assert.match(describeSchemaError(techniqueDetailsSchema.safeParse({}).error ?? assert.fail('accepted')), /techniqueId/);
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
