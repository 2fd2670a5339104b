// The run preview: a locked-down webview showing every output of a run. The HTML is a fixed shell; run
// data reaches the page only as a typed message and is set as text by media/preview.js, never as HTML.
// One piece although over 300 lines: the shell, its CSP and the messages both ways must agree on exactly
// which origins and actions the page has, and they are checked together here.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { uiArgument } from '../common/invocation';
import { PREVIEW_VIEW_TYPE } from '../common/viewIds';
import { labelText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import { checkOutputUrl } from '../core/outputUrl';
import { isLoadableUrl, outputKind, type RunRecord } from '../core/runs';
import type { FloraConnection } from '../services/floraConnection';
import type { Log } from '../services/log';
import { runErrorText } from '../services/userText';
import type { ConnectionState, RunsStore } from '../services/runsStore';
import type { FloraSettings, Settings } from '../services/settings';
import { savedOutputOf, savedPathText, statusLabel } from './runLabels';

export interface PreviewOutput {
  index: number;
  /** The heading: the output's id (or its number) and type. */
  title: string;
  outputId: string;
  type: string;
  kind: 'image' | 'video' | 'text' | 'other';
  url: string;
  /** False for URLs the page must not load or link (javascript:, data:, http: off the sandbox…). */
  loadable: boolean;
  /** Where the output was saved, relative to the workspace; empty when it was not saved. */
  savedPath: string;
  /** "Saved as flora-outputs/…", or empty. */
  savedText: string;
}

export interface PreviewModel {
  localId: string;
  techniqueName: string;
  slug: string;
  runId: string;
  status: string;
  statusText: string;
  progress: number;
  /** The progress as shown, e.g. "40%" (placed as the language places percent signs). */
  progressText: string;
  cost: string;
  startedAt: string;
  completedAt: string;
  inputs: Array<{ id: string; label: string; type: string; value: string }>;
  outputs: PreviewOutput[];
  /** The run's error as one line: code and message. */
  errorText: string;
  /** Whether the page offers Save to Workspace: the run completed, an output is not saved, flora.saveOutputs is not "never". */
  offerSave: boolean;
  /** The page's own words, translated here: the page has no access to vscode.l10n. */
  labels: PreviewLabels;
}

export interface PreviewLabels {
  technique: string;
  runId: string;
  started: string;
  finished: string;
  noOutputs: string;
  outputsPending: string;
  notLoadable: string;
  imageAlt: string;
  copyUrl: string;
  insert: string;
  download: string;
  openExternal: string;
  openSaved: string;
  save: string;
}

export type ExtensionToPreviewMessage = { type: 'run'; run: PreviewModel } | { type: 'gone'; text: string };
export type PreviewToExtensionMessage =
  | { type: 'ready' }
  | { type: 'copyUrl'; index: number }
  | { type: 'insert'; index: number }
  | { type: 'download'; index: number }
  | { type: 'openExternal'; index: number }
  | { type: 'openSaved'; index: number }
  | { type: 'save' };

/** What the model is made from besides the record. */
export interface PreviewSources {
  connection: Pick<FloraConnection, 'extraOrigins'>;
  runs: { connectionOf(localId: string): ConnectionState | undefined };
  saveOutputs: FloraSettings['saveOutputs'];
}

interface PreviewState {
  localId: string;
}

export class PreviewPanels extends Disposable implements vscode.WebviewPanelSerializer<PreviewState> {
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; origins: string }>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly runs: RunsStore,
    private readonly connection: Pick<FloraConnection, 'extraOrigins'>,
    private readonly log: Log,
    /** flora.saveOutputs decides whether the page offers Save to Workspace; without it, as by default ("ask"). */
    private readonly settings?: Pick<Settings, 'current' | 'onDidChange'>,
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
    const entry = { panel, origins: '' };
    this.panels.set(localId, entry);
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
    entry.panel.webview.html = this.html(entry.panel.webview, entry.origins, localId);
  }

  /** The exact origins this run's loadable outputs come from: the CSP allows those and nothing else. */
  private allowedOrigins(record: RunRecord): string {
    const extra = this.connection.extraOrigins();
    const origins = new Set<string>();
    for (const output of record.outputs ?? []) {
      const origin = loadableOrigin(output.url, extra);
      if (origin) origins.add(origin);
    }
    return [...origins].sort().join(' ');
  }

  private html(webview: vscode.Webview, origins: string, localId: string): string {
    const nonce = randomBytes(16).toString('base64');
    const media = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', file)).toString();
    // Images and videos only from the exact origins of this run's loadable outputs.
    const mediaSources = origins || "'none'";
    const csp = [
      "default-src 'none'",
      `img-src ${mediaSources}`,
      `media-src ${mediaSources}`,
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    // Only constants and extension-made values go into this HTML; run data arrives by postMessage.
    return `<!DOCTYPE html>
<html lang="${encodeURIComponent(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('preview.css')}">
<title>${escapeHtml(vscode.l10n.t('FLORA preview'))}</title>
</head>
<body data-local-id="${encodeURIComponent(localId)}">
<main id="app" aria-live="polite"><p class="muted">${escapeHtml(vscode.l10n.t('Loading…'))}</p></main>
<script nonce="${nonce}" src="${media('preview.js')}"></script>
</body>
</html>`;
  }

  model(record: RunRecord): PreviewModel {
    return previewModel(record, {
      connection: this.connection,
      runs: this.runs,
      saveOutputs: this.settings?.current.saveOutputs ?? 'ask',
    });
  }

  private async onMessage(localId: string, message: unknown): Promise<void> {
    if (!isPreviewMessage(message)) return;
    const entry = this.panels.get(localId);
    const record = this.runs.get(localId);
    if (!entry || !record) return;
    if (message.type === 'ready') {
      await entry.panel.webview.postMessage({ type: 'run', run: this.model(record) } satisfies ExtensionToPreviewMessage);
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

/**
 * The CSP source for an output the page may load, or undefined when it may not load it. The URL rule admits
 * only plain host names, so the parser's serialised origin cannot end or widen a directive.
 */
function loadableOrigin(url: string, extraOrigins: readonly string[]): string | undefined {
  return isLoadableUrl(url, extraOrigins) ? new URL(url).origin : undefined;
}

/**
 * The page's model of a run: everything it shows, as text. Apart from PreviewPanels so the host tests can
 * read it: a second PreviewPanels cannot register its serializer beside the extension's.
 */
export function previewModel(record: RunRecord, sources: PreviewSources): PreviewModel {
  const extra = sources.connection.extraOrigins();
  const cost = record.chargedCost ?? record.runCost;
  return {
    localId: record.localId,
    techniqueName: record.techniqueName,
    slug: record.slug,
    runId: record.runId ?? '',
    status: record.status,
    statusText: statusLabel(record, sources.runs.connectionOf(record.localId)),
    progress: record.progress,
    progressText: vscode.l10n.t({ message: '{0}%', args: [record.progress], comment: 'progress in percent' }),
    cost:
      cost === undefined
        ? ''
        : record.chargedCost !== undefined
          ? vscode.l10n.t('{0} credits charged', cost)
          : vscode.l10n.t('{0} credits', cost),
    startedAt: new Date(record.createdAt ?? record.startedLocallyAt).toLocaleString(),
    completedAt: record.completedAt ? new Date(record.completedAt).toLocaleString() : '',
    inputs: record.inputs.map((input) => ({
      id: input.id,
      label: vscode.l10n.t('Input {0}', input.id),
      type: input.type,
      // A local file shows where it came from; the URL it was uploaded to is what FLORA read.
      value: input.localPath ? vscode.l10n.t('{0} (uploaded from this machine)', input.localPath) : input.value,
    })),
    outputs: (record.outputs ?? []).map((output, index) => {
      const saved = savedOutputOf(record, index);
      const savedPath = saved ? savedPathText(saved) : '';
      return {
        index,
        title: vscode.l10n.t({
          message: '{0} · {1}',
          args: [output.outputId || vscode.l10n.t('Output {0}', index + 1), output.type],
          comment: 'output id (or "Output 2") · output type as FLORA names it, e.g. imageUrl',
        }),
        outputId: output.outputId ?? '',
        type: output.type,
        kind: outputKind(output.type),
        url: output.url,
        // The page loads exactly what the CSP allows.
        loadable: loadableOrigin(output.url, extra) !== undefined,
        savedPath,
        savedText: saved ? vscode.l10n.t('Saved as {0}', savedPath) : '',
      };
    }),
    errorText: runErrorText(record),
    offerSave:
      record.status === 'completed' &&
      sources.saveOutputs !== 'never' &&
      (record.outputs ?? []).some((_output, index) => savedOutputOf(record, index) === undefined),
    labels: previewLabels(),
  };
}

/** Made once: the display language cannot change without restarting the extension host. */
let labels: PreviewLabels | undefined;

function previewLabels(): PreviewLabels {
  return (labels ??= {
    technique: vscode.l10n.t('Technique'),
    runId: vscode.l10n.t('Run ID'),
    started: vscode.l10n.t('Started'),
    finished: vscode.l10n.t('Finished'),
    noOutputs: vscode.l10n.t('This run produced no outputs.'),
    outputsPending: vscode.l10n.t('Outputs appear here when the run completes.'),
    notLoadable: vscode.l10n.t('This output URL is not shown because it is not an https:// link.'),
    imageAlt: vscode.l10n.t('FLORA output image'),
    copyUrl: vscode.l10n.t('Copy URL'),
    insert: vscode.l10n.t('Insert into Editor'),
    download: vscode.l10n.t('Download'),
    openExternal: vscode.l10n.t('Open in Browser'),
    openSaved: vscode.l10n.t('Open File'),
    save: vscode.l10n.t('Save to Workspace'),
  });
}

/** For the few translated words written into the HTML shell: a translation must not be able to add markup. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
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
