// The functions that make server text inert, checked against the workbench's own patterns: the regular
// expressions VS Code 1.139 uses to find links in a notification's text and icons in a label are read out of
// the installed workbench (npm test installs it first), so the oracle is what the editor really does.
import * as assert from 'node:assert';
import fc from 'fast-check';
import { labelText, MAX_LABEL_LENGTH, MAX_MESSAGE_LENGTH, messageText } from '../../../src/common/inert';
import { readWorkbenchPatterns, renderedIcons, type WorkbenchPatterns } from '../../harness/workbenchPatterns';

const SEED = 20261201;
/**
 * What inert text drops, stated by Unicode property rather than copied from the code: controls other than
 * tab, line feed and carriage return, and the bidirectional controls.
 */
function withoutInvisible(text: string): string {
  return text.replace(/[\p{Cc}\p{Bidi_Control}]/gu, (character) => ('\t\n\r'.includes(character) ? character : ''));
}

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
        assert.strictEqual(withoutInvisible(shown), shown, 'no control or bidi characters');
        assert.strictEqual(visible(shown), withoutInvisible(visible(text)));
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
        // Line breaks, tabs and half characters (lone surrogates) become spaces.
        const expected = withoutInvisible(visible(text))
          .replace(/\r\n|[\r\n\u2028\u2029\t]/g, ' ')
          .replace(/\p{Cs}/gu, ' ');
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
});
