// The sentences core code hands to users (errors, input problems), kept as an id with arguments rather
// than finished English, so the extension can translate them with vscode.l10n while core stays free of
// vscode. Each template is also its own translation key, as vscode.l10n.t expects, and `npm run l10n`
// writes all of them into media/l10n/bundle.l10n.json for translators. Logs, scripts and tests read the English.
//
// A template is one whole sentence (or a few), never a fragment: a translator must be able to reorder
// everything in it. A placeholder holds a value (a URL, a slug, a number) or another whole message.

export const MESSAGE_TEMPLATES = {
  // Documented error replies (flora-api.md, "Error codes").
  apiUnauthorized: 'FLORA received no API key. Set one with "FLORA: Set API Key".',
  apiInvalidKey:
    'FLORA rejected the API key: it is wrong or has been revoked. Create a key in FLORA (Settings › API Keys) and set it with "FLORA: Set API Key".',
  apiInvalidJson: 'FLORA could not read the request as JSON. This is a bug in the extension; please report it with the FLORA log.',
  apiInputValidation: "FLORA rejected the inputs. Check each input against the technique's details and run again.",
  apiTechniqueNotFound:
    'FLORA does not know the technique "{0}". Check the slug in the technique\'s URL in FLORA (app.flora.ai/techniques/<slug>).',
  apiRunNotFound: 'FLORA does not know the run {0}.',
  apiInsufficientCredits: 'You are out of FLORA credits for this run. Ask FLORA for more credits, then run it again.',
  apiOther: 'FLORA refused the request with HTTP {0} {1}.',
  /** {0}: one of the messages above; {1}: the message FLORA's reply carried, verbatim. */
  apiWithServerMessage: '{0} FLORA said: "{1}"',
  invalidSlug:
    '"{0}" is not a technique slug: slugs are short URL-safe identifiers such as "studio-shot", found at the end of a technique\'s URL in FLORA.',

  // Replies that are not FLORA's documented ones.
  rateLimited: 'FLORA is rate limiting requests (HTTP 429).',
  rateLimitedRetrying: 'FLORA is rate limiting requests (HTTP 429). Retrying in {0} s.',
  serverErrorPage:
    "FLORA's server replied with an error page (HTTP {0}). The extension retries on its own; if it persists, try again later.",
  serverError: "FLORA's server replied with an error (HTTP {0}). The extension retries on its own; if it persists, try again later.",
  serverUnexpected: 'Asking FLORA about the run failed unexpectedly: {0}. The extension keeps trying.',
  replyNotJson: 'FLORA sent a reply that is not JSON (HTTP {0}). If this persists, check flora.baseUrl and your proxy.',
  /** {1}: a technical description of what was wrong in the reply, in English. */
  replyShapeTechnique: 'FLORA sent a reply of an unexpected shape about the technique "{0}": {1}.',
  replyShapeRun: 'FLORA sent a reply of an unexpected shape about the run {0}: {1}.',
  replyWrongRun: 'FLORA answered a poll of run {0} with run {1}.',
  replyTooLarge: 'FLORA sent a reply far larger than expected; it was not read.',
  replyRedirect:
    'FLORA redirected the request (HTTP {0}); redirects are not followed so your API key is not sent elsewhere. Check flora.baseUrl.',
  keyKeptOnOrigin: 'The extension refused to send your API key outside {0}.',
  runGone:
    'FLORA no longer knows run {0} (HTTP 404 on {1} polls in a row). It may have expired or been removed; run the technique again if you still need its result.',
  // Following a run stops after a bounded time; the run keeps everything known. {0}: the runId; {1}: minutes.
  stoppedUnreadable:
    'Stopped following run {0} — FLORA\'s replies could not be read for {1} min. Nothing known about it is lost: choose "Resume Following" to try again.',
  stoppedFailing:
    'Stopped following run {0} — asking FLORA about it kept failing for {1} min. Nothing known about it is lost: choose "Resume Following" to try again.',
  /** {1}: the status FLORA sent, quoted and shortened. */
  stoppedUnknownStatus:
    'Stopped following run {0} — FLORA reported the status {1}, which the extension does not know, for {2} min. Nothing known about it is lost: choose "Resume Following" to try again.',
  /** {1}: whole hours. */
  stoppedTooLong:
    'Stopped following run {0} — it had still not finished {1} h after it began. Nothing known about it is lost: choose "Resume Following" to follow it again.',
  stoppedByUser:
    'You stopped following run {0}. Nothing known about it is lost: choose "Resume Following" to follow it again. FLORA\'s API has no cancel: FLORA may still finish the run and charge its credits.',
  /** {0}: the technique slug. */
  stoppedCreateByUser:
    'You stopped the start of the {0} run. If FLORA did create it, "Resume Following" finds the same run (same idempotency key).',
  /** {0}: the technique slug. */
  stoppedCreate:
    'Stopped trying to start the {0} run — FLORA did not confirm it for {1} min. If FLORA did create it, trying again finds the same run (same idempotency key): choose "Resume Following".',

  // Requests that never got a reply. {0}: the origin.
  transportRefused:
    'Could not reach FLORA at {0}: the connection was refused (is the server running?). Check your network or proxy settings (HTTPS_PROXY); the extension retries on its own.',
  transportReset:
    'Could not reach FLORA at {0}: the connection was closed before the reply arrived. Check your network or proxy settings (HTTPS_PROXY); the extension retries on its own.',
  transportTimeout:
    'Could not reach FLORA at {0}: the request timed out. Check your network or proxy settings (HTTPS_PROXY); the extension retries on its own.',
  transportDns:
    'Could not reach FLORA at {0}: the host name could not be resolved (are you offline?). Check your network or proxy settings (HTTPS_PROXY); the extension retries on its own.',
  transportTls:
    'Could not reach FLORA at {0}: the secure connection failed (check the certificate or your proxy). Check your network or proxy settings (HTTPS_PROXY); the extension retries on its own.',
  /** {1}: the system's own description of the failure, in English. */
  transportOther:
    'Could not reach FLORA at {0}: {1}. Check your network or proxy settings (HTTPS_PROXY); the extension retries on its own.',

  // The flora.baseUrl setting.
  baseUrlNotUrl: 'The FLORA base URL "{0}" is not a URL. Set "flora.baseUrl" to {1}.',
  baseUrlNotHttps:
    'The FLORA base URL must use https:// (plain http:// is allowed only for a local sandbox on 127.0.0.1 or localhost), because your API key is sent there. Got "{0}".',
  baseUrlCredentials: 'The FLORA base URL must not contain a user name or password.',

  cancelled: 'Cancelled.',
  pollerStopped: 'The poller has stopped.',
  runNotConfirmed: 'The run was not confirmed.',
  costChanged: 'Not sent: {0} now costs {1} credits, more than the {2} confirmed. Confirm the run again with its new cost.',
  budgetDeclined:
    "Not sent: {0} credits more would take today's FLORA spending to {1} credits, past the daily budget of {2} (flora.budget.creditsPerDay), and a person did not confirm it.",

  // Downloading an output (core/download.ts). {0} in the URL messages: an origin, never a whole URL.
  downloadNotLoadable: 'Only https:// outputs without a user name or password can be downloaded; this one is on {0}.',
  downloadRedirectNotLoadable:
    "FLORA's output URL redirected to {0}, which is not an https:// address (or carries a user name or password); it was not downloaded.",
  downloadTooManyRedirects: "FLORA's output URL redirected more than {0} times; it was not downloaded.",
  /** {0}: an IP address or a host name such as localhost. */
  downloadAddressRefused: "FLORA's output URL points at a private or local address ({0}); it was not downloaded.",
  downloadHttpStatus:
    'The output could not be downloaded (HTTP {0}). Output URLs expire after a while; run the technique again if it is gone.',
  /** {0}: a size such as "1024 MiB". */
  downloadTooLarge: 'The output is larger than {0}; it was not downloaded. Open it in the browser instead.',
  downloadNoFreeName: 'Could not find a free file name for {0} in {1}; nothing was overwritten. Remove some old downloads.',
  /** {0}: the setting's value as the workspace wrote it. */
  outputFolderWorkspaceAbsolute:
    'This workspace sets flora.outputFolder to the absolute path "{0}", but a workspace may only name a folder inside itself; nothing was downloaded. Set flora.outputFolder in your User settings to save outside the workspace.',
  outputFolderOutsideWorkspace:
    'flora.outputFolder "{0}" leads outside the workspace folder (through ".." or a symbolic link); nothing was downloaded. Set flora.outputFolder to an absolute path in your User settings to save outside the workspace.',

  // Input media URLs (flora-api.md, "Input media URL restrictions").
  urlEmpty: 'Enter a URL.',
  urlBackslash: '"{0}" contains a backslash (\\), which FLORA does not accept in links. Use "/".',
  urlInvalid: '"{0}" is not a URL. Enter a full https:// link to the file.',
  urlHttp: 'FLORA only accepts https:// links, not http://. Use the https:// form of the link.',
  urlScheme: 'FLORA only accepts https:// links, not {0}. Upload the file to a supported host and paste its https:// link.',
  urlCredentials: 'The link carries a user name or password, which FLORA does not accept. Remove the "user@" part.',
  urlPort: 'FLORA does not accept links with a port (:{0}). Remove it.',
  urlHost:
    'FLORA does not accept files from {0}. Host the file on media.flora.ai, storage.googleapis.com (or <bucket>.storage.googleapis.com), Amazon S3 object URLs, or ik.imagekit.io.',

  // Output URLs written into a document or the clipboard (Insert Output URL, Copy Output URL).
  outputUrlInvalid: "The output's link is not a valid URL, so it was not inserted or copied.",
  outputUrlScheme: "The output's link uses {0} rather than https://, so it was not inserted or copied.",
  outputUrlCredentials: "The output's link carries a user name or password, so it was not inserted or copied.",
  outputUrlHost: "The output's link names a host with characters no host name has, so it was not inserted or copied.",

  // A run's inputs. {0} in the input sentences: an inputLabel message.
  inputUnsupportedType: 'This technique asks for a "{0}" input, which the extension cannot send yet.',
  inputTextEmpty: 'Enter some text; it must not be empty.',
  inputUnknown: '"{0}" is not an input of {1}; its inputs are: {2}.',
  inputUnknownNoInputs: '"{0}" is not an input of {1}, which takes no inputs.',
  /** {1}: an input type's description (typeImageUrl, typeVideoUrl, typeText, or a raw type name). */
  inputMissing: 'Input {0} is missing. Expected: {1}.',
  inputNotString: 'Input {0} must be a string. Expected: {1}.',
  /** {1}: one of the URL or text problems above. */
  inputProblem: 'Input {0}: {1}',
  inputLabelNamed: '"{0}" ({1})',
  inputLabel: '"{0}"',
  typeImageUrl: 'https:// image link',
  typeVideoUrl: 'https:// video link',
  typeText: 'text',
  automationRequest: 'flora.runTechnique takes { slug: string, inputs: { [inputId]: string }, confirm?: boolean }.',

  // A technique reference: a slug or a technique's URL (flora-api.md, step 2).
  referenceEmpty: 'Enter a technique slug or paste its URL from FLORA.',
  referenceInvalidUrl: 'That is not a valid URL.',
  referenceNotTechniqueUrl: 'A technique URL looks like https://app.flora.ai/techniques/<slug>.',
  referenceInvalidSlug: '"{0}" is not a valid technique slug.',
  referenceSlugRules: 'A slug uses only letters, digits, "-" and "_" (for example "studio-shot"), or paste the technique URL.',

  // Uploading a local file to the user's storage (core/upload). {0} in the target messages: where it goes,
  // such as s3://my-bucket/flora/; "{0}" in the file messages: a file name.
  uploadNoTarget:
    'No storage for uploads is configured, so a local file cannot be sent to FLORA. Choose Amazon S3, Google Cloud Storage or ImageKit with "FLORA: Configure Upload…", then run again.',
  uploadCredentialsMissing:
    'No credentials for uploading to {0} were found. Set them with "FLORA: Configure Upload…" (or in your AWS configuration), then run again.',
  /** {1}: an AWS profile name. */
  uploadCredentialsMissingProfile:
    'No credentials for uploading to {0} were found in the AWS profile "{1}". Check that profile in ~/.aws/config, or store an access key with "FLORA: Configure Upload…".',
  uploadCredentialsRejected:
    'The storage rejected the credentials for {0}: the access key is unknown or its secret is wrong. Set the right ones with "FLORA: Configure Upload…", then run again.',
  uploadImageKitKeyRejected:
    'ImageKit rejected the private key. Copy it from the ImageKit dashboard (Developer options) and set it with "FLORA: Configure Upload…", then run again.',
  uploadCredentialsExpired:
    'The credentials for uploading to {0} have expired. Set new ones with "FLORA: Configure Upload…", then run again.',
  /** {1}: an AWS profile name; the command is the AWS CLI's. */
  uploadCredentialsExpiredProfile:
    'The credentials of the AWS profile "{1}" have expired, so nothing was uploaded to {0}. Sign in again with `aws sso login --profile {1}` in a terminal (or refresh that profile\'s keys), then run again.',
  /** {0}: a bucket name; {1}: the permission, such as s3:PutObject. */
  uploadAccessDenied:
    'Access to the bucket "{0}" was denied for {1}. Give these credentials s3:GetObject and s3:PutObject on that bucket, or choose another bucket with "FLORA: Configure Upload…".',
  /** {1}: the permission, such as storage.objects.create. */
  uploadAccessDeniedGcs:
    'Access to the bucket "{0}" was denied for {1}. Give the HMAC key\'s service account storage.objects.create and storage.objects.get on that bucket, or choose another bucket with "FLORA: Configure Upload…".',
  uploadNoSuchBucket:
    'The bucket "{0}" does not exist, or these credentials cannot see it. Check its name with "FLORA: Configure Upload…", then run again.',
  /** {1}: the region the bucket is in; {2}: the region that was configured. */
  uploadWrongRegion:
    'The bucket "{0}" is in the region {1}, not {2}, and the upload could not follow it there. Set flora.upload.s3.region to {1}, then run again.',
  /** The fallback when no more precise sentence applies. */
  uploadFailed: 'The file could not be uploaded to {0}. The FLORA log has the details.',
  uploadClockSkew:
    "The storage refused the upload because this computer's clock is more than 15 minutes off. Correct the clock, then run again.",
  uploadFileChanged: '"{0}" changed while it was being uploaded. Run again once the file is saved.',
  /** {1}: an S3 error code; {2}: the HTTP status. */
  uploadRefused: 'The storage refused the upload of "{0}" ({1}, HTTP {2}). The FLORA log has the details.',
  /** {1}: the HTTP status. */
  uploadImageKitRefused: 'ImageKit refused the upload of "{0}" (HTTP {1}). The FLORA log has the details.',
  /** {0}: one of the url… messages above, saying why FLORA would refuse the link. */
  uploadLinkRefused: 'The file was stored, but FLORA would not accept the link it is read from. {0}',
  uploadRegionInvalid: '"{0}" is not an AWS region name (such as us-east-1 or eu-west-1). Correct flora.upload.s3.region, then run again.',
  uploadReplyUnreadable: 'The storage at {0} sent a reply the extension could not read, so the upload was not finished. Run again.',
  /** {0}: an origin; {1}: one of the uploadNetwork… sentences below; {2}: how many times it was tried. */
  uploadNetwork:
    'Could not upload to {0}. {1} It was tried {2} times. Check your network or proxy settings (HTTPS_PROXY), then run again; nothing was sent to FLORA.',
  uploadNetworkRefused: 'The connection was refused.',
  uploadNetworkReset: 'The connection was closed before the reply arrived.',
  uploadNetworkTimeout: 'The request timed out.',
  uploadNetworkDns: 'The host name could not be resolved (are you offline?).',
  uploadNetworkTls: 'The secure connection failed (check the certificate or your proxy).',
  /** {0}: the system's own description of the failure, in English. */
  uploadNetworkOther: 'The request failed ({0}).',
  /** {0}: the HTTP status (5xx or 429). */
  uploadNetworkStatus: 'The storage kept answering with HTTP {0}.',
  uploadEndpointInvalid:
    'The upload endpoint "{0}" is not an https:// URL (plain http:// is allowed only on 127.0.0.1 or localhost). Correct flora.upload.endpoint.',
  // The local file itself (core/upload/files.ts).
  uploadFileMissing: 'The file "{0}" does not exist; it may have been moved or deleted.',
  uploadFileNotRegular:
    '"{0}" is not a regular file (it is a folder, a symbolic link or a device), so it is not uploaded. Choose the file itself.',
  uploadFileUnreadable: 'The file "{0}" could not be read. Check that it exists and that you may read it.',
  uploadFileLeftWorkspace:
    'The file "{0}" changed while it was read, or a link on its path leads out of the workspace, so it is not uploaded and nothing was sent to FLORA. Give the tool its path inside the workspace and call it again.',
  /** {1}: the file's size in MiB; {2}: the cap in GiB. */
  uploadFileTooLarge: '"{0}" is {1} MiB, more than the {2} GiB a file can have to be uploaded. Choose a smaller file.',
  /** {1}: the video's format, such as MP4. */
  uploadTypeVideoNotImage: '"{0}" is a video ({1}), but this input takes an image. Choose a PNG, JPEG, GIF or WebP file.',
  /** {1}: the image's format, such as PNG. */
  uploadTypeImageNotVideo: '"{0}" is an image ({1}), but this input takes a video. Choose an MP4, MOV or WebM file.',
  /** {1}: the image's format, such as HEIC. */
  uploadTypeImageFormat: '"{0}" is an image in the {1} format, which FLORA does not take. Convert it to PNG, JPEG, GIF or WebP first.',
  /** {1}: the video's format, such as Matroska. */
  uploadTypeVideoFormat: '"{0}" is a video in the {1} format, which FLORA does not take. Convert it to MP4, MOV or WebM first.',
  uploadTypeUnknownImage:
    '"{0}" is not a PNG, JPEG, GIF or WebP image (its contents match none of them), and this input takes an image. Choose a file of one of those types.',
  uploadTypeUnknownVideo:
    '"{0}" is not an MP4, MOV or WebM video (its contents match none of them), and this input takes a video. Choose a file of one of those types.',
} as const;

export type MessageId = keyof typeof MESSAGE_TEMPLATES;
export type MessageArgument = string | number | Message;

export interface Message {
  readonly id: MessageId;
  readonly args: readonly MessageArgument[];
}

/** The argument tuple a template needs: one element per placeholder {0}, {1}, … (checked by the compiler). */
type ArgumentsOf<
  Template extends string,
  Collected extends MessageArgument[] = [],
> = Template extends `${string}{${Collected['length']}}${string}` ? ArgumentsOf<Template, [...Collected, MessageArgument]> : Collected;

export function message<Id extends MessageId>(id: Id, ...args: ArgumentsOf<(typeof MESSAGE_TEMPLATES)[Id]>): Message {
  return { id, args };
}

export function isMessage(value: unknown): value is Message {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Message>;
  return typeof candidate.id === 'string' && Object.hasOwn(MESSAGE_TEMPLATES, candidate.id) && Array.isArray(candidate.args);
}

/** Fills a template: the signature of vscode.l10n.t, so the extension passes that and tests pass a stand-in. */
export type Translate = (template: string, ...args: Array<string | number>) => string;

/** Fills {0}, {1}… the way vscode.l10n.t does: a placeholder without an argument stays as written. */
export function fillTemplate(template: string, ...args: Array<string | number>): string {
  if (args.length === 0) return template;
  return template.replace(/\{(\d+)\}/g, (whole, index: string) => {
    const value = args[Number(index)];
    return value === undefined ? whole : String(value);
  });
}

/** The message as text, inner messages first, each through `translate` (English when none is given). */
export function renderMessage(value: Message, translate: Translate = fillTemplate): string {
  const args = value.args.map((argument) => (typeof argument === 'object' ? renderMessage(argument, translate) : argument));
  return translate(MESSAGE_TEMPLATES[value.id], ...args);
}

/**
 * Text the extension translated itself (vscode.l10n.t) for a problem only it can see, such as "Open a file
 * first", with the English kept beside it for logs and scripts. Core never makes one.
 */
export interface TranslatedText {
  readonly english: string;
  readonly translated: string;
}

/** What an error or problem says: a Message from core, or text the extension translated. */
export type DisplayText = Message | TranslatedText;

/** The text in the user's language when given the translator, in English when not. */
export function renderText(text: DisplayText, translate?: Translate): string {
  if ('translated' in text) return translate ? text.translated : text.english;
  return renderMessage(text, translate);
}

export function englishText(value: DisplayText): string {
  return renderText(value);
}
