// Everyday UI (issue 16): a text prompt says what it wants, or offers what the technique was given last
// time, and the Runs view's description says how many credits today's runs were charged, across windows.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { runsViewDescription } from '../../../src/views/runLabels';
import { runRecord } from '../../common/records';
import type { Sandbox } from '../../sandbox/server';
import { answeringInputBox, floraApi, sandboxForExtension } from './helpers';

type WindowFunctions = Record<string, unknown>;

describe('the everyday UI', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  const originals = new Map<string, unknown>();
  const window = vscode.window as unknown as WindowFunctions;
  function replace(name: string, stand: unknown): void {
    if (!originals.has(name)) originals.set(name, window[name]);
    window[name] = stand;
  }

  before(async () => {
    sandbox = await sandboxForExtension();
  });

  afterEach(() => {
    for (const [name, original] of originals) window[name] = original;
    originals.clear();
  });

  after(async () => {
    await sandbox.close();
  });

  it('offers the value a text input was given last time as its placeholder', async () => {
    const prompt = `weather icons, line style ${Date.now()}`;
    const record = await (await floraApi()).runTechnique('icon-pack', { prompt });
    assert.strictEqual(record.status, 'completed');
    const shown: Array<{ title: string; password: boolean; placeholder?: string }> = [];
    replace('showQuickPick', async (items: unknown, options?: vscode.QuickPickOptions) => {
      const list = (await items) as Array<vscode.QuickPickItem & { slug?: string }>;
      // The technique picker gets Icon Pack; the confirmation gets Escape, so nothing is sent.
      return options?.title === 'FLORA: Run Technique' ? list.find((item) => item.slug === 'icon-pack') : undefined;
    });
    replace('createInputBox', () => answeringInputBox(() => 'anything', shown));
    await vscode.commands.executeCommand('flora.runTechnique');
    assert.deepStrictEqual(
      shown.map((box) => box.placeholder),
      [`Last time: ${prompt}`],
    );
  });

  it("says in the Runs view how many credits today's runs were charged", () => {
    const now = Date.now();
    const today = new Date(now);
    today.setHours(0, 0, 1, 0);
    const yesterday = today.getTime() - 2_000;
    assert.strictEqual(runsViewDescription([], now), undefined);
    assert.strictEqual(runsViewDescription([runRecord({ chargedCost: 1, completedAt: today.getTime() })], now), '1 credit today');
    assert.strictEqual(
      runsViewDescription(
        [
          runRecord({ chargedCost: 5, completedAt: today.getTime() }),
          runRecord({ chargedCost: 8, completedAt: now }),
          runRecord({ chargedCost: 3, completedAt: yesterday }),
          runRecord({ status: 'running', completedAt: undefined, updatedAt: now }),
        ],
        now,
      ),
      '13 credits today',
    );
  });
});
