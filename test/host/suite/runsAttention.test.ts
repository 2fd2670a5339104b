// Everyday UI (issue 16, items 3, 4 and 11): a live run can be stopped from its row in the Runs view and
// from the status bar item, each saying that FLORA's API has no cancel; runs that end while the Runs view
// is out of sight badge the FLORA icon until it is shown; the status bar item shows how the last run ended
// for a few seconds; the Runs view filters by status, technique and text. The service and the status bar
// run on a manual clock and timers: nothing here sleeps on the extension's own timers.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { uiArgument } from '../../../src/common/invocation';
import { clearRunsFilter, filterRuns } from '../../../src/commands/filterRuns';
import { showRunsInProgress, stopFollowing } from '../../../src/commands/resumeRun';
import { RunJournal } from '../../../src/core/journal';
import { isLive, type RunRecord } from '../../../src/core/runs';
import { Log } from '../../../src/services/log';
import { RunsStore } from '../../../src/services/runsStore';
import { RunsBadge } from '../../../src/views/runsBadge';
import { RunsFilter } from '../../../src/views/runsFilter';
import { RunsTree, type RunNode, type RunsTreeNode } from '../../../src/views/runsTree';
import { RESULT_SHOWN_MS, RunsStatusBar } from '../../../src/views/statusBar';
import { ManualTime } from '../../common/manualTime';
import { runRecord } from '../../common/records';
import type { Sandbox } from '../../sandbox/server';
import { activateOver, EXTENSION_ID, IMAGE_URL, MemorySecrets, rejection, sandboxForExtension, waitFor } from './helpers';

type WindowFunctions = Record<string, unknown>;

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}

function manifest(): {
  contributes: { menus: Record<string, MenuEntry[]>; viewsWelcome: Array<{ view: string; contents: string; when?: string }> };
} {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension);
  return extension.packageJSON as ReturnType<typeof manifest>;
}

/** The `viewItem =~ /…/` pattern of a menu entry of the Runs view. */
function viewItemPattern(entry: MenuEntry): RegExp {
  assert.match(entry.when ?? '', /view == flora\.runs/, `${entry.command}'s entry is for the Runs view`);
  const source = /viewItem =~ \/(.+?)\/(?:\s|$)/.exec(entry.when ?? '')?.[1];
  assert.ok(source, `${entry.command}'s entry names its items: ${entry.when ?? ''}`);
  return new RegExp(source);
}

function temporaryFolder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'flora-attention-'));
}

/** Polls (GETs) of one run the sandbox received. */
function pollsOf(sandbox: Sandbox, runId: string | undefined): number {
  return sandbox.requests.filter((request) => request.method === 'GET' && request.path.includes(`/runs/${runId ?? '-'}`)).length;
}

/** A Markdown tooltip's text as read: appendText writes spaces as &nbsp; and escapes punctuation. */
function plainText(markdown: vscode.MarkdownString): string {
  return markdown.value.replace(/&nbsp;/g, ' ').replace(/\\(.)/g, '$1');
}

function labelOf(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

/** A filter that leaves the window's context key alone: these trees are the tests' own. */
function quietFilter(): RunsFilter {
  return new RunsFilter({ setContext: async () => undefined });
}

/** The status bar item a RunsStatusBar drives, with whether it was last shown or hidden. */
function itemOf(statusBar: RunsStatusBar): { item: vscode.StatusBarItem; shown: () => boolean } {
  const item = (statusBar as unknown as { item: vscode.StatusBarItem }).item;
  let visible = false;
  const show = item.show.bind(item);
  const hide = item.hide.bind(item);
  item.show = () => {
    visible = true;
    show();
  };
  item.hide = () => {
    visible = false;
    hide();
  };
  return { item, shown: () => visible };
}

describe('runs that need attention: Stop Following, the badge, the result, the filter', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  const secrets = new MemorySecrets();
  const log = new Log('FLORA (attention tests)');
  const originals = new Map<string, unknown>();
  const window = vscode.window as unknown as WindowFunctions;
  function replace(name: string, stand: unknown): void {
    if (!originals.has(name)) originals.set(name, window[name]);
    window[name] = stand;
  }

  before(async () => {
    // Runs that stay live for an hour: they end only when a test stops them.
    sandbox = await sandboxForExtension({ runDurationMs: 60 * 60_000 });
    await secrets.store('flora.apiKey', sandbox.apiKey);
  });

  afterEach(() => {
    for (const [name, original] of originals) window[name] = original;
    originals.clear();
  });

  after(async () => {
    log.dispose();
    await sandbox.close();
  });

  it("offers Stop Following inline on a live run's row only; it keeps the runId, stops polling and says FLORA may still charge", async () => {
    const inline = (manifest().contributes.menus['view/item/context'] ?? []).filter(
      (entry) => entry.command === 'flora.stopFollowing' && (entry.group ?? '').startsWith('inline'),
    );
    assert.strictEqual(inline.length, 1, 'one inline Stop Following entry in the Runs view');
    const [entry] = inline;
    assert.ok(entry);
    const pattern = viewItemPattern(entry);

    const time = new ManualTime(Date.now());
    const session = await activateOver(temporaryFolder(), secrets, log, { time });
    const tree = new RunsTree(session.runs, quietFilter());
    const told: string[] = [];
    replace('showInformationMessage', async (text: string) => void told.push(text));
    try {
      const started = await session.controller.startRun('studio-shot', { product_image: IMAGE_URL });
      assert.ok(started.runId && isLive(started));
      const row = (record: RunRecord) => tree.getTreeItem(uiArgument<RunNode>({ kind: 'run', localId: record.localId }));
      assert.match(row(started).contextValue ?? '', pattern, 'the live row shows the inline Stop Following');
      for (const ended of [runRecord({ status: 'completed' }), runRecord({ status: 'running', stopped: { reason: 'byUser', at: 1 } })]) {
        await session.runs.put(ended, { persist: false });
        assert.doesNotMatch(
          row(ended).contextValue ?? '',
          pattern,
          `no Stop Following on a ${ended.stopped ? 'stopped' : 'completed'} run`,
        );
      }

      // What the inline action runs: the command's handler with the row's node.
      const stopped = await stopFollowing(session, uiArgument<RunNode>({ kind: 'run', localId: started.localId }));
      assert.ok(stopped);
      assert.strictEqual(stopped.runId, started.runId, 'the runId is kept');
      assert.strictEqual(stopped.stopped?.reason, 'byUser');
      assert.strictEqual(time.scheduled, 0, 'no poll is scheduled');
      const polls = pollsOf(sandbox, started.runId);
      await time.advance(60 * 60_000);
      assert.strictEqual(pollsOf(sandbox, started.runId), polls, 'nothing is polled once stopped');
      assert.strictEqual(told.length, 1, 'one message');
      assert.match(told[0] ?? '', /no cancel/, 'it says the API cannot cancel');
      assert.match(told[0] ?? '', /may still finish the run and charge/, 'it says FLORA may still charge');
      assert.match(told[0] ?? '', /runId is kept; Resume Following/, 'it says the run can be resumed');
      // The stopped row offers Resume Following inline, and its tooltip says the same as the message.
      const resumeInline = (manifest().contributes.menus['view/item/context'] ?? []).find(
        (menu) => menu.command === 'flora.resumeRun' && (menu.group ?? '').startsWith('inline'),
      );
      assert.ok(resumeInline);
      const stoppedRow = tree.resolveTreeItem(row(stopped), uiArgument<RunNode>({ kind: 'run', localId: stopped.localId }));
      assert.match(stoppedRow.contextValue ?? '', viewItemPattern(resumeInline));
      assert.strictEqual((stoppedRow.iconPath as vscode.ThemeIcon).id, 'eye-closed', 'a stopped run is not drawn as failed');
      assert.ok(stoppedRow.tooltip instanceof vscode.MarkdownString);
      assert.match(plainText(stoppedRow.tooltip), /no cancel: FLORA may still finish this run and charge/);
    } finally {
      tree.dispose();
      session.dispose();
    }
  });

  it("the status bar tooltip shows today's spending: charged, and what live runs may still cost", async () => {
    const time = new ManualTime(Date.now());
    const session = await activateOver(temporaryFolder(), secrets, log, { time, start: false });
    const statusBar = new RunsStatusBar(session.runs, { timers: time.timers, budget: session.budget });
    const { item } = itemOf(statusBar);
    try {
      const charged = Date.now();
      await session.runs.put(runRecord({ status: 'completed', chargedCost: 7, completedAt: charged, updatedAt: charged }), {
        durable: true,
      });
      await session.controller.startRun('studio-shot', { product_image: IMAGE_URL });
      statusBar.update();
      const tooltip = item.tooltip instanceof vscode.MarkdownString ? plainText(item.tooltip) : String(item.tooltip);
      assert.match(tooltip, /Today: 7 credits charged, 5 more pending\./);
    } finally {
      statusBar.dispose();
      session.dispose();
    }
  });

  it('clicking the status bar item offers Stop Following for each live run, after Show Runs, and says it is no cancel', async () => {
    const time = new ManualTime(Date.now());
    const session = await activateOver(temporaryFolder(), secrets, log, { time });
    const statusBar = new RunsStatusBar(session.runs, { timers: time.timers });
    const { item } = itemOf(statusBar);
    const offered: Array<{ items: Array<vscode.QuickPickItem & { record?: RunRecord }>; options?: vscode.QuickPickOptions }> = [];
    replace('showInformationMessage', async () => undefined);
    try {
      const first = await session.controller.startRun('studio-shot', { product_image: IMAGE_URL });
      const second = await session.controller.startRun('studio-shot', { product_image: IMAGE_URL });
      statusBar.update();
      const command = typeof item.command === 'string' ? item.command : item.command?.command;
      assert.strictEqual(command, 'flora.showRunsInProgress', 'the click opens the picker of live runs');
      assert.match(
        item.tooltip instanceof vscode.MarkdownString ? plainText(item.tooltip) : String(item.tooltip),
        /stop following a run/,
        'the tooltip says what the click offers',
      );

      replace('showQuickPick', async (items: Array<vscode.QuickPickItem & { record?: RunRecord }>, options?: vscode.QuickPickOptions) => {
        offered.push({ items, options });
        return items.find((entry) => entry.record?.localId === second.localId);
      });
      const stopped = await showRunsInProgress(session);
      const [shown] = offered;
      assert.ok(shown);
      assert.match(shown.items[0]?.label ?? '', /Show Runs/, 'Show Runs comes first: a click and Enter show the view');
      const runs = shown.items.filter((entry) => entry.record);
      assert.deepStrictEqual(
        runs.map((entry) => entry.record?.localId).sort(),
        [first.localId, second.localId].sort(),
        'every live run is offered',
      );
      assert.ok(
        shown.items.some((entry) => entry.kind === vscode.QuickPickItemKind.Separator && entry.label === 'Stop Following'),
        'under "Stop Following"',
      );
      assert.match(shown.options?.placeHolder ?? '', /does not cancel: FLORA may still finish and charge/);
      assert.strictEqual(stopped?.localId, second.localId);
      assert.strictEqual(session.runs.get(second.localId)?.stopped?.reason, 'byUser', 'the picked run is no longer followed');
      assert.strictEqual(session.runs.get(second.localId)?.runId, second.runId);
      assert.ok(isLive(session.runs.get(first.localId) ?? first), 'the other run is still followed');
      await session.controller.stopFollowing(first.localId);
    } finally {
      statusBar.dispose();
      session.dispose();
    }
  });

  it('badges the Runs view with the runs that ended out of sight, here or in another window, and clears it when shown', async () => {
    const folder = temporaryFolder();
    const here = new RunsStore(new RunJournal(folder), 100);
    const there = new RunsStore(new RunJournal(folder), 100);
    const visibility = new vscode.EventEmitter<vscode.TreeViewVisibilityChangeEvent>();
    const view = { visible: false, onDidChangeVisibility: visibility.event, badge: undefined as vscode.ViewBadge | undefined };
    // Read through a function: an assertion that it is undefined must not narrow later reads.
    const badgeOf = (): vscode.ViewBadge | undefined => view.badge;
    const badge = new RunsBadge(view, here);
    const finish = async (store: RunsStore, record: RunRecord, change: Partial<RunRecord>) =>
      store.update(record.localId, change, { durable: true });
    try {
      await Promise.all([here.ready, there.ready]);
      const mine = runRecord({ status: 'running', progress: 40 });
      const theirs = runRecord({ status: 'running', progress: 10 });
      const stoppedByMe = runRecord({ status: 'running' });
      const stoppedByExtension = runRecord({ status: 'running' });
      for (const record of [mine, theirs, stoppedByMe, stoppedByExtension]) await here.put(record, { durable: true });
      await waitFor("the other window's copy", () => there.get(theirs.localId));

      await finish(here, mine, { status: 'completed', progress: 100 });
      assert.strictEqual(badgeOf()?.value, 1, 'a run that completed out of sight counts');
      assert.strictEqual(badgeOf()?.tooltip, '1 finished run');
      await finish(there, theirs, { status: 'failed' });
      await waitFor('the run another window saw fail', () => (badgeOf()?.value === 2 ? true : undefined));
      assert.strictEqual(badgeOf()?.tooltip, '2 finished runs');
      await finish(here, stoppedByMe, { stopped: { reason: 'byUser', at: Date.now() } });
      assert.strictEqual(badgeOf()?.value, 2, 'a run the user stopped does not count: they know');
      await finish(here, stoppedByExtension, { stopped: { reason: 'failing', at: Date.now() } });
      assert.strictEqual(badgeOf()?.value, 3, 'a run the extension stopped following counts: it waits for the user');
      assert.strictEqual(badgeOf()?.tooltip, '2 finished runs, 1 run no longer followed');

      view.visible = true;
      visibility.fire({ visible: true });
      assert.strictEqual(badgeOf(), undefined, 'showing the Runs view clears the badge');
      const whileVisible = runRecord({ status: 'running' });
      await here.put(whileVisible, { persist: false });
      await finish(here, whileVisible, { status: 'completed' });
      assert.strictEqual(badgeOf(), undefined, 'a run that ends in sight is seen');

      view.visible = false;
      visibility.fire({ visible: false });
      const later = runRecord({ status: 'running' });
      await here.put(later, { persist: false });
      await finish(here, later, { status: 'completed' });
      assert.strictEqual(badgeOf()?.value, 1, 'counting starts again once the view is hidden');
      await here.removeFinished();
      assert.strictEqual(badgeOf(), undefined, 'Clear Finished Runs takes what it removed off the badge');
    } finally {
      badge.dispose();
      visibility.dispose();
      here.dispose();
      there.dispose();
    }
  });

  it('shows how the last run ended in the status bar for a few seconds, then hides', async () => {
    const time = new ManualTime(Date.now());
    const runs = new RunsStore(new RunJournal(temporaryFolder()), 100);
    const statusBar = new RunsStatusBar(runs, { timers: time.timers });
    const { item, shown } = itemOf(statusBar);
    try {
      await runs.ready;
      const single = runRecord({ status: 'running', progress: 50 });
      await runs.put(single, { persist: false });
      statusBar.update();
      assert.ok(shown());
      assert.match(item.text, /Studio Shot 50%/);

      await runs.update(single.localId, { status: 'completed', progress: 100 });
      assert.ok(shown(), 'still shown once the run ended');
      assert.strictEqual(item.text, '$(check) Studio Shot done');
      const command = item.command as vscode.Command;
      assert.strictEqual(command.command, 'flora.openPreview', 'a click opens the result');
      assert.deepStrictEqual(command.arguments, [{ kind: 'run', localId: single.localId }]);
      await time.advance(RESULT_SHOWN_MS - 1);
      assert.ok(shown(), 'shown until its few seconds are up');
      assert.strictEqual(item.text, '$(check) Studio Shot done');
      await time.advance(1);
      assert.strictEqual(shown(), false, 'then hidden');

      const failing = runRecord({ status: 'running', progress: 20 });
      await runs.put(failing, { persist: false });
      statusBar.update();
      await runs.update(failing.localId, { status: 'failed' });
      assert.strictEqual(item.text, '$(error) Studio Shot failed');
      // A new run takes the item over before the result's time is up.
      const next = runRecord({ status: 'running', progress: 5 });
      await runs.put(next, { persist: false });
      await time.advance(100);
      assert.match(item.text, /Studio Shot 5%/, 'a new run shows its progress at once');
      await runs.update(next.localId, { stopped: { reason: 'byUser', at: time.now } });
      await time.advance(100);
      assert.strictEqual(shown(), false, 'a run the user stopped has not ended: nothing to show');
      await time.advance(RESULT_SHOWN_MS);
      assert.strictEqual(shown(), false);
    } finally {
      statusBar.dispose();
      runs.dispose();
    }
  });

  it('filters the Runs view by status, technique and text (inputs, files, run ID, saved files), batches included; clearing restores it', async () => {
    const runs = new RunsStore(new RunJournal(temporaryFolder()), 100);
    const filter = quietFilter();
    const tree = new RunsTree(runs, filter);
    const topLabels = () =>
      tree
        .getChildren()
        .map((node: RunsTreeNode) => labelOf(tree.getTreeItem(node)))
        .sort();
    const messageOf = (): string | undefined => tree.message;
    const messages: Array<string | undefined> = [];
    tree.onDidChangeMessage((text) => messages.push(text));
    try {
      await runs.ready;
      const hostile = '$(alert) [click](command:flora.removeApiKey)';
      const records = [
        runRecord({
          slug: 'icon-pack',
          techniqueName: 'Icon Pack',
          inputs: [{ id: 'prompt', type: 'text', value: 'weather icons, pastel' }],
        }),
        runRecord({ status: 'failed', errorCode: 'bad_input', runId: 'j57zebra123' }),
        runRecord({
          status: 'completed',
          savedOutputs: [{ index: 0, file: '/work/assets/hero-banner.png', provenance: '/work/assets/hero-banner.png.flora.json', at: 1 }],
        }),
        runRecord({ status: 'running', progress: 30 }),
        runRecord({ status: 'running', stopped: { reason: 'byUser', at: 1 } }),
        // A batch of two files: one failed, one completed.
        runRecord({
          batch: { id: 'b1', index: 0, size: 2 },
          status: 'failed',
          inputs: [{ id: 'product_image', type: 'imageUrl', value: 'https://cdn.example/lamp.png', localPath: '/work/lamp.png' }],
        }),
        runRecord({
          batch: { id: 'b1', index: 1, size: 2 },
          inputs: [{ id: 'product_image', type: 'imageUrl', value: 'https://cdn.example/mug.png', localPath: '/work/mug.png' }],
        }),
      ];
      for (const [index, record] of records.entries()) await runs.put({ ...record, startedLocallyAt: 1_000 + index }, { persist: false });
      const all = topLabels();
      assert.strictEqual(all.length, 6, 'five runs and one batch');

      await filter.set({ standing: 'failed' });
      assert.deepStrictEqual(topLabels(), ['Studio Shot', 'Studio Shot × 2'], 'the failed run and the batch with a failed run');
      const batch = tree.getChildren().find((node) => node.kind === 'batch');
      assert.ok(batch);
      assert.deepStrictEqual(
        tree.getChildren(batch).map((node) => labelOf(tree.getTreeItem(node))),
        ['lamp.png'],
        'the batch lists its runs that match',
      );
      assert.strictEqual(messageOf(), 'Showing 2 of 7 runs: failed');

      await filter.set({ technique: 'icon-pack' });
      assert.deepStrictEqual(topLabels(), ['Icon Pack']);
      await filter.set({ standing: 'live' });
      assert.strictEqual(topLabels().length, 1, 'the running run');
      await filter.set({ standing: 'stopped' });
      assert.strictEqual(topLabels().length, 1, 'the stopped run');

      for (const [text, expected] of [
        ['PASTEL', ['Icon Pack']],
        ['zebra', ['Studio Shot']],
        ['hero-banner', ['Studio Shot']],
        ['mug', ['Studio Shot × 2']],
      ] as const) {
        await filter.set({ text });
        assert.deepStrictEqual(topLabels(), [...expected], `text "${text}"`);
      }
      await filter.set({ text: 'https' });
      assert.deepStrictEqual(topLabels(), [], 'input URLs are not searched: "https" would keep every run');
      assert.strictEqual(messageOf(), undefined, 'no message when nothing matches: the view shows its welcome');
      const welcome = manifest().contributes.viewsWelcome.find(
        (entry) => entry.view === 'flora.runs' && entry.when === 'flora.runsFilterActive',
      );
      assert.ok(welcome, 'a welcome for no match');
      assert.match(welcome.contents, /command:flora\.clearRunsFilter/);

      // Text shown back to the user is inert.
      await runs.put(
        runRecord({ slug: 'icon-pack', techniqueName: 'Icon Pack', inputs: [{ id: 'prompt', type: 'text', value: hostile }] }),
        {
          persist: false,
        },
      );
      await filter.set({ text: hostile });
      assert.deepStrictEqual(topLabels(), ['Icon Pack']);
      assert.ok(messageOf()?.includes('"$\u2060(alert) [click]\u2060(command'), `inert: ${messageOf() ?? ''}`);

      // The command's picker sets one part at a time and keeps the others; picking it again takes it off.
      await filter.clear();
      const pick = (label: RegExp) =>
        replace('showQuickPick', async (items: vscode.QuickPickItem[]) => items.find((entry) => label.test(entry.label)));
      pick(/^failed$/);
      await filterRuns({ runs, filter });
      pick(/^Studio Shot$/);
      await filterRuns({ runs, filter });
      assert.deepStrictEqual(filter.criteria, { standing: 'failed', technique: 'studio-shot' });
      assert.deepStrictEqual(topLabels(), ['Studio Shot', 'Studio Shot × 2']);
      pick(/failed$/);
      await filterRuns({ runs, filter });
      assert.deepStrictEqual(filter.criteria, { technique: 'studio-shot' }, 'picking the status in use again takes it off');
      await clearRunsFilter({ runs, filter });
      assert.deepStrictEqual(topLabels(), [...all, 'Icon Pack'].sort(), 'clearing restores every run');
      assert.strictEqual(messageOf(), undefined);
      assert.ok(
        messages.some((text) => text?.startsWith('Showing')),
        'the view was told the filter',
      );

      // The window's own commands are registered; a wrong part is refused, not a filter that hides everything.
      await vscode.commands.executeCommand('flora.filterRuns', { standing: 'failed', text: 'lamp' });
      await vscode.commands.executeCommand('flora.clearRunsFilter');
      assert.match(await rejection(vscode.commands.executeCommand('flora.filterRuns', { standing: 'cancelled' })), /standing one of/);
    } finally {
      tree.dispose();
      filter.dispose();
      runs.dispose();
    }
  });
});
