// FLORA: Run Technique… — pick a technique, answer one prompt per input, confirm the cost, start the run.
// Also the automation entry point: `{ slug, inputs, confirm? }` runs without prompting.
// Over the size we aim for: issue 11 moves its multi-step input and URL candidates into src/ui.
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { notifyError, notifyWarning } from '../common/notify';
import { CommandId } from '../common/commandIds';
import { DOCUMENTED_TECHNIQUES } from '../core/catalog';
import { FloraApiError, FloraCancelledError, FloraInputError, isAuthError } from '../core/errors';
import { message } from '../core/messages';
import { checkInputValue, describeType } from '../core/inputs';
import { toPublicRecord, type PublicRunRecord, type RunRecord } from '../core/runs';
import { isInputType } from '../core/model';
import { truncate } from '../core/text';
import type { TechniqueDetails, TechniqueInput } from '../core/schemas';
import type { FloraService } from '../services/floraService';
import type { KeyStore } from '../services/keyStore';
import { describeError, localize } from '../services/messages';
import type { RunsStore } from '../services/runsStore';
import { isTechniqueNode, techniqueSlugOf } from '../views/techniquesTree';

export interface RunRequest {
  slug: string;
  inputs: Record<string, string>;
  confirm?: boolean;
}

export interface RunCommandContext {
  service: FloraService;
  runs: RunsStore;
  keys: KeyStore;
  /** The text editor the user last worked in (a webview or picker may have focus now). */
  lastTextEditor: () => vscode.TextEditor | undefined;
}

export function isRunRequest(value: unknown): value is RunRequest {
  if (typeof value !== 'object' || value === null) return false;
  const request = value as Partial<RunRequest>;
  return typeof request.slug === 'string' && typeof request.inputs === 'object' && request.inputs !== null;
}

export async function runTechnique(context: RunCommandContext, argument?: unknown): Promise<PublicRunRecord | undefined> {
  if (typeof argument === 'object' && argument !== null && !isTechniqueNode(argument)) {
    if (!isRunRequest(argument)) {
      throw new FloraInputError([{ inputId: undefined, text: message('automationRequest') }]);
    }
    return runRequest(context, argument);
  }
  if (!(await ensureKey(context))) return undefined;
  const slug = techniqueSlugOf(argument) ?? (await pickTechnique(context.service));
  if (!slug) return undefined;
  const technique = await loadTechnique(context, slug);
  if (!technique) return undefined;
  const values = await promptForInputs(context, technique);
  if (!values) return undefined;
  if (context.service.currentSettings.confirmBeforeRun && !(await confirmRun(technique, values))) return undefined;
  const record = await context.service.prepareRun(slug, values);
  return toPublicRecord(await createWithKeyRecovery(context, record));
}

/** The automation contract: no prompts; invalid inputs reject with the validation message and send nothing. */
async function runRequest(context: RunCommandContext, request: RunRequest): Promise<PublicRunRecord | undefined> {
  for (const [id, value] of Object.entries(request.inputs)) {
    if (typeof value !== 'string') {
      throw new FloraInputError([{ inputId: id, text: message('inputNotString', message('inputLabel', id), message('typeText')) }]);
    }
  }
  if (request.confirm) {
    const technique = await context.service.getTechnique(request.slug);
    if (!(await confirmRun(technique, request.inputs))) throw new FloraCancelledError(message('runNotConfirmed'));
  }
  const record = await context.service.startRun(request.slug, request.inputs);
  return toPublicRecord(record);
}

/** Runs a finished run again with the same inputs (a new run, charged again). */
export async function runAgain(context: RunCommandContext, record: RunRecord): Promise<PublicRunRecord | undefined> {
  const technique = await loadTechnique(context, record.slug);
  if (!technique) return undefined;
  const values = Object.fromEntries(record.inputs.map((input) => [input.id, input.value]));
  if (context.service.currentSettings.confirmBeforeRun && !(await confirmRun(technique, values))) return undefined;
  const prepared = await context.service.prepareRun(record.slug, values);
  return toPublicRecord(await createWithKeyRecovery(context, prepared));
}

async function ensureKey(context: RunCommandContext): Promise<boolean> {
  if (await context.keys.has()) return true;
  const setKey = vscode.l10n.t('Set API Key');
  const choice = await notifyWarning(vscode.l10n.t('Set your FLORA API key before running a technique.'), setKey);
  if (choice !== setKey) return false;
  await vscode.commands.executeCommand(CommandId.setApiKey);
  return context.keys.has();
}

/** Fetches details (cached after the first time); a rejected key offers "Set API Key" and then tries again. */
async function loadTechnique(context: RunCommandContext, slug: string): Promise<TechniqueDetails | undefined> {
  const load = () =>
    context.service.cachedTechnique(slug) ??
    vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Loading technique "{0}"…', labelText(slug)),
        cancellable: true,
      },
      (_progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return context.service.getTechnique(slug, { signal: controller.signal });
      },
    );
  try {
    return await load();
  } catch (error) {
    if (error instanceof FloraApiError && error.code === 'not_found' && context.service.currentSettings.techniques.includes(slug)) {
      await offerRemoval(slug, describeError(error));
      throw new FloraCancelledError();
    }
    if (!isAuthError(error) || !(await recoverKey(context, error))) throw error;
    return load();
  }
}

/** An added slug FLORA does not know: say so, and offer to take it off the list. */
async function offerRemoval(slug: string, text: string): Promise<void> {
  const remove = vscode.l10n.t('Remove Technique');
  const choice = await notifyError(text, remove);
  if (choice === remove) await vscode.commands.executeCommand(CommandId.removeTechnique, slug);
}

/** Creates the recorded run; when FLORA refuses the key, lets the user set one and sends the same run again. */
async function createWithKeyRecovery(context: RunCommandContext, record: RunRecord): Promise<RunRecord> {
  try {
    return await context.service.create(record.localId);
  } catch (error) {
    if (!isAuthError(error) || !(await recoverKey(context, error))) throw error;
    return context.service.retryCreate(record.localId);
  }
}

async function recoverKey(context: RunCommandContext, error: unknown): Promise<boolean> {
  const setKey = vscode.l10n.t('Set API Key');
  const choice = await notifyError(describeError(error), setKey);
  if (choice !== setKey) throw new FloraCancelledError();
  const before = await context.keys.get();
  await vscode.commands.executeCommand(CommandId.setApiKey);
  const after = await context.keys.get();
  return after !== undefined && after !== before;
}

interface TechniquePickItem extends vscode.QuickPickItem {
  slug: string;
}

async function pickTechnique(service: FloraService): Promise<string | undefined> {
  const recent = service.recentTechniques();
  const added = service.currentSettings.techniques;
  const bySlug = new Map<string, TechniquePickItem>();
  // Names and descriptions of added techniques come from FLORA (and slugs from settings): labels, made inert.
  const item = (slug: string, name: string, description: string): TechniquePickItem => ({
    slug,
    label: labelText(name),
    description: labelText(slug),
    detail: labelText(description),
  });
  for (const technique of DOCUMENTED_TECHNIQUES) bySlug.set(technique.slug, item(technique.slug, technique.name, technique.description));
  for (const slug of added) {
    if (!bySlug.has(slug)) {
      const details = service.cachedTechnique(slug);
      bySlug.set(slug, item(slug, details?.name ?? slug, details?.description ?? vscode.l10n.t('Added by you')));
    }
  }
  const recentItems = recent.map((slug) => bySlug.get(slug)).filter((entry): entry is TechniquePickItem => entry !== undefined);
  const rest = [...bySlug.values()].filter((entry) => !recent.includes(entry.slug));
  const items: Array<TechniquePickItem | vscode.QuickPickItem> = [];
  if (recentItems.length > 0)
    items.push({ label: vscode.l10n.t('recently used'), kind: vscode.QuickPickItemKind.Separator }, ...recentItems);
  items.push({ label: vscode.l10n.t('techniques'), kind: vscode.QuickPickItemKind.Separator }, ...rest);
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('FLORA: Run Technique'),
    placeHolder: vscode.l10n.t('Pick a technique to run'),
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked && 'slug' in picked ? picked.slug : undefined;
}

const BACK = Symbol('back');
type StepResult = string | typeof BACK | undefined;

/** One prompt per input, in order, with Back; undefined when the user pressed Escape. */
async function promptForInputs(context: RunCommandContext, technique: TechniqueDetails): Promise<Record<string, string> | undefined> {
  const values: Record<string, string> = {};
  const total = technique.inputs.length;
  let index = 0;
  while (index < total) {
    const input = technique.inputs[index];
    if (!input) break;
    const title = vscode.l10n.t({
      message: '{0}: {1} ({2}/{3})',
      args: [labelText(technique.name), labelText(input.name ?? input.id), index + 1, total],
      comment: 'technique name: input name (step number/number of steps)',
    });
    if (!isInputType(input.type)) {
      throw new FloraInputError([{ inputId: input.id, text: message('inputUnsupportedType', input.type) }]);
    }
    const result =
      input.type === 'text'
        ? await promptText(input, title, index > 0, values[input.id])
        : await promptMedia(context, input, title, index > 0, values[input.id]);
    if (result === undefined) return undefined;
    if (result === BACK) {
      index = Math.max(0, index - 1);
      continue;
    }
    values[input.id] = result;
    index++;
  }
  return values;
}

function promptText(input: TechniqueInput, title: string, canGoBack: boolean, previous: string | undefined): Promise<StepResult> {
  return new Promise<StepResult>((resolve) => {
    const box = vscode.window.createInputBox();
    box.title = title;
    box.prompt = vscode.l10n.t('Enter {0} ({1})', labelText(input.name ?? input.id), localize(describeType(input.type)));
    box.value = previous ?? '';
    box.ignoreFocusOut = true;
    if (canGoBack) box.buttons = [vscode.QuickInputButtons.Back];
    let settled = false;
    const finish = (value: StepResult) => {
      if (settled) return;
      settled = true;
      resolve(value);
      box.dispose();
    };
    box.onDidChangeValue((value) => {
      const problem = value.length > 0 ? checkInputValue(input, value) : undefined;
      box.validationMessage = problem && labelText(localize(problem));
    });
    box.onDidTriggerButton((button) => button === vscode.QuickInputButtons.Back && finish(BACK));
    box.onDidAccept(() => {
      const problem = checkInputValue(input, box.value);
      if (problem) {
        box.validationMessage = labelText(localize(problem));
        return;
      }
      finish(box.value);
    });
    box.onDidHide(() => finish(undefined));
    box.show();
  });
}

interface MediaPickItem extends vscode.QuickPickItem {
  value: string;
  problem: string | undefined;
}

/** A picker of candidate URLs (selection, clipboard, earlier outputs) that also takes a typed URL. */
async function promptMedia(
  context: RunCommandContext,
  input: TechniqueInput,
  title: string,
  canGoBack: boolean,
  previous: string | undefined,
): Promise<StepResult> {
  const options = context.service.mediaOptions();
  const candidates = await mediaCandidates(context, input, previous);
  return new Promise<StepResult>((resolve) => {
    const picker = vscode.window.createQuickPick<MediaPickItem>();
    picker.title = title;
    picker.placeholder =
      input.type === 'videoUrl'
        ? vscode.l10n.t('Paste or type an https:// video link, or pick one below')
        : vscode.l10n.t('Paste or type an https:// image link, or pick one below');
    picker.ignoreFocusOut = true;
    picker.matchOnDescription = true;
    if (canGoBack) picker.buttons = [vscode.QuickInputButtons.Back];
    // Values (a typed or pasted URL, an earlier output's URL) and sources (a runId) are not ours: inert labels.
    // Labels are ours, with icons; what they quote is made inert where they are made.
    const toItem = (label: string, value: string, source: string): MediaPickItem => {
      const found = checkInputValue(input, value, options);
      const problem = found && labelText(localize(found));
      return {
        label,
        description: labelText(source),
        detail: problem ? `$(error) ${problem}` : labelText(value),
        value,
        problem,
        alwaysShow: true,
      };
    };
    const baseItems = candidates.map((candidate) => toItem(candidate.label, candidate.value, candidate.source));
    const refresh = () => {
      const typed = picker.value.trim();
      const typedItem = typed
        ? [toItem(vscode.l10n.t('$(edit) Use "{0}"', labelText(truncate(typed, 70))), typed, vscode.l10n.t('typed'))]
        : [];
      picker.items = [...typedItem, ...baseItems];
    };
    refresh();
    let settled = false;
    const finish = (value: StepResult) => {
      if (settled) return;
      settled = true;
      resolve(value);
      picker.dispose();
    };
    picker.onDidChangeValue(refresh);
    picker.onDidTriggerButton((button) => button === vscode.QuickInputButtons.Back && finish(BACK));
    picker.onDidAccept(() => {
      const [selected] = picker.selectedItems;
      const typed = picker.value.trim();
      const choice = selected ?? (typed ? toItem(labelText(typed), typed, '') : undefined);
      if (!choice) return;
      if (choice.problem) {
        // Keep the picker open: the reason is in the item's detail line, and the title says what to do.
        picker.title = vscode.l10n.t({
          message: '{0} — {1}',
          args: [title, choice.problem],
          comment: 'prompt title — why the value was refused',
        });
        return;
      }
      finish(choice.value);
    });
    picker.onDidHide(() => finish(undefined));
    picker.show();
  });
}

interface Candidate {
  label: string;
  value: string;
  source: string;
}

const URL_PATTERN = /https?:\/\/[^\s"'`<>()[\]{}]+/g;

async function mediaCandidates(context: RunCommandContext, input: TechniqueInput, previous: string | undefined): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  const add = (label: string, value: string, source: string) => {
    if (seen.has(value)) return;
    seen.add(value);
    candidates.push({ label, value, source });
  };
  if (previous) add(vscode.l10n.t('$(history) Previous value'), previous, vscode.l10n.t('this run'));
  const editor = context.lastTextEditor();
  if (editor) {
    const selected = editor.document.getText(editor.selection).trim();
    const fromSelection = selected.match(URL_PATTERN)?.[0];
    if (fromSelection) add(vscode.l10n.t('$(selection) From the selection'), fromSelection, vscode.l10n.t('editor'));
    else {
      const line = editor.document.lineAt(editor.selection.active.line).text;
      for (const match of line.matchAll(URL_PATTERN)) {
        const start = match.index ?? 0;
        const cursor = editor.selection.active.character;
        if (cursor >= start && cursor <= start + match[0].length)
          add(vscode.l10n.t('$(selection) Under the cursor'), match[0], vscode.l10n.t('editor'));
      }
    }
  }
  const clipboard = await readClipboard();
  const fromClipboard = clipboard.match(URL_PATTERN)?.[0];
  if (fromClipboard) add(vscode.l10n.t('$(clippy) From the clipboard'), fromClipboard, vscode.l10n.t('clipboard'));
  for (const record of context.runs.all()) {
    for (const output of record.outputs ?? []) {
      if (output.type === input.type && candidates.length < 15) {
        add(vscode.l10n.t('$(sparkle) Output of {0}', labelText(record.techniqueName)), output.url, record.runId ?? '');
      }
    }
  }
  return candidates;
}

/**
 * The clipboard's text, or '' when it cannot be read quickly. In a browser-hosted editor (code-server,
 * vscode.dev) reading it asks the browser for permission and reports an error when refused, so the picker
 * does not ask there; the URL can still be pasted into the picker.
 */
async function readClipboard(): Promise<string> {
  if (vscode.env.uiKind === vscode.UIKind.Web) return '';
  try {
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve(''), 500));
    return (await Promise.race([vscode.env.clipboard.readText(), timeout])).trim();
  } catch {
    return '';
  }
}

interface ConfirmItem extends vscode.QuickPickItem {
  run: boolean;
}

async function confirmRun(technique: TechniqueDetails, values: Record<string, string>): Promise<boolean> {
  // A list of name: value pairs, one per input; each pair is translated whole.
  const summary = technique.inputs
    .map((input) =>
      vscode.l10n.t({
        message: '{0}: {1}',
        args: [labelText(input.name ?? input.id), labelText(truncate(values[input.id] ?? '', 70))],
        comment: 'input name: input value',
      }),
    )
    .join(' · ');
  const picked = await vscode.window.showQuickPick<ConfirmItem>(
    [
      {
        label: vscode.l10n.t('$(play) Run for {0} credits', technique.runCost),
        detail: summary,
        run: true,
      },
      { label: vscode.l10n.t('$(close) Cancel'), run: false },
    ],
    {
      title: vscode.l10n.t('{0}: confirm the run', labelText(technique.name)),
      placeHolder: vscode.l10n.t('This run costs {0} credits', technique.runCost),
      ignoreFocusOut: true,
    },
  );
  return picked?.run === true;
}
