// Connects every command id to its handler, each behind the one guard.
import * as vscode from 'vscode';
import { CommandId, ViewId } from '../common/commandIds';
import type { FloraService } from '../services/floraService';
import type { KeyStore } from '../services/keyStore';
import type { Log } from '../services/log';
import type { RunsStore } from '../services/runsStore';
import type { PreviewPanels } from '../views/previewPanel';
import type { TechniquesTree } from '../views/techniquesTree';
import { removeApiKey, setApiKey } from './apiKey';
import { clearFinishedRuns, copyOutputUrl, downloadOutput, insertOutputUrl, openPreview, resolveRun } from './outputs';
import { registerCommand, type CommandHandler } from './register';
import { resumeRun, stopFollowing } from './resumeRun';
import { runAgain, runTechnique } from './runTechnique';
import {
  addTechnique,
  clearTechniqueFilter,
  copyTechniqueSlug,
  filterTechniques,
  openTechniqueInFlora,
  refreshTechniques,
  removeTechnique,
} from './techniques';

export interface CommandServices {
  service: FloraService;
  keys: KeyStore;
  runs: RunsStore;
  log: Log;
  techniquesTree: TechniquesTree;
  addedTechniquesTree: TechniquesTree;
  previews: PreviewPanels;
  lastTextEditor: () => vscode.TextEditor | undefined;
}

export function registerAllCommands(services: CommandServices): vscode.Disposable[] {
  const { service, keys, runs, log, techniquesTree: tree, addedTechniquesTree: addedTree, previews, lastTextEditor } = services;
  const runContext = { service, runs, keys, lastTextEditor };
  const outputContext = { service, runs, previews, log, lastTextEditor };
  const techniqueContext = { service, tree, addedTree };
  const handlers: Record<CommandId, CommandHandler> = {
    [CommandId.setApiKey]: (argument) => setApiKey({ keys, service, log }, argument),
    [CommandId.removeApiKey]: () => removeApiKey({ keys, service, log }),
    [CommandId.runTechnique]: (argument) => runTechnique(runContext, argument),
    [CommandId.runAgain]: async (argument) => {
      const record = resolveRun(runs, argument);
      return record ? runAgain(runContext, record) : runTechnique(runContext);
    },
    [CommandId.addTechnique]: (argument) => addTechnique(techniqueContext, argument),
    [CommandId.removeTechnique]: (argument) => removeTechnique(techniqueContext, argument),
    [CommandId.refreshTechniques]: () => refreshTechniques(techniqueContext),
    [CommandId.filterTechniques]: (argument) => filterTechniques(techniqueContext, argument),
    [CommandId.clearTechniqueFilter]: () => clearTechniqueFilter(techniqueContext),
    [CommandId.openTechniqueInFlora]: (argument) => openTechniqueInFlora(argument),
    [CommandId.copyTechniqueSlug]: (argument) => copyTechniqueSlug(argument),
    [CommandId.openPreview]: (argument) => openPreview(outputContext, argument),
    [CommandId.insertOutputUrl]: (argument) => insertOutputUrl(outputContext, argument),
    [CommandId.copyOutputUrl]: (argument) => copyOutputUrl(outputContext, argument),
    [CommandId.downloadOutput]: (argument) => downloadOutput(outputContext, argument),
    [CommandId.clearFinishedRuns]: () => clearFinishedRuns(outputContext),
    [CommandId.resumeRun]: (argument) => resumeRun({ service, runs }, argument),
    [CommandId.stopFollowing]: (argument) => stopFollowing({ service, runs }, argument),
    [CommandId.showRuns]: () => vscode.commands.executeCommand(`${ViewId.runs}.focus`),
    [CommandId.showLog]: () => log.show(),
  };
  return Object.entries(handlers).map(([id, handler]) => registerCommand(id as CommandId, handler, log));
}
