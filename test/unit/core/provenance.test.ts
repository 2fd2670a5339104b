// What a saved output is called and what is written beside it: names from hostile slugs and runIds stay one
// plain file name, times are UTC, local inputs are written as paths (never their upload URLs, which are
// bearer links), and a provenance file reads back as written while an edited or foreign one is refused.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';

import {
  buildProvenance,
  outputFileStem,
  PROVENANCE_FORMAT,
  provenanceCandidates,
  readProvenance,
  runFileStem,
  serializeProvenance,
  timeStamp,
  withoutSignature,
} from '../../../src/core/provenance';
import { runRecord } from '../../common/records';

const COMPLETED = Date.UTC(2026, 11, 1, 23, 4, 5);

describe('saved output names and provenance', () => {
  it('names a run <technique>-<yyyymmdd-hhmmss UTC>-<short runId>, with -n per output when there are several', () => {
    const record = runRecord({ slug: 'studio-shot', runId: 'j57abcdefghij', completedAt: COMPLETED });
    assert.equal(timeStamp(COMPLETED), '20261201-230405');
    assert.equal(runFileStem(record), 'studio-shot-20261201-230405-j57abcde');
    assert.equal(outputFileStem(record, 0, 1), 'studio-shot-20261201-230405-j57abcde');
    assert.equal(outputFileStem(record, 2, 4), 'studio-shot-20261201-230405-j57abcde-3');
  });

  it('keeps any slug and runId a server sends to one plain file name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.option(fc.string({ maxLength: 300 }), { nil: undefined }), (slug, runId) => {
        const stem = runFileStem(runRecord({ slug, runId, completedAt: COMPLETED }));
        assert.match(stem, /^[A-Za-z0-9_-]+-\d{8}-\d{6}-[A-Za-z0-9_-]+$/);
        assert.ok(stem.length <= 60 + 17 + 8 + 2, stem);
        assert.equal(path.basename(stem), stem);
      }),
      { seed: 20261201, numRuns: 500 },
    );
  });

  it('writes local inputs as paths beside the provenance, never their upload URLs', () => {
    const folder = path.join(path.sep, 'work', 'site', 'flora-outputs');
    const record = runRecord({
      slug: 'studio-shot',
      runId: 'run-1',
      techniqueName: 'Studio Shot',
      status: 'completed',
      chargedCost: 5,
      runCost: 5,
      createdAt: COMPLETED - 30_000,
      completedAt: COMPLETED,
      inputs: [
        {
          id: 'product_image',
          type: 'imageUrl',
          value: 'https://bucket.s3.amazonaws.com/x?X-Amz-Signature=secret',
          localPath: 'assets/shoe.png',
        },
        { id: 'prompt', type: 'text', value: 'on marble' },
      ],
      outputs: [
        { outputId: 'a', type: 'imageUrl', url: 'https://ik.imagekit.io/flora/a.png' },
        { outputId: 'b', type: 'imageUrl', url: 'https://ik.imagekit.io/flora/b.png' },
      ],
    });
    const provenance = buildProvenance(record, {
      folder,
      files: new Map([[1, path.join(folder, 'studio-shot-20261201-230405-run-1-2.png')]]),
      localFile: (localPath) => path.join(path.sep, 'work', 'site', localPath),
      savedAt: COMPLETED + 1000,
    });
    const text = serializeProvenance(provenance);
    assert.ok(!text.includes('X-Amz-Signature'), 'no bearer link');
    assert.deepEqual(provenance.inputs, [
      { id: 'product_image', type: 'imageUrl', file: '../assets/shoe.png' },
      { id: 'prompt', type: 'text', value: 'on marble' },
    ]);
    assert.deepEqual(provenance.outputs, [
      { outputId: 'a', type: 'imageUrl', url: 'https://ik.imagekit.io/flora/a.png' },
      { outputId: 'b', type: 'imageUrl', url: 'https://ik.imagekit.io/flora/b.png', file: 'studio-shot-20261201-230405-run-1-2.png' },
    ]);
    assert.deepEqual(provenance.cost, { charged: 5, quoted: 5 });
    assert.equal(provenance.completedAt, '2026-12-01T23:04:05.000Z');
    assert.ok(text.endsWith('}\n'));
    const reading = readProvenance(text);
    assert.ok('provenance' in reading);
    assert.deepEqual(reading.provenance, provenance);
  });

  it('writes a signed link (one Run Again kept after its file went) without what signs it', () => {
    const signed = 'https://bucket.s3.us-east-1.amazonaws.com/flora/ab.png?X-Amz-Credential=AKIA&X-Amz-Signature=beef&X-Amz-Date=1';
    const google = 'https://storage.googleapis.com/b/x.png?X-Goog-Signature=beef&X-Goog-Credential=c';
    assert.equal(withoutSignature(signed), 'https://bucket.s3.us-east-1.amazonaws.com/flora/ab.png');
    assert.equal(withoutSignature(google), 'https://storage.googleapis.com/b/x.png');
    assert.equal(withoutSignature('https://media.flora.ai/x.png?w=512'), 'https://media.flora.ai/x.png?w=512');
    assert.equal(withoutSignature('a prompt with ?signature=x in it'), 'a prompt with ?signature=x in it');
    const record = runRecord({ inputs: [{ id: 'product_image', type: 'imageUrl', value: signed }], outputs: [] });
    const text = serializeProvenance(buildProvenance(record, { folder: '/w', files: new Map(), localFile: () => undefined, savedAt: 0 }));
    assert.ok(!/Signature|Credential|AKIA/.test(text), text);
  });

  it('refuses what is not a provenance file, and drops unusable entries of one that was edited', () => {
    assert.ok('problem' in readProvenance('not json'));
    assert.ok('problem' in readProvenance('{"format":"something-else"}'));
    assert.ok('problem' in readProvenance(JSON.stringify({ format: PROVENANCE_FORMAT, runId: 7 })));
    const edited = readProvenance(
      JSON.stringify({
        format: PROVENANCE_FORMAT,
        runId: 'r',
        technique: { slug: 's', name: 'n' },
        inputs: [{ id: 'a', type: 'text', value: 'v' }, 'junk', { id: 3 }],
        outputs: [{ type: 'imageUrl', url: 'https://x/y.png', file: 'y.png' }, { url: 5 }],
        cost: { charged: -1, quoted: 'x' },
        __proto__: { polluted: true },
      }),
    );
    assert.ok('provenance' in edited);
    assert.deepEqual(edited.provenance.inputs, [{ id: 'a', type: 'text', value: 'v' }]);
    assert.deepEqual(edited.provenance.outputs, [{ type: 'imageUrl', url: 'https://x/y.png', file: 'y.png' }]);
    assert.deepEqual(edited.provenance.cost, {});
  });

  it('looks for the provenance of a saved file beside it, with and without its -n', () => {
    const folder = path.join(path.sep, 'w', 'out');
    assert.deepEqual(provenanceCandidates(path.join(folder, 'icon-pack-20261201-230405-abc-3.png')), [
      path.join(folder, 'icon-pack-20261201-230405-abc-3.flora.json'),
      path.join(folder, 'icon-pack-20261201-230405-abc.flora.json'),
    ]);
    assert.deepEqual(provenanceCandidates(path.join(folder, 'icon-pack-20261201-230405-abc-3-2.png')).slice(-1), [
      path.join(folder, 'icon-pack-20261201-230405-abc.flora.json'),
    ]);
  });
});
