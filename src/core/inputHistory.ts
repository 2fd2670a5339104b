// The web links the user gave to inputs of one type in earlier runs, for the input picker to offer again:
// only links the user typed or pasted (not a local file's upload URL, not an earlier run's output, which
// the picker offers as such), newest first, each once.
import type { RunRecord } from './runs';

/** A link given to an input before: the run it was given to and when. */
export interface UsedLink {
  value: string;
  techniqueName: string;
  slug: string;
  /** When that run was started (local clock, ms). */
  at: number;
}

/** A value longer than this is no link a person typed (the journal keeps values of up to a megabyte). */
const MAX_LINK_LENGTH = 8_192;

/**
 * The distinct links given to inputs of `type`, newest run first, at most `limit` of them. A value counts
 * when it is an http(s) URL with a host, was not uploaded from a local file (`localPath`), and is not the
 * output of any run in `records`.
 */
export function usedLinks(records: readonly RunRecord[], type: string, limit: number): UsedLink[] {
  if (!(limit > 0)) return [];
  const outputs = new Set<string>();
  for (const record of records) for (const output of record.outputs ?? []) outputs.add(output.url.trim());
  // Newest first whatever order the caller keeps; a stable sort keeps a run's own inputs in their order.
  const newestFirst = [...records].sort((a, b) => b.startedLocallyAt - a.startedLocallyAt);
  const found: UsedLink[] = [];
  const seen = new Set<string>();
  for (const record of newestFirst) {
    for (const input of record.inputs) {
      if (input.type !== type || input.localPath !== undefined) continue;
      const value = input.value.trim();
      if (seen.has(value) || outputs.has(value) || !isTypedWebLink(value)) continue;
      seen.add(value);
      found.push({ value, techniqueName: record.techniqueName, slug: record.slug, at: record.startedLocallyAt });
      if (found.length >= limit) return found;
    }
  }
  return found;
}

/**
 * An http(s) URL with a host written out (the URL parser would read `https:///x` as host x), without spaces,
 * of a length a person could have typed or pasted.
 */
export function isTypedWebLink(value: string): boolean {
  if (value.length > MAX_LINK_LENGTH || !/^https?:\/\/[^\s/?#\\]\S*$/i.test(value)) return false;
  try {
    return new URL(value).hostname.length > 0;
  } catch {
    return false;
  }
}
