// Shared pieces of the src/core tests: a client wired to a sandbox, a second loopback server that records
// what reaches it, and small waiting helpers. Everything listens on 127.0.0.1 only.
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';

import { FloraClient, newIdempotencyKey, type FloraClientOptions } from '../../../src/core/api';
import type { RunFetcher } from '../../../src/core/poller';
import type { CreateRunReply, RunStatusReply } from '../../../src/core/runReplies';
import type { TechniqueDetails } from '../../../src/core/schemas';
import { waitFor } from '../../common/wait';
import type { RecordedRequest, Sandbox } from '../../sandbox/server';

/** The shape of product-animator in the sandbox: an image and a text input. */
export const ANIMATOR: TechniqueDetails = {
  techniqueId: 'animator',
  name: 'Product Animator',
  runCost: 20,
  inputs: [
    { id: 'product_image', name: 'Product Image', type: 'imageUrl' },
    { id: 'motion_prompt', name: 'Motion Prompt', type: 'text' },
  ],
  outputs: [{ id: 'product_video', name: 'Product Video', type: 'videoUrl' }],
};

export const USER_AGENT = 'flora-vscode-unit-tests/1.0';
export const PHOTO = 'https://media.flora.ai/uploads/photo.jpg';
/** Retries fast enough for a unit suite: the backoff stays within tens of milliseconds. */
export const FAST_RETRY = { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 };

export function makeClient(
  sandbox: Pick<Sandbox, 'url' | 'apiKey'>,
  dispatcher: Dispatcher,
  overrides: Partial<FloraClientOptions> = {},
): FloraClient {
  return new FloraClient({
    baseUrl: sandbox.url,
    getApiKey: () => sandbox.apiKey,
    dispatcher,
    userAgent: USER_AGENT,
    retry: FAST_RETRY,
    random: () => 0.5,
    ...overrides,
  });
}

/** What the Poller is given in the extension: a poll through the client, with the run's pollUrl. */
export function pollThrough(client: FloraClient): RunFetcher {
  return (target, signal) => client.getRun(target.slug, target.runId, { pollUrl: target.pollUrl, signal });
}

/** Creates a run of a technique whose only input is one image. */
export function createImageRun(client: FloraClient, slug: string, inputId: string): Promise<CreateRunReply> {
  return client.createRun(slug, [{ id: inputId, type: 'imageUrl', value: PHOTO }], {
    idempotencyKey: newIdempotencyKey(),
  });
}

export function runPathOf(slug: string, runId: string): string {
  return `/api/v1/techniques/${slug}/runs/${runId}`;
}

/** The sandbox's recorded requests from index `from` on. */
export function requestsSince(sandbox: Sandbox, from: number): RecordedRequest[] {
  return sandbox.requests.slice(from);
}

/** Polls (GETs) of one run the sandbox received, query strings ignored. */
export function pollsOf(sandbox: Sandbox, slug: string, runId: string): RecordedRequest[] {
  const path = runPathOf(slug, runId);
  return sandbox.requests.filter((request) => request.method === 'GET' && request.path.split('?')[0] === path);
}

export function gapsBetween(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((request, index) => request.at - (requests[index]?.at ?? 0));
}

/** Polls the sandbox through the client until the run is final. */
export function waitForFinal(client: FloraClient, slug: string, runId: string, timeoutMs = 5_000): Promise<RunStatusReply> {
  return waitFor(
    `run ${runId} to finish`,
    async () => {
      const reply = await client.getRun(slug, runId);
      return reply.status === 'completed' || reply.status === 'failed' ? reply : undefined;
    },
    timeoutMs,
    25,
  );
}

export interface Hit {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface LoopbackServer {
  /** http://127.0.0.1:port, or https://… when started with `tls`. */
  readonly url: string;
  readonly port: number;
  readonly hits: Hit[];
  /** TCP connections accepted so far (a request refused before connecting opens none). */
  readonly connections: number;
  close(): Promise<void>;
}

export type Responder = (request: http.IncomingMessage, response: http.ServerResponse) => void;

export interface LoopbackServerOptions {
  /** Serve HTTPS with this key and certificate instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

/** A node:http (or, with `tls`, node:https) server on 127.0.0.1 that records every request and connection; by default it answers 200 `{}`. */
export function startLoopbackServer(responder?: Responder, options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  const hits: Hit[] = [];
  let connections = 0;
  const listener: http.RequestListener = (request, response) => {
    hits.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    request.resume();
    request.on('end', () => {
      if (responder) {
        responder(request, response);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  };
  const server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
  server.on('connection', () => connections++);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
        port,
        hits,
        get connections() {
          return connections;
        },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export function sendJson(response: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

/** A loopback port nothing listens on (it was bound and released). */
export async function closedPort(): Promise<number> {
  const server = await startLoopbackServer();
  const { port } = server;
  await server.close();
  return port;
}

export { waitFor };
