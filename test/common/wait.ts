// The one wait loop of every test tier: polls a probe until it answers, for conditions on servers, files
// and the editor that no event announces. Free of vscode, so the unit and host tiers share it.

/**
 * Polls `probe` until it returns a value other than undefined or false, and returns that value. Fails
 * naming `what` after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
