// What a saved output is called and what is written beside it. Each run saved into a workspace gets its own
// small JSON file (runId, technique, inputs, cost, times, the original output URLs), so a repository keeps
// which run made which asset without one shared index that every run rewrites (and every merge conflicts on).
//
// Inputs uploaded from the user's files are written as the file's path, never as the upload URL: that URL is
// a bearer link to the user's storage, and this file is meant to be committed.
import * as path from 'node:path';

import { readRegularFile } from './regularFile';

import type { RunRecord } from './runs';
import { describeValue, isObject } from './values';

export const PROVENANCE_SUFFIX = '.flora.json';
export const PROVENANCE_FORMAT = 'flora-provenance/1';
/** Provenance files are small; one larger than this is not ours, and is not read. */
export const MAX_PROVENANCE_BYTES = 1024 * 1024;

/** Letters, digits, `_` and `-`: what survives in a file name on every platform and in every URL. */
function stemPart(text: string, fallback: string): string {
  const cleaned = text
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  return cleaned.length > 0 ? cleaned : fallback;
}

/** `yyyymmdd-hhmmss` in UTC: the same name on every teammate's machine, and names sort by time. */
export function timeStamp(milliseconds: number): string {
  const date = new Date(milliseconds);
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${date.getUTCFullYear()}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}-` +
    `${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}`
  );
}

type NamedRun = Pick<RunRecord, 'slug' | 'runId' | 'localId' | 'completedAt' | 'createdAt' | 'startedLocallyAt'>;

/** `<technique>-<yyyymmdd-hhmmss>-<short runId>`: the run's name for its files (slug and runId are FLORA's, so cleaned). */
export function runFileStem(record: NamedRun): string {
  const when = record.completedAt ?? record.createdAt ?? record.startedLocallyAt;
  const slug = stemPart(record.slug, 'flora').slice(0, 60);
  const id = stemPart(record.runId ?? record.localId, 'run').slice(0, 8);
  return `${slug}-${timeStamp(when)}-${id}`;
}

/** The stem of one output's file: the run's, with `-n` (1-based) when the run has more than one output. */
export function outputFileStem(record: NamedRun, index: number, count: number): string {
  const stem = runFileStem(record);
  return count > 1 ? `${stem}-${index + 1}` : stem;
}

export interface ProvenanceInput {
  id: string;
  type: string;
  /** What FLORA was sent (text or a URL); absent for a local file, whose upload URL is not written. */
  value?: string;
  /** For an input uploaded from a local file: its path relative to the provenance file, with `/`. */
  file?: string;
}

export interface ProvenanceOutput {
  outputId?: string;
  type: string;
  /** The URL FLORA returned: long-lived but not permanent. */
  url: string;
  /** The saved file's name, beside the provenance file; absent when this output was not saved. */
  file?: string;
}

export interface Provenance {
  format: typeof PROVENANCE_FORMAT;
  runId: string;
  technique: { slug: string; name: string };
  inputs: ProvenanceInput[];
  /** Credits FLORA charged, and its quote before the run, when known. */
  cost: { charged?: number; quoted?: number };
  /** ISO 8601 times, as FLORA reported them. */
  createdAt?: string;
  completedAt?: string;
  savedAt: string;
  outputs: ProvenanceOutput[];
}

/** Query parameters that make a URL a bearer link: S3 and GCS presigning, and the like. */
const SIGNING_PARAMETER = /^(x-amz-(signature|credential|security-token)|x-goog-(signature|credential)|signature|sig|token|access_token)$/i;

/**
 * The value without what signs it, when it is a signed link (an upload's URL kept by Run Again after its
 * file went, say): the object's address stays, so the provenance still says what went in, but what would
 * let anyone read it does not go into a file meant to be committed. Other values are kept as they are.
 */
export function withoutSignature(value: string): string {
  if (!/^https?:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  const names = [...url.searchParams.keys()];
  if (!names.some((name) => SIGNING_PARAMETER.test(name))) return value;
  url.search = '';
  url.hash = '';
  return url.href;
}

function isoTime(milliseconds: number | undefined): string | undefined {
  return milliseconds === undefined || !Number.isFinite(milliseconds) ? undefined : new Date(milliseconds).toISOString();
}

/**
 * The provenance of a completed run saved into `folder`. `files` maps output indexes to the saved files'
 * absolute paths; `localFile` gives a local input's absolute path (undefined when it has none).
 */
export function buildProvenance(
  record: RunRecord,
  options: { folder: string; files: ReadonlyMap<number, string>; localFile: (localPath: string) => string | undefined; savedAt: number },
): Provenance {
  const inputs = record.inputs.map((input): ProvenanceInput => {
    const local = input.localPath === undefined ? undefined : options.localFile(input.localPath);
    if (input.localPath === undefined) return { id: input.id, type: input.type, value: withoutSignature(input.value) };
    // The path as the repository sees it; a file outside any folder is named by its base name only.
    const file = local === undefined ? path.basename(input.localPath) : path.relative(options.folder, local).split(path.sep).join('/');
    return { id: input.id, type: input.type, file };
  });
  const outputs = (record.outputs ?? []).map((output, index): ProvenanceOutput => {
    const saved = options.files.get(index);
    const entry: ProvenanceOutput = { type: output.type, url: output.url };
    if (output.outputId !== undefined) entry.outputId = output.outputId;
    if (saved !== undefined) entry.file = path.basename(saved);
    return entry;
  });
  const cost: Provenance['cost'] = {};
  if (record.chargedCost !== undefined) cost.charged = record.chargedCost;
  if (record.runCost !== undefined) cost.quoted = record.runCost;
  const provenance: Provenance = {
    format: PROVENANCE_FORMAT,
    runId: record.runId ?? '',
    technique: { slug: record.slug, name: record.techniqueName },
    inputs,
    cost,
    savedAt: new Date(options.savedAt).toISOString(),
    outputs,
  };
  const createdAt = isoTime(record.createdAt);
  const completedAt = isoTime(record.completedAt);
  if (createdAt) provenance.createdAt = createdAt;
  if (completedAt) provenance.completedAt = completedAt;
  return provenance;
}

/** Two-space JSON with a final newline: what formatters and diffs expect of a committed file. */
export function serializeProvenance(provenance: Provenance): string {
  return `${JSON.stringify(provenance, null, 2)}\n`;
}

/** What a provenance file says, when it is one: anyone can edit it, so every field is checked, extras kept out. */
export function readProvenance(text: string): { provenance: Provenance } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  if (!isObject(value) || value.format !== PROVENANCE_FORMAT) return { problem: 'not a FLORA provenance file' };
  const { runId, technique, inputs, outputs, cost } = value;
  if (typeof runId !== 'string' || !isObject(technique) || typeof technique.slug !== 'string' || typeof technique.name !== 'string') {
    return { problem: `runId or technique: got ${describeValue(runId)}` };
  }
  if (!Array.isArray(inputs) || !Array.isArray(outputs)) return { problem: 'inputs and outputs must be arrays' };
  const textOf = (field: unknown) => (typeof field === 'string' ? field : undefined);
  const number = (field: unknown) => (typeof field === 'number' && Number.isFinite(field) && field >= 0 ? field : undefined);
  const readInputs: ProvenanceInput[] = [];
  for (const input of inputs) {
    if (!isObject(input) || typeof input.id !== 'string' || typeof input.type !== 'string') continue;
    const entry: ProvenanceInput = { id: input.id, type: input.type };
    const inputValue = textOf(input.value);
    const file = textOf(input.file);
    if (inputValue !== undefined) entry.value = inputValue;
    if (file !== undefined) entry.file = file;
    readInputs.push(entry);
  }
  const readOutputs: ProvenanceOutput[] = [];
  for (const output of outputs) {
    if (!isObject(output) || typeof output.type !== 'string' || typeof output.url !== 'string') continue;
    const entry: ProvenanceOutput = { type: output.type, url: output.url };
    const outputId = textOf(output.outputId);
    const file = textOf(output.file);
    if (outputId !== undefined) entry.outputId = outputId;
    if (file !== undefined) entry.file = file;
    readOutputs.push(entry);
  }
  const readCost: Provenance['cost'] = {};
  if (isObject(cost)) {
    const charged = number(cost.charged);
    const quoted = number(cost.quoted);
    if (charged !== undefined) readCost.charged = charged;
    if (quoted !== undefined) readCost.quoted = quoted;
  }
  const provenance: Provenance = {
    format: PROVENANCE_FORMAT,
    runId,
    technique: { slug: technique.slug, name: technique.name },
    inputs: readInputs,
    cost: readCost,
    savedAt: textOf(value.savedAt) ?? '',
    outputs: readOutputs,
  };
  const createdAt = textOf(value.createdAt);
  const completedAt = textOf(value.completedAt);
  if (createdAt !== undefined) provenance.createdAt = createdAt;
  if (completedAt !== undefined) provenance.completedAt = completedAt;
  return { provenance };
}

/**
 * Where the provenance of a saved file may be: `<stem>.flora.json` for a run's only output, and, for
 * `<stem>-n.ext` (one of several outputs, or a name taken twice), `<stem>.flora.json` too.
 */
export function provenanceCandidates(savedFile: string): string[] {
  const folder = path.dirname(savedFile);
  const stem = path.basename(savedFile).replace(/\.[^.]*$/, '');
  const candidates = [path.join(folder, stem + PROVENANCE_SUFFIX)];
  const trimmed = stem.replace(/-\d+$/, '');
  if (trimmed !== stem) candidates.push(path.join(folder, trimmed + PROVENANCE_SUFFIX));
  const twice = trimmed.replace(/-\d+$/, '');
  if (twice !== trimmed) candidates.push(path.join(folder, twice + PROVENANCE_SUFFIX));
  return candidates;
}

/**
 * The provenance file beside a saved file that lists it, and its entry: anyone can write such a file into a
 * repository, so one that does not name this very file says nothing about it.
 */
export async function findProvenanceListing(savedFile: string): Promise<{ provenance: Provenance; output: ProvenanceOutput } | undefined> {
  for (const candidate of provenanceCandidates(savedFile)) {
    const read = await readRegularFile(candidate, MAX_PROVENANCE_BYTES);
    if (read.kind !== 'text') continue;
    const reading = readProvenance(read.text);
    const output =
      'provenance' in reading ? reading.provenance.outputs.find((entry) => entry.file === path.basename(savedFile)) : undefined;
    if (output && 'provenance' in reading) return { provenance: reading.provenance, output };
  }
  return undefined;
}
