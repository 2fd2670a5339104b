// Turns what a user pastes (a slug, or a technique's URL such as https://app.flora.ai/techniques/<slug>)
// into a slug (flora-api.md, step 2).
import { message, type Message } from './messages';
import { isValidSlug } from './model';

export function parseTechniqueReference(text: string): { slug: string } | { problem: Message } {
  const value = text.trim();
  if (value.length === 0) return { problem: message('referenceEmpty') };
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return { problem: message('referenceInvalidUrl') };
    }
    const match = /\/techniques\/([^/?#]+)\/?$/.exec(url.pathname);
    if (!match) {
      return { problem: message('referenceNotTechniqueUrl') };
    }
    let slug: string;
    try {
      slug = decodeURIComponent(match[1] ?? '');
    } catch {
      // "%" not followed by two hex digits: decodeURIComponent throws URIError.
      return { problem: message('referenceInvalidSlug', match[1] ?? '') };
    }
    return isValidSlug(slug) ? { slug } : { problem: message('referenceInvalidSlug', slug) };
  }
  if (!isValidSlug(value)) {
    return { problem: message('referenceSlugRules') };
  }
  return { slug: value };
}
