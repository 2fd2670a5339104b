// The links a picker suggests for an image or video input, in the order a user is most likely to want
// them: the value given before (after Back), a link in the editor's selection or under its cursor, one on
// the clipboard, and outputs of earlier runs of the same type.
import * as vscode from 'vscode';
import { labelText } from '../common/inert';
import type { RunRecord } from '../core/runs';
import type { Suggestion } from './multiStepInput';

const URL_PATTERN = /https?:\/\/[^\s"'`<>()[\]{}]+/g;
/** Earlier outputs stop being added once the list is this long: a picker of hundreds helps nobody. */
const MAX_CANDIDATES = 15;
/** How long the clipboard may take before it is left out: the picker opens without it. */
const CLIPBOARD_TIMEOUT_MS = 500;

export interface MediaCandidateSources {
  /** The input's type: earlier outputs of this type are offered. */
  type: string;
  /** The value accepted at this step before the user went Back. */
  previous: string | undefined;
  /** The text editor the user last worked in. */
  editor: vscode.TextEditor | undefined;
  /** The run history, newest first: their outputs are offered in that order. */
  records: readonly RunRecord[];
}

/** Each link once, labelled with where it was found. */
export async function mediaCandidates({ type, previous, editor, records }: MediaCandidateSources): Promise<Suggestion[]> {
  const candidates: Suggestion[] = [];
  const seen = new Set<string>();
  const add = (label: string, value: string, source: string) => {
    if (seen.has(value)) return;
    seen.add(value);
    candidates.push({ label, value, source });
  };
  if (previous) add(vscode.l10n.t('$(history) Previous value'), previous, vscode.l10n.t('this run'));
  if (editor) {
    const fromEditor = editorLink(editor);
    if (fromEditor) add(fromEditor.label, fromEditor.value, vscode.l10n.t('editor'));
  }
  const clipboard = await readClipboard();
  const fromClipboard = clipboard.match(URL_PATTERN)?.[0];
  if (fromClipboard) add(vscode.l10n.t('$(clippy) From the clipboard'), fromClipboard, vscode.l10n.t('clipboard'));
  for (const record of records) {
    for (const output of record.outputs ?? []) {
      if (output.type === type && candidates.length < MAX_CANDIDATES) {
        add(vscode.l10n.t('$(sparkle) Output of {0}', labelText(record.techniqueName)), output.url, record.runId ?? '');
      }
    }
  }
  return candidates;
}

/** The first link in the selection; with none there, the link the cursor is on. */
function editorLink(editor: vscode.TextEditor): { label: string; value: string } | undefined {
  const selected = editor.document.getText(editor.selection).trim();
  const fromSelection = selected.match(URL_PATTERN)?.[0];
  if (fromSelection) return { label: vscode.l10n.t('$(selection) From the selection'), value: fromSelection };
  const line = editor.document.lineAt(editor.selection.active.line).text;
  const cursor = editor.selection.active.character;
  // Links on a line are apart (the pattern stops at the characters between them): the cursor touches one at most.
  for (const match of line.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    if (cursor >= start && cursor <= start + match[0].length)
      return { label: vscode.l10n.t('$(selection) Under the cursor'), value: match[0] };
  }
  return undefined;
}

/**
 * The clipboard's text, or '' when it cannot be read quickly. In a browser-hosted editor (code-server,
 * vscode.dev) reading it asks the browser for permission and reports an error when refused, so the picker
 * does not ask there; the URL can still be pasted into the picker.
 */
async function readClipboard(): Promise<string> {
  if (vscode.env.uiKind === vscode.UIKind.Web) return '';
  try {
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve(''), CLIPBOARD_TIMEOUT_MS));
    return (await Promise.race([vscode.env.clipboard.readText(), timeout])).trim();
  } catch {
    return '';
  }
}
