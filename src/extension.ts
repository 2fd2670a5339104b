// activate() only builds and connects: stores, client service, views and commands. No network here.
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ViewId } from './common/commandIds';
import { registerAllCommands } from './commands';
import { RunJournal } from './core/journal';
import { messageOf } from './core/errors';
import { FileLease } from './core/lease';
import { toPublicRecord, type PublicRunRecord } from './core/runs';
import { FloraService } from './services/floraService';
import { KeyStore } from './services/keyStore';
import { Log } from './services/log';
import { RunsStore } from './services/runsStore';
import { readSettings } from './services/settings';
import { PreviewPanels } from './views/previewPanel';
import { RunsTree } from './views/runsTree';
import { RunsStatusBar } from './views/statusBar';
import { TechniquesTree } from './views/techniquesTree';
import { watchRunNotifications } from './views/notifications';

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
  const keys = new KeyStore(context.secrets);
  // Global storage is shared by every window of the profile: the journal and the polling lease live there.
  const storage = context.globalStorageUri.fsPath;
  const runs = new RunsStore(new RunJournal(path.join(storage, 'runs'), log.write), readSettings().maxHistory);
  const manifestVersion = (context.extension.packageJSON as { version?: unknown }).version;
  const version = typeof manifestVersion === 'string' ? manifestVersion : '0.0.0';
  const service = new FloraService({
    keys,
    runs,
    log,
    memento: context.globalState,
    userAgent: `flora-vscode/${version} (${vscode.env.appName} ${vscode.version}; ${process.platform})`,
    proxyUrl: vscode.workspace.getConfiguration('http').get<string>('proxy') || undefined,
    lease: new FileLease(path.join(storage, 'poller.lease')),
    windowKey: windowKey(context),
  });
  const techniquesTree = new TechniquesTree(service, keys, 'catalogue');
  const addedTechniquesTree = new TechniquesTree(service, keys, 'added');
  const runsTree = new RunsTree(runs);
  const previews = new PreviewPanels(context.extensionUri, runs, service, log);
  const techniquesView = vscode.window.createTreeView(ViewId.techniques, { treeDataProvider: techniquesTree, showCollapseAll: true });
  techniquesTree.view = techniquesView;
  const addedTechniquesView = vscode.window.createTreeView(ViewId.addedTechniques, { treeDataProvider: addedTechniquesTree });
  addedTechniquesTree.view = addedTechniquesView;
  const runsView = vscode.window.createTreeView(ViewId.runs, { treeDataProvider: runsTree });

  let lastTextEditor = vscode.window.activeTextEditor;
  context.subscriptions.push(
    keys,
    runs,
    service,
    techniquesTree,
    addedTechniquesTree,
    runsTree,
    previews,
    techniquesView,
    addedTechniquesView,
    runsView,
    new RunsStatusBar(runs),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) lastTextEditor = editor;
    }),
    watchRunNotifications(service, runs),
    ...registerAllCommands({
      service,
      keys,
      runs,
      log,
      techniquesTree,
      addedTechniquesTree,
      previews,
      lastTextEditor: () => vscode.window.activeTextEditor ?? lastTextEditor ?? vscode.window.visibleTextEditors[0],
    }),
  );

  void startUp(context, keys, runs, service, log);

  const changed = new vscode.EventEmitter<PublicRunRecord>();
  context.subscriptions.push(
    changed,
    runs.onDidChange((record) => {
      if (record?.runId) changed.fire(toPublicRecord(record));
    }),
  );
  return {
    runTechnique: async (slug, inputs, options = {}) => {
      const record = await service.startRun(slug, inputs, options);
      return toPublicRecord(await service.waitForRun(record.localId, options.signal));
    },
    getRuns: () =>
      runs
        .all()
        .filter((record) => record.runId)
        .map(toPublicRecord),
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
async function startUp(context: vscode.ExtensionContext, keys: KeyStore, runs: RunsStore, service: FloraService, log: Log): Promise<void> {
  try {
    // `npm start` hands the sandbox key to a development instance this way; a published install ignores it.
    const developmentKey = process.env.FLORA_DEV_API_KEY;
    if (developmentKey && context.extensionMode !== vscode.ExtensionMode.Production && !(await keys.has())) {
      await keys.set(developmentKey);
      log.info('Development mode: stored the API key handed over by the launcher.');
    }
    await keys.has();
    await runs.ready;
    service.start();
  } catch (error) {
    log.error(`Start-up failed: ${messageOf(error)}`);
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions; the runs store writes pending changes then.
}
