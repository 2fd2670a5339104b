// The walkthrough (package.json contributes.walkthroughs) checks a step off when the thing it teaches
// happens, however it was done: the palette, a tree, the Explorer, a notification or a script.
//
// It takes two ways, because the documented one alone loses steps. Each step completes on a context key
// (`onContext:` in package.json), set here when the thing happens. But VS Code (read and seen in 1.139)
// registers an extension's walkthrough only when its walkthroughs service first starts, which in a window
// that showed no walkthrough yet is when one is opened, and it forgets what came before: a command or a
// context change before that is not replayed, and a context key already true then is noted as seen without
// checking its step, so that step cannot be checked in that window at all. A key stored before the
// walkthrough was opened (the one `npm start` hands over), or techniques expanded and runs made before it
// was opened, checked nothing. So each step is also marked done through `welcome.markStepComplete`, the
// command behind a step's own "Mark Done", which records it in the profile whether or not the walkthrough
// is registered yet (it stores the step, then fails to look it up when it is not).
import * as vscode from 'vscode';
import { ContextKey } from '../common/contextKeys';
import { Disposable } from '../common/lifecycle';
import type { KeyStore } from '../services/keyStore';
import type { RunController } from '../services/runController';
import type { Settings } from '../services/settings';
import type { Uploads } from '../services/uploads';

/** The walkthrough's id in package.json; VS Code names it `<publisher>.<name>#getStarted`. */
export const WALKTHROUGH_ID = 'getStarted';

/** The steps, by their ids in package.json, in order. */
export const WalkthroughStep = {
  setApiKey: 'setApiKey',
  browseTechniques: 'browseTechniques',
  runTechnique: 'runTechnique',
  insertOutput: 'insertOutput',
  useLocalFiles: 'useLocalFiles',
} as const;
export type WalkthroughStep = (typeof WalkthroughStep)[keyof typeof WalkthroughStep];

/**
 * The context key each step's completion event waits for. Set here when the step is done, except the API
 * key's, which the KeyStore keeps true to the stored key.
 */
export const STEP_COMPLETION_KEYS: Readonly<Record<WalkthroughStep, string>> = {
  setApiKey: ContextKey.hasApiKey,
  browseTechniques: ContextKey.hasExpandedTechnique,
  runTechnique: ContextKey.hasStartedRun,
  insertOutput: ContextKey.hasInsertedOutput,
  useLocalFiles: ContextKey.hasConfiguredUpload,
};

/** VS Code's own command behind a step's "Mark Done" (internal, hence looked up before it is used). */
export const MARK_STEP_COMPLETE = 'welcome.markStepComplete';
const OPEN_WALKTHROUGH = 'workbench.action.openWalkthrough';
/** globalState: whether the walkthrough was opened for this profile, and the steps VS Code was told are done. */
const MEMENTO_KEY = 'flora.walkthrough';

/** How code that does what a step teaches (the technique views, Insert) reports it; activate() wires it. */
export type StepReporter = (step: WalkthroughStep) => void;

interface Remembered {
  opened?: boolean;
  marked?: string[];
}

export interface WalkthroughProgressOptions {
  /** `<publisher>.<name>`, as VS Code names the walkthrough and its steps. */
  extensionId: string;
  /** The profile's globalState. */
  memento: vscode.Memento;
  /** VS Code's commands; tests record them. */
  executeCommand?: (command: string, ...args: unknown[]) => Thenable<unknown>;
  /** The commands VS Code knows; tests stand in for a VS Code without MARK_STEP_COMPLETE. */
  getCommands?: () => Thenable<string[]>;
}

/** The walkthrough's progress in this window: sets each step's context key and marks the step done. */
export class WalkthroughProgress extends Disposable {
  private readonly executeCommand: (command: string, ...args: unknown[]) => Thenable<unknown>;
  private readonly marking = new Set<WalkthroughStep>();
  private canMark: Promise<boolean> | undefined;

  constructor(private readonly options: WalkthroughProgressOptions) {
    super();
    this.executeCommand = options.executeCommand ?? ((command, ...args) => vscode.commands.executeCommand(command, ...args));
  }

  /** complete() for the code that only reports (it cannot wait, nor fail: a walkthrough step is no error). */
  readonly report: StepReporter = (step) => void this.complete(step).catch(() => undefined);

  /** The id VS Code gives a step: `<publisher>.<name>#getStarted#<step>`. */
  stepId(step: WalkthroughStep): string {
    return `${this.options.extensionId}#${WALKTHROUGH_ID}#${step}`;
  }

  /** The step's thing happened: its context key becomes true and VS Code is told the step is done. */
  async complete(step: WalkthroughStep): Promise<void> {
    if (this.isDisposed) return;
    // The KeyStore owns flora.hasApiKey (it can become false again); every other key only ever turns true.
    if (step !== WalkthroughStep.setApiKey) await this.executeCommand('setContext', STEP_COMPLETION_KEYS[step], true);
    await this.mark(step);
  }

  /** Tells VS Code the step is done, once per profile (a step done again needs no second word). */
  private async mark(step: WalkthroughStep): Promise<void> {
    if (this.remembered().marked?.includes(step) || this.marking.has(step)) return;
    this.marking.add(step);
    try {
      this.canMark ??= Promise.resolve((this.options.getCommands ?? (() => vscode.commands.getCommands()))()).then(
        (commands) => commands.includes(MARK_STEP_COMPLETE),
        () => false,
      );
      // A VS Code without the command keeps the context keys alone.
      if (!(await this.canMark)) return;
      // It fails when the walkthrough is not registered yet, having stored the step first: done either way.
      await Promise.resolve(this.executeCommand(MARK_STEP_COMPLETE, this.stepId(step))).catch(() => undefined);
      const remembered = this.remembered();
      await this.options.memento.update(MEMENTO_KEY, { ...remembered, marked: [...(remembered.marked ?? []), step] });
    } finally {
      this.marking.delete(step);
    }
  }

  /**
   * Opens the walkthrough unless it was opened for this profile before. Resolves with whether it opened it.
   * See watchWalkthrough for when it is called.
   */
  async openOnce(): Promise<boolean> {
    const remembered = this.remembered();
    if (remembered.opened) return false;
    // Remembered first: a second window starting at the same time must not open it again.
    await this.options.memento.update(MEMENTO_KEY, { ...remembered, opened: true });
    // `false`: not to the side; in the active editor group, with the focus.
    await this.executeCommand(OPEN_WALKTHROUGH, `${this.options.extensionId}#${WALKTHROUGH_ID}`, false);
    return true;
  }

  private remembered(): Remembered {
    // Read tolerantly: other versions of the extension write it too.
    const value = this.options.memento.get<{ opened?: unknown; marked?: unknown }>(MEMENTO_KEY);
    const marked = Array.isArray(value?.marked) ? value.marked.filter((step): step is string => typeof step === 'string') : [];
    return { opened: value?.opened === true, marked };
  }
}

export interface WalkthroughSources {
  keys: Pick<KeyStore, 'has' | 'onDidChange'>;
  controller: Pick<RunController, 'onDidPrepareRun'>;
  settings: Pick<Settings, 'onDidChange'>;
  uploads: Pick<Uploads, 'targetLabel'>;
}

/**
 * Set by `npm start` (test/harness/start.ts) for a development instance: open the walkthrough on the first
 * activation in its profile.
 */
export const OPEN_WALKTHROUGH_VARIABLE = 'FLORA_DEV_OPEN_WALKTHROUGH';

/**
 * Connects the walkthrough to what its steps teach; the technique views and Insert report theirs through
 * the returned progress's `report`, which activate() hands them.
 *
 * Who opens it the first time: for an install from the Extensions view VS Code does, once, unless the user
 * turned `workbench.welcomePage.walkthroughs.openOnInstall` off. It never does for an extension in
 * development mode, which was never installed, so a launcher that wants a newcomer's first look asks for
 * it; the extension then opens it once per profile. (The extension cannot honour that setting itself: it
 * is a machine setting, which a remote extension host such as code-server's reads from the remote's
 * settings, not the user's.)
 */
export function watchWalkthrough(
  context: vscode.ExtensionContext,
  sources: WalkthroughSources,
): { progress: WalkthroughProgress; subscription: vscode.Disposable } {
  const progress = new WalkthroughProgress({ extensionId: context.extension.id, memento: context.globalState });
  let uploadTarget = sources.uploads.targetLabel();
  const subscriptions = [
    progress,
    // A key set from the palette, the walkthrough, a welcome view or a script, or handed over by `npm start`.
    sources.keys.onDidChange((hasKey) => hasKey && void progress.complete(WalkthroughStep.setApiKey)),
    // A run requested from anywhere (palette, tree, Explorer, Run Again, the API): its intent is recorded.
    sources.controller.onDidPrepareRun((record) => {
      void progress.complete(WalkthroughStep.runTechnique);
      if (record.inputs.some((input) => input.localPath !== undefined)) void progress.complete(WalkthroughStep.useLocalFiles);
    }),
    // An upload target chosen by Configure Upload or in the settings. Not one configured before this
    // activation: `npm start` configures the sandbox's storage, which teaches nothing.
    sources.settings.onDidChange(() => {
      const target = sources.uploads.targetLabel();
      if (target !== undefined && target !== uploadTarget) void progress.complete(WalkthroughStep.useLocalFiles);
      uploadTarget = target;
    }),
  ];
  // A key stored earlier counts too: the step teaches having one.
  void sources.keys.has().then(
    (hasKey) => (hasKey ? progress.complete(WalkthroughStep.setApiKey) : undefined),
    () => undefined,
  );
  if (context.extensionMode !== vscode.ExtensionMode.Production && process.env[OPEN_WALKTHROUGH_VARIABLE] === '1') {
    void progress.openOnce().catch(() => undefined);
  }
  return { progress, subscription: vscode.Disposable.from(...subscriptions) };
}
