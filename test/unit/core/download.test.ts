// Output downloads against real loopback servers (HTTP and HTTPS on 127.0.0.1): every redirect hop is checked
// like the first URL, names resolving to private or local addresses are refused at connection time, the size
// cap holds before and while reading, nothing is overwritten, the extension comes from the content type, and
// a folder that leads outside the workspace (through `..`, an absolute path or a symbolic link) is refused.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import type { Dispatcher } from 'undici';

import { refusedAddressKind, refusedHostLiteral } from '../../../src/core/addresses';
import { createDownloadDispatcher, type Resolver } from '../../../src/core/dispatcher';
import { downloadToFolder, extensionForContentType, sanitiseFileStem, type DownloadRequest } from '../../../src/core/download';
import { DownloadRefusedError, FloraCancelledError, type DownloadRefusal } from '../../../src/core/errors';
import { resolveOutputFolder } from '../../../src/core/outputFolder';
import { startLoopbackServer, type LoopbackServer, type Responder } from './helpers';

// A self-signed certificate for 127.0.0.1, made-up.test and localhost (valid until 2126), for loopback only.
const CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBrDCCAVGgAwIBAgIUboAc8EnT06vmhwmCE8EeSnnhEuQwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKZmxvcmEtdGVzdDAgFw0yNjEyMDExODUyMThaGA8yMTI2MTEw
NzE4NTIxOFowFTETMBEGA1UEAwwKZmxvcmEtdGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABO2wSYk1L+/z8qr/5DzyRJKzGFxd3E223fl9/JRBNWFLdnTJDokl
rlOqVBSyF4cPm47EccMrk5vfpiaFB53xkfSjfTB7MB0GA1UdDgQWBBTQcGpyyFY3
0BgW4ErecDRBG9sfJjAfBgNVHSMEGDAWgBTQcGpyyFY30BgW4ErecDRBG9sfJjAP
BgNVHRMBAf8EBTADAQH/MCgGA1UdEQQhMB+HBH8AAAGCDG1hZGUtdXAudGVzdIIJ
bG9jYWxob3N0MAoGCCqGSM49BAMCA0kAMEYCIQCGSeGYU3aFuIsirgnJfU2zVZ7O
EyFda9t42YnUW6aXJAIhAJ9pdIEJnncNrN7vRzp8JiHfyZcWGprNhR6buWAlSkIb
-----END CERTIFICATE-----
`;
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8KrHQ+5HdS0n8rLA
VLESOw3Ng3IUopfVO+CDuCuvx0WhRANCAATtsEmJNS/v8/Kq/+Q88kSSsxhcXdxN
tt35ffyUQTVhS3Z0yQ6JJa5TqlQUsheHD5uOxHHDK5Ob36YmhQed8ZH0
-----END PRIVATE KEY-----
`;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

/** "GET /path" for every request that reached the server. */
function requestsTo(server: LoopbackServer): string[] {
  return server.hits.map((hit) => `${hit.method} ${hit.url}`);
}

function servePng(response: http.ServerResponse, type = 'image/png'): void {
  response.writeHead(200, { 'content-type': type, 'content-length': PNG.length });
  response.end(PNG);
}

function redirectTo(location: string): Responder {
  return (_request, response) => {
    response.writeHead(302, { location });
    response.end();
  };
}

async function refusal(promise: Promise<unknown>): Promise<DownloadRefusedError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DownloadRefusedError) return error;
    throw error;
  }
  assert.fail('expected the download to be refused');
}

function assertRefused(error: DownloadRefusedError, reason: DownloadRefusal, pattern?: RegExp): void {
  assert.equal(error.reason, reason, error.message);
  if (pattern) assert.match(error.message, pattern);
}

describe('output downloads (core/download.ts)', () => {
  const servers: LoopbackServer[] = [];
  const dispatchers: Dispatcher[] = [];
  let folder: string;

  async function server(handler: Responder, secure = false): Promise<LoopbackServer> {
    const started = await startLoopbackServer(handler, secure ? { tls: { key: PRIVATE_KEY, cert: CERTIFICATE } } : {});
    servers.push(started);
    return started;
  }

  function download(request: Partial<DownloadRequest> & { url: string; allowedOrigins: readonly string[] }, resolve?: Resolver) {
    const dispatcher = createDownloadDispatcher({ allowedOrigins: request.allowedOrigins, tls: { ca: CERTIFICATE }, resolve });
    dispatchers.push(dispatcher);
    return downloadToFolder({ dispatcher, folder, stem: 'output', ...request });
  }

  beforeEach(async () => {
    folder = await fs.mkdtemp(path.join(os.tmpdir(), 'flora-download-'));
  });

  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.destroy().catch(() => undefined)));
    await Promise.all(servers.splice(0).map((started) => started.close()));
    await fs.rm(folder, { recursive: true, force: true });
  });

  describe('redirects', () => {
    it('follows a redirect within the allowed origin, resolving a relative Location against the current URL', async () => {
      const sandbox = await server((request, response) => {
        if (request.url === '/media/start') redirectTo('file.png')(request, response);
        else servePng(response);
      });
      const saved = await download({ url: `${sandbox.url}/media/start`, allowedOrigins: [sandbox.url] });
      assert.equal(saved.url, `${sandbox.url}/media/file.png`);
      assert.deepEqual(await fs.readFile(saved.file), PNG);
      assert.deepEqual(requestsTo(sandbox), ['GET /media/start', 'GET /media/file.png']);
    });

    it('refuses an https output that redirects to http://127.0.0.1/admin/secrets, and never asks that server', async () => {
      const secrets = await server((_request, response) => response.end('the admin secrets'));
      const output = await server(redirectTo(`http://127.0.0.1:${secrets.port}/admin/secrets`), true);
      const error = await refusal(download({ url: `${output.url}/out.png`, allowedOrigins: [output.url] }));
      assertRefused(error, 'redirect', /not an https:\/\/ address/);
      assert.deepEqual(requestsTo(output), ['GET /out.png']);
      assert.equal(secrets.connections, 0, 'the redirect target was never contacted');
      assert.deepEqual(await fs.readdir(folder), []);
    });

    it('refuses a redirect to another loopback origin, even over https', async () => {
      const other = await server((_request, response) => servePng(response), true);
      const output = await server(redirectTo(`https://127.0.0.1:${other.port}/admin/secrets`), true);
      const error = await refusal(download({ url: `${output.url}/out.png`, allowedOrigins: [output.url] }));
      assertRefused(error, 'address', /private or local address \(127\.0\.0\.1\)/);
      assert.equal(other.connections, 0);
    });

    it('refuses a hop to a non-https URL on a public-looking host', async () => {
      const output = await server(redirectTo('http://example.test/image.png'));
      const error = await refusal(download({ url: `${output.url}/out.png`, allowedOrigins: [output.url] }));
      assertRefused(error, 'redirect', /http:\/\/example\.test/);
    });

    it('refuses a redirect to an IPv4-mapped IPv6 loopback or a localhost name', async () => {
      for (const location of ['https://[::ffff:127.0.0.1]/x', 'https://localhost/x', 'https://api.localhost:8443/x', 'https://0x7f.1/x']) {
        const output = await server(redirectTo(location));
        const error = await refusal(download({ url: `${output.url}/out.png`, allowedOrigins: [output.url] }));
        assertRefused(error, 'address');
      }
    });

    it('stops after three redirects', async () => {
      let hops = 0;
      const output = await server((_request, response) => {
        hops++;
        response.writeHead(307, { location: `/hop-${hops}` });
        response.end();
      });
      const error = await refusal(download({ url: `${output.url}/start`, allowedOrigins: [output.url] }));
      assertRefused(error, 'redirect', /more than 3 times/);
      assert.equal(hops, 4, 'the first request and three redirects');
    });
  });

  describe('addresses after DNS resolution', () => {
    it('refuses a host name that resolves to 127.0.0.1, before connecting', async () => {
      const target = await server((_request, response) => servePng(response), true);
      const asked: string[] = [];
      const resolve: Resolver = async (hostname) => {
        asked.push(hostname);
        return hostname === 'made-up.test' ? [{ address: '127.0.0.1', family: 4 }] : [];
      };
      const error = await refusal(download({ url: `https://made-up.test:${target.port}/out.png`, allowedOrigins: [] }, resolve));
      assertRefused(error, 'address', /private or local address \(127\.0\.0\.1\)/);
      assert.deepEqual(asked, ['made-up.test'], 'the connection asked the injected resolver');
      assert.equal(target.connections, 0, 'no connection was made');
    });

    it('refuses a name when any one of its addresses is private (IPv4-mapped included)', async () => {
      const target = await server((_request, response) => servePng(response), true);
      const resolve: Resolver = async () => [{ address: '::ffff:10.0.0.7', family: 6 }];
      const error = await refusal(download({ url: `https://made-up.test:${target.port}/out.png`, allowedOrigins: [] }, resolve));
      assertRefused(error, 'address', /::ffff:10\.0\.0\.7/);
      assert.equal(target.connections, 0);
    });

    it('lets exactly the allowed origin through to its loopback address, and no other port of it', async () => {
      const target = await server((_request, response) => servePng(response), true);
      const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
      const origin = `https://made-up.test:${target.port}`;
      const saved = await download({ url: `${origin}/out.png`, allowedOrigins: [origin] }, resolve);
      assert.deepEqual(await fs.readFile(saved.file), PNG);
      const otherPort = `https://made-up.test:${target.port === 65535 ? 1 : target.port + 1}`;
      const error = await refusal(download({ url: `${otherPort}/out.png`, allowedOrigins: [origin] }, resolve));
      assertRefused(error, 'address');
    });

    it('classifies loopback, private, link-local, unique-local, multicast and mapped addresses as refused, public ones not', () => {
      const refused = [
        '127.0.0.1',
        '127.255.0.9',
        '0.0.0.0',
        '10.1.2.3',
        '172.16.0.1',
        '172.31.255.255',
        '192.168.1.1',
        '100.64.0.1',
        '100.127.255.254',
        '169.254.169.254',
        '224.0.0.1',
        '255.255.255.255',
        '::1',
        '::',
        'fe80::1',
        'fe80::1%eth0',
        'fc00::1',
        'fd12:3456::1',
        'ff02::1',
        '::ffff:127.0.0.1',
        '::ffff:7f00:1',
        '::ffff:192.168.0.1',
        '::127.0.0.1',
        '64:ff9b::a00:1',
        '[::1]',
        'not-an-address',
      ];
      const allowed = ['8.8.8.8', '172.32.0.1', '100.128.0.1', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450::200e'];
      for (const address of refused) assert.notEqual(refusedAddressKind(address), undefined, `${address} should be refused`);
      for (const address of allowed) assert.equal(refusedAddressKind(address), undefined, `${address} should be allowed`);
    });

    it('refuses by name alone localhost names and refused IP literals, bracketed or not, and nothing that needs a lookup', () => {
      const refused = [
        'localhost',
        'LOCALHOST.',
        'api.localhost',
        '127.0.0.1',
        '10.0.0.7',
        '[::1]',
        '::1',
        '[::ffff:192.168.0.1]',
        'fe80::1',
      ];
      const unknownUntilResolved = ['made-up.test', 'localhost.example', 'example.com', '8.8.8.8', '[2606:4700:4700::1111]', '0x7f.1'];
      for (const host of refused) assert.equal(refusedHostLiteral(host), true, `${host} should be refused`);
      for (const host of unknownUntilResolved) assert.equal(refusedHostLiteral(host), false, `${host} is left to the lookup`);
    });
  });

  describe('size cap', () => {
    it('refuses a Content-Length over the cap before reading the body', async () => {
      let bodyClosed: () => void = () => undefined;
      const closed = new Promise<void>((resolve) => (bodyClosed = resolve));
      const output = await server((_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': 10_000 });
        // Part of the body, then nothing: a client that reads the body before checking would wait for ever.
        response.write(Buffer.alloc(100));
        response.on('close', bodyClosed);
      });
      const error = await refusal(download({ url: `${output.url}/big.png`, allowedOrigins: [output.url], maxBytes: 1_000 }));
      assertRefused(error, 'tooLarge', /larger than 1000 bytes/);
      await closed;
      assert.deepEqual(await fs.readdir(folder), [], 'no file, no temporary file');
    });

    it('aborts a body that grows past the cap and removes the temporary file', async () => {
      let written = 0;
      const output = await server((_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png' }); // chunked: no Content-Length to check
        const chunk = Buffer.alloc(256, 1);
        const pump = (): void => {
          while (!response.destroyed && written < 10_000_000 && response.write(chunk)) written += chunk.length;
          if (!response.destroyed && written < 10_000_000) response.once('drain', pump);
        };
        pump();
      });
      const error = await refusal(download({ url: `${output.url}/growing.png`, allowedOrigins: [output.url], maxBytes: 4_096 }));
      assertRefused(error, 'tooLarge');
      assert.ok(written < 10_000_000, 'the download stopped reading long before the server ran out');
      assert.deepEqual(await fs.readdir(folder), []);
    });

    it('removes the temporary file when the download is cancelled', async () => {
      const controller = new AbortController();
      const output = await server((_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png' });
        response.write(Buffer.alloc(1_000), () => controller.abort());
      });
      await assert.rejects(
        download({ url: `${output.url}/slow.png`, allowedOrigins: [output.url], signal: controller.signal }),
        FloraCancelledError,
      );
      assert.deepEqual(await fs.readdir(folder), []);
    });

    it('saves nothing for an error status', async () => {
      const output = await server((_request, response) => {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('gone');
      });
      const error = await refusal(download({ url: `${output.url}/gone.png`, allowedOrigins: [output.url] }));
      assertRefused(error, 'status', /HTTP 404/);
      assert.deepEqual(await fs.readdir(folder), []);
    });
  });

  describe('file names', () => {
    it('never overwrites an existing file: the next free name, also for downloads at the same time', async () => {
      const output = await server((_request, response) => servePng(response));
      await fs.writeFile(path.join(folder, 'output.png'), 'mine');
      const saved = await Promise.all(
        Array.from({ length: 5 }, () => download({ url: `${output.url}/out.png`, allowedOrigins: [output.url] })),
      );
      assert.equal(await fs.readFile(path.join(folder, 'output.png'), 'utf8'), 'mine');
      assert.deepEqual(saved.map((result) => path.basename(result.file)).sort(), [
        'output-2.png',
        'output-3.png',
        'output-4.png',
        'output-5.png',
        'output-6.png',
      ]);
      for (const result of saved) assert.deepEqual(await fs.readFile(result.file), PNG);
      assert.equal((await fs.readdir(folder)).length, 6, 'no temporary files left');
    });

    it('takes the extension from the content type, never from the URL', async () => {
      const output = await server((request, response) => {
        if (request.url === '/page.html') servePng(response, 'image/PNG; charset=binary');
        else servePng(response, 'text/html');
      });
      const png = await download({ url: `${output.url}/page.html`, allowedOrigins: [output.url], stem: 'first' });
      assert.equal(path.basename(png.file), 'first.png');
      const unknown = await download({ url: `${output.url}/script.js`, allowedOrigins: [output.url], stem: 'second' });
      assert.equal(path.basename(unknown.file), 'second.bin');
      assert.equal(extensionForContentType('video/quicktime'), '.mov');
      assert.equal(extensionForContentType('application/x-msdownload'), '.bin');
      assert.equal(extensionForContentType('toString'), '.bin');
    });

    it('makes any stem a plain file name: no separators, no leading dot or dash, bounded', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 300 }), (text) => {
          const stem = sanitiseFileStem(text);
          assert.match(stem, /^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
          assert.ok(stem.length <= 101, stem);
          assert.ok(!stem.endsWith('.'), stem);
          assert.equal(path.basename(stem), stem);
        }),
        { seed: 20261201, numRuns: 500 },
      );
      assert.equal(sanitiseFileStem('../../.ssh/authorized_keys'), 'ssh_authorized_keys');
      assert.equal(sanitiseFileStem('CON'), '_CON');
      assert.equal(sanitiseFileStem('...'), 'flora-output');
    });
  });

  describe('the output folder (core/outputFolder.ts)', () => {
    let root: string;
    let workspace: string;
    let outside: string;

    beforeEach(async () => {
      root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'flora-folder-')));
      workspace = path.join(root, 'workspace');
      outside = path.join(root, 'outside');
      await fs.mkdir(workspace);
      await fs.mkdir(outside);
    });

    afterEach(async () => {
      await fs.rm(root, { recursive: true, force: true });
    });

    it('puts a relative folder inside the workspace folder, by its real path', async () => {
      assert.equal(
        await resolveOutputFolder({ value: 'flora-outputs', fromUser: false }, workspace),
        path.join(workspace, 'flora-outputs'),
      );
      assert.equal(await resolveOutputFolder({ value: 'a/b/../c', fromUser: true }, workspace), path.join(workspace, 'a', 'c'));
    });

    it("refuses a workspace's `../..` or absolute folder, and allows an absolute one from the user's settings", async () => {
      assertRefused(await refusal(resolveOutputFolder({ value: '../..', fromUser: false }, workspace)), 'folder', /User settings/);
      assertRefused(await refusal(resolveOutputFolder({ value: outside, fromUser: false }, workspace)), 'folder', /User settings/);
      assertRefused(await refusal(resolveOutputFolder({ value: 'C:\\Users\\me', fromUser: false }, workspace)), 'folder');
      assert.equal(await resolveOutputFolder({ value: outside, fromUser: true }, workspace), outside);
    });

    it('refuses a symbolic link in the workspace that points outside it, and a dangling one', async () => {
      await fs.symlink(outside, path.join(workspace, 'flora-outputs'), 'dir');
      await fs.symlink(path.join(outside, 'missing'), path.join(workspace, 'dangling'), 'dir');
      for (const value of ['flora-outputs', 'flora-outputs/deeper/still', 'dangling']) {
        for (const fromUser of [false, true]) {
          assertRefused(await refusal(resolveOutputFolder({ value, fromUser }, workspace)), 'folder', /symbolic link/);
        }
      }
      assert.deepEqual(await fs.readdir(outside), [], 'nothing was created outside');
    });

    it('allows a symbolic link that stays inside the workspace', async () => {
      await fs.mkdir(path.join(workspace, 'real'));
      await fs.symlink(path.join(workspace, 'real'), path.join(workspace, 'flora-outputs'), 'dir');
      assert.equal(await resolveOutputFolder({ value: 'flora-outputs', fromUser: false }, workspace), path.join(workspace, 'real'));
    });

    it('writes nothing when the folder became a symbolic link after it was checked', async () => {
      const output = await server((_request, response) => servePng(response));
      const checked = await resolveOutputFolder({ value: 'flora-outputs', fromUser: false }, workspace);
      assert.ok(checked);
      await fs.symlink(outside, checked, 'dir');
      const error = await refusal(download({ url: `${output.url}/out.png`, allowedOrigins: [output.url], folder: checked }));
      assertRefused(error, 'folder');
      assert.deepEqual(await fs.readdir(outside), []);
    });
  });
});
