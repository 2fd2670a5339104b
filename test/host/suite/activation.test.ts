// Activation parses only the extension's own bundle: undici (dist/undici.js, four fifths of the code) is
// read at the first request. The extension host shares Node's module cache with this suite, which runs
// first (suites run in file-name order) and before any request.
import * as assert from 'assert';
import * as path from 'path';
import { floraApi, IMAGE_URL, sandboxForExtension } from './helpers';

function undiciLoaded(): boolean {
  const undici = path.join(path.sep, 'dist', 'undici.js');
  return Object.keys(require.cache).some((file) => file.endsWith(undici));
}

describe('activation', () => {
  it('leaves undici unread until the first request, then loads it from dist/undici.js', async () => {
    await floraApi();
    assert.strictEqual(undiciLoaded(), false, 'undici was loaded at activation');
    const sandbox = await sandboxForExtension();
    try {
      const api = await floraApi();
      const run = await api.runTechnique('studio-shot', { product_image: IMAGE_URL });
      assert.strictEqual(run.status, 'completed');
      assert.strictEqual(undiciLoaded(), true, 'the request went through undici from dist/undici.js');
    } finally {
      await sandbox.close();
    }
  });
});
