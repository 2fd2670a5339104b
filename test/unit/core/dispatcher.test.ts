/**
 * The API's dispatcher against servers less friendly than the sandbox used to be (issue 12): one connection
 * per origin however many requests are out at once, HTTP/2 where the server offers it, the server's
 * Keep-Alive hint read for the poller. The HTTP/2 server's certificate is made here and trusted only by
 * the dispatcher under test, through its test-only `ca`; without it the same server is refused.
 */
import * as assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';

import { createDispatcher } from '../../../src/core/dispatcher';
import { FloraTransportError } from '../../../src/core/errors';
import { KeepAliveHints, parseKeepAlive } from '../../../src/core/keepAlive';
import { loopbackCertificate } from '../../sandbox/certificate';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { makeClient } from './helpers';

const TEXT_INPUTS = [{ id: 'prompt', type: 'text' as const, value: 'icons' }];

/** Twelve runs created at once, then polled at once three times: what 12 runs started together send. */
async function twelveRunsAtOnce(sandbox: Sandbox, dispatcher: Dispatcher): Promise<void> {
  const client = makeClient(sandbox, dispatcher);
  const created = await Promise.all(
    Array.from({ length: 12 }, (_, index) => client.createRun('icon-pack', TEXT_INPUTS, { idempotencyKey: `twelve-${index}` })),
  );
  for (let round = 0; round < 3; round++) {
    await Promise.all(created.map((run) => client.getRun('icon-pack', run.runId, { pollUrl: run.pollUrl })));
  }
}

describe('core/dispatcher: connections (issue 12)', () => {
  const closing: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close().catch(() => undefined);
  });

  async function sandboxWith(options: Parameters<typeof startSandbox>[0]): Promise<Sandbox> {
    const sandbox = await startSandbox({ runDurationMs: 60_000, credits: 1_000_000, ...options });
    closing.push(() => sandbox.close());
    return sandbox;
  }

  function dispatcherWith(options: Parameters<typeof createDispatcher>[0]): Dispatcher {
    const dispatcher = createDispatcher(options);
    closing.push(() => dispatcher.close());
    return dispatcher;
  }

  it('queues the requests of 12 runs started at once on one HTTP/1.1 connection; uploads keep theirs in parallel', async () => {
    const sandbox = await sandboxWith({ keepAliveMs: 5_000 });
    await twelveRunsAtOnce(sandbox, dispatcherWith({ direct: true }));
    assert.equal(sandbox.requests.length, 48);
    assert.equal(sandbox.connections, 1, 'one connection for 48 requests, 12 at a time');

    // Upload parts go out together: a dispatcher for them is not bounded.
    const uploads = await sandboxWith({ keepAliveMs: 5_000 });
    uploads.faults.inject('details', { kind: 'delay', ms: 300 }, { times: 4 });
    const client = makeClient(uploads, dispatcherWith({ direct: true, parallel: true }));
    await Promise.all(Array.from({ length: 4 }, () => client.getTechnique('icon-pack')));
    assert.equal(uploads.connections, 4);
  });

  it('multiplexes everything over one HTTP/2 connection to a TLS server that offers h2 (its CA given by the test)', async function () {
    const certificate = loopbackCertificate();
    assert.ok(certificate, 'openssl makes the test certificate: install it (npm run install-editor does)');
    const sandbox = await sandboxWith({ tls: certificate });
    assert.match(sandbox.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    await twelveRunsAtOnce(sandbox, dispatcherWith({ direct: true, ca: certificate.cert }));
    assert.equal(sandbox.requests.length, 48);
    assert.deepEqual([...new Set(sandbox.requests.map((request) => request.httpVersion))], ['2.0']);
    assert.equal(sandbox.connections, 1);
  });

  it('still verifies certificates: without the test CA the self-signed server is refused as a TLS failure', async function () {
    const certificate = loopbackCertificate();
    assert.ok(certificate, 'openssl makes the test certificate: install it (npm run install-editor does)');
    const sandbox = await sandboxWith({ tls: certificate });
    const client = makeClient(sandbox, dispatcherWith({ direct: true }));
    await assert.rejects(
      client.getTechnique('icon-pack'),
      (error: unknown) => error instanceof FloraTransportError && error.failure === 'tls',
    );
    assert.equal(sandbox.requests.length, 0, 'no request reached the server');
  });

  it("reads the server's Keep-Alive hint: the poller may leave the connection idle 3.75 s on a 5 s server, 63.75 s on a 65 s one", async () => {
    const hints = new KeepAliveHints();
    assert.equal(hints.idleBudgetMs(), 3_750, "before any reply: Node's 5 s assumed");
    for (const [keepAliveMs, budget] of [
      [65_000, 63_750],
      [5_000, 3_750],
    ] as const) {
      const sandbox = await sandboxWith({ keepAliveMs });
      await makeClient(sandbox, dispatcherWith({ direct: true, keepAliveHints: hints })).getTechnique('icon-pack');
      assert.equal(hints.idleBudgetMs(), budget);
      assert.equal(hints.idleBudgetMs(sandbox.url), budget);
    }
  });

  it('parses Keep-Alive headers, and a reply without one leaves the connection to the 30 s the dispatcher keeps it', () => {
    assert.equal(parseKeepAlive('timeout=5'), 5_000);
    assert.equal(parseKeepAlive('max=100, timeout=65'), 65_000);
    assert.equal(parseKeepAlive('Timeout = "7"'), 7_000);
    assert.equal(parseKeepAlive('max=100'), undefined);
    assert.equal(parseKeepAlive(undefined), undefined);
    const hints = new KeepAliveHints();
    hints.record('https://app.flora.ai', undefined);
    assert.equal(hints.idleBudgetMs(), 28_750);
  });
});
