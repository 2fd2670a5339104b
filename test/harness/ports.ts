// Port selection for the servers the harness starts. Everything binds to 127.0.0.1 only.
import * as net from 'net';

export const loopbackHost = '127.0.0.1';

/** Listens on `port` (0 = any) for a moment and reports the port actually bound, or undefined if taken. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, loopbackHost, () => {
      const address = server.address();
      const boundPort = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(boundPort));
    });
  });
}

/** A port free right now. Another process may still take it before we bind; callers accept that race. */
export async function findFreePort(): Promise<number> {
  const port = await probe(0);
  if (port === undefined) throw new Error(`Cannot bind any port on ${loopbackHost}`);
  return port;
}

export async function isPortFree(port: number): Promise<boolean> {
  return (await probe(port)) !== undefined;
}

/** `preferred` when it is free, else a random free port, so a stale server never blocks a run. */
export async function preferredOrFreePort(preferred: number): Promise<number> {
  return (await probe(preferred)) ?? findFreePort();
}

/** Reads a port number (0 = any free port) from an environment variable; the fallback when unset or invalid. */
export function portFromEnvironment(name: string, fallback: number): number {
  const text = process.env[name];
  const value = Number(text);
  return text !== undefined && text.trim() !== '' && Number.isInteger(value) && value >= 0 && value < 65536 ? value : fallback;
}
