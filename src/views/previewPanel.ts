// The run preview: a locked-down webview showing every output of a run, at the size that fits the panel
// (never larger than the output itself) and zoomable, with the technique's names for its inputs and outputs
// and thumbnails of its image inputs (bytes the extension checked, drawn by the page: the CSP admits no
// source for them). The HTML shell and its CSP are made in previewHtml.ts, the model the page shows in
// previewModel.ts; this file keeps each panel's document, CSP and messages in step.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { uiArgument } from '../common/invocation';
import { PREVIEW_VIEW_TYPE } from '../common/viewIds';
import { labelText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import { checkOutputUrl } from '../core/outputUrl';
import type { RunRecord } from '../core/runs';
import type { FloraConnection } from '../services/floraConnection';
import type { Log } from '../services/log';
import type { RunsStore } from '../services/runsStore';
import type { Settings } from '../services/settings';
import type { TechniqueCatalog } from '../services/techniqueCatalog';
import { previewHtml, previewOrigins } from './previewHtml';
import { inputThumbnail, type InputThumbnail, type InputThumbnailSource } from './previewInputs';
import {
  isImageInput,
  previewModel,
  type ExtensionToPreviewMessage,
  type PreviewModel,
  type PreviewToExtensionMessage,
} from './previewModel';

export {
  previewModel,
  type ExtensionToPreviewMessage,
  type PreviewInput,
  type PreviewLabels,
  type PreviewModel,
  type PreviewOutput,
  type PreviewSources,
  type PreviewToExtensionMessage,
} from './previewModel';

/** What the preview uses besides the runs, when the extension passes it: names and input thumbnails. */
export interface PreviewHelpers {
  /** The technique's details name its inputs and outputs; fetched once when not cached yet. */
  catalog?: Pick<TechniqueCatalog, 'cached' | 'get' | 'onDidChange'>;
  thumbnails?: InputThumbnailSource;
}

interface PreviewState {
  localId: string;
}

interface PanelEntry {
  panel: vscode.WebviewPanel;
  /** The output origins the document's CSP admits: a change needs a new document. */
  origins: string;
  slug: string;
  /** Each image input's thumbnail, by the input's index; undefined when there is none. */
  thumbnails: Map<number, Promise<InputThumbnail | undefined>>;
}

export class PreviewPanels extends Disposable implements vscode.WebviewPanelSerializer<PreviewState> {
  private readonly panels = new Map<string, PanelEntry>();
  /** Techniques whose details were asked for since a preview of theirs was last opened: asked once, not per poll. */
  private readonly askedDetails = new Set<string>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly runs: RunsStore,
    private readonly connection: Pick<FloraConnection, 'extraOrigins'>,
    private readonly log: Log,
    /** flora.saveOutputs decides whether the page offers Save to Workspace; without it, as by default ("ask"). */
    private readonly settings?: Pick<Settings, 'current' | 'onDidChange'>,
    /** Without them, inputs and outputs are labelled by their ids and inputs show no thumbnail. */
    private readonly helpers: PreviewHelpers = {},
  ) {
    super();
    this.register(vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, this));
    this.register(
      runs.onDidChange((record) => {
        if (record) this.refresh(record.localId);
        else for (const localId of this.panels.keys()) this.refresh(localId);
      }),
    );
    if (settings) {
      // Turning flora.saveOutputs to "never" takes the Save button away from open previews, and back.
      this.register(
        settings.onDidChange(() => {
          for (const localId of this.panels.keys()) this.refresh(localId);
        }),
      );
    }
    if (helpers.catalog) {
      // A technique's details arrived: its previews name the inputs and outputs.
      this.register(
        helpers.catalog.onDidChange((slug) => {
          for (const [localId, entry] of this.panels) if (slug === undefined || entry.slug === slug) this.refresh(localId);
        }),
      );
    }
    this.register({
      dispose: () => {
        for (const { panel } of [...this.panels.values()]) panel.dispose();
      },
    });
  }

  /** Opens (or reveals) the preview of a run. */
  show(localId: string): vscode.WebviewPanel {
    const open = this.panels.get(localId);
    if (open) {
      open.panel.reveal();
      return open.panel;
    }
    const record = this.runs.get(localId);
    const panel = vscode.window.createWebviewPanel(
      PREVIEW_VIEW_TYPE,
      vscode.l10n.t('FLORA: {0}', labelText(record?.techniqueName ?? localId)),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      this.webviewOptions(),
    );
    this.attach(panel, localId);
    return panel;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: PreviewState | undefined): Promise<void> {
    const localId = state?.localId;
    if (!localId || !this.runs.get(localId) || this.panels.has(localId)) {
      panel.dispose();
      return;
    }
    panel.webview.options = this.webviewOptions();
    this.attach(panel, localId);
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel, localId: string): void {
    const entry: PanelEntry = { panel, origins: '', slug: this.runs.get(localId)?.slug ?? '', thumbnails: new Map() };
    this.panels.set(localId, entry);
    // Opening a preview may ask again for details an earlier attempt could not fetch.
    this.askedDetails.delete(entry.slug);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'flora.svg');
    const subscriptions = [
      panel.webview.onDidReceiveMessage((message: unknown) => void this.onMessage(localId, message)),
      panel.onDidDispose(() => {
        this.panels.delete(localId);
        for (const subscription of subscriptions) subscription.dispose();
      }),
    ];
    this.render(localId);
  }

  private refresh(localId: string): void {
    const entry = this.panels.get(localId);
    if (!entry) return;
    const record = this.runs.get(localId);
    if (!record) {
      void entry.panel.webview.postMessage({
        type: 'gone',
        text: vscode.l10n.t('This run is no longer in the history.'),
      } satisfies ExtensionToPreviewMessage);
      return;
    }
    // New output hosts need a new CSP, which means a new document; otherwise a message updates the page.
    if (this.allowedOrigins(record) !== entry.origins) this.render(localId);
    else void entry.panel.webview.postMessage({ type: 'run', run: this.model(record) } satisfies ExtensionToPreviewMessage);
  }

  private render(localId: string): void {
    const entry = this.panels.get(localId);
    const record = this.runs.get(localId);
    if (!entry || !record) return;
    entry.origins = this.allowedOrigins(record);
    entry.panel.title = vscode.l10n.t('FLORA: {0}', labelText(record.techniqueName));
    const webview = entry.panel.webview;
    const media = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', file)).toString();
    webview.html = previewHtml({
      origins: entry.origins,
      nonce: randomBytes(16).toString('base64'),
      cspSource: webview.cspSource,
      styleUri: media('preview.css'),
      scriptUri: media('preview.js'),
      language: vscode.env.language,
      localId,
      title: vscode.l10n.t('FLORA preview'),
      loading: vscode.l10n.t('Loading…'),
    });
  }

  /** The exact origins this run's loadable outputs come from: the CSP allows those and nothing else. */
  private allowedOrigins(record: RunRecord): string {
    return previewOrigins(record, this.connection.extraOrigins());
  }

  model(record: RunRecord): PreviewModel {
    const catalog = this.helpers.catalog;
    const details = catalog?.cached(record.slug);
    if (catalog && !details && !this.askedDetails.has(record.slug)) {
      // Asked once; the catalogue's change event refreshes the page with the names.
      this.askedDetails.add(record.slug);
      catalog.get(record.slug).catch((error: unknown) => {
        this.log.info(`The preview labels ${record.slug}'s inputs by id: its details could not be fetched (${String(error)}).`);
      });
    }
    return previewModel(record, {
      connection: this.connection,
      runs: this.runs,
      saveOutputs: this.settings?.current.saveOutputs ?? 'ask',
      details,
    });
  }

  /** Sends the page a thumbnail of each image input, made once per panel (the Thumbnails cache keeps the bytes). */
  private sendInputThumbnails(entry: PanelEntry, record: RunRecord): void {
    const thumbnails = this.helpers.thumbnails;
    if (!thumbnails) return;
    record.inputs.forEach((input, index) => {
      if (!isImageInput(input)) return;
      let made = entry.thumbnails.get(index);
      if (!made) {
        made = inputThumbnail(input, thumbnails, this.connection.extraOrigins()).catch(() => undefined);
        entry.thumbnails.set(index, made);
      }
      void made.then((thumbnail) => {
        // The panel may have closed meanwhile; a page made since asks again with its own "ready".
        if (thumbnail === undefined || this.panels.get(record.localId) !== entry) return;
        void entry.panel.webview.postMessage({
          type: 'inputThumbnail',
          index,
          mediaType: thumbnail.mediaType,
          base64: thumbnail.base64,
        } satisfies ExtensionToPreviewMessage);
      });
    });
  }

  private async onMessage(localId: string, message: unknown): Promise<void> {
    if (!isPreviewMessage(message)) return;
    const entry = this.panels.get(localId);
    const record = this.runs.get(localId);
    if (!entry || !record) return;
    if (message.type === 'ready') {
      await entry.panel.webview.postMessage({ type: 'run', run: this.model(record) } satisfies ExtensionToPreviewMessage);
      this.sendInputThumbnails(entry, record);
      return;
    }
    if (message.type === 'save') {
      // Only what the page offers: a completed run with an output not saved, unless flora.saveOutputs is "never".
      if (!this.model(record).offerSave) return;
      await this.runCommand(message.type, CommandId.saveOutputsToWorkspace, uiArgument({ kind: 'run', localId }));
      return;
    }
    // The page names an output by index; the URL always comes from the store, never from the page.
    const output = record.outputs?.[message.index];
    if (!output) return;
    if (message.type === 'openSaved') {
      await this.runCommand(message.type, CommandId.openSavedOutput, uiArgument({ localId, index: message.index }));
      return;
    }
    const argument = uiArgument({ url: output.url, type: output.type, localId, index: message.index });
    try {
      switch (message.type) {
        case 'copyUrl':
          await vscode.commands.executeCommand(CommandId.copyOutputUrl, argument);
          return;
        case 'insert':
          await vscode.commands.executeCommand(CommandId.insertOutputUrl, argument);
          return;
        case 'download':
          await vscode.commands.executeCommand(CommandId.downloadOutput, argument);
          return;
        case 'openExternal': {
          // The checked, normalised form: VS Code's URI parser reads some raw URLs (`https://a\\@b/`) as
          // another host than the URL parser that checked them.
          const verdict = checkOutputUrl(output.url, this.connection.extraOrigins());
          if (verdict.url) await vscode.env.openExternal(vscode.Uri.parse(verdict.url, true));
          return;
        }
      }
    } catch (error) {
      this.log.error(`Preview action ${message.type} failed: ${String(error)}`);
    }
  }

  private async runCommand(action: PreviewToExtensionMessage['type'], command: string, argument: object): Promise<void> {
    try {
      await vscode.commands.executeCommand(command, argument);
    } catch (error) {
      this.log.error(`Preview action ${action} failed: ${String(error)}`);
    }
  }
}

function isPreviewMessage(value: unknown): value is PreviewToExtensionMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as { type?: unknown; index?: unknown };
  if (message.type === 'ready' || message.type === 'save') return true;
  return (
    (message.type === 'copyUrl' ||
      message.type === 'insert' ||
      message.type === 'download' ||
      message.type === 'openExternal' ||
      message.type === 'openSaved') &&
    typeof message.index === 'number' &&
    Number.isInteger(message.index) &&
    message.index >= 0
  );
}
