// Commands of the Techniques view: add/remove a slug, refresh, filter, open in FLORA, copy the slug.
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import { notifyInformation } from '../common/notify';
import { techniquePageUrl } from '../common/links';
import { ViewId } from '../common/viewIds';
import { findDocumentedTechnique } from '../core/catalog';
import { FloraInputError } from '../core/errors';
import { parseTechniqueReference } from '../core/techniqueReference';
import { localize } from '../services/userText';
import type { TechniqueCatalog } from '../services/techniqueCatalog';
import { techniqueSlugOf } from '../views/techniquesTree';

export interface TechniqueCommandContext {
  catalog: TechniqueCatalog;
}

/** Takes a slug or a pasted technique URL (a string argument skips the prompt). Returns the slug added. */
export async function addTechnique(context: TechniqueCommandContext, argument?: unknown): Promise<string | undefined> {
  let text = typeof argument === 'string' ? argument : undefined;
  if (text === undefined) {
    text = await vscode.window.showInputBox({
      title: vscode.l10n.t('FLORA: Add Technique'),
      prompt: vscode.l10n.t('A technique slug, or its URL from FLORA (e.g. https://app.flora.ai/techniques/portrait-enhancer)'),
      // eslint-disable-next-line no-restricted-syntax -- an example value, not words to translate
      placeHolder: 'portrait-enhancer',
      ignoreFocusOut: true,
      validateInput: (value) => {
        const parsed = parseTechniqueReference(value);
        return 'problem' in parsed && value.length > 0 ? localize(parsed.problem) : undefined;
      },
    });
    if (text === undefined) return undefined;
  }
  const parsed = parseTechniqueReference(text);
  if ('problem' in parsed) throw new FloraInputError([{ inputId: undefined, text: parsed.problem }]);
  const { slug } = parsed;
  if (findDocumentedTechnique(slug)) {
    void notifyInformation(vscode.l10n.t('"{0}" is already in the list of techniques.', slug));
    return slug;
  }
  await context.catalog.add(slug);
  // Shown where it went, unless a script added it: a script's caller keeps the focus.
  if (typeof argument !== 'string') await vscode.commands.executeCommand(`${ViewId.addedTechniques}.focus`);
  // Fetched now so a wrong slug is reported at once (the view shows its error row), not at its first run.
  context.catalog.get(slug).catch(() => undefined);
  return slug;
}

export async function removeTechnique(context: TechniqueCommandContext, argument?: unknown): Promise<void> {
  const slug = techniqueSlugOf(argument) ?? (await pickAdded(context.catalog));
  if (!slug) return;
  await context.catalog.remove(slug);
}

async function pickAdded(catalog: TechniqueCatalog): Promise<string | undefined> {
  const added = catalog.addedSlugs();
  if (added.length === 0) {
    void notifyInformation(vscode.l10n.t('You have not added any techniques.'));
    return undefined;
  }
  // The list comes from settings, which a settings file may fill with anything: inert labels.
  const picked = await vscode.window.showQuickPick(
    added.map((slug) => ({ label: labelText(slug), slug })),
    { title: vscode.l10n.t('FLORA: Remove Technique') },
  );
  return picked?.slug;
}

export function refreshTechniques(context: TechniqueCommandContext): void {
  // Both technique views listen for the cleared cache and refresh themselves.
  context.catalog.clear();
}

export async function filterTechniques(context: TechniqueCommandContext, argument?: unknown): Promise<void> {
  const text =
    typeof argument === 'string'
      ? argument
      : await vscode.window.showInputBox({
          title: vscode.l10n.t('FLORA: Filter Techniques'),
          prompt: vscode.l10n.t('Show techniques whose name, slug or description contains…'),
          value: context.catalog.filter,
        });
  if (text === undefined) return;
  await context.catalog.setFilter(text);
}

export async function clearTechniqueFilter(context: TechniqueCommandContext): Promise<void> {
  await context.catalog.setFilter('');
}

export async function openTechniqueInFlora(argument?: unknown): Promise<void> {
  const slug = techniqueSlugOf(argument);
  if (!slug) return;
  await vscode.env.openExternal(vscode.Uri.parse(techniquePageUrl(slug)));
}

export async function copyTechniqueSlug(argument?: unknown): Promise<void> {
  const slug = techniqueSlugOf(argument);
  if (!slug) return;
  await vscode.env.clipboard.writeText(slug);
  vscode.window.setStatusBarMessage(vscode.l10n.t('Copied "{0}"', labelText(slug)), 3000);
}
