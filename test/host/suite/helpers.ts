// Shared pieces of the in-host suites: the extension's API, a sandbox the extension is pointed at, waits,
// and the stores and service of one "window" over a storage folder, with memory-backed state and secrets.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { waitFor as sharedWaitFor } from '../../common/wait';
import type { RunRecord } from '../../../src/core/runs';
import type { FloraApi } from '../../../src/extension';
import { createServices, type FloraServices } from '../../../src/services/composition';
import type { BudgetPrompt } from '../../../src/services/budgetGate';
import type { Log } from '../../../src/services/log';
import type { FollowingBounds } from '../../../src/services/runController';
import { RunNotifications } from '../../../src/views/notifications';
import type { ManualTime } from '../../common/manualTime';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/server';

export const EXTENSION_ID = 'flora-community.flora-vscode';

export async function floraApi(): Promise<FloraApi> {
  const extension = vscode.extensions.getExtension<FloraApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed`);
  return extension.activate();
}

/** Starts a sandbox and points the extension at it with its key; the returned sandbox is closed by the caller. */
export async function sandboxForExtension(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ runDurationMs: 1_500, ...options });
  await floraApi();
  const configuration = vscode.workspace.getConfiguration('flora');
  await configuration.update('baseUrl', sandbox.url, vscode.ConfigurationTarget.Global);
  await configuration.update('pollIntervalSeconds', 2, vscode.ConfigurationTarget.Global);
  await vscode.commands.executeCommand('flora.setApiKey', sandbox.apiKey);
  return sandbox;
}

/** The shared wait loop, with the host tier's longer default: the editor is slower than a unit. */
export function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  return sharedWaitFor(what, probe, timeoutMs, 100);
}

/** Asserts that a promise rejects, and returns the error's message. */
export async function rejection(promise: Thenable<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  assert.fail('expected the call to be rejected');
}

export function postsTo(sandbox: Sandbox, slug: string): number {
  return sandbox.requests.filter((request) => request.method === 'POST' && request.path.includes(`/techniques/${slug}/runs`)).length;
}

export const IMAGE_URL = 'https://media.flora.ai/examples/product.png';

/** globalState as VS Code keeps it between sessions: a key-value map of JSON values (copied, as stored). */
export class MemoryMemento implements vscode.Memento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, defaultValue?: T): T {
    return (this.values.has(key) ? this.values.get(key) : defaultValue) as T;
  }
  update(key: string, value: unknown): Thenable<void> {
    this.values.set(key, JSON.parse(JSON.stringify(value)) as unknown);
    return Promise.resolve();
  }
}

/** SecretStorage in memory, firing onDidChange as VS Code does (the KeyStore listens to it). */
export class MemorySecrets implements vscode.SecretStorage {
  private readonly values = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.SecretStorageChangeEvent>();
  readonly onDidChange = this.changed.event;
  get(key: string): Thenable<string | undefined> {
    return Promise.resolve(this.values.get(key));
  }
  store(key: string, value: string): Thenable<void> {
    this.values.set(key, value);
    this.changed.fire({ key });
    return Promise.resolve();
  }
  delete(key: string): Thenable<void> {
    this.values.delete(key);
    this.changed.fire({ key });
    return Promise.resolve();
  }
}

/** One "window": its models, built by the extension's own composition root, and the notices it gave. */
export interface Session extends FloraServices {
  /** Runs this window announced as finished, and as stopped (with the way to resume), in order. */
  notices: { finished: RunRecord[]; stopped: RunRecord[] };
  /** The first-upload questions the window asked: the files and the target named. */
  consents: Array<{ files: readonly string[]; target: string }>;
}

export interface SessionOptions {
  /** Whether to start the window's lease loop (default true). */
  start?: boolean;
  bounds?: Partial<FollowingBounds>;
  /** The clock and timers of the bounded retries and the poller; real ones when absent. */
  time?: ManualTime;
  /** VS Code's http.proxy, as extension.ts hands it over. */
  proxyUrl?: string;
  /** Answers the first-upload question for the window (default: agrees, and records the question). */
  consent?: (files: readonly string[], target: string) => Promise<boolean>;
  /** Answers the daily budget's question for the window (default: VS Code's modal dialog). */
  budgetPrompt?: BudgetPrompt;
}

/**
 * One "window" (or one activation of it): the models createServices builds for activate(), over a
 * global-storage folder, with memory-backed state, plus its notification policy with the notices recorded
 * instead of shown. Two sessions over the same folder at once are two windows of one profile.
 */
export async function activateOver(
  storage: string,
  secrets: vscode.SecretStorage,
  log: Log,
  options: SessionOptions = {},
): Promise<Session> {
  const consents: Session['consents'] = [];
  const services = createServices({
    consent: async (files, target) => {
      consents.push({ files, target });
      return options.consent ? options.consent(files, target) : true;
    },
    secrets,
    memento: new MemoryMemento(),
    storageFolder: storage,
    log,
    userAgent: 'flora-vscode-test',
    proxyUrl: options.proxyUrl,
    lease: { ttlMs: 3_000, checkMs: 500 },
    bounds: options.bounds,
    now: options.time?.clock,
    timers: options.time?.timers,
    budgetPrompt: options.budgetPrompt,
  });
  const notices: Session['notices'] = { finished: [], stopped: [] };
  const notifications = new RunNotifications({
    runs: services.runs,
    controller: services.controller,
    coordinator: services.coordinator,
    now: options.time?.clock,
    saving: { saver: services.saver, settings: services.settings, log },
    presenter: {
      finished: async (record) => void notices.finished.push(record),
      stopped: async (record) => void notices.stopped.push(record),
    },
  });
  await services.keys.get();
  await services.runs.ready;
  if (options.start !== false) {
    notifications.announceUnseen();
    services.start();
  }
  return {
    ...services,
    notices,
    consents,
    dispose: () => {
      notifications.dispose();
      services.dispose();
    },
  };
}

/**
 * Waits for `probe`, moving a manual clock to its next timer whenever the code under test waits on one:
 * the clock moves only as far as the code's own schedule, and the test never sleeps on it.
 */
export function advanceUntil<T>(time: ManualTime, what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  return waitFor(what, async () => {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await time.runNext();
    return undefined;
  });
}

/**
 * A stand-in for vscode.window.createInputBox: on show() it asks `answer` for the box's title and types that
 * and presses Enter, as a user would; undefined is Escape. Every box shown is recorded in `shown`.
 */
export function answeringInputBox(
  answer: (title: string) => string | undefined,
  shown: Array<{ title: string; password: boolean; placeholder?: string }> = [],
): vscode.InputBox {
  const accept = new vscode.EventEmitter<void>();
  const hide = new vscode.EventEmitter<void>();
  const box = {
    title: undefined as string | undefined,
    prompt: undefined as string | undefined,
    placeholder: undefined as string | undefined,
    password: false,
    value: '',
    validationMessage: undefined as string | undefined,
    ignoreFocusOut: false,
    buttons: [] as readonly vscode.QuickInputButton[],
    onDidChangeValue: new vscode.EventEmitter<string>().event,
    onDidTriggerButton: new vscode.EventEmitter<vscode.QuickInputButton>().event,
    onDidAccept: accept.event,
    onDidHide: hide.event,
    show: () => {
      setTimeout(() => {
        const title = box.title ?? '';
        shown.push({ title, password: box.password, placeholder: box.placeholder });
        const value = answer(title);
        if (value === undefined) return hide.fire();
        box.value = value;
        accept.fire();
      }, 0);
    },
    hide: () => hide.fire(),
    dispose: () => {
      accept.dispose();
      hide.dispose();
    },
  };
  return box as unknown as vscode.InputBox;
}

/** What a stand-in quick pick showed when it opened (before the test's answer acted on it). */
export interface ShownPicker {
  title: string;
  placeholder: string | undefined;
  value: string;
  /** Whether the Back button was offered. */
  back: boolean;
  items: vscode.QuickPickItem[];
}

/** What the test's answer can do to a stand-in quick pick, as a user would. */
export interface PickerUser {
  readonly shown: ShownPicker;
  /** The items it shows now (a picker that takes typed text rebuilds them as the user types). */
  items(): vscode.QuickPickItem[];
  /** Types into the field (replacing what is there). */
  type(value: string): void;
  /** Presses Enter: accepts the first item that is not a separator, as the real widget's active item. */
  enter(): void;
  /** Picks the first item whose label matches. */
  pick(label: RegExp): void;
  back(): void;
  escape(): void;
}

/**
 * A stand-in for vscode.window.createQuickPick: on show() it records what it shows in `shown` and lets
 * `answer` play the user; a picker the answer leaves alone stays open until the code under test disposes it.
 */
export function answeringQuickPick(answer: (user: PickerUser) => void, shown: ShownPicker[] = []): vscode.QuickPick<vscode.QuickPickItem> {
  const accept = new vscode.EventEmitter<void>();
  const hide = new vscode.EventEmitter<void>();
  const changeValue = new vscode.EventEmitter<string>();
  const triggerButton = new vscode.EventEmitter<vscode.QuickInputButton>();
  const picker = {
    title: undefined as string | undefined,
    placeholder: undefined as string | undefined,
    value: '',
    items: [] as readonly vscode.QuickPickItem[],
    selectedItems: [] as readonly vscode.QuickPickItem[],
    activeItems: [] as readonly vscode.QuickPickItem[],
    buttons: [] as readonly vscode.QuickInputButton[],
    ignoreFocusOut: false,
    matchOnDescription: false,
    onDidAccept: accept.event,
    onDidHide: hide.event,
    onDidChangeValue: changeValue.event,
    onDidTriggerButton: triggerButton.event,
    onDidChangeSelection: new vscode.EventEmitter<vscode.QuickPickItem[]>().event,
    onDidChangeActive: new vscode.EventEmitter<vscode.QuickPickItem[]>().event,
    show: () => {
      setTimeout(() => {
        const record: ShownPicker = {
          title: picker.title ?? '',
          placeholder: picker.placeholder,
          value: picker.value,
          back: picker.buttons.includes(vscode.QuickInputButtons.Back),
          items: [...picker.items],
        };
        shown.push(record);
        const choose = (item: vscode.QuickPickItem | undefined) => {
          picker.selectedItems = item ? [item] : [];
          accept.fire();
        };
        answer({
          shown: record,
          items: () => [...picker.items],
          type: (value) => {
            picker.value = value;
            changeValue.fire(value);
          },
          enter: () => choose(picker.items.find((item) => item.kind !== vscode.QuickPickItemKind.Separator)),
          pick: (label) => {
            const item = picker.items.find((candidate) => label.test(candidate.label));
            assert.ok(item, `no item ${String(label)} in ${picker.items.map((candidate) => candidate.label).join(' | ')}`);
            choose(item);
          },
          back: () => triggerButton.fire(vscode.QuickInputButtons.Back),
          escape: () => hide.fire(),
        });
      }, 0);
    },
    hide: () => hide.fire(),
    dispose: () => {
      for (const emitter of [accept, hide, changeValue, triggerButton]) emitter.dispose();
    },
  };
  return picker as unknown as vscode.QuickPick<vscode.QuickPickItem>;
}

/** The inputs of the newest run of `slug` the sandbox was asked to create, by input id. */
export function lastPostedInputs(sandbox: Sandbox, slug: string): Record<string, string> | undefined {
  const request = sandbox.requests.filter((entry) => entry.method === 'POST' && entry.path.includes(`/techniques/${slug}/runs`)).at(-1);
  if (!request) return undefined;
  const body = JSON.parse(request.body) as { inputs: Array<{ id: string; value: string }> };
  return Object.fromEntries(body.inputs.map((input) => [input.id, input.value]));
}

/** What a stand-in input box showed when it opened. */
export interface ShownBox {
  title: string;
  prompt: string | undefined;
  placeholder: string | undefined;
  /** The value it started from. */
  value: string;
  validationMessage: string | undefined;
}

/**
 * Like answeringInputBox, but `answer` sees everything the box showed (the value it started from too) and
 * each box is recorded in `shown`: the answer is typed and Enter pressed; undefined is Escape.
 */
export function seeingInputBox(answer: (box: ShownBox) => string | undefined, shown: ShownBox[] = []): vscode.InputBox {
  const accept = new vscode.EventEmitter<void>();
  const hide = new vscode.EventEmitter<void>();
  const changeValue = new vscode.EventEmitter<string>();
  const box = {
    title: undefined as string | undefined,
    prompt: undefined as string | undefined,
    placeholder: undefined as string | undefined,
    password: false,
    value: '',
    validationMessage: undefined as string | undefined,
    ignoreFocusOut: false,
    buttons: [] as readonly vscode.QuickInputButton[],
    onDidChangeValue: changeValue.event,
    onDidTriggerButton: new vscode.EventEmitter<vscode.QuickInputButton>().event,
    onDidAccept: accept.event,
    onDidHide: hide.event,
    show: () => {
      setTimeout(() => {
        const record: ShownBox = {
          title: box.title ?? '',
          prompt: box.prompt,
          placeholder: box.placeholder,
          value: box.value,
          validationMessage: box.validationMessage,
        };
        shown.push(record);
        const value = answer(record);
        if (value === undefined) return hide.fire();
        box.value = value;
        changeValue.fire(value);
        accept.fire();
      }, 0);
    },
    hide: () => hide.fire(),
    dispose: () => {
      for (const emitter of [accept, hide, changeValue]) emitter.dispose();
    },
  };
  return box as unknown as vscode.InputBox;
}
