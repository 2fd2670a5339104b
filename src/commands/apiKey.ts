// FLORA: Set API Key / Remove API Key. The key goes only to SecretStorage, and is checked against FLORA on save.
import * as vscode from 'vscode';
import { notifyError, notifyInformation } from '../common/notify';
import { API_KEYS_URL } from '../common/links';
import type { FloraConnection, KeyVerdict } from '../services/floraConnection';
import { checkKeyShape, type KeyStore } from '../services/keyStore';
import type { Log } from '../services/log';

export interface KeyCommandContext {
  keys: KeyStore;
  connection: FloraConnection;
  log: Log;
}

/** With a string argument the key is stored without prompting (the automation contract). */
export async function setApiKey(context: KeyCommandContext, argument?: unknown): Promise<boolean> {
  if (typeof argument === 'string') {
    // set() refuses a key of the wrong shape with the same message the prompt shows.
    await context.keys.set(argument);
    context.log.info('API key stored (from a command argument).');
    return true;
  }
  const openKeys = vscode.l10n.t('Where do I get a key?');
  const key = await vscode.window.showInputBox({
    title: vscode.l10n.t('FLORA: Set API Key'),
    prompt: vscode.l10n.t("Paste your FLORA API key (Settings › API Keys in FLORA). It is kept in VS Code's secret storage."),
    // eslint-disable-next-line no-restricted-syntax -- an example value, not words to translate
    placeHolder: 'sk_live_…',
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => {
      const problem = checkKeyShape(value.trim());
      if (problem) return value.length === 0 ? undefined : problem.translated;
      if (!value.trim().startsWith('sk_')) {
        return {
          message: vscode.l10n.t('FLORA keys usually start with "sk_live_". Press Enter to use this one anyway.'),
          severity: vscode.InputBoxValidationSeverity.Warning,
        };
      }
      return undefined;
    },
  });
  if (key === undefined) return false;
  const trimmed = key.trim();
  const problem = checkKeyShape(trimmed);
  if (problem) {
    const choice = await notifyError(problem.translated, openKeys);
    if (choice === openKeys) await vscode.env.openExternal(vscode.Uri.parse(API_KEYS_URL));
    return false;
  }
  const verdict = await verifyKey(context, trimmed);
  if (verdict === 'rejected') {
    const tryAgain = vscode.l10n.t('Try Again');
    const choice = await notifyError(
      vscode.l10n.t('FLORA rejected this API key: it is wrong or has been revoked. The key was not saved.'),
      tryAgain,
      openKeys,
    );
    if (choice === tryAgain) return setApiKey(context);
    if (choice === openKeys) await vscode.env.openExternal(vscode.Uri.parse(API_KEYS_URL));
    return false;
  }
  await context.keys.set(trimmed);
  context.log.info(
    verdict === 'accepted' ? 'API key stored; FLORA accepted it.' : 'API key stored; FLORA could not be reached to check it.',
  );
  void notifyInformation(
    verdict === 'accepted'
      ? vscode.l10n.t('FLORA API key saved.')
      : vscode.l10n.t('FLORA API key saved. FLORA could not be reached to check it; it will be used on the next request.'),
  );
  return true;
}

async function verifyKey(context: KeyCommandContext, key: string): Promise<KeyVerdict> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Checking the key with FLORA…') },
    () => context.connection.checkKey(key),
  );
}

export async function removeApiKey(context: KeyCommandContext): Promise<void> {
  await context.keys.remove();
  context.log.info('API key removed.');
  void notifyInformation(vscode.l10n.t('FLORA API key removed from this machine.'));
}
