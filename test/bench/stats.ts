// Small numeric helpers and the result table the benchmark prints. No timing here is ever asserted:
// figures are reported, and a goal is only marked met or missed for a human to read.
import * as os from 'os';

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile on a copy; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** The largest number of timestamps inside any window of `windowMs` (sliding, inclusive start). */
export function maxInWindow(timestamps: readonly number[], windowMs: number): number {
  const sorted = [...timestamps].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** Counts per whole second between `from` and `to` (ms timestamps). */
export function perSecond(timestamps: readonly number[], from: number, to: number): number[] {
  const seconds = Math.max(1, Math.ceil((to - from) / 1000));
  const counts = new Array<number>(seconds).fill(0);
  for (const at of timestamps) {
    if (at < from || at >= to) continue;
    const index = Math.floor((at - from) / 1000);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts;
}

/**
 * Groups timestamps closer than `gapMs` to the previous one into one burst and returns each burst's start:
 * one repaint of a view can land in the DOM as a few mutation batches a few milliseconds apart.
 */
export function bursts(timestamps: readonly number[], gapMs: number): number[] {
  const sorted = [...timestamps].sort((a, b) => a - b);
  const starts: number[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (const at of sorted) {
    if (at - previous > gapMs) starts.push(at);
    previous = at;
  }
  return starts;
}

export function round(value: number, digits = 0): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 10_000) return `${round(value / 1000, 1)} s`;
  if (Math.abs(value) >= 100) return `${Math.round(value)} ms`;
  return `${round(value, 1)} ms`;
}

export function formatBytes(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 1024 * 1024) return `${round(value / (1024 * 1024), 2)} MiB (${value} B)`;
  if (value >= 1024) return `${round(value / 1024, 1)} KiB (${value} B)`;
  return `${value} B`;
}

export interface Row {
  /** The item number (1–6). */
  item: number;
  figure: string;
  ours: string;
  baseline: string;
  goal: string;
  /** undefined: no goal for this figure. */
  met: boolean | undefined;
}

export interface Report {
  rows: Row[];
  /** Everything measured, raw enough to recompute the table. */
  details: Record<string, unknown>;
  notes: string[];
}

export function newReport(): Report {
  return { rows: [], details: {}, notes: [] };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line.length > 0 && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line.length > 0 ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** A plain-text table that stays readable in a terminal and pasted into Markdown as a code block. */
export function formatTable(rows: readonly Row[]): string {
  const headers = ['#', 'figure', 'ours', 'baseline', 'goal', 'met?'];
  const widths = [2, 44, 30, 30, 24, 5];
  const cellsOf = (row: Row): string[] => [
    String(row.item),
    row.figure,
    row.ours,
    row.baseline,
    row.goal,
    row.met === undefined ? '–' : row.met ? 'yes' : 'NO',
  ];
  const lineOf = (cells: string[]): string[] => {
    const wrapped = cells.map((cell, index) => wrap(cell, widths[index] ?? 10));
    const height = Math.max(...wrapped.map((lines) => lines.length));
    const out: string[] = [];
    for (let lineIndex = 0; lineIndex < height; lineIndex++) {
      out.push(
        wrapped
          .map((lines, index) => pad(lines[lineIndex] ?? '', widths[index] ?? 10))
          .join(' | ')
          .trimEnd(),
      );
    }
    return out;
  };
  const separator = widths.map((width) => '-'.repeat(width)).join('-+-');
  const lines = [...lineOf(headers), separator];
  let previousItem: number | undefined;
  for (const row of rows) {
    if (previousItem !== undefined && row.item !== previousItem) lines.push(separator);
    lines.push(...lineOf(cellsOf(row)));
    previousItem = row.item;
  }
  return lines.join('\n');
}

export function machineDescription(): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryMiB: Math.round(os.totalmem() / (1024 * 1024)),
    loadAverage: os.loadavg().map((value) => round(value, 2)),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}
