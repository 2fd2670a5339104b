/**
 * Core's messages can be translated whole. Real errors, made by the client against the sandbox over HTTP
 * and by the input checks, must be Messages (not finished English), their English rendering must be the
 * error's own message, and a translator must see every word: rendering through a stand-in for
 * vscode.l10n.t that drops each template's words leaves only the values the message carries (a slug, a
 * URL, FLORA's own words), and the test fails on any other text that would reach the user untranslated.
 */
import * as assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';

import { FloraClient, newIdempotencyKey } from '../../../src/core/api';
import { createDispatcher } from '../../../src/core/dispatcher';
import { FloraApiError, FloraError, FloraInputError, FloraProtocolError } from '../../../src/core/errors';
import { parseBaseUrl } from '../../../src/core/http';
import { buildRunInputs, checkInputValue, describeType } from '../../../src/core/inputs';
import {
  englishText,
  fillTemplate,
  isMessage,
  message,
  MESSAGE_TEMPLATES,
  renderMessage,
  renderText,
  type DisplayText,
  type Translate,
} from '../../../src/core/messages';
import { DEFAULT_BASE_URL } from '../../../src/core/model';
import { parseTechniqueReference } from '../../../src/core/techniqueReference';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { ANIMATOR, closedPort, makeClient, PHOTO } from './helpers';

const DROPPED = '\u0000';

/** The values a message carries: what is left when a translator drops every template's own words. */
function valuesIn(text: DisplayText): string[] {
  const values: string[] = [];
  const dropWords: Translate = (_template, ...args) => {
    for (const argument of args) if (String(argument) !== DROPPED) values.push(String(argument));
    return DROPPED;
  };
  assert.equal(renderText(text, dropWords), DROPPED);
  return values;
}

/** `text` is a Message whose only untranslated parts are numbers and the `allowed` values. */
function assertTranslatesWhole(text: DisplayText | string, label: string, allowed: ReadonlyArray<string | undefined> = []): void {
  assert.ok(typeof text !== 'string' && isMessage(text), `${label}: core made text that is not a Message, which cannot be translated`);
  for (const value of valuesIn(text)) {
    assert.ok(/^\d+$/.test(value) || allowed.includes(value), `${label}: "${value}" would reach the user untranslated`);
  }
}

/** What an error may carry untranslated besides the scenario's values: FLORA's words, a reply's technical detail. */
function carried(error: FloraError): Array<string | undefined> {
  if (error instanceof FloraApiError) return [error.serverMessage];
  if (error instanceof FloraProtocolError) return [error.detail];
  return [];
}

async function errorOf(operation: () => Promise<unknown>): Promise<FloraError> {
  try {
    await operation();
  } catch (error) {
    assert.ok(error instanceof FloraError, `not a FloraError: ${String(error)}`);
    return error;
  }
  assert.fail('the operation succeeded');
}

describe('core/messages', () => {
  describe('filling templates', () => {
    it('fills numbered placeholders, leaving any without a value as written (as vscode.l10n.t does)', () => {
      assert.equal(fillTemplate('{0} of {1}', 'a', 2), 'a of 2');
      assert.equal(fillTemplate('{0} and {1}', 'a'), 'a and {1}');
      assert.equal(fillTemplate('{ slug: string } {0}', 'x'), '{ slug: string } x');
    });

    it('does not read placeholders inside the values it fills in', () => {
      assert.equal(fillTemplate('{0} then {1}', '{1}', 'b'), '{1} then b');
    });

    it('renders inner messages first, each through the translator', () => {
      const nested = message('inputProblem', message('inputLabelNamed', 'Product photo', 'product_image'), message('urlEmpty'));
      assert.equal(englishText(nested), 'Input "Product photo" (product_image): Enter a URL.');
      const asked: string[] = [];
      const bracket: Translate = (template, ...args) => {
        asked.push(template);
        return fillTemplate(`⟦${template}⟧`, ...args);
      };
      assert.equal(renderMessage(nested, bracket), '⟦Input ⟦"Product photo" (product_image)⟧: ⟦Enter a URL.⟧⟧');
      assert.deepEqual(asked, [MESSAGE_TEMPLATES.inputLabelNamed, MESSAGE_TEMPLATES.urlEmpty, MESSAGE_TEMPLATES.inputProblem]);
      assert.deepEqual(valuesIn(nested), ['Product photo', 'product_image']);
    });

    it("shows the extension's own translated text to the user, and its English to logs", () => {
      const text = { english: 'Open a file first.', translated: 'Öffnen Sie zuerst eine Datei.' };
      assert.equal(renderText(text, fillTemplate), 'Öffnen Sie zuerst eine Datei.');
      assert.equal(englishText(text), 'Open a file first.');
    });

    it('catches a word smuggled in as a value (the check below can fail)', () => {
      assert.throws(
        () => assertTranslatesWhole(message('inputMissing', message('inputLabel', 'x'), 'image link'), 'smuggled', ['x']),
        /"image link"/,
      );
      assert.throws(() => assertTranslatesWhole('Enter a URL.', 'plain string'), /not a Message/);
    });
  });

  describe('real errors translate whole', function () {
    this.timeout(20_000);
    let sandbox: Sandbox;
    let dispatcher: Dispatcher;
    let client: FloraClient;

    before(async () => {
      sandbox = await startSandbox({ runDurationMs: 200 });
      dispatcher = createDispatcher();
      client = makeClient(sandbox, dispatcher, { retry: { attempts: 1 } });
    });
    afterEach(() => sandbox.faults.clear());
    after(async () => {
      await sandbox.close();
      await dispatcher.close();
    });

    const create = (target: FloraClient, slug: string, value = PHOTO) =>
      target.createRun(slug, [{ id: 'product_image', type: 'imageUrl', value }], { idempotencyKey: newIdempotencyKey() });

    it('for every documented error code, English message included', async () => {
      const cases: Array<[string, () => Promise<unknown>, RegExp, string[]?]> = [
        ['unauthorized', () => makeClient(sandbox, dispatcher, { getApiKey: () => undefined }).getTechnique('studio-shot'), /no API key/],
        [
          'invalid_api_key',
          () => makeClient(sandbox, dispatcher, { getApiKey: () => 'sk_live_wrong' }).getTechnique('studio-shot'),
          /rejected the API key/,
        ],
        [
          'not_found (technique)',
          () => client.getTechnique('no-such-technique'),
          /does not know the technique "no-such-technique"/,
          ['no-such-technique'],
        ],
        ['not_found (run)', () => client.getRun('studio-shot', 'run_missing'), /does not know the run run_missing/, ['run_missing']],
        ['input_validation_error', () => create(client, 'studio-shot', 'https://example.com/a.png'), /rejected the inputs.*FLORA said: "/],
        ['invalid slug', () => client.getTechnique('../etc'), /is not a technique slug/, ['../etc']],
      ];
      for (const [label, operation, english, values = []] of cases) {
        const error = await errorOf(operation);
        assertTranslatesWhole(error.text, label, [...values, ...carried(error)]);
        assert.equal(englishText(error.text), error.message, label);
        assert.match(error.message, english, label);
      }
      const credits = sandbox.credits;
      sandbox.credits = 0;
      try {
        const error = await errorOf(() => create(client, 'studio-shot'));
        assertTranslatesWhole(error.text, 'insufficient_credits', carried(error));
        assert.match(error.message, /out of FLORA credits.*FLORA said: ".*credits/);
      } finally {
        sandbox.credits = credits;
      }
    });

    it('for rate limits, server errors, wrong replies and unreachable servers', async () => {
      const faults: Array<[string, Parameters<Sandbox['faults']['inject']>[1], RegExp]> = [
        ['429', { kind: 'rateLimit', retryAfterSeconds: 7 }, /rate limiting requests \(HTTP 429\)\. Retrying in 7 s\./],
        ['502 page', { kind: 'status', status: 502, html: true }, /an error page \(HTTP 502\)/],
        ['503', { kind: 'status', status: 503 }, /an error \(HTTP 503\)/],
        ['malformed', { kind: 'malformed' }, /not JSON/],
        ['wrong shape', { kind: 'wrongShape' }, /unexpected shape about the technique "studio-shot": /],
      ];
      for (const [label, fault, english] of faults) {
        sandbox.faults.inject('details', fault);
        const error = await errorOf(() => client.getTechnique('studio-shot'));
        assertTranslatesWhole(error.text, label, ['studio-shot', ...carried(error)]);
        assert.match(error.message, english, label);
      }
      const origin = `http://127.0.0.1:${await closedPort()}`;
      const unreachable = makeClient({ url: origin, apiKey: sandbox.apiKey }, dispatcher, {
        retry: { attempts: 1 },
      });
      const refused = await errorOf(() => unreachable.getTechnique('studio-shot'));
      assertTranslatesWhole(refused.text, 'refused', [origin]);
      assert.match(refused.message, /connection was refused/);
    });
  });

  describe('problems found before sending translate whole', () => {
    it('for each input and URL problem, and every problem of a refused set of inputs', () => {
      const image = ANIMATOR.inputs[0];
      assert.ok(image);
      for (const value of [
        '',
        'not a url',
        'http://media.flora.ai/a.png',
        'ftp://media.flora.ai/a.png',
        'https://u@media.flora.ai/a.png',
        'https://media.flora.ai:8443/a.png',
        'https://example.com/a.png',
        'https://media.flora.ai\\@x',
      ]) {
        const problem = checkInputValue(image, value);
        assert.ok(problem, value);
        assertTranslatesWhole(problem, value, [value, 'ftp:', 'example.com']);
      }
      const unsupported = checkInputValue({ id: 'clip', type: 'audioUrl' }, 'x');
      assert.ok(unsupported);
      assertTranslatesWhole(unsupported, 'unsupported type', ['audioUrl']);
      try {
        buildRunInputs(ANIMATOR, { product_image: 42, bogus: 'x' });
        assert.fail('accepted');
      } catch (error) {
        assert.ok(error instanceof FloraInputError);
        assert.equal(error.problems.length, 3);
        const values = [
          'Product Image',
          'Motion Prompt',
          'product_image',
          'motion_prompt',
          'bogus',
          'Product Animator',
          'product_image, motion_prompt',
        ];
        for (const problem of error.problems) assertTranslatesWhole(problem.text, `problem with ${problem.inputId}`, values);
        assert.equal(error.message, error.problems.map((problem) => englishText(problem.text)).join(' '));
      }
      const noInputs = { ...ANIMATOR, inputs: [] };
      try {
        buildRunInputs(noInputs, { bogus: 'x' });
        assert.fail('accepted');
      } catch (error) {
        assert.ok(error instanceof FloraInputError);
        assert.match(error.message, /which takes no inputs/);
      }
    });

    it('for type names, technique references and base URLs', () => {
      for (const type of ['imageUrl', 'videoUrl', 'text']) assertTranslatesWhole(describeType(type), type);
      // A type the document does not list is named as FLORA sent it, not translated.
      assert.equal(describeType('audioUrl'), 'audioUrl');
      for (const reference of ['', 'https://', 'https://app.flora.ai/other/x', 'https://app.flora.ai/techniques/%zz', 'bad slug!']) {
        const parsed = parseTechniqueReference(reference);
        assert.ok('problem' in parsed, reference);
        assertTranslatesWhole(parsed.problem, reference, ['%zz']);
      }
      for (const base of ['not a url', 'http://flora.example', 'https://user:pass@flora.example']) {
        try {
          parseBaseUrl(base);
          assert.fail(`accepted ${base}`);
        } catch (error) {
          assert.ok(error instanceof FloraError, String(error));
          assertTranslatesWhole(error.text, base, [base, DEFAULT_BASE_URL, 'http://flora.example']);
        }
      }
    });
  });
});
