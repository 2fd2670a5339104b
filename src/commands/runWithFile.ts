// Run FLORA Technique with This File: from the Explorer's context menu on images and videos (or the
// palette, on the active editor's file; or a script, with a URI, a URI string, a path or a list of them).
// Pick a technique that takes a file of that type (and which input the file fills, when it has several),
// answer the other inputs once, confirm the cost once, and start one run per file. Several files are a
// batch: at most flora.batch.concurrency runs are being uploaded and created at once, one failing does not
// stop the others, and a summary says how they ended. The first run goes alone, so the upload consent (asked
// once per target) and a refused key are met once, not once per file.
// One piece although long: the technique choice, the shared inputs, the one confirmation and the batch
// all work on the same list of files, and the batch's order (the first run alone) depends on what the
// choice and the confirmation settled.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { labelText } from '../common/inert';
import { notifyError, notifyInformation, notifyWarning } from '../common/notify';
import { FloraCancelledError, FloraError, UploadError } from '../core/errors';
import type { PublicRunRecord, RunBatch, RunRecord } from '../core/runs';
import type { TechniqueDetails, TechniqueInput } from '../core/schemas';
import { describeError, ExtensionError, l10nText } from '../services/userText';
import { Uploads } from '../services/uploads';
import { activeEditorFile, isExistingFile, localFileLabel, mediaTypeOf, type MediaType } from '../ui/localFiles';
import { isCancellation } from './register';
import type { ReviewResult } from '../ui/multiStepInput';
import { createWithKeyRecovery, ensureKey, loadTechnique, promptForInputs, uploadDetail, type RunCommandContext } from './runTechnique';
import { inputLine, showConfirmation } from '../ui/runConfirmation';

/** Failures that concern one file only: the batch goes on without it. Any other stops the batch. */
const FILE_FAILURES = new Set(['notFound', 'unsupportedType', 'tooLarge', 'unreadable']);

/** How one file's run ended in the batch. */
type Outcome =
  { kind: 'started'; record: RunRecord; error?: unknown } | { kind: 'failed'; file: string; error: unknown } | { kind: 'cancelled' };

/**
 * The files the command was given: the Explorer passes (clicked, selected[]); a script a URI, a URI string,
 * a path (workspace-relative or absolute) or a list of them; the palette nothing (the active editor's file).
 */
export function filesOf(first: unknown, second: unknown): vscode.Uri[] | undefined {
  const one = (value: unknown): vscode.Uri | undefined => {
    if (value instanceof vscode.Uri) return value;
    if (typeof value === 'string' && value.trim().length > 0) {
      return /^file:/i.test(value.trim()) ? Uploads.toUri(value) : Uploads.toUri(value.trim());
    }
    return undefined;
  };
  const list = (value: unknown): vscode.Uri[] | undefined => {
    if (!Array.isArray(value)) return undefined;
    const uris = value.map(one);
    return uris.every((uri): uri is vscode.Uri => uri !== undefined) ? uris : undefined;
  };
  if (first === undefined) return undefined;
  // The Explorer's selection includes the clicked file; it is used when the click was part of it.
  const selection = list(second);
  const clicked = one(first);
  if (selection && selection.length > 0 && (!clicked || selection.some((uri) => uri.toString() === clicked.toString()))) return selection;
  const given = list(first) ?? (clicked ? [clicked] : undefined);
  if (!given) throw new ExtensionError(l10nText('Run FLORA Technique with This File takes a file URI, a path, or a list of them.'));
  return given;
}

export async function runTechniqueWithFile(
  context: RunCommandContext,
  first?: unknown,
  second?: unknown,
): Promise<PublicRunRecord[] | undefined> {
  const given = filesOf(first, second) ?? (await filesFromEditorOrDialog());
  if (!given || given.length === 0) return undefined;
  const files = await usableFiles(given);
  const [firstFile] = files;
  if (!firstFile) return undefined;
  const type = mediaTypeOf(firstFile) as MediaType;
  if (!(await ensureKey(context))) return undefined;
  const picked = await pickTechniqueFor(context, type, files.length);
  if (!picked) return undefined;
  const { slug, technique } = picked;
  const input = await pickInput(technique, type);
  if (!input) return undefined;
  // The confirmation is the step after the other inputs' (Back returns to them), when the settings ask for one.
  const review = context.settings.current.confirmBeforeRun
    ? (all: Readonly<Record<string, string>>, canGoBack: boolean) => confirmBatch(context, technique, input, all, files, canGoBack)
    : undefined;
  const values = await promptForInputs(context, technique, { fixed: { [input.id]: firstFile.toString() }, files, slug, review });
  if (!values) return undefined;
  if (files.length === 1) {
    const record = await context.controller.prepareRun(slug, values);
    return [context.runs.publicRecord(await createWithKeyRecovery(context, record))];
  }
  return runBatch(context, slug, technique, input, values, files);
}

/** From the palette: the active editor's image or video; else an open dialog for several. */
async function filesFromEditorOrDialog(): Promise<vscode.Uri[] | undefined> {
  const open = activeEditorFile('imageUrl') ?? activeEditorFile('videoUrl');
  if (open) return [open];
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: false,
    canSelectMany: true,
    filters: { [vscode.l10n.t('Images and videos')]: ['png', 'jpg', 'jpeg', 'gif', 'webp', 'mp4', 'mov', 'm4v', 'webm'] },
    title: vscode.l10n.t('Run FLORA Technique with These Files'),
    openLabel: vscode.l10n.t('Use These Files'),
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked;
}

/**
 * The files that can be inputs, all of one type (the first file's): existing images or videos. The others
 * are named in a warning and left out; none left is an error.
 */
async function usableFiles(given: readonly vscode.Uri[]): Promise<vscode.Uri[]> {
  const unique = [...new Map(given.map((uri) => [uri.toString(), uri])).values()];
  const type = unique.map(mediaTypeOf).find((found) => found !== undefined);
  const usable: vscode.Uri[] = [];
  const left: string[] = [];
  for (const uri of unique) {
    if (type !== undefined && mediaTypeOf(uri) === type && (await isExistingFile(uri))) usable.push(uri);
    else left.push(localFileLabel(uri).where);
  }
  if (usable.length === 0) {
    throw new ExtensionError(l10nText('None of these is an image or video file that exists: {0}', left.join(', ')));
  }
  if (left.length > 0) {
    void notifyWarning(
      type === 'videoUrl'
        ? vscode.l10n.t('Left out (not an existing video file): {0}', left.join(', '))
        : vscode.l10n.t('Left out (not an existing image file): {0}', left.join(', ')),
    );
  }
  return usable;
}

interface Candidate {
  slug: string;
  technique: TechniqueDetails;
}

interface TechniqueItem extends vscode.QuickPickItem {
  candidate: Candidate;
}

/** The techniques with an input of the files' type (their details fetched, cached after the first time). */
async function pickTechniqueFor(context: RunCommandContext, type: MediaType, count: number): Promise<Candidate | undefined> {
  const catalog = context.catalog;
  const entries = catalog.all();
  const details = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: vscode.l10n.t('Finding the techniques that take this file…'),
      cancellable: true,
    },
    async (_progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      // A technique FLORA cannot describe now is left out of the list, not a reason to fail the command.
      const loaded = await Promise.all(
        entries.map(async (entry): Promise<Candidate | undefined> => {
          const technique =
            catalog.cached(entry.slug) ?? (await catalog.get(entry.slug, { signal: controller.signal }).catch(() => undefined));
          return technique && { slug: entry.slug, technique };
        }),
      );
      if (token.isCancellationRequested) throw new FloraCancelledError();
      return loaded;
    },
  );
  const matching = details.filter(
    (candidate): candidate is Candidate => candidate?.technique.inputs.some((input) => input.type === type) === true,
  );
  if (matching.length === 0) {
    // Every technique failing to load is most likely the key or the connection: the first one says which.
    const slug = entries[0]?.slug;
    if (details.every((candidate) => candidate === undefined) && slug) await loadTechnique(context, slug);
    throw new ExtensionError(
      type === 'videoUrl' ? l10nText('No technique takes a video input.') : l10nText('No technique takes an image input.'),
    );
  }
  const recent = catalog.recent();
  const rank = (candidate: Candidate) => {
    const index = recent.indexOf(candidate.slug);
    return index === -1 ? recent.length : index;
  };
  const items: TechniqueItem[] = [...matching]
    .sort((a, b) => rank(a) - rank(b))
    .map((candidate) => ({
      candidate,
      label: labelText(candidate.technique.name),
      description: labelText(candidate.slug),
      detail:
        count > 1
          ? vscode.l10n.t(
              '{0} credits per file · {1} credits for {2} files',
              candidate.technique.runCost,
              candidate.technique.runCost * count,
              count,
            )
          : vscode.l10n.t('{0} credits', candidate.technique.runCost),
    }));
  const picked = await vscode.window.showQuickPick(items, {
    title: count > 1 ? vscode.l10n.t('FLORA: Run Technique with {0} Files', count) : vscode.l10n.t('FLORA: Run Technique with This File'),
    placeHolder: vscode.l10n.t('Pick a technique to run'),
    matchOnDescription: true,
  });
  return picked?.candidate;
}

interface InputItem extends vscode.QuickPickItem {
  input: TechniqueInput;
}

/** Which of the technique's inputs of that type the file fills (asked only when there are several). */
async function pickInput(technique: TechniqueDetails, type: MediaType): Promise<TechniqueInput | undefined> {
  const candidates = technique.inputs.filter((input) => input.type === type);
  if (candidates.length <= 1) return candidates[0];
  const picked = await vscode.window.showQuickPick<InputItem>(
    candidates.map((input) => ({ input, label: labelText(input.name ?? input.id), description: labelText(input.id) })),
    {
      title: vscode.l10n.t('{0}: which input is the file?', labelText(technique.name)),
      placeHolder: vscode.l10n.t('The other inputs are asked next'),
      ignoreFocusOut: true,
    },
  );
  return picked?.input;
}

/**
 * The total cost, confirmed once for the whole batch: the Run item names the files (what the batch runs
 * over) and where they are uploaded; each other input has its own line, which leads to its step.
 */
function confirmBatch(
  context: RunCommandContext,
  technique: TechniqueDetails,
  fileInput: TechniqueInput,
  values: Readonly<Record<string, string>>,
  files: readonly vscode.Uri[],
  canGoBack: boolean,
): Promise<ReviewResult> {
  const names = files.map((uri) => localFileLabel(uri).where);
  const shown = names.length > 3 ? vscode.l10n.t('{0} and {1} more', names.slice(0, 3).join(', '), names.length - 3) : names.join(', ');
  const total = technique.runCost * files.length;
  return showConfirmation(
    {
      title: vscode.l10n.t('{0}: confirm the run', labelText(technique.name)),
      placeholder:
        files.length > 1
          ? vscode.l10n.t('{0} runs, one per file, cost {1} credits in all', files.length, total)
          : vscode.l10n.t('This run costs {0} credits', total),
      run: {
        label:
          files.length > 1
            ? vscode.l10n.t('$(play) Run {0} times for {1} credits', files.length, total)
            : vscode.l10n.t('$(play) Run for {0} credits', total),
        description: uploadDetail(context.uploads),
        detail: vscode.l10n.t({
          message: '{0}: {1}',
          args: [labelText(fileInput.name ?? fileInput.id), labelText(shown)],
          comment: 'input name: files',
        }),
      },
      lines: technique.inputs
        .filter((input) => input.id !== fileInput.id)
        .map((input) => ({ label: inputLine(input, values[input.id] ?? ''), edit: input.id })),
    },
    canGoBack,
  );
}

/**
 * One run per file. Files go alone until one run has been prepared (consent asked, key accepted), then at
 * most `batchConcurrency` at once. Returns the runs that were started; the summary follows when they end.
 */
async function runBatch(
  context: RunCommandContext,
  slug: string,
  technique: TechniqueDetails,
  fileInput: TechniqueInput,
  values: Readonly<Record<string, string>>,
  files: readonly vscode.Uri[],
): Promise<PublicRunRecord[]> {
  const batchId = randomUUID();
  // The first upload to a target is agreed to for the whole batch at once, naming every file that will go.
  const target = context.uploads.target();
  if (target && files.length > 1)
    await context.uploads.ensureConsent(
      files.map((file) => Uploads.displayPath(file)),
      target,
    );
  const outcomes: Outcome[] = new Array<Outcome>(files.length);
  const log = context.log;
  const runOne = async (index: number, signal: AbortSignal, recoverKey: boolean): Promise<Outcome> => {
    const file = files[index];
    if (!file || signal.aborted) return { kind: 'cancelled' };
    const batch: RunBatch = { id: batchId, index, size: files.length };
    try {
      const record = await context.controller.prepareRun(slug, { ...values, [fileInput.id]: file.toString() }, { signal, batch });
      try {
        const created = recoverKey ? await createWithKeyRecovery(context, record) : await context.controller.create(record.localId, signal);
        return { kind: 'started', record: created };
      } catch (error) {
        // The run is recorded: the Runs view shows how it ended (or that it is retried).
        if (!isCancellation(error))
          log?.warn(`Batch ${batchId}: creating the run of ${localFileLabel(file).where} failed: ${describeError(error)}`);
        return { kind: 'started', record: context.runs.get(record.localId) ?? record, error };
      }
    } catch (error) {
      if (isCancellation(error) && signal.aborted) return { kind: 'cancelled' };
      log?.warn(`Batch ${batchId}: ${localFileLabel(file).where} was not run: ${describeError(error)}`);
      return { kind: 'failed', file: localFileLabel(file).where, error };
    }
  };
  const concurrency = Math.max(1, context.settings.current.batchConcurrency);
  await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: vscode.l10n.t('Starting {0} × {1}', labelText(technique.name), files.length),
      cancellable: true,
    },
    async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      let done = 0;
      const settle = (index: number, outcome: Outcome) => {
        outcomes[index] = outcome;
        done++;
        progress.report({ message: vscode.l10n.t('{0} of {1}', done, files.length), increment: 100 / files.length });
      };
      let next = 0;
      // Alone until one run is prepared: the consent prompt and a refused key are met once.
      while (next < files.length) {
        const index = next++;
        const outcome = await runOne(index, controller.signal, true);
        settle(index, outcome);
        // FLORA refusing the first run (no credits, a refused input) would refuse every one: stop and say why.
        if (outcome.kind === 'started' && outcome.error !== undefined && !isRetryable(outcome.error)) throw asError(outcome.error);
        if (outcome.kind === 'started') break;
        if (outcome.kind === 'cancelled') throw new FloraCancelledError();
        // A problem with the target, the key or the other inputs would fail every file: stop and say why.
        if (!(outcome.error instanceof UploadError && FILE_FAILURES.has(outcome.error.reason))) throw asError(outcome.error);
      }
      const worker = async () => {
        while (next < files.length) {
          const index = next++;
          settle(index, await runOne(index, controller.signal, false));
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, files.length - next) }, worker));
    },
  );
  const started = outcomes.filter((outcome): outcome is Extract<Outcome, { kind: 'started' }> => outcome?.kind === 'started');
  void summarize(
    context,
    technique,
    files.length,
    started.map((outcome) => outcome.record),
    outcomes,
  );
  return started.map((outcome) => context.runs.publicRecord(context.runs.get(outcome.record.localId) ?? outcome.record));
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function isRetryable(error: unknown): boolean {
  return isCancellation(error) || (error instanceof FloraError && error.retryable);
}

/** Once every run of the batch has ended: how many completed and failed, with Show Runs. */
async function summarize(
  context: RunCommandContext,
  technique: TechniqueDetails,
  size: number,
  started: readonly RunRecord[],
  outcomes: readonly Outcome[],
): Promise<void> {
  const ended = await Promise.all(started.map((record) => context.controller.waitForRun(record.localId).catch(() => undefined)));
  const completed = ended.filter((record) => record?.status === 'completed').length;
  const notStarted = outcomes.filter((outcome) => outcome?.kind === 'failed');
  const cancelled = outcomes.filter((outcome) => outcome === undefined || outcome.kind === 'cancelled').length;
  const failed = size - completed - cancelled;
  const name = technique.name;
  const showRuns = vscode.l10n.t('Show Runs');
  const showLog = vscode.l10n.t('Show Log');
  let choice: string | undefined;
  if (failed === 0 && cancelled === 0) {
    choice = await notifyInformation(vscode.l10n.t('FLORA: {0} × {1} — {2} completed.', name, size, completed), showRuns);
  } else {
    const firstFailure = notStarted[0];
    const counts =
      cancelled > 0
        ? vscode.l10n.t('FLORA: {0} × {1} — {2} completed, {3} failed, {4} cancelled.', name, size, completed, failed, cancelled)
        : vscode.l10n.t('FLORA: {0} × {1} — {2} completed, {3} failed.', name, size, completed, failed);
    // The first file that was not run, and why (a failed upload sent nothing to FLORA and cost nothing).
    const reason =
      firstFailure?.kind === 'failed'
        ? vscode.l10n.t('{0} was not run: {1}', firstFailure.file, describeError(firstFailure.error))
        : undefined;
    choice = await (completed === 0 ? notifyError : notifyWarning)(reason ? `${counts} ${reason}` : counts, showRuns, showLog);
  }
  if (choice === showRuns) await vscode.commands.executeCommand(CommandId.showRuns);
  if (choice === showLog) await vscode.commands.executeCommand(CommandId.showLog);
}
