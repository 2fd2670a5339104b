// Every way a FLORA request can go wrong, as typed errors. Each carries a message a user can act on;
// `retryable` tells the client and the poller whether trying again could help.

/** The error codes flora-api.md documents, with their HTTP statuses. */
export const DOCUMENTED_ERROR_CODES = {
  unauthorized: 401,
  invalid_api_key: 401,
  invalid_json: 400,
  input_validation_error: 400,
  not_found: 404,
  insufficient_credits: 402,
} as const;
export type DocumentedErrorCode = keyof typeof DOCUMENTED_ERROR_CODES;

export function isDocumentedErrorCode(code: string): code is DocumentedErrorCode {
  return Object.prototype.hasOwnProperty.call(DOCUMENTED_ERROR_CODES, code);
}

export type FloraErrorKind =
  | 'api' // a documented (or other 4xx) error reply
  | 'rateLimited' // 429
  | 'server' // 5xx, or a reply that is not FLORA's (an HTML error page)
  | 'transport' // the request never got a reply
  | 'protocol' // a reply of the wrong shape
  | 'validation' // inputs refused before anything was sent
  | 'configuration' // e.g. a base URL that may not carry the key
  | 'cancelled';

export abstract class FloraError extends Error {
  abstract readonly kind: FloraErrorKind;
  /** Whether sending the same request again could succeed. */
  abstract readonly retryable: boolean;
}

/** A documented error reply (`{ "error": { "code", "message" } }`) or another 4xx. */
export class FloraApiError extends FloraError {
  readonly kind = 'api';
  readonly retryable = false;
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'FloraApiError';
  }
  get isAuthError(): boolean {
    return this.code === 'unauthorized' || this.code === 'invalid_api_key' || this.status === 401;
  }
}

export class FloraRateLimitError extends FloraError {
  readonly kind = 'rateLimited';
  readonly retryable = true;
  constructor(
    /** From Retry-After, when the server sent one. */
    readonly retryAfterMs: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'FloraRateLimitError';
  }
}

export class FloraServerError extends FloraError {
  readonly kind = 'server';
  readonly retryable = true;
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'FloraServerError';
  }
}

export type TransportFailure = 'refused' | 'reset' | 'timeout' | 'dns' | 'tls' | 'other';

export class FloraTransportError extends FloraError {
  readonly kind = 'transport';
  readonly retryable = true;
  constructor(
    readonly failure: TransportFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FloraTransportError';
  }
}

export class FloraProtocolError extends FloraError {
  readonly kind = 'protocol';
  // A wrong shape can be a passing fault (a proxy's page, a half-deployed server), so reading again may help.
  readonly retryable = true;
  constructor(
    readonly detail: string,
    message: string,
  ) {
    super(message);
    this.name = 'FloraProtocolError';
  }
}

export interface InputProblem {
  /** The input's id, or undefined for a problem with the set of inputs as a whole. */
  inputId: string | undefined;
  message: string;
}

export class FloraInputError extends FloraError {
  readonly kind = 'validation';
  readonly retryable = false;
  constructor(readonly problems: readonly InputProblem[]) {
    super(problems.map((problem) => problem.message).join(' '));
    this.name = 'FloraInputError';
  }
}

export class FloraConfigurationError extends FloraError {
  readonly kind = 'configuration';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'FloraConfigurationError';
  }
}

export class FloraCancelledError extends FloraError {
  readonly kind = 'cancelled';
  readonly retryable = false;
  constructor(message = 'Cancelled.') {
    super(message);
    this.name = 'FloraCancelledError';
  }
}

export function isFloraError(error: unknown): error is FloraError {
  return error instanceof FloraError;
}

export function isAuthError(error: unknown): boolean {
  return error instanceof FloraApiError && error.isAuthError;
}

/** The message for a documented code, naming the subject (a technique slug or a run) where it helps. */
export function messageForApiError(status: number, code: string, serverMessage: string | undefined, subject: string): string {
  const detail = serverMessage ? ` (${serverMessage})` : '';
  switch (code) {
    case 'unauthorized':
      return 'FLORA received no API key. Set one with "FLORA: Set API Key".';
    case 'invalid_api_key':
      return 'FLORA rejected the API key: it is wrong or has been revoked. Create a key in FLORA (Settings › API Keys) and set it with "FLORA: Set API Key".';
    case 'invalid_json':
      return `FLORA could not read the request as JSON${detail}. This is a bug in the extension; please report it with the FLORA log.`;
    case 'input_validation_error':
      return `FLORA rejected the inputs${serverMessage ? `: ${serverMessage}` : '.'} Check each input against the technique's details and run again.`;
    case 'not_found':
      return `FLORA does not know ${subject}${detail}. Check the slug in the technique's URL in FLORA (app.flora.ai/techniques/<slug>).`;
    case 'insufficient_credits':
      return `You are out of FLORA credits for this run${detail}. Ask FLORA for more credits, then run it again.`;
    default:
      return `FLORA refused the request with HTTP ${status} ${code}${detail}.`;
  }
}
