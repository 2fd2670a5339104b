// The technique views: Techniques (FLORA's documented techniques, filterable) and Your Techniques (the
// slugs the user added, e.g. a team's private techniques; empty until one is added, when the view shows its
// welcome). Both display the technique catalogue: expanding a technique fetches its details once (cached
// there) and shows its inputs, outputs and cost.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { uiArgument } from '../common/invocation';
import { ViewId } from '../common/viewIds';
import { labelText, tooltipText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import { describeType } from '../core/inputs';
import type { KeyStore } from '../services/keyStore';
import { describeError, localize, remedyOf } from '../services/userText';
import type { TechniqueCatalog } from '../services/techniqueCatalog';
import { remedyCommand } from './remedies';
import { WalkthroughStep, type StepReporter } from './walkthrough';

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
  private hasKey = false;
  private messageText: string | undefined;
  private readonly messageChanged = this.register(new vscode.EventEmitter<string | undefined>());
  /** The line the view shows above its items (the filter in use), or undefined for none. */
  readonly onDidChangeMessage = this.messageChanged.event;

  constructor(
    private readonly catalog: TechniqueCatalog,
    keys: KeyStore,
    readonly scope: TechniqueScope,
  ) {
    super();
    // Without a key the list stays empty, so the view shows its welcome ("Set an API key to start").
    this.register(keys.onDidChange((hasKey) => this.setHasKey(hasKey)));
    void keys.has().then((hasKey) => this.setHasKey(hasKey));
    this.register(
      catalog.onDidChange((slug) => {
        // A fetch re-renders the list when it names a technique listed by its slug until then (an added one);
        // otherwise only when the list or the cache changed.
        if (slug !== undefined && !(this.scope === 'added' && this.catalog.isAdded(slug))) return;
        this.updateMessage();
        this.refresh();
      }),
    );
  }

  private setHasKey(hasKey: boolean): void {
    this.hasKey = hasKey;
    this.updateMessage();
    this.refresh();
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  private updateMessage(): void {
    if (this.scope !== 'catalogue') return;
    const filter = this.catalog.filter;
    // Only while something is listed: VS Code hides a view's welcome (no key, no match) behind a message.
    const listed = this.hasKey && filter.length > 0 && this.techniques().length > 0;
    const text = listed ? vscode.l10n.t('Showing techniques matching "{0}"', labelText(filter)) : undefined;
    if (text === this.messageText) return;
    this.messageText = text;
    this.messageChanged.fire(text);
  }

  get message(): string | undefined {
    return this.messageText;
  }

  /** The view's techniques: the added ones, newest first; or the documented ones, filtered by the filter text. */
  techniques(): TechniqueNode[] {
    const entries = this.scope === 'added' ? this.catalog.added() : this.catalog.documented();
    return entries.map((entry) =>
      uiArgument<TechniqueNode>({
        kind: 'technique',
        slug: entry.slug,
        name: entry.name,
        description: entry.description ?? '',
        added: entry.added,
      }),
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
    if (node.kind === 'detail') return (node.children ?? []).map(uiArgument);
    return (await this.detailsOf(node)).map(uiArgument);
  }

  private async detailsOf(node: TechniqueNode): Promise<DetailNode[]> {
    const id = (suffix: string) => `${node.slug}:${suffix}`;
    try {
      const details = await this.catalog.get(node.slug);
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
          // An information row: clicking it starts nothing (running costs credits; the ▷ on the technique runs it).
          tooltip: vscode.l10n.t('What one run of {0} costs, in credits', labelText(details.name)),
        },
        { kind: 'detail', id: id('inputs'), label: vscode.l10n.t('Inputs ({0})', inputs.length), icon: 'arrow-right', children: inputs },
        { kind: 'detail', id: id('outputs'), label: vscode.l10n.t('Outputs ({0})', outputs.length), icon: 'arrow-left', children: outputs },
      ];
    } catch (error) {
      const message = labelText(describeError(error));
      // The error's own remedy when it fixes this row (a key, an added technique FLORA does not know);
      // otherwise fetching again, which is what helps a row whose details did not load.
      const remedy = remedyOf(error);
      const fix: vscode.Command = (remedy.kind === 'setKey' || (remedy.kind === 'removeTechnique' && node.added)
        ? remedyCommand(remedy)
        : undefined) ?? {
        command: CommandId.refreshTechniques,
        title: vscode.l10n.t('Refresh'),
      };
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

/** A technique view: the tree over the catalogue and the view that shows it, with the tree's message. */
export function createTechniquesView(
  catalog: TechniqueCatalog,
  keys: KeyStore,
  scope: TechniqueScope,
  reportStep: StepReporter = () => undefined,
): vscode.Disposable {
  const tree = new TechniquesTree(catalog, keys, scope);
  const view = vscode.window.createTreeView(scope === 'added' ? ViewId.addedTechniques : ViewId.techniques, {
    treeDataProvider: tree,
    showCollapseAll: scope === 'catalogue',
  });
  view.message = tree.message;
  return vscode.Disposable.from(
    tree.onDidChangeMessage((message) => (view.message = message)),
    // Expanded by a click, the keyboard or a reveal: its inputs, outputs and cost are what the step teaches.
    view.onDidExpandElement(({ element }) => element.kind === 'technique' && reportStep(WalkthroughStep.browseTechniques)),
    view,
    tree,
  );
}
