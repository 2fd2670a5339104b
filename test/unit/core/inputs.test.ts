/**
 * Input rules (flora-api.md, "Create run request fields" and "Input media URL restrictions"), checked
 * locally and cross-checked against the sandbox, an independent implementation of the same rules.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Dispatcher } from 'undici';

import { FloraClient, newIdempotencyKey } from '../../../src/core/api';
import { FloraApiError, FloraInputError } from '../../../src/core/errors';
import { createDispatcher } from '../../../src/core/dispatcher';
import { buildRunInputs, checkMediaUrl, isSupportedMediaHost, normaliseMediaUrl } from '../../../src/core/inputs';
import { englishText } from '../../../src/core/messages';
import type { TechniqueDetails } from '../../../src/core/schemas';
import { checkMediaUrl as sandboxCheckMediaUrl } from '../../sandbox/hosts';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { ANIMATOR, makeClient } from './helpers';

/** Every host form the document lists, as a hostname and a URL on it. */
const ACCEPTED_URLS: readonly string[] = [
  'https://media.flora.ai/uploads/a.png',
  'https://storage.googleapis.com/my-bucket/a.png',
  'https://my-bucket.storage.googleapis.com/a.png',
  'https://s3.amazonaws.com/my-bucket/a.png',
  'https://s3.us-east-1.amazonaws.com/my-bucket/a.png',
  'https://s3-us-west-2.amazonaws.com/my-bucket/a.png',
  'https://my-bucket.s3.amazonaws.com/a.png',
  'https://my-bucket.s3.eu-central-1.amazonaws.com/a.png',
  'https://my-bucket.s3-us-west-2.amazonaws.com/a.png',
  'https://s3.dualstack.us-east-1.amazonaws.com/my-bucket/a.png',
  'https://my-bucket.s3.dualstack.us-east-1.amazonaws.com/a.png',
  'https://my-bucket.s3-accelerate.amazonaws.com/a.png',
  'https://my-bucket.s3-accelerate.dualstack.amazonaws.com/a.png',
  'https://ik.imagekit.io/flora/a.png',
  // The URL parser lower-cases the host and drops the default port, so these are the same hosts.
  'https://MEDIA.FLORA.AI/a.png',
  'https://media.flora.ai:443/a.png',
];

/** Near misses, each with what the problem message must mention. */
const REJECTED_URLS: readonly { url: string; reason: RegExp }[] = [
  { url: 'http://media.flora.ai/a.png', reason: /https/ },
  { url: 'ftp://media.flora.ai/a.png', reason: /https/ },
  { url: 'data:image/png;base64,iVBORw0KGgo=', reason: /https/ },
  { url: 'javascript:alert(1)', reason: /https/ },
  { url: 'file:///etc/passwd', reason: /https/ },
  { url: 'https://example.com/a.png', reason: /example\.com/ },
  { url: 'https://ik.imagekit.io.evil.com/a.png', reason: /ik\.imagekit\.io\.evil\.com/ },
  // The document names the host ik.imagekit.io exactly; other imagekit.io subdomains are not listed.
  { url: 'https://evil-ik.imagekit.io/a.png', reason: /evil-ik\.imagekit\.io/ },
  { url: 'https://imagekit.io/a.png', reason: /imagekit\.io/ },
  { url: 'https://media.flora.ai.evil.com/a.png', reason: /media\.flora\.ai\.evil\.com/ },
  { url: 'https://evilmedia.flora.ai/a.png', reason: /evilmedia\.flora\.ai/ },
  { url: 'https://storage.googleapis.com.evil.com/a.png', reason: /storage\.googleapis\.com\.evil\.com/ },
  { url: 'https://my-bucket.s3.amazonaws.com.evil.com/a.png', reason: /evil\.com/ },
  { url: 'https://my-bucket.amazonaws.com/a.png', reason: /my-bucket\.amazonaws\.com/ },
  { url: 'https://my-bucket.s3-website-us-east-1.amazonaws.com/a.png', reason: /s3-website/ },
  { url: 'https://s3-accelerate.amazonaws.com/a.png', reason: /s3-accelerate/ },
  { url: 'https://ik.imagekit.io@evil.com/a.png', reason: /user name or password/ },
  { url: 'https://user:secret@media.flora.ai/a.png', reason: /user name or password/ },
  { url: 'https://media.flora.ai:8443/a.png', reason: /port/ },
  { url: 'https://media.flora.ai./a.png', reason: /media\.flora\.ai\./ },
  { url: 'https://my..bucket.s3.amazonaws.com/a.png', reason: /my\.\.bucket/ },
  // Read as media.flora.ai by a WHATWG parser, as user "media.flora.ai\" at evil.com by others.
  { url: 'https://media.flora.ai\\@evil.com/a.png', reason: /\\/ },
  { url: 'not a url', reason: /not a URL/ },
];

/** studio-shot in the sandbox: one image input. */
const STUDIO_SHOT: TechniqueDetails = {
  techniqueId: 'studio',
  name: 'Studio Shot',
  runCost: 5,
  inputs: [{ id: 'product_image', name: 'Product Image', type: 'imageUrl' }],
  outputs: [{ id: 'studio_shot', name: 'Studio Shot', type: 'imageUrl' }],
};

/** Typed forms of an accepted URL, each with the one form a WHATWG parser reads it as, which is what must be sent. */
const UNNORMALISED_URLS: readonly { typed: string; sent: string }[] = [
  { typed: '  https://MEDIA.Flora.AI:443/uploads/./x/../a.png  ', sent: 'https://media.flora.ai/uploads/a.png' },
  // Tabs and newlines vanish for a WHATWG parser; another parser reads "media.flo\tra.ai" as another host.
  { typed: 'https://media.flo\tra.ai/a\n.png', sent: 'https://media.flora.ai/a.png' },
  // Leading C0 controls, which String.trim keeps and the WHATWG parser drops.
  { typed: '\u0001https://ik.imagekit.io/flora/a.png', sent: 'https://ik.imagekit.io/flora/a.png' },
  // A full-width letter and a percent-encoded dot are mapped to ASCII in the host.
  { typed: 'https://\uff4dedia.flora.ai/a.png', sent: 'https://media.flora.ai/a.png' },
  { typed: 'https://media%2Eflora.ai/a.png', sent: 'https://media.flora.ai/a.png' },
  { typed: 'https://ik.imagekit.io/flora/ü b.png?q=ü"#ü', sent: 'https://ik.imagekit.io/flora/%C3%BC%20b.png?q=%C3%BC%22#%C3%BC' },
  { typed: 'https://ik.imagekit.io/flora/%2e%2e/a.png', sent: 'https://ik.imagekit.io/a.png' },
];

/** Look like a supported host when read as typed; are another host once normalised. */
const LOOK_ALIKES: readonly { typed: string; reason: RegExp }[] = [
  { typed: 'https://media.flora.ai%2Eevil.com/a.png', reason: /media\.flora\.ai\.evil\.com/ },
  { typed: 'https://media.flora.ai\u3002evil.com/a.png', reason: /media\.flora\.ai\.evil\.com/ },
  { typed: 'https://media.flora.ai\t.evil.com/a.png', reason: /media\.flora\.ai\.evil\.com/ },
  { typed: 'https://media.flora.ai\n@evil.com/a.png', reason: /user name or password/ },
  { typed: 'https://ik.imagekit.io\uff0eevil.com/a.png', reason: /ik\.imagekit\.io\.evil\.com/ },
];

/** The host as a naive reader of the raw text sees it: everything between "//" and the first / ? or #. */
function hostAsWritten(url: string): string {
  return /^[a-z]+:\/\/([^/?#]*)/.exec(url)?.[1] ?? '';
}

/** The English text of one of the error's problems. */
function problemText(error: FloraInputError, index: number): string {
  const problem = error.problems[index];
  return problem ? englishText(problem.text) : '';
}

function inputErrorOf(technique: TechniqueDetails, values: Record<string, unknown>): FloraInputError {
  try {
    buildRunInputs(technique, values);
  } catch (error) {
    assert.ok(error instanceof FloraInputError, String(error));
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(values)}`);
}

describe('core/inputs', () => {
  describe('buildRunInputs', () => {
    it("builds the request inputs in the technique's order, trimming URLs but not text", () => {
      const inputs = buildRunInputs(ANIMATOR, {
        motion_prompt: '  slow spin  ',
        product_image: '  https://media.flora.ai/a.png ',
      });
      assert.deepEqual(inputs, [
        { id: 'product_image', type: 'imageUrl', value: 'https://media.flora.ai/a.png' },
        { id: 'motion_prompt', type: 'text', value: '  slow spin  ' },
      ]);
    });

    it('reports an unknown id, naming it and the inputs the technique has', () => {
      const error = inputErrorOf(ANIMATOR, {
        product_image: 'https://media.flora.ai/a.png',
        motion_prompt: 'spin',
        extra_input: 'x',
      });
      assert.equal(error.problems.length, 1);
      assert.equal(error.problems[0]?.inputId, 'extra_input');
      assert.match(problemText(error, 0), /extra_input/);
      assert.match(problemText(error, 0), /product_image, motion_prompt/);
    });

    it('reports a missing input (undefined or null), naming it', () => {
      for (const missing of [undefined, null]) {
        const error = inputErrorOf(ANIMATOR, { product_image: 'https://media.flora.ai/a.png', motion_prompt: missing });
        assert.deepEqual(
          error.problems.map((problem) => problem.inputId),
          ['motion_prompt'],
        );
        assert.match(problemText(error, 0), /motion_prompt/);
        assert.match(problemText(error, 0), /missing/);
      }
    });

    it('reports the wrong count: no values at all gives one problem per input', () => {
      const error = inputErrorOf(ANIMATOR, {});
      assert.deepEqual(
        error.problems.map((problem) => problem.inputId),
        ['product_image', 'motion_prompt'],
      );
    });

    it('reports a value that is not a string, naming the input', () => {
      for (const value of [42, true, ['https://media.flora.ai/a.png'], { url: 'x' }]) {
        const error = inputErrorOf(ANIMATOR, { product_image: value, motion_prompt: 'spin' });
        assert.equal(error.problems.length, 1);
        assert.equal(error.problems[0]?.inputId, 'product_image');
        assert.match(problemText(error, 0), /product_image/);
        assert.match(problemText(error, 0), /string/);
      }
    });

    it('reports empty and whitespace-only text, naming the input', () => {
      for (const text of ['', '   ', '\n\t']) {
        const error = inputErrorOf(ANIMATOR, { product_image: 'https://media.flora.ai/a.png', motion_prompt: text });
        assert.equal(error.problems[0]?.inputId, 'motion_prompt');
        assert.match(problemText(error, 0), /motion_prompt/);
        assert.match(problemText(error, 0), /empty/);
      }
    });

    it('reports a bad media URL, naming the input and the host', () => {
      const error = inputErrorOf(ANIMATOR, { product_image: 'https://example.com/a.png', motion_prompt: 'spin' });
      assert.equal(error.problems[0]?.inputId, 'product_image');
      assert.match(problemText(error, 0), /product_image/);
      assert.match(problemText(error, 0), /example\.com/);
    });

    it('lists every problem at once, each naming its input, and the error message holds them all', () => {
      const error = inputErrorOf(ANIMATOR, {
        product_image: 'http://media.flora.ai/a.png',
        motion_prompt: ' ',
        bogus: 1,
      });
      assert.deepEqual(error.problems.map((problem) => problem.inputId).sort(), ['bogus', 'motion_prompt', 'product_image']);
      for (const problem of error.problems) {
        const text = englishText(problem.text);
        assert.ok(text.includes(problem.inputId ?? '\u0000'), text);
        assert.ok(error.message.includes(text));
      }
    });

    it('explains an input type the extension cannot send', () => {
      const technique: TechniqueDetails = { ...ANIMATOR, inputs: [{ id: 'audio_clip', type: 'audioUrl' }] };
      const error = inputErrorOf(technique, { audio_clip: 'https://media.flora.ai/a.mp3' });
      assert.match(problemText(error, 0), /audio_clip/);
      assert.match(problemText(error, 0), /audioUrl/);
    });

    it('accepts a loopback origin only when it is passed as an extra origin (the sandbox)', () => {
      const url = 'http://127.0.0.1:7717/media/j57abc/studio_shot.png';
      assert.throws(() => buildRunInputs(ANIMATOR, { product_image: url, motion_prompt: 'spin' }), FloraInputError);
      const inputs = buildRunInputs(ANIMATOR, { product_image: url, motion_prompt: 'spin' }, { extraOrigins: ['http://127.0.0.1:7717'] });
      assert.equal(inputs[0]?.value, url);
    });
  });

  describe('what is sent is what was checked', () => {
    for (const { typed, sent } of UNNORMALISED_URLS) {
      it(`sends ${JSON.stringify(typed)} as ${sent}`, () => {
        const inputs = buildRunInputs(STUDIO_SHOT, { product_image: typed });
        assert.deepEqual(inputs, [{ id: 'product_image', type: 'imageUrl', value: sent }]);
        assert.deepEqual(normaliseMediaUrl(typed), { url: sent });
      });
    }

    for (const { typed, reason } of LOOK_ALIKES) {
      it(`refuses the look-alike ${JSON.stringify(typed)}, naming what it normalises to`, () => {
        const problem = checkMediaUrl(typed);
        assert.ok(problem, 'accepted');
        assert.match(englishText(problem), reason);
        assert.throws(() => buildRunInputs(STUDIO_SHOT, { product_image: typed }), FloraInputError);
      });
    }

    it('sends, for any typed form, its own normalised form: one that passes the check as sent and that any reader sees on the same host', () => {
      const hostile = fc.constantFrom(
        '\t',
        '\n',
        '\r',
        ' ',
        '\u0001',
        '\u3002',
        '\uff0e',
        '%2E',
        '@',
        '\\',
        '/./',
        '/../',
        ':443',
        '#',
        '?',
      );
      const typedUrl = fc
        .record({
          url: fc.constantFrom(...ACCEPTED_URLS, ...LOOK_ALIKES.map((entry) => entry.typed)),
          upper: fc.array(fc.boolean(), { maxLength: 60 }),
          insertions: fc.array(fc.tuple(fc.nat(), hostile), { maxLength: 3 }),
          before: fc.constantFrom('', ' ', '\t', '\u0001'),
          after: fc.constantFrom('', ' ', '\n'),
        })
        .map(({ url, upper, insertions, before, after }) => {
          let typed = Array.from(url, (character, index) => (upper[index] ? character.toUpperCase() : character)).join('');
          for (const [position, text] of insertions) {
            const at = position % (typed.length + 1);
            typed = typed.slice(0, at) + text + typed.slice(at);
          }
          return before + typed + after;
        });
      let sentCount = 0;
      fc.assert(
        fc.property(typedUrl, (typed) => {
          let inputs: ReturnType<typeof buildRunInputs>;
          try {
            inputs = buildRunInputs(STUDIO_SHOT, { product_image: typed });
          } catch (error) {
            assert.ok(error instanceof FloraInputError, String(error));
            return;
          }
          sentCount++;
          const value = inputs[0]?.value ?? '';
          assert.equal(value, new URL(typed.trim()).href, 'the WHATWG form of what was typed');
          assert.equal(new URL(value).href, value, 'already normalised');
          assert.equal(checkMediaUrl(value), undefined, 'passes the check as sent');
          assert.match(value, /^[\x21-\x7e]+$/, 'printable ASCII: no whitespace or controls');
          assert.equal(hostAsWritten(value), new URL(value).host, 'the host as written is the host parsed');
          assert.ok(isSupportedMediaHost(hostAsWritten(value)), `sent on ${hostAsWritten(value)}`);
          assert.equal(sandboxCheckMediaUrl(value, 'http://127.0.0.1:1').accepted, true, 'the sandbox accepts what is sent');
        }),
        { seed: 20261201, numRuns: 300 },
      );
      assert.ok(sentCount > 50, `only ${sentCount} typed forms were accepted`);
    });
  });

  describe('media URLs', () => {
    for (const url of ACCEPTED_URLS) {
      it(`accepts ${url}`, () => {
        assert.equal(checkMediaUrl(url), undefined);
        assert.equal(isSupportedMediaHost(new URL(url).hostname), true);
      });
    }
    for (const { url, reason } of REJECTED_URLS) {
      it(`rejects ${JSON.stringify(url)}`, () => {
        const problem = checkMediaUrl(url);
        assert.ok(problem, 'accepted');
        assert.match(englishText(problem), reason);
        const error = inputErrorOf(ANIMATOR, { product_image: url, motion_prompt: 'spin' });
        assert.match(problemText(error, 0), /product_image/);
      });
    }

    it('matches hostnames whole and case-insensitively in isSupportedMediaHost', () => {
      assert.equal(isSupportedMediaHost('IK.ImageKit.IO'), true);
      for (const host of [
        'ik.imagekit.io.',
        'xik.imagekit.io',
        'ik.imagekit.io.evil.com',
        'media.flora.ai.',
        's3.amazonaws.com.evil.com',
      ]) {
        assert.equal(isSupportedMediaHost(host), false, host);
      }
    });
  });

  describe('agreement with the sandbox', () => {
    let sandbox: Sandbox;
    let dispatcher: Dispatcher;
    let client: FloraClient;

    before(async () => {
      sandbox = await startSandbox({ runDurationMs: 300, credits: 100_000 });
      dispatcher = createDispatcher();
      client = makeClient(sandbox, dispatcher);
    });

    after(async () => {
      await sandbox.close();
      await dispatcher.close();
    });

    /** The sandbox's verdict on a real create of studio-shot with this URL, sent without local checks. */
    async function sandboxAccepts(url: string): Promise<boolean> {
      try {
        await client.createRun('studio-shot', [{ id: 'product_image', type: 'imageUrl', value: url }], {
          idempotencyKey: newIdempotencyKey(),
        });
        return true;
      } catch (error) {
        assert.ok(error instanceof FloraApiError && error.code === 'input_validation_error', String(error));
        assert.match(error.serverMessage ?? '', /product_image/);
        return false;
      }
    }

    it('the create request carries each URL in the normalised form that was checked', async () => {
      for (const { typed, sent } of UNNORMALISED_URLS) {
        const from = sandbox.requests.length;
        await client.createRun('studio-shot', buildRunInputs(STUDIO_SHOT, { product_image: typed }), {
          idempotencyKey: newIdempotencyKey(),
        });
        const creates = sandbox.requests.slice(from).filter((request) => request.method === 'POST');
        assert.equal(creates.length, 1);
        const body = JSON.parse(creates[0]?.body ?? '{}') as { inputs?: unknown };
        assert.deepEqual(body.inputs, [{ id: 'product_image', type: 'imageUrl', value: sent }], JSON.stringify(typed));
      }
    });

    for (const url of [...ACCEPTED_URLS, ...REJECTED_URLS.map((entry) => entry.url)]) {
      it(`agrees on ${JSON.stringify(url)}`, async () => {
        const clientAccepts = checkMediaUrl(url) === undefined;
        assert.equal(await sandboxAccepts(url), clientAccepts, 'the sandbox over HTTP disagrees');
        assert.equal(sandboxCheckMediaUrl(url, sandbox.url).accepted, clientAccepts, "the sandbox's hosts.ts disagrees");
      });
    }
  });
});
