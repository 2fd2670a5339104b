/** Turning what a user pastes (a slug or a technique URL) into a slug. */
import * as assert from 'node:assert/strict';

import { englishText } from '../../../src/core/messages';
import { parseTechniqueReference } from '../../../src/core/techniqueReference';

function slugOf(text: string): string {
  const result = parseTechniqueReference(text);
  assert.ok('slug' in result, `${JSON.stringify(text)}: ${'problem' in result ? englishText(result.problem) : ''}`);
  return result.slug;
}

function problemOf(text: string): string {
  const result = parseTechniqueReference(text);
  assert.ok('problem' in result, `${JSON.stringify(text)} gave slug ${'slug' in result ? result.slug : ''}`);
  return englishText(result.problem);
}

describe('core/techniqueReference parseTechniqueReference', () => {
  it('takes a slug as it is, trimmed', () => {
    assert.equal(slugOf('studio-shot'), 'studio-shot');
    assert.equal(slugOf('  turn-any-product-into-4-ad-visuals \n'), 'turn-any-product-into-4-ad-visuals');
    assert.equal(slugOf('my_technique_2'), 'my_technique_2');
  });

  it('takes the slug from a technique URL, with a trailing slash, a query or a fragment', () => {
    assert.equal(slugOf('https://app.flora.ai/techniques/portrait-enhancer'), 'portrait-enhancer');
    assert.equal(slugOf('https://app.flora.ai/techniques/portrait-enhancer/'), 'portrait-enhancer');
    assert.equal(slugOf('https://app.flora.ai/techniques/portrait-enhancer?tab=runs&x=1'), 'portrait-enhancer');
    assert.equal(slugOf('https://app.flora.ai/techniques/portrait-enhancer/#top'), 'portrait-enhancer');
    assert.equal(slugOf('HTTPS://APP.FLORA.AI/techniques/studio-shot'), 'studio-shot');
  });

  it('explains what is wrong with anything else', () => {
    assert.match(problemOf(''), /slug/);
    assert.match(problemOf('   '), /slug/);
    assert.match(problemOf('studio shot'), /letters, digits/);
    assert.match(problemOf('../x'), /letters, digits/);
    assert.match(problemOf('a/b'), /letters, digits/);
    assert.match(problemOf('https://app.flora.ai/projects/abc'), /techniques\/<slug>/);
    assert.match(problemOf('https://app.flora.ai/techniques/'), /techniques\/<slug>/);
    assert.match(problemOf('https://app.flora.ai/techniques/studio-shot/runs'), /techniques\/<slug>/);
    assert.match(problemOf('https://app.flora.ai/techniques/bad%20slug'), /"bad slug" is not a valid/);
    assert.match(problemOf('https://app.flora.ai/techniques/..%2Fx'), /not a valid/);
    assert.match(problemOf('https://'), /not a valid URL/);
  });

  it('returns a problem, not an exception, for a URL whose slug is not valid percent-encoding', () => {
    for (const text of ['https://app.flora.ai/techniques/%', 'https://app.flora.ai/techniques/%E0%A4%A']) {
      assert.doesNotThrow(() => parseTechniqueReference(text), text);
      assert.ok('problem' in parseTechniqueReference(text), text);
    }
  });
});
