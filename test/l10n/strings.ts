// The extension's translatable strings, read from the source: every literal given to vscode.l10n.t, and
// every template of src/core/messages.ts (core cannot call vscode.l10n.t; src/services/userText.ts
// translates its templates by value). `npm run l10n` writes them to media/l10n/bundle.l10n.json, the file a
// translator copies to bundle.l10n.<language>.json; a unit test keeps the committed file current.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { MESSAGE_TEMPLATES, type MessageId } from '../../src/core/messages';

export const repositoryRoot = path.resolve(__dirname, '..', '..', '..');
export const BUNDLE_PATH = path.join(repositoryRoot, 'media', 'l10n', 'bundle.l10n.json');
/** The one call of vscode.l10n.t with a key that is not a literal: it translates core's templates. */
const DYNAMIC_KEY_FILE = 'src/services/userText.ts';

export interface Place {
  file: string;
  line: number;
}

/** One translatable string: its template, and the translator's note when the template alone is ambiguous. */
export interface Entry {
  message: string;
  comment: string[] | undefined;
}

export interface SourceStrings {
  /** Keys of vscode.l10n.t (and l10nText) calls — `message/comment` when there is a comment — with where each is used. */
  literals: Map<string, { entry: Entry; places: Place[] }>;
  /** Calls whose key is not a literal (outside the one allowed place). */
  dynamicKeys: Place[];
  /** Calls whose argument count does not match their template's placeholders. */
  argumentMismatches: Array<Place & { key: string; placeholders: number; args: number }>;
  /** Core message ids passed to message() somewhere in src. */
  usedMessageIds: Set<MessageId>;
  /** Words written into a message() call as an argument: English that would escape translation. */
  proseArguments: Array<Place & { text: string }>;
}

/** The key vscode.l10n.t looks a translation up by (VS Code's extension host does the same). */
export function keyOf(entry: Entry): string {
  return entry.comment && entry.comment.length > 0 ? `${entry.message}/${entry.comment.join('')}` : entry.message;
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

function stringOf(node: ts.Node | undefined): string | undefined {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;
}

/** `{ message: '…', args: [...], comment: '…' | ['…'] }`, the other form of vscode.l10n.t. */
function readOptions(node: ts.ObjectLiteralExpression): { entry: Entry; args: ts.Expression | undefined } | undefined {
  let message: string | undefined;
  let comment: string[] | undefined;
  let args: ts.Expression | undefined;
  for (const property of node.properties) {
    if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name)) return undefined;
    const name = property.name.text;
    if (name === 'message') message = stringOf(property.initializer);
    else if (name === 'args') args = property.initializer;
    else if (name === 'comment') {
      const single = stringOf(property.initializer);
      if (single !== undefined) comment = [single];
      else if (ts.isArrayLiteralExpression(property.initializer))
        comment = property.initializer.elements.map((element) => stringOf(element) ?? '');
    }
  }
  return message === undefined ? undefined : { entry: { message, comment }, args };
}

export function readSourceStrings(): SourceStrings {
  const result: SourceStrings = {
    literals: new Map(),
    dynamicKeys: [],
    argumentMismatches: [],
    usedMessageIds: new Set(),
    proseArguments: [],
  };
  for (const file of sourceFiles(path.join(repositoryRoot, 'src'))) {
    const relative = path.relative(repositoryRoot, file).split(path.sep).join('/');
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const placeOf = (node: ts.Node): Place => ({
      file: relative,
      line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
    });
    const record = (node: ts.CallExpression, entry: Entry, argumentCount: number | undefined): void => {
      const key = keyOf(entry);
      const known = result.literals.get(key) ?? { entry, places: [] };
      known.places.push(placeOf(node));
      result.literals.set(key, known);
      const placeholders = placeholderCount(entry.message);
      if (argumentCount !== undefined && placeholders !== argumentCount) {
        result.argumentMismatches.push({ ...placeOf(node), key, placeholders, args: argumentCount });
      }
    };
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression.getText(source);
        const [first, ...rest] = node.arguments;
        const spread = rest.some((argument) => ts.isSpreadElement(argument));
        if (/(^|\.)l10n\.t$|^l10nText$/.test(callee) && first) {
          const literal = stringOf(first);
          const options = ts.isObjectLiteralExpression(first) ? readOptions(first) : undefined;
          if (literal !== undefined) {
            record(node, { message: literal, comment: undefined }, spread ? undefined : rest.length);
          } else if (options) {
            const args = options.args;
            const count = args === undefined ? 0 : ts.isArrayLiteralExpression(args) ? args.elements.length : undefined;
            record(node, options.entry, count);
          } else if (relative !== DYNAMIC_KEY_FILE) {
            result.dynamicKeys.push(placeOf(node));
          }
        }
        const id = stringOf(first);
        if (callee === 'message' && id !== undefined && Object.hasOwn(MESSAGE_TEMPLATES, id)) {
          result.usedMessageIds.add(id as MessageId);
          for (const argument of rest) {
            const text = stringOf(argument) ?? (ts.isTemplateExpression(argument) ? argument.getText(source) : undefined);
            if (text !== undefined && /[A-Za-z]{2,}/.test(text)) result.proseArguments.push({ ...placeOf(argument), text });
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return result;
}

/** A bundle entry: the English itself, or `{ message, comment }` where a translator needs the note. */
export type BundleValue = string | { message: string; comment: string[] };

/**
 * The English bundle in the form @vscode/l10n-dev writes it: every key mapped to its English (with the
 * translator's note where there is one), sorted so that the file's diffs stay readable.
 */
export function buildBundle(strings: SourceStrings = readSourceStrings()): Record<string, BundleValue> {
  const entries = new Map<string, BundleValue>();
  for (const template of Object.values(MESSAGE_TEMPLATES)) entries.set(template, template);
  for (const [key, { entry }] of strings.literals) {
    entries.set(key, entry.comment && entry.comment.length > 0 ? { message: entry.message, comment: entry.comment } : entry.message);
  }
  return Object.fromEntries([...entries].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));
}

export function serializeBundle(bundle: Record<string, BundleValue>): string {
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
