// FLORA: Filter Runs… and Clear Runs Filter — the Runs view's filter by status, technique and text, as the
// Techniques view's Filter Techniques… is set and cleared. One picker sets one part at a time (the others
// stay), so a filter is built in a step or two and every part is visible in the view's message.
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { FloraUsageError } from '../core/errors';
import type { RunsStore } from '../services/runsStore';
import { l10nText } from '../services/userText';
import { runStanding, type RunStanding } from '../views/runLabels';
import { RUN_STANDINGS, standingLabel, type RunsFilter, type RunsFilterCriteria } from '../views/runsFilter';

export interface RunsFilterCommandContext {
  runs: RunsStore;
  filter: RunsFilter;
}

type FilterItem = vscode.QuickPickItem &
  (
    | { part: 'text' }
    | { part: 'standing'; standing: RunStanding }
    | { part: 'technique'; slug: string }
    | { part: 'clear' }
    | { part: 'none' }
  );

/**
 * Argument: a text (runs containing it, the other parts kept), or criteria `{ technique?: slug, standing?:
 * 'live' | 'completed' | 'failed' | 'stopped', text? }` replacing the filter; from the view or the palette,
 * a picker.
 */
export async function filterRuns(context: RunsFilterCommandContext, argument?: unknown): Promise<void> {
  if (typeof argument === 'string') return context.filter.set({ ...context.filter.criteria, text: argument });
  if (argument !== undefined) return context.filter.set(criteriaOf(argument));
  const choice = await vscode.window.showQuickPick(filterItems(context), {
    title: vscode.l10n.t('FLORA: Filter Runs'),
    placeHolder: vscode.l10n.t('Show only the runs with this status, of this technique, or containing a text'),
    matchOnDescription: true,
  });
  if (!choice) return;
  const current = context.filter.criteria;
  switch (choice.part) {
    case 'text': {
      const text = await vscode.window.showInputBox({
        title: vscode.l10n.t('FLORA: Filter Runs'),
        prompt: vscode.l10n.t("Show runs whose technique, text inputs, files, run ID or saved files' names contain…"),
        value: current.text ?? '',
      });
      if (text === undefined) return;
      return context.filter.set({ ...current, text });
    }
    // Picking the part in use again takes it off.
    case 'standing':
      return context.filter.set({ ...current, standing: current.standing === choice.standing ? undefined : choice.standing });
    case 'technique':
      return context.filter.set({ ...current, technique: current.technique === choice.slug ? undefined : choice.slug });
    case 'clear':
      return context.filter.clear();
    case 'none':
      return;
  }
}

export async function clearRunsFilter(context: RunsFilterCommandContext): Promise<void> {
  await context.filter.clear();
}

// Icons are ours, never part of translated text (a translator could break the $(…) syntax).
const IN_USE_ICON = '$(check)';
const SEARCH_ICON = '$(search)';
const CLEAR_ICON = '$(clear-all)';

function filterItems(context: RunsFilterCommandContext): FilterItem[] {
  const current = context.filter.criteria;
  const records = context.runs.all();
  // Our icon marks the part in use; the names are FLORA's, made inert.
  const inUse = (yes: boolean, label: string) => (yes ? `${IN_USE_ICON} ${label}` : label);
  const count = (runs: number) => (runs === 1 ? vscode.l10n.t('1 run') : vscode.l10n.t('{0} runs', runs));
  const items: FilterItem[] = [
    {
      part: 'text',
      label: inUse(current.text !== undefined, `${SEARCH_ICON} ${vscode.l10n.t('Containing Text…')}`),
      description:
        current.text !== undefined ? labelText(current.text) : vscode.l10n.t('technique, text inputs, files, run ID, saved files'),
    },
    { part: 'none', label: vscode.l10n.t('Status'), kind: vscode.QuickPickItemKind.Separator },
  ];
  for (const standing of RUN_STANDINGS) {
    items.push({
      part: 'standing',
      standing,
      label: inUse(current.standing === standing, standingLabel(standing)),
      description: count(records.filter((record) => runStanding(record) === standing).length),
    });
  }
  const techniques = new Map<string, { name: string; runs: number }>();
  for (const record of records) {
    const known = techniques.get(record.slug);
    if (known) known.runs++;
    else techniques.set(record.slug, { name: record.techniqueName, runs: 1 });
  }
  if (techniques.size > 0) items.push({ part: 'none', label: vscode.l10n.t('Technique'), kind: vscode.QuickPickItemKind.Separator });
  const byName = [...techniques.entries()].sort(([, a], [, b]) => a.name.localeCompare(b.name));
  for (const [slug, technique] of byName) {
    items.push({
      part: 'technique',
      slug,
      label: inUse(current.technique === slug, labelText(technique.name)),
      description: count(technique.runs),
    });
  }
  if (context.filter.active) {
    items.push({ part: 'none', label: '', kind: vscode.QuickPickItemKind.Separator });
    items.push({ part: 'clear', label: `${CLEAR_ICON} ${vscode.l10n.t('Clear Filter')}` });
  }
  return items;
}

/** The criteria a script passed, checked: a wrong part is a mistake to report, not a filter that hides everything. */
function criteriaOf(argument: unknown): RunsFilterCriteria {
  const usage = () =>
    new FloraUsageError(
      l10nText('Filter Runs takes a text, or { technique, standing, text } with standing one of live, completed, failed, stopped.'),
    );
  if (typeof argument !== 'object' || argument === null) throw usage();
  const { technique, standing, text } = argument as Record<string, unknown>;
  if (technique !== undefined && typeof technique !== 'string') throw usage();
  if (text !== undefined && typeof text !== 'string') throw usage();
  if (standing !== undefined && !RUN_STANDINGS.includes(standing as RunStanding)) throw usage();
  return { technique, standing: standing as RunStanding | undefined, text };
}
