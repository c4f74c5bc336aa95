// What the HTML of every DSOD page shares (the graph, the run dashboard in VS Code, report.html): one strict
// Content-Security-Policy (nothing but the page's one script and its styles, by nonce; images only from where the page
// makes them; no remote host anywhere), the nonce, and escaping. Pure: used by the extension host, the CLI and tests.

/** 24 random bytes as base64 letters and digits: a fresh nonce for every page load. */
export function makeNonce(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/[^A-Za-z0-9]/g, '');
}

/** The policy: `images` names the one image source a page needs (blob: for the graph's PNG export, data: for the gallery). */
export function strictCsp(nonce: string, images: 'blob:' | 'data:'): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `img-src ${images}`,
    "connect-src 'none'",
    "font-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "object-src 'none'",
    "media-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
export const escapeText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
