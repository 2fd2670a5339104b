/**
 * `npm run sandbox`: the sandbox as a standalone server for demos and manual testing.
 *
 *   node out/test/sandbox/main.js [--port N] [--duration-ms N] [--credits N]
 *
 * The port also comes from FLORA_SANDBOX_PORT; the default 7717 is fixed so a saved base URL setting
 * keeps working across restarts.
 */
import { SANDBOX_API_KEY, startSandbox, type Sandbox } from './server';

const DEFAULT_PORT = 7717;

interface CommandLine {
  port: number;
  runDurationMs: number | undefined;
  credits: number | undefined;
}

function parseCommandLine(args: readonly string[]): CommandLine {
  const environmentPort = process.env.FLORA_SANDBOX_PORT;
  const commandLine: CommandLine = {
    port: environmentPort === undefined || environmentPort === '' ? DEFAULT_PORT : parseCount('FLORA_SANDBOX_PORT', environmentPort),
    runDurationMs: undefined,
    credits: undefined,
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
      case '--help':
      case '-h':
        console.log('Usage: node out/test/sandbox/main.js [--port N] [--duration-ms N] [--credits N]');
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
    `Credits: ${sandbox.credits}; run duration: ${commandLine.runDurationMs === undefined ? 'per technique (4-15 s)' : `${commandLine.runDurationMs} ms`}`,
  );
  console.log(`Try: curl ${sandbox.url}/api/v1/techniques/studio-shot -H "Authorization: Bearer ${SANDBOX_API_KEY}"`);
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
