// FLORA output URLs in the user's documents: an Information diagnostic on each ("not permanent"), a Warning
// once it answers 404 or 410. Scanned when a document opens, 300 ms after the last keystroke, and when what
// the extension knows of outputs changes. The quick fixes (outputFixes.ts) and the hover (outputHover.ts) are
// registered here too, for the same documents.
import * as vscode from 'vscode';
import { Disposable } from '../common/lifecycle';
import { findOutputUrls, hrefOfWrittenUrl } from '../core/outputLinks';
import type { OutputIndex } from '../services/outputIndex';
import type { OutputSaver } from '../services/outputSaver';
import type { Thumbnails } from '../services/thumbnails';
import { OutputUrlFixes } from './outputFixes';
import { DIAGNOSTIC_SOURCE, DiagnosticCode, isScanned, OUTPUT_DOCUMENTS } from './outputDocuments';
import { OutputHover } from './outputHover';

/** Re-scanning waits this long after the last keystroke. */
const SCAN_DELAY_MS = 300;
/** Documents larger than this are not scanned as one types (the workspace command still finds their URLs). */
const MAX_SCANNED_LENGTH = 8 * 1024 * 1024;

export interface OutputLinksOptions {
  index: OutputIndex;
  saver: OutputSaver;
  thumbnails: Thumbnails;
}

export class OutputDiagnostics extends Disposable {
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
    // What is known of outputs changed (a run finished, a file was saved) or a URL was found gone; progress
    // ticks of live runs change nothing here, and rescan nothing.
    this.register(options.index.onDidChange(() => this.scheduleAll()));
    this.register(options.saver.onDidFindGoneUrl(() => this.scheduleAll()));
    this.register(
      vscode.languages.registerCodeActionsProvider(OUTPUT_DOCUMENTS, new OutputUrlFixes(options), {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
    );
    this.register(vscode.languages.registerHoverProvider(OUTPUT_DOCUMENTS, new OutputHover(options)));
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
