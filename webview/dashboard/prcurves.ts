/// <reference lib="dom" />
// Precision-recall curves per class, one small SVG each (recall across, precision up): the raw curve of the latest
// evaluation and, dashed, its interpolated envelope (the precision the AP integrates: the best at any higher recall).
// From pr-curves.json: VOC curves as they are; COCO's precision at its 101 recall thresholds, at IoU 0.5, 0.75 or the
// mean over 0.5:0.95.
import type { PrCurvesData } from '../../protocol/dashboard';
import type { MetricName } from '../../protocol/engine-events';
import type { Rgb } from '../graph/colors';

export interface ClassCurve {
  name: string;
  ap: number | null;
  positives: number | null;
  recall: number[];
  precision: number[];
}

export type CocoRow = 'mean' | '50' | '75';

/** The curves to draw, per class. VOC07 reads the 11-point AP, VOC the all-point one. */
export function classCurves(doc: PrCurvesData | null, metric: MetricName | null, coco: CocoRow): { kind: string; curves: ClassCurve[] } | null {
  if (!doc) return null;
  if (doc.voc && metric !== 'coco') {
    return {
      kind: `VOC, IoU ≥ ${doc.voc.iouThreshold}`,
      curves: doc.voc.classes.map((c) => ({
        name: c.name,
        ap: metric === 'voc' ? c.apArea : c.ap11,
        positives: c.positives,
        recall: c.curve.recall,
        precision: c.curve.precision,
      })),
    };
  }
  if (doc.coco) {
    const rt = doc.coco.recallThresholds;
    return {
      kind: coco === 'mean' ? 'COCO, mean over IoU 0.5:0.95' : `COCO, IoU ${coco === '50' ? '0.5' : '0.75'}`,
      curves: doc.coco.classes.map((c) => ({
        name: c.name,
        ap: c.ap,
        positives: null,
        recall: rt,
        precision: (coco === 'mean' ? c.mean : coco === '50' ? c.at50 : c.at75) ?? [],
      })),
    };
  }
  return null;
}

/** The precision envelope: at each point, the best precision at this recall or higher. */
export function envelope(precision: readonly number[]): number[] {
  const out = [...precision];
  for (let i = out.length - 2; i >= 0; i--) out[i] = Math.max(out[i], out[i + 1]);
  return out;
}

const SVG = 'http://www.w3.org/2000/svg';
const W = 200;
const H = 165;
const M = { l: 28, r: 8, t: 20, b: 22 };

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  parent?.append(e);
  return e;
}

const px = (r: number) => M.l + r * (W - M.l - M.r);
const py = (p: number) => H - M.b - p * (H - M.t - M.b);

function pathOf(recall: readonly number[], precision: readonly number[]): string {
  let d = '';
  for (let i = 0; i < recall.length; i++) d += `${i ? 'L' : 'M'}${px(recall[i]).toFixed(1)},${py(precision[i]).toFixed(1)}`;
  return d;
}

/** One class's plot. */
export function drawCurve(c: ClassCurve, color: Rgb): SVGSVGElement {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `precision-recall curve of ${c.name}` });
  const rgb = `rgb(${color.join(',')})`;
  for (const v of [0.5]) {
    svg('line', { class: 'grid', x1: px(0), x2: px(1), y1: py(v), y2: py(v) }, root);
    svg('line', { class: 'grid', x1: px(v), x2: px(v), y1: py(0), y2: py(1) }, root);
  }
  svg('rect', { class: 'frame', x: px(0), y: py(1), width: px(1) - px(0), height: py(0) - py(1) }, root);
  for (const v of [0, 0.5, 1]) {
    svg('text', { x: px(v), y: H - M.b + 12, 'text-anchor': 'middle' }, root, String(v));
    svg('text', { x: M.l - 4, y: py(v) + 3, 'text-anchor': 'end' }, root, String(v));
  }
  svg('text', { x: W - M.r, y: H - 2, 'text-anchor': 'end' }, root, 'recall');
  const title = `${c.name} · AP ${c.ap === null ? '–' : c.ap.toFixed(4)}`;
  svg('text', { class: 'title', x: 4, y: 13 }, root, title);
  if (c.positives !== null) svg('text', { class: 'count', x: W - M.r, y: 13, 'text-anchor': 'end' }, root, `${c.positives} obj`);
  if (c.recall.length) {
    svg('path', { class: 'envelope', d: pathOf(c.recall, envelope(c.precision)), stroke: rgb }, root);
    svg('path', { class: 'curve', d: pathOf(c.recall, c.precision), stroke: rgb, 'data-points': c.recall.length }, root);
  } else {
    svg('text', { x: px(0.5), y: py(0.5), 'text-anchor': 'middle' }, root, 'no detections or no objects');
  }
  return root;
}
