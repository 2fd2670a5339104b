// The badge on the FLORA activity bar icon: how many runs ended while the Runs view was out of sight, so a
// finish is not missed when another view fills the side bar. VS Code adds up the badges of a container's
// views on its icon; the Runs view's badge is the only one.
//
// What counts: a run that completed or failed (here or in another window), and a run the extension itself
// stopped following (its polls kept failing, it ran for a day…), which waits for the user to resume it.
// A run the user stopped does not: they know. Seen means the Runs view was visible: a run that ends while it
// is, and every counted run once it becomes visible, leave the badge.
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import type { RunRecord } from '../core/runs';
import type { RunsStore } from '../services/runsStore';

/** What the badge needs of the Runs view: whether it is in sight, and its badge. */
export type BadgedView = Pick<vscode.TreeView<unknown>, 'visible' | 'onDidChangeVisibility' | 'badge'>;

export class RunsBadge extends Disposable {
  /** Local ids of the runs that ended unseen, with how each ended. */
  private readonly unseen = new Map<string, 'finished' | 'stopped'>();

  constructor(
    private readonly view: BadgedView,
    runs: Pick<RunsStore, 'onDidSettle' | 'onDidChange' | 'get'>,
  ) {
    super();
    this.register(runs.onDidSettle((record) => this.onSettled(record)));
    this.register(
      view.onDidChangeVisibility(({ visible }) => {
        if (visible) this.clear();
      }),
    );
    // Clear Finished Runs (from the palette, with the view hidden) removes what the badge counted.
    this.register(
      runs.onDidChange(() => {
        let removed = false;
        for (const localId of this.unseen.keys()) {
          if (!runs.get(localId)) removed = this.unseen.delete(localId) || removed;
        }
        if (removed) this.update();
      }),
    );
  }

  /** How many runs ended unseen. */
  get count(): number {
    return this.unseen.size;
  }

  private onSettled(record: RunRecord): void {
    if (this.view.visible) return;
    if (record.stopped?.reason === 'byUser') return;
    this.unseen.set(record.localId, record.stopped ? 'stopped' : 'finished');
    this.update();
  }

  private clear(): void {
    if (this.unseen.size === 0) return;
    this.unseen.clear();
    this.update();
  }

  private update(): void {
    if (this.unseen.size === 0) {
      this.view.badge = undefined;
      return;
    }
    const stopped = [...this.unseen.values()].filter((how) => how === 'stopped').length;
    const finished = this.unseen.size - stopped;
    const parts: string[] = [];
    if (finished > 0) parts.push(finished === 1 ? vscode.l10n.t('1 finished run') : vscode.l10n.t('{0} finished runs', finished));
    if (stopped > 0) {
      parts.push(stopped === 1 ? vscode.l10n.t('1 run no longer followed') : vscode.l10n.t('{0} runs no longer followed', stopped));
    }
    this.view.badge = { value: this.unseen.size, tooltip: parts.join(', ') };
  }
}

/** Badges the Runs view (and so the FLORA icon) with the runs that ended while it was out of sight. */
export function watchRunsBadge(view: BadgedView, runs: RunsStore): RunsBadge {
  return new RunsBadge(view, runs);
}
