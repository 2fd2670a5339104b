// flora_run_technique: the one tool that spends. prepareInvocation names the technique, every input and the
// cost, so VS Code asks the person before anything is sent (it has no side effects: it reads the technique's
// details, nothing more). invoke starts the run through the same controller as the palette, so the daily
// budget, the input checks and uploads apply; it waits for the run, and the cancellation token stops the
// wait, never the paid run. Completed outputs are saved into the workspace (unless flora.saveOutputs is
// never), so the model can wire in files rather than URLs that expire.
import * as vscode from 'vscode';
import { tooltipText } from '../../common/inert';
import { FloraCancelledError, FloraError } from '../../core/errors';
import { isMessage } from '../../core/messages';
import { hiddenCharacterCount, oneLine, truncate, withoutHiddenCharacters } from '../../core/text';
import type { RunRecord } from '../../core/runs';
import type { BudgetGate } from '../../services/budgetGate';
import type { KeyStore } from '../../services/keyStore';
import type { OutputSaver } from '../../services/outputSaver';
import type { RunController } from '../../services/runController';
import type { RunsStore } from '../../services/runsStore';
import type { Settings } from '../../services/settings';
import type { TechniqueCatalog } from '../../services/techniqueCatalog';
import type { Thumbnails } from '../../services/thumbnails';
import { Uploads } from '../../services/uploads';
import { thumbnailBytes } from '../../views/previewInputs';
import { abortOn } from './catalogTools';
import { outputsOf } from './runResult';
import { invocationKey, toolFileProblem } from './toolInputs';
import { failureResult, toolResult, type ResultPart } from './toolResults';

export interface RunInput {
  slug: string;
  inputs: Record<string, string>;
}

export interface RunToolContext {
  catalog: TechniqueCatalog;
  controller: RunController;
  runs: RunsStore;
  keys: KeyStore;
  settings: Settings;
  saver: OutputSaver;
  thumbnails: Thumbnails;
  budget: Pick<BudgetGate, 'standing'>;
  uploads: Pick<Uploads, 'targetLabel'>;
}

/**
 * After a person declined a run past the budget, the tool refuses without asking again for this long, or
 * until the budget setting changes (the person raised it: the next call asks again).
 */
const DECLINED_QUIET_MS = 10 * 60 * 1000;
/** How much of a value the confirmation shows before saying how long it is. */
const SHOWN_VALUE_LENGTH = 200;

export function runTechniqueTool(context: RunToolContext): vscode.LanguageModelTool<RunInput> {
  // The cost each confirmation showed, by its exact inputs: invoke never spends more than the person saw.
  const shownCosts = new Map<string, number | undefined>();
  let declined: { at: number; limit: number | undefined } | undefined;
  return {
    prepareInvocation: async (options, token) => {
      const slug = String(options.input?.slug ?? '').trim();
      const inputs = isStringRecord(options.input?.inputs) ? options.input.inputs : {};
      // Always a confirmation, even when the cost cannot be read now: invoke must never spend unasked.
      const details = await context.catalog.get(slug, { signal: abortOn(token) }).catch(() => undefined);
      const name = details?.name ?? slug;
      const body = new vscode.MarkdownString(undefined, false);
      body.appendText(
        details
          ? vscode.l10n.t(
              'Runs the FLORA technique {0} for {1} credits, charged to your FLORA account.',
              tooltipText(name),
              details.runCost,
            )
          : vscode.l10n.t('Runs the FLORA technique {0}. Its cost could not be read just now.', tooltipText(name)),
      );
      body.appendMarkdown('\n\n');
      for (const [id, value] of Object.entries(inputs)) {
        const label = oneLine(details?.inputs.find((input) => input.id === id)?.name ?? id);
        body.appendMarkdown('- ');
        body.appendText(
          vscode.l10n.t({
            message: '{0}: {1}',
            args: [tooltipText(label), tooltipText(shownValue(value, context.uploads))],
            comment: 'input name: value',
          }),
        );
        body.appendMarkdown('\n');
      }
      shownCosts.set(invocationKey(slug, inputs), details?.runCost);
      const standing = context.budget.standing(details?.runCost ?? 0);
      if (standing.limit !== undefined) {
        body.appendMarkdown('\n');
        body.appendText(
          vscode.l10n.t(
            'Today: {0} of {1} credits charged or pending. A run past the budget asks you again.',
            standing.charged + standing.pending,
            standing.limit,
          ),
        );
      }
      return {
        invocationMessage: vscode.l10n.t('Running {0} on FLORA…', tooltipText(name)),
        confirmationMessages: {
          title: details
            ? vscode.l10n.t('Run {0} for {1} credits?', tooltipText(name), details.runCost)
            : vscode.l10n.t('Run {0}?', tooltipText(name)),
          message: body,
        },
      };
    },
    invoke: async (options, token) => {
      const slug = String(options.input?.slug ?? '').trim();
      const inputs = options.input?.inputs;
      if (!slug) return toolResult('Give the technique\'s slug, e.g. "studio-shot" (flora_list_techniques lists them).');
      if (!isStringRecord(inputs)) {
        return toolResult(
          'Give "inputs" as an object of input id to a string value (a URL, text, or a workspace file path). flora_describe_technique lists the ids.',
        );
      }
      const key = invocationKey(slug, inputs);
      const shownCost = shownCosts.get(key);
      shownCosts.delete(key);
      if (shownCost === undefined) {
        // Say why when FLORA can say it now (an unknown slug, a refused key); else the person saw no cost.
        const problem = await context.catalog.get(slug, { signal: abortOn(token) }).then(
          () => undefined,
          (error: unknown) => failureResult(error, slug),
        );
        if (problem) return problem;
        return toolResult(
          'Nothing was sent: the cost of this run was not shown to the person (FLORA could not be asked just then). Call the tool again.',
        );
      }
      const limit = context.settings.current.creditsPerDay;
      if (declined && declined.limit === limit && Date.now() - declined.at < DECLINED_QUIET_MS) {
        return toolResult(
          "Nothing was sent: the person declined a run past today's FLORA budget a few minutes ago. Do not call flora_run_technique again; tell the person, who can raise flora.budget.creditsPerDay.",
        );
      }
      for (const [inputId, value] of Object.entries(inputs)) {
        const problem = await toolFileProblem(value);
        if (problem)
          return toolResult('Nothing was sent: an input names a file the tool may not use.', { problems: [{ inputId, problem }] });
      }
      if (!(await context.keys.has())) {
        return toolResult('No FLORA API key is set. Nothing was run. Ask the person to run the command "FLORA: Set API Key".');
      }
      // Cancelled before the run is recorded (the details, an upload, the budget's question), nothing is sent.
      const signal = abortOn(token);
      let record: RunRecord;
      try {
        record = await context.controller.prepareRun(slug, inputs, { signal, maxCost: shownCost, workspaceFilesOnly: true });
      } catch (error) {
        if (error instanceof FloraCancelledError && isMessage(error.text) && error.text.id === 'budgetDeclined')
          declined = { at: Date.now(), limit };
        return failureResult(error, slug);
      }
      try {
        // Recorded: sent whole, whatever the token says now (a half-sent create would leave the run unknown).
        record = await context.controller.create(record.localId);
      } catch (error) {
        const current = context.runs.get(record.localId) ?? record;
        // Not refused, only not through yet: the extension re-sends it with the same idempotency key. Saying
        // "failed" here would have the model start a second, charged run.
        if (error instanceof FloraCancelledError || (error instanceof FloraError && error.retryable)) {
          return toolResult(
            'The run is recorded, but FLORA has not confirmed it yet; the extension keeps sending it with the same idempotency key, so it is created at most once. Do not call flora_run_technique again for it: tell the person it is in the Runs view, and call flora_get_run later.',
            context.runs.publicRecord(current),
          );
        }
        return failureResult(error, slug);
      }
      try {
        record = await context.controller.waitForRun(record.localId, signal);
      } catch (error) {
        if (!(error instanceof FloraCancelledError)) return failureResult(error, slug);
        return toolResult(
          'Stopped waiting; the run goes on at FLORA and may still be charged. Call flora_get_run with its runId later.',
          context.runs.publicRecord(record),
        );
      }
      return finished(context, record);
    },
  };
}

/** The finished run: saved into the workspace first (unless the user said never), then reported. */
async function finished(context: RunToolContext, given: RunRecord): Promise<vscode.LanguageModelToolResult> {
  let record = given;
  if (
    record.status === 'completed' &&
    (record.outputs?.length ?? 0) > 0 &&
    context.settings.current.saveOutputs !== 'never' &&
    vscode.workspace.isTrusted
  ) {
    const folder = await context.saver.folderFor().catch(() => undefined);
    if (folder) {
      await context.saver.save(record, folder).catch(() => undefined);
      record = context.runs.get(record.localId) ?? record;
    }
  }
  const outputs = outputsOf(record);
  const summary = { ...context.runs.publicRecord(record), technique: record.techniqueName, outputs };
  const lead =
    record.status === 'completed'
      ? 'The run completed. Use savedPath (a file in the workspace) where there is one: the URLs expire.'
      : record.status === 'failed'
        ? 'The run failed at FLORA.'
        : 'The extension stopped following the run; it may still finish at FLORA. Call flora_get_run later.';
  return toolResult(lead, summary, await imagePart(context, outputs));
}

/** The first image output as an image part, where this VS Code accepts image parts (1.106 on). */
async function imagePart(context: RunToolContext, outputs: ReturnType<typeof outputsOf>): Promise<ResultPart[]> {
  const DataPart = (vscode as unknown as { LanguageModelDataPart?: { image(data: Uint8Array, mime: string): unknown } })
    .LanguageModelDataPart;
  const image = outputs.find((output) => output.type === 'imageUrl');
  if (!DataPart || !image) return [];
  // Checked as the preview checks its thumbnails: one of four image types, by the bytes' own signature.
  const thumbnail = thumbnailBytes(await context.thumbnails.forUrl(image.url).catch(() => undefined));
  if (!thumbnail) return [];
  return [DataPart.image(Buffer.from(thumbnail.base64, 'base64'), thumbnail.mediaType) as ResultPart];
}

/** A value as the confirmation shows it: on one line, a local file named as one, a long value cut and measured. */
function shownValue(value: string, uploads: Pick<Uploads, 'targetLabel'>): string {
  if (Uploads.isLocalValue(value)) {
    const uri = Uploads.toUri(value);
    const target = uploads.targetLabel();
    const file = uri ? Uploads.displayPath(uri) : oneLine(value);
    return target
      ? vscode.l10n.t('{0} (a file on this machine, uploaded to {1})', file, target)
      : vscode.l10n.t('{0} (a file on this machine)', file);
  }
  const line = oneLine(withoutHiddenCharacters(value));
  const shown =
    line.length > SHOWN_VALUE_LENGTH ? vscode.l10n.t('{0} ({1} characters)', truncate(line, SHOWN_VALUE_LENGTH), [...value].length) : line;
  // What the person approves must be what FLORA reads: text hidden in a value (instructions in tag
  // characters a model reads and a person does not) is named, since it is sent as it is.
  const hidden = hiddenCharacterCount(value);
  if (hidden === 0) return shown;
  return hidden === 1
    ? vscode.l10n.t('{0} (and 1 invisible character, sent as it is)', shown)
    : vscode.l10n.t('{0} (and {1} invisible characters, sent as they are)', shown, hidden);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((entry) => typeof entry === 'string')
  );
}
