// Shared pieces of the in-host suites: the extension's API, a sandbox the extension is pointed at, waits.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { FloraApi } from '../../../src/extension';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/server';

export const EXTENSION_ID = 'flora-community.flora-vscode';

export async function floraApi(): Promise<FloraApi> {
  const extension = vscode.extensions.getExtension<FloraApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed`);
  return extension.activate();
}

/** Starts a sandbox and points the extension at it with its key; the returned sandbox is closed by the caller. */
export async function sandboxForExtension(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ runDurationMs: 1_500, ...options });
  await floraApi();
  const configuration = vscode.workspace.getConfiguration('flora');
  await configuration.update('baseUrl', sandbox.url, vscode.ConfigurationTarget.Global);
  await configuration.update('pollIntervalSeconds', 2, vscode.ConfigurationTarget.Global);
  await vscode.commands.executeCommand('flora.setApiKey', sandbox.apiKey);
  return sandbox;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Asserts that a promise rejects, and returns the error's message. */
export async function rejection(promise: Thenable<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  assert.fail('expected the call to be rejected');
}

export function postsTo(sandbox: Sandbox, slug: string): number {
  return sandbox.requests.filter((request) => request.method === 'POST' && request.path.includes(`/techniques/${slug}/runs`)).length;
}

export const IMAGE_URL = 'https://media.flora.ai/examples/product.png';
