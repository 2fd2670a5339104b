// The technique picker of FLORA: Run Technique…: recently used techniques first, then the documented ones
// and those the user added, each with its slug and description, and its cost when FLORA has told it (the
// details already fetched, e.g. for the Techniques view). FLORA's list of techniques carries no costs and
// opening a picker is no reason to ask for 38 techniques' details, so an unknown cost is left out, never
// guessed (the confirmation before a run names it, unless flora.confirmBeforeRun is off).
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import type { TechniqueCatalog } from '../services/techniqueCatalog';

interface TechniquePickItem extends vscode.QuickPickItem {
  slug: string;
}

/** The slug of the technique picked, or undefined when the user pressed Escape. */
export async function pickTechnique(catalog: TechniqueCatalog): Promise<string | undefined> {
  const recent = catalog.recent();
  const bySlug = new Map<string, TechniquePickItem>();
  // Names and descriptions of added techniques come from FLORA (and slugs from settings): labels, made inert.
  for (const entry of catalog.all()) {
    const runCost = catalog.cached(entry.slug)?.runCost;
    bySlug.set(entry.slug, {
      slug: entry.slug,
      label: labelText(entry.name),
      description:
        runCost === undefined
          ? labelText(entry.slug)
          : vscode.l10n.t({
              message: '{0} · {1}',
              // The Techniques view's words for the cost, so both say it alike.
              args: [labelText(entry.slug), vscode.l10n.t('Cost: {0} credits per run', runCost)],
              comment: 'technique slug · its cost, e.g. "studio-shot · Cost: 5 credits per run"',
            }),
      detail: labelText(entry.description ?? vscode.l10n.t('Added by you')),
    });
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
