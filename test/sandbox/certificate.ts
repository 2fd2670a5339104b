// A self-signed certificate for 127.0.0.1, made when a test or the bench needs a TLS server (the HTTP/2
// sandbox). It is trusted only where it is passed as the CA: nothing is installed, nothing checked in.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
}

let made: TestCertificate | undefined;

/** A P-256 key and a one-day certificate for IP 127.0.0.1, from `openssl` (undefined when it is not installed). */
export function loopbackCertificate(): TestCertificate | undefined {
  if (made) return made;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-cert-'));
  try {
    const keyFile = path.join(directory, 'key.pem');
    const certFile = path.join(directory, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    made = { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
    return made;
  } catch {
    return undefined;
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}
