// The plain values and helpers of FLORA's data model, free of zod and undici so that the code that runs at
// activation (views, stores, commands) can use them without loading the HTTP client or the schemas.
import { randomUUID } from 'node:crypto';

/** The input types the document lists for `inputs[].type`. */
export const INPUT_TYPES = ['imageUrl', 'videoUrl', 'text'] as const;
export type InputType = (typeof INPUT_TYPES)[number];
export function isInputType(value: string): value is InputType {
  return (INPUT_TYPES as readonly string[]).includes(value);
}

export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export function isFinalStatus(status: RunStatus): boolean {
  return status === 'completed' || status === 'failed';
}

/** Clamps a server's progress into 0–100 so views never show 140 % or NaN. */
export function clampProgress(progress: number | undefined): number {
  if (progress === undefined || !Number.isFinite(progress)) return 0;
  return Math.min(100, Math.max(0, Math.round(progress)));
}

/** One entry of the create-run request's `inputs` array. */
export interface RunInput {
  id: string;
  type: InputType;
  /** What FLORA was sent: text, or a URL (for a local file, the URL it was uploaded to). */
  value: string;
  /** The local file the value was uploaded from, workspace-relative when inside a folder. */
  localPath?: string;
}

/** Slugs are short URL-safe identifiers (flora-api.md, step 2). */
const SLUG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isValidSlug(slug: string): boolean {
  return SLUG_PATTERN.test(slug);
}

/** Made once per logical run and sent on every retry of its create request. */
export function newIdempotencyKey(): string {
  return `flora-vscode-${randomUUID()}`;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string) => void;

export const DEFAULT_BASE_URL = 'https://app.flora.ai';

/**
 * Whether a base URL's host is the local machine, where plain http may carry the key (the sandbox). Not
 * defined through core/addresses.ts (isLocalhostName, refusedAddressKind === 'loopback') on purpose: this
 * module is loaded at activation and addresses.ts is not, and this rule is narrower by design: it trusts
 * only the plain forms the sandbox uses (`localhost`, `::1`, `127.x.y.z`), since each form added is one more
 * way the key travels unencrypted, while the download policy must refuse every loopback form, `*.localhost`
 * and `::ffff:127.0.0.1` included.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}
