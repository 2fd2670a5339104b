// The functions that make server text inert, checked against the workbench's own patterns: the regular
// expressions VS Code 1.139 uses to find links in a notification's text and icons in a label are read out of
// the installed workbench (npm test installs it first), so the oracle is what the editor really does.
import * as assert from 'node:assert';
import fc from 'fast-check';
import { cspOrigin, labelText, MAX_LABEL_LENGTH, MAX_MESSAGE_LENGTH, messageText } from '../../../src/common/inert';
import { readWorkbenchPatterns, renderedIcons, type WorkbenchPatterns } from '../../harness/workbenchPatterns';

const SEED = 20261201;
/** What inert text drops: controls other than tab and line breaks, and the bidirectional controls. */
// eslint-disable-next-line no-control-regex -- control characters are what is checked
const REMOVED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
// Strings built from the pieces attacks are made of, and from anything else.
const piece = fc.constantFrom(
  '[',
  ']',
  '(',
  ')',
  '](',
  '$(',
  '$(alert)',
  '\\$(x)',
  'command:',
  'https://',
  'file:',
  'workbench.action.terminal.sendSequence?%7B%7D',
  ' ',
  '\n',
  '\r\n',
  '\t',
  '\u202E',
  '\u2066',
  '\u0000',
  '\u0007',
  '\u2060',
  '"',
  "'",
  'Studio Shot',
  '~spin',
);
const hostile = fc.oneof(
  fc.array(piece, { maxLength: 40 }).map((pieces) => pieces.join('')),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

/** What the user should still read: the text less what is removed on purpose. */
function visible(text: string): string {
  return text.replace(/\u2060/g, '');
}

describe('inert text', () => {
  let patterns: WorkbenchPatterns;
  before(() => {
    patterns = readWorkbenchPatterns();
  });

  it('reads the real patterns (they find the attacks in raw text)', () => {
    const attack = 'Studio Shot [Open Preview](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22ls%22%7D) $(alert)';
    assert.strictEqual([...attack.matchAll(patterns.link)].length, 1);
    assert.deepStrictEqual(renderedIcons(patterns.icon, attack), ['$(alert)']);
  });

  it('messages: no string becomes a link or an icon, and the words stay', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const shown = messageText(text);
        assert.deepStrictEqual([...shown.matchAll(patterns.link)], [], JSON.stringify(shown));
        assert.deepStrictEqual(renderedIcons(patterns.icon, shown), []);
        assert.ok(!new RegExp(REMOVED.source).test(shown), 'no control or bidi characters');
        assert.strictEqual(visible(shown), visible(text).replace(REMOVED, ''));
        assert.strictEqual(messageText(shown), shown, 'idempotent');
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('labels: one line, no icon or link, the words stay', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const shown = labelText(text);
        assert.deepStrictEqual(renderedIcons(patterns.icon, shown), [], JSON.stringify(shown));
        assert.deepStrictEqual([...shown.matchAll(patterns.link)], []);
        assert.ok(!/[\r\n\t\u2028\u2029]/.test(shown), 'one line');
        const expected = visible(text)
          .replace(REMOVED, '')
          .replace(/\r\n|[\r\n\u2028\u2029\t]/g, ' ');
        assert.strictEqual(visible(shown), expected);
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('caps what it keeps, without splitting a character', () => {
    const huge = '😀'.repeat(1_000_000);
    const label = labelText(huge);
    assert.ok(label.length <= MAX_LABEL_LENGTH);
    assert.ok(label.endsWith('…'));
    assert.doesNotThrow(() => encodeURIComponent(label), 'no lone surrogate');
    assert.ok(messageText('x'.repeat(5_000_000)).length <= MAX_MESSAGE_LENGTH);
  });

  it('a CSP source is a bare origin or nothing', () => {
    assert.strictEqual(cspOrigin('https://ik.imagekit.io/flora/a.png?x=1'), 'https://ik.imagekit.io');
    assert.strictEqual(cspOrigin('http://127.0.0.1:7717/files/a.png'), 'http://127.0.0.1:7717');
    assert.strictEqual(cspOrigin('https://bücher.example/a.png'), 'https://xn--bcher-kva.example');
    assert.strictEqual(cspOrigin('http://[::1]:7717/a.png'), 'http://[::1]:7717');
    // The URL parser keeps these in a host name; a CSP would read them as the end of the directive.
    assert.strictEqual(cspOrigin("https://a';script-src*/x.png"), undefined);
    assert.strictEqual(cspOrigin('https://a.example;script-src:*/x.png'), undefined);
    assert.strictEqual(cspOrigin('https://a,b.example/x.png'), undefined);
    assert.strictEqual(cspOrigin('javascript:alert(1)'), undefined);
    assert.strictEqual(cspOrigin('data:image/png;base64,AAAA'), undefined);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.webUrl(),
          fc.string({ unit: 'binary' }).map((text) => `https://${text}/x.png`),
        ),
        (url) => {
          const origin = cspOrigin(url);
          if (origin !== undefined) assert.match(origin, /^https?:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d+)?$/);
        },
      ),
      { seed: SEED, numRuns: 2_000 },
    );
  });
});
