// HTTPS_PROXY / HTTP_PROXY / NO_PROXY and an explicit proxy (VS Code's http.proxy) are honoured for a
// remote base URL: a real loopback proxy sees the requests (a CONNECT to the remote host, which it answers
// 502, so nothing leaves the machine), and a NO_PROXY match bypasses it. A loopback base URL (the sandbox,
// plain http) is never sent through a proxy, which would see the API key in clear (issue 10): the
// dispatcher FloraConnection makes for it goes direct.
import * as assert from 'node:assert/strict';

import { FloraError } from '../../../src/core/errors';
import { createDispatcher, dispatcherOptionsFor } from '../../../src/core/dispatcher';
import { startProxy, type TestProxy } from '../../common/proxy';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { makeClient } from './helpers';

/** A remote FLORA (https, not loopback); the test proxy answers its CONNECT with 502. */
const REMOTE = { url: 'https://flora.test', apiKey: 'sk_live_remote' };

describe('core/http proxies', () => {
  const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;
  const saved = new Map<string, string | undefined>();
  let sandbox: Sandbox;
  let proxy: TestProxy;

  before(async () => {
    for (const name of names) saved.set(name, process.env[name]);
    sandbox = await startSandbox({ runDurationMs: 300 });
    proxy = await startProxy();
  });

  beforeEach(() => {
    for (const name of names) delete process.env[name];
  });

  afterEach(() => {
    for (const name of names) {
      const value = saved.get(name);
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    proxy.seen.length = 0;
    proxy.authorizations.length = 0;
  });

  after(async () => {
    await proxy.close();
    await sandbox.close();
  });

  /** The sandbox's requests that carried its key, from index `from` on. */
  function keyedRequestsSince(from: number): number {
    return sandbox.requests.slice(from).filter((request) => request.authorization === `Bearer ${sandbox.apiKey}`).length;
  }

  describe('for a remote (https) base URL', () => {
    it('sends requests through HTTP_PROXY from the environment', async () => {
      process.env.HTTP_PROXY = proxy.url;
      const dispatcher = createDispatcher();
      try {
        await assert.rejects(makeClient(REMOTE, dispatcher).getTechnique('studio-shot'), FloraError);
        assert.ok(proxy.seen.includes('CONNECT flora.test:443'), proxy.seen.join(', '));
      } finally {
        await dispatcher.close();
      }
    });

    it('uses an explicit proxy URL (VS Code http.proxy) whatever the environment says', async () => {
      const dispatcher = createDispatcher({ proxyUrl: proxy.url });
      try {
        await assert.rejects(makeClient(REMOTE, dispatcher).getTechnique('icon-pack'), FloraError);
        assert.ok(proxy.seen.includes('CONNECT flora.test:443'), proxy.seen.join(', '));
      } finally {
        await dispatcher.close();
      }
    });

    it('keeps the proxy in the options FloraConnection makes for it', async () => {
      process.env.HTTP_PROXY = proxy.url;
      assert.deepEqual(dispatcherOptionsFor('https://app.flora.ai', proxy.url), { proxyUrl: proxy.url, direct: false });
      const dispatcher = createDispatcher(dispatcherOptionsFor(REMOTE.url, proxy.url));
      try {
        await assert.rejects(makeClient(REMOTE, dispatcher).getTechnique('studio-shot'), FloraError);
        assert.ok(proxy.seen.includes('CONNECT flora.test:443'), proxy.seen.join(', '));
      } finally {
        await dispatcher.close();
      }
    });
  });

  describe('createDispatcher', () => {
    it('bypasses the proxy for hosts in NO_PROXY', async () => {
      process.env.HTTP_PROXY = proxy.url;
      process.env.NO_PROXY = '127.0.0.1';
      const dispatcher = createDispatcher();
      try {
        await makeClient(sandbox, dispatcher).getTechnique('studio-shot');
        assert.deepEqual(proxy.seen, []);
      } finally {
        await dispatcher.close();
      }
    });

    it('goes direct when no proxy is configured', async () => {
      const dispatcher = createDispatcher();
      try {
        await makeClient(sandbox, dispatcher).getTechnique('studio-shot');
        assert.deepEqual(proxy.seen, []);
      } finally {
        await dispatcher.close();
      }
    });

    it('direct: true ignores an explicit proxy and HTTP_PROXY; direct: false uses them', async () => {
      process.env.HTTP_PROXY = proxy.url;
      const direct = createDispatcher({ direct: true, proxyUrl: proxy.url });
      const proxied = createDispatcher({ direct: false, proxyUrl: proxy.url });
      try {
        const from = sandbox.requests.length;
        await makeClient(sandbox, direct).getTechnique('studio-shot');
        assert.equal(proxy.seen.length, 0, `direct: nothing reached the proxy: ${proxy.seen.join(', ')}`);
        assert.equal(keyedRequestsSince(from), 1, 'direct: the sandbox got the request');

        await makeClient(sandbox, proxied).getTechnique('studio-shot');
        assert.ok(proxy.seen.length >= 1, 'direct: false: the proxy saw the request');
        assert.ok(proxy.seen.some((line) => line.includes(new URL(sandbox.url).host)));
      } finally {
        await direct.close();
        await proxied.close();
      }
    });
  });

  describe('for a loopback base URL (the sandbox), as FloraConnection makes the dispatcher', () => {
    it('goes direct for 127.x.y.z, localhost and [::1], whatever the proxy', () => {
      for (const url of ['http://127.0.0.1:4010', 'http://127.1.2.3', 'http://localhost:4010/flora', 'http://[::1]:4010']) {
        assert.deepEqual(dispatcherOptionsFor(url, proxy.url), { direct: true }, url);
      }
      assert.deepEqual(dispatcherOptionsFor('not a url', proxy.url), { proxyUrl: proxy.url, direct: false });
    });

    it('sends nothing to a configured proxy (explicit or HTTP_PROXY): the key reaches only the sandbox', async () => {
      process.env.HTTP_PROXY = proxy.url;
      process.env.HTTPS_PROXY = proxy.url;
      const dispatcher = createDispatcher(dispatcherOptionsFor(sandbox.url, proxy.url));
      try {
        const from = sandbox.requests.length;
        const client = makeClient(sandbox, dispatcher);
        await client.getTechnique('studio-shot');
        const created = await client.createRun(
          'studio-shot',
          [{ id: 'product_image', type: 'imageUrl', value: 'https://media.flora.ai/p.png' }],
          {
            idempotencyKey: 'flora-vscode-proxy-test',
          },
        );
        await client.getRun('studio-shot', created.runId, { pollUrl: created.pollUrl });
        assert.deepEqual(proxy.seen, [], 'the proxy saw no request');
        assert.deepEqual(proxy.authorizations, [], 'nor the key');
        assert.equal(keyedRequestsSince(from), 3, 'the sandbox got all three, with the key');
      } finally {
        await dispatcher.close();
      }
    });
  });
});
