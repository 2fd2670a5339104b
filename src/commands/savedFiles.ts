// Opening what was saved: one output's file (from the Runs view, the preview or a hover) and the output folder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FloraUsageError } from '../core/errors';
import { findProvenanceListing } from '../core/provenance';
import { isRegularFileAt } from '../core/regularFile';
import type { OutputIndex } from '../services/outputIndex';
import type { OutputSaver } from '../services/outputSaver';
import type { RunsStore } from '../services/runsStore';
import { l10nText } from '../services/userText';
import { isOutputNode } from '../views/runsTree';
import { chooseFolder } from './savingUi';

export interface SavedFileContext {
  runs: RunsStore;
  saver: OutputSaver;
  index: OutputIndex;
}

/**
 * `flora.openSavedOutput`: an output node, `{ localId, index }`, or `{ file }` for a file the history or a
 * provenance file knows as a saved output (a command link cannot make it open anything else).
 */
export async function openSavedOutput(context: SavedFileContext, argument: unknown): Promise<vscode.Uri> {
  const file = await savedFileOf(context, argument);
  if (file === undefined) throw new FloraUsageError(l10nText('That output has not been saved, or its file was moved or deleted.'));
  const uri = vscode.Uri.file(file);
  await vscode.commands.executeCommand('vscode.open', uri);
  return uri;
}

async function savedFileOf(context: SavedFileContext, argument: unknown): Promise<string | undefined> {
  if (isOutputNode(argument)) {
    const record = context.runs.get(argument.localId);
    return record ? context.saver.savedFile(record, argument.index) : undefined;
  }
  if (typeof argument !== 'object' || argument === null) return undefined;
  const { file, localId, index } = argument as { file?: unknown; localId?: unknown; index?: unknown };
  if (typeof localId === 'string') {
    const record = context.runs.get(localId);
    return record ? context.saver.savedFile(record, typeof index === 'number' ? index : 0) : undefined;
  }
  if (typeof file !== 'string' || !path.isAbsolute(file)) return undefined;
  if (context.index.bySavedFile(file)) return (await isRegularFileAt(file)) ? file : undefined;
  // Known only from a provenance file: one inside a workspace folder that lists this very file.
  if (!vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))) return undefined;
  return (await findProvenanceListing(file)) && (await isRegularFileAt(file)) ? file : undefined;
}

/** `flora.openOutputFolder`: reveals flora.outputFolder (made when missing) in the Explorer, or in the OS outside the workspace. */
export async function openOutputFolder(context: Pick<SavedFileContext, 'saver'>): Promise<vscode.Uri | undefined> {
  const folder = await chooseFolder(context, vscode.window.activeTextEditor?.document.uri);
  if (folder === undefined) return undefined;
  await fs.mkdir(folder, { recursive: true });
  const uri = vscode.Uri.file(folder);
  const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
  await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
  return uri;
}
