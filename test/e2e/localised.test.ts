// A translation reaches every kind of string the user sees. The built extension is copied with a
// pseudo-translation of both its catalogues (package.nls.de.json for the manifest, and
// media/l10n/bundle.l10n.de.json made from the English bundle, which holds core's message templates too):
// every string becomes ⟦string⟧. A code-server with German as its display language (a stand-in language
// pack: the workbench stays English, the extension host reports "de") then shows the manifest's titles,
// runtime strings, core's validation messages and an error reply from the sandbox, each bracketed whole:
// no English left over, nothing glued from untranslated pieces. The steps run in order, like a user's.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { onProcessExit, removeDirectory } from '../harness/cleanup';
import { makeRunDirectory, repositoryRoot } from '../harness/paths';
import { openEditorSession, type EditorSession } from '../harness/session';
import { exactly } from '../harness/workbench';
import { startSandbox, type Sandbox } from '../sandbox/server';

const LANGUAGE = 'de';

function pseudo(text: string): string {
  return `⟦${text}⟧`;
}

/** A translation of a catalogue: every key mapped to its text in brackets (a translator's notes dropped, as in a real one). */
function pseudoCatalogue(file: string): Record<string, string> {
  const english = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string | { message: string }>;
  return Object.fromEntries(Object.entries(english).map(([key, text]) => [key, pseudo(typeof text === 'string' ? text : text.message)]));
}

/** The built extension's runtime files, as a .vsix would hold them, plus the pseudo-translations. */
function copyTranslatedExtension(target: string): void {
  for (const file of ['package.json', 'package.nls.json', 'dist/extension.js', 'dist/undici.js']) {
    fs.mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    fs.copyFileSync(path.join(repositoryRoot, file), path.join(target, file));
  }
  fs.cpSync(path.join(repositoryRoot, 'media'), path.join(target, 'media'), {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}readme`),
  });
  const write = (file: string, catalogue: Record<string, string>) =>
    fs.writeFileSync(path.join(target, file), `${JSON.stringify(catalogue, null, 2)}\n`);
  write(`package.nls.${LANGUAGE}.json`, pseudoCatalogue(path.join(repositoryRoot, 'package.nls.json')));
  write(`media/l10n/bundle.l10n.${LANGUAGE}.json`, pseudoCatalogue(path.join(repositoryRoot, 'media', 'l10n', 'bundle.l10n.json')));
}

describe('a translated FLORA (pseudo-German) in the browser', function () {
  this.timeout(300_000);
  let sandbox: Sandbox;
  let session: EditorSession;
  let extensionCopy: string;
  let unregisterExitHook: (() => void) | undefined;
  const nls = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;

  before(async () => {
    sandbox = await startSandbox({ runDurationMs: 2_000, credits: 0 });
    extensionCopy = makeRunDirectory('translated-extension');
    unregisterExitHook = onProcessExit(() => removeDirectory(extensionCopy));
    copyTranslatedExtension(extensionCopy);
    session = await openEditorSession({
      extensionDevelopmentPath: extensionCopy,
      language: LANGUAGE,
      settings: { 'flora.baseUrl': sandbox.url, 'flora.confirmBeforeRun': false },
      extensionEnvironment: { FLORA_DEV_API_KEY: sandbox.apiKey },
      viewport: { width: 1400, height: 900 },
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      await session.workbench.screenshot(`failed-localised-${this.currentTest.title.slice(0, 40)}`).catch(() => undefined);
    }
  });

  after(async () => {
    await session?.close();
    await sandbox?.close();
    if (extensionCopy) removeDirectory(extensionCopy);
    unregisterExitHook?.();
  });

  it('shows the manifest in the display language: view titles and command titles', async () => {
    const { workbench } = session;
    const container = nls['viewsContainer.flora.title'];
    const category = nls['command.category'];
    const runTitle = nls['command.runTechnique.title'];
    assert.ok(container && category && runTitle, 'package.nls.json names the container, the category and the command');
    await workbench.openViewContainer(pseudo(container));
    // The launcher's key is stored during start-up; the technique list replaces the welcome once it is.
    await workbench.treeRow("Art Director's Critique").waitFor({ timeout: 60_000 });
    await workbench.runCommand(`${pseudo(category)}: ${pseudo(runTitle)}`);
    await workbench.quickInput().waitForTitle(exactly(pseudo('FLORA: Run Technique')));
  });

  it('shows runtime strings and core validation messages translated whole', async () => {
    const { workbench } = session;
    const quickInput = workbench.quickInput();
    await quickInput.fill('studio shot');
    await quickInput.pickItem('Studio Shot');
    await quickInput.waitForTitle(exactly(pseudo('Studio Shot: Product Image (1/1)')));
    await quickInput.fill('http://example.com/sneaker.png');
    // checkInputValue's Message, rendered through vscode.l10n.t with the pseudo bundle.
    // Whole: the element holds the bracketed sentence and nothing else.
    await quickInput.widget
      .getByText(pseudo('FLORA only accepts https:// links, not http://. Use the https:// form of the link.'), { exact: true })
      .first()
      .waitFor();
    await workbench.screenshot('localised-01-validation');
    await quickInput.fill('https://media.flora.ai/examples/sneaker.png');
    // "⟦$(edit) Use "…"⟧": the icon renders as an element, so the row's text is "⟦ Use "…"⟧".
    await quickInput.row(/^⟦\s*Use "https:\/\/media\.flora\.ai\/examples\/sneaker\.png"⟧/).waitFor();
    await quickInput.accept();
  });

  it('shows an error reply from FLORA translated, with FLORA’s own words kept as they came', async () => {
    const { workbench } = session;
    // The sandbox has no credits left: 402 insufficient_credits with a message of its own.
    const notification = await workbench.notification(
      pseudo('You are out of FLORA credits for this run. Ask FLORA for more credits, then run it again.'),
    );
    const text = (await notification.locator('.notification-list-item-message').textContent()) ?? '';
    await workbench.screenshot('localised-02-error');
    assert.match(text, /^⟦⟦You are out of FLORA credits for this run\. .*⟧ FLORA said: ".*credits.*"⟧$/);
    assert.strictEqual(sandbox.requests.filter((request) => request.method === 'POST').length, 1, 'one create, refused');
  });
});
