// activate() only builds and connects: the window's models (services/composition.ts), its views and its
// commands. No network here.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { ViewId } from './common/viewIds';
import { registerAllCommands } from './commands';
import { registerTools } from './commands/tools';
import { messageOf } from './core/errors';
import type { PublicRunRecord } from './core/runs';
import { createServices, type FloraServices } from './services/composition';
import { Log } from './services/log';
import { UPLOAD_SECRET } from './services/uploads';
import { RunNotifications } from './views/notifications';
import { OutputDiagnostics } from './views/outputDiagnostics';
import { PreviewPanels } from './views/previewPanel';
import { watchRunsView } from './views/runsView';
import { RunsTree } from './views/runsTree';
import { RunsStatusBar } from './views/statusBar';
import { createTechniquesView } from './views/techniquesTree';
import { watchWalkthrough } from './views/walkthrough';

/** What activate() returns: the API other extensions and scripts use. */
export interface FloraApi {
  /** Creates a run and resolves with its record when it has completed or failed. */
  runTechnique(slug: string, inputs: Record<string, string>, options?: { signal?: AbortSignal }): Promise<PublicRunRecord>;
  getRuns(): PublicRunRecord[];
  readonly onDidChangeRun: vscode.Event<PublicRunRecord>;
}

export function activate(context: vscode.ExtensionContext): FloraApi {
  const log = new Log();
  context.subscriptions.push(log);
  const manifestVersion = (context.extension.packageJSON as { version?: unknown }).version;
  const version = typeof manifestVersion === 'string' ? manifestVersion : '0.0.0';
  const services = createServices({
    secrets: context.secrets,
    memento: context.globalState,
    storageFolder: context.globalStorageUri.fsPath,
    log,
    userAgent: `flora-vscode/${version} (${vscode.env.appName} ${vscode.version}; ${process.platform})`,
    proxyUrl: vscode.workspace.getConfiguration('http').get<string>('proxy') || undefined,
    windowKey: windowKey(context),
  });
  const { keys, runs, catalog, controller, coordinator, connection } = services;
  const notifications = new RunNotifications({
    runs,
    controller,
    coordinator,
    saving: { saver: services.saver, settings: services.settings, log },
  });
  const runsTree = new RunsTree(runs);
  const runsView = vscode.window.createTreeView(ViewId.runs, { treeDataProvider: runsTree });
  const previews = new PreviewPanels(context.extensionUri, runs, connection, log, services.settings, {
    catalog,
    thumbnails: services.thumbnails,
  });

  const walkthrough = watchWalkthrough(context, services);
  let lastTextEditor = vscode.window.activeTextEditor;
  context.subscriptions.push(
    services,
    notifications,
    createTechniquesView(catalog, keys, 'catalogue', walkthrough.progress.report),
    createTechniquesView(catalog, keys, 'added', walkthrough.progress.report),
    runsTree,
    runsView,
    watchRunsView(runsView, runsTree, runs),
    previews,
    new RunsStatusBar(runs, { budget: services.budget }),
    new OutputDiagnostics({ index: services.outputs, saver: services.saver, thumbnails: services.thumbnails }),
    walkthrough.subscription,
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) lastTextEditor = editor;
    }),
    ...registerAllCommands({
      services,
      log,
      previews,
      lastTextEditor: () => vscode.window.activeTextEditor ?? lastTextEditor ?? vscode.window.visibleTextEditors[0],
      runsFilter: runsTree.filter,
      reportStep: walkthrough.progress.report,
    }),
    ...registerTools(services),
  );

  void startUp(context, services, notifications, log);

  const changed = new vscode.EventEmitter<PublicRunRecord>();
  context.subscriptions.push(
    changed,
    runs.onDidChange((record) => {
      if (record?.runId) changed.fire(runs.publicRecord(record));
    }),
  );
  return {
    runTechnique: async (slug, inputs, options = {}) => {
      const record = await controller.startRun(slug, inputs, options);
      return runs.publicRecord(await controller.waitForRun(record.localId, options.signal));
    },
    getRuns: () =>
      runs
        .all()
        .filter((record) => record.runId)
        .map((record) => runs.publicRecord(record)),
    onDidChangeRun: changed.event,
  };
}

/** A random name for this window, kept in workspace state so it survives reloads of the window. */
function windowKey(context: vscode.ExtensionContext): string {
  const stored = context.workspaceState.get<string>(WINDOW_KEY);
  if (stored) return stored;
  const created = randomUUID();
  void context.workspaceState.update(WINDOW_KEY, created);
  return created;
}
const WINDOW_KEY = 'flora.windowKey';

/** Deferred start-up work: read the key state, accept a development key, resume unfinished runs. */
async function startUp(
  context: vscode.ExtensionContext,
  services: FloraServices,
  notifications: RunNotifications,
  log: Log,
): Promise<void> {
  const { keys, runs, uploads } = services;
  try {
    // `npm start` hands the sandbox key to a development instance this way; a published install ignores it.
    const developmentKey = process.env.FLORA_DEV_API_KEY;
    if (developmentKey && context.extensionMode !== vscode.ExtensionMode.Production && !(await keys.has())) {
      await keys.set(developmentKey);
      log.info('Development mode: stored the API key handed over by the launcher.');
    }
    // …and the sandbox storage's test credentials, so the first upload needs no set-up either.
    const s3KeyId = process.env.FLORA_DEV_S3_ACCESS_KEY_ID;
    const s3Secret = process.env.FLORA_DEV_S3_SECRET_ACCESS_KEY;
    if (
      s3KeyId &&
      s3Secret &&
      context.extensionMode !== vscode.ExtensionMode.Production &&
      !(await uploads.hasSecret(UPLOAD_SECRET.s3SecretAccessKey))
    ) {
      await uploads.setSecret(UPLOAD_SECRET.s3AccessKeyId, s3KeyId);
      await uploads.setSecret(UPLOAD_SECRET.s3SecretAccessKey, s3Secret);
      log.info("Development mode: stored the sandbox storage's test credentials handed over by the launcher.");
    }
    await keys.has();
    await runs.ready;
    notifications.announceUnseen();
    services.start();
  } catch (error) {
    log.error(`Start-up failed: ${messageOf(error)}`);
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions; the runs store writes pending changes then.
}
