/// <reference lib="dom" />
// Heat colours from the VS Code theme: a node's fill mixes the editor background with a chart colour by its share of
// the metric. Computed here (not with CSS color-mix) so that an exported SVG or PNG carries plain rgb() values.

export type Rgb = [number, number, number];

/** `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb(...)`, `rgba(...)`; null for anything else. Alpha is dropped. */
export function parseColor(text: string): Rgb | null {
  const t = text.trim();
  let m = /^#([0-9a-f]{3,8})$/i.exec(t);
  if (m) {
    const h = m[1];
    if (h.length === 3 || h.length === 4) return [0, 1, 2].map((i) => parseInt(h[i] + h[i], 16)) as Rgb;
    if (h.length === 6 || h.length === 8) return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
    return null;
  }
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(t);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

export const rgbText = (c: Rgb): string => `rgb(${c.map((v) => Math.round(v)).join(', ')})`;

export const mix = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => a[i] + (b[i] - a[i]) * t) as Rgb;

/** At most this much of the chart colour, so that the theme's foreground stays readable on the hottest node. */
export const MAX_MIX = 0.62;

/** Share in [0, 1] of the largest share shown -> mix amount; the square root spreads the many small stages apart. */
export const heatAmount = (share: number, maxShare: number): number => (maxShare > 0 ? MAX_MIX * Math.sqrt(Math.min(1, share / maxShare)) : 0);

export interface Palette {
  background: Rgb;
  macs: Rgb;
  params: Rgb;
  /** The colouring by change of a comparison: added, changed, and removed (named in the legend: it is not drawn). */
  added: Rgb;
  changed: Rgb;
  removed: Rgb;
}

/** How much of a change colour a node of a comparison gets: as much as the hottest heat node, for the same contrast. */
export const CHANGE_MIX = MAX_MIX;

/** The theme colours VS Code sets on the page (Dark Modern's values where a variable is missing). */
export function readPalette(root: Element = document.documentElement): Palette {
  const style = getComputedStyle(root);
  const read = (name: string, fallback: Rgb): Rgb => parseColor(style.getPropertyValue(name)) ?? fallback;
  return {
    background: read('--vscode-editor-background', [31, 31, 31]),
    macs: read('--vscode-charts-orange', [209, 134, 22]),
    params: read('--vscode-charts-blue', [55, 148, 255]),
    added: read('--vscode-charts-green', [137, 209, 133]),
    changed: read('--vscode-charts-yellow', [204, 167, 0]),
    removed: read('--vscode-charts-red', [241, 76, 76]),
  };
}

/** Resolve `var(--name, fallback)` in CSS text with the page's current values, for exports read outside VS Code. */
export function resolveCssVars(css: string, root: Element = document.documentElement): string {
  const style = getComputedStyle(root);
  // Innermost first: fallbacks may themselves be var() calls.
  const inner = /var\(\s*(--[\w-]+)\s*(?:,\s*([^()]*(?:\([^()]*\))?[^()]*))?\)/;
  let out = css;
  for (let guard = 0; guard < 1000 && inner.test(out); guard++) {
    out = out.replace(inner, (_all, name: string, fallback?: string) => style.getPropertyValue(name).trim() || (fallback ?? '').trim() || 'initial');
  }
  return out;
}
