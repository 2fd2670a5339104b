// The FLORA log channel. The key is never handed to it; as a second line of defence, anything shaped like
// a FLORA key is masked before it is written.
import * as vscode from 'vscode';
import type { Logger, LogLevel } from '../core/model';

const KEY_PATTERN = /\bsk_[A-Za-z0-9_-]{4,}/g;
/** What signs or authorises a storage request, should a storage server's reply echo it: presigned query values, ImageKit keys. */
const STORAGE_SECRET_PATTERN = /\b(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s"'<]+/gi;
const IMAGEKIT_KEY_PATTERN = /\bprivate_[A-Za-z0-9+/=_-]{4,}/g;

export function redact(text: string): string {
  return text
    .replace(KEY_PATTERN, 'sk_…(hidden)')
    .replace(/(authorization:\s*(?:bearer|basic|aws4-hmac-sha256)\s+)\S+/gi, '$1…(hidden)')
    .replace(STORAGE_SECRET_PATTERN, '$1…(hidden)')
    .replace(IMAGEKIT_KEY_PATTERN, 'private_…(hidden)');
}

export class Log implements vscode.Disposable {
  private readonly channel: vscode.LogOutputChannel;
  private disposed = false;

  /** Log channels are shared by name across the extension host; tests pass their own name. */
  constructor(name = 'FLORA') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  readonly write: Logger = (level: LogLevel, message: string) => {
    // A request finishing after deactivation must not throw into whatever runs then.
    if (this.disposed) return;
    const text = redact(message);
    try {
      this.append(level, text);
    } catch {
      // Logging must never turn a working operation into a failed one.
    }
  };

  private append(level: LogLevel, text: string): void {
    switch (level) {
      case 'debug':
        this.channel.debug(text);
        break;
      case 'info':
        this.channel.info(text);
        break;
      case 'warn':
        this.channel.warn(text);
        break;
      case 'error':
        this.channel.error(text);
        break;
    }
  }

  info(message: string): void {
    this.write('info', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  error(message: string): void {
    this.write('error', message);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.disposed = true;
    this.channel.dispose();
  }
}
