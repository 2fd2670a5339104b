// FLORA: Run Technique… and Run Again — pick a technique, answer one prompt per input, confirm the cost
// (the last step: Back returns to the inputs), start the run. Run Again confirms at once, with "Edit
// Inputs…". Also the automation entry point: `{ slug, inputs, confirm? }` runs without prompting (but its
// confirmation, when asked for).
// The prompts are src/ui's (multiStepInput, mediaCandidates, localFiles, techniquePick); key recovery is at
// the end. An image or video input also takes a local file (its file: URI): the run uploads it.
import * as vscode from 'vscode';
import { formatAge } from '../common/age';
import { labelText } from '../common/inert';
import { FloraCancelledError, FloraInputError, FloraUsageError, isAuthError } from '../core/errors';
import { message, type Message } from '../core/messages';
import { checkInputValue, describeType } from '../core/inputs';
import { recentTextValues, type PublicRunRecord, type RunRecord } from '../core/runs';
import { isInputType } from '../core/model';
import { oneLine, truncate } from '../core/text';
import type { TechniqueDetails, TechniqueInput } from '../core/schemas';
import type { FloraConnection } from '../services/floraConnection';
import type { KeyStore } from '../services/keyStore';
import type { Log } from '../services/log';
import { ExtensionError, l10nText, localize } from '../services/userText';
import type { RunController } from '../services/runController';
import type { RunsStore } from '../services/runsStore';
import type { Settings } from '../services/settings';
import type { TechniqueCatalog } from '../services/techniqueCatalog';
import { Uploads } from '../services/uploads';
import { isExistingFileSync, localFileLabel, mediaTypeOf, typedFile } from '../ui/localFiles';
import { mediaCandidates } from '../ui/mediaCandidates';
import { BACK, runSteps, showInputStep, showPickStep, type ReviewResult, type StepFrame, type StepResult } from '../ui/multiStepInput';
import { confirmRun, PREVIEW_LENGTH } from '../ui/runConfirmation';
import { pickTechnique } from '../ui/techniquePick';
import { showError } from '../views/remedies';
import { isTechniqueNode, techniqueSlugOf } from '../views/techniquesTree';

export interface RunRequest {
  slug: string;
  inputs: Record<string, string>;
  confirm?: boolean;
}

export interface RunCommandContext {
  controller: RunController;
  catalog: TechniqueCatalog;
  connection: FloraConnection;
  settings: Settings;
  runs: RunsStore;
  keys: KeyStore;
  uploads: Uploads;
  /** Where a batch notes the files it could not run (the user sees them in the summary). */
  log?: Pick<Log, 'warn'>;
  /** The text editor the user last worked in (a webview or picker may have focus now). */
  lastTextEditor: () => vscode.TextEditor | undefined;
}

/** What the prompts know besides the technique: inputs already answered, files the command was given. */
export interface PromptOptions {
  /** Input id → value: these inputs are not asked (the file the Explorer command was given). */
  fixed?: Readonly<Record<string, string>>;
  /** Files to offer first in the image and video prompts. */
  files?: readonly vscode.Uri[];
  /** The technique's slug: a text prompt offers what this technique's input was given lately. */
  slug?: string;
  /** Input id → the value its step starts from (Run Again's Edit Inputs…). */
  initial?: Readonly<Record<string, string>>;
  /** The input whose step comes first (the one picked in a confirmation to change it). */
  startAt?: string;
  /**
   * The confirmation, the step after the last input, given every value (the fixed ones too) and whether
   * it has a step to go Back to.
   */
  review?: (values: Readonly<Record<string, string>>, canGoBack: boolean) => Promise<ReviewResult>;
}

export function isRunRequest(value: unknown): value is RunRequest {
  if (typeof value !== 'object' || value === null) return false;
  const request = value as Partial<RunRequest>;
  return typeof request.slug === 'string' && typeof request.inputs === 'object' && request.inputs !== null;
}

/** From the palette (prompts for everything), a technique in the tree (prompts for inputs) or a script. */
export async function runTechnique(context: RunCommandContext, argument?: unknown): Promise<PublicRunRecord | undefined> {
  if (typeof argument === 'object' && argument !== null && !isTechniqueNode(argument)) {
    if (!isRunRequest(argument)) {
      throw new FloraUsageError(message('automationRequest'));
    }
    return runRequest(context, argument);
  }
  if (!(await ensureKey(context))) return undefined;
  const slug = techniqueSlugOf(argument) ?? (await pickTechnique(context.catalog));
  if (!slug) return undefined;
  const technique = await loadTechnique(context, slug);
  if (!technique) return undefined;
  const values = await promptForInputs(context, technique, { slug, review: reviewOf(context, technique) });
  if (!values) return undefined;
  return start(context, slug, values);
}

/** The confirmation as the last step of the inputs, when the settings ask for one; each input's line leads to its step. */
function reviewOf(context: RunCommandContext, technique: TechniqueDetails): PromptOptions['review'] {
  if (!context.settings.current.confirmBeforeRun) return undefined;
  return (values, canGoBack) => confirmRun(technique, values, { canGoBack, editable: true });
}

/**
 * Runs a finished run again with the same inputs (a new run, charged again). The confirmation offers "Edit
 * Inputs…" (and each input's line): the input steps open with the run's values, then the confirmation
 * again. With flora.confirmBeforeRun off it starts at once, as every run does then: the user asked for no
 * stop before a run, and Run Technique is the way to change inputs.
 */
export async function runAgain(context: RunCommandContext, record: RunRecord): Promise<PublicRunRecord | undefined> {
  const technique = await loadTechnique(context, record.slug);
  if (!technique) return undefined;
  const values = Object.fromEntries(await Promise.all(record.inputs.map(async (input) => [input.id, await againValue(input)] as const)));
  if (!context.settings.current.confirmBeforeRun) return start(context, record.slug, values);
  const choice = await confirmRun(technique, values, { canGoBack: false, editable: true, editInputs: true });
  if (choice === undefined || choice === BACK) return undefined;
  if (choice === 'run') return start(context, record.slug, values);
  const edited = await promptForInputs(context, technique, {
    slug: record.slug,
    initial: values,
    startAt: choice.edit,
    review: reviewOf(context, technique),
  });
  return edited && start(context, record.slug, edited);
}

/**
 * What Run Again sends for an input: a local file is uploaded again from where it was (its link may have
 * expired since; the upload is skipped when the same bytes are there still); a file that has gone since
 * falls back to the link it had.
 */
async function againValue(input: RunRecord['inputs'][number]): Promise<string> {
  if (!input.localPath) return input.value;
  const uri = Uploads.toUri(input.localPath);
  if (!uri) return input.value;
  try {
    await vscode.workspace.fs.stat(uri);
    return uri.toString();
  } catch {
    return input.value;
  }
}

/** The automation contract: no prompts; invalid inputs reject with the validation message and send nothing. */
async function runRequest(context: RunCommandContext, request: RunRequest): Promise<PublicRunRecord | undefined> {
  for (const [id, value] of Object.entries(request.inputs)) {
    if (typeof value !== 'string') {
      throw new FloraInputError([{ inputId: id, text: message('inputNotString', message('inputLabel', id), message('typeText')) }]);
    }
  }
  if (request.confirm) {
    const technique = await context.catalog.get(request.slug);
    // The script's values are shown, not offered for change: the contract is that it prompts for nothing else.
    const choice = await confirmRun(technique, request.inputs, { canGoBack: false, editable: false });
    if (choice !== 'run') throw new FloraCancelledError(message('runNotConfirmed'));
  }
  const record = await context.controller.startRun(request.slug, request.inputs);
  return context.runs.publicRecord(record);
}

/** Records the run and creates it (its cost was confirmed, or the settings ask for no confirmation). */
async function start(context: RunCommandContext, slug: string, values: Record<string, string>): Promise<PublicRunRecord | undefined> {
  const record = await context.controller.prepareRun(slug, values);
  return context.runs.publicRecord(await createWithKeyRecovery(context, record));
}

/**
 * Fetches details (cached after the first time); a rejected key offers "Set API Key" and then tries again.
 * Any other error goes to the guard with its remedy (an added technique FLORA does not know: remove it).
 */
export async function loadTechnique(context: RunCommandContext, slug: string): Promise<TechniqueDetails | undefined> {
  const load = () =>
    context.catalog.cached(slug) ??
    vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Loading technique "{0}"…', labelText(slug)),
        cancellable: true,
      },
      (_progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return context.catalog.get(slug, { signal: controller.signal });
      },
    );
  try {
    return await load();
  } catch (error) {
    if (!isAuthError(error) || !(await recoverKey(context, error))) throw error;
    return load();
  }
}

/**
 * One step per input not given in `options.fixed`, in order, with Back, then `options.review` (the
 * confirmation); undefined when the user pressed Escape or cancelled. The result holds the fixed values too.
 */
export async function promptForInputs(
  context: RunCommandContext,
  technique: TechniqueDetails,
  options: PromptOptions = {},
): Promise<Record<string, string> | undefined> {
  const fixed = options.fixed ?? {};
  const steps = technique.inputs
    .filter((input) => fixed[input.id] === undefined)
    .map((input) => ({
      id: input.id,
      name: input.name ?? input.id,
      show: (frame: StepFrame) => promptInput(context, input, frame, options),
    }));
  const review = options.review;
  const values = await runSteps(technique.name, steps, {
    initial: options.initial,
    startAt: options.startAt,
    review: review && ((prompted, canGoBack) => review({ ...fixed, ...prompted }, canGoBack)),
  });
  return values && { ...fixed, ...values };
}

/**
 * Text is typed into an input box, or, when this technique's input was given values before, typed or
 * picked from them; an image or video is picked from candidates (links, local files) or typed (a link, or
 * a file's path). A local file is given to the run as its file: URI.
 */
async function promptInput(
  context: RunCommandContext,
  input: TechniqueInput,
  frame: StepFrame,
  prompting: PromptOptions,
): Promise<StepResult> {
  const files = prompting.files;
  if (!isInputType(input.type)) {
    throw new FloraInputError([{ inputId: input.id, text: message('inputUnsupportedType', input.type) }]);
  }
  const problemText = (problem: Message | undefined) => problem && localize(problem);
  if (input.type === 'text') {
    const recent = prompting.slug === undefined ? [] : recentTextValues(context.runs.all(), prompting.slug, input.id);
    const name = labelText(input.name ?? input.id);
    const validate = (value: string) => problemText(checkInputValue(input, value));
    // The box starts empty but not blank: it says what it wants.
    if (recent.length === 0) {
      return showInputStep({
        frame,
        prompt: vscode.l10n.t('Enter {0} ({1})', name, localize(describeType(input.type))),
        placeholder: vscode.l10n.t('Type the {0} for this run', name),
        validate,
      });
    }
    // What the input was given lately, newest first, below whatever is typed (which stays first, so Enter
    // takes the typed text). A value is previewed on one line; the detail shows more of a long one; the
    // value picked is the whole of it.
    const now = Date.now();
    return showPickStep({
      frame,
      placeholder: vscode.l10n.t('Type the {0} for this run, or pick one used before', name),
      value: frame.previous,
      suggestions: recent.map((entry) => ({
        label: vscode.l10n.t('$(history) {0}', labelText(truncate(oneLine(entry.value), PREVIEW_LENGTH))),
        value: entry.value,
        source: formatAge(now - entry.at),
      })),
      validate,
      detailOf: (value) => (oneLine(value).length > PREVIEW_LENGTH ? undefined : ''),
    });
  }
  const options = context.connection.mediaOptions();
  const editor = context.lastTextEditor();
  const document = editor?.document.uri;
  const suggestions = await mediaCandidates({
    type: input.type,
    previous: frame.previous,
    editor,
    records: context.runs.all(),
    files,
    recent: context.uploads.recentLocalInputs(input.type),
    samples: () => context.connection.sandboxSamples(),
  });
  const type = input.type;
  const result = await showPickStep({
    frame,
    placeholder:
      type === 'videoUrl'
        ? vscode.l10n.t('Paste an https:// video link or a file path, or pick one below')
        : vscode.l10n.t('Paste an https:// image link or a file path, or pick one below'),
    suggestions,
    validate: (value) => {
      const file = typedFile(value, document);
      return file ? localFileProblem(file, type) : problemText(checkInputValue(input, value, options));
    },
    detailOf: (value) => (typedFile(value, document) ? uploadDetail(context.uploads) : undefined),
  });
  // A typed path becomes the file's URI, so the run finds it wherever the path was relative to.
  const file = typeof result === 'string' ? typedFile(result, document) : undefined;
  return file ? file.toString() : result;
}

/** Why a local file cannot be this input (missing, or of the other type), or undefined when it can. */
function localFileProblem(file: vscode.Uri, type: 'imageUrl' | 'videoUrl'): string | undefined {
  const { where } = localFileLabel(file);
  if (!isExistingFileSync(file)) return vscode.l10n.t('There is no file {0}.', where);
  const actual = mediaTypeOf(file);
  if (actual !== type) {
    return type === 'videoUrl' ? vscode.l10n.t('{0} is not a video file.', where) : vscode.l10n.t('{0} is not an image file.', where);
  }
  return undefined;
}

/**
 * Where a local file goes when the run starts; without a target the file is still accepted: the run then
 * reports that none is configured, with Configure Upload.
 */
export function uploadDetail(uploads: Pick<Uploads, 'targetLabel'>): string {
  const target = uploads.targetLabel();
  return target
    ? vscode.l10n.t('$(cloud-upload) Uploaded to {0} when the run starts', labelText(target))
    : vscode.l10n.t('$(warning) Upload is not configured yet: the run will offer Configure Upload');
}

// ---- Key recovery: set a missing key, replace a refused one, and carry on with the same work ----

export async function ensureKey(context: RunCommandContext): Promise<boolean> {
  if (await context.keys.has()) return true;
  const missing = new ExtensionError(l10nText('Set your FLORA API key before running a technique.'), { kind: 'setKey' });
  if (!(await showError(missing, { severity: 'warning' }))) return false;
  return context.keys.has();
}

/** Creates the recorded run; when FLORA refuses the key, lets the user set one and sends the same run again. */
export async function createWithKeyRecovery(context: RunCommandContext, record: RunRecord): Promise<RunRecord> {
  try {
    return await context.controller.create(record.localId);
  } catch (error) {
    if (!isAuthError(error) || !(await recoverKey(context, error))) throw error;
    return context.controller.retryCreate(record.localId);
  }
}

/** Shows the refusal with its remedy (Set API Key); true when the user set a different key. */
async function recoverKey(context: RunCommandContext, error: unknown): Promise<boolean> {
  const before = await context.keys.get();
  if (!(await showError(error))) throw new FloraCancelledError();
  const after = await context.keys.get();
  return after !== undefined && after !== before;
}
