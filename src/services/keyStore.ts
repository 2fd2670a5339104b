// The only place the API key lives: VS Code's SecretStorage. Keeps the flora.hasApiKey context key true to it.
import * as vscode from 'vscode';
import { ContextKey } from '../common/contextKeys';
import { Disposable } from '../common/lifecycle';
import { FloraInputError } from '../core/errors';
import type { TranslatedText } from '../core/messages';
import { l10nText } from './userText';

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
  /** The key as last read or set; one read of SecretStorage serves every caller until the secret changes. */
  private current: Promise<string | undefined> | undefined;

  constructor(private readonly secrets: vscode.SecretStorage) {
    super();
    this.register(
      secrets.onDidChange(async (event) => {
        // Another window changed the key: re-read it so every window uses the same one.
        if (event.key !== SECRET_NAME) return;
        this.current = undefined;
        const key = await this.get();
        this.changed.fire(key !== undefined);
      }),
    );
  }

  get(): Promise<string | undefined> {
    // Both technique views and start-up ask at activation: they share one read.
    this.current ??= this.load();
    return this.current;
  }

  private load(): Promise<string | undefined> {
    const loading: Promise<string | undefined> = Promise.resolve(this.secrets.get(SECRET_NAME)).then(async (stored) => {
      const key = stored || undefined;
      // A set() or remove() while this read was out has the last word on the context key.
      if (this.current === loading) await this.updateContext(key !== undefined);
      return key;
    });
    // A failed read is not kept: the next call reads again.
    loading.catch(() => {
      if (this.current === loading) this.current = undefined;
    });
    return loading;
  }

  async has(): Promise<boolean> {
    return (await this.get()) !== undefined;
  }

  async set(key: string): Promise<void> {
    const trimmed = key.trim();
    const problem = checkKeyShape(trimmed);
    if (problem) throw new FloraInputError([{ inputId: undefined, text: problem }]);
    await this.secrets.store(SECRET_NAME, trimmed);
    this.current = Promise.resolve(trimmed);
    await this.updateContext(true);
    this.changed.fire(true);
  }

  async remove(): Promise<void> {
    await this.secrets.delete(SECRET_NAME);
    this.current = Promise.resolve(undefined);
    await this.updateContext(false);
    this.changed.fire(false);
  }

  private async updateContext(hasKey: boolean): Promise<void> {
    await vscode.commands.executeCommand('setContext', ContextKey.hasApiKey, hasKey);
  }
}
