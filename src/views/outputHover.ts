// The hover on a FLORA output URL or on the path of a saved output: the run's technique, the extension's own
// command links, inputs, cost and age, and a thumbnail. Only the extension's commands are enabled in it; every
// string in it that came from FLORA (or from a provenance file in the repository) is escaped, and a URL only a
// provenance file names is never fetched.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { tooltipText } from '../common/inert';
import { hrefOfWrittenUrl, isFloraOutputHost, outputUrlAt, pathTokenAt } from '../core/outputLinks';
import { findProvenanceListing, withoutSignature, type Provenance } from '../core/provenance';
import { isRegularFileAt } from '../core/regularFile';
import { outputKind, type RunRecord } from '../core/runs';
import type { OutputIndex } from '../services/outputIndex';
import type { OutputSaver } from '../services/outputSaver';
import type { Thumbnails } from '../services/thumbnails';
import { isScanned } from './outputDocuments';

const THUMBNAIL_WIDTH = 200;

/** The commands a hover may run: only these become links; any other `command:` stays text. */
export const HOVER_COMMANDS = [
  CommandId.openPreview,
  CommandId.saveOutputsToWorkspace,
  CommandId.saveOutputUrl,
  CommandId.runAgain,
  CommandId.copyOutputUrl,
  CommandId.openSavedOutput,
];

export interface OutputHoverOptions {
  index: OutputIndex;
  saver: OutputSaver;
  thumbnails: Thumbnails;
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

export class OutputHover implements vscode.HoverProvider {
  constructor(private readonly options: OutputHoverOptions) {}

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
      // Only a save into this document's output folder: a file in another project's folder is not this one's.
      const folder =
        known && document.uri.scheme === 'file' ? await this.options.saver.folderFor(document.uri).catch(() => undefined) : undefined;
      if (known && folder !== undefined) subject.savedFile = await this.options.saver.savedFile(known.record, known.index, folder);
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
    const listing = await findProvenanceListing(file);
    return listing ? { url: listing.output.url, type: listing.output.type, provenance: listing.provenance, savedFile: file } : undefined;
  }

  private async render(subject: HoverSubject, document: vscode.Uri): Promise<vscode.MarkdownString> {
    const markdown = new vscode.MarkdownString(undefined, true);
    markdown.isTrusted = { enabledCommands: HOVER_COMMANDS };
    const kind = outputKind(subject.type);
    // A URL known only from a provenance file is the repository's word, not FLORA's: it is never fetched.
    const fetchable = subject.record !== undefined || isFloraOutputHost(subject.url);
    const thumbnail =
      kind === 'image'
        ? subject.savedFile && (await isRegularFileAt(subject.savedFile))
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
