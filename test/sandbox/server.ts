/**
 * A local FLORA-compatible HTTP server ("the sandbox") for tests and demos. It answers the three
 * documented endpoints like the service does, runs techniques on a wall-clock schedule, serves real
 * output files, and lets a test inject transport and server faults request by request.
 *
 * Loopback only and Node's standard library only, so it can run anywhere the tests run.
 */
import { randomInt } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { Socket } from 'node:net';

import {
  DEFAULT_STREAM_LIMIT_BYTES,
  HOSTILE_REPLIES_SLUG,
  hostileCreateReply,
  hostileModeTechniques,
  hostilePollReply,
  hostileRoute,
  replyCaseFailure,
  replyCaseFor,
  SECRET_PATH,
  startSecretServer,
  type HostileBody,
  type HostileMode,
  type HostileReplyCase,
  type SecretServer,
} from './hostile';
import { checkMediaUrl } from './hosts';
import { loadSampleVideo, paletteFor, renderPng, toHex } from './media';
import { sampleFile, sampleImages, sandboxSamples, SAMPLES_LIST_PATH, SAMPLES_PATH_PREFIX } from './samples';
import {
  fetchInput,
  isStoragePath,
  readBody,
  SANDBOX_GCS_READONLY_BUCKET,
  SANDBOX_S3_READONLY_BUCKET,
  StorageServer,
  type SandboxStorage,
  type StorageOptions,
} from './storage';
import {
  findTechnique,
  HOSTILE_STRINGS,
  PENDING_FRACTION,
  progressOf,
  type ProgressProfile,
  type SandboxTechnique,
  type SandboxTechniqueOutput,
} from './techniques';

export const SANDBOX_API_KEY = 'sk_live_sandbox_key';

/** `storage`: the S3, GCS and ImageKit endpoints (storage.ts); `media` also covers /samples/. */
export type FaultRoute = 'details' | 'create' | 'poll' | 'media' | 'storage' | 'any';

export type Fault =
  | { kind: 'status'; status: number; html?: boolean }
  | { kind: 'rateLimit'; retryAfterSeconds: number }
  | { kind: 'dropBefore' }
  | { kind: 'dropAfter' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'wrongShape' };

export interface FaultOptions {
  /** How many matching requests the fault applies to; default 1, Infinity allowed. */
  times?: number;
  /**
   * Only requests for this technique slug (for media: the slug of the run the file belongs to; for
   * storage: the operation, e.g. `UploadPart` or `ImageKitUpload`).
   */
  slug?: string;
}

export interface SandboxChaos {
  /** The share of API requests (0–1) that get a random fault when no queued fault matches. */
  rate: number;
  /** The faults to draw from. */
  faults: readonly Fault[];
  /** The random source (seeded by soak runs so a run can be reproduced). */
  random: () => number;
}

export interface SandboxFaults {
  inject(route: FaultRoute, fault: Fault, options?: FaultOptions): void;
  clear(): void;
  pollOrigin: string | undefined;
  failRuns: { errorCode: string; errorMessage: string } | undefined;
  /** Random faults on API requests, for soak runs. */
  chaos: SandboxChaos | undefined;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  userAgent: string | undefined;
  body: string;
  at: number;
  remotePort: number;
  /** '1.1', or '2.0' on the HTTP/2 sandbox (SandboxOptions.tls). */
  httpVersion: string;
}

export interface SandboxRunSnapshot {
  runId: string;
  slug: string;
  status: 'pending' | 'running' | 'completed' | 'failed';
  progress: number;
  idempotencyKey: string | undefined;
  chargedCost: number | undefined;
  createdAt: number;
  inputs: unknown;
}

export interface SandboxOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  credits?: number;
  runDurationMs?: number;
  /** Called with one line per request (method, path, outcome); the CLI prints these. Never includes headers. */
  log?: (line: string) => void;
  /**
   * Hostile mode (see hostile.ts): also serves the sandbox-hostile-urls, -downloads, -csp and -replies
   * techniques and the /hostile/ files, and starts a second loopback server for redirects to reach.
   */
  hostile?: boolean;
  /** Hostile mode: how many bytes the endless download sends at most before it ends; default just over 2 GiB. */
  hostileStreamLimitBytes?: number;
  /** The storage endpoints' capacity, minimum part size and clock (storage.ts). */
  storage?: StorageOptions;
  /**
   * How long an idle connection is kept open, and announced in Keep-Alive: timeout=N. Default Node's own
   * 5 s, which many servers keep; the load balancers in front of hosted APIs keep 60–75 s.
   */
  keepAliveMs?: number;
  /** How runs report progress (techniques.ts, ProgressProfile); default 'linear', growing with time. */
  progress?: ProgressProfile;
  /** A run's duration from its create request (the bench gives runs of one sandbox different lengths); overrides runDurationMs. */
  runDurationFor?: (create: { slug: string; idempotencyKey: string | undefined }) => number | undefined;
  /**
   * Serve HTTPS with this key and certificate, over HTTP/2 (HTTP/1.1 for clients that do not offer h2):
   * the bench's HTTP/2 server. Only a client given the certificate as its CA trusts it.
   */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface Sandbox {
  readonly url: string;
  apiKey: string;
  credits: number;
  readonly faults: SandboxFaults;
  readonly requests: readonly RecordedRequest[];
  readonly connections: number;
  /** Set in hostile mode only. */
  readonly hostile: HostileMode | undefined;
  /** The S3, GCS and ImageKit endpoints (storage.ts); their requests are recorded there, not in `requests`. */
  readonly storage: SandboxStorage;
  runs(): SandboxRunSnapshot[];
  charges(): number;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = new SandboxServer(options);
  await sandbox.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  if (options.hostile === true) {
    try {
      await sandbox.startHostileMode();
    } catch (error) {
      await sandbox.close();
      throw error;
    }
  }
  return sandbox;
}

/** Bodies are a few hundred bytes in practice; anything near this is a client bug or an attack. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Share of its duration after which a run destined to fail gives up. */
const FAILURE_SHARE = 0.6;

type RunStatus = SandboxRunSnapshot['status'];

interface RunFailure {
  errorCode: string;
  errorMessage: string;
}

interface RunRecord {
  runId: string;
  slug: string;
  technique: SandboxTechnique;
  createdAt: number;
  durationMs: number;
  idempotencyKey: string | undefined;
  inputs: unknown[];
  failure: RunFailure | undefined;
  /** Set once the run has reached completed or failed; the charge happens at that moment. */
  finished: boolean;
  chargedCost: number | undefined;
  /** Runs of sandbox-hostile-replies: which off-spec replies this run gets. */
  replyCase: HostileReplyCase | undefined;
}

interface RunView {
  status: RunStatus;
  progress: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

interface Reply {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
  /** HEAD: headers describe the body, but none is sent. */
  omitBody?: boolean;
  /** Writes the body itself instead of `body` (hostile mode's huge and endless downloads). */
  stream?: (response: http.ServerResponse) => void;
}

type Route =
  | { kind: 'details'; slug: string }
  | { kind: 'create'; slug: string }
  | { kind: 'poll'; slug: string; runId: string }
  | { kind: 'media'; runId: string; fileName: string }
  | { kind: 'hostile'; pathname: string }
  | { kind: 'sample'; fileName: string }
  | { kind: 'samples' }
  | { kind: 'unknown'; api: boolean };

interface QueuedFault {
  route: FaultRoute;
  fault: Fault;
  remaining: number;
  slug: string | undefined;
}

class FaultBoard implements SandboxFaults {
  pollOrigin: string | undefined;
  failRuns: RunFailure | undefined;
  chaos: SandboxChaos | undefined;
  private queue: QueuedFault[] = [];

  inject(route: FaultRoute, fault: Fault, options: FaultOptions = {}): void {
    const times = options.times ?? 1;
    if (!(times > 0)) {
      throw new RangeError(`Fault times must be positive, got ${times}`);
    }
    this.queue.push({ route, fault, remaining: times, slug: options.slug });
  }

  clear(): void {
    this.queue = [];
    this.pollOrigin = undefined;
    this.failRuns = undefined;
    this.chaos = undefined;
  }

  /** The first queued fault matching the request, consumed by one use. */
  take(route: FaultRoute | undefined, slug: string | undefined): Fault | undefined {
    const index = this.queue.findIndex(
      (entry) => (entry.route === 'any' || entry.route === route) && (entry.slug === undefined || entry.slug === slug),
    );
    if (index < 0) {
      const chaos = this.chaos;
      if (chaos && route !== 'media' && route !== 'storage' && chaos.faults.length > 0 && chaos.random() < chaos.rate) {
        return chaos.faults[Math.floor(chaos.random() * chaos.faults.length)];
      }
      return undefined;
    }
    const entry = this.queue[index];
    entry.remaining -= 1;
    if (entry.remaining <= 0) {
      this.queue.splice(index, 1);
    }
    return entry.fault;
  }
}

class SandboxServer implements Sandbox {
  url = '';
  apiKey: string;
  credits: number;
  readonly faults = new FaultBoard();
  readonly requests: RecordedRequest[] = [];
  connections = 0;
  readonly storage: StorageServer;

  private readonly server: http.Server | http2.Http2SecureServer;
  private readonly runDurationMs: number | undefined;
  private readonly runDurationFor: SandboxOptions['runDurationFor'];
  private readonly progressProfile: ProgressProfile;
  private readonly secure: boolean;
  private readonly log: ((line: string) => void) | undefined;
  private readonly runsById = new Map<string, RunRecord>();
  /** `${slug} ${key}`: the sandbox has one account, so a key is scoped to the slug alone and survives key rotation. */
  private readonly runIdsByIdempotencyKey = new Map<string, string>();
  private readonly imageCache = new Map<string, Buffer>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private chargeCount = 0;
  private closing: Promise<void> | undefined;
  private readonly hostileStreamLimitBytes: number;
  private secretServer: SecretServer | undefined;
  private hostileMode: HostileMode | undefined;
  private readonly hostileTechniques = new Map<string, SandboxTechnique>();
  private hostileReplyRuns = 0;

  constructor(options: SandboxOptions) {
    this.apiKey = options.apiKey ?? SANDBOX_API_KEY;
    this.credits = options.credits ?? 1000;
    this.runDurationMs = options.runDurationMs;
    this.runDurationFor = options.runDurationFor;
    this.progressProfile = options.progress ?? 'linear';
    this.secure = options.tls !== undefined;
    this.log = options.log;
    this.hostileStreamLimitBytes = Math.max(0, options.hostileStreamLimitBytes ?? DEFAULT_STREAM_LIMIT_BYTES);
    this.storage = new StorageServer(
      { origin: () => this.url, takeFault: (operation) => this.faults.take('storage', operation), log: this.log },
      options.storage,
      () =>
        sampleImages().flatMap((sample) => [
          { service: 's3' as const, bucket: SANDBOX_S3_READONLY_BUCKET, key: `samples/${sample.fileName}`, ...sample },
          { service: 'gcs' as const, bucket: SANDBOX_GCS_READONLY_BUCKET, key: `samples/${sample.fileName}`, ...sample },
        ]),
    );
    const listener = (request: http.IncomingMessage, response: http.ServerResponse): void => {
      this.handle(request, response).catch((error: unknown) => {
        this.send(response, errorReply(500, 'internal_error', `Sandbox error: ${describe(error)}`));
      });
    };
    if (options.tls === undefined) {
      const server = http.createServer(listener);
      // Node's default (5 s) unless told otherwise: the unfriendly case, where a client that leaves a connection
      // idle for 5 s (one poll every 5 s) has to open a new one.
      server.keepAliveTimeout = options.keepAliveMs ?? 5_000;
      this.server = server;
    } else {
      // The compatibility API hands the same request and response shapes to the same pipeline.
      const compatible = listener as unknown as (request: http2.Http2ServerRequest, response: http2.Http2ServerResponse) => void;
      this.server = http2.createSecureServer({ key: options.tls.key, cert: options.tls.cert, allowHTTP1: true }, compatible);
    }
    this.server.on('connection', (socket: Socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error('Sandbox did not get a TCP address'));
          return;
        }
        const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        this.url = `${this.secure ? 'https' : 'http'}://${hostPart}:${address.port}`;
        resolve();
      });
    });
  }

  get hostile(): HostileMode | undefined {
    return this.hostileMode;
  }

  /** Called once the sandbox listens, since the hostile URLs name its port and the second server's. */
  async startHostileMode(): Promise<void> {
    const secret = await startSecretServer(this.log);
    this.secretServer = secret;
    const origins = { sandbox: this.url, secret: secret.origin, secretPort: secret.port };
    const outputUrls: Record<string, Record<string, string>> = {};
    for (const technique of hostileModeTechniques(origins)) {
      this.hostileTechniques.set(technique.slug, technique);
      const urls: Record<string, string> = {};
      for (const output of technique.outputs) {
        if (output.url !== undefined) {
          urls[output.id] = output.url;
        }
      }
      outputUrls[technique.slug] = urls;
    }
    this.hostileMode = { origins, secretUrl: `${secret.origin}${SECRET_PATH}`, secretRequests: secret.requests, outputUrls };
  }

  runs(): SandboxRunSnapshot[] {
    const now = Date.now();
    return [...this.runsById.values()].map((run) => {
      const view = this.viewRun(run, now);
      return {
        runId: run.runId,
        slug: run.slug,
        status: view.status,
        progress: view.progress,
        idempotencyKey: run.idempotencyKey,
        chargedCost: run.chargedCost,
        createdAt: run.createdAt,
        inputs: structuredClone(run.inputs),
      };
    });
  }

  charges(): number {
    return this.chargeCount;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const timer of this.timers) {
        clearTimeout(timer);
      }
      this.timers.clear();
      // The callback also fires (with an error) when the server never listened; either way it is closed.
      this.server.close(() => resolve());
      if (this.server instanceof http.Server) this.server.closeAllConnections();
      // Hung and delayed requests are still "active", so they are destroyed by hand.
      for (const socket of this.sockets) {
        socket.destroy();
      }
      this.imageCache.clear();
      this.storage.dispose();
    }).then(() => this.secretServer?.close());
    return this.closing;
  }

  // ---------------------------------------------------------------- request pipeline

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const method = request.method ?? 'GET';
    const rawPath = request.url ?? '/';
    // Storage reads its own (much larger) bodies, verifies its own signatures and keeps its own records.
    if (isStoragePath(pathOnly(rawPath))) {
      await this.storage.handle(request, response);
      return;
    }
    const body = await readBody(request, MAX_BODY_BYTES);
    this.requests.push({
      method,
      path: rawPath,
      authorization: request.headers.authorization,
      userAgent: request.headers['user-agent'],
      body: body === 'tooLarge' ? '' : body.toString('utf8'),
      at: started,
      remotePort: request.socket.remotePort ?? 0,
      httpVersion: request.httpVersion,
    });
    const logOutcome = (outcome: string): void => {
      this.log?.(`${method} ${rawPath} -> ${outcome} (${Date.now() - started} ms)`);
    };
    if (body === 'tooLarge') {
      // The rest of the body is still in flight, so the connection cannot be reused.
      response.shouldKeepAlive = false;
      const reply = errorReply(413, 'payload_too_large', `Request body exceeds ${MAX_BODY_BYTES} bytes`);
      this.send(response, reply);
      logOutcome('413');
      return;
    }

    const route = parseRoute(rawPath);
    const fault = this.faults.take(faultRouteOf(route), this.slugOf(route));
    const faultLabel = fault === undefined ? '' : ` [fault ${fault.kind}]`;
    switch (fault?.kind) {
      case 'dropBefore':
        request.socket.destroy();
        logOutcome(`dropped${faultLabel}`);
        return;
      case 'hang':
        // Left open on purpose; close() destroys it if the client never gives up.
        logOutcome(`hanging${faultLabel}`);
        return;
      case 'status':
      case 'rateLimit':
      case 'malformed':
      case 'wrongShape': {
        const reply = faultReply(fault);
        this.send(response, reply);
        logOutcome(`${reply.status}${faultLabel}`);
        return;
      }
      default:
        break;
    }

    const reply = await this.route(route, method, request, body);
    if (method === 'HEAD') {
      reply.omitBody = true;
    }
    if (fault?.kind === 'dropAfter') {
      request.socket.destroy();
      logOutcome(`dropped after ${reply.status}${faultLabel}`);
      return;
    }
    if (fault?.kind === 'delay') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.send(response, reply);
        logOutcome(`${reply.status}${faultLabel}`);
      }, fault.ms);
      this.timers.add(timer);
      return;
    }
    this.send(response, reply);
    logOutcome(String(reply.status));
  }

  private send(response: http.ServerResponse, reply: Reply): void {
    if (response.headersSent || response.destroyed) {
      return;
    }
    response.writeHead(reply.status, reply.headers);
    if (reply.stream !== undefined && reply.omitBody !== true) {
      reply.stream(response);
      return;
    }
    response.end(reply.omitBody === true ? undefined : reply.body);
  }

  private slugOf(route: Route): string | undefined {
    switch (route.kind) {
      case 'details':
      case 'create':
      case 'poll':
        return route.slug;
      case 'media':
        return this.runsById.get(route.runId)?.slug;
      case 'hostile':
      case 'sample':
      case 'samples':
      case 'unknown':
        return undefined;
    }
  }

  private async route(route: Route, method: string, request: http.IncomingMessage, body: Buffer): Promise<Reply> {
    if (route.kind === 'sample' || route.kind === 'samples') {
      if (method !== 'GET' && method !== 'HEAD') {
        return methodNotAllowed(method, 'GET, HEAD');
      }
      if (route.kind === 'samples') {
        return jsonReply(200, { samples: sandboxSamples(this.url) });
      }
      const sample = sampleFile(route.fileName);
      return sample === undefined
        ? errorReply(404, 'not_found', `No such sample: ${SAMPLES_PATH_PREFIX}${route.fileName}`)
        : mediaReply(sample.content, sample.contentType, `"sample-${route.fileName}"`, request.headers.range);
    }
    if (route.kind === 'media') {
      if (method !== 'GET' && method !== 'HEAD') {
        return methodNotAllowed(method, 'GET, HEAD');
      }
      return this.serveMedia(route.runId, route.fileName, request.headers.range);
    }
    if (route.kind === 'hostile') {
      if (this.hostileMode === undefined) {
        return errorReply(404, 'not_found', `No such endpoint: ${method} ${pathOnly(request.url ?? '/')}`);
      }
      if (method !== 'GET' && method !== 'HEAD') {
        return methodNotAllowed(method, 'GET, HEAD');
      }
      const png = this.imageCache.get('hostile') ?? renderPng('hostile', 'gradient');
      this.imageCache.set('hostile', png);
      const reply = hostileRoute(route.pathname, this.hostileMode.origins, png, this.hostileStreamLimitBytes);
      return { status: reply.status, headers: reply.headers, body: reply.body ?? Buffer.alloc(0), stream: reply.stream };
    }
    if (route.kind === 'unknown' && !route.api) {
      return errorReply(404, 'not_found', `No such endpoint: ${method} ${pathOnly(request.url ?? '/')}`);
    }
    // Auth comes first on the API, as on the service: an anonymous caller learns nothing about slugs.
    const authFailure = this.checkAuthorization(request.headers.authorization);
    if (authFailure !== undefined) {
      return authFailure;
    }
    switch (route.kind) {
      case 'unknown':
        return errorReply(404, 'not_found', `No such endpoint: ${method} ${pathOnly(request.url ?? '/')}`);
      case 'details': {
        if (method !== 'GET') {
          return methodNotAllowed(method, 'GET');
        }
        const technique = this.techniqueOf(route.slug);
        return technique === undefined ? techniqueNotFound(route.slug) : jsonReply(200, detailsOf(technique));
      }
      case 'create': {
        if (method !== 'POST') {
          return methodNotAllowed(method, 'POST');
        }
        const technique = this.techniqueOf(route.slug);
        return technique === undefined ? techniqueNotFound(route.slug) : this.createRun(technique, body);
      }
      case 'poll': {
        if (method !== 'GET') {
          return methodNotAllowed(method, 'GET');
        }
        const technique = this.techniqueOf(route.slug);
        if (technique === undefined) {
          return techniqueNotFound(route.slug);
        }
        const run = this.runsById.get(route.runId);
        if (run === undefined || run.slug !== technique.slug) {
          return errorReply(404, 'not_found', `Run "${route.runId}" not found for technique "${technique.slug}"`);
        }
        const reply = this.pollReplyOf(run);
        return run.replyCase === undefined
          ? jsonReply(200, reply)
          : hostileJsonReply(hostilePollReply(run.replyCase, reply, run.finished, this.hostileOrigins()));
      }
    }
  }

  private techniqueOf(slug: string): SandboxTechnique | undefined {
    return findTechnique(slug) ?? this.hostileTechniques.get(slug);
  }

  private hostileOrigins(): HostileMode['origins'] {
    return this.hostileMode?.origins ?? { sandbox: this.url, secret: this.url, secretPort: 0 };
  }

  /** The create reply, off the document for runs of sandbox-hostile-replies. */
  private createResponse(run: RunRecord, status: number): Reply {
    const reply = this.createReplyOf(run);
    return run.replyCase === undefined ? jsonReply(status, reply) : hostileJsonReply(hostileCreateReply(run.replyCase, reply, status));
  }

  private checkAuthorization(header: string | undefined): Reply | undefined {
    if (header === undefined || header.trim() === '') {
      return errorReply(401, 'unauthorized', 'Missing Authorization header; send "Authorization: Bearer <API key>"');
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match === null) {
      return errorReply(401, 'unauthorized', 'Malformed Authorization header; expected "Bearer <API key>"');
    }
    if (match[1] !== this.apiKey) {
      return errorReply(401, 'invalid_api_key', 'The API key is invalid or has been revoked');
    }
    return undefined;
  }

  // ---------------------------------------------------------------- runs

  private async createRun(technique: SandboxTechnique, body: Buffer): Promise<Reply> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      return errorReply(400, 'invalid_json', `Request body is not valid JSON: ${describe(error)}`);
    }
    const validation = validateCreateBody(parsed, technique, this.url);
    if (typeof validation === 'string') {
      return errorReply(400, 'input_validation_error', validation);
    }
    const { inputs, idempotencyKey } = validation;
    // A hostile technique's 4xx bodies carry hostile text too, since clients show `error.message` to the user.
    if (technique.hostile !== undefined && textInputsMention(inputs, HOSTILE_STRINGS.rejectWord)) {
      return errorReply(400, 'input_validation_error', HOSTILE_STRINGS.errorBodyMessage);
    }

    if (idempotencyKey !== undefined) {
      const existingId = this.runIdsByIdempotencyKey.get(`${technique.slug} ${idempotencyKey}`);
      const existing = existingId === undefined ? undefined : this.runsById.get(existingId);
      if (existing !== undefined) {
        return this.createResponse(existing, 200);
      }
    }
    if (this.credits < technique.runCost) {
      if (technique.hostile !== undefined) {
        return errorReply(402, 'insufficient_credits', HOSTILE_STRINGS.errorBodyMessage);
      }
      return errorReply(
        402,
        'insufficient_credits',
        `"${technique.slug}" costs ${technique.runCost} credits per run but only ${this.credits} remain`,
      );
    }

    // As FLORA does when a run starts: inputs it cannot fetch fail the run, which then costs nothing.
    const inputFailure = await this.fetchOwnInputs(inputs);
    if (idempotencyKey !== undefined) {
      // A retry with the same key may have created the run while the inputs were being fetched.
      const existingId = this.runIdsByIdempotencyKey.get(`${technique.slug} ${idempotencyKey}`);
      const existing = existingId === undefined ? undefined : this.runsById.get(existingId);
      if (existing !== undefined) {
        return this.createResponse(existing, 200);
      }
    }
    const replyCase = technique.slug === HOSTILE_REPLIES_SLUG ? replyCaseFor(inputs, this.hostileReplyRuns++) : undefined;
    const caseFailure = replyCase === undefined ? undefined : replyCaseFailure(replyCase);
    const run: RunRecord = {
      runId: newRunId(),
      slug: technique.slug,
      technique,
      createdAt: Date.now(),
      durationMs: Math.max(
        0,
        this.runDurationFor?.({ slug: technique.slug, idempotencyKey }) ?? this.runDurationMs ?? technique.durationMs,
      ),
      idempotencyKey,
      inputs,
      failure:
        this.faults.failRuns === undefined ? (inputFailure ?? caseFailure ?? failureOf(technique, inputs)) : { ...this.faults.failRuns },
      finished: false,
      chargedCost: undefined,
      replyCase,
    };
    this.runsById.set(run.runId, run);
    if (idempotencyKey !== undefined) {
      this.runIdsByIdempotencyKey.set(`${technique.slug} ${idempotencyKey}`, run.runId);
    }
    // Reads settle runs too; the timer makes credits and charges() move even when nobody polls.
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.viewRun(run, Date.now());
      },
      finishOffsetMs(run) + 5,
    );
    timer.unref();
    this.timers.add(timer);
    return this.createResponse(run, 201);
  }

  /**
   * GETs every media input on the sandbox's own origin (uploads to its storage, samples, earlier outputs)
   * through the same checks any client meets; URLs on FLORA's real hosts are left alone (no internet).
   */
  private async fetchOwnInputs(inputs: unknown[]): Promise<RunFailure | undefined> {
    const checks = inputs.flatMap((input) => {
      if (!isRecord(input) || (input.type !== 'imageUrl' && input.type !== 'videoUrl') || typeof input.value !== 'string') {
        return [];
      }
      const url = new URL(input.value);
      if (url.origin !== this.url) {
        return [];
      }
      const type = input.type;
      return [
        fetchInput(input.value, type).then((reason) =>
          reason === undefined ? undefined : `input "${String(input.id)}" (${url.origin}${url.pathname}) ${reason}`,
        ),
      ];
    });
    const reasons = (await Promise.all(checks)).filter((reason): reason is string => reason !== undefined);
    if (reasons.length === 0) {
      return undefined;
    }
    return { errorCode: 'input_unavailable', errorMessage: `The run could not fetch its inputs: ${reasons.join('; ')}` };
  }

  private createReplyOf(run: RunRecord): Record<string, unknown> {
    const view = this.viewRun(run, Date.now());
    const origin = (this.faults.pollOrigin ?? this.url).replace(/\/+$/, '');
    return {
      runId: run.runId,
      createdAt: run.createdAt,
      status: view.status,
      progress: view.progress,
      pollUrl: `${origin}/api/v1/techniques/${encodeURIComponent(run.slug)}/runs/${run.runId}`,
    };
  }

  private pollReplyOf(run: RunRecord): Record<string, unknown> {
    const view = this.viewRun(run, Date.now());
    const reply: Record<string, unknown> = {
      runId: run.runId,
      status: view.status,
      progress: view.progress,
      createdAt: run.createdAt,
    };
    if (view.startedAt !== undefined) {
      reply.startedAt = view.startedAt;
    }
    if (view.finishedAt !== undefined) {
      reply.completedAt = view.finishedAt;
    }
    if (view.status === 'completed') {
      reply.chargedCost = run.chargedCost;
      reply.outputs = run.technique.outputs.map((output) => ({
        outputId: output.id,
        type: output.type,
        url: output.url ?? `${this.url}/media/${run.runId}/${output.id}.${extensionOf(output)}`,
      }));
    }
    if (view.status === 'failed' && run.failure !== undefined) {
      reply.errorCode = run.failure.errorCode;
      reply.errorMessage = run.failure.errorMessage;
    }
    return reply;
  }

  /** The run's state at `now`, derived from wall-clock time; finishing (and charging) happens here, once. */
  private viewRun(run: RunRecord, now: number): RunView {
    const pendingMs = Math.round(run.durationMs * PENDING_FRACTION);
    const finishMs = finishOffsetMs(run);
    const progressAt = (elapsed: number): ReturnType<typeof progressOf> =>
      progressOf(this.progressProfile, Math.min(0.9999, elapsed / Math.max(1, run.durationMs)));

    if (!run.finished && now - run.createdAt >= finishMs) {
      run.finished = true;
      if (run.failure === undefined) {
        run.chargedCost = run.technique.runCost;
        this.credits = Math.max(0, this.credits - run.technique.runCost);
        this.chargeCount += 1;
      }
    }
    if (run.finished) {
      const failed = run.failure !== undefined;
      return {
        status: failed ? 'failed' : 'completed',
        progress: failed ? progressAt(finishMs).progress : 100,
        startedAt: run.createdAt + pendingMs,
        finishedAt: run.createdAt + finishMs,
      };
    }
    const view = progressAt(now - run.createdAt);
    if (view.status === 'pending') {
      return { status: 'pending', progress: 0, startedAt: undefined, finishedAt: undefined };
    }
    return {
      status: 'running',
      progress: view.progress,
      startedAt: run.createdAt + pendingMs,
      finishedAt: undefined,
    };
  }

  // ---------------------------------------------------------------- media

  private serveMedia(runId: string, fileName: string, range: string | undefined): Reply {
    const run = this.runsById.get(runId);
    const output = run?.technique.outputs.find((candidate) => `${candidate.id}.${extensionOf(candidate)}` === fileName);
    if (run === undefined || output === undefined || this.viewRun(run, Date.now()).status !== 'completed') {
      return errorReply(404, 'not_found', `No such file: /media/${runId}/${fileName}`);
    }
    let content: Buffer;
    let contentType: string;
    switch (output.type) {
      case 'imageUrl': {
        const cacheKey = `${runId}/${output.id}`;
        content = this.imageCache.get(cacheKey) ?? renderPng(imageSeedOf(run, output.id), imageStyleOf(run, output));
        this.imageCache.set(cacheKey, content);
        contentType = 'image/png';
        break;
      }
      case 'videoUrl':
        content = loadSampleVideo();
        contentType = 'video/webm';
        break;
      case 'text':
        content = Buffer.from(textOutputOf(run, output), 'utf8');
        contentType = 'text/plain; charset=utf-8';
        break;
    }
    return mediaReply(content, contentType, `"${runId}-${output.id}"`, range);
  }
}

// ------------------------------------------------------------------ helpers without state

function pathOnly(rawPath: string): string {
  const queryStart = rawPath.indexOf('?');
  return queryStart < 0 ? rawPath : rawPath.slice(0, queryStart);
}

function parseRoute(rawPath: string): Route {
  const pathname = pathOnly(rawPath);
  const api = pathname.startsWith('/api/');
  // Hostile paths hold whatever a hostile URL carries, so they are matched before segments are decoded.
  if (pathname.startsWith('/hostile/')) {
    return { kind: 'hostile', pathname };
  }
  if (!pathname.startsWith('/')) {
    return { kind: 'unknown', api: false };
  }
  let segments: string[];
  try {
    segments = pathname
      .slice(1)
      .split('/')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    return { kind: 'unknown', api };
  }
  if (segments.some((segment) => segment === '')) {
    return { kind: 'unknown', api };
  }
  if (segments[0] === 'media' && segments.length === 3) {
    return { kind: 'media', runId: segments[1], fileName: segments[2] };
  }
  if (`/${segments[0]}/` === SAMPLES_PATH_PREFIX && segments.length === 2) {
    return { kind: 'sample', fileName: segments[1] };
  }
  if (pathname === SAMPLES_LIST_PATH) {
    return { kind: 'samples' };
  }
  if (segments[0] !== 'api' || segments[1] !== 'v1' || segments[2] !== 'techniques') {
    return { kind: 'unknown', api };
  }
  const slug = segments[3];
  if (segments.length === 4) {
    return { kind: 'details', slug };
  }
  if (segments.length === 5 && segments[4] === 'runs') {
    return { kind: 'create', slug };
  }
  if (segments.length === 6 && segments[4] === 'runs') {
    return { kind: 'poll', slug, runId: segments[5] };
  }
  return { kind: 'unknown', api };
}

function faultRouteOf(route: Route): FaultRoute | undefined {
  switch (route.kind) {
    case 'unknown':
      return undefined;
    case 'hostile':
    case 'sample':
      return 'media';
    case 'samples':
      return undefined;
    default:
      return route.kind;
  }
}

function jsonReply(status: number, value: unknown, extraHeaders: Record<string, string | number> = {}): Reply {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return {
    status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      ...extraHeaders,
    },
    body,
  };
}

function hostileJsonReply(body: HostileBody): Reply {
  if ('value' in body) {
    return jsonReply(body.status, body.value);
  }
  const bytes = Buffer.from(body.raw, 'utf8');
  return {
    status: body.status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length, 'Cache-Control': 'no-store' },
    body: bytes,
  };
}

function errorReply(status: number, code: string, message: string, extraHeaders: Record<string, string | number> = {}): Reply {
  return jsonReply(status, { error: { code, message } }, extraHeaders);
}

function techniqueNotFound(slug: string): Reply {
  return errorReply(404, 'not_found', `Technique "${slug}" not found`);
}

function methodNotAllowed(method: string, allowed: string): Reply {
  return errorReply(405, 'method_not_allowed', `${method} is not allowed here; use ${allowed}`, { Allow: allowed });
}

/** The technique details reply (flora-api.md, step 3): typed, so tests can hand it to the views as is. */
export type SandboxTechniqueDetails = Pick<SandboxTechnique, 'techniqueId' | 'name' | 'description' | 'runCost' | 'inputs'> & {
  outputs: Array<Omit<SandboxTechniqueOutput, 'url'>>;
};

export function detailsOf(technique: SandboxTechnique): SandboxTechniqueDetails {
  return {
    techniqueId: technique.techniqueId,
    name: technique.name,
    description: technique.description,
    runCost: technique.runCost,
    inputs: technique.inputs.map(({ id, name, type }) => ({ id, name, type })),
    outputs: technique.outputs.map(({ id, name, type }) => ({ id, name, type })),
  };
}

const errorCodeByStatus: Record<number, string> = {
  400: 'invalid_json',
  401: 'unauthorized',
  402: 'insufficient_credits',
  404: 'not_found',
  429: 'rate_limited',
};

const reasonByStatus: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function faultReply(fault: Extract<Fault, { kind: 'status' | 'rateLimit' | 'malformed' | 'wrongShape' }>): Reply {
  switch (fault.kind) {
    case 'status': {
      const reason = reasonByStatus[fault.status] ?? http.STATUS_CODES[fault.status] ?? 'Error';
      if (fault.html === true) {
        // What a load balancer in front of the service answers when the service is down.
        const body = Buffer.from(
          `<!DOCTYPE html>\n<html><head><title>${fault.status} ${reason}</title></head>` +
            `<body><h1>${fault.status} ${reason}</h1><p>The server is temporarily unable to service your request.</p></body></html>\n`,
          'utf8',
        );
        return {
          status: fault.status,
          headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length },
          body,
        };
      }
      return errorReply(fault.status, errorCodeByStatus[fault.status] ?? 'internal_error', `${reason} (sandbox fault)`);
    }
    case 'rateLimit':
      return errorReply(429, 'rate_limited', `Too many requests; retry after ${fault.retryAfterSeconds} seconds`, {
        'Retry-After': String(fault.retryAfterSeconds),
      });
    case 'malformed': {
      // A reply cut off mid-way, as a proxy that drops the connection after a partial write would leave it.
      const body = Buffer.from('{"runId":"j57truncated","status":"runn', 'utf8');
      return {
        status: 200,
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length },
        body,
      };
    }
    case 'wrongShape':
      return jsonReply(200, { status: 42 });
  }
}

function mediaReply(content: Buffer, contentType: string, entityTag: string, range: string | undefined): Reply {
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    // Output URLs are long-lived and never change content, like the CDN URLs of the service.
    'Cache-Control': 'public, max-age=31536000, immutable',
    'Accept-Ranges': 'bytes',
    ETag: entityTag,
    // Lets a webview fetch() the file as well as show it in <img>/<video>.
    'Access-Control-Allow-Origin': '*',
  };
  const size = content.length;
  const requested = range === undefined ? undefined : parseRange(range, size);
  if (requested === 'unsatisfiable') {
    return {
      status: 416,
      headers: { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 },
      body: Buffer.alloc(0),
    };
  }
  if (requested === undefined) {
    return { status: 200, headers: { ...headers, 'Content-Length': size }, body: content };
  }
  const { start, end } = requested;
  const part = content.subarray(start, end + 1);
  return {
    status: 206,
    headers: { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': part.length },
    body: part,
  };
}

/**
 * One `bytes=` range (what media elements send). Several ranges or a syntax we do not understand
 * fall back to the whole file, which RFC 9110 allows.
 */
function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) {
    return undefined;
  }
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) {
      return 'unsatisfiable';
    }
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) {
    return 'unsatisfiable';
  }
  return { start, end };
}

interface ValidCreateBody {
  inputs: unknown[];
  idempotencyKey: string | undefined;
}

const inputTypes = new Set(['imageUrl', 'videoUrl', 'text']);

/** The parsed create body, or a message that names the offending field and what is wrong with it. */
function validateCreateBody(body: unknown, technique: SandboxTechnique, sandboxOrigin: string): ValidCreateBody | string {
  if (!isRecord(body)) {
    return 'Request body must be a JSON object with "inputs" and "mode"';
  }
  if (body.mode !== 'async') {
    return body.mode === undefined ? '"mode" is required and must be "async"' : `"mode" must be "async" (got ${JSON.stringify(body.mode)})`;
  }
  let idempotencyKey: string | undefined;
  if (body.idempotency_key !== undefined && body.idempotency_key !== null) {
    if (typeof body.idempotency_key !== 'string' || body.idempotency_key.trim() === '' || body.idempotency_key.length > 255) {
      return '"idempotency_key" must be a non-empty string of at most 255 characters';
    }
    idempotencyKey = body.idempotency_key;
  }
  const expected = technique.inputs.map((input) => `${input.id} (${input.type})`).join(', ');
  if (!Array.isArray(body.inputs)) {
    return `"inputs" is required and must be an array; "${technique.slug}" expects: ${expected}`;
  }
  if (body.inputs.length !== technique.inputs.length) {
    return `"${technique.slug}" expects ${technique.inputs.length} input(s): ${expected}; got ${body.inputs.length}`;
  }
  const seen = new Set<string>();
  for (const [index, given] of body.inputs.entries()) {
    if (!isRecord(given)) {
      return `inputs[${index}] must be an object with "id", "type" and "value"`;
    }
    if (typeof given.id !== 'string') {
      return `inputs[${index}].id must be a string; expected one of: ${expected}`;
    }
    const definition = technique.inputs.find((input) => input.id === given.id);
    if (definition === undefined) {
      return `Unknown input "${given.id}" for "${technique.slug}"; expected: ${expected}`;
    }
    if (seen.has(given.id)) {
      return `Input "${given.id}" is given more than once`;
    }
    seen.add(given.id);
    if (typeof given.type !== 'string' || !inputTypes.has(given.type)) {
      return `Input "${given.id}" has an invalid type ${JSON.stringify(given.type)}; use "${definition.type}"`;
    }
    if (given.type !== definition.type) {
      return `Input "${given.id}" must have type "${definition.type}" (got "${given.type}")`;
    }
    if (given.value === undefined) {
      return `Input "${given.id}" is missing its "value"`;
    }
    if (typeof given.value !== 'string') {
      return `Input "${given.id}" value must be a string`;
    }
    if (definition.type === 'text') {
      if (given.value.trim() === '') {
        return `Input "${given.id}" (text) must not be empty`;
      }
      if (given.value.length > 10_000) {
        return `Input "${given.id}" (text) must be at most 10000 characters`;
      }
    } else {
      if (given.value.length > 2048) {
        return `Input "${given.id}" (${definition.type}) URL must be at most 2048 characters`;
      }
      const verdict = checkMediaUrl(given.value, sandboxOrigin);
      if (!verdict.accepted) {
        return `Input "${given.id}" (${definition.type}) URL ${verdict.reason}`;
      }
    }
  }
  const missing = technique.inputs.filter((input) => !seen.has(input.id));
  if (missing.length > 0) {
    return `Missing input(s): ${missing.map((input) => `${input.id} (${input.type})`).join(', ')}`;
  }
  return { inputs: structuredClone(body.inputs), idempotencyKey };
}

function textInputsMention(inputs: unknown[], word: string): boolean {
  const pattern = new RegExp(`\\b${word}\\b`, 'i');
  return inputs.some((input) => isRecord(input) && input.type === 'text' && typeof input.value === 'string' && pattern.test(input.value));
}

/**
 * Lets a demo show a failed run without reaching into the sandbox: a text input containing the word
 * "fail" makes the run fail, as a content filter on the service would. Hostile techniques fail with
 * their hostile error, one of them on every run.
 */
function failureOf(technique: SandboxTechnique, inputs: unknown[]): RunFailure | undefined {
  const hostile = technique.hostile;
  if (hostile?.failsAlways === true) {
    return { ...hostile.failure };
  }
  if (!textInputsMention(inputs, 'fail')) {
    return undefined;
  }
  return hostile !== undefined
    ? { ...hostile.failure }
    : {
        errorCode: 'generation_failed',
        errorMessage: 'The technique could not produce a result for this prompt (sandbox: the prompt asked to fail)',
      };
}

function finishOffsetMs(run: RunRecord): number {
  return Math.round(run.durationMs * (run.failure === undefined ? 1 : FAILURE_SHARE));
}

function extensionOf(output: SandboxTechniqueOutput): string {
  switch (output.type) {
    case 'imageUrl':
      return 'png';
    case 'videoUrl':
      return 'webm';
    case 'text':
      return 'txt';
  }
}

function imageSeedOf(run: RunRecord, outputId: string): string {
  return `${run.slug}/${run.runId}/${outputId}`;
}

function imageStyleOf(run: RunRecord, output: SandboxTechniqueOutput): 'gradient' | 'swatches' {
  return run.slug === 'palette-pull' && output.id === 'palette_image' ? 'swatches' : 'gradient';
}

function textOutputOf(run: RunRecord, output: SandboxTechniqueOutput): string {
  switch (run.slug) {
    case 'palette-pull':
      // The same colours the palette image shows, one per line, as a designer would paste them.
      return `${paletteFor(imageSeedOf(run, 'palette_image'), 5).map(toHex).join('\n')}\n`;
    case 'tarot-pull': {
      const question = textInputOf(run) ?? 'your question';
      return `The card drawn for "${question}" is The Star: renewal, calm and a clear direction.\n`;
    }
    case 'art-directors-critique':
      return [
        'Critique',
        '- Hierarchy: the headline competes with the product; give one of them clear priority.',
        '- Colour: the palette is harmonious but low in contrast; darken the background a step.',
        '- Type: two display faces fight each other; keep one.',
        '',
        'The redesign output applies these changes.',
        '',
      ].join('\n');
    default:
      return `${run.technique.name}: ${output.name} for run ${run.runId}\n`;
  }
}

function textInputOf(run: RunRecord): string | undefined {
  for (const input of run.inputs) {
    if (isRecord(input) && input.type === 'text' && typeof input.value === 'string') {
      return input.value;
    }
  }
  return undefined;
}

const runIdAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Shaped like the service's ids ("j57" then opaque lowercase alphanumerics). */
function newRunId(): string {
  let id = 'j57';
  for (let index = 0; index < 29; index += 1) {
    id += runIdAlphabet[randomInt(runIdAlphabet.length)];
  }
  return id;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
