// Item 2: the bundles and the packaged .vsix, in bytes, with what dominates them. The bundles are analysed
// with esbuild's metafile, written by esbuild.mjs itself (`--no-write --metafile`), so the figures are of
// exactly what the build makes; the .vsix is packaged by vsce in a scratch copy of the repository, so this
// checkout's dist/ is never rewritten.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repositoryRoot } from '../harness/paths';
import { zipRecordData, zipRecords, type ZipEntry } from '../harness/zip';

export interface Contribution {
  name: string;
  bytes: number;
  share: number;
}

export interface BundleFigures {
  /** dist/extension.js: what activation loads. */
  bytes: number;
  contributions: Contribution[];
  /** dist/undici.js: loaded at the first request. */
  undiciBytes: number;
  /** dist/aws.js (aws4fetch and the AWS credential chain): loaded at the first upload. */
  awsBytes: number;
}

export interface SizeResults {
  /** dist/extension.js as `npm run build` left it. */
  distBytes: number | undefined;
  development: BundleFigures;
  production: BundleFigures;
  vsix: { bytes: number; entries: ZipEntry[]; file: string } | { error: string };
  hello: { extensionBytes: number; vsix: { bytes: number } | { error: string } };
}

/** node_modules/@scope/name/… → @scope/name; node_modules/name/… → name; src/… → "extension source (src/)". */
function ownerOf(input: string): string {
  const parts = input.split('/');
  const index = parts.lastIndexOf('node_modules');
  if (index >= 0) {
    const first = parts[index + 1] ?? '?';
    return first.startsWith('@') ? `${first}/${parts[index + 2] ?? ''}` : first;
  }
  if (parts[0] === 'src') return 'extension source (src/)';
  return parts[0] ?? input;
}

interface Metafile {
  outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
}

async function bundle(production: boolean, scratch: string): Promise<BundleFigures> {
  const metafilePath = path.join(scratch, `metafile-${production ? 'production' : 'development'}.json`);
  const flags = [...(production ? ['--production'] : []), '--no-write', '--metafile', metafilePath];
  await run(process.execPath, [path.join(repositoryRoot, 'esbuild.mjs'), ...flags], repositoryRoot);
  const metafile = JSON.parse(fs.readFileSync(metafilePath, 'utf8')) as Metafile;
  const outputOf = (name: string) => {
    const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith(name))?.[1];
    if (!output) throw new Error(`esbuild.mjs produced no ${name}`);
    return output;
  };
  const extension = outputOf('dist/extension.js');
  const byOwner = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(extension.inputs)) {
    const owner = ownerOf(input);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + bytesInOutput);
  }
  const contributions = [...byOwner.entries()]
    .map(([name, bytes]) => ({ name, bytes, share: bytes / extension.bytes }))
    .sort((a, b) => b.bytes - a.bytes);
  return { bytes: extension.bytes, contributions, undiciBytes: outputOf('dist/undici.js').bytes, awsBytes: outputOf('dist/aws.js').bytes };
}

function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** Entries of a zip file from its central directory: name, compressed and uncompressed size. */
export function zipEntries(file: string): ZipEntry[] {
  return zipRecords(fs.readFileSync(file)).map(({ name, compressedBytes, bytes }) => ({ name, compressedBytes, bytes }));
}

/** Unpacks a .vsix (stored or deflated entries, which is what vsce writes) into `directory`. */
export function extractZip(file: string, directory: string): void {
  const data = fs.readFileSync(file);
  for (const record of zipRecords(data)) {
    if (record.name.endsWith('/')) continue;
    const target = path.resolve(directory, record.name);
    if (!target.startsWith(path.resolve(directory) + path.sep)) throw new Error(`zip entry ${record.name} escapes ${directory}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, zipRecordData(data, record));
  }
}

const vsce = path.join(repositoryRoot, 'node_modules', '.bin', 'vsce');

/** Packages the repository as `npm run package` would, in a scratch copy (its prepublish rebuilds dist/ there). */
async function packageFlora(scratch: string): Promise<string> {
  const copy = path.join(scratch, 'flora');
  const skipped = new Set(['node_modules', 'out', 'dist', '.vscode-test', 'test-results', '.git']);
  fs.cpSync(repositoryRoot, copy, {
    recursive: true,
    filter: (source) => {
      const relative = path.relative(repositoryRoot, source);
      return !skipped.has(relative.split(path.sep)[0] ?? '') && !source.endsWith('.vsix');
    },
  });
  fs.symlinkSync(path.join(repositoryRoot, 'node_modules'), path.join(copy, 'node_modules'));
  const out = path.join(scratch, 'flora.vsix');
  await run(vsce, ['package', '--no-dependencies', '--out', out], copy);
  return out;
}

async function packageHello(scratch: string): Promise<string> {
  const copy = path.join(scratch, 'hello-world');
  fs.cpSync(path.join(repositoryRoot, 'test', 'bench', 'hello-world'), copy, { recursive: true });
  const out = path.join(scratch, 'hello-world.vsix');
  await run(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out], copy);
  return out;
}

/**
 * `scratch` is a folder the caller owns: the packaged .vsix stays there (the editor benchmark loads what
 * ships, unpacked from it).
 */
export async function measureSize(scratch: string): Promise<SizeResults> {
  const distFile = path.join(repositoryRoot, 'dist', 'extension.js');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-bench-package-'));
  try {
    const [development, production] = [await bundle(false, work), await bundle(true, work)];
    let vsix: SizeResults['vsix'];
    try {
      const file = path.join(scratch, 'flora-vscode.vsix');
      fs.copyFileSync(await packageFlora(work), file);
      vsix = { file, bytes: fs.statSync(file).size, entries: zipEntries(file).sort((a, b) => b.compressedBytes - a.compressedBytes) };
    } catch (error) {
      vsix = { error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error) };
    }
    let helloVsix: { bytes: number } | { error: string };
    try {
      helloVsix = { bytes: fs.statSync(await packageHello(work)).size };
    } catch (error) {
      helloVsix = { error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error) };
    }
    return {
      distBytes: fs.existsSync(distFile) ? fs.statSync(distFile).size : undefined,
      development,
      production,
      vsix,
      hello: {
        extensionBytes: fs.statSync(path.join(repositoryRoot, 'test', 'bench', 'hello-world', 'extension.js')).size,
        vsix: helloVsix,
      },
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
