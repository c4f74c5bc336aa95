/// <reference lib="dom" />
// Entry point of the "Default boxes" webview (dist/webview/priors.js; issue 13, item 2): a training image warped to
// the input with the default boxes of a chosen scale and cell drawn over it (click the image to move the cell), a
// log-log scatter of the dataset's box sizes with each scale's box shapes marked, and the suggestion with a button
// that asks the host to apply its edit. Every host message is validated (protocol/priors.ts) before use.
import {
  PRIORS_PROTOCOL_VERSION,
  validatePriorsHostMessage,
  type PriorsViewData,
  type PriorsViewSettings,
  type PriorsWebviewMessage,
} from '../../protocol/priors';
import { requireVsCodeApi } from '../vscode-api';

const api = requireVsCodeApi<PriorsWebviewMessage>();
const post = (m: PriorsWebviewMessage) => api.postMessage(m);
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

const script = document.currentScript as HTMLScriptElement | null;
const style = document.createElement('style');
style.nonce = script?.nonce ?? '';
style.textContent = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 8px 12px; }
h2 { font-size: 1.1em; margin: 4px 0 8px; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.panel { border: 1px solid var(--vscode-panel-border, #8884); padding: 6px; }
.caption { opacity: 0.8; margin: 4px 0; max-width: 420px; }
svg text { fill: var(--vscode-foreground); font-size: 10px; }
select, button { font: inherit; color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 3px 8px; }
select { color: var(--vscode-dropdown-foreground); background: var(--vscode-dropdown-background); border: 1px solid var(--vscode-dropdown-border, #8884); }
table { border-collapse: collapse; margin: 6px 0; }
td, th { padding: 2px 8px; text-align: right; border-bottom: 1px solid var(--vscode-panel-border, #8884); }
td:first-child, th:first-child { text-align: left; }
.status { opacity: 0.9; }
`;
document.head.append(style);

const root = document.createElement('main');
document.body.append(root);
const status = (message: string) => {
  root.textContent = '';
  const p = el('p', { class: 'status' });
  p.textContent = message;
  root.append(p);
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}
function svg(tag: string, attrs: Record<string, string | number> = {}): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '–');
const px = (v: number) => String(Math.round(v * 100) / 100);

let data: PriorsViewData | null = null;
let scale = 0;
let cell = { row: 0, column: 0 };

function centreCell(i: number) {
  const s = data!.scales[i];
  return { row: Math.floor(s.rows / 2), column: Math.floor(s.columns / 2) };
}

function draw(): void {
  const d = data!;
  root.textContent = '';
  const h = el('h2');
  h.textContent = `Default boxes of ${d.spec.split(/[\\/]/).pop()} against ${d.objects.toLocaleString('en-US')} objects in ${d.images.toLocaleString('en-US')} images`;
  const summary = el('p', { id: 'summary' });
  summary.textContent = `Recall ${pct(d.matched, d.objects)} (${d.matched.toLocaleString('en-US')} objects have a default box with IoU >= 0.5), mean best IoU ${d.meanBestIou.toFixed(3)}`;
  root.append(h, summary);

  const controls = el('p');
  const label = el('label');
  label.textContent = 'Scale ';
  const select = el('select', { id: 'scale' });
  d.scales.forEach((s, i) => {
    const o = el('option', { value: String(i) });
    o.textContent = `${s.name} (${s.rows}x${s.columns}, ${s.shapes.length} boxes a cell, ${s.positives.toLocaleString('en-US')} positives)`;
    if (i === scale) o.selected = true;
    select.append(o);
  });
  select.addEventListener('change', () => {
    scale = Number(select.value);
    cell = centreCell(scale);
    draw();
  });
  label.append(select);
  const where = el('span', { id: 'cell' });
  where.textContent = `  cell row ${cell.row}, column ${cell.column} (click the image to choose another)`;
  controls.append(label, where);
  root.append(controls);

  const row = el('div', { class: 'row' });
  row.append(imagePanel(d), scatterPanel(d));
  root.append(row, suggestionPanel(d));
  post({ type: 'rendered', scale, row: cell.row, column: cell.column, boxes: d.scales[scale].shapes.length });
}

function imagePanel(d: PriorsViewData): HTMLElement {
  const box = el('div', { class: 'panel', id: 'image-panel' });
  const { width: W, height: H } = d.input;
  const zoom = Math.max(1, Math.floor(384 / Math.max(W, H)));
  const s = svg('svg', { width: W * zoom, height: H * zoom, viewBox: `0 0 ${W} ${H}`, id: 'image' });
  if (d.image) s.append(svg('image', { href: d.image.uri, x: 0, y: 0, width: W, height: H, preserveAspectRatio: 'none' }));
  else s.append(svg('rect', { x: 0, y: 0, width: W, height: H, fill: '#8882' }));
  for (const [x0, y0, x1, y1] of d.image?.boxes ?? [])
    s.append(svg('rect', { x: x0, y: y0, width: x1 - x0, height: y1 - y0, fill: 'none', stroke: '#00e000', 'stroke-width': 1 / zoom + 0.5, class: 'truth' }));
  const sc = d.scales[scale];
  const cx = (cell.column + sc.offset) * sc.stepX;
  const cy = (cell.row + sc.offset) * sc.stepY;
  sc.shapes.forEach((b, k) =>
    s.append(
      svg('rect', {
        x: cx - b.width / 2,
        y: cy - b.height / 2,
        width: b.width,
        height: b.height,
        fill: 'none',
        stroke: COLORS[k % COLORS.length],
        'stroke-width': 1.5 / zoom + 0.3,
        class: 'prior',
      }),
    ),
  );
  s.append(svg('circle', { cx, cy, r: 1.5, fill: '#ff0' }));
  s.addEventListener('click', (e: Event) => {
    const m = e as MouseEvent;
    const r = (s as unknown as SVGSVGElement).getBoundingClientRect();
    const x = ((m.clientX - r.left) / r.width) * W;
    const y = ((m.clientY - r.top) / r.height) * H;
    cell = {
      column: Math.min(sc.columns - 1, Math.max(0, Math.round(x / sc.stepX - sc.offset))),
      row: Math.min(sc.rows - 1, Math.max(0, Math.round(y / sc.stepY - sc.offset))),
    };
    draw();
  });
  const caption = el('p', { class: 'caption' });
  caption.textContent = d.image
    ? `${d.image.file.split(/[\\/]/).pop()} warped to ${W}x${H}: its objects in green, ${sc.name}'s ${sc.shapes.length} default boxes of the chosen cell in colour`
    : `No training image could be read; ${sc.name}'s default boxes on the ${W}x${H} input`;
  box.append(s, caption);
  return box;
}

function scatterPanel(d: PriorsViewData): HTMLElement {
  const box = el('div', { class: 'panel', id: 'scatter-panel' });
  const size = 360;
  const m = 32;
  const lo = 1;
  const hi = Math.max(d.input.width, d.input.height) * 1.5;
  const t = (v: number) => (Math.log(Math.max(lo, v)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo));
  const X = (w: number) => m + t(w) * (size - m - 8);
  const Y = (h: number) => size - m - t(h) * (size - m - 8);
  const s = svg('svg', { width: size, height: size, id: 'scatter' });
  for (const v of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].filter((v) => v <= hi)) {
    s.append(
      svg('line', { x1: X(v), y1: Y(lo), x2: X(v), y2: Y(hi), stroke: '#8883' }),
      svg('line', { x1: X(lo), y1: Y(v), x2: X(hi), y2: Y(v), stroke: '#8883' }),
    );
    const tx = svg('text', { x: X(v), y: size - m + 12, 'text-anchor': 'middle' });
    tx.textContent = String(v);
    const ty = svg('text', { x: m - 4, y: Y(v) + 3, 'text-anchor': 'end' });
    ty.textContent = String(v);
    s.append(tx, ty);
  }
  const xl = svg('text', { x: size / 2, y: size - 4, 'text-anchor': 'middle' });
  xl.textContent = 'box width (input px, log)';
  const yl = svg('text', { x: 10, y: size / 2, transform: `rotate(-90 10 ${size / 2})`, 'text-anchor': 'middle' });
  yl.textContent = 'height';
  s.append(xl, yl);
  for (const [w, h, ok] of d.sizes)
    s.append(svg('circle', { cx: X(w), cy: Y(h), r: 1.2, fill: ok ? '#8889' : '#e00c', class: ok ? 'size' : 'size unmatched' }));
  d.scales.forEach((sc, i) =>
    sc.shapes.forEach((b) =>
      s.append(
        svg('rect', {
          x: X(b.width) - 4,
          y: Y(b.height) - 4,
          width: 8,
          height: 8,
          fill: 'none',
          stroke: COLORS[i % COLORS.length],
          'stroke-width': i === scale ? 3 : 1.5,
          class: 'shape',
        }),
      ),
    ),
  );
  const caption = el('p', { class: 'caption' });
  caption.textContent = `${d.sizes.length.toLocaleString('en-US')} objects (grey: matched, red: no default box with IoU >= 0.5); squares: each scale's box shapes (${d.scales
    .map((sc, i) => `${sc.name} ${COLORS[i % COLORS.length]}`)
    .join(', ')}), the chosen scale bold`;
  box.append(s, caption);
  return box;
}

function suggestionPanel(d: PriorsViewData): HTMLElement {
  const box = el('div', { id: 'suggestion' });
  const g = d.suggestion;
  const h = el('h2');
  h.textContent = 'Suggestion';
  box.append(h);
  const p = el('p');
  if (!g) p.textContent = 'No suggestion was asked for.';
  else if (!g.improved) p.textContent = 'No proposal matches more objects than the spec: the spec is kept.';
  else
    p.textContent = `Recall ${pct(d.matched, d.objects)} -> ${pct(g.matchedAfter, d.objects)} (${g.matchedAfter - d.matched} more objects matched); every scale keeps its boxes per location.`;
  box.append(p);
  if (g && g.improved) {
    const table = el('table');
    const head = el('tr');
    for (const c of ['scale', 'before', 'after']) {
      const th = el('th');
      th.textContent = c;
      head.append(th);
    }
    table.append(head);
    const text = (x: PriorsViewSettings) => `${px(x.minSize)}${x.maxSize === null ? '' : `-${px(x.maxSize)}`} px, ratios ${x.aspectRatios.join(', ')}`;
    g.before.forEach((b, i) => {
      const tr = el('tr');
      for (const c of [d.scales[i]?.name ?? String(i + 1), text(b), text(g.after[i])]) {
        const td = el('td');
        td.textContent = c;
        tr.append(td);
      }
      table.append(tr);
    });
    box.append(table);
    if (g.error) {
      const e = el('p');
      e.textContent = `The edit cannot be applied: ${g.error}`;
      box.append(e);
    } else {
      const b = el('button', { id: 'apply' });
      b.textContent = 'Apply to the spec';
      b.addEventListener('click', () => post({ type: 'apply' }));
      box.append(b);
    }
  }
  return box;
}

window.addEventListener('message', (event: MessageEvent) => {
  const checked = validatePriorsHostMessage(event.data);
  if (!checked.ok) {
    post({ type: 'log', level: 'warn', message: `rejected a message from the host: ${checked.error}` });
    return;
  }
  const m = checked.message;
  if (m.type === 'status') return status(m.message);
  data = m.data;
  scale = Math.min(scale, data.scales.length - 1);
  cell = centreCell(scale);
  draw();
});

status('Measuring the default boxes against the dataset…');
post({ type: 'ready', protocol: PRIORS_PROTOCOL_VERSION });
