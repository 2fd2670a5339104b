/**
 * The sandbox as an unfriendly server (issue 12): Node's 5 s keep-alive by default (--keep-alive-ms to
 * change it), progress profiles that do not grow with time, per-run durations, and an HTTP/2 TLS mode.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';

import { loopbackCertificate } from '../sandbox/certificate';
import { startSandbox, type Sandbox } from '../sandbox/server';
import { PROGRESS_PROFILES, progressOf, type ProgressProfile } from '../sandbox/techniques';
import { waitFor } from '../common/wait';

function get(sandbox: Sandbox, path: string, agent: http.Agent): Promise<{ headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(new URL(path, sandbox.url), { agent, headers: { authorization: `Bearer ${sandbox.apiKey}` } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ headers: response.headers, body }));
    });
    request.on('error', reject);
  });
}

function post(sandbox: Sandbox, path: string, body: unknown): Promise<{ runId: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      new URL(path, sandbox.url),
      { method: 'POST', headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(JSON.parse(text) as { runId: string }));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

describe('sandbox: unfriendly server options (issue 12)', () => {
  const sandboxes: Sandbox[] = [];
  const agent = new http.Agent({ keepAlive: true });
  after(async () => {
    agent.destroy();
    await Promise.all(sandboxes.map((sandbox) => sandbox.close()));
  });
  async function sandboxWith(options: Parameters<typeof startSandbox>[0]): Promise<Sandbox> {
    const sandbox = await startSandbox(options);
    sandboxes.push(sandbox);
    return sandbox;
  }

  it("keeps idle connections Node's 5 s by default and says so; keepAliveMs changes both", async () => {
    const byDefault = await sandboxWith({});
    assert.equal((await get(byDefault, '/api/v1/techniques/icon-pack', agent)).headers['keep-alive'], 'timeout=5');
    const friendly = await sandboxWith({ keepAliveMs: 65_000 });
    assert.equal((await get(friendly, '/api/v1/techniques/icon-pack', agent)).headers['keep-alive'], 'timeout=65');
  });

  it('every profile: pending first, whole percents below 100, and the shape it names', () => {
    const fractions = Array.from({ length: 1000 }, (_, index) => index / 1000);
    const seen = (profile: ProgressProfile): number[] => fractions.map((fraction) => progressOf(profile, fraction).progress);
    for (const profile of PROGRESS_PROFILES) {
      assert.deepEqual(progressOf(profile, 0.05), { status: 'pending', progress: 0 }, profile);
      for (const value of seen(profile)) assert.ok(Number.isInteger(value) && value >= 0 && value <= 99, `${profile}: ${value}`);
    }
    assert.deepEqual([...new Set(seen('steps'))], [0, 25, 50, 75]);
    assert.equal(progressOf('queued', 0.4).status, 'running');
    assert.equal(progressOf('queued', 0.4).progress, 0, 'running, yet at 0 % well after startedAt');
    const stalled = seen('stall').filter((_, index) => index >= 550);
    assert.ok(Math.min(...stalled) >= 95 && Math.max(...stalled) <= 98, 'the second half sits at 95–98 %');
    const backwards = seen('backwards');
    assert.ok(
      backwards.some((value, index) => index > 0 && value < (backwards[index - 1] ?? 0) - 30),
      'drops by more than 30 %',
    );
    const linear = seen('linear');
    assert.ok(linear.every((value, index) => index === 0 || value >= (linear[index - 1] ?? 0)));
  });

  it('serves the chosen profile over HTTP, each run with the duration runDurationFor gives it', async () => {
    const sandbox = await sandboxWith({
      progress: 'steps',
      runDurationFor: ({ idempotencyKey }) => (idempotencyKey === 'short' ? 600 : 60_000),
    });
    const short = await post(sandbox, '/api/v1/techniques/icon-pack/runs', {
      inputs: [{ id: 'prompt', type: 'text', value: 'x' }],
      mode: 'async',
      idempotency_key: 'short',
    });
    const long = await post(sandbox, '/api/v1/techniques/icon-pack/runs', {
      inputs: [{ id: 'prompt', type: 'text', value: 'x' }],
      mode: 'async',
      idempotency_key: 'long',
    });
    const values = new Set<number>();
    await waitFor('the short run to complete', async () => {
      const reply = JSON.parse((await get(sandbox, `/api/v1/techniques/icon-pack/runs/${short.runId}`, agent)).body) as {
        status: string;
        progress: number;
      };
      if (reply.status === 'running') values.add(reply.progress);
      return reply.status === 'completed';
    });
    assert.ok(
      [...values].every((value) => value % 25 === 0),
      [...values].join(', '),
    );
    assert.equal(sandbox.runs().find((run) => run.runId === long.runId)?.status, 'pending');
  });

  it('serves HTTPS over HTTP/2 with the certificate it is given', async function () {
    const certificate = loopbackCertificate();
    assert.ok(certificate, 'openssl makes the test certificate: install it (npm run install-editor does)');
    const sandbox = await sandboxWith({ tls: certificate });
    assert.match(sandbox.url, /^https:/);
    const session = http2.connect(sandbox.url, { ca: certificate.cert });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/api/v1/techniques/icon-pack', authorization: `Bearer ${sandbox.apiKey}` });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
        stream.end();
      });
      assert.equal(status, 200);
      assert.equal(sandbox.requests[0]?.httpVersion, '2.0');
    } finally {
      session.close();
    }
  });
});
