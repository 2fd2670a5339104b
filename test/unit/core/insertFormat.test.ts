/**
 * How an output URL is written into documents of each language. The URL and the technique's name are the
 * server's, so besides the examples, generated hostile URLs and names are inserted and the result is read
 * back with each language's real parser: it must be exactly the one image, link, element or url() meant.
 */
import * as assert from 'node:assert/strict';
import * as csstree from 'css-tree';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { parseFragment, type DefaultTreeAdapterMap } from 'parse5';

import { FloraInputError } from '../../../src/core/errors';
import { cleanAltText, formatOutputForLanguage, MAX_ALT_LENGTH, type InsertableOutput } from '../../../src/core/insertFormat';
import { englishText } from '../../../src/core/messages';
import { checkOutputUrl, safeOutputUrl } from '../../../src/core/outputUrl';
import { isLoadableUrl } from '../../../src/core/runs';
import { HOSTILE_PIECES } from './hostilePieces';

const IMAGE = { url: 'https://ik.imagekit.io/flora/shot.png', type: 'imageUrl', alt: 'Studio Shot' };
const VIDEO = { url: 'https://ik.imagekit.io/flora/clip.mp4', type: 'videoUrl' };
const TEXT = { url: 'https://ik.imagekit.io/flora/palette.txt', type: 'text' };
const SANDBOX = 'http://127.0.0.1:7717';

const MARKDOWN_LANGUAGES = ['markdown', 'mdx'];
const HTML_LANGUAGES = ['html', 'vue', 'svelte', 'astro', 'php', 'handlebars', 'razor', 'erb'];
const JSX_LANGUAGES = ['javascriptreact', 'typescriptreact'];
const CSS_LANGUAGES = ['css', 'scss', 'less', 'sass', 'stylus', 'postcss'];
const OTHER_LANGUAGES = ['plaintext', 'python', 'json'];
const ALL_LANGUAGES = [...MARKDOWN_LANGUAGES, ...HTML_LANGUAGES, ...JSX_LANGUAGES, ...CSS_LANGUAGES, ...OTHER_LANGUAGES];

const PROPERTY_RUNS = { seed: 20261201, numRuns: 300 };

const HOSTILE = HOSTILE_PIECES;

/** Full unicode mixed with the hostile alphabet. */
const hostileText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength });

/** The first eleven are hosts a URL may name; the rest are refused. */
const HOSTS = [
  'ik.imagekit.io',
  'IK.ImageKit.IO',
  'media.flora.ai',
  'my-bucket.s3.amazonaws.com',
  'example.com',
  'bücher.example',
  '１２７.0.0.1',
  '[::1]',
  '127.0.0.1:7717',
  'ik.imagekit.io:443',
  'ik.imagekit.io:8443',
  // Legal for the WHATWG parser, never a real host: refused.
  'a"b.com',
  'a{b}.com',
  "a'b.com",
  'a`b.com',
  // Credentials: refused.
  'user:pw@ik.imagekit.io',
  'ik.imagekit.io@evil.com',
];

const REFUSED_SCHEMES = ['http://', 'javascript:', 'data:', 'file://', 'command:'];

/** Generated output URLs: mostly https on real hosts, with hostile paths, queries and fragments. */
const outputUrl: fc.Arbitrary<string> = fc
  .record({
    scheme: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('https://', 'HTTPS://', ' https://') },
      { weight: 1, arbitrary: fc.constantFrom(...REFUSED_SCHEMES) },
    ),
    host: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...HOSTS.slice(0, 11)) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTS) }),
    path: hostileText(12),
    query: fc.option(hostileText(8)),
    fragment: fc.option(hostileText(8)),
  })
  .map(
    ({ scheme, host, path, query, fragment }) =>
      `${scheme}${host}/${path}${query === null ? '' : `?${query}`}${fragment === null ? '' : `#${fragment}`}`,
  );

const techniqueName: fc.Arbitrary<string | undefined> = fc.option(hostileText(40), { nil: undefined });
const outputType = fc.constantFrom('imageUrl', 'videoUrl', 'text', 'audioUrl');
const extraOrigins = fc.constantFrom<readonly string[]>([], [SANDBOX]);

/**
 * What the inserted URL must be, from the spec rather than the code: the WHATWG serialisation with
 * RFC 3986's never-unencoded characters percent-encoded after the origin.
 */
function expectedHref(raw: string): string {
  const url = new URL(raw);
  const origin = `${url.protocol}//${url.host}`;
  const encoded = url.href
    .slice(origin.length)
    .replace(/[ "<>\\^`{|}[\]$@']/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return origin + encoded;
}

/** Whether the preview's check accepts it and its host is one a name server could have. */
function acceptable(raw: string, origins: readonly string[]): boolean {
  if (!isLoadableUrl(raw, origins)) return false;
  return /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(new URL(raw).hostname);
}

function refusal(run: () => unknown): FloraInputError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof FloraInputError, String(error));
    return error;
  }
  assert.fail('accepted');
}

const md = new MarkdownIt({ html: true });
type MarkdownToken = ReturnType<MarkdownIt['parse']>[number];

/**
 * The text of inline tokens that must all be plain text (no emphasis, code, HTML or nested links);
 * `text_special` is an escaped character, which markdown-it leaves unjoined inside an image's alt.
 */
function plainTextOf(tokens: readonly MarkdownToken[]): string {
  for (const token of tokens) assert.ok(['text', 'text_special'].includes(token.type), `a ${token.type} token in the text`);
  return tokens.map((token) => token.content).join('');
}

function assertMarkdown(text: string, output: InsertableOutput, href: string): void {
  const tokens = md.parse(text, {});
  assert.deepEqual(
    tokens.map((token) => token.type),
    ['paragraph_open', 'inline', 'paragraph_close'],
    'exactly one paragraph',
  );
  const children = tokens[1]?.children ?? [];
  assert.ok(!children.some((token) => token.type.startsWith('html')), 'no raw HTML');
  const name = cleanAltText(output.alt);
  if (output.type === 'imageUrl') {
    assert.equal(children.length, 1, 'exactly one image');
    const image = children[0];
    assert.equal(image?.type, 'image');
    assert.equal(image?.attrGet('src'), md.normalizeLink(href));
    assert.equal(plainTextOf(image?.children ?? []), name);
  } else {
    assert.equal(children[0]?.type, 'link_open', 'a link');
    assert.equal(children.at(-1)?.type, 'link_close', 'one link only');
    assert.equal(children[0]?.attrGet('href'), md.normalizeLink(href));
    assert.deepEqual(children[0]?.attrs?.length, 1, 'only href');
    assert.equal(plainTextOf(children.slice(1, -1)), name);
  }
}

type Node = DefaultTreeAdapterMap['childNode'];

function assertMarkup(languageId: string, text: string, output: InsertableOutput, href: string): void {
  const nodes: Node[] = parseFragment(text).childNodes;
  assert.equal(nodes.length, 1, `exactly one node in ${JSON.stringify(text)}`);
  const element = nodes[0] as DefaultTreeAdapterMap['element'];
  const name = cleanAltText(output.alt);
  const attributes = (element.attrs ?? []).map(({ name: attribute, value }) => [attribute, value]);
  if (output.type === 'imageUrl') {
    assert.equal(element.tagName, 'img');
    assert.deepEqual(attributes, [
      ['src', href],
      ['alt', name],
    ]);
  } else if (output.type === 'videoUrl') {
    assert.equal(element.tagName, 'video');
    assert.deepEqual(attributes, [
      ['src', href],
      ['controls', ''],
    ]);
    assert.equal(element.childNodes.length, 0);
  } else {
    assert.equal(element.tagName, 'a');
    assert.deepEqual(attributes, [['href', href]]);
    assert.equal(element.childNodes.length, 1);
    const child = element.childNodes[0] as DefaultTreeAdapterMap['textNode'];
    assert.equal(child.nodeName, '#text');
    assert.equal(child.value, name);
  }
  // Template syntax stays dead: Svelte/Astro/JSX `{…}`, Vue/Handlebars `{{…}}`, Razor `@…`, PHP `<?`, ERB `<%`.
  assert.doesNotMatch(text, /[{}@]/, `${languageId}: template syntax in ${JSON.stringify(text)}`);
  assert.doesNotMatch(text, /<(?!\/?(?:img|video|a)[ >])/, `${languageId}: a stray "<"`);
}

function assertCss(languageId: string, text: string, href: string): void {
  const value = csstree.parse(text, { context: 'value' });
  const urls: string[] = [];
  let nodes = 0;
  csstree.walk(value, (node) => {
    if (node.type !== 'Value') nodes++;
    if (node.type === 'Url') urls.push(node.value);
  });
  assert.deepEqual(urls, [href], `one url() in ${JSON.stringify(text)}`);
  assert.equal(nodes, 1, 'nothing beside the url()');
  // No SCSS #{…}, Less @{…}, or a block of any dialect.
  assert.doesNotMatch(text, /[{}]/, `${languageId}: braces in ${JSON.stringify(text)}`);
}

describe('core/insertFormat formatOutputForLanguage', () => {
  it('markdown: image syntax for images, a link for videos and other outputs, never raw HTML', () => {
    assert.equal(formatOutputForLanguage('markdown', IMAGE), '![Studio Shot](https://ik.imagekit.io/flora/shot.png)');
    assert.equal(formatOutputForLanguage('mdx', IMAGE), '![Studio Shot](https://ik.imagekit.io/flora/shot.png)');
    assert.equal(formatOutputForLanguage('markdown', VIDEO), '[FLORA output](https://ik.imagekit.io/flora/clip.mp4)');
    assert.equal(formatOutputForLanguage('markdown', TEXT), '[FLORA output](https://ik.imagekit.io/flora/palette.txt)');
  });

  it('markdown: escapes punctuation in the alt text and parentheses in the URL; spaces are percent-encoded', () => {
    const tricky = { url: 'https://media.flora.ai/a (1) b.png', type: 'imageUrl', alt: 'Wonder[fy] \\ x <script>' };
    assert.equal(
      formatOutputForLanguage('markdown', tricky),
      '![Wonder\\[fy\\] \\\\ x \\<script\\>](https://media.flora.ai/a%20\\(1\\)%20b.png)',
    );
  });

  it('html and vue: img and video elements, a link for other outputs, with escaped attributes', () => {
    assert.equal(formatOutputForLanguage('html', IMAGE), '<img src="https://ik.imagekit.io/flora/shot.png" alt="Studio Shot">');
    assert.equal(formatOutputForLanguage('vue', IMAGE), '<img src="https://ik.imagekit.io/flora/shot.png" alt="Studio Shot">');
    assert.equal(formatOutputForLanguage('html', VIDEO), '<video src="https://ik.imagekit.io/flora/clip.mp4" controls></video>');
    assert.equal(formatOutputForLanguage('html', TEXT), '<a href="https://ik.imagekit.io/flora/palette.txt">FLORA output</a>');
    const quoted = { url: 'https://media.flora.ai/a.png?x="1"&y=<2>', type: 'imageUrl', alt: 'say "hi" & <bye> {{x}} @(x)' };
    assert.equal(
      formatOutputForLanguage('svelte', quoted),
      '<img src="https://media.flora.ai/a.png?x=%221%22&amp;y=%3C2%3E" alt="say &quot;hi&quot; &amp; &lt;bye&gt; &#123;&#123;x&#125;&#125; &#64;(x)">',
    );
  });

  it('typescriptreact and javascriptreact: self-closing elements', () => {
    assert.equal(
      formatOutputForLanguage('typescriptreact', IMAGE),
      '<img src="https://ik.imagekit.io/flora/shot.png" alt="Studio Shot" />',
    );
    assert.equal(formatOutputForLanguage('javascriptreact', VIDEO), '<video src="https://ik.imagekit.io/flora/clip.mp4" controls />');
  });

  it('css, scss and less: url("…"); quotes, backslashes and braces are percent-encoded; a text output is the plain URL', () => {
    for (const language of ['css', 'scss', 'less']) {
      assert.equal(formatOutputForLanguage(language, IMAGE), 'url("https://ik.imagekit.io/flora/shot.png")', language);
    }
    assert.equal(formatOutputForLanguage('css', VIDEO), 'url("https://ik.imagekit.io/flora/clip.mp4")');
    assert.equal(
      formatOutputForLanguage('scss', { url: 'https://media.flora.ai/a"b\\c.png?#{x}@{y}', type: 'imageUrl' }),
      'url("https://media.flora.ai/a%22b/c.png?#%7Bx%7D%40%7By%7D")',
    );
    assert.equal(formatOutputForLanguage('css', TEXT), TEXT.url, 'a text output is not a CSS image');
  });

  it('plaintext and unknown languages get the normalised URL, as does the plain format everywhere; "$", "@" and "\'" are encoded', () => {
    assert.equal(formatOutputForLanguage('plaintext', IMAGE), IMAGE.url);
    assert.equal(
      formatOutputForLanguage('python', { ...IMAGE, url: ' HTTPS://IK.ImageKit.IO:443/a/../b c{d}\n' }),
      'https://ik.imagekit.io/b%20c%7Bd%7D',
    );
    for (const language of ['markdown', 'html', 'css', 'typescriptreact', 'plaintext']) {
      assert.equal(formatOutputForLanguage(language, IMAGE, { format: 'plain' }), IMAGE.url, language);
    }
    // Razor's @(…), Blade's @php(…), a shell's $(…) and a single-quoted string's end stay data, in any language.
    for (const language of ['razor', 'aspnetcorerazor', 'blade', 'shellscript', 'powershell', 'plaintext']) {
      assert.equal(
        formatOutputForLanguage(
          language,
          { url: "https://ik.imagekit.io/$(whoami)/@(x)/@php(y)/'z'.png", type: 'imageUrl' },
          { format: 'plain' },
        ),
        'https://ik.imagekit.io/%24(whoami)/%40(x)/%40php(y)/%27z%27.png',
        language,
      );
    }
  });

  it('refuses what the preview would not load, with a message, in every language and for copying', () => {
    for (const url of [
      'javascript:alert(1)',
      'data:image/png;base64,iVBORw0KGgo=',
      'http://ik.imagekit.io/a.png',
      'file:///etc/passwd',
      'command:workbench.action.terminal.sendSequence',
      'https://user:pw@ik.imagekit.io/a.png',
      'https://a"b.com/a.png',
      'not a url',
      `${SANDBOX}/media/a.png`,
    ]) {
      for (const language of ALL_LANGUAGES) {
        const error = refusal(() => formatOutputForLanguage(language, { url, type: 'imageUrl' }));
        assert.ok(englishText(error.problems[0].text).includes('not inserted or copied'), error.message);
      }
      refusal(() => safeOutputUrl(url));
    }
    assert.match(englishText(refusal(() => safeOutputUrl('javascript:alert(1)')).text), /javascript:/);
    assert.match(englishText(refusal(() => safeOutputUrl('https://u:p@ik.imagekit.io/')).text), /user name or password/);
  });

  it("accepts the sandbox's own origin only when it is given as an extra origin", () => {
    const url = `${SANDBOX}/media/j57/x.png`;
    assert.equal(
      formatOutputForLanguage('html', { url, type: 'imageUrl' }, { extraOrigins: [SANDBOX] }),
      `<img src="${url}" alt="FLORA output">`,
    );
    refusal(() => formatOutputForLanguage('html', { url, type: 'imageUrl' }, { extraOrigins: ['http://127.0.0.1:7718'] }));
  });

  it('cleans names to one line of at most 120 characters, with a default', () => {
    assert.equal(cleanAltText(undefined), 'FLORA output');
    assert.equal(cleanAltText(' \n\t '), 'FLORA output');
    assert.equal(cleanAltText('Studio\nShot\u202e\u2028x\r\ny'), 'Studio Shot x y');
    const long = cleanAltText('🙂'.repeat(500));
    assert.equal(Array.from(long).length, MAX_ALT_LENGTH);
    assert.ok(long.endsWith('…'));
  });

  describe('read back with the real parsers (property-based)', () => {
    it('the safe URL is the WHATWG form with the never-unencoded characters encoded, and reads back as itself', () => {
      let accepted = 0;
      fc.assert(
        fc.property(outputUrl, extraOrigins, (raw, origins) => {
          const verdict = checkOutputUrl(raw, origins);
          assert.equal(verdict.url !== undefined, acceptable(raw, origins), `verdict on ${JSON.stringify(raw)}`);
          if (verdict.url === undefined) {
            refusal(() => safeOutputUrl(raw, origins));
            return;
          }
          accepted++;
          assert.equal(verdict.url, expectedHref(raw));
          assert.equal(new URL(verdict.url).href, verdict.url, 'reads back as itself');
          assert.match(verdict.url, /^[\x21-\x7e]+$/, 'printable ASCII only');
          const { host } = new URL(verdict.url);
          assert.doesNotMatch(verdict.url.slice(verdict.url.indexOf(host) + host.length), /[ "<>\\^`{|}[\]$@']/);
        }),
        PROPERTY_RUNS,
      );
      assert.ok(accepted > PROPERTY_RUNS.numRuns / 3, `only ${accepted} generated URLs were accepted`);
    });

    it('markdown and mdx: exactly one paragraph holding one image (images) or one link (others), no raw HTML', () => {
      fc.assert(
        fc.property(outputUrl, techniqueName, outputType, fc.constantFrom(...MARKDOWN_LANGUAGES), (url, alt, type, language) => {
          const output = { url, type, alt };
          if (!acceptable(url, [])) {
            refusal(() => formatOutputForLanguage(language, output));
            return;
          }
          assertMarkdown(formatOutputForLanguage(language, output), output, expectedHref(url));
        }),
        PROPERTY_RUNS,
      );
    });

    it('html-like and jsx: exactly one element with exactly our attributes, template syntax dead', () => {
      fc.assert(
        fc.property(
          outputUrl,
          techniqueName,
          outputType,
          fc.constantFrom(...HTML_LANGUAGES, ...JSX_LANGUAGES),
          (url, alt, type, language) => {
            const output = { url, type, alt };
            if (!acceptable(url, [])) {
              refusal(() => formatOutputForLanguage(language, output));
              return;
            }
            assertMarkup(language, formatOutputForLanguage(language, output), output, expectedHref(url));
          },
        ),
        PROPERTY_RUNS,
      );
    });

    it('css-like: one url() holding the URL for media, the plain URL otherwise, never a brace', () => {
      fc.assert(
        fc.property(outputUrl, outputType, fc.constantFrom(...CSS_LANGUAGES), (url, type, language) => {
          const output = { url, type };
          if (!acceptable(url, [])) {
            refusal(() => formatOutputForLanguage(language, output));
            return;
          }
          const text = formatOutputForLanguage(language, output);
          if (type === 'imageUrl' || type === 'videoUrl') assertCss(language, text, expectedHref(url));
          else assert.equal(text, expectedHref(url));
        }),
        PROPERTY_RUNS,
      );
    });

    it('plain format and other languages: the safe URL only, with no "$", "@" or "\'" after the host', () => {
      fc.assert(
        fc.property(outputUrl, outputType, fc.constantFrom(...ALL_LANGUAGES), (url, type, language) => {
          if (!acceptable(url, [])) {
            refusal(() => formatOutputForLanguage(language, { url, type }, { format: 'plain' }));
            return;
          }
          const href = expectedHref(url);
          const plain = formatOutputForLanguage(language, { url, type }, { format: 'plain' });
          assert.equal(plain, href);
          assert.doesNotMatch(plain.slice(new URL(href).origin.length), /[$@']/);
          if (OTHER_LANGUAGES.includes(language)) assert.equal(formatOutputForLanguage(language, { url, type }), href);
        }),
        PROPERTY_RUNS,
      );
    });
  });
});
