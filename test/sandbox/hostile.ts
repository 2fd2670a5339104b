/**
 * The sandbox's hostile mode (`startSandbox({ hostile: true })`, `--hostile`): what a hostile or careless
 * FLORA server could send, served from loopback so tests and people can watch what a client does with it.
 *
 * - `sandbox-hostile-urls`: output URLs that break out of Markdown, HTML, CSS and template snippets.
 * - `sandbox-hostile-downloads`: output URLs that redirect to another loopback server, lie about their
 *   size, stream without end, or serve a content type their name does not suggest.
 * - `sandbox-hostile-csp`: output URLs whose origin would inject into a Content-Security-Policy.
 * - `sandbox-hostile-replies`: replies that are off the API document (one case per run, chosen by the
 *   text input or in turn).
 *
 * Everything stays on loopback: https URLs use the reserved `.invalid` and `.example` names, which never
 * resolve to a host that answers. Every body is bounded.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';

import { HOSTILE_STRINGS, techniqueIdFor, type SandboxTechnique, type SandboxTechniqueOutput } from './techniques';

export const HOSTILE_URLS_SLUG = 'sandbox-hostile-urls';
export const HOSTILE_DOWNLOADS_SLUG = 'sandbox-hostile-downloads';
export const HOSTILE_CSP_SLUG = 'sandbox-hostile-csp';
export const HOSTILE_REPLIES_SLUG = 'sandbox-hostile-replies';
/** The slugs only hostile mode serves; `sandbox-hostile` and `sandbox-hostile-failure` are always served. */
export const HOSTILE_MODE_SLUGS = [HOSTILE_URLS_SLUG, HOSTILE_DOWNLOADS_SLUG, HOSTILE_CSP_SLUG, HOSTILE_REPLIES_SLUG] as const;

/** What the second loopback server answers at SECRET_PATH; no client may ever save or show it. */
export const SECRET_BODY = 'SECRET';
export const SECRET_PATH = '/admin/secrets';
/** What the endless download streams at most when the client never gives up: just over 2 GiB. */
export const DEFAULT_STREAM_LIMIT_BYTES = 2 * 1024 * 1024 * 1024 + 1024 * 1024;
/** The size the huge download claims in Content-Length; it sends only HUGE_SENT_BYTES and then cuts. */
export const HUGE_CLAIMED_BYTES = 2 * 1024 * 1024 * 1024;
export const HUGE_SENT_BYTES = 64 * 1024;

/** Where the hostile techniques' URLs point; the ports are only known once both servers listen. */
export interface HostileOrigins {
  /** The sandbox's own origin, e.g. `http://127.0.0.1:7717`. */
  sandbox: string;
  /** The second loopback server's origin, e.g. `http://127.0.0.1:40123`. */
  secret: string;
  secretPort: number;
}

export interface SecretRequest {
  method: string;
  path: string;
  host: string | undefined;
  authorization: string | undefined;
  at: number;
}

/** What a test needs to know about hostile mode once the sandbox listens. */
export interface HostileMode {
  readonly origins: HostileOrigins;
  /** `${origins.secret}/admin/secrets`: reaching it from a client is server-side request forgery. */
  readonly secretUrl: string;
  /** Every request the second server got; a safe client leaves this empty. */
  readonly secretRequests: readonly SecretRequest[];
  /** The concrete output URLs by output id, per hostile-mode slug. */
  readonly outputUrls: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

// ------------------------------------------------------------------ snippet-breaking URLs

/**
 * Pieces that end a Markdown image, an HTML attribute, a CSS string or `url()`, or stay live as template
 * syntax, each appended to an https URL on a name that never resolves, and to a loadable sandbox URL.
 * The raw strings are what the server sends; the WHATWG parser strips tab, LF and CR and percent-encodes
 * some of the rest, but leaves `)`, `'`, `{`, `}`, `@`, `#{` and `](` as they are.
 */
export const SNIPPET_BREAKERS: Readonly<Record<string, string>> = {
  newline: 'a.png\n<script>alert(1)</script>',
  tab: 'a\t.png\t"onerror="alert(1)',
  carriage_return: 'a.png\r\n# Injected heading\r\n',
  form_feed: 'a.png\f}body{background:url(https://hostile.invalid/leak)}',
  close_paren: 'a.png)<img src=x onerror=alert(1)>',
  double_quote: 'a.png"onerror="alert(1)',
  single_quote: "a.png'onerror='alert(1)",
  less_than: 'a.png?<script>alert(1)</script>',
  space_title: 'a.png "title" onerror=alert(1)',
  mustache: 'a.png?v={{constructor.constructor("alert(1)")()}}',
  svelte_brace: 'a.png?v={alert(1)}',
  razor: 'a.png?v=@(System.IO.File.ReadAllText("/etc/passwd"))',
  ruby_interpolation: 'a.png?v=#{`id`}',
  command_link: 'a.png?x=](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22echo%20pwned%5Cn%22%7D)',
  backslash: 'a.png\\..\\..\\evil',
  html_comment: 'a.png?x=--><script>alert(1)</script><!--',
  css_comment: 'a.png?x=*/}*{color:red}/*',
  line_separator: 'a.png\u2028<script>alert(1)</script>',
};

function snippetOutputs(origins: HostileOrigins): SandboxTechniqueOutput[] {
  const outputs: SandboxTechniqueOutput[] = [];
  for (const [name, piece] of Object.entries(SNIPPET_BREAKERS)) {
    outputs.push({ id: `https_${name}`, name: `https ${name}`, type: 'imageUrl', url: `https://hostile.invalid/${piece}` });
    outputs.push({ id: `local_${name}`, name: `sandbox ${name}`, type: 'imageUrl', url: `${origins.sandbox}/hostile/file/${piece}` });
  }
  // Not media: in HTML-like files these were inserted raw.
  outputs.push({
    id: 'text_markup',
    name: 'text with markup',
    type: 'text',
    url: `${origins.sandbox}/hostile/file/notes.txt?"><script>alert(1)</script>{{x}}`,
  });
  outputs.push({
    id: 'video_breaker',
    name: 'video with quotes',
    type: 'videoUrl',
    url: `${origins.sandbox}/hostile/file/clip.webm"onerror="alert(1)`,
  });
  return outputs;
}

// ------------------------------------------------------------------ downloads

function downloadOutputs(origins: HostileOrigins): SandboxTechniqueOutput[] {
  const base = `${origins.sandbox}/hostile/download`;
  return [
    // 302 to another loopback origin: saving its answer is server-side request forgery.
    { id: 'redirect_loopback', name: 'Redirect to 127.0.0.1', type: 'imageUrl', url: `${base}/redirect-loopback.png` },
    // 302 to the same server by name: another origin, reached after DNS resolution.
    { id: 'redirect_localhost', name: 'Redirect to localhost', type: 'imageUrl', url: `${base}/redirect-localhost.png` },
    // One hop on the sandbox's own origin, then off it: every hop must be checked, not only the first.
    { id: 'redirect_chain', name: 'Redirect chain', type: 'imageUrl', url: `${base}/redirect-chain.png` },
    // A redirect that stays on the sandbox origin and ends in a real PNG: the one a client may follow.
    { id: 'redirect_same_origin', name: 'Redirect on the same origin', type: 'imageUrl', url: `${base}/redirect-same-origin.png` },
    { id: 'huge', name: 'Claims 2 GiB', type: 'imageUrl', url: `${base}/huge.png` },
    { id: 'endless', name: 'Streams without end', type: 'imageUrl', url: `${base}/endless.png` },
    { id: 'html_named_png', name: 'Named .html, serves PNG', type: 'imageUrl', url: `${base}/page.html` },
    { id: 'png_serving_html', name: 'Named .png, serves HTML', type: 'imageUrl', url: `${base}/picture.png` },
    { id: 'svg_script', name: 'SVG with a script', type: 'imageUrl', url: `${base}/image.svg` },
    { id: 'shell_script', name: 'Shell script', type: 'text', url: `${base}/run.sh` },
    // Output ids and URL names that climb out of the output folder if used as file names.
    { id: '../../../../flora-escape', name: 'Traversal in the output id', type: 'imageUrl', url: `${base}/..%2F..%2Fescape.png` },
    { id: '..\\..\\flora-escape', name: 'Backslash traversal', type: 'imageUrl', url: `${base}/..%5C..%5Cescape.png` },
  ];
}

// ------------------------------------------------------------------ CSP injection

/**
 * Hosts WHATWG parsing accepts although they hold CSP or HTML syntax (`;`, `'`, `"`, `*`, `=`), reached
 * directly, through percent-encoding and through full-width IDN forms, plus a raw string that is no URL.
 */
export const CSP_BREAKERS: Readonly<Record<string, string>> = {
  semicolon_host: "https://a.example;script-src'*'/x.png",
  percent_encoded_semicolon: 'https://a%3Bb.example/x.png',
  fullwidth_idn: 'https://a.example\uFF1Bscript-src\uFF0A/x.png',
  quote_host: 'https://a.example"onload="alert(1)/x.png',
  wildcard_host: 'https://*.example/x.png',
  not_a_url: 'https://a.example; script-src *',
  ipv6_loopback: 'https://[::1]/x.png',
  // A control: a clean origin whose path holds the same text; this one is fine to load.
  clean_origin: 'https://a.example/x.png;%20script-src%20*',
};

function cspOutputs(): SandboxTechniqueOutput[] {
  return Object.entries(CSP_BREAKERS).map(([id, url]) => ({ id, name: id.replace(/_/g, ' '), type: 'imageUrl', url }));
}

// ------------------------------------------------------------------ off-spec replies

/**
 * One per run of `sandbox-hostile-replies`: a text input naming a case picks it, anything else takes the
 * next in turn. Each is what a careless server, or one a version ahead of the document, might send.
 */
export const HOSTILE_REPLY_CASES = [
  /** Completed, good outputs, `startedAt` and `completedAt` as ISO-8601 strings instead of epoch ms. */
  'iso-completed-at',
  /** `queued` (not in the document) until the run is done, then `completed` as usual. */
  'unlisted-status',
  /** Completed with three outputs, the middle one's `url` empty. */
  'empty-output-url',
  /** Completed with `chargedCost: -5`. */
  'negative-cost',
  /** The create reply says `status: "accepted"` (not in the document), with a good runId and pollUrl. */
  'unknown-create-status',
  /** Extra fields everywhere (`debug`, `__proto__`, per-output `width`), and null for every optional field. */
  'extra-fields-and-nulls',
  /** Completed with 10 000 outputs on the sandbox origin (under 1 MiB of JSON). */
  'many-outputs',
  /** Failed with a 1 000 000-character errorMessage that starts with the hostile error text. */
  'huge-error-message',
  /** Fields of the wrong type: progress "50", createdAt as a string, outputs mixing good entries with junk. */
  'wrong-types',
  /** Progress 250 while running, then completedAt beyond the range of a JavaScript Date. */
  'out-of-range',
  /** Every poll answers 200 `{"status":42}`: never readable, although the run completes and is charged. */
  'unreadable-forever',
  /** Every poll answers 500 internal_error, although the run completes and is charged. */
  'server-error-forever',
  /** The create answers 201 `{"id":…,"state":"ok"}`: the run exists and is charged, but no runId is readable. */
  'create-unreadable',
] as const;
export type HostileReplyCase = (typeof HOSTILE_REPLY_CASES)[number];

/** Exactly the length of the huge errorMessage. */
export const HUGE_ERROR_MESSAGE_LENGTH = 1_000_000;
export const MANY_OUTPUTS_COUNT = 10_000;

export function isHostileReplyCase(value: string): value is HostileReplyCase {
  return (HOSTILE_REPLY_CASES as readonly string[]).includes(value);
}

/** The case a run gets: named by its text input, or the `runNumber`-th in turn. */
export function replyCaseFor(inputs: readonly unknown[], runNumber: number): HostileReplyCase {
  for (const input of inputs) {
    if (isRecord(input) && typeof input.value === 'string') {
      const named = input.value.trim().toLowerCase();
      if (isHostileReplyCase(named)) {
        return named;
      }
    }
  }
  return HOSTILE_REPLY_CASES[runNumber % HOSTILE_REPLY_CASES.length];
}

export function replyCaseFailure(replyCase: HostileReplyCase): { errorCode: string; errorMessage: string } | undefined {
  if (replyCase !== 'huge-error-message') {
    return undefined;
  }
  const head = `${HOSTILE_STRINGS.errorMessage} `;
  return { errorCode: 'generation_failed', errorMessage: head + 'A'.repeat(HUGE_ERROR_MESSAGE_LENGTH - head.length) };
}

/** A reply body the server sends as is: a value to serialise, or raw JSON text (for own `__proto__` keys). */
export type HostileBody = { status: number; value: unknown } | { status: number; raw: string };

export function hostileCreateReply(replyCase: HostileReplyCase, reply: Record<string, unknown>, status: number): HostileBody {
  switch (replyCase) {
    case 'unknown-create-status':
      return { status, value: { ...reply, status: 'accepted' } };
    case 'create-unreadable':
      return { status, value: { id: reply.runId, state: 'ok' } };
    case 'extra-fields-and-nulls':
      return { status, value: { ...reply, queuePosition: 3, region: null, debug: { worker: 'gpu-7' } } };
    default:
      return { status, value: reply };
  }
}

/**
 * @param reply the reply the sandbox would send by the document.
 * @param finished whether the run has completed or failed by now.
 */
export function hostilePollReply(
  replyCase: HostileReplyCase,
  reply: Record<string, unknown>,
  finished: boolean,
  origins: HostileOrigins,
): HostileBody {
  const outputs = Array.isArray(reply.outputs) ? (reply.outputs as Record<string, unknown>[]) : undefined;
  switch (replyCase) {
    case 'iso-completed-at': {
      const iso = (value: unknown): unknown => (typeof value === 'number' ? new Date(value).toISOString() : value);
      return { status: 200, value: { ...reply, startedAt: iso(reply.startedAt), completedAt: iso(reply.completedAt) } };
    }
    case 'unlisted-status':
      return { status: 200, value: finished ? reply : { ...reply, status: 'queued' } };
    case 'empty-output-url':
      return {
        status: 200,
        value:
          outputs === undefined
            ? reply
            : { ...reply, outputs: outputs.map((output, index) => (index === 1 ? { ...output, url: '' } : output)) },
      };
    case 'negative-cost':
      return { status: 200, value: finished ? { ...reply, chargedCost: -5 } : reply };
    case 'extra-fields-and-nulls': {
      const withNulls: Record<string, unknown> = {
        ...reply,
        startedAt: reply.startedAt ?? null,
        completedAt: reply.completedAt ?? null,
        errorCode: reply.errorCode ?? null,
        errorMessage: reply.errorMessage ?? null,
        chargedCost: reply.chargedCost ?? null,
        outputs: outputs?.map((output) => ({ ...output, width: 512, height: 512, thumbnail: null })) ?? null,
        debug: { worker: 'gpu-7', trace: [1, 2, 3], nested: { deeper: { deepest: null } } },
        apiVersion: '2027-01-01',
      };
      // JSON.parse makes `__proto__` an own key; a client that copies fields by name must not pollute Object.
      const raw = JSON.stringify(withNulls).replace(
        /^\{/,
        '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},',
      );
      return { status: 200, raw };
    }
    case 'many-outputs':
      return {
        status: 200,
        value: !finished
          ? reply
          : {
              ...reply,
              outputs: Array.from({ length: MANY_OUTPUTS_COUNT }, (_, index) => ({
                outputId: `o${index}`,
                type: 'imageUrl',
                url: `${origins.sandbox}/hostile/file/${index}.png`,
              })),
            },
      };
    case 'wrong-types': {
      const value: Record<string, unknown> = { ...reply, progress: String(reply.progress), createdAt: String(reply.createdAt) };
      if (outputs !== undefined) {
        const good = outputs[0];
        value.chargedCost = String(reply.chargedCost);
        value.outputs = [
          good,
          42,
          null,
          'https://hostile.invalid/a.png',
          { outputId: 7, type: 'imageUrl', url: `${origins.sandbox}/hostile/file/seven.png` },
          { outputId: 'no_url', type: 'imageUrl' },
          { outputId: 'not_a_url', type: 'imageUrl', url: 'not a url' },
          { outputId: 'hologram', type: 'hologram', url: `${origins.sandbox}/hostile/file/hologram.png` },
          ...outputs.slice(1),
        ];
      }
      return { status: 200, value };
    }
    case 'out-of-range':
      return {
        status: 200,
        value: finished ? { ...reply, completedAt: 8.64e15 + 1, progress: 100 } : { ...reply, progress: 250 },
      };
    case 'unreadable-forever':
      return { status: 200, value: { status: 42 } };
    case 'server-error-forever':
      return { status: 500, value: { error: { code: 'internal_error', message: 'The sandbox always fails this poll' } } };
    case 'huge-error-message':
    case 'unknown-create-status':
    case 'create-unreadable':
      return { status: 200, value: reply };
  }
}

// ------------------------------------------------------------------ techniques

/** The hostile-mode techniques for one sandbox, whose URLs name its own ports. */
export function hostileModeTechniques(origins: HostileOrigins): SandboxTechnique[] {
  const common = { runCost: 1, durationMs: 3000 } as const;
  const prompt = { id: 'prompt', name: 'Prompt', type: 'text' } as const;
  return [
    {
      techniqueId: techniqueIdFor(HOSTILE_URLS_SLUG),
      slug: HOSTILE_URLS_SLUG,
      name: 'Hostile URLs (snippet breakers)',
      description: 'Outputs whose URLs end a Markdown, HTML or CSS snippet early or carry template syntax',
      ...common,
      inputs: [prompt],
      outputs: snippetOutputs(origins),
    },
    {
      techniqueId: techniqueIdFor(HOSTILE_DOWNLOADS_SLUG),
      slug: HOSTILE_DOWNLOADS_SLUG,
      name: 'Hostile downloads',
      description: 'Redirects to other loopback servers, a 2 GiB claim, an endless stream, mislabelled files',
      ...common,
      inputs: [prompt],
      outputs: downloadOutputs(origins),
    },
    {
      techniqueId: techniqueIdFor(HOSTILE_CSP_SLUG),
      slug: HOSTILE_CSP_SLUG,
      name: 'Hostile origins (CSP injection)',
      description: "Output origins that carry ';', quotes or '*' into a Content-Security-Policy",
      ...common,
      inputs: [prompt],
      outputs: cspOutputs(),
    },
    {
      techniqueId: techniqueIdFor(HOSTILE_REPLIES_SLUG),
      slug: HOSTILE_REPLIES_SLUG,
      name: 'Off-spec replies',
      description: 'Replies off the API document, one case per run; type a case name or anything for the next',
      ...common,
      inputs: [{ id: 'case', name: `Case (${HOSTILE_REPLY_CASES.join(', ')}; anything else: the next)`, type: 'text' }],
      outputs: [
        { id: 'first', name: 'First', type: 'imageUrl' },
        { id: 'second', name: 'Second', type: 'imageUrl' },
        { id: 'third', name: 'Third', type: 'imageUrl' },
      ],
    },
  ];
}

// ------------------------------------------------------------------ the /hostile/ routes

export interface HostileReply {
  status: number;
  headers: Record<string, string | number>;
  body?: Buffer;
  /** Writes the body itself (huge and endless downloads); must end or destroy the response. */
  stream?: (response: http.ServerResponse) => void;
}

const SVG_WITH_SCRIPT = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload="alert(1)">' +
    '<script>alert(document.domain)</script><rect width="64" height="64" fill="red"/></svg>\n',
  'utf8',
);
const HTML_PAGE = Buffer.from(
  `<!DOCTYPE html><html><body><script>alert(document.domain)</script><h1>${HOSTILE_STRINGS.name}</h1></body></html>\n`,
  'utf8',
);
const HOSTILE_TEXT = Buffer.from(
  `${HOSTILE_STRINGS.name}\n${HOSTILE_STRINGS.description}\n{{constructor.constructor("alert(1)")()}}\n`,
  'utf8',
);
const SHELL_SCRIPT = Buffer.from('#!/bin/sh\necho pwned\n', 'utf8');

/**
 * Answers a path under `/hostile/`; `png` is a real PNG the sandbox drew. Every path outside
 * `/hostile/download/` is that PNG (or hostile text for a `.txt` name), whatever the rest of the path
 * and query, so the snippet-breaking URLs on the sandbox origin load in a preview even after WHATWG
 * parsing resolved their `\..\` away.
 */
export function hostileRoute(pathname: string, origins: HostileOrigins, png: Buffer, streamLimitBytes: number): HostileReply {
  const download = '/hostile/download/';
  if (!pathname.startsWith(download)) {
    // The text output among the snippet breakers reads as text, markup and all.
    return pathname.endsWith('.txt') ? fileReply(HOSTILE_TEXT, 'text/plain; charset=utf-8') : fileReply(png, 'image/png');
  }
  switch (pathname.slice(download.length)) {
    case 'redirect-loopback.png':
      return redirect(`${origins.secret}${SECRET_PATH}`);
    case 'redirect-localhost.png':
      return redirect(`http://localhost:${origins.secretPort}${SECRET_PATH}`);
    case 'redirect-chain.png':
      return redirect(`${origins.sandbox}/hostile/download/redirect-loopback.png`);
    case 'redirect-same-origin.png':
      return redirect(`${origins.sandbox}/hostile/file/redirected.png`);
    case 'huge.png':
      return {
        status: 200,
        headers: { 'Content-Type': 'image/png', 'Content-Length': HUGE_CLAIMED_BYTES },
        stream: (response) => {
          // The start of a real PNG, then zeros, then the connection is cut: never 2 GiB.
          const sent = Buffer.alloc(HUGE_SENT_BYTES);
          png.copy(sent, 0, 0, Math.min(png.length, HUGE_SENT_BYTES));
          response.write(sent, () => response.destroy());
        },
      };
    case 'endless.png':
      return {
        status: 200,
        headers: { 'Content-Type': 'image/png' },
        stream: (response) => streamEndlessly(response, png, streamLimitBytes),
      };
    case 'page.html':
      return fileReply(png, 'image/png');
    case 'picture.png':
      return fileReply(HTML_PAGE, 'text/html; charset=utf-8');
    case 'image.svg':
      return fileReply(SVG_WITH_SCRIPT, 'image/svg+xml');
    case 'run.sh':
      return fileReply(SHELL_SCRIPT, 'application/x-sh');
    case '..%2F..%2Fescape.png':
    case '..%5C..%5Cescape.png':
      return fileReply(png, 'image/png');
    default:
      return {
        status: 404,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: Buffer.from(JSON.stringify({ error: { code: 'not_found', message: `No such file: ${pathname}` } })),
      };
  }
}

function fileReply(body: Buffer, contentType: string): HostileReply {
  return {
    status: 200,
    headers: {
      'Content-Type': contentType,
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      'Access-Control-Allow-Origin': '*',
    },
    body,
  };
}

function redirect(location: string): HostileReply {
  return { status: 302, headers: { Location: location, 'Content-Length': 0, 'Cache-Control': 'no-store' }, body: Buffer.alloc(0) };
}

/** A PNG header, then zeros in 64 KiB chunks until the client goes away or `limit` bytes are out. */
function streamEndlessly(response: http.ServerResponse, png: Buffer, limit: number): void {
  const chunk = Buffer.alloc(64 * 1024);
  let sent = 0;
  const writeMore = (): void => {
    if (response.destroyed) {
      return;
    }
    while (sent < limit) {
      const piece =
        sent === 0 ? png.subarray(0, Math.min(png.length, chunk.length, limit)) : chunk.subarray(0, Math.min(chunk.length, limit - sent));
      sent += piece.length;
      if (!response.write(piece)) {
        response.once('drain', writeMore);
        return;
      }
    }
    response.end();
  };
  response.on('close', () => response.off('drain', writeMore));
  writeMore();
}

// ------------------------------------------------------------------ the second loopback server

export interface SecretServer {
  readonly origin: string;
  readonly port: number;
  readonly requests: SecretRequest[];
  close(): Promise<void>;
}

/**
 * Stands for what sits behind a firewall: an admin endpoint on another loopback port. It listens on
 * 127.0.0.1 and, where there is IPv6, on ::1 at the same port, so `localhost` reaches it either way.
 */
export async function startSecretServer(log?: (line: string) => void): Promise<SecretServer> {
  const requests: SecretRequest[] = [];
  const sockets = new Set<Socket>();
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    // Loud on purpose: in a demo, this line is the attack succeeding.
    log?.(`SECOND SERVER REACHED: ${request.method ?? 'GET'} ${request.url ?? '/'} (Host: ${request.headers.host ?? '-'})`);
    requests.push({
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      host: request.headers.host,
      authorization: request.headers.authorization,
      at: Date.now(),
    });
    const found = (request.url ?? '/').split('?')[0] === SECRET_PATH;
    const body = Buffer.from(found ? SECRET_BODY : 'Not found', 'utf8');
    response.writeHead(found ? 200 : 404, { 'Content-Type': found ? 'image/png' : 'text/plain', 'Content-Length': body.length });
    response.end(body);
  };
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const listen = (server: http.Server, host: string, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(address !== null && typeof address !== 'string' ? address.port : 0);
      });
    });
  const ipv4 = http.createServer(handler);
  ipv4.on('connection', track);
  const port = await listen(ipv4, '127.0.0.1', 0);
  const servers = [ipv4];
  const ipv6 = http.createServer(handler);
  ipv6.on('connection', track);
  try {
    await listen(ipv6, '::1', port);
    servers.push(ipv6);
  } catch {
    // No IPv6 loopback (or the port is taken there): localhost then resolves to 127.0.0.1 only.
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        let open = servers.length;
        for (const server of servers) {
          server.close(() => {
            open -= 1;
            if (open === 0) {
              resolve();
            }
          });
          server.closeAllConnections();
        }
        for (const socket of sockets) {
          socket.destroy();
        }
      }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
