/**
 * `npm run sandbox`: the sandbox as a standalone server for demos and manual testing.
 *
 *   node out/test/sandbox/main.js [--port N] [--duration-ms N] [--credits N] [--hostile]
 *
 * The port also comes from FLORA_SANDBOX_PORT; the default 7717 is fixed so a saved base URL setting
 * keeps working across restarts.
 *
 * --hostile also serves what a hostile or careless FLORA server could send (see hostile.ts): techniques
 * sandbox-hostile-urls (output URLs that break out of Markdown/HTML/CSS/template snippets),
 * sandbox-hostile-downloads (302s to a second loopback server that answers "SECRET", a 2 GiB
 * Content-Length, an endless stream, mislabelled content types), sandbox-hostile-csp (origins that would
 * inject into a Content-Security-Policy) and sandbox-hostile-replies (off-document replies, one case per
 * run). sandbox-hostile and sandbox-hostile-failure (command links, codicons and markup in every server
 * string) are served with or without it. Everything stays on loopback.
 *
 * The sandbox also serves storage for uploads (storage.ts: S3 and GCS path-style endpoints that verify
 * every SigV4 signature, an ImageKit-like upload endpoint) and sample inputs; the CLI prints their
 * endpoints and test credentials, which work nowhere else.
 */
import { HOSTILE_MODE_SLUGS, HOSTILE_REPLIES_SLUG, HOSTILE_REPLY_CASES } from './hostile';
import { SAMPLES_LIST_PATH } from './samples';
import { SANDBOX_API_KEY, startSandbox, type Sandbox } from './server';
import {
  SANDBOX_GCS_BUCKET,
  SANDBOX_GCS_HMAC,
  SANDBOX_GCS_READONLY_BUCKET,
  SANDBOX_GCS_REGION,
  SANDBOX_IMAGEKIT_PRIVATE_KEY,
  SANDBOX_S3_BUCKET,
  SANDBOX_S3_CREDENTIALS,
  SANDBOX_S3_EU_BUCKET,
  SANDBOX_S3_EU_REGION,
  SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS,
  SANDBOX_S3_READONLY_BUCKET,
  SANDBOX_S3_REGION,
  SANDBOX_S3_SESSION_CREDENTIALS,
  storageEndpoints,
} from './storage';
import {
  HOSTILE_FAILURE_SLUG,
  HOSTILE_SLUG,
  isProgressProfile,
  PROGRESS_PROFILE_DESCRIPTIONS,
  PROGRESS_PROFILES,
  type ProgressProfile,
} from './techniques';

const DEFAULT_PORT = 7717;

interface CommandLine {
  port: number;
  runDurationMs: number | undefined;
  credits: number | undefined;
  hostile: boolean;
  keepAliveMs: number | undefined;
  progress: ProgressProfile | undefined;
}

const USAGE = [
  'Usage: node out/test/sandbox/main.js [--port N] [--duration-ms N] [--credits N] [--keep-alive-ms N] [--progress P] [--hostile]',
  '',
  '  --port N          listen on 127.0.0.1:N (default 7717, or FLORA_SANDBOX_PORT; 0 picks a free port)',
  '  --duration-ms N   every run takes N ms (default: per technique, 4-15 s)',
  '  --credits N       the account starts with N credits (default 1000)',
  "  --keep-alive-ms N idle connections are closed after N ms (default 5000, Node's own; hosted APIs keep 60000-75000)",
  '  --progress P      how runs report progress (default linear):',
  ...PROGRESS_PROFILES.map((profile) => `                      ${profile}: ${PROGRESS_PROFILE_DESCRIPTIONS[profile]}`),
  '  --hostile         also serve hostile techniques: snippet-breaking output URLs, redirects to a second',
  '                    loopback server, huge and mislabelled downloads, CSP-injecting origins and',
  '                    off-document replies:',
  `                    ${HOSTILE_MODE_SLUGS.join(', ')}`,
  '',
  'Storage for uploads, on the same origin (test credentials, valid nowhere else):',
  ...storageLines('http://127.0.0.1:<port>').map((line) => `  ${line}`),
  '',
  'Runs GET their inputs on the sandbox origin when they are created, as FLORA does; an input that cannot',
  'be fetched fails the run with errorCode input_unavailable and costs nothing.',
].join('\n');

/** The storage endpoints and credentials, for the banner and --help. */
function storageLines(origin: string): string[] {
  const endpoints = storageEndpoints(origin);
  return [
    `S3 (path-style, SigV4 verified): endpoint ${endpoints.s3}, requests ${endpoints.s3}/<bucket>/<key>`,
    `  buckets: ${SANDBOX_S3_BUCKET} (${SANDBOX_S3_REGION}), ${SANDBOX_S3_EU_BUCKET} (${SANDBOX_S3_EU_REGION}), ${SANDBOX_S3_READONLY_BUCKET} (${SANDBOX_S3_REGION}, read-only)`,
    `  access key ${SANDBOX_S3_CREDENTIALS.accessKeyId}, secret ${SANDBOX_S3_CREDENTIALS.secretAccessKey}`,
    `  session key ${SANDBOX_S3_SESSION_CREDENTIALS.accessKeyId}, secret ${SANDBOX_S3_SESSION_CREDENTIALS.secretAccessKey}, token ${SANDBOX_S3_SESSION_CREDENTIALS.sessionToken}`,
    `  expired session key ${SANDBOX_S3_EXPIRED_SESSION_CREDENTIALS.accessKeyId} (every request gets ExpiredToken)`,
    `GCS (same protocol, region ${SANDBOX_GCS_REGION}): endpoint ${endpoints.gcs}, buckets ${SANDBOX_GCS_BUCKET}, ${SANDBOX_GCS_READONLY_BUCKET} (read-only)`,
    `  HMAC key ${SANDBOX_GCS_HMAC.accessKeyId}, secret ${SANDBOX_GCS_HMAC.secretAccessKey}`,
    `ImageKit: POST ${endpoints.imagekit}/api/v1/files/upload (multipart/form-data, Basic auth with the private key)`,
    `  private key ${SANDBOX_IMAGEKIT_PRIVATE_KEY}; files served at ${endpoints.imagekitUrl}/<filePath>`,
    `Samples: GET ${origin}${SAMPLES_LIST_PATH} lists sample inputs (no key needed), served under ${origin}/samples/`,
  ];
}

function parseCommandLine(args: readonly string[]): CommandLine {
  const environmentPort = process.env.FLORA_SANDBOX_PORT;
  const commandLine: CommandLine = {
    port: environmentPort === undefined || environmentPort === '' ? DEFAULT_PORT : parseCount('FLORA_SANDBOX_PORT', environmentPort),
    runDurationMs: undefined,
    credits: undefined,
    hostile: false,
    keepAliveMs: undefined,
    progress: undefined,
  };
  for (let index = 0; index < args.length; index += 1) {
    const argument = args[index];
    const [flag, inlineValue] = argument.includes('=') ? argument.split('=', 2) : [argument, undefined];
    const value = (): string => {
      if (inlineValue !== undefined) {
        return inlineValue;
      }
      index += 1;
      const next = args[index];
      if (next === undefined) {
        throw new Error(`${flag} needs a value`);
      }
      return next;
    };
    switch (flag) {
      case '--port':
        commandLine.port = parseCount(flag, value());
        break;
      case '--duration-ms':
        commandLine.runDurationMs = parseCount(flag, value());
        break;
      case '--credits':
        commandLine.credits = parseCount(flag, value());
        break;
      case '--keep-alive-ms':
        commandLine.keepAliveMs = parseCount(flag, value());
        break;
      case '--progress': {
        const profile = value();
        if (!isProgressProfile(profile)) {
          throw new Error(`--progress must be one of ${PROGRESS_PROFILES.join(', ')}, got "${profile}"`);
        }
        commandLine.progress = profile;
        break;
      }
      case '--hostile':
        if (inlineValue !== undefined) {
          throw new Error('--hostile takes no value');
        }
        commandLine.hostile = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`Unknown argument: ${argument}`);
    }
  }
  return commandLine;
}

function parseCount(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  }
  return value;
}

function timestamp(): string {
  return new Date().toISOString().slice(11, 23);
}

async function main(): Promise<void> {
  let commandLine: CommandLine;
  try {
    commandLine = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
    return;
  }

  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      port: commandLine.port,
      runDurationMs: commandLine.runDurationMs,
      credits: commandLine.credits,
      hostile: commandLine.hostile,
      keepAliveMs: commandLine.keepAliveMs,
      progress: commandLine.progress,
      log: (line) => console.log(`${timestamp()} ${line}`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `Port ${commandLine.port} is in use; pass --port N or set FLORA_SANDBOX_PORT (0 picks a free port).`
        : `Could not start the sandbox: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exitCode = 1;
    return;
  }

  console.log(`FLORA sandbox listening on ${sandbox.url}`);
  console.log(`API key: ${SANDBOX_API_KEY}`);
  console.log(
    `Credits: ${sandbox.credits}; run duration: ${commandLine.runDurationMs === undefined ? 'per technique (4-15 s)' : `${commandLine.runDurationMs} ms`}; progress: ${commandLine.progress ?? 'linear'}; idle connections kept ${commandLine.keepAliveMs ?? 5_000} ms`,
  );
  console.log(`Try: curl ${sandbox.url}/api/v1/techniques/studio-shot -H "Authorization: Bearer ${SANDBOX_API_KEY}"`);
  console.log('Storage for uploads (test credentials, valid nowhere else):');
  for (const line of storageLines(sandbox.url)) {
    console.log(`  ${line}`);
  }
  const hostile = sandbox.hostile;
  if (hostile !== undefined) {
    console.log(`Hostile mode: techniques ${[HOSTILE_SLUG, HOSTILE_FAILURE_SLUG, ...HOSTILE_MODE_SLUGS].join(', ')}`);
    console.log(`  redirects lead to ${hostile.secretUrl} (a second loopback server; a safe client never reaches it)`);
    console.log(`  ${HOSTILE_REPLIES_SLUG}: type one of ${HOSTILE_REPLY_CASES.join(', ')} (anything else: the next case)`);
  }
  console.log('Press Ctrl+C to stop.');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log(`${signal}: stopping the sandbox`);
    void sandbox.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
