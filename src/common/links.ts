// The FLORA web pages the extension opens: fixed addresses, never built from what a server sent.
export const FLORA_APP_URL = 'https://app.flora.ai';
export const API_KEYS_URL = 'https://app.flora.ai/projects?openSettings=true&initialTab=apiKeys';

/** A technique's page; the slug is encoded, so a slug from settings cannot change the path. */
export function techniquePageUrl(slug: string): string {
  return `${FLORA_APP_URL}/techniques/${encodeURIComponent(slug)}`;
}
