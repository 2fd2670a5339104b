// The technique views: Techniques (FLORA's documented techniques, filterable) and Your Techniques (the
// slugs the user added, e.g. a team's private techniques; empty until one is added, when the view shows its
// welcome). Expanding a technique fetches its details once (cached by the service) and shows its inputs,
// outputs and cost.
import * as vscode from 'vscode';
import { CommandId, ContextKey } from '../common/commandIds';
import { labelText, tooltipText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import { DOCUMENTED_TECHNIQUES } from '../core/catalog';
import { FloraApiError, isAuthError } from '../core/errors';
import { describeType } from '../core/inputs';
import type { FloraService } from '../services/floraService';
import type { KeyStore } from '../services/keyStore';
import { describeError, localize } from '../services/messages';
import { onDidChangeSettings, readSettings } from '../services/settings';

export interface TechniqueNode {
  kind: 'technique';
  slug: string;
  name: string;
  description: string;
  added: boolean;
}
interface DetailNode {
  kind: 'detail';
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  children?: DetailNode[];
  command?: vscode.Command;
}
export type TechniquesTreeNode = TechniqueNode | DetailNode;

export function isTechniqueNode(value: unknown): value is TechniqueNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as TechniqueNode).kind === 'technique' &&
    typeof (value as TechniqueNode).slug === 'string'
  );
}

/** The slug a command was given: a technique's tree node, or the slug itself from a script. */
export function techniqueSlugOf(argument: unknown): string | undefined {
  if (isTechniqueNode(argument)) return argument.slug;
  return typeof argument === 'string' ? argument : undefined;
}

/** Which techniques a view lists: FLORA's documented catalogue, or the ones the user added. */
export type TechniqueScope = 'catalogue' | 'added';

export class TechniquesTree extends Disposable implements vscode.TreeDataProvider<TechniquesTreeNode> {
  private readonly changed = this.register(new vscode.EventEmitter<TechniquesTreeNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private filter = '';
  private addedSlugs: readonly string[] = [];
  private hasKey = false;
  view: vscode.TreeView<TechniquesTreeNode> | undefined;

  constructor(
    private readonly service: FloraService,
    keys: KeyStore,
    readonly scope: TechniqueScope,
  ) {
    super();
    // Without a key the list stays empty, so the view shows its welcome ("Set an API key to start").
    this.register(
      keys.onDidChange((hasKey) => {
        this.hasKey = hasKey;
        this.updateMessage();
        this.refresh();
      }),
    );
    void keys.has().then((hasKey) => {
      this.hasKey = hasKey;
      this.updateMessage();
      this.refresh();
    });
    // Only Your Techniques depends on the settings (the slugs added).
    if (scope === 'added') {
      this.addedSlugs = readSettings().techniques;
      this.register(
        onDidChangeSettings((settings) => {
          this.addedSlugs = settings.techniques;
          void this.updateAddedContext();
          this.refresh();
        }),
      );
      void this.updateAddedContext();
    }
    this.register(
      service.onDidChangeDetails((slug) => {
        // A fetch for one technique re-renders the whole list only when the cache was cleared.
        if (slug === undefined) this.refresh();
      }),
    );
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  private async updateAddedContext(): Promise<void> {
    // What the view lists: a documented slug in the setting is shown in Techniques, not here.
    await vscode.commands.executeCommand('setContext', ContextKey.hasAddedTechniques, this.techniques().length > 0);
  }

  get filterText(): string {
    return this.filter;
  }

  async setFilter(text: string): Promise<void> {
    this.filter = text.trim();
    await vscode.commands.executeCommand('setContext', ContextKey.techniqueFilterActive, this.filter.length > 0);
    this.updateMessage();
    this.refresh();
  }

  private updateMessage(): void {
    if (!this.view) return;
    // Only while something is listed: VS Code hides a view's welcome (no key, no match) behind a message.
    const listed = this.hasKey && this.filter.length > 0 && this.techniques().length > 0;
    this.view.message = listed ? vscode.l10n.t('Showing techniques matching "{0}"', labelText(this.filter)) : undefined;
  }

  /** The view's techniques: the added ones, newest first; or the documented ones, filtered by the filter text. */
  techniques(): TechniqueNode[] {
    if (this.scope === 'added') {
      const documented = new Set(DOCUMENTED_TECHNIQUES.map((technique) => technique.slug));
      return this.addedSlugs
        .filter((slug) => !documented.has(slug))
        .map((slug) => {
          const details = this.service.cachedTechnique(slug);
          return { kind: 'technique', slug, name: details?.name ?? slug, description: details?.description ?? '', added: true };
        });
    }
    const all = DOCUMENTED_TECHNIQUES.map((technique): TechniqueNode => ({ kind: 'technique', ...technique, added: false }));
    const needle = this.filter.toLowerCase();
    if (!needle) return all;
    return all.filter((technique) =>
      [technique.slug, technique.name, technique.description].some((text) => text.toLowerCase().includes(needle)),
    );
  }

  getTreeItem(node: TechniquesTreeNode): vscode.TreeItem {
    if (node.kind === 'technique') {
      // An added technique's name and description are FLORA's, its slug a setting's: inert labels. The
      // tooltip is Markdown, and appendText escapes it.
      const item = new vscode.TreeItem(labelText(node.name), vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `technique:${node.slug}`;
      item.description = labelText(node.slug);
      item.tooltip = new vscode.MarkdownString(undefined, false);
      item.tooltip.appendText(`${tooltipText(node.name)}\n\n${tooltipText(node.description)}\n\n`);
      item.tooltip.appendText(vscode.l10n.t('Slug: {0}', tooltipText(node.slug)));
      item.iconPath = new vscode.ThemeIcon(node.added ? 'star-empty' : 'sparkle');
      item.contextValue = node.added ? 'technique;added;' : 'technique;';
      return item;
    }
    // Detail nodes are made inert where they are built (detailsOf), from FLORA's names, ids and errors.
    const item = new vscode.TreeItem(
      node.label,
      node.children && node.children.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.icon);
    item.contextValue = 'techniqueDetail';
    if (node.command) item.command = node.command;
    return item;
  }

  async getChildren(node?: TechniquesTreeNode): Promise<TechniquesTreeNode[]> {
    if (!node) return this.hasKey ? this.techniques() : [];
    if (node.kind === 'detail') return node.children ?? [];
    return this.detailsOf(node);
  }

  private async detailsOf(node: TechniqueNode): Promise<DetailNode[]> {
    const id = (suffix: string) => `${node.slug}:${suffix}`;
    try {
      const details = await this.service.getTechnique(node.slug);
      const port = (name: string, entry: { id: string; name?: string }, description: string, icon: string): DetailNode => ({
        kind: 'detail',
        id: id(name),
        label: labelText(entry.name ?? entry.id),
        description,
        icon,
      });
      const inputs = details.inputs.map((input, index) =>
        port(
          `input:${index}`,
          input,
          vscode.l10n.t({
            message: '{0} · {1}',
            args: [localize(describeType(input.type)), labelText(input.id)],
            comment: 'what an input takes, e.g. "https:// image link" · the input id',
          }),
          input.type === 'text' ? 'symbol-string' : input.type === 'videoUrl' ? 'device-camera-video' : 'file-media',
        ),
      );
      const outputs = (details.outputs ?? []).map((output, index) =>
        port(
          `output:${index}`,
          output,
          vscode.l10n.t({
            message: '{0} · {1}',
            args: [localize(describeType(output.type)), labelText(output.id)],
            comment: 'what an output is, e.g. "https:// image link" · the output id',
          }),
          output.type === 'videoUrl' ? 'device-camera-video' : output.type === 'imageUrl' ? 'file-media' : 'output',
        ),
      );
      return [
        {
          kind: 'detail',
          id: id('cost'),
          label: vscode.l10n.t('Cost: {0} credits per run', details.runCost),
          icon: 'credit-card',
          command: { command: CommandId.runTechnique, title: vscode.l10n.t('Run'), arguments: [node] },
          tooltip: vscode.l10n.t('Click to run {0}', labelText(details.name)),
        },
        { kind: 'detail', id: id('inputs'), label: vscode.l10n.t('Inputs ({0})', inputs.length), icon: 'arrow-right', children: inputs },
        { kind: 'detail', id: id('outputs'), label: vscode.l10n.t('Outputs ({0})', outputs.length), icon: 'arrow-left', children: outputs },
      ];
    } catch (error) {
      const message = labelText(describeError(error));
      const fix: vscode.Command | undefined = isAuthError(error)
        ? { command: CommandId.setApiKey, title: vscode.l10n.t('Set API Key') }
        : error instanceof FloraApiError && error.code === 'not_found' && node.added
          ? { command: CommandId.removeTechnique, title: vscode.l10n.t('Remove'), arguments: [node] }
          : { command: CommandId.refreshTechniques, title: vscode.l10n.t('Refresh') };
      return [
        {
          kind: 'detail',
          id: id(`error:${Date.now()}`),
          label: message,
          tooltip: `${message}\n\n${vscode.l10n.t('Click: {0}', fix.title)}`,
          icon: 'warning',
          command: fix,
        },
      ];
    }
  }
}
