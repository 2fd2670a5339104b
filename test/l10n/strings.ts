// The extension's translatable strings, read from the source: every literal given to vscode.l10n.t, and
// every template of src/core/messages.ts (core cannot call vscode.l10n.t; src/services/messages.ts
// translates its templates by value). `npm run l10n` writes them to media/l10n/bundle.l10n.json, the file a
// translator copies to bundle.l10n.<language>.json; a unit test keeps the committed file current.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { MESSAGE_TEMPLATES, type MessageId } from '../../src/core/messages';

export const repositoryRoot = path.resolve(__dirname, '..', '..', '..');
export const BUNDLE_PATH = path.join(repositoryRoot, 'media', 'l10n', 'bundle.l10n.json');
/** The one call of vscode.l10n.t with a key that is not a literal: it translates core's templates. */
const DYNAMIC_KEY_FILE = 'src/services/messages.ts';

export interface Place {
  file: string;
  line: number;
}

export interface SourceStrings {
  /** Literal keys of vscode.l10n.t calls, with where each is used. */
  literals: Map<string, Place[]>;
  /** vscode.l10n.t calls whose key is not a literal (outside the one allowed place). */
  dynamicKeys: Place[];
  /** Calls whose argument count does not match their template's placeholders. */
  argumentMismatches: Array<Place & { key: string; placeholders: number; args: number }>;
  /** Core message ids passed to message() somewhere in src. */
  usedMessageIds: Set<MessageId>;
}

function sourceFiles(directory: string): string[] {
  return fs
    .readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** How many arguments a template takes: one past its highest {n}. */
export function placeholderCount(template: string): number {
  let count = 0;
  for (const match of template.matchAll(/\{(\d+)\}/g)) count = Math.max(count, Number(match[1]) + 1);
  return count;
}

export function readSourceStrings(): SourceStrings {
  const result: SourceStrings = { literals: new Map(), dynamicKeys: [], argumentMismatches: [], usedMessageIds: new Set() };
  for (const file of sourceFiles(path.join(repositoryRoot, 'src'))) {
    const relative = path.relative(repositoryRoot, file).split(path.sep).join('/');
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const placeOf = (node: ts.Node): Place => ({
      file: relative,
      line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
    });
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression.getText(source);
        const [first] = node.arguments;
        if (/(^|\.)l10n\.t$/.test(callee) && first) {
          if (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first)) {
            const places = result.literals.get(first.text) ?? [];
            places.push(placeOf(node));
            result.literals.set(first.text, places);
            const spread = node.arguments.some((argument) => ts.isSpreadElement(argument));
            const placeholders = placeholderCount(first.text);
            if (!spread && placeholders !== node.arguments.length - 1) {
              result.argumentMismatches.push({ ...placeOf(node), key: first.text, placeholders, args: node.arguments.length - 1 });
            }
          } else if (relative !== DYNAMIC_KEY_FILE) {
            result.dynamicKeys.push(placeOf(node));
          }
        }
        if (callee === 'message' && first && ts.isStringLiteral(first) && Object.hasOwn(MESSAGE_TEMPLATES, first.text)) {
          result.usedMessageIds.add(first.text as MessageId);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return result;
}

/** The English bundle: every key mapped to itself, sorted so that the file's diffs stay readable. */
export function buildBundle(strings: SourceStrings = readSourceStrings()): Record<string, string> {
  const keys = new Set([...strings.literals.keys(), ...Object.values(MESSAGE_TEMPLATES)]);
  return Object.fromEntries([...keys].sort().map((key) => [key, key]));
}

export function serializeBundle(bundle: Record<string, string>): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

if (require.main === module) {
  const strings = readSourceStrings();
  for (const place of strings.dynamicKeys) console.error(`${place.file}:${place.line}: vscode.l10n.t needs a literal key`);
  const bundle = buildBundle(strings);
  fs.mkdirSync(path.dirname(BUNDLE_PATH), { recursive: true });
  fs.writeFileSync(BUNDLE_PATH, serializeBundle(bundle));
  console.log(`${path.relative(repositoryRoot, BUNDLE_PATH)}: ${Object.keys(bundle).length} strings`);
  if (strings.dynamicKeys.length > 0) process.exitCode = 1;
}
