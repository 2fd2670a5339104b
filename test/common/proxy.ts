// A minimal forward proxy on 127.0.0.1, for both tiers (free of vscode): CONNECT tunnels and absolute-form
// requests, each recorded. Only loopback targets are forwarded; any other host is recorded and answered
// 502, so a test can see that a request for a remote host went to the proxy without any traffic leaving
// the machine.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TestProxy {
  url: string;
  /** One line per request the proxy received: "CONNECT host:port" or "GET http://host/path". */
  seen: string[];
  /** The Authorization headers of the absolute-form requests it received (a CONNECT carries none). */
  authorizations: string[];
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

export async function startProxy(): Promise<TestProxy> {
  const seen: string[] = [];
  const authorizations: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    if (request.headers.authorization) authorizations.push(request.headers.authorization);
    let target: URL;
    try {
      target = new URL(request.url ?? '');
    } catch {
      response.writeHead(400).end();
      return;
    }
    if (!isLoopback(target.hostname)) {
      response.writeHead(502).end();
      return;
    }
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
    client.on('error', () => undefined);
    const separator = (request.url ?? '').lastIndexOf(':');
    const host = (request.url ?? '').slice(0, separator);
    const port = Number((request.url ?? '').slice(separator + 1));
    if (!isLoopback(host)) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, host.replace(/^\[|\]$/g, ''), () => {
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
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
