// Which documents the output diagnostics, quick fixes and hover look at, and how their diagnostics are named.
import type * as vscode from 'vscode';
import { PROVENANCE_SUFFIX } from '../core/provenance';

export const DIAGNOSTIC_SOURCE = 'FLORA';
export const DiagnosticCode = { notPermanent: 'output-url-not-permanent', gone: 'output-url-gone' } as const;

export const OUTPUT_DOCUMENTS: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

/** Files and untitled documents; not provenance files, which keep the original URLs on purpose. */
export function isScanned(document: vscode.TextDocument): boolean {
  if (document.uri.scheme !== 'file' && document.uri.scheme !== 'untitled') return false;
  return !document.uri.path.endsWith(PROVENANCE_SUFFIX);
}
