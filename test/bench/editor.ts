// Items 1, 5 (in the editor) and 6: the real extension host of code-server, with FLORA and a hello-world
// baseline loaded side by side as development extensions, reached through headless Chromium. Each
// "session" is one load of the workbench (so one fresh extension host); the in-host half is host/index.ts.
//
// Timings in the page are taken with the page's own clock: from the input event's timestamp (the key
// press or mouse down that started it) to the first animation frame after the awaited element appeared.
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../harness/browser';
import { onProcessExit, removeDirectory } from '../harness/cleanup';
import { startCodeServer, type CodeServer } from '../harness/codeServer';
import { extensionDevelopmentPath, makeRunDirectory, repositoryRoot } from '../harness/paths';
import { Workbench } from '../harness/workbench';
import { copyFixtureWorkspace } from '../harness/workspace';
import type { RunRecord } from '../../src/core/runs';
import { runRecord } from '../common/records';
import { waitFor } from '../common/wait';
import { startSandbox, type Sandbox } from '../sandbox/server';
import type { ActivationStep, ScaleStep } from './host/index';
import { BENCH_SLUG, schedulerFigures } from './polling';

const HOST_ENTRY = path.join(repositoryRoot, 'out', 'test', 'bench', 'host', 'index.js');
const HELLO_SOURCE = path.join(repositoryRoot, 'test', 'bench', 'hello-world');
const FLORA_STORAGE_NAME = 'flora-community.flora-vscode';

export interface EditorOptions {
  /** The FLORA extension folder to load; default this repository (or FLORA_EXTENSION_DEVELOPMENT_PATH). */
  extensionPath?: string;
  activationSamples?: number;
  scaleRuns?: number;
  scaleRunMs?: number;
  historyRuns?: number;
  responsivenessSamples?: number;
  /** Only the activation windows (item 1), without the interactive and history windows. */
  activationOnly?: boolean;
  log?: (message: string) => void;
}

export interface SessionRecord {
  phase: string;
  ready: ActivationStep;
  /** Requests the sandbox received from loading the workbench until 2 s after activation. */
  requestsDuringActivation: number;
  /** Files and folders in FLORA's global storage created or changed during that time. */
  storageWritesDuringActivation: string[];
  /** From the mouse down on the FLORA icon to the first Runs row on screen (first render in this window). */
  runsViewMs?: number;
  runsViewRows?: number;
}

export interface Responsiveness {
  pickerMs: number[];
  helloPickerMs: number[];
  promptMs: number[];
  helloPromptMs: number[];
  /** Sandbox requests between the key press and the picker / prompt being on screen, summed over samples. */
  requestsBeforePicker: number;
  requestsBeforePrompt: number;
}

export interface RefreshCounts {
  status: number[];
  runs: number[];
}

export interface EditorResults {
  activation: SessionRecord[];
  /** The rest is absent with activationOnly. */
  interactive?: SessionRecord & {
    responsiveness: Responsiveness;
    scale: ScaleStep;
    refresh: RefreshCounts;
    statusItem: string | undefined;
    scheduler: ReturnType<typeof schedulerFigures>;
  };
  historyBaseline?: SessionRecord[];
  historyLarge?: SessionRecord[];
  historySeeded?: number;
  seedProblem?: string;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Page-side helpers, installed before the workbench's own scripts on every load (plain JS: no DOM types here). */
const PAGE_HELPERS = String.raw`
(() => {
  if (window.__bench) return;
  const bench = { lastKey: undefined, lastPointer: undefined, waits: {}, refresh: { status: [], runs: [] } };
  window.__bench = bench;
  window.addEventListener('keydown', (event) => { bench.lastKey = { key: event.key, at: event.timeStamp }; }, true);
  window.addEventListener('mousedown', (event) => { bench.lastPointer = event.timeStamp; }, true);
  const shown = (element) => !!element && element.getClientRects().length > 0;
  bench.quickInput = () => {
    const widget = Array.from(document.querySelectorAll('.quick-input-widget')).find(shown);
    if (!widget) return { open: false, title: '', rows: 0, input: false };
    const titleElement = widget.querySelector('.quick-input-title');
    const title = ((titleElement && titleElement.textContent) || '').trim();
    const rows = Array.from(widget.querySelectorAll('.quick-input-list .monaco-list-row')).filter(shown).length;
    return { open: true, title, rows, input: shown(widget.querySelector('.quick-input-box input')) };
  };
  bench.runsPane = () => {
    const header = document.querySelector('.pane-header[aria-label="Runs Section"]');
    return header && shown(header) ? header.parentElement : undefined;
  };
  bench.runsRows = () => {
    const pane = bench.runsPane();
    return pane ? Array.from(pane.querySelectorAll('.pane-body .monaco-list-row')).filter(shown).length : 0;
  };
  // Records when predicate() first holds (after a DOM change), and the next animation frame after it.
  bench.arm = (name, predicate) => {
    delete bench.waits[name];
    let done = false;
    const observer = new MutationObserver(() => check());
    const check = () => {
      if (done || !predicate()) return;
      done = true;
      observer.disconnect();
      const domAt = performance.now();
      requestAnimationFrame(() => { bench.waits[name] = { domAt, frameAt: performance.now() }; });
    };
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    check();
  };
  bench.floraStatusItem = () => {
    const item = document.querySelector('#workbench\\.parts\\.statusbar [id*="flora.runs"]');
    return item && item.getClientRects().length > 0 ? item.id + ': ' + (item.textContent || '').trim() : undefined;
  };
  // One entry per DOM update batch (a MutationObserver callback) of the FLORA status bar item and the Runs view.
  bench.countRefreshes = () => {
    const statusbar = document.getElementById('workbench.parts.statusbar');
    const floraItem = '[id*="flora.runs"]';
    const inFlora = (node) => {
      const element = node && (node.nodeType === 1 ? node : node.parentElement);
      return !!element && !!element.closest(floraItem);
    };
    const holdsFlora = (nodes) => Array.from(nodes).some((node) => node.nodeType === 1 && (node.matches(floraItem) || !!node.querySelector(floraItem)));
    const touchesFlora = (record) => inFlora(record.target) || holdsFlora(record.addedNodes) || holdsFlora(record.removedNodes);
    const options = { subtree: true, childList: true, characterData: true, attributes: true };
    if (statusbar) new MutationObserver((records) => { if (records.some(touchesFlora)) bench.refresh.status.push(Date.now()); }).observe(statusbar, options);
    const pane = bench.runsPane();
    const body = pane && pane.querySelector('.pane-body');
    if (body) new MutationObserver(() => bench.refresh.runs.push(Date.now())).observe(body, options);
    return { status: !!statusbar, runs: !!body };
  };
})();
`;

interface PageWait {
  wait: { domAt: number; frameAt: number };
  key: { key: string; at: number } | undefined;
  pointer: number | undefined;
}

class Channel {
  constructor(readonly directory: string) {
    fs.mkdirSync(directory, { recursive: true });
  }

  async receive<T>(step: string, timeoutMs: number): Promise<T> {
    const file = path.join(this.directory, `${step}.json`);
    const errorFile = path.join(this.directory, 'error.json');
    return waitFor(
      `${step} from the extension host`,
      () => {
        if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
        if (fs.existsSync(errorFile)) {
          const { message } = JSON.parse(fs.readFileSync(errorFile, 'utf8')) as { message: string };
          throw new Error(`the in-host benchmark failed: ${message}`);
        }
        return undefined;
      },
      timeoutMs,
      50,
    );
  }

  go(step: string): void {
    fs.writeFileSync(path.join(this.directory, `${step}.go`), '');
  }
}

interface SessionContext {
  ready: ActivationStep;
  channel: Channel;
  startedAt: number;
  requestsBefore: number;
}

class BenchEditor {
  private onExit: ((code: number) => void) | undefined;
  private sessions = 0;
  readonly workbench: Workbench;

  private constructor(
    readonly server: CodeServer,
    readonly browser: Browser,
    readonly sandbox: Sandbox,
    private readonly runDirectory: string,
    private readonly workspace: string,
    private readonly developmentFolder: string,
    private readonly unregisterExitHook: () => void,
  ) {
    this.workbench = new Workbench(browser.page);
  }

  get page(): Page {
    return this.browser.page;
  }

  static async start(sandbox: Sandbox, extensionPath: string): Promise<BenchEditor> {
    const runDirectory = makeRunDirectory('bench');
    const unregisterExitHook = onProcessExit(() => removeDirectory(runDirectory));
    let server: CodeServer | undefined;
    try {
      const workspace = copyFixtureWorkspace(path.join(runDirectory, 'workspace'));
      // One development folder holding both extensions: the web workbench takes a single
      // extensionDevelopmentPath, and a folder without package.json is scanned for extensions inside it.
      const developmentFolder = path.join(runDirectory, 'extensions-under-test');
      fs.mkdirSync(developmentFolder);
      fs.symlinkSync(extensionPath, path.join(developmentFolder, 'flora'));
      fs.cpSync(HELLO_SOURCE, path.join(developmentFolder, 'hello-world'), { recursive: true });
      server = await startCodeServer({
        workspace,
        runDir: path.join(runDirectory, 'code-server'),
        settings: { 'flora.baseUrl': sandbox.url, 'flora.maxHistory': 10_000 },
      });
      const browser = await launchBrowser({ userDataDir: path.join(runDirectory, 'chromium') });
      const editor = new BenchEditor(server, browser, sandbox, runDirectory, workspace, developmentFolder, unregisterExitHook);
      await browser.page.addInitScript(PAGE_HELPERS);
      await browser.page.exposeFunction('codeAutomationLog', () => undefined);
      await browser.page.exposeFunction('codeAutomationExit', (code: number) => editor.onExit?.(code));
      return editor;
    } catch (error) {
      await server?.stop();
      removeDirectory(runDirectory);
      unregisterExitHook();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.server.stop();
    removeDirectory(this.runDirectory);
    this.unregisterExitHook();
  }

  /** FLORA's global storage folder on the server (the extension host is the server's). */
  floraStorage(): string | undefined {
    const root = path.join(this.server.userDataDir, 'User', 'globalStorage');
    if (!fs.existsSync(root)) return undefined;
    const name = fs.readdirSync(root).find((entry) => entry.toLowerCase() === FLORA_STORAGE_NAME);
    return name ? path.join(root, name) : undefined;
  }

  /** Files and folders under FLORA's global storage changed since `since` (ms). */
  storageWritesSince(since: number): string[] {
    const storage = this.floraStorage();
    if (!storage) return [];
    const changed: string[] = [];
    const walk = (directory: string): void => {
      for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
        const full = path.join(directory, entry.name);
        let stats: fs.Stats;
        try {
          stats = fs.statSync(full);
        } catch {
          continue;
        }
        if (Math.max(stats.mtimeMs, stats.birthtimeMs || 0) >= since)
          changed.push(path.relative(storage, full) + (entry.isDirectory() ? '/' : ''));
        if (entry.isDirectory() && changed.length < 50) walk(full);
      }
    };
    walk(storage);
    return changed.sort();
  }

  /** Waits until no other window's extension host holds FLORA's polling lease (or it expired). */
  async waitForPollingLease(pid: number, timeoutMs = 30_000): Promise<void> {
    const isFree = (): boolean => {
      const storage = this.floraStorage();
      const file = storage ? path.join(storage, 'poller.lease') : undefined;
      if (!file || !fs.existsSync(file)) return true;
      try {
        const lease = JSON.parse(fs.readFileSync(file, 'utf8')) as { owner?: string; expiresAt?: number };
        return !lease.owner || lease.owner.startsWith(`${pid}-`) || (lease.expiresAt ?? 0) < Date.now();
      } catch {
        return true;
      }
    };
    // A lease still held after the timeout is measured through, as before: the figures then say so.
    await waitFor('the polling lease to be free', isFree, timeoutMs, 200).catch(() => undefined);
  }

  private url(channel: Channel, phase: string, environment: Record<string, string>): string {
    const base = new URL(this.server.url);
    const remote = (file: string): string => `vscode-remote://${base.host}${path.resolve(file)}`;
    const payload: Array<[string, string]> = [
      ['extensionDevelopmentPath', remote(this.developmentFolder)],
      ['extensionTestsPath', remote(HOST_ENTRY)],
      [
        'extensionEnvironment',
        JSON.stringify({
          FLORA_BENCH_DIR: channel.directory,
          FLORA_BENCH_PHASE: phase,
          FLORA_DEV_API_KEY: this.sandbox.apiKey,
          ...environment,
        }),
      ],
    ];
    return `${base.origin}/?folder=${encodeURIComponent(this.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  }

  /** One workbench load: waits for the in-host module's `ready`, runs `during`, then lets the host finish. */
  async session<T>(
    phase: string,
    environment: Record<string, string>,
    during: (context: SessionContext) => Promise<T>,
  ): Promise<{ record: SessionRecord; result: T }> {
    const channel = new Channel(path.join(this.runDirectory, `channel-${++this.sessions}`));
    const exited = new Promise<number>((resolve) => (this.onExit = resolve));
    const requestsBefore = this.sandbox.requests.length;
    const startedAt = Date.now();
    await this.page.goto(this.url(channel, phase, environment), { timeout: 120_000 });
    await this.workbench.waitForWorkbench();
    const ready = await channel.receive<ActivationStep>('ready', 180_000);
    // Deferred start-up work (reading the key, the journal) runs right after activate(); give it a moment.
    await sleep(2_000);
    const record: SessionRecord = {
      phase,
      ready,
      requestsDuringActivation: this.sandbox.requests.length - requestsBefore,
      storageWritesDuringActivation: this.storageWritesSince(startedAt),
    };
    const result = await during({ ready, channel, startedAt, requestsBefore });
    channel.go('done');
    await Promise.race([exited, sleep(20_000)]);
    this.onExit = undefined;
    await this.page.goto('about:blank', { timeout: 10_000 }).catch(() => undefined);
    // Let the old extension host exit before the next one starts.
    await sleep(1_500);
    return { record, result };
  }

  private async waitFor(name: string, timeoutMs = 60_000): Promise<PageWait> {
    const key = JSON.stringify(name);
    await this.page.waitForFunction(`!!window.__bench.waits[${key}]`, undefined, { timeout: timeoutMs });
    return this.page.evaluate<PageWait>(
      `({ wait: window.__bench.waits[${key}], key: window.__bench.lastKey, pointer: window.__bench.lastPointer })`,
    );
  }

  /** Arms a page-side wait, performs `action`, and returns input event → frame after the element showed. */
  async timed(name: string, predicate: string, action: () => Promise<void>, origin: 'key' | 'pointer'): Promise<number> {
    await this.page.evaluate(`window.__bench.arm(${JSON.stringify(name)}, ${predicate})`);
    await action();
    const { wait, key, pointer } = await this.waitFor(name);
    const start = origin === 'key' ? key?.at : pointer;
    if (start === undefined) throw new Error(`no ${origin} event recorded for ${name}`);
    return wait.frameAt - start;
  }

  /** Opens the palette with `label` typed and its row shown, ready for Enter. */
  async paletteReady(label: string): Promise<void> {
    const quickInput = this.workbench.quickInput();
    await this.page.keyboard.press('F1');
    await quickInput.waitForOpen();
    await quickInput.fill(`>${label}`);
    await quickInput.row(label).waitFor({ state: 'visible', timeout: 30_000 });
  }

  async closeQuickInput(): Promise<void> {
    const quickInput = this.workbench.quickInput();
    await this.page.keyboard.press('Escape');
    await quickInput.waitForClosed();
  }

  async isRunsViewShown(): Promise<boolean> {
    return this.page.evaluate<boolean>('!!window.__bench.runsPane()');
  }

  /** First render of the Runs view in this window: mouse down on the FLORA icon to the first row on screen. */
  async openRunsViewTimed(): Promise<{ ms: number; rows: number }> {
    if (await this.isRunsViewShown()) await this.workbench.openViewContainer('Explorer');
    const icon = this.page.locator('.activitybar .action-item a.action-label[aria-label^="FLORA"]').first();
    await icon.waitFor({ state: 'visible', timeout: 30_000 });
    const ms = await this.timed('runsView', '() => window.__bench.runsRows() > 0', () => icon.click({ timeout: 30_000 }), 'pointer');
    const rows = await this.page.evaluate<number>('window.__bench.runsRows()');
    return { ms, rows };
  }

  /** Leaves Explorer showing, so the next window starts without the FLORA views rendered. */
  async showExplorer(): Promise<void> {
    await this.workbench.openViewContainer('Explorer');
  }
}

async function measureResponsiveness(editor: BenchEditor, samples: number): Promise<Responsiveness> {
  const sandbox = editor.sandbox;
  const result: Responsiveness = {
    pickerMs: [],
    helloPickerMs: [],
    promptMs: [],
    helloPromptMs: [],
    requestsBeforePicker: 0,
    requestsBeforePrompt: 0,
  };
  const floraPicker = `() => { const s = window.__bench.quickInput(); return s.title === 'FLORA: Run Technique' && s.rows > 0; }`;
  const helloPicker = `() => { const s = window.__bench.quickInput(); return s.title === 'Hello World: Pick' && s.rows > 0; }`;
  const floraPrompt = String.raw`() => { const s = window.__bench.quickInput(); return /^Icon Pack\b.*\(1\/\d+\)/.test(s.title) && s.input; }`;
  const helloPrompt = String.raw`() => { const s = window.__bench.quickInput(); return /^Item 1: .*\(1\/1\)/.test(s.title) && s.input; }`;
  const enter = (): Promise<void> => editor.page.keyboard.press('Enter');

  for (let index = 0; index < samples; index++) {
    await editor.paletteReady('FLORA: Run Technique…');
    const before = sandbox.requests.length;
    result.pickerMs.push(await editor.timed(`floraPicker${index}`, floraPicker, enter, 'key'));
    result.requestsBeforePicker += sandbox.requests.length - before;
    await editor.closeQuickInput();
    await editor.paletteReady('Hello World: Pick…');
    result.helloPickerMs.push(await editor.timed(`helloPicker${index}`, helloPicker, enter, 'key'));
    await editor.closeQuickInput();
  }

  const chooseIconPack = async (): Promise<void> => {
    await editor.paletteReady('FLORA: Run Technique…');
    await enter();
    const quickInput = editor.workbench.quickInput();
    await quickInput.waitForTitle('FLORA: Run Technique');
    await quickInput.fill('Icon Pack');
    await quickInput.row('Icon Pack').waitFor({ state: 'visible', timeout: 30_000 });
  };
  // Once with the network: the technique's details are fetched, then cached for the timed picks.
  await chooseIconPack();
  await editor.page.evaluate(`window.__bench.arm('warmPrompt', ${floraPrompt})`);
  await enter();
  await editor.page.waitForFunction(`!!window.__bench.waits.warmPrompt`, undefined, { timeout: 60_000 });
  await editor.closeQuickInput();

  for (let index = 0; index < samples; index++) {
    await chooseIconPack();
    const before = sandbox.requests.length;
    result.promptMs.push(await editor.timed(`floraPrompt${index}`, floraPrompt, enter, 'key'));
    result.requestsBeforePrompt += sandbox.requests.length - before;
    await editor.closeQuickInput();

    await editor.paletteReady('Hello World: Pick…');
    await enter();
    const quickInput = editor.workbench.quickInput();
    await quickInput.waitForTitle('Hello World: Pick');
    await quickInput.fill('Item 1');
    await quickInput.row('Item 1').waitFor({ state: 'visible', timeout: 30_000 });
    result.helloPromptMs.push(await editor.timed(`helloPrompt${index}`, helloPrompt, enter, 'key'));
    await editor.closeQuickInput();
  }
  return result;
}

/**
 * Fills FLORA's run journal (one JSON file per run in its global storage) up to `total` finished runs,
 * cloned from the finished runs already there. Returns how many runs the journal then holds.
 */
function seedHistory(editor: BenchEditor, total: number): { count?: number; problem?: string } {
  const storage = editor.floraStorage();
  const journal = storage ? path.join(storage, 'runs') : undefined;
  if (!journal || !fs.existsSync(journal)) return { problem: `no run journal under ${storage ?? 'global storage'}` };
  const templates: Array<Partial<RunRecord>> = [];
  for (const name of fs.readdirSync(journal)) {
    if (!name.endsWith('.json')) continue;
    const record = JSON.parse(fs.readFileSync(path.join(journal, name), 'utf8')) as Partial<RunRecord>;
    if (typeof record.localId !== 'string' || `${encodeURIComponent(record.localId)}.json` !== name) {
      return { problem: `journal entry ${name} is not named after its localId; the journal format changed` };
    }
    if (record.status === 'completed' || record.status === 'failed') templates.push(record);
  }
  if (templates.length === 0) return { problem: 'no finished runs in the journal to clone' };
  const oldest = Math.min(...templates.map((record) => Number(record.startedLocallyAt) || Date.now()));
  for (let index = templates.length; index < total; index++) {
    const template = templates[index % templates.length] ?? {};
    const localId = `flora-vscode-bench-${String(index).padStart(5, '0')}`;
    const age = (index + 1) * 60_000;
    // A clone of what the extension wrote, so the journal holds records of its real shape.
    const record = runRecord({
      ...template,
      localId,
      idempotencyKey: localId,
      runId: `j57bench${String(index).padStart(24, '0')}`,
      startedLocallyAt: oldest - age,
      createdAt: oldest - age,
      startedAt: oldest - age + 1_000,
      completedAt: oldest - age + 20_000,
      updatedAt: oldest - age + 20_000,
    });
    fs.writeFileSync(path.join(journal, `${encodeURIComponent(localId)}.json`), JSON.stringify(record));
  }
  return { count: fs.readdirSync(journal).filter((name) => name.endsWith('.json')).length };
}

export async function measureEditor(options: EditorOptions = {}): Promise<EditorResults> {
  const log = options.log ?? (() => undefined);
  const activationSamples = options.activationSamples ?? 5;
  const scaleRuns = options.scaleRuns ?? 200;
  const historyRuns = options.historyRuns ?? 10_000;
  const sandbox = await startSandbox({ runDurationMs: options.scaleRunMs ?? 30_000, credits: 100_000_000 });
  let editor: BenchEditor | undefined;
  try {
    editor = await BenchEditor.start(sandbox, options.extensionPath ?? extensionDevelopmentPath);
    const bench = editor;
    log(`code-server at ${bench.server.url}`);

    // 1. Activation, empty history. The first window is a warm-up (cold disk caches); it is kept in the
    // JSON but not in the figures.
    const activation: SessionRecord[] = [];
    for (let index = 0; index <= activationSamples; index++) {
      const { record } = await bench.session('activation', { FLORA_BENCH_EXPECT_RUNS: '0' }, async () => undefined);
      activation.push(record);
      log(
        `activation ${index}: FLORA ${record.ready.extensions[0]?.totalMs.toFixed(1)} ms, hello ${record.ready.extensions[1]?.totalMs.toFixed(1)} ms`,
      );
    }

    if (options.activationOnly) return { activation };

    // 5 and 6 in one window: responsiveness first (idle editor), then the 200 concurrent runs.
    const interactive = await bench.session(
      'interactive',
      { FLORA_BENCH_EXPECT_RUNS: '0', FLORA_BENCH_RUNS: String(scaleRuns), FLORA_BENCH_SLUG: BENCH_SLUG },
      async ({ ready, channel }) => {
        const responsiveness = await measureResponsiveness(bench, options.responsivenessSamples ?? 5);
        log(`responsiveness: picker ${responsiveness.pickerMs.map((ms) => Math.round(ms)).join(', ')} ms`);
        await bench.waitForPollingLease(ready.pid);
        await bench.workbench.openViewContainer('FLORA');
        await bench.page.waitForFunction('!!window.__bench.runsPane()', undefined, { timeout: 30_000 });
        await bench.page.evaluate('window.__bench.countRefreshes()');
        channel.go('scale');
        // Which status bar element the refresh counter watches, for the record (visible while runs are live).
        await bench.page.waitForFunction('window.__bench.floraStatusItem()', undefined, { timeout: 60_000 }).catch(() => undefined);
        const statusItem = await bench.page.evaluate<string | undefined>('window.__bench.floraStatusItem()');
        const scale = await channel.receive<ScaleStep>('scale', 10 * 60_000);
        const refresh = await bench.page.evaluate<RefreshCounts>('window.__bench.refresh');
        await bench.showExplorer();
        log(`scale: ${scale.runIds.length} runs followed in ${Math.round(scale.follow.wallMs / 1000)} s`);
        return { responsiveness, scale, refresh, statusItem, scheduler: schedulerFigures(sandbox, scale.runIds) };
      },
    );

    const historySession = async (phase: string, expected: number): Promise<SessionRecord> => {
      const { record, result } = await bench.session(phase, { FLORA_BENCH_EXPECT_RUNS: String(expected) }, async () => {
        const opened = await bench.openRunsViewTimed();
        await bench.showExplorer();
        return opened;
      });
      log(
        `${phase}: ${record.ready.historyRuns} runs, FLORA activation ${record.ready.extensions[0]?.totalMs.toFixed(1)} ms, Runs view ${Math.round(result.ms)} ms`,
      );
      return { ...record, runsViewMs: result.ms, runsViewRows: result.rows };
    };

    // History: the runs of the scale test (the default maximum, 200) as the baseline, then 10,000.
    const baselineRuns = interactive.result.scale.runIds.length;
    const historyBaseline: SessionRecord[] = [];
    for (let index = 0; index < 2; index++) historyBaseline.push(await historySession('history-baseline', baselineRuns));
    const seeded = seedHistory(bench, historyRuns);
    await sleep(100);
    const historyLarge: SessionRecord[] = [];
    if (seeded.count !== undefined) {
      for (let index = 0; index < 3; index++) historyLarge.push(await historySession('history-large', seeded.count));
    } else {
      log(`history not seeded: ${seeded.problem ?? ''}`);
    }
    return {
      activation,
      interactive: { ...interactive.record, ...interactive.result },
      historyBaseline,
      historyLarge,
      historySeeded: seeded.count,
      seedProblem: seeded.problem,
    };
  } finally {
    await editor?.close();
    await sandbox.close();
  }
}
