// Local files as inputs: where they are uploaded (the storage the user configured), with which secrets
// (SecretStorage, or the AWS credential chain), after the user agreed once per target, and the URL FLORA
// reads them from. An image input whose value names a workspace file is uploaded here before the run is
// recorded, so a failed upload sends nothing to FLORA and costs nothing. The upload code and its AWS
// libraries are loaded at the first upload, never at activation. One piece although over 300 lines: the
// target, its secrets, the consent and the cache of uploaded URLs all key on the same label of a target,
// and must agree on it.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import { confirmModal } from '../common/notify';
import { isWorkspaceFileRead } from '../common/workspacePaths';
import { FloraCancelledError, UploadError } from '../core/errors';
import { message } from '../core/messages';
import type { InputType } from '../core/model';
import type { TechniqueDetails } from '../core/schemas';
import type { StorageCredentials, UploadContext, UploadFile, UploadTarget, Uploaded } from '../core/upload/types';
import type { FloraConnection } from './floraConnection';
import type { Log } from './log';
import type { Settings, UploadSettings } from './settings';

/** SecretStorage keys of the upload secrets; never in settings, logs or the journal. */
export const UPLOAD_SECRET = {
  s3AccessKeyId: 'flora.upload.s3.accessKeyId',
  s3SecretAccessKey: 'flora.upload.s3.secretAccessKey',
  gcsAccessKeyId: 'flora.upload.gcs.accessKeyId',
  gcsSecret: 'flora.upload.gcs.secret',
  imagekitPrivateKey: 'flora.upload.imagekit.privateKey',
} as const;
export type UploadSecretKey = (typeof UPLOAD_SECRET)[keyof typeof UPLOAD_SECRET];

/** The extensions of the files an image or video input can take (their bytes are checked at upload). */
export const LOCAL_MEDIA_EXTENSION = /\.(png|jpe?g|gif|webp|mp4|m4v|mov|webm)$/i;
const CONSENT_KEY = 'flora.upload.consented';
const CACHE_KEY = 'flora.upload.cache';
const RECENT_KEY = 'flora.upload.recent';
const RECENT_LIMIT = 20;
const CACHE_LIMIT = 500;
/** A cached upload URL is reused only while it stays valid this long: it must outlive the run. */
const CACHE_MARGIN_MS = 2 * 60 * 60_000;

/** A media input's value that names a local file, and what the run records about it. */
export interface LocalInput {
  inputId: string;
  uri: vscode.Uri;
  /** Workspace-relative when the file is inside a workspace folder, else the absolute path. */
  displayPath: string;
}

/** The inputs of a run with every local file replaced by the URL it was uploaded to. */
export interface ResolvedInputs {
  values: Record<string, unknown>;
  /** Input id → the local file it came from (for the Runs view and the preview). */
  localPaths: Record<string, string>;
}

/** Asks the person; replaced in tests. Resolves true when they agreed to upload to the target. */
export type ConsentPrompt = (files: readonly string[], targetLabel: string) => Promise<boolean>;

export interface UploadsOptions {
  settings: Settings;
  secrets: vscode.SecretStorage;
  memento: vscode.Memento;
  connection: Pick<FloraConnection, 'uploadDispatcher'>;
  log: Log;
  consent?: ConsentPrompt;
  now?: () => number;
}

interface CachedUpload {
  url: string;
  expiresAt: number | undefined;
}

export class Uploads extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  /** The target or one of its secrets changed. */
  readonly onDidChange = this.changed.event;
  private readonly now: () => number;

  constructor(private readonly options: UploadsOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.register(options.settings.onDidChange(() => this.changed.fire()));
    this.register(
      options.secrets.onDidChange((event) => {
        if (!Object.values(UPLOAD_SECRET).includes(event.key as UploadSecretKey)) return;
        // Links signed with keys that were replaced may no longer work: upload again rather than trust them.
        void options.memento.update(CACHE_KEY, {});
        this.changed.fire();
      }),
    );
  }

  private get upload(): UploadSettings {
    return this.options.settings.current.upload;
  }

  /** Whether a target is chosen and named (secrets are checked at the first upload, with a remedy). */
  isConfigured(): boolean {
    return this.target() !== undefined;
  }

  /** Where files go, as a person reads it: `s3://bucket/prefix`, `gs://bucket/prefix`, `ImageKit /folder`. */
  targetLabel(): string | undefined {
    const target = this.target();
    if (!target) return undefined;
    switch (target.kind) {
      case 's3':
        return `s3://${target.bucket}/${target.prefix}`;
      case 'gcs':
        return `gs://${target.bucket}/${target.prefix}`;
      case 'imagekit':
        return `ImageKit /${target.folder}`;
    }
  }

  /** The configured target, or undefined when none is (or it lacks its bucket). */
  target(): UploadTarget | undefined {
    const upload = this.upload;
    const endpoint = upload.endpoint;
    switch (upload.target) {
      case 's3':
        return upload.s3.bucket
          ? { kind: 's3', bucket: upload.s3.bucket, region: upload.s3.region, prefix: upload.s3.prefix, endpoint }
          : undefined;
      case 'gcs':
        return upload.gcs.bucket ? { kind: 'gcs', bucket: upload.gcs.bucket, prefix: upload.gcs.prefix, endpoint } : undefined;
      case 'imagekit':
        return { kind: 'imagekit', folder: upload.imagekit.folder, endpoint };
      case 'none':
        return undefined;
    }
  }

  async setSecret(key: UploadSecretKey, value: string | undefined): Promise<void> {
    if (value === undefined || value.length === 0) await this.options.secrets.delete(key);
    else await this.options.secrets.store(key, value);
  }

  async hasSecret(key: UploadSecretKey): Promise<boolean> {
    return (await this.options.secrets.get(key)) !== undefined;
  }

  /**
   * Whether a value names a local file: a `file:` URI, or a path (absolute, or relative to the workspace)
   * ending in an image or video extension. Anything else is read as a URL, as before (so a typo in a link
   * still gets the link's message, not "file not found").
   */
  static isLocalValue(value: string): boolean {
    const trimmed = value.trim();
    if (/^file:/i.test(trimmed)) return true;
    // A scheme other than file: makes it a URL (https:, data:, javascript: …); a drive letter does not.
    if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) && !/^[a-z]:[\\/]/i.test(trimmed)) return false;
    return LOCAL_MEDIA_EXTENSION.test(trimmed);
  }

  /** The file a local value names, or undefined when it names none. Relative paths resolve from `base`, then the workspace. */
  static toUri(value: string, base?: vscode.Uri): vscode.Uri | undefined {
    const trimmed = value.trim();
    if (/^file:/i.test(trimmed)) {
      try {
        return vscode.Uri.parse(trimmed, true);
      } catch {
        return undefined;
      }
    }
    if (path.isAbsolute(trimmed)) return vscode.Uri.file(trimmed);
    const folder = base ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    return folder ? vscode.Uri.joinPath(folder, trimmed) : undefined;
  }

  /** How a run shows a local file: workspace-relative inside a folder, else its absolute path. */
  static displayPath(uri: vscode.Uri): string {
    return vscode.workspace.asRelativePath(
      uri,
      vscode.workspace.workspaceFolders !== undefined && vscode.workspace.workspaceFolders.length > 1,
    );
  }

  /** Local files used as inputs lately, newest first, for the prompts. */
  recentLocalInputs(type: InputType): vscode.Uri[] {
    const recent = this.options.memento.get<Array<{ uri: string; type: string }>>(RECENT_KEY, []);
    return recent.filter((entry) => entry.type === type).map((entry) => vscode.Uri.parse(entry.uri));
  }

  /**
   * Replaces every media input whose value names a local file by the URL FLORA reads it from, uploading
   * the file when it is not uploaded already. Asks once per target before the first upload. Nothing is
   * uploaded before a target is chosen, and nothing is sent to FLORA when an upload fails.
   */
  async resolveInputs(
    technique: TechniqueDetails,
    values: Readonly<Record<string, unknown>>,
    signal?: AbortSignal,
    options: { workspaceFilesOnly?: boolean } = {},
  ): Promise<ResolvedInputs> {
    const local = this.localInputsOf(technique, values);
    if (local.length === 0) return { values: { ...values }, localPaths: {} };
    const target = this.target();
    if (!target) throw new UploadError('noTarget', { files: local.map((input) => input.displayPath) });
    await this.ensureConsent(
      local.map((input) => input.displayPath),
      target,
    );
    const resolved: Record<string, unknown> = { ...values };
    const localPaths: Record<string, string> = {};
    for (const input of local) {
      const type = technique.inputs.find((candidate) => candidate.id === input.inputId)?.type as InputType;
      const uploaded = await this.uploadFile(input, type, target, signal, options.workspaceFilesOnly === true);
      resolved[input.inputId] = uploaded.url;
      localPaths[input.inputId] = input.displayPath;
      await this.rememberRecent(input.uri, type);
    }
    return { values: resolved, localPaths };
  }

  /** The ids of the media inputs whose values name local files (a file: URI or a path), without touching them. */
  localInputIds(technique: TechniqueDetails, values: Readonly<Record<string, unknown>>): ReadonlySet<string> {
    const ids = new Set<string>();
    for (const input of technique.inputs) {
      const value = values[input.id];
      if ((input.type === 'imageUrl' || input.type === 'videoUrl') && typeof value === 'string' && Uploads.isLocalValue(value))
        ids.add(input.id);
    }
    return ids;
  }

  /** The media inputs whose values name local files. */
  localInputsOf(technique: TechniqueDetails, values: Readonly<Record<string, unknown>>): LocalInput[] {
    const found: LocalInput[] = [];
    for (const input of technique.inputs) {
      if (input.type !== 'imageUrl' && input.type !== 'videoUrl') continue;
      const value = values[input.id];
      if (typeof value !== 'string' || !Uploads.isLocalValue(value)) continue;
      const uri = Uploads.toUri(value);
      if (!uri) throw new UploadError('notFound', { files: [value] });
      found.push({ inputId: input.id, uri, displayPath: Uploads.displayPath(uri) });
    }
    return found;
  }

  /** Asks once per target; a person who declines gets nothing uploaded and nothing sent. */
  async ensureConsent(files: readonly string[], target: UploadTarget): Promise<void> {
    const label = this.labelOf(target);
    const identity = await this.identityOf(target);
    const agreed = this.options.memento.get<string[]>(CONSENT_KEY, []);
    if (agreed.includes(identity)) return;
    const prompt = this.options.consent ?? askConsent;
    if (!(await prompt(files, label))) throw new FloraCancelledError();
    await this.options.memento.update(CONSENT_KEY, [...agreed, identity]);
  }

  /**
   * What a consent and a cached upload are for: the target's label, and for ImageKit (whose folder names no
   * account) a fingerprint of the private key, so another account is another target. Never the key itself.
   */
  private async identityOf(target: UploadTarget): Promise<string> {
    const label = this.labelOf(target);
    if (target.kind !== 'imagekit') return label;
    const privateKey = (await this.options.secrets.get(UPLOAD_SECRET.imagekitPrivateKey)) ?? '';
    return `${label}#${createHash('sha256').update(privateKey).digest('hex').slice(0, 16)}`;
  }

  /** The target as the consent question and the log name it, in the folder form its keys are written under. */
  private labelOf(target: UploadTarget): string {
    const where = target.endpoint ? ` (${target.endpoint})` : '';
    if (target.kind === 'imagekit') return `ImageKit /${target.folder}${where}`;
    return `${loadUploadModule().describeTarget(target)}${where}`;
  }

  private async uploadFile(
    input: LocalInput,
    type: InputType,
    target: UploadTarget,
    signal: AbortSignal | undefined,
    workspaceFilesOnly: boolean,
  ): Promise<Uploaded> {
    const upload = loadUploadModule();
    if (input.uri.scheme !== 'file') throw new UploadError('notFound', { files: [input.displayPath] });
    const file = await upload.describeLocalFile(input.uri.fsPath, type === 'videoUrl' ? 'videoUrl' : 'imageUrl', signal);
    // What was read (and later sent: the upload reopens the same inode) must be the workspace's file now.
    if (workspaceFilesOnly && !(await isWorkspaceFileRead(file.path, file.identity))) {
      throw new UploadError('unreadable', {
        text: message('uploadFileLeftWorkspace', input.displayPath),
        files: [input.displayPath],
      });
    }
    const cacheKey = `${await this.identityOf(target)}#${file.sha256}`;
    const cached = this.options.memento.get<Record<string, CachedUpload>>(CACHE_KEY, {})[cacheKey];
    if (cached && (cached.expiresAt === undefined || cached.expiresAt - this.now() > CACHE_MARGIN_MS)) {
      this.options.log.info(`${input.displayPath} is uploaded already; its URL is reused.`);
      return { url: cached.url, key: '', expiresAt: cached.expiresAt, uploaded: false };
    }
    // A dispatcher of its own, closed once this file is up: uploads are rare, and their pools need not linger.
    const dispatcher = this.options.connection.uploadDispatcher(target.endpoint);
    try {
      return await this.send(input, target, file, cacheKey, { dispatcher, signal, now: this.now, log: this.options.log.write });
    } finally {
      void dispatcher.close().catch(() => undefined);
    }
  }

  private async send(
    input: LocalInput,
    target: UploadTarget,
    file: UploadFile,
    cacheKey: string,
    context: UploadContext,
  ): Promise<Uploaded> {
    const upload = loadUploadModule();
    const lifetimeSeconds = Math.round(this.upload.urlLifetimeHours * 3600);
    let uploaded: Uploaded;
    if (target.kind === 'imagekit') {
      const privateKey = await this.options.secrets.get(UPLOAD_SECRET.imagekitPrivateKey);
      if (!privateKey) throw new UploadError('credentials', { target: this.labelOf(target) });
      uploaded = await upload.uploadToImageKit(target, privateKey, file, context);
    } else {
      const profile = target.kind === 's3' ? this.upload.s3.profile || undefined : undefined;
      uploaded = await upload.uploadToS3(
        target,
        () => this.credentialsFor(target),
        file,
        { urlLifetimeSeconds: lifetimeSeconds, ...(profile ? { profile } : {}) },
        context,
      );
      if (uploaded.region !== undefined && target.kind === 's3' && uploaded.region !== target.region)
        this.options.log.warn(
          `The bucket ${target.bucket} is in ${uploaded.region}, not ${target.region}: set flora.upload.s3.region to ${uploaded.region}.`,
        );
    }
    this.options.log.info(
      `${input.displayPath} ${uploaded.uploaded ? 'uploaded' : 'was already'} at ${this.labelOf(target)}; FLORA reads it from ${new URL(uploaded.url).host}.`,
    );
    await this.remember(cacheKey, { url: uploaded.url, expiresAt: uploaded.expiresAt });
    return uploaded;
  }

  /** SecretStorage's key pair when set; for S3 otherwise the standard AWS chain (environment, profiles, SSO…). */
  private async credentialsFor(target: UploadTarget): Promise<StorageCredentials> {
    const secrets = this.options.secrets;
    if (target.kind === 'gcs') {
      const accessKeyId = await secrets.get(UPLOAD_SECRET.gcsAccessKeyId);
      const secretAccessKey = await secrets.get(UPLOAD_SECRET.gcsSecret);
      if (!accessKeyId || !secretAccessKey) throw new UploadError('credentials', { target: this.labelOf(target) });
      return { accessKeyId, secretAccessKey };
    }
    const accessKeyId = await secrets.get(UPLOAD_SECRET.s3AccessKeyId);
    const secretAccessKey = await secrets.get(UPLOAD_SECRET.s3SecretAccessKey);
    if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
    const profile = this.upload.s3.profile || undefined;
    try {
      const provide = loadCredentialChain()({ profile });
      return await provide();
    } catch (error) {
      // Told apart by the upload code: an ended SSO session is "expired" (sign in again), not "missing".
      throw loadUploadModule().credentialsError(error, this.labelOf(target), profile);
    }
  }

  private async remember(cacheKey: string, entry: CachedUpload): Promise<void> {
    const cache = { ...this.options.memento.get<Record<string, CachedUpload>>(CACHE_KEY, {}), [cacheKey]: entry };
    const keys = Object.keys(cache);
    for (const stale of keys.slice(0, Math.max(0, keys.length - CACHE_LIMIT))) delete cache[stale];
    await this.options.memento.update(CACHE_KEY, cache);
  }

  private async rememberRecent(uri: vscode.Uri, type: InputType): Promise<void> {
    const entry = { uri: uri.toString(), type };
    const recent = this.options.memento.get<Array<{ uri: string; type: string }>>(RECENT_KEY, []).filter((item) => item.uri !== entry.uri);
    await this.options.memento.update(RECENT_KEY, [entry, ...recent].slice(0, RECENT_LIMIT));
  }
}

/** The consent dialog: modal, so it is answered by a person, naming what goes where. */
function askConsent(files: readonly string[], targetLabel: string): Promise<boolean> {
  const what = files.length === 1 ? (files[0] ?? '') : vscode.l10n.t('{0} files', files.length);
  return confirmModal(
    vscode.l10n.t('Upload {0} to {1}? FLORA will read it from there.', what, targetLabel),
    vscode.l10n.t('The extension asks once for each storage target. No other file is read.'),
    vscode.l10n.t('Upload'),
  );
}

// The upload code and the AWS libraries are required at the first upload (see esbuild.mjs: the libraries
// are a file of their own), so activating the extension loads neither.
/* eslint-disable @typescript-eslint/no-require-imports */
function loadUploadModule(): typeof import('../core/upload') {
  return require('../core/upload') as typeof import('../core/upload');
}
function loadCredentialChain(): (init: { profile?: string }) => () => Promise<StorageCredentials> {
  return (require('../core/upload/credentials') as typeof import('../core/upload/credentials')).credentialChain;
}
/* eslint-enable @typescript-eslint/no-require-imports */
