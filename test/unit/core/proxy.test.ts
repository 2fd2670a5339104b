// HTTPS_PROXY / HTTP_PROXY / NO_PROXY and an explicit proxy (VS Code's http.proxy) are honoured: a real
// loopback proxy sees the requests, and a NO_PROXY match bypasses it.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

import { createDispatcher } from '../../../src/core/dispatcher';
import { startSandbox, type Sandbox } from '../../sandbox/server';
import { makeClient } from './helpers';

/** A minimal forward proxy: CONNECT tunnels and absolute-form requests, counting both. */
async function startProxy(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    const target = new URL(request.url ?? '');
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: request.method,
        headers: request.headers,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connect', (request, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${request.url}`);
    const [host, port] = (request.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('core/http proxies', () => {
  const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;
  const saved = new Map<string, string | undefined>();
  let sandbox: Sandbox;
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  before(async () => {
    for (const name of names) saved.set(name, process.env[name]);
    sandbox = await startSandbox({ runDurationMs: 300 });
    proxy = await startProxy();
  });

  afterEach(() => {
    for (const name of names) {
      const value = saved.get(name);
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    proxy.seen.length = 0;
  });

  after(async () => {
    await proxy.close();
    await sandbox.close();
  });

  it('sends requests through HTTP_PROXY from the environment', async () => {
    for (const name of names) delete process.env[name];
    process.env.HTTP_PROXY = proxy.url;
    const dispatcher = createDispatcher();
    try {
      const details = await makeClient(sandbox, dispatcher).getTechnique('studio-shot');
      assert.equal(details.name, 'Studio Shot');
      assert.ok(proxy.seen.length >= 1, 'the proxy saw the request');
      assert.ok(proxy.seen.some((line) => line.includes(new URL(sandbox.url).host)));
    } finally {
      await dispatcher.close();
    }
  });

  it('bypasses the proxy for hosts in NO_PROXY', async () => {
    for (const name of names) delete process.env[name];
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

  it('uses an explicit proxy URL (VS Code http.proxy) whatever the environment says', async () => {
    for (const name of names) delete process.env[name];
    const dispatcher = createDispatcher({ proxyUrl: proxy.url });
    try {
      await makeClient(sandbox, dispatcher).getTechnique('icon-pack');
      assert.ok(proxy.seen.length >= 1);
    } finally {
      await dispatcher.close();
    }
  });

  it('goes direct when no proxy is configured', async () => {
    for (const name of names) delete process.env[name];
    const dispatcher = createDispatcher();
    try {
      await makeClient(sandbox, dispatcher).getTechnique('studio-shot');
      assert.deepEqual(proxy.seen, []);
    } finally {
      await dispatcher.close();
    }
  });
});
