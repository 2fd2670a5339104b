// The quick fixes on the extension's diagnostics: save one URL (or every URL in the file) and replace it by
// the saved file's path; for a URL that no longer answers, run the technique again with the same inputs.
import * as vscode from 'vscode';
import { CommandId } from '../common/commandIds';
import { hrefOfWrittenUrl } from '../core/outputLinks';
import type { OutputIndex } from '../services/outputIndex';
import { DIAGNOSTIC_SOURCE, DiagnosticCode } from './outputDocuments';

export class OutputUrlFixes implements vscode.CodeActionProvider {
  constructor(private readonly options: { index: OutputIndex }) {}

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
