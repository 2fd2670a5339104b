// FLORA's techniques as language-model tools any agent in VS Code's chat can call. The names are part of
// the automation contract (package.json's languageModelTools lists the same four, with their schemas).
import * as vscode from 'vscode';
import type { FloraServices } from '../../services/composition';
import { describeTechniqueTool, getRunTool, listTechniquesTool } from './catalogTools';
import { runTechniqueTool } from './runTool';

export const ToolName = {
  listTechniques: 'flora_list_techniques',
  describeTechnique: 'flora_describe_technique',
  runTechnique: 'flora_run_technique',
  getRun: 'flora_get_run',
} as const;

export function registerTools(services: FloraServices): vscode.Disposable[] {
  const { catalog, controller, runs, keys, settings, saver, thumbnails, budget, uploads } = services;
  return [
    vscode.lm.registerTool(ToolName.listTechniques, listTechniquesTool(catalog)),
    vscode.lm.registerTool(ToolName.describeTechnique, describeTechniqueTool(catalog)),
    vscode.lm.registerTool(
      ToolName.runTechnique,
      runTechniqueTool({ catalog, controller, runs, keys, settings, saver, thumbnails, budget, uploads }),
    ),
    vscode.lm.registerTool(ToolName.getRun, getRunTool(runs)),
  ];
}
