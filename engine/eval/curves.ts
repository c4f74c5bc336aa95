// Precision-recall curves as one JSON document for plotting (the run dashboard, a notebook, a spreadsheet).
import type { PrCurvesData } from '../../protocol/run-files';
import { writeFileAtomic } from '../data/files';
import type { CocoResult } from './coco';
import type { PrCurve, VocResult } from './voc';

/** pr-curves.json: its format is defined where its readers find it (protocol/run-files.ts). */
export type PrCurvesJson = PrCurvesData;

/** Keep at most `max` points of a curve: evenly spaced by index, the first and last always kept. */
export function thinCurve(c: PrCurve, max: number): PrCurve {
  const n = c.recall.length;
  if (n <= max) return c;
  const idx = Array.from({ length: max }, (_, k) => Math.round((k * (n - 1)) / (max - 1)));
  return { recall: idx.map((i) => c.recall[i]), precision: idx.map((i) => c.precision[i]), score: idx.map((i) => c.score[i]) };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function prCurvesJson(r: { voc?: VocResult; coco?: CocoResult }, o: { maxPoints?: number } = {}): PrCurvesJson {
  const max = o.maxPoints ?? 1000;
  const out: PrCurvesJson = { version: 1 };
  if (r.voc) {
    out.voc = {
      iouThreshold: r.voc.iouThreshold,
      map11: round(r.voc.map11),
      mapArea: round(r.voc.mapArea),
      classes: r.voc.classes.map((c) => {
        const t = thinCurve(c.curve, max);
        return {
          label: c.label,
          name: c.name,
          positives: c.positives,
          ap11: c.ap11 === null ? null : round(c.ap11),
          apArea: c.apArea === null ? null : round(c.apArea),
          curve: { recall: t.recall.map(round), precision: t.precision.map(round), score: t.score.map(round) },
        };
      }),
    };
  }
  if (r.coco) {
    const coco = r.coco;
    const row = (c: CocoResult['classes'][number], t: number) => {
      const i = coco.iouThresholds.findIndex((x) => Math.abs(x - t) < 1e-9);
      return c.ap === null || i < 0 ? null : c.precision[i].map(round);
    };
    out.coco = {
      ap: round(coco.ap),
      ap50: round(coco.ap50),
      ap75: round(coco.ap75),
      recallThresholds: coco.recallThresholds.map(round),
      classes: coco.classes.map((c) => ({
        label: c.label,
        name: c.name,
        ap: c.ap === null ? null : round(c.ap),
        at50: row(c, 0.5),
        at75: row(c, 0.75),
        mean: c.ap === null ? null : coco.recallThresholds.map((_, k) => round(c.precision.reduce((s, p) => s + p[k], 0) / c.precision.length)),
      })),
    };
  }
  return out;
}

/** Write the curves atomically (a dashboard polling the file never reads half of it). */
export async function writePrCurves(path: string, r: { voc?: VocResult; coco?: CocoResult }, o: { maxPoints?: number } = {}): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(prCurvesJson(r, o)) + '\n');
}
