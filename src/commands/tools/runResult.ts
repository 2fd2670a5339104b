// A run as the tools report it: the public record, each output's URL and the file it was saved to.
import * as vscode from 'vscode';
import { latestSavedOutput, type RunRecord } from '../../core/runs';

export interface ToolOutput {
  type: string;
  url: string;
  /** Where it was saved, relative to the workspace folder when inside one (FLORA's URLs expire). */
  savedPath?: string;
}

export function outputsOf(record: RunRecord): ToolOutput[] {
  return (record.outputs ?? []).map((output, index) => {
    const saved = latestSavedOutput(record, index);
    return {
      type: output.type,
      url: output.url,
      ...(saved ? { savedPath: vscode.workspace.asRelativePath(vscode.Uri.file(saved.file), false) } : {}),
    };
  });
}
