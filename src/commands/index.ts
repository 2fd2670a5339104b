// Connects every command id to its handler, each behind the one guard.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { ViewId } from '../common/viewIds';
import type { FloraServices } from '../services/composition';
import type { Log } from '../services/log';
import type { PreviewPanels } from '../views/previewPanel';
import type { RunsFilter } from '../views/runsFilter';
import type { StepReporter } from '../views/walkthrough';
import { removeApiKey, setApiKey } from './apiKey';
import { clearRunsFilter, filterRuns } from './filterRuns';
import { clearFinishedRuns, copyOutputUrl, downloadOutput, insertOutputUrl, openPreview, resolveRun } from './outputs';
import { registerCommand, type CommandHandler } from './register';
import { resumeRun, showRunsInProgress, stopFollowing } from './resumeRun';
import { runAgain, runTechnique } from './runTechnique';
import { runTechniqueWithFile } from './runWithFile';
import { openOutputFolder, openSavedOutput } from './savedFiles';
import { saveOutputsToWorkspace, saveOutputUrl, saveOutputUrlsInFile, saveOutputUrlsInWorkspace } from './saveOutputs';
import {
  addTechnique,
  clearTechniqueFilter,
  copyTechniqueSlug,
  filterTechniques,
  openTechniqueInFlora,
  refreshTechniques,
  removeTechnique,
} from './techniques';
import { configureUpload } from './upload';

export interface CommandServices {
  services: FloraServices;
  log: Log;
  previews: PreviewPanels;
  lastTextEditor: () => vscode.TextEditor | undefined;
  /** The Runs view's filter, which Filter Runs… and Clear Runs Filter set. */
  runsFilter: RunsFilter;
  /** Tells the walkthrough a step's thing happened (an output inserted). */
  reportStep: StepReporter;
}

export function registerAllCommands({
  services,
  log,
  previews,
  lastTextEditor,
  runsFilter,
  reportStep,
}: CommandServices): vscode.Disposable[] {
  const { keys, runs, connection, catalog, controller, settings, uploads, saver, outputs } = services;
  const runContext = { controller, catalog, connection, settings, runs, keys, uploads, log, lastTextEditor };
  const uploadContext = {
    uploads,
    current: () => settings.current.upload,
    writeUserSetting: (name: string, value: string) => settings.updateUserSetting(name, value),
  };
  const outputContext = { connection, settings, runs, previews, log, lastTextEditor, saver, reportStep };
  const saveContext = { runs, saver, index: outputs, log };
  const techniqueContext = { catalog };
  const keyContext = { keys, connection, log };
  const handlers: Record<CommandId, CommandHandler> = {
    [CommandId.setApiKey]: (argument) => setApiKey(keyContext, argument),
    [CommandId.removeApiKey]: () => removeApiKey(keyContext),
    [CommandId.runTechnique]: (argument) => runTechnique(runContext, argument),
    [CommandId.runTechniqueWithFile]: (argument, selection) => runTechniqueWithFile(runContext, argument, selection),
    [CommandId.configureUpload]: () => configureUpload(uploadContext),
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
    [CommandId.saveOutputsToWorkspace]: (argument) => saveOutputsToWorkspace(saveContext, argument),
    [CommandId.saveOutputUrl]: (argument) => saveOutputUrl(saveContext, argument),
    [CommandId.saveOutputUrlsInFile]: (argument) => saveOutputUrlsInFile(saveContext, argument),
    [CommandId.saveOutputUrlsInWorkspace]: (argument) => saveOutputUrlsInWorkspace(saveContext, argument),
    [CommandId.openSavedOutput]: (argument) => openSavedOutput(saveContext, argument),
    [CommandId.openOutputFolder]: () => openOutputFolder(saveContext),
    [CommandId.clearFinishedRuns]: () => clearFinishedRuns(outputContext),
    [CommandId.resumeRun]: (argument) => resumeRun({ controller, runs }, argument),
    [CommandId.stopFollowing]: (argument) => stopFollowing({ controller, runs }, argument),
    [CommandId.showRuns]: () => vscode.commands.executeCommand(`${ViewId.runs}.focus`),
    [CommandId.showLog]: () => log.show(),
    [CommandId.showRunsInProgress]: () => showRunsInProgress({ controller, runs }),
    [CommandId.filterRuns]: (argument) => filterRuns({ runs, filter: runsFilter }, argument),
    [CommandId.clearRunsFilter]: () => clearRunsFilter({ runs, filter: runsFilter }),
  };
  return Object.entries(handlers).map(([id, handler]) => registerCommand(id as CommandId, handler, log));
}
