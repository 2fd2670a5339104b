// Once per run of the browser tier, before any of its files: screenshots are this run's alone, so a stale
// failure shot never passes for a current one. Each file of the tier adds its own pictures after this.
import * as fs from 'fs';
import * as path from 'path';
import { artifactsDirectory } from '../harness/paths';

export function mochaGlobalSetup(): void {
  fs.rmSync(path.join(artifactsDirectory, 'screenshots'), { recursive: true, force: true });
}
