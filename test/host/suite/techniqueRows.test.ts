// The Techniques view as a person scans it: FLORA's techniques in order of their names, and rows that only
// inform (the cost) start nothing when clicked, since running a technique costs credits.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { DOCUMENTED_TECHNIQUES } from '../../../src/core/catalog';
import type { TechniqueDetails } from '../../../src/core/schemas';
import type { FloraConnection } from '../../../src/services/floraConnection';
import type { KeyStore } from '../../../src/services/keyStore';
import { Settings } from '../../../src/services/settings';
import { TechniqueCatalog } from '../../../src/services/techniqueCatalog';
import { TechniquesTree, type TechniqueNode } from '../../../src/views/techniquesTree';
import { MemoryMemento } from './helpers';

const STUDIO_SHOT: TechniqueDetails = {
  techniqueId: 't1',
  name: 'Studio Shot',
  description: 'Product photos',
  inputs: [{ id: 'product_image', name: 'Product Image', type: 'imageUrl' }],
  outputs: [{ id: 'studio_shot', name: 'Studio Shot', type: 'imageUrl' }],
  runCost: 5,
};

describe('the Techniques view rows', () => {
  const settings = new Settings();
  const keysChanged = new vscode.EventEmitter<boolean>();
  const keys = { onDidChange: keysChanged.event, has: async () => true } as unknown as KeyStore;
  const connection = { client: () => ({ getTechnique: async () => STUDIO_SHOT }) } as unknown as FloraConnection;
  const catalog = new TechniqueCatalog({ connection, settings, keys, memento: new MemoryMemento() });
  const tree = new TechniquesTree(catalog, keys, 'catalogue');

  after(() => {
    tree.dispose();
    catalog.dispose();
    settings.dispose();
    keysChanged.dispose();
  });

  it('lists FLORA’s techniques by name, not by slug', async () => {
    const names = ((await tree.getChildren()) as TechniqueNode[]).map((node) => node.name);
    assert.strictEqual(names.length, DOCUMENTED_TECHNIQUES.length);
    const sorted = [...names].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
    assert.deepStrictEqual(names, sorted);
    // By slug "Segment Mapper" (color-mapping) sat between "Cinematic Movie Stills" and "Color Transfer".
    assert.ok(names.indexOf('Segment Mapper') > names.indexOf('Color Transfer'));
  });

  it('gives the cost row no command: clicking information starts no paid run', async () => {
    const [technique] = (await tree.getChildren()).filter((node) => node.kind === 'technique' && node.slug === 'studio-shot');
    assert.ok(technique, 'Studio Shot is listed');
    const rows = await tree.getChildren(technique);
    const items = rows.map((row) => tree.getTreeItem(row));
    const cost = items.find((item) => labelOf(item).startsWith('Cost:'));
    assert.ok(cost, 'the cost row is shown');
    assert.strictEqual(cost.command, undefined);
    for (const item of items) assert.notStrictEqual(item.command?.command, 'flora.runTechnique', `${labelOf(item)} runs the technique`);
  });
});

function labelOf(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}
