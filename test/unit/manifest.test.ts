/**
 * The manifest, the code and the package agree, without starting an editor: settings the code reads are
 * declared (and nothing declared is unread), views and commands in code are contributed and titled,
 * every user-facing manifest string comes from package.nls.json, the walkthrough and marketplace fields
 * are complete, and `vsce` would package exactly what runs. test/host/suite/commands.test.ts checks
 * the same commands against the running extension's registrations.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { listFiles, PackageManager } from '@vscode/vsce';

import { CommandId } from '../../src/common/commandIds';
import { ContextKey } from '../../src/common/contextKeys';
import { PREVIEW_VIEW_TYPE, ViewId } from '../../src/common/viewIds';
import { repositoryRoot } from '../harness/paths';

interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
  icon?: string;
}
interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}
interface SettingSchema {
  markdownDescription?: string;
  description?: string;
  enumDescriptions?: string[];
  items?: { patternErrorMessage?: string };
}
interface WalkthroughStep {
  id: string;
  title: string;
  description: string;
  media: { svg?: string; image?: string; markdown?: string; altText?: string };
  completionEvents?: string[];
}
interface Manifest {
  name: string;
  publisher: string;
  displayName: string;
  description: string;
  license?: string;
  icon?: string;
  galleryBanner?: { color?: string; theme?: string };
  categories?: string[];
  keywords?: string[];
  repository?: { url?: string };
  bugs?: { url?: string };
  engines: { vscode: string };
  devDependencies?: Record<string, string>;
  activationEvents?: string[];
  contributes: {
    commands: ContributedCommand[];
    viewsContainers: { activitybar: Array<{ id: string; title: string; icon: string }> };
    views: Record<string, Array<{ id: string; name: string; icon?: string; contextualTitle?: string }>>;
    viewsWelcome: Array<{ view: string; contents: string; when?: string }>;
    menus: Record<string, MenuEntry[]>;
    keybindings: Array<{ command: string; key: string; mac?: string }>;
    configuration: { title: string; properties: Record<string, SettingSchema> };
    walkthroughs: Array<{ id: string; title: string; description: string; steps: WalkthroughStep[] }>;
  };
}

const manifestText = fs.readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8');
const manifest = JSON.parse(manifestText) as Manifest;
const nls = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'package.nls.json'), 'utf8')) as Record<string, unknown>;
const contributes = manifest.contributes;

const NLS_REFERENCE = /^%([\w.-]+)%$/;

/** The English text behind a `%key%` manifest value; fails when the value is literal or the key is missing. */
function localized(value: string | undefined, where: string): string {
  const match = NLS_REFERENCE.exec(value ?? '');
  assert.ok(match, `${where} is ${JSON.stringify(value)}, not a %key% reference into package.nls.json`);
  const text = nls[match[1]];
  assert.ok(typeof text === 'string' && text.trim().length > 0, `${where}: package.nls.json has no text for ${match[0]}`);
  return text;
}

/** Every string value in a JSON tree, with its JSON path. */
function stringsIn(value: unknown, at = '$'): Array<{ path: string; value: string }> {
  if (typeof value === 'string') return [{ path: at, value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringsIn(item, `${at}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => stringsIn(item, `${at}.${key}`));
  }
  return [];
}

function sourceFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

const sources = sourceFiles(path.join(repositoryRoot, 'src')).map((file) => ({
  file: path.relative(repositoryRoot, file),
  text: fs.readFileSync(file, 'utf8'),
}));

const declaredSettings = Object.keys(contributes.configuration.properties);
const contributedCommands = contributes.commands.map((command) => command.command);
const contributedViews = Object.values(contributes.views).flatMap((views) => views.map((view) => view.id));
const contributedContainers = contributes.viewsContainers.activitybar.map((container) => container.id);

/** `flora.*` strings the code uses that are not UI contributions: storage keys, named here on purpose. */
const INTERNAL_IDS: Readonly<Record<string, string>> = {
  'flora.apiKey': 'SecretStorage key of the API key',
  'flora.recentTechniques': 'globalState key of the recently run techniques',
  'flora.windowKey': "workspaceState key of this window's identity",
  'flora.walkthrough': 'globalState key of the walkthrough opened once and the steps marked done',
  'flora.upload.s3.accessKeyId': 'SecretStorage key of the S3 access key ID',
  'flora.upload.s3.secretAccessKey': 'SecretStorage key of the S3 secret access key',
  'flora.upload.gcs.accessKeyId': 'SecretStorage key of the GCS HMAC access ID',
  'flora.upload.gcs.secret': 'SecretStorage key of the GCS HMAC secret',
  'flora.upload.imagekit.privateKey': 'SecretStorage key of the ImageKit private key',
  'flora.upload.consented': 'globalState key of the upload targets the user agreed to',
  'flora.upload.cache': 'globalState key of the URLs of files uploaded already',
  'flora.upload.recent': 'globalState key of the local files used lately',
};

describe('manifest ↔ code', () => {
  it('declares every flora.* setting src/services/settings.ts reads, and reads every one it declares', () => {
    const settingsSource = sources.find((source) => source.file === path.join('src', 'services', 'settings.ts'));
    assert.ok(settingsSource, 'src/services/settings.ts is missing');
    assert.match(settingsSource.text, /SETTINGS_SECTION = 'flora'/);
    // The upload settings are read through readUpload's helpers (own, text, prefix: the user's value only).
    const read = new Set(
      [...settingsSource.text.matchAll(/(?:\.(?:get|inspect|update)|\b(?:own|text|prefix))\s*(?:<[^>]*>)?\(\s*'([\w.]+)'/g)].map(
        (match) => `flora.${match[1]}`,
      ),
    );
    assert.deepEqual([...read].sort(), [...declaredSettings].sort());
  });

  it('restricts in untrusted workspaces every setting that decides where the key goes, where files land or what is spent', () => {
    const trust = (manifest as { capabilities?: { untrustedWorkspaces?: { supported?: unknown; restrictedConfigurations?: unknown } } })
      .capabilities?.untrustedWorkspaces;
    assert.equal(trust?.supported, 'limited');
    const restricted = Array.isArray(trust?.restrictedConfigurations) ? trust.restrictedConfigurations : [];
    for (const name of ['flora.baseUrl', 'flora.outputFolder', 'flora.confirmBeforeRun', 'flora.maxHistory', 'flora.saveOutputs']) {
      assert.ok(restricted.includes(name), `${name} is not in capabilities.untrustedWorkspaces.restrictedConfigurations`);
      assert.ok(declaredSettings.includes(name), `${name} is restricted but not declared`);
    }
  });

  it('reads flora.* settings only through src/services/settings.ts', () => {
    for (const source of sources) {
      if (source.file === path.join('src', 'services', 'settings.ts')) continue;
      assert.doesNotMatch(
        source.text,
        /getConfiguration\(\s*(?:'flora'|"flora"|SETTINGS_SECTION)/,
        `${source.file} reads the flora settings itself`,
      );
    }
  });

  it('contributes every view in ViewId, and has an id in ViewId for every contributed view', () => {
    const { container, ...views } = ViewId;
    assert.deepEqual(contributedContainers, [container]);
    assert.deepEqual(Object.keys(contributes.views), [container]);
    assert.deepEqual([...contributedViews].sort(), Object.values(views).sort());
    for (const welcome of contributes.viewsWelcome) {
      assert.ok(contributedViews.includes(welcome.view), `viewsWelcome names unknown view ${welcome.view}`);
    }
  });

  it('contributes every command in CommandId with a localized title and the FLORA category, and nothing else', () => {
    assert.deepEqual([...contributedCommands].sort(), Object.values(CommandId).sort());
    for (const command of contributes.commands) {
      localized(command.title, `${command.command} title`);
      assert.equal(localized(command.category, `${command.command} category`), 'FLORA');
    }
  });

  it('gives every command shown as a button in a view an icon', () => {
    const buttons = [
      ...(contributes.menus['view/title'] ?? []).filter((entry) => entry.group?.startsWith('navigation')),
      ...(contributes.menus['view/item/context'] ?? []).filter((entry) => entry.group?.startsWith('inline')),
    ];
    for (const entry of buttons) {
      const command = contributes.commands.find((candidate) => candidate.command === entry.command);
      assert.ok(command?.icon, `${entry.command} is a view button (${entry.group}) without an icon`);
    }
  });

  it('binds a key to Run Technique', () => {
    assert.ok(contributes.keybindings.some((binding) => binding.command === CommandId.runTechnique && binding.key && binding.mac));
  });

  it('sets every flora.* context key the manifest tests, and the manifest uses every one the code sets', () => {
    const whenClauses = stringsIn(contributes)
      .filter((entry) => /\.when$/.test(entry.path))
      .map((entry) => entry.value);
    const completionEvents = contributes.walkthroughs.flatMap((walkthrough) =>
      walkthrough.steps.flatMap((step) => step.completionEvents ?? []),
    );
    const tested = new Set<string>();
    for (const clause of whenClauses) {
      for (const match of clause.matchAll(/(?<![\w.])flora\.[\w.]+/g)) {
        if (!contributedViews.includes(match[0])) tested.add(match[0]);
      }
    }
    for (const event of completionEvents) if (event.startsWith('onContext:')) tested.add(event.slice('onContext:'.length));
    assert.deepEqual([...tested].sort(), Object.values(ContextKey).sort());
    for (const clause of whenClauses) {
      for (const match of clause.matchAll(/\bconfig\.(flora\.[\w.]+)/g)) {
        assert.ok(declaredSettings.includes(match[1]), `when clause "${clause}" tests undeclared setting ${match[1]}`);
      }
    }
  });

  it('names in code only flora.* ids the manifest contributes (or known storage keys)', () => {
    const known = new Set<string>([
      ...contributedCommands,
      ...contributedViews,
      ...contributedContainers,
      ...declaredSettings,
      ...Object.values(ContextKey),
      PREVIEW_VIEW_TYPE,
      ...Object.keys(INTERNAL_IDS),
    ]);
    const unknown: string[] = [];
    const named = new Set<string>();
    for (const source of sources) {
      for (const match of source.text.matchAll(/['"`](flora\.[\w.]+)['"`]/g)) {
        const id = match[1];
        named.add(id);
        // File names such as 'flora.svg' are not ids.
        if (!known.has(id) && !/\.(?:svg|png|js|css|md|json)$/.test(id)) unknown.push(`${source.file}: ${id}`);
      }
    }
    assert.deepEqual(unknown, [], 'flora.* ids in code that the manifest does not contribute (add storage keys to INTERNAL_IDS)');
    assert.deepEqual(
      Object.keys(INTERNAL_IDS).filter((id) => !named.has(id)),
      [],
      'storage keys in INTERNAL_IDS that no code uses (remove them)',
    );
    assert.ok(manifest.activationEvents?.includes(`onWebviewPanel:${PREVIEW_VIEW_TYPE}`), 'the preview restores after a reload');
  });
});

describe('manifest localisation (package.nls.json)', () => {
  it('takes every user-facing string from package.nls.json', () => {
    localized(manifest.displayName, 'displayName');
    localized(manifest.description, 'description');
    for (const container of contributes.viewsContainers.activitybar) localized(container.title, `container ${container.id} title`);
    for (const view of Object.values(contributes.views).flat()) {
      localized(view.name, `view ${view.id} name`);
      if (view.contextualTitle !== undefined) localized(view.contextualTitle, `view ${view.id} contextualTitle`);
    }
    contributes.viewsWelcome.forEach((welcome, index) => localized(welcome.contents, `viewsWelcome[${index}]`));
    localized(contributes.configuration.title, 'configuration title');
    for (const [name, schema] of Object.entries(contributes.configuration.properties)) {
      localized(schema.markdownDescription ?? schema.description, `${name} description`);
      schema.enumDescriptions?.forEach((text, index) => localized(text, `${name} enumDescriptions[${index}]`));
      if (schema.items?.patternErrorMessage !== undefined) localized(schema.items.patternErrorMessage, `${name} patternErrorMessage`);
    }
    for (const walkthrough of contributes.walkthroughs) {
      localized(walkthrough.title, `walkthrough ${walkthrough.id} title`);
      localized(walkthrough.description, `walkthrough ${walkthrough.id} description`);
      for (const step of walkthrough.steps) {
        localized(step.title, `step ${step.id} title`);
        localized(step.description, `step ${step.id} description`);
        localized(step.media.altText, `step ${step.id} altText`);
      }
    }
  });

  it('resolves every %key% in package.json, and uses every key of package.nls.json', () => {
    const referenced = new Set<string>();
    for (const entry of stringsIn(manifest)) {
      const match = NLS_REFERENCE.exec(entry.value);
      if (!match) continue;
      referenced.add(match[1]);
      assert.ok(typeof nls[match[1]] === 'string', `${entry.path} references missing key ${entry.value}`);
    }
    assert.deepEqual(
      Object.keys(nls).filter((key) => !referenced.has(key)),
      [],
      'unused keys in package.nls.json',
    );
  });

  it('links only to contributed commands from welcome views and the walkthrough', () => {
    const focusCommands = contributedViews.map((view) => `${view}.focus`);
    for (const [key, text] of Object.entries(nls)) {
      for (const match of String(text).matchAll(/\(command:([\w.-]+)/g)) {
        const command = match[1];
        assert.ok(contributedCommands.includes(command) || focusCommands.includes(command), `${key} links to unknown command ${command}`);
      }
    }
  });
});

describe('walkthrough', () => {
  const walkthrough = contributes.walkthroughs.find((candidate) => candidate.id === 'getStarted');

  it('walks through key → techniques → run → insert → local files, each step completing on its own event', () => {
    assert.ok(walkthrough, 'no getStarted walkthrough');
    assert.equal(localized(walkthrough.title, 'walkthrough title'), 'Get started with FLORA');
    assert.deepEqual(
      walkthrough.steps.map((step) => step.completionEvents),
      [
        // Each from what the step teaches having happened (src/views/walkthrough.ts sets the keys).
        [`onContext:${ContextKey.hasApiKey}`],
        [`onContext:${ContextKey.hasExpandedTechnique}`],
        [`onContext:${ContextKey.hasStartedRun}`],
        [`onContext:${ContextKey.hasInsertedOutput}`],
        [`onContext:${ContextKey.hasConfiguredUpload}`],
      ],
    );
    assert.match(localized(walkthrough.steps[0]?.description, 'first step'), /\(command:flora\.setApiKey\)/);
  });

  it('gives each step its own small, self-contained image under media/walkthrough/', () => {
    assert.ok(walkthrough);
    const media = walkthrough.steps.map((step) => step.media.svg ?? step.media.image ?? step.media.markdown ?? '');
    assert.equal(new Set(media).size, media.length, 'each step has its own media');
    for (const file of media) {
      assert.match(file, /^media\/walkthrough\/[\w-]+\.(svg|png|md)$/);
      const absolute = path.join(repositoryRoot, file);
      assert.ok(fs.existsSync(absolute), `${file} is missing`);
      assert.ok(fs.statSync(absolute).size < 16 * 1024, `${file} is over 16 KB`);
      // The walkthrough inlines an SVG into a webview whose CSP allows neither <style> nor style="…", and
      // nothing may come from the network.
      const content = fs.readFileSync(absolute, 'utf8');
      const forbidden = /\s(?:xlink:)?href\s*=|\ssrc\s*=|url\(\s*[^)\s]|@import|<script|<style|<foreignObject|\sstyle\s*=/i;
      assert.doesNotMatch(content, forbidden, `${file} loads something or uses blocked styles`);
    }
  });
});

describe('marketplace fields', () => {
  it('has an icon that is a 128×128 PNG, a banner, categories, keywords, repository, bugs and license', () => {
    assert.ok(manifest.icon);
    const png = fs.readFileSync(path.join(repositoryRoot, manifest.icon));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
    assert.match(manifest.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
    assert.match(manifest.galleryBanner?.theme ?? '', /^(dark|light)$/);
    const marketplaceCategories = [
      'AI',
      'Azure',
      'Chat',
      'Data Science',
      'Debuggers',
      'Education',
      'Extension Packs',
      'Formatters',
      'Keymaps',
      'Language Packs',
      'Linters',
      'Machine Learning',
      'Notebooks',
      'Programming Languages',
      'SCM Providers',
      'Snippets',
      'Testing',
      'Themes',
      'Visualization',
      'Other',
    ];
    assert.ok(manifest.categories?.length, 'no categories');
    for (const category of manifest.categories) assert.ok(marketplaceCategories.includes(category), `unknown category ${category}`);
    assert.ok((manifest.keywords?.length ?? 0) > 0 && (manifest.keywords?.length ?? 0) <= 30, 'between 1 and 30 keywords');
    assert.match(manifest.repository?.url ?? '', /^https:\/\//);
    assert.match(manifest.bugs?.url ?? '', /^https:\/\//);
    assert.equal(manifest.license, 'MIT');
    assert.ok(fs.existsSync(path.join(repositoryRoot, 'LICENSE')));
    const description = localized(manifest.description, 'description');
    assert.ok(description.length <= 200, `the description is ${description.length} characters; keep it short`);
  });

  it('targets an engine no older than the @types/vscode it compiles against', () => {
    const engine = /^\^?(\d+)\.(\d+)\.(\d+)$/.exec(manifest.engines.vscode);
    const types = /^\^?~?(\d+)\.(\d+)\.(\d+)$/.exec(manifest.devDependencies?.['@types/vscode'] ?? '');
    assert.ok(engine && types, 'engines.vscode and @types/vscode are plain versions');
    const number = (match: RegExpExecArray) => Number(match[1]) * 1e6 + Number(match[2]) * 1e3 + Number(match[3]);
    assert.ok(
      number(types) <= number(engine),
      `@types/vscode ${types[0]} is newer than engines.vscode ${engine[0]}: vsce refuses to package`,
    );
  });
});

describe('package contents (vsce, .vscodeignore)', function () {
  this.timeout(60_000);

  /** Exactly what may ship: the bundle, media, manifest and its strings, README, CHANGELOG, LICENSE. */
  const isAllowed = (file: string): boolean =>
    [
      'dist/extension.js',
      'dist/undici.js',
      'dist/aws.js',
      'package.json',
      'package.nls.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
    ].includes(file) ||
    (file.startsWith('media/') && !file.endsWith('.map'));

  const list = async (cwd: string): Promise<string[]> =>
    (await listFiles({ cwd, packageManager: PackageManager.None })).map((file) => file.split(path.sep).join('/')).sort();

  it('lists only what runs from this repository', async () => {
    const files = await list(repositoryRoot);
    assert.deepEqual(
      files.filter((file) => !isAllowed(file)),
      [],
      'files vsce would package that do not run',
    );
    const required = ['package.json', 'package.nls.json', 'README.md', 'CHANGELOG.md', 'LICENSE', manifest.icon ?? 'media/icon.png'];
    const referenced = stringsIn(contributes)
      .map((entry) => entry.value)
      .filter((value) => value.startsWith('media/'));
    // The bundle exists only after a build; the next test checks the ignore rules without one.
    if (fs.existsSync(path.join(repositoryRoot, 'dist', 'extension.js'))) required.push('dist/extension.js', 'dist/undici.js');
    for (const file of [...required, ...referenced]) assert.ok(files.includes(file), `${file} is not packaged`);
  });

  it('ignores everything but what runs, whatever else a checkout holds', async () => {
    // A stand-in checkout with one file of every kind a working copy accumulates, and the real manifest,
    // strings, ignore file and media.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-vsce-ls-'));
    try {
      for (const file of ['package.json', 'package.nls.json', '.vscodeignore', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
        fs.copyFileSync(path.join(repositoryRoot, file), path.join(root, file));
      }
      fs.cpSync(path.join(repositoryRoot, 'media'), path.join(root, 'media'), { recursive: true });
      const clutter = [
        'dist/extension.js',
        'dist/extension.js.map',
        'dist/undici.js',
        'dist/undici.js.map',
        'dist/flora-vscode.vsix',
        'src/extension.ts',
        'test/unit/manifest.test.ts',
        'out/src/extension.js',
        'out/src/extension.js.map',
        'node_modules/zod/index.js',
        '.vscode-test/runs/x/log.txt',
        'test-results/screenshots/a.png',
        '.ci/run',
        '.github/workflows/ci.yml',
        '.vscode/launch.json',
        'tsconfig.json',
        'esbuild.mjs',
        'package-lock.json',
        '.gitignore',
        '.env',
      ];
      for (const file of clutter) {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), '// stand-in\n');
      }
      const files = await list(root);
      const media = fs
        .readdirSync(path.join(repositoryRoot, 'media'), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(repositoryRoot, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
        // The README's pictures are shown from the repository, never shipped.
        .filter((file) => !file.startsWith('media/readme/'));
      const expected = [
        'CHANGELOG.md',
        'LICENSE',
        'README.md',
        'dist/extension.js',
        'dist/undici.js',
        'package.json',
        'package.nls.json',
        ...media,
      ].sort();
      assert.deepEqual(files, expected);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
