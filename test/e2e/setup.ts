// Once per run of the browser tier: before any of its files, screenshots are cleared, so a stale failure
// shot never passes for a current one (each file then adds its own pictures); after the last file, with
// FLORA_README_SHOTS set (`npm run screenshots`), the pictures the README shows that the other files took
// are copied into media/readme/ (the journey copies its own, and its animation, itself).
import * as fs from 'fs';
import * as path from 'path';
import { artifactsDirectory, repositoryRoot } from '../harness/paths';

/** Screenshot taken by a browser test → the README picture it becomes. */
const README_PICTURES: Readonly<Record<string, string>> = {
  'agents-budget-dialog': '19-budget-dialog',
  'chat-01-confirm-cost': '25-chat-confirm-cost',
  'attention-01-inline-stop-following': '20-stop-following-inline',
  'attention-03-badge-and-status-result': '21-badge-and-status-result',
  'preview-zoomed': '22-preview-zoomed',
  'prompts-4-confirm-inputs': '23-confirm-inputs',
  'walkthrough-02-steps-checked': '24-walkthrough-checked',
};

const screenshots = path.join(artifactsDirectory, 'screenshots');

export function mochaGlobalSetup(): void {
  fs.rmSync(screenshots, { recursive: true, force: true });
}

export function mochaGlobalTeardown(): void {
  if (!process.env.FLORA_README_SHOTS) return;
  const target = path.join(repositoryRoot, 'media', 'readme');
  for (const [shot, picture] of Object.entries(README_PICTURES)) {
    const source = path.join(screenshots, `${shot}.png`);
    // A file of the tier that did not run (a --grep) leaves its picture as it was.
    if (fs.existsSync(source)) fs.copyFileSync(source, path.join(target, `${picture}.png`));
  }
}
