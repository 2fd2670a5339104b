// ESLint flat config (kept under .ci/ so the top level stays the design card's). Paths are relative to the
// repository root through basePath.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default tseslint.config(
  { basePath: root, ignores: ['out/**', 'dist/**', 'node_modules/**', '.vscode-test/**', 'test-results/**', 'test/fixtures/**', 'media/**', '*.mjs', '.ci/**'] },
  {
    basePath: root,
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [eslint.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: path.join(root, 'tsconfig.json'), tsconfigRootDir: root },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/require-await': 'off',
      'no-restricted-imports': 'off',
    },
  },
  {
    // Words for the user go through vscode.l10n.t (or core's messages), never straight from a literal.
    basePath: root,
    files: ['src/**/*.ts'],
    ignores: ['src/core/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name=/^(show(Information|Warning|Error)Message|setStatusBarMessage|showInputBox|showQuickPick)$/] > Literal.arguments:first-child",
          message: 'Pass vscode.l10n.t(...) so the text can be translated.',
        },
        {
          selector: "CallExpression[callee.property.name=/^(show(Information|Warning|Error)Message|setStatusBarMessage)$/] > TemplateLiteral.arguments:first-child",
          message: 'Pass one vscode.l10n.t template with placeholders rather than text glued from pieces.',
        },
        {
          selector:
            "AssignmentExpression[left.property.name=/^(title|placeholder|prompt|validationMessage|message|tooltip|description|label|text|detail)$/] > :matches(Literal[value=/[A-Za-z]{2}/], TemplateLiteral:has(TemplateElement[value.raw=/[A-Za-z]{2}/])).right",
          message: 'Assign vscode.l10n.t(...) so the text can be translated.',
        },
        {
          selector:
            "Property[key.name=/^(title|placeHolder|placeholder|prompt|label|detail|description|tooltip|message)$/] > :matches(Literal[value=/[A-Za-z]{2}/], TemplateLiteral:has(TemplateElement[value.raw=/[A-Za-z]{2}/])).value",
          message: 'Use vscode.l10n.t(...) so the text can be translated.',
        },
        {
          selector: "NewExpression[callee.property.name='TreeItem'] > Literal.arguments:first-child",
          message: 'Label tree items with vscode.l10n.t(...) so the text can be translated.',
        },
        {
          selector: 'CallExpression[callee.name=/^notify(Information|Warning|Error)$/] > Literal.arguments:first-child',
          message: 'Pass vscode.l10n.t(...) so the text can be translated.',
        },
        {
          selector: 'CallExpression[callee.name=/^notify(Information|Warning|Error)$/] > TemplateLiteral.arguments:first-child',
          message: 'Pass one vscode.l10n.t template with placeholders rather than text glued from pieces.',
        },
        {
          // A notification's text turns [label](command:…) into a link that runs a command.
          selector: 'MemberExpression[property.name=/^show(Information|Warning|Error)Message$/]',
          message: 'Use notifyInformation/notifyWarning/notifyError (src/common/notify.ts): they make server text inert.',
        },
      ],
    },
  },
  {
    // The one place that calls VS Code's notification functions, with text made inert.
    basePath: root,
    files: ['src/common/notify.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // src/core is plain Node: it must never import vscode, nor anything above it.
    basePath: root,
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'src/core never imports vscode.' }], patterns: layersAbove('core') },
      ],
    },
  },
  // Imports point down only: core ← common ← services ← ui ← views ← commands ← extension.
  ...['common', 'services', 'ui', 'views', 'commands'].map((layer) => ({
    basePath: root,
    files: [`src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: layersAbove(layer) }] },
  })),
);

/** The import patterns a layer may not use: every layer above it, and extension.ts. */
function layersAbove(layer) {
  const order = ['core', 'common', 'services', 'ui', 'views', 'commands'];
  const above = order.slice(order.indexOf(layer) + 1);
  return [
    ...above.map((name) => ({ group: [`../${name}/*`, `../../${name}/*`], message: `src/${layer} may not import src/${name}: imports point down.` })),
    { group: ['../extension', '../../extension'], message: 'Nothing imports extension.ts.' },
  ];
}
