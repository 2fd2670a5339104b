/**
 * FloraClient against the sandbox over real HTTP: every documented error code, every run status, retries
 * and their limits, the create-once guarantee, and the rule that the API key only goes to the base URL.
 */
import * as assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';

import { FloraClient, newIdempotencyKey } from '../../../src/core/api';
import { FloraApiError, FloraProtocolError, FloraRateLimitError, FloraServerError, FloraTransportError } from '../../../src/core/errors';
import { createDispatcher } from '../../../src/core/dispatcher';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import {
  FAST_RETRY,
  PHOTO,
  USER_AGENT,
  closedPort,
  createImageRun,
  makeClient,
  pollsOf,
  requestsSince,
  runPathOf,
  sendJson,
  startLoopbackServer,
  waitFor,
  waitForFinal,
} from './helpers';

const RUN_DURATION_MS = 600;
const DETAILS_PATH = '/api/v1/techniques/studio-shot';
const CREATE_PATH = '/api/v1/techniques/studio-shot/runs';

function isApiError(status: number, code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof FloraApiError, `expected FloraApiError, got ${String(error)}`);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    return true;
  };
}

describe('core/api FloraClient against the sandbox', () => {
  let sandbox: Sandbox;
  let dispatcher: Dispatcher;
  let client: FloraClient;

  before(async () => {
    sandbox = await startSandbox({ runDurationMs: RUN_DURATION_MS });
    dispatcher = createDispatcher();
    client = makeClient(sandbox, dispatcher);
  });

  afterEach(() => sandbox.faults.clear());

  after(async () => {
    await sandbox.close();
    await dispatcher.close();
  });

  describe('documented error codes', () => {
    it('refuses to send without a key (unauthorized) and the sandbox receives nothing', async () => {
      for (const missing of [undefined, '', '   ']) {
        const before = sandbox.requests.length;
        const keyless = makeClient(sandbox, dispatcher, { getApiKey: () => missing });
        await assert.rejects(keyless.getTechnique('studio-shot'), (error: unknown) => {
          assert.ok(isApiError(401, 'unauthorized')(error));
          assert.ok(error instanceof FloraApiError && error.isAuthError);
          return true;
        });
        await assert.rejects(
          keyless.createRun('studio-shot', [{ id: 'product_image', type: 'imageUrl', value: PHOTO }], {
            idempotencyKey: newIdempotencyKey(),
          }),
          isApiError(401, 'unauthorized'),
        );
        assert.equal(sandbox.requests.length, before, `key ${JSON.stringify(missing)} still sent a request`);
      }
    });

    it('maps a wrong key to invalid_api_key (401, isAuthError) without retrying', async () => {
      const before = sandbox.requests.length;
      const wrong = makeClient(sandbox, dispatcher, { getApiKey: () => 'sk_live_wrong' });
      await assert.rejects(wrong.getTechnique('studio-shot'), (error: unknown) => {
        assert.ok(isApiError(401, 'invalid_api_key')(error));
        assert.ok(error instanceof FloraApiError);
        assert.equal(error.isAuthError, true);
        assert.equal(error.retryable, false);
        assert.ok(error.serverMessage && error.serverMessage.length > 0, 'keeps the server message');
        return true;
      });
      const sent = requestsSince(sandbox, before);
      assert.equal(sent.length, 1);
      assert.equal(sent[0]?.authorization, 'Bearer sk_live_wrong');
    });

    it('maps inputs the sandbox rejects to input_validation_error, naming the input, without retrying', async () => {
      const before = sandbox.requests.length;
      // Local validation (buildRunInputs) is bypassed on purpose: createRun sends what it is given.
      await assert.rejects(
        client.createRun('studio-shot', [{ id: 'not_an_input', type: 'imageUrl', value: PHOTO }], {
          idempotencyKey: newIdempotencyKey(),
        }),
        (error: unknown) => {
          assert.ok(isApiError(400, 'input_validation_error')(error));
          assert.ok(error instanceof FloraApiError);
          assert.match(error.serverMessage ?? '', /not_an_input/);
          assert.match(error.message, /not_an_input/);
          return true;
        },
      );
      assert.equal(requestsSince(sandbox, before).length, 1);
    });

    it('maps an unknown slug and an unknown run to not_found', async () => {
      await assert.rejects(client.getTechnique('no-such-technique'), (error: unknown) => {
        assert.ok(isApiError(404, 'not_found')(error));
        assert.match((error as Error).message, /no-such-technique/);
        return true;
      });
      await assert.rejects(client.getRun('studio-shot', 'j57nosuchrun'), (error: unknown) => {
        assert.ok(isApiError(404, 'not_found')(error));
        assert.match((error as Error).message, /j57nosuchrun/);
        return true;
      });
    });

    it('maps insufficient_credits (402) and does not retry it', async () => {
      const credits = sandbox.credits;
      sandbox.credits = 0;
      const before = sandbox.requests.length;
      try {
        await assert.rejects(createImageRun(client, 'studio-shot', 'product_image'), (error: unknown) => {
          assert.ok(isApiError(402, 'insufficient_credits')(error));
          assert.equal((error as FloraApiError).retryable, false);
          assert.match((error as Error).message, /credits/);
          return true;
        });
        assert.equal(requestsSince(sandbox, before).length, 1);
      } finally {
        sandbox.credits = credits;
      }
    });

    it('maps an invalid_json error body (400) to a typed error, not retried', async () => {
      // The client always sends JSON.stringify output, so it cannot make the sandbox produce invalid_json
      // by itself; a status fault of 400 makes the sandbox answer with exactly that documented body.
      sandbox.faults.inject('create', { kind: 'status', status: 400 });
      const before = sandbox.requests.length;
      await assert.rejects(createImageRun(client, 'studio-shot', 'product_image'), (error: unknown) => {
        assert.ok(isApiError(400, 'invalid_json')(error));
        assert.match((error as Error).message, /JSON/);
        return true;
      });
      assert.equal(requestsSince(sandbox, before).length, 1);
    });
  });

  describe('run statuses through getRun', () => {
    it('sees pending, then running with 0 < progress < 100, then completed with outputs and chargedCost', async () => {
      const details = await client.getTechnique('studio-shot');
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      assert.equal(created.status, 'pending');
      const seen: { status: string; progress: number | undefined }[] = [];
      const final = await waitFor(
        'the run to finish',
        async () => {
          const reply = await client.getRun('studio-shot', created.runId);
          assert.equal(reply.runId, created.runId);
          seen.push({ status: reply.status, progress: reply.progress });
          return reply.status === 'completed' || reply.status === 'failed' ? reply : undefined;
        },
        5_000,
        10,
      );
      assert.equal(seen[0]?.status, 'pending');
      assert.equal(seen[0]?.progress, 0);
      const running = seen.filter((entry) => entry.status === 'running');
      assert.ok(running.length > 0, `never saw running: ${JSON.stringify(seen)}`);
      assert.ok(running.some((entry) => (entry.progress ?? 0) > 0 && (entry.progress ?? 100) < 100));
      const order = ['pending', 'running', 'completed'];
      const indexes = seen.map((entry) => order.indexOf(entry.status));
      assert.deepEqual(
        [...indexes].sort((a, b) => a - b),
        indexes,
        'statuses never go backwards',
      );

      assert.equal(final.status, 'completed');
      assert.equal(final.progress, 100);
      assert.equal(final.chargedCost, details.runCost);
      assert.equal(final.errorCode, undefined);
      assert.equal(final.outputs?.length, 1);
      assert.equal(final.outputs?.[0]?.outputId, 'studio_shot');
      assert.equal(final.outputs?.[0]?.type, 'imageUrl');
      assert.match(final.outputs?.[0]?.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/media\//);
      assert.ok((final.completedAt ?? 0) >= (final.startedAt ?? Infinity));
    });

    it('sends each input as the document names it (id, type, value) and nothing the extension keeps beside it', async () => {
      const before = sandbox.requests.length;
      const input = { id: 'product_image', type: 'imageUrl' as const, value: PHOTO, localPath: 'private/clients/acme/sneaker.png' };
      await client.createRun('studio-shot', [input], { idempotencyKey: newIdempotencyKey() });
      const [posted] = requestsSince(sandbox, before).filter((request) => request.method === 'POST');
      const body = JSON.parse(posted?.body ?? '{}') as { inputs?: unknown[] };
      assert.deepEqual(body.inputs, [{ id: 'product_image', type: 'imageUrl', value: PHOTO }]);
      assert.ok(!(posted?.body ?? '').includes('acme'), 'the local path stays on this machine');
    });

    it('returns every output of a multi-output run (icon-pack: 4 images)', async () => {
      const created = await client.createRun('icon-pack', [{ id: 'prompt', type: 'text', value: 'a friendly fox' }], {
        idempotencyKey: newIdempotencyKey(),
      });
      const final = await waitForFinal(client, 'icon-pack', created.runId);
      assert.equal(final.status, 'completed');
      assert.deepEqual(
        final.outputs?.map((output) => `${output.outputId}:${output.type}`),
        ['icon_1:imageUrl', 'icon_2:imageUrl', 'icon_3:imageUrl', 'icon_4:imageUrl'],
      );
    });

    it('sees a failed run with its errorCode and errorMessage and no charge', async () => {
      sandbox.faults.failRuns = { errorCode: 'content_filtered', errorMessage: 'The image was filtered' };
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      sandbox.faults.failRuns = undefined;
      const final = await waitForFinal(client, 'studio-shot', created.runId);
      assert.equal(final.status, 'failed');
      assert.equal(final.errorCode, 'content_filtered');
      assert.equal(final.errorMessage, 'The image was filtered');
      assert.equal(final.chargedCost, undefined);
      assert.equal(final.outputs, undefined);
      assert.equal(sandbox.runs().find((run) => run.runId === created.runId)?.chargedCost, undefined);
    });
  });

  describe('retries', () => {
    it('retries a 429 after the Retry-After it names', async () => {
      sandbox.faults.inject('details', { kind: 'rateLimit', retryAfterSeconds: 1 });
      // The client's wait is recorded instead of slept: what is checked is how long it chose to wait.
      const waits: number[] = [];
      const recording = makeClient(sandbox, dispatcher, { sleep: async (milliseconds) => void waits.push(milliseconds) });
      const before = sandbox.requests.length;
      const details = await recording.getTechnique('studio-shot');
      assert.equal(details.name, 'Studio Shot');
      const sent = requestsSince(sandbox, before).filter((request) => request.path === DETAILS_PATH);
      assert.equal(sent.length, 2);
      // Our policy would wait ~20 ms; only the header explains a second.
      assert.deepEqual(waits, [1_000], 'one wait, of the second Retry-After names');
    });

    it("gives up on 429 after the policy's attempts with a FloraRateLimitError", async () => {
      sandbox.faults.inject('details', { kind: 'rateLimit', retryAfterSeconds: 0 }, { times: Infinity });
      const before = sandbox.requests.length;
      await assert.rejects(client.getTechnique('studio-shot'), (error: unknown) => {
        assert.ok(error instanceof FloraRateLimitError, String(error));
        assert.equal(error.retryAfterMs, 0);
        return true;
      });
      assert.equal(requestsSince(sandbox, before).length, FAST_RETRY.attempts);
    });

    it('retries 5xx replies with JSON and with HTML bodies, then succeeds', async () => {
      sandbox.faults.inject('details', { kind: 'status', status: 503 });
      sandbox.faults.inject('details', { kind: 'status', status: 502, html: true });
      const before = sandbox.requests.length;
      const details = await client.getTechnique('studio-shot');
      assert.equal(details.techniqueId.length > 0, true);
      assert.equal(requestsSince(sandbox, before).length, 3);
    });

    it('throws a FloraServerError once the attempts run out', async () => {
      sandbox.faults.inject('details', { kind: 'status', status: 500 }, { times: FAST_RETRY.attempts });
      let before = sandbox.requests.length;
      await assert.rejects(client.getTechnique('studio-shot'), (error: unknown) => {
        assert.ok(error instanceof FloraServerError, String(error));
        assert.equal(error.status, 500);
        assert.match(error.message, /HTTP 500/);
        return true;
      });
      assert.equal(requestsSince(sandbox, before).length, FAST_RETRY.attempts);

      sandbox.faults.inject('details', { kind: 'status', status: 502, html: true }, { times: FAST_RETRY.attempts });
      before = sandbox.requests.length;
      await assert.rejects(client.getTechnique('studio-shot'), (error: unknown) => {
        assert.ok(error instanceof FloraServerError, String(error));
        assert.equal(error.status, 502);
        assert.match(error.message, /error page/);
        assert.doesNotMatch(error.message, /<html|DOCTYPE/i, 'the page itself is not shown to the user');
        return true;
      });
      assert.equal(requestsSince(sandbox, before).length, FAST_RETRY.attempts);
    });

    it('retries a truncated (malformed) reply and reports FloraProtocolError when it persists', async () => {
      sandbox.faults.inject('details', { kind: 'malformed' });
      assert.equal((await client.getTechnique('studio-shot')).name, 'Studio Shot');

      sandbox.faults.inject('details', { kind: 'malformed' }, { times: FAST_RETRY.attempts });
      const before = sandbox.requests.length;
      await assert.rejects(client.getTechnique('studio-shot'), (error: unknown) => {
        assert.ok(error instanceof FloraProtocolError, String(error));
        assert.match(error.detail, /not JSON/);
        return true;
      });
      assert.equal(requestsSince(sandbox, before).length, FAST_RETRY.attempts);
    });

    it('reports a reply of the wrong shape as FloraProtocolError naming the bad field', async () => {
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      // {"status": 42}: no runId, and a status that is not a string.
      sandbox.faults.inject('poll', { kind: 'wrongShape' });
      await assert.rejects(client.getRun('studio-shot', created.runId), (error: unknown) => {
        assert.ok(error instanceof FloraProtocolError, String(error));
        assert.match(error.detail, /runId/);
        assert.match(error.detail, /status/);
        assert.match(error.message, /runId/);
        return true;
      });
      sandbox.faults.inject('details', { kind: 'wrongShape' }, { times: FAST_RETRY.attempts });
      await assert.rejects(client.getTechnique('studio-shot'), (error: unknown) => {
        assert.ok(error instanceof FloraProtocolError, String(error));
        assert.match(error.detail, /techniqueId/);
        assert.match(error.detail, /runCost/);
        return true;
      });
    });

    it('times out a request whose reply never comes (hang) as FloraTransportError "timeout"', async () => {
      const impatient = makeClient(sandbox, dispatcher, { timeouts: { headersMs: 200 } });
      const created = await createImageRun(impatient, 'studio-shot', 'product_image');
      sandbox.faults.inject('poll', { kind: 'hang' });
      const started = Date.now();
      await assert.rejects(impatient.getRun('studio-shot', created.runId), (error: unknown) => {
        assert.ok(error instanceof FloraTransportError, String(error));
        assert.equal(error.failure, 'timeout');
        assert.equal(error.retryable, true);
        return true;
      });
      assert.ok(Date.now() - started < 2_000, 'gave up at the headers timeout');
    });

    it('reports a closed port as FloraTransportError "refused" after retrying', async () => {
      const port = await closedPort();
      const nowhere = makeClient({ url: `http://127.0.0.1:${port}`, apiKey: sandbox.apiKey }, dispatcher);
      await assert.rejects(nowhere.getTechnique('studio-shot'), (error: unknown) => {
        assert.ok(error instanceof FloraTransportError, String(error));
        assert.equal(error.failure, 'refused');
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        return true;
      });
    });

    it('retries a connection dropped before the reply and succeeds', async () => {
      sandbox.faults.inject('details', { kind: 'dropBefore' });
      const before = sandbox.requests.length;
      assert.equal((await client.getTechnique('studio-shot')).name, 'Studio Shot');
      assert.equal(requestsSince(sandbox, before).filter((request) => request.path === DETAILS_PATH).length, 2);
    });

    it('does not retry a poll unless asked (the poller owns poll retries)', async () => {
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      sandbox.faults.inject('poll', { kind: 'status', status: 503 });
      await assert.rejects(client.getRun('studio-shot', created.runId), FloraServerError);
      assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 1);
      sandbox.faults.inject('poll', { kind: 'status', status: 503 });
      const reply = await client.getRun('studio-shot', created.runId, { attempts: 2 });
      assert.equal(reply.runId, created.runId);
      assert.equal(pollsOf(sandbox, 'studio-shot', created.runId).length, 3);
    });
  });

  describe('creating a run exactly once', () => {
    it('retries a create whose reply was lost with the same idempotency key: one run, one charge', async () => {
      // A sandbox of its own, so no other test's runs finish (and charge) meanwhile.
      const own = await startSandbox({ runDurationMs: 300 });
      try {
        const ownClient = makeClient(own, dispatcher);
        own.faults.inject('create', { kind: 'dropAfter' });
        const idempotencyKey = newIdempotencyKey();
        const created = await ownClient.createRun('studio-shot', [{ id: 'product_image', type: 'imageUrl', value: PHOTO }], {
          idempotencyKey,
        });
        const creates = own.requests.filter((request) => request.method === 'POST' && request.path === CREATE_PATH);
        assert.ok(creates.length >= 2, 'the lost reply was retried');
        for (const request of creates) {
          assert.equal((JSON.parse(request.body) as { idempotency_key?: unknown }).idempotency_key, idempotencyKey);
        }
        const runs = own.runs();
        assert.equal(runs.length, 1, 'the sandbox created exactly one run');
        assert.equal(runs[0]?.runId, created.runId);
        assert.equal(runs[0]?.idempotencyKey, idempotencyKey);

        const final = await waitForFinal(ownClient, 'studio-shot', created.runId);
        assert.equal(final.status, 'completed');
        assert.equal(final.chargedCost, 5);
        // The sandbox charges at the moment it first reports the run finished, so the count is final now.
        assert.equal(own.charges(), 1);
        assert.equal(own.credits, 1000 - 5);
      } finally {
        await own.close();
      }
    });
  });

  describe('the API key stays home', () => {
    it('sends the key as a Bearer header with our User-Agent', async () => {
      const before = sandbox.requests.length;
      await client.getTechnique('studio-shot');
      const [sent] = requestsSince(sandbox, before);
      assert.equal(sent?.authorization, `Bearer ${sandbox.apiKey}`);
      assert.equal(sent?.userAgent, USER_AGENT);
    });

    it('polls the documented path on the base URL when pollUrl points at another origin', async () => {
      const elsewhere = await startLoopbackServer();
      try {
        sandbox.faults.pollOrigin = elsewhere.url;
        const created = await createImageRun(client, 'studio-shot', 'product_image');
        assert.ok(created.pollUrl?.startsWith(elsewhere.url), `pollUrl ${created.pollUrl}`);
        const before = sandbox.requests.length;
        const reply = await client.getRun('studio-shot', created.runId, { pollUrl: created.pollUrl });
        assert.equal(reply.runId, created.runId);
        assert.equal(elsewhere.hits.length, 0, 'nothing was sent to the other origin');
        assert.ok(elsewhere.hits.every((hit) => hit.headers.authorization === undefined));
        const sent = requestsSince(sandbox, before);
        assert.equal(sent.length, 1);
        assert.equal(sent[0]?.path, runPathOf('studio-shot', created.runId));
        assert.equal(sent[0]?.authorization, `Bearer ${sandbox.apiKey}`);

        // A foreign pollUrl with a path of its own: that path is not taken either.
        const foreign = `${elsewhere.url}/somewhere/else?token=1`;
        const afterForeign = sandbox.requests.length;
        assert.equal((await client.getRun('studio-shot', created.runId, { pollUrl: foreign })).runId, created.runId);
        assert.equal(requestsSince(sandbox, afterForeign)[0]?.path, runPathOf('studio-shot', created.runId));
        assert.equal(elsewhere.hits.length, 0);
      } finally {
        await elsewhere.close();
      }
    });

    it("uses a pollUrl on the base URL's own origin as given", async () => {
      const created = await createImageRun(client, 'studio-shot', 'product_image');
      assert.equal(created.pollUrl, `${sandbox.url}${runPathOf('studio-shot', created.runId)}`);
      const before = sandbox.requests.length;
      const pollUrl = `${created.pollUrl ?? ''}?from=pollUrl`;
      const reply = await client.getRun('studio-shot', created.runId, { pollUrl });
      assert.equal(reply.runId, created.runId);
      const sent = requestsSince(sandbox, before);
      assert.equal(sent.length, 1);
      assert.equal(sent[0]?.path, `${runPathOf('studio-shot', created.runId)}?from=pollUrl`);
    });

    it('never lets a same-origin pollUrl whose path starts with "//" carry the key to another host', async () => {
      const elsewhere = await startLoopbackServer();
      try {
        const created = await createImageRun(client, 'studio-shot', 'product_image');
        // Same origin as the base URL, but a path that a naive `new URL(path, origin)` reads as a host.
        const pollUrl = `${sandbox.url}//127.0.0.1:${elsewhere.port}${runPathOf('studio-shot', created.runId)}`;
        await client.getRun('studio-shot', created.runId, { pollUrl }).catch(() => undefined);
        assert.equal(elsewhere.hits.length, 0, 'the key went to another server');
      } finally {
        await elsewhere.close();
      }
    });

    it('builds request paths under the base URL, with or without a trailing slash or a path prefix', async () => {
      const withSlash = makeClient({ url: `${sandbox.url}/`, apiKey: sandbox.apiKey }, dispatcher);
      const before = sandbox.requests.length;
      assert.equal((await withSlash.getTechnique('studio-shot')).name, 'Studio Shot');
      assert.equal(requestsSince(sandbox, before)[0]?.path, DETAILS_PATH);

      const prefixed = await startLoopbackServer((_request, response) =>
        sendJson(response, 200, { techniqueId: 't', name: 'Prefixed', runCost: 1, inputs: [] }),
      );
      try {
        const prefixClient = makeClient({ url: `${prefixed.url}/flora/`, apiKey: 'sk_live_prefix' }, dispatcher);
        assert.equal((await prefixClient.getTechnique('studio-shot')).name, 'Prefixed');
        assert.equal(prefixed.hits[0]?.url, `/flora${DETAILS_PATH}`);
      } finally {
        await prefixed.close();
      }
    });

    it('does not follow a redirect, so the key never reaches its target', async () => {
      const target = await startLoopbackServer();
      const redirecting = await startLoopbackServer((request, response) => {
        response.writeHead(302, { location: `${target.url}${request.url ?? '/'}` });
        response.end();
      });
      try {
        const redirected = makeClient({ url: redirecting.url, apiKey: 'sk_live_redirect' }, dispatcher);
        await assert.rejects(redirected.getTechnique('studio-shot'), (error: unknown) => {
          assert.ok(error instanceof FloraProtocolError, String(error));
          assert.match(error.message, /redirect/);
          return true;
        });
        assert.equal(target.hits.length, 0);
      } finally {
        await target.close();
        await redirecting.close();
      }
    });
  });

  describe('slug validation', () => {
    for (const slug of ['../x', 'a/b', '%2e%2e', '', ' ', 'studio shot', '..', 'studio-shot?x=1', '-lead']) {
      it(`rejects ${JSON.stringify(slug)} before sending anything`, async () => {
        const before = sandbox.requests.length;
        // Each method returns a promise; a bad slug must reject it, not throw synchronously.
        const attempts = [
          client.getTechnique(slug),
          client.createRun(slug, [{ id: 'product_image', type: 'imageUrl', value: PHOTO }], {
            idempotencyKey: newIdempotencyKey(),
          }),
          client.getRun(slug, 'j57anything'),
        ];
        for (const attempt of attempts) {
          await assert.rejects(attempt, (error: unknown) => {
            assert.ok(isApiError(404, 'not_found')(error));
            assert.match((error as Error).message, /not a technique slug/);
            return true;
          });
        }
        assert.equal(sandbox.requests.length, before);
      });
    }
  });

  describe('replies from a server other than the sandbox', () => {
    it('accepts null optional fields and extra fields in a poll reply', async () => {
      const server = await startLoopbackServer((_request, response) =>
        sendJson(response, 200, {
          runId: 'j57nulls',
          status: 'running',
          progress: null,
          createdAt: null,
          startedAt: null,
          completedAt: null,
          chargedCost: null,
          outputs: null,
          errorCode: null,
          errorMessage: null,
          somethingNew: { nested: true },
        }),
      );
      try {
        const other = makeClient({ url: server.url, apiKey: 'sk_live_other' }, dispatcher);
        const reply = await other.getRun('studio-shot', 'j57nulls');
        assert.equal(reply.status, 'running');
        assert.equal(reply.progress, undefined);
        assert.equal(reply.outputs, undefined);
        assert.equal(reply.errorCode, undefined);
      } finally {
        await server.close();
      }
    });

    it('rejects a poll reply about a different run', async () => {
      const server = await startLoopbackServer((_request, response) =>
        sendJson(response, 200, { runId: 'j57someoneelse', status: 'completed', progress: 100 }),
      );
      try {
        const other = makeClient({ url: server.url, apiKey: 'sk_live_other' }, dispatcher);
        await assert.rejects(other.getRun('studio-shot', 'j57mine'), (error: unknown) => {
          assert.ok(error instanceof FloraProtocolError, String(error));
          assert.match(error.message, /j57someoneelse/);
          return true;
        });
      } finally {
        await server.close();
      }
    });

    it("maps a 401 or 404 without FLORA's error body to unauthorized / not_found", async () => {
      let status = 401;
      const server = await startLoopbackServer((_request, response) => {
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end('nope');
      });
      try {
        const other = makeClient({ url: server.url, apiKey: 'sk_live_other' }, dispatcher);
        await assert.rejects(other.getTechnique('studio-shot'), isApiError(401, 'unauthorized'));
        status = 404;
        await assert.rejects(other.getTechnique('studio-shot'), isApiError(404, 'not_found'));
        status = 418;
        await assert.rejects(other.getTechnique('studio-shot'), isApiError(418, 'http_418'));
        assert.equal(server.hits.length, 3, '4xx replies are not retried');
      } finally {
        await server.close();
      }
    });
  });
});
