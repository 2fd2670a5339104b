// The run preview's HTML shell, parsed as a browser parses it (parse5): whatever the translated words, the
// language and the run's local id hold, the document has exactly the shell's elements and attributes, each
// value reads back as given, and the CSP admits only the run's output origins, the extension's stylesheet and
// the one script with the nonce: the policy the preview had before input thumbnails, never data: (the page
// draws thumbnails from bytes in a message, loading no URL) and never an input's origin.
import * as assert from 'node:assert';
import fc from 'fast-check';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { isLoadableUrl, type RunRecord } from '../../../src/core/runs';
import { escapeHtml, previewCsp, previewHtml, previewOrigins, type PreviewShell } from '../../../src/views/previewHtml';
import { HOSTILE_PIECES } from '../core/hostilePieces';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

const SEED = 20261201;

function elements(node: Node): Element[] {
  const found: Element[] = [];
  const visit = (current: Node) => {
    if ('tagName' in current) found.push(current);
    if ('childNodes' in current) for (const child of current.childNodes) visit(child);
    if ('content' in current) visit(current.content);
  };
  visit(node);
  return found;
}

function attribute(element: Element, name: string): string | undefined {
  return element.attrs.find((entry) => entry.name === name)?.value;
}

function text(element: Element): string {
  return element.childNodes.map((child) => ('value' in child && child.nodeName === '#text' ? child.value : '')).join('');
}

const hostileText = fc
  .array(fc.oneof(fc.constantFrom(...HOSTILE_PIECES, '</title>', '<!--', '-->', '"><img src=x onerror=alert(1)>', '&quot;'), fc.string()), {
    maxLength: 8,
  })
  .map((pieces) => pieces.join(''));
/**
 * For text between tags: the parser itself turns CR into LF and drops or replaces NUL before any markup is
 * read (HTML's input stream preprocessing), which no escaping changes; translated words hold neither.
 */
const hostileWords = hostileText.map((value) => value.replace(/[\r\0]/g, ''));

function shell(overrides: Partial<PreviewShell> = {}): PreviewShell {
  return {
    nonce: 'bm9uY2Utbm9uY2Utbm9uY2U=',
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    origins: 'http://127.0.0.1:4321 https://media.flora.ai',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/preview.css',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/preview.js',
    language: 'en',
    localId: 'local-1',
    title: 'FLORA preview',
    loading: 'Loading…',
    ...overrides,
  };
}

function directives(csp: string): Record<string, string[]> {
  return Object.fromEntries(
    csp
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .map(([name, ...values]) => [name, values]),
  );
}

const EXTRA_ORIGINS = ['http://127.0.0.1:4321'];

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * The preview's policy as HEAD (dc813a1) made it, copied from src/views/previewPanel.ts (allowedOrigins,
 * loadableOrigin and html) so a later change cannot move both sides at once. isLoadableUrl is the core's URL
 * rule, unchanged since.
 */
function headPolicy(record: Pick<RunRecord, 'outputs'>, nonce: string, cspSource: string): string {
  const origins = new Set<string>();
  for (const output of record.outputs ?? []) {
    const origin = isLoadableUrl(output.url, EXTRA_ORIGINS) ? new URL(output.url).origin : undefined;
    if (origin) origins.add(origin);
  }
  const mediaSources = [...origins].sort().join(' ') || "'none'";
  return [
    "default-src 'none'",
    `img-src ${mediaSources}`,
    `media-src ${mediaSources}`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** URLs a run may hold, for inputs and outputs alike: loadable ones, data: images, hosts off the sandbox, junk. */
const urls = fc.constantFrom(
  'https://media.flora.ai/examples/sneaker.png',
  'https://cdn.example.com/a/b.webp?x=1',
  'http://127.0.0.1:4321/samples/coral.png',
  'http://127.0.0.1:4321/media/run-1/out.png',
  'http://127.0.0.1:9999/elsewhere.png',
  'http://example.com/a.png',
  'data:image/png;base64,iVBORw0KGgo=',
  'data:text/html,<script>alert(1)</script>',
  'javascript:alert(1)',
  'blob:https://media.flora.ai/1234',
  'https://user:pass@media.flora.ai/a.png',
  'not a url',
);

const runs = fc
  .record({
    inputs: fc.array(fc.record({ type: fc.constantFrom('imageUrl', 'videoUrl', 'text'), value: urls }), { maxLength: 4 }),
    outputs: fc.option(fc.array(fc.record({ type: fc.constantFrom('imageUrl', 'videoUrl', 'text'), url: urls }), { maxLength: 4 }), {
      nil: undefined,
    }),
  })
  .map(({ inputs, outputs }) => ({
    record: {
      inputs: inputs.map((input, index) => ({ id: `input_${index}`, ...input })),
      outputs,
    } satisfies Pick<RunRecord, 'inputs' | 'outputs'>,
    withImageInput: inputs.some((input) => input.type === 'imageUrl'),
  }));

/** The shell's elements, in document order, as `tag[attribute names]`. */
const SHELL_SHAPE = [
  'html[lang]',
  'head[]',
  'meta[charset]',
  'meta[content,http-equiv]',
  'meta[content,name]',
  'link[href,rel]',
  'title[]',
  'body[data-local-id]',
  'main[aria-live,id]',
  'p[class]',
  'script[nonce,src]',
];

describe('the preview’s HTML shell', () => {
  it('keeps its shape and reads every value back as given, whatever the words, language and id hold', () => {
    fc.assert(
      fc.property(hostileWords, hostileWords, hostileText, hostileText, (title, loading, localId, language) => {
        const document = parse(previewHtml(shell({ title, loading, localId, language })));
        const all = elements(document);
        assert.deepStrictEqual(
          all.map(
            (element) =>
              `${element.tagName}[${element.attrs
                .map((entry) => entry.name)
                .sort()
                .join(',')}]`,
          ),
          SHELL_SHAPE,
        );
        const byTag = (tag: string) => all.filter((element) => element.tagName === tag);
        const [titleElement] = byTag('title');
        const [paragraph] = byTag('p');
        const [body] = byTag('body');
        const [html] = byTag('html');
        assert.ok(titleElement && paragraph && body && html);
        assert.strictEqual(text(titleElement), title);
        assert.strictEqual(text(paragraph), loading);
        assert.strictEqual(decodeURIComponent(attribute(body, 'data-local-id') ?? ''), localId);
        assert.strictEqual(decodeURIComponent(attribute(html, 'lang') ?? ''), language);
        const [script] = byTag('script');
        assert.ok(script);
        assert.strictEqual(attribute(script, 'src'), shell().scriptUri);
        assert.strictEqual(attribute(script, 'nonce'), shell().nonce);
        assert.strictEqual(text(script), '', 'the script is the extension’s file, with nothing inline');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('carries the CSP exactly, quotes and all, in its meta element', () => {
    for (const origins of ['', 'https://media.flora.ai', shell().origins]) {
      const made = shell({ origins });
      const meta = elements(parse(previewHtml(made))).find((element) => attribute(element, 'http-equiv') === 'Content-Security-Policy');
      assert.ok(meta);
      assert.strictEqual(attribute(meta, 'content'), previewCsp(made));
    }
  });

  it('admits the outputs’ origins for images and videos, and nothing for a run with no loadable output', () => {
    const origins = ['http://127.0.0.1:4321', 'https://media.flora.ai'];
    assert.deepStrictEqual(directives(previewCsp(shell())), {
      'default-src': ["'none'"],
      'img-src': origins,
      'media-src': origins,
      'style-src': [shell().cspSource],
      'script-src': [`'nonce-${shell().nonce}'`],
    });
    assert.deepStrictEqual(directives(previewCsp(shell({ origins: '' })))['img-src'], ["'none'"]);
    assert.deepStrictEqual(directives(previewCsp(shell({ origins: '' })))['media-src'], ["'none'"]);
  });

  it('makes the policy it made before input thumbnails, for any run: no data:, no input’s origin', () => {
    fc.assert(
      fc.property(runs, ({ record, withImageInput }) => {
        const made = { nonce: shell().nonce, cspSource: shell().cspSource, origins: previewOrigins(record, EXTRA_ORIGINS) };
        const csp = previewCsp(made);
        assert.strictEqual(csp, headPolicy(record, made.nonce, made.cspSource), 'the policy at HEAD for the same run');
        assert.ok(!csp.includes('data:'), `no data: source, with an image input too (${String(withImageInput)}): ${csp}`);
        for (const input of record.inputs) {
          const origin = originOf(input.value);
          if (origin && !(record.outputs ?? []).some((output) => originOf(output.url) === origin)) {
            assert.ok(!csp.includes(origin), `an input's origin is not admitted: ${origin} in ${csp}`);
          }
        }
        const meta = elements(parse(previewHtml(shell(made)))).find(
          (element) => attribute(element, 'http-equiv') === 'Content-Security-Policy',
        );
        assert.strictEqual(meta && attribute(meta, 'content'), csp);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('escapes the five characters that end text or an attribute, and nothing else', () => {
    fc.assert(
      fc.property(hostileText, (value) => {
        const escaped = escapeHtml(value);
        assert.ok(!/[<>"']/.test(escaped));
        assert.ok(!/&(?!#(?:38|60|62|34|39);)/.test(escaped), 'every & starts one of the five references');
        assert.strictEqual(
          escaped.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code))),
          value,
        );
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
