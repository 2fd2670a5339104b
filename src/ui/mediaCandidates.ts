// The links and files a picker suggests for an image or video input, in the order a user is most likely to
// want them: the value given before (after Back), the files the command was given (the Explorer's), a link
// or a file path in the editor's selection or under its cursor, the file open in the editor, Choose a
// File…, a link on the clipboard, files used before, links typed for inputs of the same type before, the
// sandbox's samples, and outputs of earlier runs of the same type (named by technique and age). Local files
// are offered only when they exist.
import * as vscode from 'vscode';
import { Uploads } from '../services/uploads';
import { formatAge } from '../common/age';
import { labelText } from '../common/inert';
import { usedLinks } from '../core/inputHistory';
import type { RunRecord } from '../core/runs';
import type { SandboxSample } from '../services/floraConnection';
import {
  activeEditorFile,
  chooseMediaFile,
  isExistingFile,
  localFileLabel,
  pathsInEditor,
  resolveWrittenPath,
  type MediaType,
} from './localFiles';
import type { Suggestion } from './multiStepInput';

const URL_PATTERN = /https?:\/\/[^\s"'`<>()[\]{}]+/g;
/** Links used before and earlier outputs stop being added once the list is this long: a picker of hundreds helps nobody. */
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
  /** Files the command was given (the Explorer passes its selection; there is no API to read it). */
  files?: readonly vscode.Uri[];
  /** Local files used as inputs lately, newest first (services/uploads.ts). */
  recent?: readonly vscode.Uri[];
  /** The sandbox's sample inputs (empty on FLORA itself). */
  samples?: () => Promise<readonly SandboxSample[]>;
  /** Whether to offer the active editor's file, paths in the document and Choose a File… (default true). */
  localFiles?: boolean;
  /** The clock the ages of links used before and earlier outputs are told by (default Date.now). */
  now?: () => number;
}

/** At most this many files used before are offered, and at most this many links used before. */
const MAX_RECENT = 5;

/** Each link once, labelled with where it was found. */
export async function mediaCandidates(sources: MediaCandidateSources): Promise<Suggestion[]> {
  const { type, previous, editor, records } = sources;
  const media: MediaType | undefined = type === 'imageUrl' || type === 'videoUrl' ? type : undefined;
  const local = media !== undefined && sources.localFiles !== false;
  const candidates: Suggestion[] = [];
  const seen = new Set<string>();
  const add = (label: string, value: string, source: string) => {
    if (seen.has(value)) return;
    seen.add(value);
    candidates.push({ label, value, source });
  };
  // A file's label is its name (from the disk: inert), its source where it is.
  const addFile = (icon: string, uri: vscode.Uri) => {
    const { name, where } = localFileLabel(uri);
    add(`${icon} ${name}`, uri.toString(), where);
  };
  // Started at once: the sandbox may take a moment to answer, and the clipboard too.
  const samplesLoading = media && sources.samples ? sources.samples().catch(() => []) : Promise.resolve([]);
  if (previous) add(vscode.l10n.t('$(history) Previous value'), previous, vscode.l10n.t('this run'));
  if (local) for (const uri of sources.files ?? []) if (await isExistingFile(uri)) addFile('$(files)', uri);
  if (editor) {
    const fromEditor = editorLink(editor);
    if (fromEditor) add(fromEditor.label, fromEditor.value, vscode.l10n.t('editor'));
    if (local) {
      for (const written of pathsInEditor(editor)) {
        const uri = await resolveWrittenPath(written, editor.document.uri);
        if (uri) addFile('$(selection)', uri);
      }
    }
  }
  if (local) {
    const open = activeEditorFile(media);
    if (open) addFile('$(file-media)', open);
    candidates.push({
      label: vscode.l10n.t('$(folder-opened) Choose a File…'),
      value: '',
      source: media === 'videoUrl' ? vscode.l10n.t('a video on this computer') : vscode.l10n.t('an image on this computer'),
      choose: async () =>
        (
          await chooseMediaFile(media, media === 'videoUrl' ? vscode.l10n.t('Choose a video') : vscode.l10n.t('Choose an image'))
        )?.toString(),
    });
  }
  const clipboard = await readClipboard();
  const fromClipboard = clipboard.match(URL_PATTERN)?.[0];
  if (fromClipboard) add(vscode.l10n.t('$(clippy) From the clipboard'), fromClipboard, vscode.l10n.t('clipboard'));
  const now = (sources.now ?? Date.now)();
  if (media) {
    let offered = 0;
    for (const uri of sources.recent ?? []) {
      if (offered >= MAX_RECENT) break;
      if (seen.has(uri.toString()) || !(await isExistingFile(uri))) continue;
      addFile('$(history)', uri);
      offered++;
    }
    // Links the user typed or pasted for this type of input before (never a local file's upload URL or an
    // earlier output, offered as what they are below), named by the run they went to: a person remembers
    // "the one I gave Studio Shot an hour ago", not the URL.
    for (const used of usedLinks(records, type, MAX_RECENT)) {
      if (candidates.length >= MAX_CANDIDATES) break;
      if (!isWebLink(used.value)) continue;
      add(
        vscode.l10n.t('$(history) Used before'),
        used.value,
        vscode.l10n.t({
          message: '{0} · {1}',
          args: [labelText(used.techniqueName), formatAge(now - used.at)],
          comment: 'where a link used before went: the technique · how long ago, e.g. "Studio Shot · 5 min ago"',
        }),
      );
    }
    for (const sample of await samplesLoading) {
      if (sample.type === media)
        add(vscode.l10n.t('$(beaker) Sandbox sample: {0}', labelText(sample.name)), sample.url, vscode.l10n.t('sandbox'));
    }
  }
  for (const record of records) {
    // A run's outputs of this type, numbered when there are several (Character Lock gives six images).
    const outputs = (record.outputs ?? []).filter((output) => output.type === type);
    const age = formatAge(now - (record.completedAt ?? record.updatedAt));
    for (const [index, output] of outputs.entries()) {
      // An output's URL is the server's word: only a web link is offered, never something that reads as a
      // local path (`file:///…/passport.jpg`), which the run would upload. The runId means nothing to a
      // person: the technique and the age say which run it was.
      if (candidates.length >= MAX_CANDIDATES || !isWebLink(output.url)) continue;
      add(
        vscode.l10n.t('$(sparkle) Output of {0}', labelText(record.techniqueName)),
        output.url,
        // How long ago the run finished · which of its outputs, e.g. "5 min ago · 2 of 6".
        outputs.length > 1 ? vscode.l10n.t('{0} · {1} of {2}', age, index + 1, outputs.length) : age,
      );
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

/** An http(s) URL that names no local file: what an earlier output may be offered as. */
function isWebLink(value: string): boolean {
  return /^https?:\/\//i.test(value.trim()) && !Uploads.isLocalValue(value);
}
