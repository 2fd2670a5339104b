/**
 * Localisation: every runtime string a user sees can be translated. The English bundle a translator starts
 * from (media/l10n/bundle.l10n.json) holds exactly the extension's strings, every vscode.l10n.t key is a
 * literal (so no string escapes the bundle), every call passes as many values as its template has
 * placeholders, and every template of core's messages is both used and well formed.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MESSAGE_TEMPLATES } from '../../src/core/messages';
import { BUNDLE_PATH, buildBundle, placeholderCount, readSourceStrings, repositoryRoot, serializeBundle } from '../l10n/strings';

describe('localisation (vscode.l10n and media/l10n)', () => {
  const strings = readSourceStrings();

  it('finds the strings it reads (the reader itself works)', () => {
    assert.ok(strings.literals.size > 100, `only ${strings.literals.size} vscode.l10n.t keys found`);
    assert.ok(strings.literals.has('Set API Key'));
    assert.deepEqual(strings.literals.get('Downloading FLORA output…')?.places[0]?.file, 'src/commands/outputs.ts');
    // The object form, with a translator's note, is keyed as VS Code looks it up: message/comment.
    assert.deepEqual(strings.literals.get('{0}%/progress in percent')?.entry, { message: '{0}%', comment: ['progress in percent'] });
    // The extension's own error texts are read like vscode.l10n.t keys.
    assert.ok(strings.literals.has('The editor did not accept the edit.'));
  });

  it('gives vscode.l10n.t only literal keys, outside the one place that translates core messages', () => {
    assert.deepEqual(strings.dynamicKeys, [], 'these calls hide their string from the bundle');
  });

  it('passes every vscode.l10n.t call as many values as its template has placeholders', () => {
    assert.deepEqual(strings.argumentMismatches, []);
  });

  it('gives core messages values as arguments, never words that would stay English', () => {
    assert.deepEqual(strings.proseArguments, []);
  });

  it("adds a translator's note to every template that is nothing but placeholders and punctuation", () => {
    // "{0}: {1}" means something different in each place; only a note tells the translator which.
    const bare = [...strings.literals.values()]
      .filter(({ entry }) => !/[A-Za-z]{2,}/.test(entry.message.replace(/\{\d+\}/g, '')) && !entry.comment)
      .map(({ entry, places }) => `${entry.message} at ${places.map((place) => `${place.file}:${place.line}`).join(', ')}`);
    assert.deepEqual(bare, []);
  });

  it('keeps media/l10n/bundle.l10n.json equal to the strings in the source (run `npm run l10n` after changing one)', () => {
    const committed = fs.readFileSync(BUNDLE_PATH, 'utf8');
    const current = buildBundle(strings);
    const onDisk = JSON.parse(committed) as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(current).filter((key) => !(key in onDisk)),
      [],
      'strings missing from the bundle',
    );
    assert.deepEqual(
      Object.keys(onDisk).filter((key) => !(key in current)),
      [],
      'stale strings in the bundle',
    );
    assert.equal(committed, serializeBundle(current));
  });

  it('points the manifest at the bundle folder, and the folder is packaged', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as { l10n?: string };
    assert.equal(path.resolve(repositoryRoot, manifest.l10n ?? ''), path.dirname(BUNDLE_PATH));
    const ignore = fs.readFileSync(path.join(repositoryRoot, '.vscodeignore'), 'utf8');
    assert.match(ignore, /^!media\/l10n\/\*\*$/m);
  });

  it("uses every core message template, and numbers each template's placeholders from {0} without gaps", () => {
    assert.deepEqual(
      Object.keys(MESSAGE_TEMPLATES).filter((id) => !strings.usedMessageIds.has(id as keyof typeof MESSAGE_TEMPLATES)),
      [],
      'templates no code uses',
    );
    for (const [id, template] of Object.entries(MESSAGE_TEMPLATES)) {
      const used = new Set([...template.matchAll(/\{(\d+)\}/g)].map((match) => Number(match[1])));
      const expected = Array.from({ length: placeholderCount(template) }, (_, index) => index);
      assert.deepEqual([...used].sort(), expected, `${id}: ${template}`);
    }
  });
});
