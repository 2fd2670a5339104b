// Every way a FLORA request can go wrong, as typed errors. Each carries a message a user can act on, as a
// translatable Message (`text`) and in English (`message`, for logs and programmatic callers); its
// `remedy`, the one action that fixes it, which the extension offers as the message's button; and
// `retryable`, which tells the client and the poller whether trying again could help.
import { englishText, message, type DisplayText, type Message } from './messages';

export type FloraErrorKind =
  | 'api' // a documented (or other 4xx) error reply
  | 'rateLimited' // 429
  | 'server' // 5xx, or a reply that is not FLORA's (an HTML error page)
  | 'transport' // the request never got a reply
  | 'protocol' // a reply of the wrong shape
  | 'validation' // inputs refused before anything was sent
  | 'configuration' // e.g. a base URL that may not carry the key
  | 'usage' // a command called with an argument it cannot serve, or with nothing to act on
  | 'upload' // a local file that could not be uploaded to the user's storage (nothing was sent to FLORA)
  | 'cancelled';

/**
 * What the user can do about an error: the one button its message offers. `none` when the text says it all
 * (an input to correct, a cancelled prompt); `showLog` when only the details can help.
 */
export type Remedy =
  | { kind: 'setKey' }
  | { kind: 'getCredits' }
  | { kind: 'removeTechnique'; slug: string }
  | { kind: 'openSetting'; setting: string }
  | { kind: 'showLog' }
  /** "FLORA: Configure Upload…": choose the storage, its bucket or its credentials. */
  | { kind: 'configureUpload' }
  | { kind: 'none' };

export const NO_REMEDY: Remedy = { kind: 'none' };
export const SHOW_LOG: Remedy = { kind: 'showLog' };

export abstract class FloraError extends Error {
  abstract readonly kind: FloraErrorKind;
  /** Whether sending the same request again could succeed. */
  abstract readonly retryable: boolean;
  /**
   * The action that fixes it. Each class names its own; code that knows better (the technique catalogue,
   * for a technique the user added that FLORA does not know) replaces it before the error reaches the user.
   */
  remedy: Remedy = SHOW_LOG;
  constructor(
    /** What to tell the user; the extension shows it translated. */
    readonly text: DisplayText,
    options?: { cause?: unknown },
  ) {
    super(englishText(text), options);
  }
}

/** A documented error reply (`{ "error": { "code", "message" } }`) or another 4xx. */
export class FloraApiError extends FloraError {
  readonly kind = 'api';
  readonly retryable = false;
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string | undefined,
    text: Message,
  ) {
    super(text);
    this.name = 'FloraApiError';
    if (this.isAuthError) this.remedy = { kind: 'setKey' };
    else if (code === 'insufficient_credits') this.remedy = { kind: 'getCredits' };
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
    text: Message,
  ) {
    super(text);
    this.name = 'FloraRateLimitError';
  }
}

export class FloraServerError extends FloraError {
  readonly kind = 'server';
  readonly retryable = true;
  constructor(
    readonly status: number,
    text: Message,
    readonly retryAfterMs?: number,
  ) {
    super(text);
    this.name = 'FloraServerError';
  }
}

export type TransportFailure = 'refused' | 'reset' | 'timeout' | 'dns' | 'tls' | 'other';

export class FloraTransportError extends FloraError {
  readonly kind = 'transport';
  readonly retryable = true;
  constructor(
    readonly failure: TransportFailure,
    text: Message,
    options?: { cause?: unknown },
  ) {
    super(text, options);
    this.name = 'FloraTransportError';
  }
}

export class FloraProtocolError extends FloraError {
  readonly kind = 'protocol';
  // A wrong shape can be a passing fault (a proxy's page, a half-deployed server), so reading again may help.
  readonly retryable = true;
  constructor(
    /** What was wrong, in English, for the log. */
    readonly detail: string,
    text: Message,
  ) {
    super(text);
    this.name = 'FloraProtocolError';
  }
}

export interface InputProblem {
  /** The input's id, or undefined for a problem with the set of inputs as a whole. */
  inputId: string | undefined;
  text: DisplayText;
}

/** Inputs refused before sending. `text` is the first problem only: show every one of `problems`. */
export class FloraInputError extends FloraError {
  readonly kind = 'validation';
  readonly retryable = false;
  constructor(readonly problems: readonly [InputProblem, ...InputProblem[]]) {
    super(problems[0].text);
    // The problems name what to correct; there is nothing else to do.
    this.remedy = NO_REMEDY;
    // Every problem, not only the first: each is a whole sentence, so a list of them reads in any language.
    this.message = problems.map((problem) => englishText(problem.text)).join(' ');
    this.name = 'FloraInputError';
  }
}

export class FloraConfigurationError extends FloraError {
  readonly kind = 'configuration';
  readonly retryable = false;
  constructor(text: Message) {
    super(text);
    this.name = 'FloraConfigurationError';
    this.remedy = { kind: 'openSetting', setting: 'flora.baseUrl' };
  }
}

/**
 * A command called in a way it cannot serve: an automation request of the wrong shape, a run or output that
 * is not in the history, no editor to insert into. The text says what to do instead.
 */
export class FloraUsageError extends FloraError {
  readonly kind = 'usage';
  readonly retryable = false;
  constructor(text: DisplayText) {
    super(text);
    this.name = 'FloraUsageError';
    this.remedy = NO_REMEDY;
  }
}

export class FloraCancelledError extends FloraError {
  readonly kind = 'cancelled';
  readonly retryable = false;
  constructor(text: Message = message('cancelled')) {
    super(text);
    this.name = 'FloraCancelledError';
    this.remedy = NO_REMEDY;
  }
}

export type DownloadRefusal = 'url' | 'redirect' | 'address' | 'status' | 'tooLarge' | 'folder' | 'name';

/**
 * A download the extension refused (or could not finish) for a reason the user can act on; never retried.
 * Here rather than in download.ts so that the dispatcher and the command guard can name it without loading
 * the download code.
 */
export class DownloadRefusedError extends FloraError {
  readonly kind = 'validation';
  readonly retryable = false;
  constructor(
    readonly reason: DownloadRefusal,
    text: Message,
    /** The HTTP status, for a refusal by status: 404 and 410 say the output is gone for good. */
    readonly status?: number,
  ) {
    super(text);
    this.name = 'DownloadRefusedError';
    // A folder outside the workspace is fixed in the settings; any other refusal is explained in the log.
    if (reason === 'folder') this.remedy = { kind: 'openSetting', setting: 'flora.outputFolder' };
  }
}

/** Why a local file could not be uploaded (core/upload). */
export type UploadFailure =
  | 'noTarget' // no storage configured
  | 'notFound' // the file named does not exist
  | 'credentials' // none found, or the storage rejected them
  | 'expiredCredentials'
  | 'accessDenied'
  | 'noSuchBucket'
  | 'wrongRegion' // the bucket is in another region, and following it did not help
  | 'unsupportedType' // the file's contents are not a type the input takes
  | 'tooLarge'
  | 'unreadable' // not a regular file, not readable, or changed while it was read
  | 'network' // no reply, or the storage kept failing (5xx), after the retries
  | 'refused'; // any other refusal by the storage

export interface UploadErrorDetails {
  /** What to tell the user; when absent, the reason's own sentence, built from the facts below. */
  text?: Message;
  /** The files concerned, as the user named them. */
  files?: readonly string[];
  /** Where they were going, as a person reads it (s3://bucket/prefix/). */
  target?: string;
  /** The region the bucket named (wrongRegion), so the setting can be corrected. */
  region?: string;
  /** The AWS profile the credentials came from, when one was named. */
  profile?: string;
  cause?: unknown;
}

const CONFIGURE_UPLOAD_FAILURES: ReadonlySet<UploadFailure> = new Set(['noTarget', 'credentials', 'noSuchBucket', 'accessDenied']);

/** A local file that was not uploaded; nothing was sent to FLORA, so nothing was spent. */
export class UploadError extends FloraError {
  readonly kind = 'upload';
  readonly retryable: boolean;
  readonly files: readonly string[];
  readonly target: string | undefined;
  readonly region: string | undefined;
  readonly profile: string | undefined;
  constructor(
    readonly reason: UploadFailure,
    details: UploadErrorDetails = {},
  ) {
    super(details.text ?? defaultUploadText(reason, details), { cause: details.cause });
    this.name = 'UploadError';
    this.retryable = reason === 'network';
    this.files = details.files ?? [];
    this.target = details.target;
    this.region = details.region;
    this.profile = details.profile;
    if (CONFIGURE_UPLOAD_FAILURES.has(reason)) this.remedy = { kind: 'configureUpload' };
    // With a profile the text names the command that signs in again (aws sso login); without one, the
    // expired keys are the ones the user stored, replaced where they were set.
    else if (reason === 'expiredCredentials') this.remedy = details.profile ? NO_REMEDY : { kind: 'configureUpload' };
    else if (reason === 'wrongRegion') this.remedy = { kind: 'openSetting', setting: 'flora.upload.s3.region' };
    else if (reason === 'notFound' || reason === 'unsupportedType' || reason === 'tooLarge' || reason === 'unreadable')
      this.remedy = NO_REMEDY;
  }
}

/** The sentence for a reason the caller gave no text for (the services' own checks: no target, no file, no key). */
function defaultUploadText(reason: UploadFailure, details: UploadErrorDetails): Message {
  const target = details.target ?? '';
  switch (reason) {
    case 'noTarget':
      return message('uploadNoTarget');
    case 'notFound':
      return message('uploadFileMissing', details.files?.[0] ?? '');
    case 'credentials':
      return details.profile
        ? message('uploadCredentialsMissingProfile', target, details.profile)
        : message('uploadCredentialsMissing', target);
    case 'expiredCredentials':
      return details.profile
        ? message('uploadCredentialsExpiredProfile', target, details.profile)
        : message('uploadCredentialsExpired', target);
    default:
      return message('uploadFailed', target);
  }
}

/** An error's own message, or the thrown value as text (anything can be thrown). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How long the server asked us to wait before trying again (Retry-After on a 429 or 5xx), if it said. */
export function retryAfterOf(error: FloraError): number | undefined {
  return error instanceof FloraRateLimitError || error instanceof FloraServerError ? error.retryAfterMs : undefined;
}

export function isAuthError(error: unknown): boolean {
  return error instanceof FloraApiError && error.isAuthError;
}

/** What to tell the user about an error reply, naming its subject (a technique or a run) where it helps. */
export function messageForApiError(status: number, code: string, serverMessage: string | undefined, subject: Subject): Message {
  const base = baseMessageForApiError(status, code, subject);
  return serverMessage ? message('apiWithServerMessage', base, serverMessage) : base;
}

/** What a request was about, so a message can name it. */
export type Subject = { kind: 'technique'; slug: string } | { kind: 'run'; runId: string };

function baseMessageForApiError(status: number, code: string, subject: Subject): Message {
  switch (code) {
    case 'unauthorized':
      return message('apiUnauthorized');
    case 'invalid_api_key':
      return message('apiInvalidKey');
    case 'invalid_json':
      return message('apiInvalidJson');
    case 'input_validation_error':
      return message('apiInputValidation');
    case 'not_found':
      return subject.kind === 'technique' ? message('apiTechniqueNotFound', subject.slug) : message('apiRunNotFound', subject.runId);
    case 'insufficient_credits':
      return message('apiInsufficientCredits');
    default:
      return message('apiOther', status, code);
  }
}
