// FLORA: Configure Upload…: where local files used as inputs are uploaded (Amazon S3, Google Cloud Storage
// through its S3-compatible API, ImageKit, or nowhere). The bucket, region, prefix and folder go to the
// user's own settings (the only ones services/settings.ts reads for uploads); access keys and private keys
// go to SecretStorage, typed into masked boxes, and are never logged, shown or written to settings.
import * as vscode from 'vscode';
import { notifyInformation } from '../common/notify';
import type { UploadSettings } from '../services/settings';
import { UPLOAD_SECRET, type UploadSecretKey, type Uploads } from '../services/uploads';
import { runSteps, showInputStep, type Step, type StepFrame, type Validate } from '../ui/multiStepInput';

/** The upload settings Configure Upload writes, by their full names. */
export type UploadSettingName =
  | 'flora.upload.target'
  | 'flora.upload.s3.bucket'
  | 'flora.upload.s3.region'
  | 'flora.upload.s3.prefix'
  | 'flora.upload.s3.profile'
  | 'flora.upload.gcs.bucket'
  | 'flora.upload.gcs.prefix'
  | 'flora.upload.imagekit.folder';

export interface UploadCommandContext {
  uploads: Pick<Uploads, 'setSecret' | 'hasSecret' | 'targetLabel'>;
  /** The upload settings as they are now (the user's own values). */
  current: () => UploadSettings;
  /** Writes one of the user's (global) settings. */
  writeUserSetting: (name: UploadSettingName, value: string) => Thenable<void>;
}

type TargetKind = UploadSettings['target'];

interface TargetItem extends vscode.QuickPickItem {
  target: TargetKind;
}

interface CredentialItem extends vscode.QuickPickItem {
  choice: 'chain' | 'keys' | 'keep';
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const PREFIX = /^[^\\\s]*$/;
const KEY_ID = /^[A-Za-z0-9]{8,128}$/;

/** Resolves with where files go now (as a person reads it), or undefined when the user cancelled. */
export async function configureUpload(context: UploadCommandContext): Promise<string | undefined> {
  const current = context.current();
  const kind = await pickTarget(current.target);
  if (kind === undefined) return undefined;
  const configured = await configureTarget(context, kind, current);
  if (!configured) return undefined;
  const label = context.uploads.targetLabel();
  void notifyInformation(
    label
      ? vscode.l10n.t('FLORA uploads local files to {0}, after asking you once.', label)
      : vscode.l10n.t('FLORA does not upload local files; links still work as inputs.'),
  );
  return label ?? 'none';
}

async function pickTarget(current: TargetKind): Promise<TargetKind | undefined> {
  const mark = (kind: TargetKind) => (kind === current ? vscode.l10n.t('current') : undefined);
  const items: TargetItem[] = [
    {
      target: 's3',
      label: vscode.l10n.t('$(cloud-upload) Amazon S3'),
      description: mark('s3'),
      detail: vscode.l10n.t('A bucket of yours; credentials from the AWS chain (profiles, SSO, environment) or an access key pair'),
    },
    {
      target: 'gcs',
      label: vscode.l10n.t('$(cloud-upload) Google Cloud Storage (HMAC keys)'),
      description: mark('gcs'),
      detail: vscode.l10n.t('A bucket of yours, through its S3-compatible API with an HMAC key'),
    },
    {
      target: 'imagekit',
      label: vscode.l10n.t('$(cloud-upload) ImageKit'),
      description: mark('imagekit'),
      detail: vscode.l10n.t('Your ImageKit media library, with its private key'),
    },
    {
      target: 'none',
      label: vscode.l10n.t('$(circle-slash) None'),
      description: mark('none'),
      detail: vscode.l10n.t('Do not upload: only links can be inputs'),
    },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('FLORA: Configure Upload'),
    placeHolder: vscode.l10n.t('Where should local images and videos be uploaded for FLORA to read?'),
    ignoreFocusOut: true,
  });
  return picked?.target;
}

const HEADING = (): string => vscode.l10n.t('Configure Upload');

function textStep(id: string, name: string, prompt: string, initial: string, validate: Validate): Step {
  return {
    id,
    name,
    show: (frame: StepFrame) => showInputStep({ frame: { ...frame, previous: frame.previous ?? initial }, prompt, validate }),
  };
}

/** A secret's box: masked; with one stored already, leaving it empty keeps that one. */
function secretStep(id: string, name: string, prompt: string, stored: boolean, validate: Validate): Step {
  return {
    id,
    name,
    show: (frame: StepFrame) =>
      showInputStep({
        frame,
        prompt,
        password: true,
        placeholder: stored ? vscode.l10n.t('Leave empty to keep the one stored') : undefined,
        validate: (value) => (value.length === 0 && stored ? undefined : validate(value)),
      }),
  };
}

const required =
  (what: string, pattern?: RegExp): Validate =>
  (value) => {
    const trimmed = value.trim();
    if (trimmed.length === 0) return vscode.l10n.t('Enter {0}.', what);
    if (pattern && !pattern.test(trimmed)) return vscode.l10n.t('This is not a valid {0}.', what);
    return undefined;
  };
const optional =
  (what: string, pattern: RegExp): Validate =>
  (value) =>
    value.trim().length > 0 && !pattern.test(value.trim()) ? vscode.l10n.t('This is not a valid {0}.', what) : undefined;

async function configureTarget(context: UploadCommandContext, kind: TargetKind, current: UploadSettings): Promise<boolean> {
  const write = context.writeUserSetting;
  switch (kind) {
    case 'none':
      await write('flora.upload.target', 'none');
      return true;
    case 's3':
      return configureS3(context, current);
    case 'gcs': {
      const storedId = await context.uploads.hasSecret(UPLOAD_SECRET.gcsAccessKeyId);
      const storedSecret = await context.uploads.hasSecret(UPLOAD_SECRET.gcsSecret);
      const values = await runSteps(HEADING(), [
        textStep(
          'bucket',
          vscode.l10n.t('Bucket'),
          vscode.l10n.t('The Google Cloud Storage bucket'),
          current.gcs.bucket,
          required(vscode.l10n.t('bucket name'), BUCKET),
        ),
        textStep(
          'prefix',
          vscode.l10n.t('Prefix'),
          vscode.l10n.t('The object name prefix, e.g. flora/ (may be empty)'),
          current.gcs.prefix,
          optional(vscode.l10n.t('prefix'), PREFIX),
        ),
        secretStep(
          'keyId',
          vscode.l10n.t('HMAC Access ID'),
          vscode.l10n.t("The HMAC key's access ID (Cloud Storage › Settings › Interoperability)"),
          storedId,
          required(vscode.l10n.t('access ID'), KEY_ID),
        ),
        secretStep(
          'secret',
          vscode.l10n.t('HMAC Secret'),
          vscode.l10n.t("The HMAC key's secret (kept in VS Code's secret storage)"),
          storedSecret,
          required(vscode.l10n.t('secret')),
        ),
      ]);
      if (!values) return false;
      await storeSecret(context, UPLOAD_SECRET.gcsAccessKeyId, values.keyId);
      await storeSecret(context, UPLOAD_SECRET.gcsSecret, values.secret);
      await write('flora.upload.gcs.bucket', (values.bucket ?? '').trim());
      await write('flora.upload.gcs.prefix', (values.prefix ?? '').trim());
      await write('flora.upload.target', 'gcs');
      return true;
    }
    case 'imagekit': {
      const stored = await context.uploads.hasSecret(UPLOAD_SECRET.imagekitPrivateKey);
      const values = await runSteps(HEADING(), [
        secretStep(
          'privateKey',
          vscode.l10n.t('Private Key'),
          vscode.l10n.t("Your ImageKit private key (Developer options; kept in VS Code's secret storage)"),
          stored,
          required(vscode.l10n.t('private key')),
        ),
        textStep(
          'folder',
          vscode.l10n.t('Folder'),
          vscode.l10n.t('The ImageKit folder, e.g. flora'),
          current.imagekit.folder,
          optional(vscode.l10n.t('folder'), PREFIX),
        ),
      ]);
      if (!values) return false;
      await storeSecret(context, UPLOAD_SECRET.imagekitPrivateKey, values.privateKey);
      await write('flora.upload.imagekit.folder', (values.folder ?? '').trim());
      await write('flora.upload.target', 'imagekit');
      return true;
    }
  }
}

async function configureS3(context: UploadCommandContext, current: UploadSettings): Promise<boolean> {
  const write = context.writeUserSetting;
  const location = await runSteps(HEADING(), [
    textStep(
      'bucket',
      vscode.l10n.t('Bucket'),
      vscode.l10n.t('The Amazon S3 bucket'),
      current.s3.bucket,
      required(vscode.l10n.t('bucket name'), BUCKET),
    ),
    textStep(
      'region',
      vscode.l10n.t('Region'),
      vscode.l10n.t("The bucket's region, e.g. us-east-1"),
      current.s3.region,
      required(vscode.l10n.t('region'), REGION),
    ),
    textStep(
      'prefix',
      vscode.l10n.t('Prefix'),
      vscode.l10n.t('The key prefix, e.g. flora/ (may be empty)'),
      current.s3.prefix,
      optional(vscode.l10n.t('prefix'), PREFIX),
    ),
  ]);
  if (!location) return false;
  const storedPair = await context.uploads.hasSecret(UPLOAD_SECRET.s3SecretAccessKey);
  const credentialItems: CredentialItem[] = [
    {
      choice: 'chain',
      label: vscode.l10n.t('$(key) AWS credential chain'),
      detail: vscode.l10n.t(
        'Environment variables, the shared config and credentials files (a profile of your choice), SSO, credential_process',
      ),
    },
    {
      choice: 'keys',
      label: vscode.l10n.t('$(lock) Access key pair'),
      detail: vscode.l10n.t("An access key ID and secret, kept in VS Code's secret storage"),
    },
  ];
  if (storedPair) credentialItems.unshift({ choice: 'keep', label: vscode.l10n.t('$(check) Keep the stored access key pair') });
  const credentials = await vscode.window.showQuickPick(credentialItems, {
    title: vscode.l10n.t('Configure Upload: Credentials'),
    placeHolder: vscode.l10n.t('Which credentials sign the uploads?'),
    ignoreFocusOut: true,
  });
  if (!credentials) return false;
  if (credentials.choice === 'chain') {
    const profile = await runSteps(HEADING(), [
      textStep(
        'profile',
        vscode.l10n.t('Profile'),
        vscode.l10n.t('The AWS profile to use (empty: the default chain)'),
        current.s3.profile,
        optional(vscode.l10n.t('profile name'), /^[\w.+@-]+$/),
      ),
    ]);
    if (!profile) return false;
    // A stored pair would be used before the chain: the chain is chosen, so the pair goes.
    await context.uploads.setSecret(UPLOAD_SECRET.s3AccessKeyId, undefined);
    await context.uploads.setSecret(UPLOAD_SECRET.s3SecretAccessKey, undefined);
    await write('flora.upload.s3.profile', (profile.profile ?? '').trim());
  } else if (credentials.choice === 'keys') {
    const pair = await runSteps(HEADING(), [
      secretStep(
        'keyId',
        vscode.l10n.t('Access Key ID'),
        vscode.l10n.t("The access key ID (kept in VS Code's secret storage)"),
        false,
        required(vscode.l10n.t('access key ID'), KEY_ID),
      ),
      secretStep(
        'secret',
        vscode.l10n.t('Secret Access Key'),
        vscode.l10n.t("The secret access key (kept in VS Code's secret storage)"),
        false,
        required(vscode.l10n.t('secret access key')),
      ),
    ]);
    if (!pair) return false;
    await storeSecret(context, UPLOAD_SECRET.s3AccessKeyId, pair.keyId);
    await storeSecret(context, UPLOAD_SECRET.s3SecretAccessKey, pair.secret);
  }
  await write('flora.upload.s3.bucket', (location.bucket ?? '').trim());
  await write('flora.upload.s3.region', (location.region ?? '').trim());
  await write('flora.upload.s3.prefix', (location.prefix ?? '').trim());
  await write('flora.upload.target', 's3');
  return true;
}

/** An empty value keeps the stored secret (the box said so); anything else replaces it. */
async function storeSecret(context: UploadCommandContext, key: UploadSecretKey, value: string | undefined): Promise<void> {
  const trimmed = value?.trim() ?? '';
  if (trimmed.length > 0) await context.uploads.setSecret(key, trimmed);
}
