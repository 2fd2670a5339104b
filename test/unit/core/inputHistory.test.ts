/** Links used before: which inputs of the history the picker offers again, in what order, how many. */
import * as assert from 'node:assert/strict';

import fc from 'fast-check';
import { isTypedWebLink, usedLinks } from '../../../src/core/inputHistory';
import type { RunInput } from '../../../src/core/model';
import type { RunRecord } from '../../../src/core/runs';
import { runRecord } from '../../common/records';

function run(startedLocallyAt: number, inputs: RunInput[], overrides: Partial<RunRecord> = {}): RunRecord {
  return runRecord({ startedLocallyAt, updatedAt: startedLocallyAt, inputs, ...overrides });
}

const image = (value: string, extra: Partial<RunInput> = {}): RunInput => ({ id: 'product_image', type: 'imageUrl', value, ...extra });

describe('core/inputHistory: links used before', () => {
  it('offers links given to inputs of the type, newest run first, with the technique and when', () => {
    const records = [
      run(1_000, [image('https://example.com/old.png')]),
      run(3_000, [image('https://example.com/new.png')], { slug: 'relight-technique', techniqueName: 'Relighting' }),
      run(2_000, [{ id: 'clip', type: 'videoUrl', value: 'https://example.com/clip.mp4' }]),
    ];
    assert.deepEqual(usedLinks(records, 'imageUrl', 5), [
      { value: 'https://example.com/new.png', techniqueName: 'Relighting', slug: 'relight-technique', at: 3_000 },
      { value: 'https://example.com/old.png', techniqueName: 'Studio Shot', slug: 'studio-shot', at: 1_000 },
    ]);
    assert.deepEqual(
      usedLinks(records, 'videoUrl', 5).map((link) => link.value),
      ['https://example.com/clip.mp4'],
      'a link given to a video input is offered for video inputs only',
    );
  });

  it('leaves out uploads of local files, earlier outputs, text, and anything that is not an http(s) link', () => {
    const output = 'https://cdn.flora.ai/outputs/j57abc/0.png';
    const records = [
      run(9_000, [image('https://uploads.example.com/photo.png?X-Amz-Signature=abc', { localPath: 'img/photo.png' })]),
      run(8_000, [image(output)]),
      run(7_000, [image('file:///home/me/passport.jpg')]),
      run(6_000, [image('/home/me/passport.jpg')]),
      run(5_000, [image('javascript:alert(1)')]),
      run(4_000, [image('https:///no-host')]),
      run(3_000, [image('https://example.com/a b.png')]),
      run(2_000, [{ id: 'prompt', type: 'text', value: 'https://example.com/in-a-prompt.png' }]),
      run(1_000, [image('https://example.com/typed.png')], { outputs: [{ type: 'imageUrl', url: output }] }),
    ];
    assert.deepEqual(
      usedLinks(records, 'imageUrl', 10).map((link) => link.value),
      ['https://example.com/typed.png'],
    );
  });

  it('offers each link once, trimmed, from its newest use', () => {
    const records = [
      run(1_000, [image('https://example.com/a.png')]),
      run(3_000, [image(' https://example.com/a.png '), image('https://example.com/b.png', { id: 'style_image' })]),
      run(2_000, [image('https://example.com/b.png')]),
    ];
    assert.deepEqual(
      usedLinks(records, 'imageUrl', 5).map((link) => [link.value, link.at]),
      [
        ['https://example.com/a.png', 3_000],
        ['https://example.com/b.png', 3_000],
      ],
    );
  });

  it('offers nothing for a limit of zero or less', () => {
    const records = [run(1_000, [image('https://example.com/a.png')])];
    assert.deepEqual(usedLinks(records, 'imageUrl', 0), []);
    assert.deepEqual(usedLinks(records, 'imageUrl', -1), []);
    assert.deepEqual(usedLinks(records, 'imageUrl', Number.NaN), []);
  });

  it('refuses links no person typed: without a host, with spaces, or of unbounded length', () => {
    assert.equal(isTypedWebLink('https://example.com/a.png'), true);
    assert.equal(isTypedWebLink('HTTP://EXAMPLE.COM/A.PNG'), true);
    assert.equal(isTypedWebLink('ftp://example.com/a.png'), false);
    assert.equal(isTypedWebLink('https://'), false);
    assert.equal(isTypedWebLink(`https://example.com/${'a'.repeat(10_000)}`), false);
  });

  describe('over any history', () => {
    const types = ['imageUrl', 'videoUrl', 'text'] as const;
    const values = fc.oneof(
      fc.constantFrom('https://example.com/a.png', 'https://example.com/b.png', ' https://example.com/a.png', 'file:///x.png'),
      fc.webUrl(),
      fc.string(),
    );
    const input = fc.record({
      id: fc.constantFrom('product_image', 'style_image', 'prompt'),
      type: fc.constantFrom(...types),
      value: values,
      localPath: fc.option(fc.constant('img/a.png'), { nil: undefined }),
    });
    const history = fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 1_000_000 }),
        inputs: fc.array(input, { maxLength: 4 }),
        outputs: fc.array(fc.record({ type: fc.constantFrom(...types), url: values }), { maxLength: 2 }),
      }),
      { maxLength: 12 },
    );
    const records = (entries: Array<{ at: number; inputs: Array<RunInput>; outputs: Array<{ type: string; url: string }> }>) =>
      entries.map((entry) =>
        run(
          entry.at,
          entry.inputs.map(({ localPath, ...rest }) => (localPath === undefined ? rest : { ...rest, localPath })),
          { outputs: entry.outputs },
        ),
      );

    it('gives distinct links, newest first, at most the limit, each given to an input of the type in that run', () => {
      fc.assert(
        fc.property(history, fc.constantFrom(...types), fc.integer({ min: 0, max: 8 }), (entries, type, limit) => {
          const given = records(entries);
          const links = usedLinks(given, type, limit);
          assert.ok(links.length <= limit);
          assert.equal(new Set(links.map((link) => link.value)).size, links.length, 'each link once');
          for (let index = 1; index < links.length; index++) assert.ok(links[index - 1].at >= links[index].at, 'newest first');
          const outputs = new Set(given.flatMap((record) => (record.outputs ?? []).map((output) => output.url.trim())));
          for (const link of links) {
            assert.ok(isTypedWebLink(link.value));
            assert.ok(!outputs.has(link.value), 'never an earlier output');
            assert.ok(
              given.some(
                (record) =>
                  record.startedLocallyAt === link.at &&
                  record.inputs.some((entry) => entry.type === type && entry.localPath === undefined && entry.value.trim() === link.value),
              ),
              'given, as typed, to an input of the type in a run started then',
            );
          }
        }),
        { seed: 20261201, numRuns: 500 },
      );
    });

    it('leaves out no eligible link while under the limit, and gives the newest ones when over it', () => {
      fc.assert(
        fc.property(history, fc.constantFrom(...types), fc.integer({ min: 1, max: 8 }), (entries, type, limit) => {
          const given = records(entries);
          const everything = usedLinks(given, type, Number.MAX_SAFE_INTEGER);
          assert.deepEqual(usedLinks(given, type, limit), everything.slice(0, limit), 'a prefix of all of them');
        }),
        { seed: 20261201, numRuns: 500 },
      );
    });
  });
});
