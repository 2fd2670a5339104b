// The hello-world baseline: what the generator's sample does (register one command), plus the same UI
// shape as FLORA's Run Technique (a quick pick of 38 items, then an input box) so the picker and prompt
// timings have a like-for-like baseline. Same activation event as FLORA (onStartupFinished).
'use strict';
const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('helloWorld.pick', async () => {
      const items = Array.from({ length: 38 }, (_, index) => ({
        label: `Item ${index + 1}`,
        description: `item-${index + 1}`,
        detail: 'A hello-world item',
      }));
      const picked = await vscode.window.showQuickPick(items, { title: 'Hello World: Pick', placeHolder: 'Pick an item' });
      if (!picked) return undefined;
      return vscode.window.showInputBox({ title: `${picked.label}: Text (1/1)`, prompt: 'Enter some text' });
    }),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
