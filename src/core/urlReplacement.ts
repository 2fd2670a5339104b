// Replacing output URLs in a document by the paths of their saved files. The path goes exactly where the URL
// stood (in a Markdown destination, an attribute, a url(), a string), so it is written as a URL reference:
// every segment percent-encoded beyond unreserved characters. Whatever the user's folder is called (spaces,
// quotes, parentheses, `#`), the replacement then ends nothing the URL did not end, and a browser or a
// bundler that reads the reference finds the file. The file names themselves are ours and need none of it.

/** Characters RFC 3986 calls unreserved, plus `/` between segments: the only ones left as they are. */
function encodeSegment(segment: string): string {
  if (segment === '.' || segment === '..') return segment;
  return Array.from(new TextEncoder().encode(segment), (byte) => {
    const character = String.fromCharCode(byte);
    return /[A-Za-z0-9._~-]/.test(character) ? character : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/**
 * A relative path (`/`-separated, from the document's folder) as a URL reference. `explicitlyRelative`
 * puts `./` before a path in the same folder: bundlers read a bare `flora-outputs/x.png` as a package.
 */
export function pathReference(relativePath: string, explicitlyRelative: boolean): string {
  const encoded = relativePath.split('/').map(encodeSegment).join('/');
  if (!explicitlyRelative || encoded.startsWith('./') || encoded.startsWith('../')) return encoded;
  return `./${encoded}`;
}

export interface TextReplacement {
  start: number;
  end: number;
  text: string;
}

/**
 * The replacements for the URLs found in a text (core/outputLinks.ts's findOutputUrls), for those the map
 * has a reference for; overlapping ranges cannot occur, since the finder's ranges never overlap.
 */
export function urlReplacements(
  found: ReadonlyArray<{ start: number; end: number; url: string }>,
  referenceFor: ReadonlyMap<string, string>,
): TextReplacement[] {
  const replacements: TextReplacement[] = [];
  for (const url of found) {
    const text = referenceFor.get(url.url);
    if (text !== undefined) replacements.push({ start: url.start, end: url.end, text });
  }
  return replacements;
}
