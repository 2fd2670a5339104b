// flora_run_technique: the one tool that spends. prepareInvocation names the technique, every input and the
// cost, so VS Code asks the person before anything is sent (it has no side effects: it reads the technique's
// details, nothing more). invoke starts the run through the same controller as the palette, so the daily
// budget, the input checks and uploads apply; it waits for the run, and the cancellation token stops the
// wait, never the paid run. Completed outputs are saved into the workspace (unless flora.saveOutputs is
// never), so the model can wire in files rather than URLs that expire.
import * as vscode from 'vscode';
import { tooltipText } from '../../common/inert';
import { FloraCancelledError } from '../../core/errors';
import { truncate } from '../../core/text';
import type { RunRecord } from '../../core/runs';
import type { BudgetGate } from '../../services/budgetGate';
import type { KeyStore } from '../../services/keyStore';
import type { OutputSaver } from '../../services/outputSaver';
import type { RunController } from '../../services/runController';
import type { RunsStore } from '../../services/runsStore';
import type { Settings } from '../../services/settings';
import type { TechniqueCatalog } from '../../services/techniqueCatalog';
import type { Thumbnails } from '../../services/thumbnails';
import { abortOn } from './catalogTools';
import { outputsOf } from './runResult';
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
}

export function runTechniqueTool(context: RunToolContext): vscode.LanguageModelTool<RunInput> {
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
        const label = details?.inputs.find((input) => input.id === id)?.name ?? id;
        body.appendMarkdown('- ');
        body.appendText(
          vscode.l10n.t({
            message: '{0}: {1}',
            args: [tooltipText(label), tooltipText(truncate(value, 200))],
            comment: 'input name: value',
          }),
        );
        body.appendMarkdown('\n');
      }
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
      if (!(await context.keys.has())) {
        return toolResult('No FLORA API key is set. Nothing was run. Ask the person to run the command "FLORA: Set API Key".');
      }
      let record: RunRecord;
      try {
        record = await context.controller.prepareRun(slug, inputs);
        record = await context.controller.create(record.localId);
      } catch (error) {
        return failureResult(error, slug);
      }
      const signal = abortOn(token);
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
  const uri = await context.thumbnails.forUrl(image.url).catch(() => undefined);
  const match = uri ? /^data:(image\/[a-z+.-]+);base64,(.*)$/s.exec(uri) : null;
  if (!match?.[1] || !match[2]) return [];
  // A LanguageModelDataPart: the host that has the class takes it in a result; 1.95's types do not name it.
  return [DataPart.image(Buffer.from(match[2], 'base64'), match[1]) as ResultPart];
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((entry) => typeof entry === 'string')
  );
}
