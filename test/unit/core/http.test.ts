/** The HTTP plumbing: base URL rules, Retry-After, and the mapping of low-level failures. */
import * as assert from 'node:assert/strict';

import { FloraCancelledError, FloraConfigurationError, FloraTransportError } from '../../../src/core/errors';
import { isLoopbackHost, parseBaseUrl, parseRetryAfter, toTransportError } from '../../../src/core/http';
import { message } from '../../../src/core/messages';

const ORIGIN = 'https://app.flora.ai';

function coded(code: string, message = code): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

function failureOf(error: unknown): string {
  const mapped = toTransportError(error, ORIGIN);
  assert.ok(mapped instanceof FloraTransportError, String(mapped));
  assert.match(mapped.message, /app\.flora\.ai/);
  return mapped.failure;
}

describe('core/http', () => {
  describe('parseBaseUrl', () => {
    it('accepts https and trims trailing slashes, query and fragment', () => {
      assert.equal(parseBaseUrl('https://app.flora.ai').href, 'https://app.flora.ai/');
      assert.equal(parseBaseUrl('  https://app.flora.ai/  ').origin, 'https://app.flora.ai');
      const prefixed = parseBaseUrl('https://proxy.example.com/flora//?x=1#y');
      assert.equal(prefixed.pathname, '/flora');
      assert.equal(prefixed.search, '');
      assert.equal(prefixed.hash, '');
    });

    it('accepts plain http only on loopback: localhost, 127.x and [::1]', () => {
      for (const url of ['http://localhost:7717', 'http://127.0.0.1:7717', 'http://127.1.2.3', 'http://[::1]:8080/']) {
        assert.doesNotThrow(() => parseBaseUrl(url), url);
      }
      for (const url of [
        'http://app.flora.ai',
        'http://127.0.0.1.evil.com',
        'http://localhost.evil.com',
        'http://10.0.0.1',
        'http://[::2]',
      ]) {
        assert.throws(() => parseBaseUrl(url), FloraConfigurationError, url);
      }
    });

    it('refuses other schemes, non-URLs and URLs with a user name or password', () => {
      for (const url of [
        'ftp://app.flora.ai',
        'file:///tmp',
        'app.flora.ai',
        '',
        'https://user:pw@app.flora.ai',
        'https://user@app.flora.ai',
        'http://user@127.0.0.1',
      ]) {
        assert.throws(() => parseBaseUrl(url), FloraConfigurationError, url);
      }
    });

    it('isLoopbackHost accepts loopback names only', () => {
      assert.deepEqual(
        ['localhost', 'LOCALHOST', '127.0.0.1', '[::1]', '::1', '127.255.0.9', '128.0.0.1', 'localhost.com', '0.0.0.0'].map(isLoopbackHost),
        [true, true, true, true, true, true, false, false, false],
      );
    });
  });

  describe('parseRetryAfter', () => {
    it('reads delta seconds', () => {
      assert.equal(parseRetryAfter('3'), 3_000);
      assert.equal(parseRetryAfter(' 0 '), 0);
      assert.equal(parseRetryAfter(['2', '9']), 2_000);
    });

    it('reads an HTTP date relative to now, never negative', () => {
      const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
    });

    it('ignores a missing or unreadable header', () => {
      assert.equal(parseRetryAfter(undefined), undefined);
      assert.equal(parseRetryAfter(''), undefined);
      assert.equal(parseRetryAfter([]), undefined);
      assert.equal(parseRetryAfter('soon'), undefined);
    });
  });

  describe('toTransportError', () => {
    it('maps connection failures by their codes', () => {
      assert.equal(failureOf(coded('ECONNREFUSED')), 'refused');
      assert.equal(failureOf(coded('ENOTFOUND')), 'dns');
      assert.equal(failureOf(coded('EAI_AGAIN')), 'dns');
      assert.equal(failureOf(coded('UND_ERR_CONNECT_TIMEOUT')), 'timeout');
      assert.equal(failureOf(coded('UND_ERR_HEADERS_TIMEOUT')), 'timeout');
      assert.equal(failureOf(coded('UND_ERR_BODY_TIMEOUT')), 'timeout');
      assert.equal(failureOf(coded('ETIMEDOUT')), 'timeout');
      assert.equal(failureOf(coded('ECONNRESET')), 'reset');
      assert.equal(failureOf(coded('UND_ERR_SOCKET')), 'reset');
      assert.equal(failureOf(coded('EPIPE')), 'reset');
      assert.equal(failureOf(coded('ERR_TLS_CERT_ALTNAME_INVALID')), 'tls');
      assert.equal(failureOf(coded('CERT_HAS_EXPIRED')), 'tls');
      assert.equal(failureOf(coded('DEPTH_ZERO_SELF_SIGNED_CERT_SSL')), 'tls');
    });

    it("maps OpenSSL's own verification codes to tls: a self-signed or unknown-issuer certificate is not 'other'", () => {
      assert.equal(failureOf(coded('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')), 'tls');
      assert.equal(failureOf(coded('SELF_SIGNED_CERT_IN_CHAIN')), 'tls');
      assert.equal(failureOf(coded('UNABLE_TO_GET_ISSUER_CERT_LOCALLY')), 'tls');
      assert.equal(failureOf(coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), 'tls');
    });

    it('finds codes in causes and in aggregated errors (happy eyeballs)', () => {
      assert.equal(failureOf(new TypeError('fetch failed', { cause: coded('ECONNREFUSED') })), 'refused');
      assert.equal(
        failureOf(Object.assign(new Error('all failed'), { errors: [coded('ECONNREFUSED'), coded('ECONNREFUSED')] })),
        'refused',
      );
      assert.equal(failureOf(new Error('outer', { cause: new Error('middle', { cause: coded('ENOTFOUND') }) })), 'dns');
    });

    it('keeps the message of an unknown failure and the original as cause', () => {
      const original = new Error('something odd');
      const mapped = toTransportError(original, ORIGIN);
      assert.ok(mapped instanceof FloraTransportError);
      assert.equal(mapped.failure, 'other');
      assert.match(mapped.message, /something odd/);
      assert.equal(mapped.cause, original);
      assert.equal(mapped.retryable, true);
    });

    it('maps aborts to FloraCancelledError and passes typed errors through', () => {
      const abort = new Error('aborted');
      abort.name = 'AbortError';
      assert.ok(toTransportError(abort, ORIGIN) instanceof FloraCancelledError);
      assert.ok(toTransportError(coded('UND_ERR_ABORTED'), ORIGIN) instanceof FloraCancelledError);
      assert.ok(toTransportError(coded('ABORT_ERR'), ORIGIN) instanceof FloraCancelledError);
      const typed = new FloraTransportError('reset', message('transportReset', ORIGIN));
      assert.equal(toTransportError(typed, ORIGIN), typed);
    });
  });
});
