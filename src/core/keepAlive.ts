// How long the API's connection may sit idle before the server (or undici, on the server's word) closes
// it. The poller asks, so that while runs are live one poll always comes before that moment: every poll
// then reuses the warm connection instead of paying a TCP and TLS handshake. No undici here: the poller
// loads this at activation, the dispatcher only at the first request.

/** The dispatcher has undici close an idle connection this long before the server's Keep-Alive timeout (keepAliveTimeoutThreshold). */
export const KEEP_ALIVE_THRESHOLD_MS = 1_000;
/** Room for a timer that fires late and a request on its way, so the poll lands before the close. */
const IDLE_MARGIN_MS = 250;
/** Node's own server default (5 s), which servers that say nothing else often keep: assumed until a reply says. */
export const ASSUMED_KEEP_ALIVE_MS = 5_000;
/** Without a hint undici keeps an idle connection this long (the dispatcher's keepAliveTimeout). */
export const UNHINTED_KEEP_ALIVE_MS = 30_000;

/** The idle time a connection can be trusted with, for a server that announced `keepAliveMs`. */
export function idleBudgetFor(keepAliveMs: number): number {
  return Math.max(0, keepAliveMs - KEEP_ALIVE_THRESHOLD_MS - IDLE_MARGIN_MS);
}

/** The timeout of a Keep-Alive header ("timeout=5, max=100"), in ms; undefined when it names none. */
export function parseKeepAlive(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /(?:^|[,;\s])timeout\s*=\s*"?(\d+)"?/i.exec(value);
  if (!match?.[1]) return undefined;
  const seconds = Number(match[1]);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

/**
 * What the last replies said about keeping connections, per origin. A reply without a Keep-Alive header
 * (HTTP/2 never sends one; many HTTP/1.1 servers do not) leaves the connection to undici's own timeout.
 */
export class KeepAliveHints {
  private readonly byOrigin = new Map<string, number>();
  private lastOrigin: string | undefined;

  /** Called for every reply: `header` is its Keep-Alive header, if any. */
  record(origin: string, header: string | undefined): void {
    this.byOrigin.set(origin, parseKeepAlive(header) ?? UNHINTED_KEEP_ALIVE_MS);
    this.lastOrigin = origin;
  }

  /** How long the connection to `origin` (default: the one last replied from) may stay idle and still be reused. */
  idleBudgetMs(origin = this.lastOrigin): number {
    const keepAliveMs = origin === undefined ? undefined : this.byOrigin.get(origin);
    return idleBudgetFor(keepAliveMs ?? ASSUMED_KEEP_ALIVE_MS);
  }
}
