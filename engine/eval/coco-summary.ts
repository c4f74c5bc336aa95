// COCOeval.summarize's printout, character for character, so the 12 numbers read the way pycocotools users know:
//  Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.371
import type { CocoArea, CocoSummary } from './coco';

const ROWS: { key: keyof CocoSummary; ap: boolean; iou: string; area: CocoArea; maxDets: number }[] = [
  { key: 'ap', ap: true, iou: '0.50:0.95', area: 'all', maxDets: 100 },
  { key: 'ap50', ap: true, iou: '0.50', area: 'all', maxDets: 100 },
  { key: 'ap75', ap: true, iou: '0.75', area: 'all', maxDets: 100 },
  { key: 'apSmall', ap: true, iou: '0.50:0.95', area: 'small', maxDets: 100 },
  { key: 'apMedium', ap: true, iou: '0.50:0.95', area: 'medium', maxDets: 100 },
  { key: 'apLarge', ap: true, iou: '0.50:0.95', area: 'large', maxDets: 100 },
  { key: 'ar1', ap: false, iou: '0.50:0.95', area: 'all', maxDets: 1 },
  { key: 'ar10', ap: false, iou: '0.50:0.95', area: 'all', maxDets: 10 },
  { key: 'ar100', ap: false, iou: '0.50:0.95', area: 'all', maxDets: 100 },
  { key: 'arSmall', ap: false, iou: '0.50:0.95', area: 'small', maxDets: 100 },
  { key: 'arMedium', ap: false, iou: '0.50:0.95', area: 'medium', maxDets: 100 },
  { key: 'arLarge', ap: false, iou: '0.50:0.95', area: 'large', maxDets: 100 },
];

/** The 12 lines of pycocotools' summary (its `' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}'`). */
export function formatCocoSummary(s: CocoSummary): string {
  return ROWS.map(
    (r) =>
      ` ${(r.ap ? 'Average Precision' : 'Average Recall').padEnd(18)} ${r.ap ? '(AP)' : '(AR)'} @[ IoU=${r.iou.padEnd(9)} | ` +
      `area=${r.area.padStart(6)} | maxDets=${String(r.maxDets).padStart(3)} ] = ${fixed3(s[r.key])}`,
  ).join('\n');
}

/**
 * Python's '{:0.3f}': toFixed(3) rounds the exact binary value as Python does, except on an exact tie, which only an
 * odd multiple of 1/16 can be at three decimals (0.0625, 0.5625, ...): Python rounds those to even, toFixed up.
 */
export function fixed3(x: number): string {
  const sixteenths = x * 16;
  if (Number.isInteger(sixteenths) && Math.abs(sixteenths) % 2 === 1) {
    const n = Math.floor(x * 1000);
    return ((n % 2 === 0 ? n : n + 1) / 1000).toFixed(3);
  }
  return x.toFixed(3);
}
