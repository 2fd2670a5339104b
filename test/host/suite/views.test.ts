// The Runs view over a long history: the newest runs first, the rest behind one "Older runs" node.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunJournal } from '../../../src/core/journal';
import { RunsStore } from '../../../src/services/runsStore';
import { RunsTree } from '../../../src/views/runsTree';
import { runRecord } from '../../common/records';

describe('the Runs view over a long history', () => {
  it('shows the newest 200 runs and groups the rest under "Older runs"', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-history-'));
    const journal = new RunJournal(directory);
    for (let index = 0; index < 250; index++) {
      await journal.save(runRecord({ localId: `run-${index}`, startedLocallyAt: 1_000 + index, updatedAt: 1_000 + index }));
    }
    const runs = new RunsStore(journal, 1_000);
    const tree = new RunsTree(runs);
    try {
      await runs.ready;
      const top = tree.getChildren();
      assert.strictEqual(top.length, 201);
      assert.deepStrictEqual(top[0], { kind: 'run', localId: 'run-249' }, 'newest first');
      const older = top[200];
      assert.deepStrictEqual(older, { kind: 'older', count: 50 });
      const rest = tree.getChildren(older);
      assert.strictEqual(rest.length, 50);
      assert.deepStrictEqual(rest[49], { kind: 'run', localId: 'run-0' });
      const item = tree.getTreeItem(older);
      assert.strictEqual(item.label, 'Older runs (50)');
    } finally {
      tree.dispose();
      runs.dispose();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
