// The patterns VS Code 1.139's workbench uses to find links in a notification's text and icons in a label,
// read out of the installed workbench (npm test installs it first), so tests of inert text use what the
// editor really does as their oracle. Shared by the unit tier and the host tier.
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheDirectory } from './paths';

const WORKBENCH = path.join(cacheDirectory, 'code-server/node_modules/code-server/lib/vscode/out/vs/code/browser/workbench/workbench.js');

export interface WorkbenchPatterns {
  link: RegExp;
  icon: RegExp;
}

/** Finds the linked-text and icon-label patterns in the minified workbench. */
export function readWorkbenchPatterns(): WorkbenchPatterns {
  const source = fs.readFileSync(WORKBENCH, 'utf8');
  // var x=/\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^\)\s]+)(?: (["'])(.+?)(\3))?\)/gi
  const marker = source.indexOf('(?:https?:\\/\\/|command:|file:)');
  assert.ok(marker > 0, 'the workbench still finds command: links in notification text');
  const start = source.lastIndexOf('=/', marker) + 2;
  const end = source.indexOf('/gi', marker);
  const link = new RegExp(source.slice(start, end), 'gi');
  // new RegExp(`(\\\\)?\\$\\((${Q.iconNameExpression}(?:${Q.iconModifierExpression})?)\\)`,"g")
  const name = /iconNameExpression="([^"]+)"/.exec(source)?.[1];
  const modifier = /iconModifierExpression="([^"]+)"/.exec(source)?.[1];
  const template = /new RegExp\(`(\(\\\\\\\\\)\?\\\\\$[^`]+)`,"g"\)/.exec(source)?.[1];
  assert.ok(name && modifier && template, 'the workbench still renders $(name) icons in labels');
  const iconSource = template
    .replace(/\$\{\w+\.iconNameExpression\}/, name)
    .replace(/\$\{\w+\.iconModifierExpression\}/, modifier)
    .replace(/\\(.)/g, '$1');
  return { link, icon: new RegExp(iconSource, 'g') };
}

/** Icons the workbench would render: a match not escaped by a backslash. */
export function renderedIcons(pattern: RegExp, text: string): string[] {
  return [...text.matchAll(pattern)].filter((match) => match[1] === undefined).map((match) => match[0]);
}

/** Links and icons the workbench would render in a text: none, for text that is inert. */
export function activeSyntax(patterns: WorkbenchPatterns, text: string): string[] {
  return [...[...text.matchAll(patterns.link)].map((match) => match[0]), ...renderedIcons(patterns.icon, text)];
}
