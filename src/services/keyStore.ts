// The only place the API key lives: VS Code's SecretStorage. Keeps the flora.hasApiKey context key true to it.
import * as vscode from 'vscode';
import { ContextKey } from '../common/commandIds';
import { Disposable } from '../common/lifecycle';
import { FloraInputError } from '../core/errors';
import type { TranslatedText } from '../core/messages';
import { l10nText } from './messages';

const SECRET_NAME = 'flora.apiKey';

/** Why a key cannot be right, or undefined. Keys look like sk_live_… (flora-api.md, step 1). */
export function checkKeyShape(key: string): TranslatedText | undefined {
  if (key.length === 0) return l10nText('Paste your FLORA API key.');
  if (/\s/.test(key)) return l10nText('The key must not contain spaces or line breaks.');
  if (!/^[\x21-\x7e]+$/.test(key)) return l10nText('The key contains characters a FLORA key never has.');
  if (key.length < 8) return l10nText('That is too short to be a FLORA API key.');
  return undefined;
}

export class KeyStore extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<boolean>());
  /** Fires with whether a key is now set. */
  readonly onDidChange = this.changed.event;
  private cached: string | undefined;
  private loaded = false;

  constructor(private readonly secrets: vscode.SecretStorage) {
    super();
    this.register(
      secrets.onDidChange(async (event) => {
        // Another window changed the key: re-read it so every window uses the same one.
        if (event.key !== SECRET_NAME) return;
        this.loaded = false;
        const key = await this.get();
        this.changed.fire(key !== undefined);
      }),
    );
  }

  async get(): Promise<string | undefined> {
    if (!this.loaded) {
      this.cached = (await this.secrets.get(SECRET_NAME)) || undefined;
      this.loaded = true;
      await this.updateContext();
    }
    return this.cached;
  }

  async has(): Promise<boolean> {
    return (await this.get()) !== undefined;
  }

  async set(key: string): Promise<void> {
    const trimmed = key.trim();
    const problem = checkKeyShape(trimmed);
    if (problem) throw new FloraInputError([{ inputId: undefined, text: problem }]);
    await this.secrets.store(SECRET_NAME, trimmed);
    this.cached = trimmed;
    this.loaded = true;
    await this.updateContext();
    this.changed.fire(true);
  }

  async remove(): Promise<void> {
    await this.secrets.delete(SECRET_NAME);
    this.cached = undefined;
    this.loaded = true;
    await this.updateContext();
    this.changed.fire(false);
  }

  private async updateContext(): Promise<void> {
    await vscode.commands.executeCommand('setContext', ContextKey.hasApiKey, this.cached !== undefined);
  }
}
