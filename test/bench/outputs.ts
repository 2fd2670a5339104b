// Issue 14's two figures for output URLs in code, in Node alone (no editor): how long one rescan of a large
// document takes while the user types (the diagnostics run findOutputUrls over the whole text on every
// change), and how fast the workspace-wide command's reading and scanning goes over 5 000 files, beside grep
// on the same files. The editor's own costs (getText, findFiles, the DiagnosticCollection) are not in these.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findOutputUrls, isFloraOutputHost } from '../../src/core/outputLinks';
import { formatMs, median, percentile, round, type Report } from './stats';

/** The issue these figures are for; the table groups rows by it. */
const ITEM = 14;
const SEED = 20261201;

const DOCUMENT_LINES = 10_000;
const DOCUMENT_URLS = 500;
const KEYSTROKES = 200;
const WORKSPACE_FILES = 5_000;
const FILES_WITH_URLS_ONE_IN = 10;
const READ_CONCURRENCY = 16;
const REPETITIONS = 3;
const FRAME_MS = 1000 / 60;

export interface TypingFigures {
  lines: number;
  characters: number;
  urlsInDocument: number;
  keystrokes: number;
  rescanMs: number[];
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface WorkspaceFigures {
  files: number;
  bytes: number;
  filesWithUrls: number;
  urlsWritten: number;
  /** Each repetition: read all files (16 at a time) and scan each as it arrives. */
  oursMs: number[];
  /** Of each repetition, the time spent in findOutputUrls (the rest is reading). */
  scanMs: number[];
  urlsFound: number;
  grepMs: number[];
  grepLines: number;
  grepProblem?: string;
}

export interface OutputsResults {
  typing: TypingFigures;
  workspace: WorkspaceFigures;
}

/** mulberry32: a small seeded generator, so every run measures the same texts. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const integer = (random: Random, from: number, to: number): number => from + Math.floor(random() * (to - from + 1));

function floraUrl(random: Random): string {
  const id = Math.floor(random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0');
  const extension = pick(random, ['png', 'jpg', 'webp', 'mp4']);
  return random() < 0.5
    ? `https://media.flora.ai/runs/${id}/output_image.${extension}`
    : `https://ik.imagekit.io/flora/${id}/shot.${extension}?tr=w-1200`;
}

const PROSE = [
  'The hero image sets the tone for the page, and the gallery below repeats it at a smaller size.',
  'See the style guide (section 3.2) for spacing, colour and type; the palette is in tokens.json.',
  'Generated with the studio shot technique, then cropped for the card layout.',
  'Links to https://example.com/docs and https://cdn.example.org/lib.js stay as they are.',
  'TODO: replace the placeholder before launch, and check the alt text reads well.',
];
const CODE = [
  "import { Card } from './components/Card';",
  'export function Hero({ title }: { title: string }) {',
  '  const [open, setOpen] = useState(false);',
  '  return <section className="hero">{title}</section>;',
  '.card { display: grid; gap: 1rem; grid-template-columns: repeat(3, 1fr); }',
  '  <div class="gallery"><a href="/about">About us</a></div>',
  '  fetch("https://api.example.com/v1/items?limit=20").then((reply) => reply.json());',
  '}',
];

/** A line holding a FLORA URL, written as the extension would insert it in that kind of file. */
function urlLine(random: Random, kind: 'md' | 'html' | 'css' | 'tsx'): string {
  const url = floraUrl(random);
  switch (kind) {
    case 'md':
      return `![Studio Shot](${url}) — generated for the landing page.`;
    case 'html':
      return `    <img src="${url}" alt="Studio Shot">`;
    case 'css':
      return `.hero { background-image: url("${url}"); }`;
    case 'tsx':
      return `      <img src="${url}" alt="Studio Shot" />`;
  }
}

function fillerLine(random: Random, kind: 'md' | 'html' | 'css' | 'tsx'): string {
  return kind === 'md' ? pick(random, PROSE) : random() < 0.2 ? pick(random, PROSE) : pick(random, CODE);
}

function buildDocument(random: Random): { text: string; urls: number } {
  const lines: string[] = [];
  const every = Math.floor(DOCUMENT_LINES / DOCUMENT_URLS);
  for (let index = 0; index < DOCUMENT_LINES; index++) {
    const kind = pick(random, ['md', 'html', 'css', 'tsx'] as const);
    lines.push(index % every === every >> 1 ? urlLine(random, kind) : fillerLine(random, kind));
  }
  return { text: lines.join('\n'), urls: DOCUMENT_URLS };
}

/** A flat copy: a string built by concatenation is a rope in V8, and getText() hands the editor a flat one. */
function flat(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function measureTyping(): TypingFigures {
  const random = seededRandom(SEED);
  const document = buildDocument(random);
  let text = document.text;
  // Warm-up, so the figures are the steady state a long editing session sees.
  for (let index = 0; index < 20; index++) findOutputUrls(text, isFloraOutputHost);
  const rescanMs: number[] = [];
  const typed = 'abcdefghijklmnopqrstuvwxyz  .,()"<>/';
  for (let keystroke = 0; keystroke < KEYSTROKES; keystroke++) {
    const at = Math.floor(random() * (text.length + 1));
    text = flat(text.slice(0, at) + pick(random, [...typed]) + text.slice(at));
    const startedAt = process.hrtime.bigint();
    findOutputUrls(text, isFloraOutputHost);
    rescanMs.push(Number(process.hrtime.bigint() - startedAt) / 1e6);
  }
  return {
    lines: DOCUMENT_LINES,
    characters: text.length,
    urlsInDocument: findOutputUrls(text, isFloraOutputHost).length,
    keystrokes: KEYSTROKES,
    rescanMs,
    medianMs: median(rescanMs),
    p95Ms: percentile(rescanMs, 95),
    maxMs: Math.max(...rescanMs),
  };
}

const KINDS = ['md', 'html', 'css', 'tsx'] as const;

function writeWorkspace(folder: string, random: Random): { files: string[]; bytes: number; filesWithUrls: number; urlsWritten: number } {
  const files: string[] = [];
  let bytes = 0;
  let filesWithUrls = 0;
  let urlsWritten = 0;
  for (let index = 0; index < WORKSPACE_FILES; index++) {
    const kind = KINDS[index % KINDS.length] ?? 'md';
    const directory = path.join(folder, `package-${index % 50}`, kind === 'css' ? 'styles' : 'src');
    fs.mkdirSync(directory, { recursive: true });
    const target = integer(random, 1024, 20 * 1024);
    const withUrls = index % FILES_WITH_URLS_ONE_IN === 0;
    const urlCount = withUrls ? integer(random, 1, 5) : 0;
    const lines: string[] = [];
    let length = 0;
    let placed = 0;
    while (length < target) {
      const withUrl = placed < urlCount && random() < 0.15;
      const line = withUrl ? urlLine(random, kind) : fillerLine(random, kind);
      if (withUrl) placed++;
      lines.push(line);
      length += line.length + 1;
    }
    while (placed < urlCount) {
      lines.push(urlLine(random, kind));
      placed++;
    }
    const text = lines.join('\n');
    const file = path.join(directory, `file-${index}.${kind}`);
    fs.writeFileSync(file, text);
    files.push(file);
    bytes += Buffer.byteLength(text);
    if (withUrls) filesWithUrls++;
    urlsWritten += urlCount;
  }
  return { files, bytes, filesWithUrls, urlsWritten };
}

/** Reads every file, READ_CONCURRENCY at a time, scanning each as it arrives; the URLs found. */
async function readAndScan(files: readonly string[]): Promise<{ found: number; scanMs: number }> {
  let next = 0;
  let found = 0;
  let scanNs = 0n;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++];
      if (file === undefined) return;
      const text = await fs.promises.readFile(file, 'utf8');
      const startedAt = process.hrtime.bigint();
      found += findOutputUrls(text, isFloraOutputHost).length;
      scanNs += process.hrtime.bigint() - startedAt;
    }
  };
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
  return { found, scanMs: Number(scanNs) / 1e6 };
}

function timeGrep(folder: string): Promise<{ ms: number; lines: number } | { problem: string }> {
  return new Promise((resolve) => {
    const startedAt = process.hrtime.bigint();
    execFile(
      'grep',
      ['-rE', 'https://(media\\.flora\\.ai|ik\\.imagekit\\.io/flora)', folder],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
        // grep exits 1 when nothing matched, which is an answer, not a failure.
        if (error && error.code !== 1) resolve({ problem: error.message });
        else resolve({ ms, lines: stdout.split('\n').filter((line) => line.length > 0).length });
      },
    );
  });
}

async function measureWorkspace(): Promise<WorkspaceFigures> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'flora-bench-outputs-'));
  try {
    const written = writeWorkspace(folder, seededRandom(SEED + 1));
    const oursMs: number[] = [];
    const scanMs: number[] = [];
    const grepMs: number[] = [];
    let urlsFound = 0;
    let grepLines = 0;
    let grepProblem: string | undefined;
    // Both read the files just written, from the page cache; alternated, so neither has a warmer cache.
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      const grep = await timeGrep(folder);
      if ('problem' in grep) grepProblem = grep.problem;
      else {
        grepMs.push(grep.ms);
        grepLines = grep.lines;
      }
      const startedAt = process.hrtime.bigint();
      const result = await readAndScan(written.files);
      oursMs.push(Number(process.hrtime.bigint() - startedAt) / 1e6);
      scanMs.push(result.scanMs);
      urlsFound = result.found;
    }
    return {
      files: written.files.length,
      bytes: written.bytes,
      filesWithUrls: written.filesWithUrls,
      urlsWritten: written.urlsWritten,
      oursMs,
      scanMs,
      urlsFound,
      grepMs,
      grepLines,
      ...(grepProblem === undefined ? {} : { grepProblem }),
    };
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

export async function measureOutputs(log: (message: string) => void): Promise<OutputsResults> {
  log(`outputs: ${KEYSTROKES} keystrokes in a ${DOCUMENT_LINES}-line document with ${DOCUMENT_URLS} FLORA URLs, a rescan after each`);
  const typing = measureTyping();
  log(`outputs: workspace scan of ${WORKSPACE_FILES} files (${REPETITIONS} times, beside grep -rE)`);
  const workspace = await measureWorkspace();
  return { typing, workspace };
}

export function addOutputsRows(report: Report, { typing, workspace }: OutputsResults): void {
  report.rows.push({
    item: ITEM,
    figure: `diagnostics while typing: findOutputUrls over the whole document after each of ${typing.keystrokes} keystrokes (${typing.lines} lines, ${round(typing.characters / 1024, 0)} KiB, ${typing.urlsInDocument} FLORA URLs), median / p95 / max`,
    ours: `${formatMs(typing.medianMs)} / ${formatMs(typing.p95Ms)} / ${formatMs(typing.maxMs)}`,
    baseline: `one frame at 60 Hz: ${formatMs(FRAME_MS)}`,
    goal: 'p95 well under a frame',
    met: typing.p95Ms < FRAME_MS,
  });
  const ours = median(workspace.oursMs);
  const grep = median(workspace.grepMs);
  report.rows.push({
    item: ITEM,
    figure: `workspace scan: read ${workspace.files} files (${round(workspace.bytes / (1024 * 1024), 1)} MiB; .md/.html/.css/.tsx, 1–20 KB; ${workspace.filesWithUrls} with ${workspace.urlsWritten} FLORA URLs), ${READ_CONCURRENCY} reads at a time, and scan each; median of ${workspace.oursMs.length}`,
    ours: `${formatMs(ours)} (scanning ${formatMs(median(workspace.scanMs))}), ${Math.round((workspace.files * 1000) / ours)} files/s, ${workspace.urlsFound} URLs found`,
    baseline:
      workspace.grepProblem === undefined
        ? `grep -rE 'https://(media\\.flora\\.ai|ik\\.imagekit\\.io/flora)': ${formatMs(grep)}, ${Math.round((workspace.files * 1000) / grep)} files/s, ${workspace.grepLines} lines`
        : `grep failed: ${workspace.grepProblem}`,
    goal: 'finds every URL written',
    met: workspace.urlsFound === workspace.urlsWritten,
  });
}
