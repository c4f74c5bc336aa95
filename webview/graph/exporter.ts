/// <reference lib="dom" />
// Export of the current view (the whole drawing as it is now: expanded blocks, colouring, theme) as a standalone SVG
// file, and as PNG through a canvas. The webview cannot write files: the host saves what we post.
import { formatShare } from '../../core/format';
import { MAX_MIX, mix, resolveCssVars, rgbText, type Palette } from './colors';
import { SVG_CSS } from './styles';
import { arrowDefs, svgEl } from './svg';

const HEADING = 52;

export interface ExportInput {
  /** The group holding the drawing (its children are copied, interaction state stripped). */
  drawing: SVGGElement;
  width: number;
  height: number;
  heading: string;
  subheading: string;
  legend: { title: string; maxShare: number; accent: 'macs' | 'params' };
  /** While comparing, the nodes are coloured by change: this legend instead of the heat ramp. */
  changeLegend?: { title: string; keys: { colour: string; text: string }[] } | null;
  palette: Palette;
}

export function exportSvg(x: ExportInput): { text: string; width: number; height: number } {
  const width = Math.ceil(Math.max(x.width, 520));
  const height = Math.ceil(x.height + HEADING);
  const svg = svgEl('svg', { class: 'graph', width, height, viewBox: `0 0 ${width} ${height}` }); // the serializer adds xmlns
  svgEl('style', {}, svg).textContent = resolveCssVars(SVG_CSS);
  arrowDefs(svg);
  svgEl('rect', { width, height, fill: rgbText(x.palette.background) }, svg);
  svgEl('text', { class: 'heading', x: 16, y: 20 }, svg).textContent = x.heading;
  svgEl('text', { class: 'legend-text', x: 16, y: 38 }, svg).textContent = x.subheading;

  if (x.changeLegend) {
    // The colouring by change, top right: its title, then a swatch and a word per change, in one row.
    const keys = x.changeLegend.keys.map((k) => ({ ...k, w: 18 + Math.ceil(k.text.length * 6.2) + 12 }));
    let kx = Math.max(16, width - 16 - keys.reduce((n, k) => n + k.w, 0));
    svgEl('text', { class: 'legend-text', x: kx, y: 18 }, svg).textContent = x.changeLegend.title;
    for (const k of keys) {
      svgEl('rect', { x: kx, y: 30, width: 14, height: 10, fill: k.colour, class: 'box' }, svg);
      svgEl('text', { class: 'legend-text', x: kx + 18, y: 39 }, svg).textContent = k.text;
      kx += k.w;
    }
  } else {
    // The colour legend, top right: the same ramp as the header's.
    const accent = x.legend.accent === 'macs' ? x.palette.macs : x.palette.params;
    const defs = svg.querySelector('defs')!;
    const grad = svgEl('linearGradient', { id: 'ramp' }, defs);
    for (const p of [0, 0.25, 0.5, 0.75, 1]) svgEl('stop', { offset: p, 'stop-color': rgbText(mix(x.palette.background, accent, MAX_MIX * p)) }, grad);
    const lx = width - 200;
    svgEl('text', { class: 'legend-text', x: lx, y: 18 }, svg).textContent = x.legend.title;
    svgEl('rect', { x: lx, y: 26, width: 150, height: 10, fill: 'url(#ramp)', class: 'box' }, svg);
    svgEl('text', { class: 'legend-text', x: lx, y: 48 }, svg).textContent = '0%';
    svgEl('text', { class: 'legend-text', x: lx + 150, y: 48, 'text-anchor': 'end' }, svg).textContent = formatShare(x.legend.maxShare, 1);
  }

  const copy = x.drawing.cloneNode(true) as SVGGElement;
  copy.setAttribute('transform', `translate(0,${HEADING})`);
  copy.querySelectorAll('[tabindex]').forEach((n) => n.removeAttribute('tabindex'));
  copy.querySelectorAll('.selected').forEach((n) => n.classList.remove('selected'));
  copy.querySelectorAll('.toggle, .lod').forEach((n) => n.remove());
  svg.append(copy);
  return { text: new XMLSerializer().serializeToString(svg), width, height };
}

/** Canvases refuse sides past 16384 px and very large areas: scale down to stay inside. */
export function pngScale(width: number, height: number, wanted = 2): number {
  const bySide = 16000 / Math.max(width, height);
  const byArea = Math.sqrt(60e6 / (width * height));
  return Math.max(0.1, Math.min(wanted, bySide, byArea));
}

/** Rasterize an SVG text; returns the PNG as base64 (no data: prefix). Needs `img-src blob:` in the CSP. */
export async function svgToPng(svgText: string, width: number, height: number): Promise<string> {
  const scale = pngScale(width, height);
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d canvas');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
  } finally {
    URL.revokeObjectURL(url);
  }
}
