// One typed reading of the flora.* settings, clamped, so no other code reads configuration directly.
import * as vscode from 'vscode';
import { DEFAULT_BASE_URL } from '../core/model';
import type { InsertFormat } from '../core/insertFormat';
import { clampPollInterval } from '../core/poller';

export interface FloraSettings {
  baseUrl: string;
  pollIntervalMs: number;
  techniques: string[];
  confirmBeforeRun: boolean;
  insertFormat: InsertFormat;
  outputFolder: string;
  maxHistory: number;
}

export const SETTINGS_SECTION = 'flora';

export function readSettings(): FloraSettings {
  const configuration = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  // flora.baseUrl is where the key is sent: read only the user's (application-wide) value, never a
  // workspace's, even on editors that would otherwise merge one in.
  const baseUrlInspection = configuration.inspect<string>('baseUrl');
  const baseUrl = (baseUrlInspection?.globalValue ?? baseUrlInspection?.defaultValue ?? DEFAULT_BASE_URL).trim();
  const techniques = configuration.get<unknown>('techniques', []);
  const history = configuration.get<number>('maxHistory', 200);
  return {
    baseUrl: baseUrl.length > 0 ? baseUrl : DEFAULT_BASE_URL,
    pollIntervalMs: clampPollInterval(configuration.get<number>('pollIntervalSeconds', 3) * 1000),
    techniques: Array.isArray(techniques)
      ? [
          ...new Set(
            techniques.filter((slug): slug is string => typeof slug === 'string' && slug.trim().length > 0).map((slug) => slug.trim()),
          ),
        ]
      : [],
    confirmBeforeRun: configuration.get<boolean>('confirmBeforeRun', true),
    insertFormat: configuration.get<string>('insertFormat', 'auto') === 'plain' ? 'plain' : 'auto',
    outputFolder: configuration.get<string>('outputFolder', 'flora-outputs').trim() || 'flora-outputs',
    maxHistory: Number.isFinite(history) ? Math.min(10_000, Math.max(10, Math.round(history))) : 200,
  };
}

export async function updateAddedTechniques(slugs: string[]): Promise<void> {
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update('techniques', slugs, vscode.ConfigurationTarget.Global);
}

export function onDidChangeSettings(listener: (settings: FloraSettings) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration(SETTINGS_SECTION)) listener(readSettings());
  });
}
