// The technique picker of FLORA: Run Technique…: recently used techniques first, then the documented ones
// and those the user added, each with its slug and description.
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
    bySlug.set(entry.slug, {
      slug: entry.slug,
      label: labelText(entry.name),
      description: labelText(entry.slug),
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
