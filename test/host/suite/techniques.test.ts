// Your Techniques: adding a technique by slug or by its link in FLORA, refusing what is not one, and
// removing it again. What the view lists is the `flora.techniques` setting (the browser journey checks the
// view itself); adding sends nothing but the details request that reports a wrong slug at once.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { Sandbox } from '../../sandbox/server';
import { rejection, sandboxForExtension, waitFor } from './helpers';

function addedTechniques(): string[] {
  return vscode.workspace.getConfiguration('flora').get<string[]>('techniques') ?? [];
}

describe('adding and removing techniques', () => {
  let sandbox: Sandbox;

  before(async () => {
    sandbox = await sandboxForExtension();
  });

  afterEach(async () => {
    await vscode.workspace.getConfiguration('flora').update('techniques', undefined, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await sandbox.close();
  });

  it('adds a technique from its link in FLORA, newest first, fetches its details, and removes it', async () => {
    assert.strictEqual(await vscode.commands.executeCommand('flora.addTechnique', 'team-lookbook'), 'team-lookbook');
    const requestsBefore = sandbox.requests.length;
    const added = await vscode.commands.executeCommand('flora.addTechnique', 'https://app.flora.ai/techniques/sandbox-hostile');
    assert.strictEqual(added, 'sandbox-hostile');
    assert.deepStrictEqual(addedTechniques(), ['sandbox-hostile', 'team-lookbook']);
    await waitFor('the details request', () =>
      sandbox.requests
        .slice(requestsBefore)
        .some((request) => request.method === 'GET' && request.path === '/api/v1/techniques/sandbox-hostile'),
    );
    await vscode.commands.executeCommand('flora.removeTechnique', 'sandbox-hostile');
    assert.deepStrictEqual(addedTechniques(), ['team-lookbook']);
  });

  it('refuses what is not a slug or a technique link, saying why, and changes nothing', async () => {
    for (const [reference, reason] of [
      ['bad slug!', /A slug uses only letters, digits/],
      ['https://app.flora.ai/projects/abc', /A technique URL looks like/],
    ] as const) {
      assert.match(await rejection(vscode.commands.executeCommand('flora.addTechnique', reference)), reason);
    }
    assert.deepStrictEqual(addedTechniques(), []);
  });

  it('keeps a documented technique where it is, in the Techniques view, rather than adding it twice', async () => {
    assert.strictEqual(await vscode.commands.executeCommand('flora.addTechnique', 'studio-shot'), 'studio-shot');
    assert.deepStrictEqual(addedTechniques(), []);
  });
});
