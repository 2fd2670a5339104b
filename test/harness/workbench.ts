// A small page object for UI journeys over VS Code's web workbench. Selectors were checked against
// code-server 4.139.1 (VS Code 1.139.1); they are the workbench's own class names, which change rarely.
// Timeouts are generous: the first workbench load parses ~6 s of JavaScript on two cores.
import * as fs from 'fs';
import * as path from 'path';
import { FrameLocator, Locator, Page } from 'playwright-core';
import { artifactsDirectory } from './paths';
import { waitFor } from '../common/wait';

export type TextMatch = string | RegExp;

/** The part of a Monaco line element editorText reads. */
interface RenderedLine {
  style: { top: string };
  textContent: string | null;
}

/** The parts of the DOM editorTextPoint uses, in the browser. */
interface RenderedText {
  textContent: string | null;
}
interface RenderedLines {
  children: ArrayLike<unknown>;
  ownerDocument: {
    createTreeWalker(root: unknown, whatToShow: number): { nextNode(): RenderedText | null };
    createRange(): {
      setStart(node: RenderedText, offset: number): void;
      setEnd(node: RenderedText, offset: number): void;
      getBoundingClientRect(): { left: number; top: number; width: number; height: number };
    };
  };
}

export interface WorkbenchOptions {
  /** Timeout for each ordinary wait; default 30 s. */
  timeoutMs?: number;
  /** Timeout for the first load of the workbench; default 120 s. */
  loadTimeoutMs?: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A whole-text matcher: a string must equal the element's trimmed text; a RegExp is used as given. */
export function exactly(text: TextMatch): RegExp {
  return typeof text === 'string' ? new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`) : text;
}

/** The quick input widget: command palette, Quick Open, showQuickPick and showInputBox all share it. */
export class QuickInput {
  readonly widget: Locator;
  readonly input: Locator;
  private readonly rows: Locator;

  constructor(
    private readonly page: Page,
    private readonly timeoutMs: number,
  ) {
    this.widget = page.locator('.quick-input-widget').filter({ visible: true });
    this.input = this.widget.locator('.quick-input-box input');
    this.rows = this.widget.locator('.quick-input-list .monaco-list-row');
  }

  async waitForOpen(): Promise<void> {
    await this.input.waitFor({ state: 'visible', timeout: this.timeoutMs });
  }

  async waitForClosed(): Promise<void> {
    await this.page.locator('.quick-input-widget').filter({ visible: true }).waitFor({ state: 'hidden', timeout: this.timeoutMs });
  }

  /** Replaces the input's text (the palette's leading `>` too, so include it when you need it). */
  async fill(text: string, timeoutMs = this.timeoutMs): Promise<void> {
    await this.input.fill(text, { timeout: timeoutMs });
  }

  async accept(): Promise<void> {
    await this.input.press('Enter', { timeout: this.timeoutMs });
  }

  async cancel(): Promise<void> {
    await this.input.press('Escape', { timeout: this.timeoutMs });
  }

  /** The row whose label (not description or detail) matches; a string must match the whole label. */
  row(label: TextMatch): Locator {
    return this.rows.filter({ has: this.page.locator('.label-name', { hasText: exactly(label) }) }).first();
  }

  /** Picks (accepts) the row whose label matches; the error lists the labels that were visible. */
  async pickItem(label: TextMatch): Promise<void> {
    const row = this.row(label);
    try {
      await row.waitFor({ state: 'visible', timeout: this.timeoutMs });
    } catch {
      throw new Error(`No quick input row labelled ${String(label)}; visible: ${JSON.stringify(await this.items())}`);
    }
    // Click the label, not the row's centre: rows carry action buttons (e.g. "Configure Keybinding").
    await row.locator('.label-name').first().click({ timeout: this.timeoutMs });
  }

  async waitForTitle(title: TextMatch): Promise<void> {
    await this.widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: this.timeoutMs });
  }

  async title(): Promise<string> {
    return (await this.widget.locator('.quick-input-title').textContent())?.trim() ?? '';
  }

  /** Labels of the rows currently rendered (the list is virtualised: only the visible ones). */
  async items(): Promise<string[]> {
    const labels = await this.rows.locator('.label-name').allTextContents();
    return labels.map((label) => label.trim());
  }

  /**
   * The validation message now shown under the input (error, warning or info), or undefined. The same
   * element shows an input box's plain prompt, which is not a validation message: the input box's
   * severity class tells the two apart. Validation is debounced, so poll or use waitForValidationMessage.
   */
  async validationMessage(): Promise<string | undefined> {
    const inputBoxClass = (await this.widget.locator('.quick-input-box .monaco-inputbox').getAttribute('class')) ?? '';
    if (!/\b(error|warning|info)\b/.test(inputBoxClass)) return undefined;
    return (await this.widget.locator('.quick-input-message').textContent())?.trim() || undefined;
  }

  async waitForValidationMessage(message: TextMatch): Promise<void> {
    let last: string | undefined;
    const matches = (text: string) => (typeof message === 'string' ? text.includes(message) : message.test(text));
    try {
      await waitFor(
        `the validation message ${String(message)}`,
        async () => {
          last = await this.validationMessage();
          return last !== undefined && matches(last);
        },
        this.timeoutMs,
        100,
      );
    } catch {
      throw new Error(`Validation message ${String(message)} did not appear; last: ${JSON.stringify(last)}`);
    }
  }
}

export class Workbench {
  readonly statusBar: Locator;
  readonly sideBar: Locator;
  private readonly timeoutMs: number;
  private readonly loadTimeoutMs: number;

  constructor(
    readonly page: Page,
    options: WorkbenchOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.loadTimeoutMs = options.loadTimeoutMs ?? 120_000;
    this.statusBar = page.locator('[id="workbench.parts.statusbar"]');
    this.sideBar = page.locator('[id="workbench.parts.sidebar"]');
  }

  /** Waits until the workbench is laid out (status bar shown). Extensions may still be activating. */
  async waitForWorkbench(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: this.loadTimeoutMs });
    await this.statusBar.waitFor({ state: 'visible', timeout: this.loadTimeoutMs });
  }

  quickInput(): QuickInput {
    return new QuickInput(this.page, this.timeoutMs);
  }

  /** Runs a command from the palette by its full label as shown there, e.g. `View: Toggle Word Wrap`. */
  async runCommand(title: string): Promise<void> {
    const quickInput = this.quickInput();
    const deadline = Date.now() + this.timeoutMs;
    // The palette lists the commands known when it opened: one opened while the workbench was still
    // registering an extension's contributions never shows them, however long it stays open. And a webview
    // that takes the focus as it loads (a preview's video) closes a palette opened just before. So the
    // palette is closed and opened again until the command is there.
    for (let attempt = 1; ; attempt++) {
      const step = Math.max(1_000, Math.min(5_000, deadline - Date.now()));
      try {
        await this.page.keyboard.press('F1');
        await quickInput.waitForOpen();
        await quickInput.fill(`>${title}`, step);
        await quickInput.row(title).waitFor({ state: 'visible', timeout: step });
        break;
      } catch {
        if (Date.now() >= deadline) {
          throw new Error(
            `Command "${title}" is not in the palette after ${attempt} openings; it shows: ${JSON.stringify(await quickInput.items())}`,
          );
        }
        await this.page.keyboard.press('Escape');
        await quickInput.waitForClosed();
      }
    }
    await quickInput.pickItem(title);
  }

  /**
   * A notification containing `text`. With the smoke-test driver on (as the harness runs code-server)
   * the workbench shows no toasts, so this opens the Notifications Center unless a toast is already up.
   * Opening the center goes through the palette, which closes any open quick input.
   */
  async notification(text: TextMatch): Promise<Locator> {
    const toast = this.page.locator('.notifications-toasts .notification-toast').filter({ hasText: text });
    if (await toast.first().isVisible()) return toast.first();
    const center = this.page.locator('.notifications-center.visible');
    if (!(await center.isVisible())) await this.runCommand('Notifications: Show Notifications');
    const item = center.locator('.notification-list-item').filter({ hasText: text }).first();
    try {
      await item.waitFor({ state: 'visible', timeout: this.timeoutMs });
    } catch {
      const shown = await this.page.locator('.notification-list-item-message').allTextContents();
      throw new Error(`No notification ${String(text)}; shown: ${JSON.stringify(shown)}`);
    }
    return item;
  }

  async clickNotificationButton(text: TextMatch, buttonLabel: TextMatch): Promise<void> {
    const notification = await this.notification(text);
    const button = notification.locator('.monaco-button', { hasText: exactly(buttonLabel) }).first();
    // Only an expanded notification shows its buttons; the newest one is expanded, older ones not.
    if (!(await button.isVisible())) {
      await notification.locator('.notification-list-item-message').click({ timeout: this.timeoutMs });
    }
    await button.click({ timeout: this.timeoutMs });
  }

  /** A status bar entry whose text matches (a substring for strings). */
  statusBarItem(text: TextMatch): Locator {
    return this.statusBar.locator('.statusbar-item').filter({ hasText: text }).first();
  }

  /**
   * Shows the activity-bar container whose label starts with `ariaLabelPrefix` (labels may end with a
   * keybinding, e.g. `Explorer (Ctrl+Shift+E)`). Clicking an open container would close it, so an open
   * one is left alone.
   */
  async openViewContainer(ariaLabelPrefix: string): Promise<void> {
    const item = this.page
      .locator('.activitybar .action-item')
      .filter({ has: this.page.locator(`a.action-label[aria-label^=${JSON.stringify(ariaLabelPrefix)}]`) })
      .first();
    await item.waitFor({ state: 'visible', timeout: this.timeoutMs });
    if ((await item.getAttribute('aria-expanded')) !== 'true') await item.locator('a.action-label').click();
    await this.page
      .locator('.activitybar .action-item[aria-expanded="true"]')
      .filter({ has: this.page.locator(`a.action-label[aria-label^=${JSON.stringify(ariaLabelPrefix)}]`) })
      .waitFor({ state: 'visible', timeout: this.timeoutMs });
  }

  /** The first side bar tree/list row containing `text` (a substring for strings; use a RegExp for exact). */
  treeRow(text: TextMatch): Locator {
    return this.sideBar.locator('.monaco-list-row').filter({ hasText: text }).first();
  }

  /** The Explorer's row for a file or folder by its exact name (rows of expanded folders included). */
  explorerRow(name: TextMatch): Locator {
    return this.sideBar
      .locator('.explorer-folders-view .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(name) }) })
      .first();
  }

  /**
   * Right-clicks `target` and returns the context menu that opens. The workbench draws it in an open
   * shadow root, which Playwright's CSS locators pierce.
   */
  async openContextMenu(target: Locator): Promise<Locator> {
    await target.click({ button: 'right', timeout: this.timeoutMs });
    const menu = this.page.locator('.context-view .monaco-menu').filter({ visible: true }).first();
    await menu.waitFor({ state: 'visible', timeout: this.timeoutMs });
    return menu;
  }

  /** The labels of a context menu's items, in order (separators left out). */
  async contextMenuItems(menu: Locator): Promise<string[]> {
    const labels = await menu.locator('.action-menu-item .action-label').allTextContents();
    return labels.map((label) => label.trim()).filter((label) => label.length > 0);
  }

  /** A context menu's item by its exact label. */
  contextMenuItem(menu: Locator, label: TextMatch): Locator {
    return menu
      .locator('.action-menu-item')
      .filter({ has: this.page.locator('.action-label', { hasText: exactly(label) }) })
      .first();
  }

  /** The dialog the workbench shows for a modal message (showWarningMessage with `modal: true`), when one is up. */
  dialog(): Locator {
    return this.page.locator('.monaco-dialog-box').filter({ visible: true }).first();
  }

  /** One view of the side bar by its exact title (e.g. `Your Techniques`, not every view ending in "Techniques"). */
  viewPane(title: string): Locator {
    const header = this.page.locator('.pane-header h3.title').filter({ hasText: exactly(title) });
    return this.sideBar.locator('.pane').filter({ has: header }).first();
  }

  /**
   * The content of the visible webview: VS Code nests it twice, an outer `iframe.webview` served by
   * code-server and the extension's document in the inner `#active-frame`.
   */
  webview(): FrameLocator {
    return this.page
      .locator('iframe.webview.ready')
      .filter({ visible: true })
      .first()
      .contentFrame()
      .locator('#active-frame')
      .contentFrame();
  }

  /** Waits for the first image matching `selector` in the webview and reports whether it decoded. */
  async webviewImage(selector: string): Promise<{ complete: boolean; width: number }> {
    const image = this.webview().locator(selector).first();
    await image.waitFor({ timeout: this.timeoutMs });
    return image.evaluate(async (element: { complete: boolean; naturalWidth: number; decode(): Promise<void> }) => {
      await element.decode().catch(() => undefined);
      return { complete: element.complete, width: element.naturalWidth };
    });
  }

  /** Opens a workspace file through Quick Open and waits for its tab to be the active one. */
  async openFile(relativePath: string): Promise<void> {
    const fileName = path.posix.basename(relativePath);
    const folder = path.posix.dirname(relativePath);
    const quickInput = this.quickInput();
    await this.page.keyboard.press('F1');
    await quickInput.waitForOpen();
    // Without the palette's `>` the same widget searches files by name.
    await quickInput.fill(relativePath);
    let row = quickInput.row(fileName);
    if (folder !== '.') {
      row = quickInput.widget
        .locator('.quick-input-list .monaco-list-row')
        .filter({ has: this.page.locator('.label-name', { hasText: exactly(fileName) }) })
        .filter({ has: this.page.locator('.label-description', { hasText: folder }) })
        .first();
    }
    try {
      await row.waitFor({ state: 'visible', timeout: this.timeoutMs });
    } catch {
      throw new Error(`Quick Open found no ${relativePath}; it shows: ${JSON.stringify(await quickInput.items())}`);
    }
    await row.locator('.label-name').first().click({ timeout: this.timeoutMs });
    await this.activeTab(fileName).waitFor({ state: 'visible', timeout: this.timeoutMs });
  }

  /** The active tab of the active editor group, when its label matches. */
  activeTab(label: TextMatch): Locator {
    return this.page.locator('.editor-group-container.active .tabs-container .tab.active').filter({ hasText: label }).first();
  }

  /**
   * The rendered lines of the active text editor. Monaco renders only what is on screen, so this is
   * the visible part of the document, which suffices for short files and one-line checks.
   */
  async editorText(): Promise<string> {
    const viewLines = this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    await viewLines.waitFor({ state: 'visible', timeout: this.timeoutMs });
    // Typed structurally: the test tsconfig has no DOM library.
    return viewLines.evaluate((element: { children: ArrayLike<RenderedLine> }) =>
      // Monaco reuses line elements and positions them by `top`, so DOM order need not be line order;
      // it renders spaces as no-break spaces.
      Array.from(element.children)
        .map((line) => ({ top: parseFloat(line.style.top) || 0, text: line.textContent ?? '' }))
        .sort((first, second) => first.top - second.top)
        .map((line) => line.text.replace(/\u00a0/g, ' '))
        .join('\n'),
    );
  }

  /**
   * Where `text` is drawn in the active text editor, as page coordinates for the mouse: the centre of its
   * first occurrence on screen. Monaco splits a line into spans (tokens, decorations), so the text is looked
   * for across them, within one line.
   */
  async editorTextPoint(text: string): Promise<{ x: number; y: number }> {
    const viewLines = this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    await viewLines.waitFor({ state: 'visible', timeout: this.timeoutMs });
    // Typed structurally: the test tsconfig has no DOM library. 4 is NodeFilter.SHOW_TEXT.
    const point = await viewLines.evaluate((element: RenderedLines, needle: string) => {
      const document = element.ownerDocument;
      for (const line of Array.from(element.children)) {
        const nodes: Array<{ node: RenderedText; start: number }> = [];
        let lineText = '';
        const walker = document.createTreeWalker(line, 4);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          nodes.push({ node, start: lineText.length });
          // Monaco renders spaces as no-break spaces.
          lineText += (node.textContent ?? '').replace(/\u00a0/g, ' ');
        }
        const at = lineText.indexOf(needle);
        if (at < 0) continue;
        // The text node holding a given offset of the line, and the offset within it.
        const position = (offset: number, end: boolean) => {
          const holder = [...nodes].reverse().find((entry) => (end ? entry.start < offset : entry.start <= offset)) ?? nodes[0];
          return holder ? { node: holder.node, offset: offset - holder.start } : undefined;
        };
        const from = position(at, false);
        const to = position(at + needle.length, true);
        if (!from || !to) return undefined;
        const range = document.createRange();
        range.setStart(from.node, from.offset);
        range.setEnd(to.node, to.offset);
        const box = range.getBoundingClientRect();
        return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
      }
      return undefined;
    }, text);
    if (!point) throw new Error(`${JSON.stringify(text)} is not on screen in the editor; it shows:\n${await this.editorText()}`);
    return point;
  }

  /** The editor's content hover (what a text position shows under the mouse), when one is up. */
  editorHover(): Locator {
    return this.page.locator('.monaco-resizable-hover .monaco-hover').filter({ visible: true }).first();
  }

  /**
   * Drags the editor hover's lower edge down until `part` (an element inside it) shows whole, as a person
   * resizes a hover too short for its content. The workbench remembers the size for later hovers.
   */
  async growEditorHover(part: Locator): Promise<void> {
    const hover = this.editorHover();
    const [partBox, hoverBox] = [await part.boundingBox(), await hover.boundingBox()];
    if (!partBox || !hoverBox) throw new Error('The editor hover is not on screen.');
    const missing = partBox.y + partBox.height - (hoverBox.y + hoverBox.height);
    if (missing <= 0) return;
    // The sash along the lower edge (disabled sashes are the edges a hover cannot be resized by).
    const sashes = this.page.locator('.monaco-resizable-hover .monaco-sash.horizontal:not(.disabled)');
    const boxes = await Promise.all((await sashes.all()).map((sash) => sash.boundingBox()));
    const lower = boxes
      .filter((box): box is NonNullable<typeof box> => box !== null)
      .sort((first, second) => second.y - first.y)
      .find((box) => Math.abs(box.y + box.height / 2 - (hoverBox.y + hoverBox.height)) < 10);
    if (!lower) throw new Error(`The editor hover has no lower edge to drag: ${JSON.stringify(boxes)}`);
    const x = hoverBox.x + Math.min(hoverBox.width / 2, 100);
    const y = lower.y + lower.height / 2;
    await this.page.mouse.move(x, y);
    await this.page.mouse.down();
    await this.page.mouse.move(x, y + missing + 12, { steps: 8 });
    await this.page.mouse.up();
  }

  /** The code action menu (Ctrl+. or the lightbulb), when it is up. */
  codeActionMenu(): Locator {
    return this.page.locator('.action-widget').filter({ visible: true }).first();
  }

  /** A code action menu's entry by its title (a substring for strings: a row also shows its keybinding). */
  codeAction(menu: Locator, title: TextMatch): Locator {
    return menu.locator('.monaco-list-row').filter({ hasText: title }).first();
  }

  /** Saves a PNG of the page to `test-results/screenshots/<name>.png` and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(artifactsDirectory, 'screenshots', `${name.replace(/[^\w.-]+/g, '-')}.png`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file });
    return file;
  }
}

/** Sets the API key from the palette as a person does, and waits for the prompt to close. */
export async function setApiKeyAsPerson(workbench: Workbench, key: string): Promise<void> {
  await workbench.runCommand('FLORA: Set API Key');
  const quickInput = workbench.quickInput();
  await quickInput.waitForTitle('FLORA: Set API Key');
  await quickInput.fill(key);
  await quickInput.accept();
  await quickInput.waitForClosed();
}

/** Menus, pickers and dialogs fade in (about 0.1 s) and layout settles: a picture taken sooner is half done. */
export async function fadedIn(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 400));
}
