// Turns what a user pastes (a slug, or a technique's URL such as https://app.flora.ai/techniques/<slug>)
// into a slug (flora-api.md, step 2).
import { isValidSlug } from './model';

export function parseTechniqueReference(text: string): { slug: string } | { problem: string } {
  const value = text.trim();
  if (value.length === 0) return { problem: 'Enter a technique slug or paste its URL from FLORA.' };
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return { problem: 'That is not a valid URL.' };
    }
    const match = /\/techniques\/([^/?#]+)\/?$/.exec(url.pathname);
    if (!match) {
      return { problem: 'A technique URL looks like https://app.flora.ai/techniques/<slug>.' };
    }
    let slug: string;
    try {
      slug = decodeURIComponent(match[1] ?? '');
    } catch {
      // "%" not followed by two hex digits: decodeURIComponent throws URIError.
      return { problem: `"${match[1] ?? ''}" is not a valid technique slug.` };
    }
    return isValidSlug(slug) ? { slug } : { problem: `"${slug}" is not a valid technique slug.` };
  }
  if (!isValidSlug(value)) {
    return {
      problem: 'A slug uses only letters, digits, "-" and "_" (for example "studio-shot"), or paste the technique URL.',
    };
  }
  return { slug: value };
}
