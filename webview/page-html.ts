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

export interface PageOptions {
  title: string;
  nonce: string;
  /** The one image source the page needs (see strictCsp). */
  images: 'blob:' | 'data:';
  /** What the body holds: the page's script (scriptTag), and any data it reads. */
  body: string;
  bodyAttributes?: Record<string, string>;
  /** Markup right after the policy (a test puts hostile content there). */
  afterPolicy?: string;
}

/** A page of ours: the policy first in <head>, then the title, then the body the page brings. */
export function pageHtml(o: PageOptions): string {
  const attributes = Object.entries(o.bodyAttributes ?? {})
    .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(strictCsp(o.nonce, o.images))}">
${o.afterPolicy ? `${o.afterPolicy}\n` : ''}<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeText(o.title)}</title>
</head>
<body${attributes}>
${o.body}
</body>
</html>
`;
}

/** The page's bundle, loaded by URI and allowed by its nonce. */
export function scriptTag(nonce: string, uri: string): string {
  return `<script nonce="${escapeAttr(nonce)}" src="${escapeAttr(uri)}"></script>`;
}
