// FLORA output URLs in the user's documents: an Information diagnostic on each ("not permanent"), a Warning
// once it answers 404 or 410, quick fixes that save and replace them, and a hover (on a URL or on the path of
// a saved output) with a thumbnail, the run's technique, inputs, cost and age, and command links. The hover
// enables only the extension's own commands; every string in it that came from FLORA is escaped.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { tooltipText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import { findOutputUrls, hrefOfWrittenUrl, isFloraOutputHost, outputUrlAt, pathTokenAt } from '../core/outputLinks';
import {
  MAX_PROVENANCE_BYTES,
  PROVENANCE_SUFFIX,
  provenanceCandidates,
  readProvenance,
  withoutSignature,
  type Provenance,
} from '../core/provenance';
import { readRegularFile } from '../core/regularFile';
import { outputKind, type RunRecord } from '../core/runs';
import type { OutputIndex } from '../services/outputIndex';
import type { OutputSaver } from '../services/outputSaver';
import type { RunsStore } from '../services/runsStore';
import type { Thumbnails } from '../services/thumbnails';

export const DIAGNOSTIC_SOURCE = 'FLORA';
export const DiagnosticCode = { notPermanent: 'output-url-not-permanent', gone: 'output-url-gone' } as const;

/** Re-scanning waits this long after the last keystroke. */
const SCAN_DELAY_MS = 300;
/** Documents larger than this are not scanned as one types (the workspace command still finds their URLs). */
const MAX_SCANNED_LENGTH = 8 * 1024 * 1024;
const THUMBNAIL_WIDTH = 200;

/** The commands a hover may run: only these become links; any other `command:` stays text. */
const HOVER_COMMANDS = [
  CommandId.openPreview,
  CommandId.saveOutputsToWorkspace,
  CommandId.saveOutputUrl,
  CommandId.runAgain,
  CommandId.copyOutputUrl,
  CommandId.openSavedOutput,
];

export interface OutputLinksOptions {
  runs: RunsStore;
  index: OutputIndex;
  saver: OutputSaver;
  thumbnails: Thumbnails;
}

const SELECTOR: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

function isScanned(document: vscode.TextDocument): boolean {
  if (document.uri.scheme !== 'file' && document.uri.scheme !== 'untitled') return false;
  // Provenance files keep the original URLs on purpose.
  return !document.uri.path.endsWith(PROVENANCE_SUFFIX);
}

export class OutputLinks extends Disposable {
  private readonly diagnostics = this.register(vscode.languages.createDiagnosticCollection('flora'));
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: OutputLinksOptions) {
    super();
    this.register(vscode.workspace.onDidOpenTextDocument((document) => this.scan(document)));
    this.register(vscode.workspace.onDidChangeTextDocument((event) => this.scheduleScan(event.document)));
    this.register(
      vscode.workspace.onDidCloseTextDocument((document) => {
        this.cancelScan(document);
        this.diagnostics.delete(document.uri);
      }),
    );
    // The history changed (a run finished, a file was saved) or a URL was found gone: what is known changed.
    this.register(options.runs.onDidChange(() => this.scheduleAll()));
    this.register(options.saver.onDidFindGoneUrl(() => this.scheduleAll()));
    this.register(
      vscode.languages.registerCodeActionsProvider(SELECTOR, new OutputUrlFixes(options), {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
    );
    this.register(vscode.languages.registerHoverProvider(SELECTOR, new OutputHover(options)));
    this.register({
      dispose: () => {
        for (const timer of this.pending.values()) clearTimeout(timer);
      },
    });
    // Documents open at start-up are scanned after activation, not during it.
    this.scheduleAll();
  }

  private scheduleScan(document: vscode.TextDocument): void {
    this.cancelScan(document);
    const key = document.uri.toString();
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        this.scan(document);
      }, SCAN_DELAY_MS),
    );
  }

  private scheduleAll(): void {
    for (const document of vscode.workspace.textDocuments) this.scheduleScan(document);
  }

  private cancelScan(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    const timer = this.pending.get(key);
    if (timer) clearTimeout(timer);
    this.pending.delete(key);
  }

  private scan(document: vscode.TextDocument): void {
    if (this.isDisposed || document.isClosed || !isScanned(document)) return;
    const text = document.getText();
    if (text.length > MAX_SCANNED_LENGTH) {
      this.diagnostics.delete(document.uri);
      return;
    }
    const { index, saver } = this.options;
    // What is written (Markdown escapes, &amp;) is not always the URL: lookups use the URL it stands for.
    const href = (written: string) => hrefOfWrittenUrl(written, document.languageId);
    const found = findOutputUrls(text, (url) => index.isOutputUrl(href(url)));
    this.diagnostics.set(
      document.uri,
      found.map((url) => {
        const range = new vscode.Range(document.positionAt(url.start), document.positionAt(url.end));
        const gone = saver.isGone(href(url.url));
        const diagnostic = new vscode.Diagnostic(
          range,
          gone
            ? vscode.l10n.t('FLORA output URL — it no longer answers (404 or 410)')
            : vscode.l10n.t('FLORA output URL — not permanent: save it to the workspace'),
          gone ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
        );
        diagnostic.source = DIAGNOSTIC_SOURCE;
        diagnostic.code = gone ? DiagnosticCode.gone : DiagnosticCode.notPermanent;
        return diagnostic;
      }),
    );
  }
}

class OutputUrlFixes implements vscode.CodeActionProvider {
  constructor(private readonly options: OutputLinksOptions) {}

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    const ours = context.diagnostics.filter((diagnostic) => diagnostic.source === DIAGNOSTIC_SOURCE);
    for (const diagnostic of ours) {
      const url = document.getText(diagnostic.range);
      if (diagnostic.code === DiagnosticCode.gone) {
        const known = this.options.index.byUrl(hrefOfWrittenUrl(url, document.languageId));
        if (!known) continue;
        const again = new vscode.CodeAction(vscode.l10n.t('Run Again with the Same Inputs'), vscode.CodeActionKind.QuickFix);
        again.command = { command: CommandId.runAgain, title: again.title, arguments: [{ localId: known.record.localId }] };
        again.diagnostics = [diagnostic];
        again.isPreferred = true;
        actions.push(again);
        continue;
      }
      const save = new vscode.CodeAction(vscode.l10n.t('Save to Workspace and Replace'), vscode.CodeActionKind.QuickFix);
      save.command = { command: CommandId.saveOutputUrl, title: save.title, arguments: [{ uri: document.uri.toString(), url }] };
      save.diagnostics = [diagnostic];
      save.isPreferred = true;
      actions.push(save);
    }
    if (ours.some((diagnostic) => diagnostic.code === DiagnosticCode.notPermanent)) {
      const all = new vscode.CodeAction(vscode.l10n.t('Save All in File and Replace'), vscode.CodeActionKind.QuickFix);
      all.command = { command: CommandId.saveOutputUrlsInFile, title: all.title, arguments: [{ uri: document.uri.toString() }] };
      all.diagnostics = ours.filter((diagnostic) => diagnostic.code === DiagnosticCode.notPermanent);
      actions.push(all);
    }
    return actions;
  }
}

/** What a hover knows of an output: from the history, or only from the provenance file beside a saved file. */
interface HoverSubject {
  url: string;
  type: string;
  record?: RunRecord;
  index?: number;
  provenance?: Provenance;
  savedFile?: string;
}

class OutputHover implements vscode.HoverProvider {
  constructor(private readonly options: OutputLinksOptions) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!isScanned(document)) return undefined;
    const line = document.lineAt(position.line);
    const text = line.text;
    const { index } = this.options;
    const href = (written: string) => hrefOfWrittenUrl(written, document.languageId);
    const found = outputUrlAt(text, position.character, (url) => index.isOutputUrl(href(url)));
    let subject: HoverSubject | undefined;
    let range: vscode.Range | undefined;
    if (found) {
      const url = href(found.url);
      const known = index.byUrl(url);
      const output = known?.record.outputs?.[known.index];
      subject = { url, type: output?.type ?? typeFromPath(url), record: known?.record, index: known?.index };
      if (known) subject.savedFile = await this.options.saver.savedFile(known.record, known.index);
      range = new vscode.Range(position.line, found.start, position.line, found.end);
    } else if (document.uri.scheme === 'file') {
      const token = pathTokenAt(text, position.character);
      const file = token ? relativeTarget(document.uri, token.path) : undefined;
      if (!token || file === undefined) return undefined;
      subject = await this.savedSubject(file, mayReadBeside(document.uri, file));
      range = new vscode.Range(position.line, token.start, position.line, token.end);
    }
    if (!subject) return undefined;
    return new vscode.Hover(await this.render(subject, document.uri), range);
  }

  /** A saved output's file: known from the history, or from the provenance file written beside it. */
  private async savedSubject(file: string, mayRead: boolean): Promise<HoverSubject | undefined> {
    const known = this.options.index.bySavedFile(file);
    const output = known?.record.outputs?.[known.index];
    if (known && output) return { url: output.url, type: output.type, record: known.record, index: known.index, savedFile: file };
    if (!mayRead) return undefined;
    for (const candidate of provenanceCandidates(file)) {
      const read = await readRegularFile(candidate, MAX_PROVENANCE_BYTES);
      if (read.kind !== 'text') continue;
      const reading = readProvenance(read.text);
      if (!('provenance' in reading)) continue;
      const entry = reading.provenance.outputs.find((saved) => saved.file === path.basename(file));
      if (entry) return { url: entry.url, type: entry.type, provenance: reading.provenance, savedFile: file };
    }
    return undefined;
  }

  private async render(subject: HoverSubject, document: vscode.Uri): Promise<vscode.MarkdownString> {
    const markdown = new vscode.MarkdownString(undefined, true);
    markdown.isTrusted = { enabledCommands: HOVER_COMMANDS };
    const kind = outputKind(subject.type);
    // A URL known only from a provenance file is the repository's word, not FLORA's: it is never fetched.
    const fetchable = subject.record !== undefined || isFloraOutputHost(subject.url);
    const thumbnail =
      kind === 'image'
        ? subject.savedFile && (await exists(subject.savedFile))
          ? await this.options.thumbnails.forFile(subject.savedFile)
          : fetchable
            ? await this.options.thumbnails.forUrl(subject.url)
            : undefined
        : undefined;
    // The name and the links first, the picture last: a hover opens about 250 px high, and what one acts on
    // should not need scrolling to.
    if (kind === 'video') markdown.appendMarkdown(`$(device-camera-video) `);
    const name = subject.record?.techniqueName ?? subject.provenance?.technique.name ?? vscode.l10n.t('FLORA output');
    markdown.appendMarkdown('**');
    markdown.appendText(tooltipText(name));
    markdown.appendMarkdown('**\n\n');
    const links: string[] = [];
    const link = (title: string, command: string, argument: unknown) =>
      links.push(`[${escapeLinkTitle(title)}](command:${command}?${encodeCommandArguments([argument])})`);
    if (subject.record) {
      const localId = subject.record.localId;
      link(vscode.l10n.t('Open Preview'), CommandId.openPreview, { localId });
      if (!subject.savedFile) link(vscode.l10n.t('Save to Workspace'), CommandId.saveOutputsToWorkspace, { localId });
      link(vscode.l10n.t('Run Again'), CommandId.runAgain, { localId });
    } else if (!subject.savedFile) {
      link(vscode.l10n.t('Save to Workspace and Replace'), CommandId.saveOutputUrl, { uri: document.toString(), url: subject.url });
    }
    if (subject.savedFile) link(vscode.l10n.t('Open File'), CommandId.openSavedOutput, { file: subject.savedFile });
    link(vscode.l10n.t('Copy URL'), CommandId.copyOutputUrl, { url: subject.url, type: subject.type });
    markdown.appendMarkdown(`${links.join(' · ')}\n\n`);
    const line = (text: string) => {
      markdown.appendText(tooltipText(text));
      markdown.appendMarkdown('  \n');
    };
    const inputs = subject.record
      ? subject.record.inputs.map((input) => `${input.id}: ${input.localPath ?? withoutSignature(input.value)}`)
      : (subject.provenance?.inputs ?? []).map((input) => `${input.id}: ${input.file ?? input.value ?? ''}`);
    for (const input of inputs.slice(0, 6)) line(shorten(input));
    const cost = subject.record?.chargedCost ?? subject.provenance?.cost.charged;
    if (cost !== undefined) line(vscode.l10n.t('{0} credits', cost));
    const completed = subject.record?.completedAt ?? parseTime(subject.provenance?.completedAt);
    if (completed !== undefined) line(vscode.l10n.t('Made {0}', relativeAge(completed)));
    if (subject.savedFile) line(vscode.l10n.t('Saved as {0}', vscode.workspace.asRelativePath(subject.savedFile)));
    if (!subject.record) {
      line(
        subject.provenance
          ? vscode.l10n.t('From the provenance file beside it, not from your run history')
          : vscode.l10n.t('Not from a run in your history'),
      );
    }
    if (this.options.saver.isGone(subject.url)) line(vscode.l10n.t('This URL no longer answers (404 or 410).'));
    if (thumbnail) markdown.appendMarkdown(`\n![](${thumbnail}|width=${THUMBNAIL_WIDTH})`);
    return markdown;
  }
}

/** JSON in a link's destination: encodeURIComponent leaves `(` and `)`, which would end the destination. */
function encodeCommandArguments(args: readonly unknown[]): string {
  return encodeURIComponent(JSON.stringify(args)).replace(/[()]/g, (character) => (character === '(' ? '%28' : '%29'));
}

/**
 * The file a relative path under the cursor names, or undefined for anything else: a scheme, an absolute
 * path, or `//host/…` and `\\host\…`, which Windows would open as a share and answer with the user's
 * credentials.
 */
function relativeTarget(document: vscode.Uri, written: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(written) || /^[\\/]/.test(written) || path.isAbsolute(written) || path.win32.isAbsolute(written)) {
    return undefined;
  }
  return path.resolve(path.dirname(document.fsPath), written);
}

/**
 * Whether the disk may be asked about a file the history does not know (is there a provenance file beside
 * it?): only inside the document's workspace folder, and only for a name of a saved output's shape.
 */
function mayReadBeside(document: vscode.Uri, file: string): boolean {
  if (!SAVED_NAME.test(path.basename(file))) return false;
  const folder = vscode.workspace.getWorkspaceFolder(document);
  if (!folder || folder.uri.scheme !== 'file') return false;
  const relative = path.relative(folder.uri.fsPath, file);
  return relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative);
}

/** `<technique>-<yyyymmdd-hhmmss>-<short runId>[-n].<ext>` (core/provenance.ts), and a `-n` a second save added. */
const SAVED_NAME = /^[A-Za-z0-9_-]+-\d{8}-\d{6}-[A-Za-z0-9_-]+\.[A-Za-z0-9]{1,8}$/;

/** Our own titles, translated: still, a translation must not be able to end the link. */
function escapeLinkTitle(title: string): string {
  return title.replace(/[[\]\\]/g, '\\$&');
}

function shorten(text: string): string {
  const characters = Array.from(text.replace(/\s+/g, ' '));
  return characters.length > 120 ? `${characters.slice(0, 119).join('')}…` : characters.join('');
}

function typeFromPath(url: string): string {
  return /\.(mp4|webm|mov|m4v)(?:$|[?#])/i.test(url) ? 'videoUrl' : 'imageUrl';
}

function parseTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  return Number.isFinite(time) ? time : undefined;
}

function relativeAge(time: number): string {
  const seconds = Math.round((time - Date.now()) / 1000);
  const format = new Intl.RelativeTimeFormat(vscode.env.language, { numeric: 'auto' });
  const steps: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  for (const [unit, size] of steps) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(seconds, 'second');
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await fs.lstat(file)).isFile();
  } catch {
    return false;
  }
}
