/**
 * Finding output URLs and saved outputs' paths in a document's text. The oracle for the property is the
 * extension's own writer: whatever URL safeOutputUrl lets through, written by formatOutputForLanguage in
 * any language and set among prose and code, is found whole, at its offsets, and reads back as that URL.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';

import { formatOutputForLanguage } from '../../../src/core/insertFormat';
import {
  findOutputUrls,
  hrefOfWrittenUrl,
  isFloraOutputHost,
  outputUrlAt,
  pathTokenAt,
  type FoundUrl,
} from '../../../src/core/outputLinks';
import { safeOutputUrl } from '../../../src/core/outputUrl';

const PROPERTY_RUNS = { seed: 20261201, numRuns: 400 };

const MARKDOWN_LANGUAGES = ['markdown', 'mdx'];
const HTML_LANGUAGES = ['html', 'vue', 'svelte', 'astro', 'php', 'handlebars', 'razor', 'erb'];
const JSX_LANGUAGES = ['javascriptreact', 'typescriptreact'];
const CSS_LANGUAGES = ['css', 'scss', 'less', 'sass', 'stylus', 'postcss'];
const PLAIN_LANGUAGES = ['plaintext', 'python', 'json', 'typescript'];
const ALL_LANGUAGES = [...MARKDOWN_LANGUAGES, ...HTML_LANGUAGES, ...JSX_LANGUAGES, ...CSS_LANGUAGES, ...PLAIN_LANGUAGES];

const anyUrl = (): boolean => true;

/**
 * Prose and code to set the snippet among. No piece, nor any two side by side, forms `http(s)://` with
 * no letter or digit before it: the only schemes here are glued to a word (`xhttps://`), which is no URL.
 */
const SURROUNDING = [
  'the',
  'image',
  'below',
  'é',
  '日本',
  '42',
  '.',
  ',',
  ';',
  ':',
  '!',
  '?',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '<',
  '>',
  '"',
  "'",
  '`',
  '\\',
  '|',
  '^',
  '=',
  '&amp;',
  '&',
  '#',
  '*',
  'const src =',
  '<div class="hero">',
  '</div>',
  '# Title',
  '- item',
  'background: url(',
  'http',
  'https',
  'HTTP:',
  'xhttps://not.a.url/',
  '1https://also.not/',
  'éhttps://nor.this/',
  'ftp://files.example/',
  'mailto:a@b.c',
];

const surrounding = fc
  .array(fc.tuple(fc.constantFrom(...SURROUNDING), fc.constantFrom('', '', ' ', '\n')), { maxLength: 12 })
  .map((pieces) => pieces.map(([piece, separator]) => piece + separator).join(''));
const separator = fc.constantFrom(' ', '\n', '  ', '\r\n');
const outputType = fc.constantFrom('imageUrl', 'videoUrl', 'text');
const alt = fc.oneof(
  fc.constantFrom('Studio Shot', 'a (b) [c] "d" <e> & f', 'x.', ''),
  fc.string({ maxLength: 30 }).filter((text) => !/https?:\/\//i.test(text)),
);
const webUrl = fc.webUrl({ validSchemes: ['https'], withQueryParameters: true, withFragments: true });

/** safeOutputUrl's form of the generated URL, or undefined where it refuses it (then the run is skipped). */
function safeOrUndefined(raw: string): string | undefined {
  try {
    return safeOutputUrl(raw);
  } catch {
    return undefined;
  }
}

/**
 * How each language's snippet spells the URL, from insertFormat.ts's rules (Markdown escapes `( ) & \`
 * with a backslash, markup writes `&` as `&amp;`, CSS and plain text write it as it is).
 */
function writtenForm(language: string, url: string): string {
  if (MARKDOWN_LANGUAGES.includes(language)) return url.replace(/[()&\\]/g, '\\$&');
  if (HTML_LANGUAGES.includes(language) || JSX_LANGUAGES.includes(language)) return url.replace(/&/g, '&amp;');
  return url;
}

/** Placed where `written` stands in `snippet`: the destination is the last URL in Markdown, the first elsewhere. */
function offsetIn(snippet: string, written: string, language: string): number {
  const at = MARKDOWN_LANGUAGES.includes(language) ? snippet.lastIndexOf(written) : snippet.indexOf(written);
  assert.ok(at >= 0, `${JSON.stringify(written)} in ${JSON.stringify(snippet)}`);
  return at;
}

function found(text: string, start: number, url: string): FoundUrl {
  assert.equal(text.slice(start, start + url.length), url);
  return { start, end: start + url.length, url };
}

function all(text: string): string[] {
  return findOutputUrls(text, anyUrl).map((entry) => entry.url);
}

describe('outputLinks: findOutputUrls', () => {
  it('finds every URL formatOutputForLanguage writes, in every language, whole and at its offsets, among prose and code', () => {
    fc.assert(
      fc.property(
        webUrl,
        fc.constantFrom(...ALL_LANGUAGES),
        outputType,
        alt,
        surrounding,
        separator,
        separator,
        surrounding,
        (raw, language, type, altText, before, gapBefore, gapAfter, after) => {
          const url = safeOrUndefined(raw);
          fc.pre(url !== undefined);
          if (url === undefined) return;
          const snippet = formatOutputForLanguage(language, { url, type, alt: altText });
          // A bare URL that ends in `.`, `?`, `)`… is sentence punctuation's double in prose: no reader can
          // tell, so those are the examples' business below, not this property's.
          fc.pre(snippet !== url || !/[.,;:!?)]$/.test(url));
          const written = writtenForm(language, url);
          const text = before + gapBefore + snippet + gapAfter + after;
          const start = before.length + gapBefore.length + offsetIn(snippet, written, language);
          const results = findOutputUrls(text, anyUrl);
          assert.deepEqual(results, [found(text, start, written)]);
          assert.equal(hrefOfWrittenUrl(results[0]?.url ?? '', language), url);
        },
      ),
      PROPERTY_RUNS,
    );
  });

  it('with isFloraOutputHost, finds the FLORA URL and none of the others written beside it', () => {
    const floraBase = fc.constantFrom('https://media.flora.ai', 'https://ik.imagekit.io/flora');
    fc.assert(
      fc.property(
        webUrl,
        webUrl,
        floraBase,
        fc.constantFrom(...ALL_LANGUAGES),
        outputType,
        fc.boolean(),
        (rawPath, rawOther, base, language, type, floraFirst) => {
          const flora = safeOrUndefined(base + new URL(rawPath).pathname.replace(/^\/*/, '/x') + new URL(rawPath).search);
          const other = safeOrUndefined(rawOther);
          fc.pre(flora !== undefined && other !== undefined && !/[.,;:!?)]$/.test(flora) && !/[.,;:!?)]$/.test(other));
          if (flora === undefined || other === undefined) return;
          const floraSnippet = formatOutputForLanguage(language, { url: flora, type, alt: 'Shot' });
          const otherSnippet = formatOutputForLanguage(language, { url: other, type, alt: 'Other' });
          const text = floraFirst ? `${floraSnippet}\n${otherSnippet}` : `${otherSnippet} ${floraSnippet}`;
          const written = writtenForm(language, flora);
          const start = (floraFirst ? 0 : otherSnippet.length + 1) + offsetIn(floraSnippet, written, language);
          assert.deepEqual(findOutputUrls(text, isFloraOutputHost), [found(text, start, written)]);
        },
      ),
      PROPERTY_RUNS,
    );
  });

  it('leaves sentence punctuation after a URL out of it', () => {
    const text =
      'See https://media.flora.ai/a.png. Then https://media.flora.ai/b.png, https://media.flora.ai/c.png; https://media.flora.ai/d.png! ' +
      'https://media.flora.ai/e.png? https://media.flora.ai/f.png: (https://media.flora.ai/g.png). https://media.flora.ai/h.png...';
    assert.deepEqual(
      all(text),
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((name) => `https://media.flora.ai/${name}.png`),
    );
    // Punctuation inside the URL, with more of it after, is the URL's.
    assert.deepEqual(all('at https://media.flora.ai/a.b,c;d!e?f:g.png.'), ['https://media.flora.ai/a.b,c;d!e?f:g.png']);
  });

  it('keeps every character of a URL that fills a quoted string, an attribute or <…>', () => {
    const json = '{"image": "https://ik.imagekit.io/flora/x.png?tr=w-300.", "next": \'https://media.flora.ai/y?\'}';
    assert.deepEqual(findOutputUrls(json, anyUrl), [
      found(json, 11, 'https://ik.imagekit.io/flora/x.png?tr=w-300.'),
      found(json, 67, 'https://media.flora.ai/y?'),
    ]);
    assert.deepEqual(all('<img src="https://media.flora.ai/a.png)" alt="x">'), ['https://media.flora.ai/a.png)']);
    assert.deepEqual(all('Markdown autolink <https://media.flora.ai/a.> here'), ['https://media.flora.ai/a.']);
    // A quote that does not close where the URL ends leaves the sentence's punctuation out.
    assert.deepEqual(all('"See https://media.flora.ai/a.png."'), ['https://media.flora.ai/a.png']);
  });

  it('ends at the backslash of an escaped quote: a JSON string inside a JSON string', () => {
    const text = '"{\\"url\\":\\"https://media.flora.ai/a.png\\"}"';
    assert.deepEqual(all(text), ['https://media.flora.ai/a.png']);
  });

  it('reads Markdown links, with their escapes and titles, and prose in parentheses', () => {
    const text =
      '[Shot](https://media.flora.ai/a\\(1\\).png?x=1\\&y=2) and ![b](https://media.flora.ai/b.png "title") ' +
      '(see https://media.flora.ai/c_(d).png) [e](https://media.flora.ai/e.)';
    const results = findOutputUrls(text, anyUrl);
    assert.deepEqual(
      results.map((entry) => entry.url),
      [
        'https://media.flora.ai/a\\(1\\).png?x=1\\&y=2',
        'https://media.flora.ai/b.png',
        'https://media.flora.ai/c_(d).png',
        'https://media.flora.ai/e.',
      ],
    );
    assert.equal(hrefOfWrittenUrl(results[0]?.url ?? '', 'markdown'), 'https://media.flora.ai/a(1).png?x=1&y=2');
    // CommonMark reads `\&amp;` as the five characters, not as `&`.
    assert.equal(hrefOfWrittenUrl('https://media.flora.ai/a?b=\\&amp;', 'markdown'), 'https://media.flora.ai/a?b=&amp;');
  });

  it('reads CSS url() quoted and unquoted', () => {
    const text =
      '.a { background: url(https://media.flora.ai/a.png); } .b { background-image: url("https://media.flora.ai/b(1).png"), url(\'https://ik.imagekit.io/flora/c.png\') }';
    assert.deepEqual(all(text), ['https://media.flora.ai/a.png', 'https://media.flora.ai/b(1).png', 'https://ik.imagekit.io/flora/c.png']);
  });

  it('reads HTML character references in a URL, keeping the `;` of `&amp;` even at its end', () => {
    const text = '<img src="https://media.flora.ai/a.png?x=1&amp;y=2"> <a href=https://media.flora.ai/b&amp;>b</a>';
    const results = findOutputUrls(text, anyUrl);
    assert.deepEqual(
      results.map((entry) => entry.url),
      ['https://media.flora.ai/a.png?x=1&amp;y=2', 'https://media.flora.ai/b&amp;'],
    );
    assert.equal(hrefOfWrittenUrl(results[0]?.url ?? '', 'html'), 'https://media.flora.ai/a.png?x=1&y=2');
    assert.equal(
      hrefOfWrittenUrl('https://media.flora.ai/a?x=&#38;&#x26;&lt;&bogus;&#0;', 'typescriptreact'),
      'https://media.flora.ai/a?x=&&<&bogus;&#0;',
    );
    // Elsewhere the text is the URL.
    assert.equal(hrefOfWrittenUrl('https://media.flora.ai/a?x=1&amp;y=2', 'css'), 'https://media.flora.ai/a?x=1&amp;y=2');
  });

  it('finds two URLs on one line, side by side in code', () => {
    const text = 'const urls = ["https://media.flora.ai/a.png","https://ik.imagekit.io/flora/b.png"]; // and https://example.com/c';
    assert.deepEqual(findOutputUrls(text, anyUrl), [
      found(text, text.indexOf('https://media'), 'https://media.flora.ai/a.png'),
      found(text, text.indexOf('https://ik'), 'https://ik.imagekit.io/flora/b.png'),
      found(text, text.indexOf('https://example.com'), 'https://example.com/c'),
    ]);
    assert.deepEqual(all('https://media.flora.ai/a.png https://media.flora.ai/b.png'), [
      'https://media.flora.ai/a.png',
      'https://media.flora.ai/b.png',
    ]);
    assert.deepEqual(
      findOutputUrls(text, isFloraOutputHost).map((entry) => entry.url),
      ['https://media.flora.ai/a.png', 'https://ik.imagekit.io/flora/b.png'],
    );
  });

  it('matches no scheme glued to a letter or digit, and any case of the scheme', () => {
    assert.deepEqual(all('xhttps://media.flora.ai/a.png 1http://a.b/c éhttps://a.b/c 𝐀https://a.b/c'), []);
    // Only the glued scheme is passed over: a URL after it that stands on its own is one.
    assert.deepEqual(all('xhttps://a.b/https://media.flora.ai/c.png'), ['https://media.flora.ai/c.png']);
    assert.deepEqual(all('x https://a.b/c-https://d.e/f'), ['https://a.b/c-https://d.e/f']);
    assert.deepEqual(all('HTTPS://MEDIA.FLORA.AI/A.png Http://a.b/c'), ['HTTPS://MEDIA.FLORA.AI/A.png', 'Http://a.b/c']);
    assert.ok(isFloraOutputHost('HTTPS://MEDIA.FLORA.AI/A.png'));
    assert.deepEqual(all('https:// https://. ftp://a.b/c https:/a.b'), []);
  });

  it('ends a URL at whitespace, controls and bidirectional or zero-width characters, keeps other Unicode', () => {
    assert.deepEqual(all('https://a.b/café\u00a0x https://a.b/c\u202ed https://a.b/e\u200bf https://a.b/g\u0085h'), [
      'https://a.b/café',
      'https://a.b/c',
      'https://a.b/e',
      'https://a.b/g',
    ]);
  });
});

describe('outputLinks: outputUrlAt', () => {
  const text = 'one https://media.flora.ai/a.png, two "https://example.com/b" three ![c](https://ik.imagekit.io/flora/c.png)';
  const first = text.indexOf('https://media');
  const third = text.indexOf('https://ik');

  it('finds the URL under the offset, an offset just past it included', () => {
    assert.deepEqual(outputUrlAt(text, first, isFloraOutputHost), found(text, first, 'https://media.flora.ai/a.png'));
    assert.deepEqual(outputUrlAt(text, first + 10, isFloraOutputHost), found(text, first, 'https://media.flora.ai/a.png'));
    assert.deepEqual(outputUrlAt(text, first + 28, isFloraOutputHost), found(text, first, 'https://media.flora.ai/a.png'));
    assert.deepEqual(outputUrlAt(text, third + 5, isFloraOutputHost), found(text, third, 'https://ik.imagekit.io/flora/c.png'));
  });

  it('finds nothing beside a URL, nor a URL the candidate test refuses', () => {
    assert.equal(outputUrlAt(text, first - 1, isFloraOutputHost), undefined);
    assert.equal(outputUrlAt(text, first + 29, isFloraOutputHost), undefined);
    assert.equal(outputUrlAt(text, text.indexOf('example'), isFloraOutputHost), undefined);
    assert.deepEqual(outputUrlAt(text, text.indexOf('example'), anyUrl)?.url, 'https://example.com/b');
    assert.equal(outputUrlAt(text, -1, anyUrl), undefined);
    assert.equal(outputUrlAt(text, text.length + 1, anyUrl), undefined);
  });

  it('agrees with findOutputUrls at every offset', () => {
    const results = findOutputUrls(text, anyUrl);
    for (let offset = 0; offset <= text.length; offset++) {
      const expected = results.find((entry) => entry.start <= offset && offset <= entry.end);
      assert.deepEqual(outputUrlAt(text, offset, anyUrl), expected, `offset ${offset}`);
    }
  });
});

describe('outputLinks: isFloraOutputHost', () => {
  it("accepts FLORA's output hosts", () => {
    for (const url of [
      'https://media.flora.ai/a.png',
      'https://media.flora.ai:443/runs/r1/a.png?x=1',
      'https://ik.imagekit.io/flora/shot.png',
      'https://ik.imagekit.io/flora/a/b.png?tr=w-300#x',
    ]) {
      assert.equal(isFloraOutputHost(url), true, url);
    }
  });

  it('refuses http, lookalike hosts and paths, credentials and bare hosts', () => {
    for (const url of [
      'http://media.flora.ai/a.png',
      'http://ik.imagekit.io/flora/a.png',
      'https://media.flora.ai.evil.com/a.png',
      'https://evil.media.flora.ai/a.png',
      'https://flora.ai/a.png',
      'https://media.flora.ai./a.png',
      'https://media.flora.ai:8443/a.png',
      'https://ik.imagekit.io/floral/a.png',
      'https://ik.imagekit.io/other/a.png',
      'https://ik.imagekit.io/FLORA/a.png',
      'https://ik.imagekit.io/flora',
      'https://ik.imagekit.io/flora/',
      'https://ik.imagekit.io/flora/../other/a.png',
      'https://media.flora.ai/',
      'https://user@media.flora.ai/a.png',
      'https://user:secret@ik.imagekit.io/flora/a.png',
      'https://media.flora.ai@evil.com/a.png',
      'ftp://media.flora.ai/a.png',
      'not a url',
      '',
    ]) {
      assert.equal(isFloraOutputHost(url), false, url);
    }
  });
});

/** The rule read straight off the WHATWG parser, for the shortcut isFloraOutputHost takes to agree with. */
function isFloraOutputHostByParser(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.host === 'media.flora.ai') return parsed.pathname.length > 1;
  return parsed.host === 'ik.imagekit.io' && parsed.pathname.startsWith('/flora/') && parsed.pathname.length > '/flora/'.length;
}

describe('outputLinks: isFloraOutputHost agrees with the parser', () => {
  it('on hosts spelled every way the WHATWG parser reads as (or not as) FLORA’s, and on generated URLs', () => {
    const start = fc.constantFrom('https://', 'HTTPS://', 'http://', 'https:///', ' https://', 'https:\\\\', '\thttps://', 'https:');
    const host = fc.constantFrom(
      'media.flora.ai',
      'MEDIA.Flora.AI',
      'media%2Eflora.ai',
      'media.flora.ai.',
      'media.flora.ai:443',
      'media.flora.ai:8443',
      'media.fl\tora.ai',
      'media\u3002flora.ai',
      'ｍedia.flora.ai',
      'user@media.flora.ai',
      'media.flora.ai@evil.com',
      'ik.imagekit.io',
      'IK.IMAGEKIT.IO',
      'ik.imagekit.io:443',
      'evil.com',
      'flora.ai',
      'media-flora.ai',
    );
    const rest = fc.constantFrom(
      '/flora/a.png',
      '/a.png',
      '/',
      '',
      '/floral/x',
      '/flora/',
      '/flora/../x',
      '/x/../flora/a',
      '?q',
      '#f',
      '\\flora\\a.png',
      '/FLORA/a',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(start, host, rest).map((parts) => parts.join('')),
          webUrl,
        ),
        (url) => {
          assert.equal(isFloraOutputHost(url), isFloraOutputHostByParser(url), JSON.stringify(url));
        },
      ),
      PROPERTY_RUNS,
    );
  });
});

describe('outputLinks: pathTokenAt', () => {
  function tokenAt(text: string, inside: string): ReturnType<typeof pathTokenAt> {
    return pathTokenAt(text, text.indexOf(inside) + 1);
  }

  it('reads a Markdown image destination, percent-decoded', () => {
    const text = '![a](../flora-outputs/x%20y.png)';
    assert.deepEqual(tokenAt(text, '../'), { start: 5, end: 31, path: '../flora-outputs/x y.png' });
  });

  it('reads a quoted attribute, a CSS url() and an unquoted attribute', () => {
    const html = '<img src="./a.png" alt="x">';
    assert.deepEqual(tokenAt(html, './a'), { start: 10, end: 17, path: './a.png' });
    const css = "background: url('a.png');";
    assert.deepEqual(tokenAt(css, 'a.png'), { start: 17, end: 22, path: 'a.png' });
    const unquoted = '<img src=./b.png>';
    assert.deepEqual(tokenAt(unquoted, './b'), { start: 9, end: 16, path: './b.png' });
    const backticks = 'saved to `flora-outputs/c.png` just now';
    assert.deepEqual(tokenAt(backticks, 'flora'), { start: 10, end: 29, path: 'flora-outputs/c.png' });
  });

  it('leaves out a query and a hash, and keeps text that is not valid percent-encoding', () => {
    assert.deepEqual(pathTokenAt('"a%20b.png?v=2#x"', 3), { start: 1, end: 16, path: 'a b.png' });
    assert.deepEqual(pathTokenAt('"c.png#frag"', 3), { start: 1, end: 11, path: 'c.png' });
    assert.deepEqual(pathTokenAt('(100%zz.png)', 3), { start: 1, end: 11, path: '100%zz.png' });
  });

  it('counts an offset just past the token, and finds nothing between delimiters', () => {
    assert.deepEqual(pathTokenAt('(a.png)', 6), { start: 1, end: 6, path: 'a.png' });
    assert.equal(pathTokenAt('a  b', 2), undefined);
    assert.equal(pathTokenAt('""', 1), undefined);
    assert.equal(pathTokenAt('"#only"', 2), undefined);
    assert.equal(pathTokenAt('x', 5), undefined);
  });
});

describe('outputLinks: pathological text takes linear time', () => {
  const SIZE = 1_000_000;
  const lines: [string, string][] = [
    ['a URL of a million letters', `https://${'a'.repeat(SIZE)}`],
    ['a million h', 'h'.repeat(SIZE)],
    ['a scheme and a million dots', `https://${'.'.repeat(SIZE)}`],
    ['a URL and a million closing parentheses', `https://a${')'.repeat(SIZE)}`],
    ['a million opening parentheses', `(https://a${'('.repeat(SIZE)}`],
    ['a URL in parentheses, repeated', '(https://a)'.repeat(SIZE / 10)],
    ['a scheme glued to a word, repeated', 'xhttps://'.repeat(SIZE / 9)],
    ['schemes back to back', 'https://'.repeat(SIZE / 8)],
    ['a long would-be character reference', `https://a&${'a'.repeat(SIZE)};`],
    ['semicolons', `https://a&b${';'.repeat(SIZE)}`],
    ['Markdown escapes', `https://a${'\\('.repeat(SIZE / 2)}`],
    ['lone backslashes', `https://a\\${'https://a\\'.repeat(SIZE / 10)}`],
  ];

  for (const [name, line] of lines) {
    it(`completes on ${name}`, () => {
      const results = findOutputUrls(line, anyUrl);
      for (const entry of results) assert.equal(line.slice(entry.start, entry.end), entry.url);
      outputUrlAt(line, line.length >> 1, anyUrl);
      pathTokenAt(line, line.length >> 1);
    });
  }

  it('finds the million-letter URL whole, and a URL per parenthesised copy', () => {
    assert.equal(findOutputUrls(`https://${'a'.repeat(SIZE)}`, anyUrl)[0]?.end, SIZE + 8);
    assert.equal(findOutputUrls('(https://a)'.repeat(1000), anyUrl).length, 1000);
    assert.equal(findOutputUrls(`https://a${')'.repeat(SIZE)}`, anyUrl)[0]?.url, 'https://a');
  });
});
