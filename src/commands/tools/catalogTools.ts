// The read-only tools: list the techniques, describe one, read a run. They spend nothing, so they ask
// nothing; what they return is the catalogue's and the run history's, as data.
import * as vscode from 'vscode';
import type { TechniqueDetails } from '../../core/schemas';
import type { TechniqueCatalog } from '../../services/techniqueCatalog';
import type { RunsStore } from '../../services/runsStore';
import { failureResult, toolResult } from './toolResults';
import { outputsOf } from './runResult';

export interface ListInput {
  filter?: string;
}
export interface DescribeInput {
  slug: string;
}
export interface GetRunInput {
  runId: string;
}

export function listTechniquesTool(catalog: TechniqueCatalog): vscode.LanguageModelTool<ListInput> {
  return {
    invoke: (options) => {
      const filter = typeof options.input?.filter === 'string' ? options.input.filter.trim().toLowerCase() : '';
      const techniques = catalog
        .all()
        .filter((entry) => !filter || [entry.slug, entry.name, entry.description ?? ''].some((text) => text.toLowerCase().includes(filter)))
        .map((entry) => {
          const cost = catalog.cached(entry.slug)?.runCost;
          return {
            slug: entry.slug,
            name: entry.name,
            description: entry.description,
            ...(cost === undefined ? {} : { costInCredits: cost }),
          };
        });
      return toolResult(
        techniques.length > 0
          ? `${techniques.length} FLORA techniques. Call flora_describe_technique with a slug for its inputs and cost.`
          : 'No FLORA technique matches the filter. Call again without a filter to see them all.',
        { techniques },
      );
    },
  };
}

export function describeTechniqueTool(catalog: TechniqueCatalog): vscode.LanguageModelTool<DescribeInput> {
  return {
    invoke: async (options, token) => {
      const slug = typeof options.input?.slug === 'string' ? options.input.slug.trim() : '';
      if (!slug) return toolResult('Give the technique\'s slug, e.g. "studio-shot" (flora_list_techniques lists them).');
      try {
        return toolResult(
          'The technique, its inputs (pass each by id to flora_run_technique), outputs and cost.',
          describe(slug, await catalog.get(slug, { signal: abortOn(token) })),
        );
      } catch (error) {
        return failureResult(error, slug);
      }
    },
  };
}

export function getRunTool(runs: RunsStore): vscode.LanguageModelTool<GetRunInput> {
  return {
    invoke: (options) => {
      const runId = typeof options.input?.runId === 'string' ? options.input.runId.trim() : '';
      const record = runId ? (runs.findByRunId(runId) ?? runs.get(runId)) : undefined;
      if (!record) return toolResult('There is no run with this id in the history.', { runId });
      return toolResult('The run, as last known.', {
        ...runs.publicRecord(record),
        technique: record.techniqueName,
        outputs: outputsOf(record),
      });
    },
  };
}

function describe(slug: string, details: TechniqueDetails): unknown {
  return {
    slug,
    name: details.name,
    description: details.description,
    costInCredits: details.runCost,
    inputs: details.inputs.map((input) => ({ id: input.id, name: input.name, type: input.type })),
    outputs: (details.outputs ?? []).map((output) => ({ id: output.id, name: output.name, type: output.type })),
  };
}

/** An AbortSignal that follows a cancellation token (the tool stops waiting; nothing paid is undone). */
export function abortOn(token: vscode.CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}
