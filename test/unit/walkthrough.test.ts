/**
 * The walkthrough's words and wiring, without an editor. VS Code renders a step's description as "formatted
 * text", not Markdown: `**bold**`, `__italic__`, ``double backticks`` and `[label](link)` only, a line
 * holding one link alone becoming a button; a single backtick or asterisk shows as it is. Its steps column
 * is about 250 pixels wide, and a step hides what overflows it. So each step's text is short and plain, no
 * button brings VS Code's keyboard-shortcut line (which never wraps, and at that width pushed the step's
 * text out of sight), each completion event waits for a context key the code sets (or a contributed
 * command), and the step ids match the ones src/views/walkthrough.ts reports. test/e2e/walkthrough.test.ts
 * looks at the result.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ContextKey } from '../../src/common/contextKeys';
import { repositoryRoot } from '../harness/paths';

interface Step {
  id: string;
  title: string;
  description: string;
  completionEvents?: string[];
}
interface Manifest {
  contributes: {
    commands: Array<{ command: string }>;
    keybindings: Array<{ command: string }>;
    walkthroughs: Array<{ id: string; steps: Step[] }>;
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as Manifest;
const nls = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;
const walkthroughSource = fs.readFileSync(path.join(repositoryRoot, 'src', 'views', 'walkthrough.ts'), 'utf8');
const [walkthrough] = manifest.contributes.walkthroughs;
const commands = new Set(manifest.contributes.commands.map((command) => command.command));
const boundCommands = new Set(manifest.contributes.keybindings.map((binding) => binding.command));

/** Longest a step's text may be (what it says, links by their labels): about six lines of its column. */
const MAX_TEXT = 180;

function english(value: string): string {
  const key = /^%([\w.-]+)%$/.exec(value)?.[1];
  assert.ok(key && typeof nls[key] === 'string', `${value} is not a package.nls.json key`);
  return nls[key];
}

const LINK = /\[([^\]]+)\]\(([^)\s]+)\)/g;
const BUTTON = /^\[([^\]]+)\]\(([^)\s]+)\)$/;

/** The description's lines of text (buttons left out), as a person reads them. */
function prose(description: string): string {
  return description
    .split('\n')
    .filter((line) => !BUTTON.test(line))
    .join(' ')
    .replace(LINK, '$1')
    .replace(/\*\*([^*]+)\*\*/g, '$1');
}

/** `src/common/contextKeys.ts`'s name for a key, e.g. hasApiKey for flora.hasApiKey. */
function contextKeyName(value: string): string | undefined {
  return Object.entries(ContextKey).find(([, key]) => key === value)?.[0];
}

/** Every source file under src/, for the places that set context keys. */
function sources(directory = path.join(repositoryRoot, 'src')): Array<{ file: string; text: string }> {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith('.ts') ? [{ file, text: fs.readFileSync(file, 'utf8') }] : [];
  });
}

describe('walkthrough text and wiring', () => {
  it('is the getStarted walkthrough that src/views/walkthrough.ts names, with the same steps in order', () => {
    assert.equal(walkthrough?.id, 'getStarted');
    assert.match(walkthroughSource, /export const WALKTHROUGH_ID = 'getStarted';/);
    const declared = /export const WalkthroughStep = \{([^}]*)\}/.exec(walkthroughSource)?.[1] ?? '';
    const named = [...declared.matchAll(/(\w+): '(\w+)'/g)].map((match) => {
      assert.equal(match[1], match[2], 'a step is named by its id');
      return match[2];
    });
    assert.deepEqual(
      walkthrough.steps.map((step) => step.id),
      named,
    );
  });

  for (const step of walkthrough?.steps ?? []) {
    describe(`step ${step.id}`, () => {
      const description = english(step.description);

      it(`says what it teaches in at most ${MAX_TEXT} characters`, () => {
        const text = prose(description);
        assert.ok(text.length > 40, `"${text}" says too little`);
        assert.ok(text.length <= MAX_TEXT, `${text.length} characters: "${text}"`);
        assert.ok(english(step.title).length <= 24, `the title "${english(step.title)}" fits on one line`);
      });

      it('uses only what VS Code renders: no backticks, no single asterisks, no HTML', () => {
        assert.doesNotMatch(description, /`/, 'backticks show as they are');
        assert.doesNotMatch(description.replace(/\*\*[^*]+\*\*/g, ''), /\*/, 'only **bold** is rendered');
        assert.doesNotMatch(description, /[<>]/, 'HTML shows as it is');
        assert.doesNotMatch(prose(description), /[[\]]/, 'every link is complete');
      });

      it('ends with one button to a contributed command, without VS Code’s shortcut line', () => {
        const lines = description.split('\n');
        const button = BUTTON.exec(lines[lines.length - 1] ?? '');
        assert.ok(button, `the last line is a button: ${description}`);
        const [, , target] = button;
        const command = /^command:([\w.-]+)(\?.*)?$/.exec(target);
        assert.ok(command, `the button runs a command: ${target}`);
        const [, id, query] = command;
        assert.ok(commands.has(id) || id === 'flora.techniques.focus', `${id} is contributed`);
        // VS Code looks the button's command up as written: with arguments it finds no keybinding.
        if (boundCommands.has(id)) {
          assert.equal(query, '?%5B%5D', `${id} has a keybinding: the button passes no arguments explicitly`);
        }
        // The arguments are JSON VS Code spreads into the call: none, as from the palette.
        if (query !== undefined) assert.deepEqual(JSON.parse(decodeURIComponent(query.slice(1))), []);
        for (const [, , link] of description.matchAll(LINK)) {
          assert.match(link, /^(command:flora\.|https:\/\/app\.flora\.ai\/)/, `links go to our commands or FLORA only: ${link}`);
        }
      });

      it('completes on the context key the code sets when the thing happens', () => {
        assert.ok(step.completionEvents && step.completionEvents.length > 0, 'a step without events completes when merely selected');
        for (const event of step.completionEvents) {
          const [, kind, argument] = /^(\w+):(.+)$/.exec(event) ?? [];
          if (kind === 'onCommand') {
            assert.ok(commands.has(argument), `${event}: a contributed command`);
            continue;
          }
          assert.equal(kind, 'onContext', `${event}: only context keys and commands`);
          const name = contextKeyName(argument);
          assert.ok(name, `${argument} is in src/common/contextKeys.ts`);
          const setters = sources().filter((source) => source.text.includes(`ContextKey.${name}`) && source.text.includes("'setContext'"));
          assert.ok(setters.length > 0, `some code sets ${argument}`);
        }
        // The key walkthrough.ts sets for the step (and marks the step done with) is the one it completes on.
        const mapped = new RegExp(`\\b${step.id}: ContextKey\\.(\\w+),`).exec(walkthroughSource)?.[1];
        assert.ok(mapped, `STEP_COMPLETION_KEYS names ${step.id}`);
        assert.ok(step.completionEvents.includes(`onContext:${ContextKey[mapped as keyof typeof ContextKey]}`));
      });
    });
  }
});
