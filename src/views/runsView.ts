// What the Runs view shows around its rows: today's credits in its description, the filter in use as its
// message, and the badge of runs that ended out of sight. One call connects them to the view activate()
// created.
import type * as vscode from 'vscode';
import { toDisposable } from '../common/lifecycle';
import type { RunsStore } from '../services/runsStore';
import { watchRunsViewDescription } from './runLabels';
import { watchRunsBadge } from './runsBadge';
import type { RunsTree, RunsTreeNode } from './runsTree';

export function watchRunsView(view: vscode.TreeView<RunsTreeNode>, tree: RunsTree, runs: RunsStore): vscode.Disposable {
  const description = watchRunsViewDescription(view, runs);
  const badge = watchRunsBadge(view, runs);
  view.message = tree.message;
  const message = tree.onDidChangeMessage((text) => {
    view.message = text;
  });
  return toDisposable(() => {
    message.dispose();
    badge.dispose();
    description.dispose();
  });
}
