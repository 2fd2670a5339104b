/**
 * Sample inputs the sandbox serves at `/samples/<name>.<ext>` and lists at `GET /sandbox/samples`, so a
 * newcomer's first run needs no URL. Not a FLORA endpoint: the extension asks for it only when its base
 * URL is loopback.
 */
import { loadSampleVideo, renderPng } from './media';

export type SampleType = 'imageUrl' | 'videoUrl';

export interface SandboxSample {
  name: string;
  url: string;
  type: SampleType;
}

interface SampleDefinition {
  name: string;
  type: SampleType;
  fileName: string;
  contentType: string;
  /** The palette seed (images only): different seeds give visibly different pictures. */
  seed: string;
}

const definitions: readonly SampleDefinition[] = [
  { name: 'coral', type: 'imageUrl', fileName: 'coral.png', contentType: 'image/png', seed: 'sample/coral' },
  { name: 'lagoon', type: 'imageUrl', fileName: 'lagoon.png', contentType: 'image/png', seed: 'sample/lagoon/2' },
  { name: 'meadow', type: 'imageUrl', fileName: 'meadow.png', contentType: 'image/png', seed: 'sample/meadow/3' },
  { name: 'clip', type: 'videoUrl', fileName: 'clip.webm', contentType: 'video/webm', seed: '' },
];

export const SAMPLE_NAMES: readonly string[] = definitions.map((definition) => definition.name);
export const SAMPLES_LIST_PATH = '/sandbox/samples';
export const SAMPLES_PATH_PREFIX = '/samples/';

export function sandboxSamples(origin: string): SandboxSample[] {
  return definitions.map((definition) => ({
    name: definition.name,
    url: `${origin}${SAMPLES_PATH_PREFIX}${definition.fileName}`,
    type: definition.type,
  }));
}

const rendered = new Map<string, Buffer>();

/** A sample's bytes by file name (`coral.png`), drawn once and kept; undefined for unknown names. */
export function sampleFile(fileName: string): { content: Buffer; contentType: string } | undefined {
  const definition = definitions.find((candidate) => candidate.fileName === fileName);
  if (definition === undefined) {
    return undefined;
  }
  let content = rendered.get(fileName);
  if (content === undefined) {
    content = definition.type === 'videoUrl' ? loadSampleVideo() : renderPng(definition.seed, 'gradient');
    rendered.set(fileName, content);
  }
  return { content, contentType: definition.contentType };
}

/** The sample images only, as `[fileName, bytes]` (the read-only buckets hold them under `samples/`). */
export function sampleImages(): { fileName: string; content: Buffer; contentType: string }[] {
  return definitions
    .filter((definition) => definition.type === 'imageUrl')
    .map((definition) => ({
      fileName: definition.fileName,
      ...(sampleFile(definition.fileName) ?? { content: Buffer.alloc(0), contentType: '' }),
    }));
}
