// Replacing an output URL in a document by a saved file's path: the path is written as a URL reference, so
// whatever the user's folder is called it ends nothing the URL did not end, and reads back as the same path.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';

import { pathReference, urlReplacements } from '../../../src/core/urlReplacement';
import { HOSTILE_PIECES } from './hostilePieces';

describe('core/urlReplacement', () => {
  it('leaves plain paths as they are, keeps . and .. segments, and adds ./ only where asked', () => {
    assert.equal(pathReference('../flora-outputs/a-1.png', false), '../flora-outputs/a-1.png');
    assert.equal(pathReference('flora-outputs/a.png', false), 'flora-outputs/a.png');
    assert.equal(pathReference('flora-outputs/a.png', true), './flora-outputs/a.png');
    assert.equal(pathReference('./a.png', true), './a.png');
    assert.equal(pathReference('My Assets (1)/#x?.png', false), 'My%20Assets%20%281%29/%23x%3F.png');
  });

  it('writes any folder name with unreserved characters only, and it decodes back to the path', () => {
    const segment = fc
      .array(fc.oneof(fc.constantFrom(...HOSTILE_PIECES), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 5 })
      .map((parts) => parts.join('').replace(/\//g, '_'))
      .filter((part) => part.length > 0 && part !== '.' && part !== '..' && !/\p{Cs}/u.test(part));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean(), (segments, explicit) => {
        const relative = `../${segments.join('/')}/out.png`;
        const written = pathReference(relative, explicit);
        assert.match(written, /^[A-Za-z0-9._~%/-]+$/);
        assert.equal(decodeURIComponent(written), relative);
      }),
      { seed: 20261201, numRuns: 300 },
    );
  });

  it('replaces only the URLs it has a reference for, at their own offsets', () => {
    const found = [
      { start: 5, end: 20, url: 'https://a/x.png' },
      { start: 30, end: 45, url: 'https://a/y.png' },
    ];
    assert.deepEqual(urlReplacements(found, new Map([['https://a/y.png', 'out/y.png']])), [{ start: 30, end: 45, text: 'out/y.png' }]);
  });
});
