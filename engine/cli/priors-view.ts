// `dsod priors --view`: what the editor's "Default boxes" view draws (protocol/priors.ts), made by the engine process
// so that the extension host never reads the dataset: the scales' grids and shapes, a spread sample of the box sizes,
// the suggestion with its edit, and one training image warped to the input (the first whose file exists) as a JPEG
// data: URI with its objects.
import { existsSync } from 'node:fs';
import { priorLayout } from '../../core';
import { MAX_SCATTER, PRIORS_PROTOCOL_VERSION, type PriorsViewData } from '../../protocol/priors';
import type { PriorsRun, SuggestedEdit } from './priors';

export async function priorsView(r: PriorsRun, s: SuggestedEdit | null): Promise<PriorsViewData> {
  const { width: W, height: H } = r.analysis.spec.input;
  const layout = priorLayout(r.analysis);
  const c = r.coverage;
  const b = r.boxes.boxes;
  const matched = new Uint8Array(c.objects).fill(1);
  for (const j of c.unmatched) matched[j] = 0;
  const n = c.objects;
  const take = Math.min(n, MAX_SCATTER);
  const sizes: [number, number, number][] = [];
  for (let k = 0; k < take; k++) {
    const j = Math.floor((k * n) / take);
    sizes.push([round((b[4 * j + 2] - b[4 * j]) * W), round((b[4 * j + 3] - b[4 * j + 1]) * H), matched[j]]);
  }
  return {
    protocol: PRIORS_PROTOCOL_VERSION,
    spec: r.specPath,
    input: { width: W, height: H },
    images: c.images,
    objects: c.objects,
    matched: c.matched,
    meanBestIou: c.meanBestIou,
    scales: layout.scales.map((sc, i) => ({
      name: sc.name,
      rows: sc.rows,
      columns: sc.columns,
      stepX: sc.stepX * W,
      stepY: sc.stepY * H,
      offset: sc.offset,
      shapes: sc.shapes.map((x) => ({ width: round(x.width), height: round(x.height) })),
      positives: c.scales[i].positives,
    })),
    sizes,
    image: await firstImage(r),
    suggestion: s
      ? {
          improved: s.suggestion.improved,
          before: s.suggestion.before,
          after: s.suggestion.after,
          matchedAfter: s.suggestion.coverageAfter.matched,
          edits: s.edits.map((e) => ({ start: e.range.start, end: e.range.end, newText: e.newText })),
          error: s.error,
        }
      : null,
  };
}

const round = (v: number) => Math.round(v * 100) / 100;

async function firstImage(r: PriorsRun): Promise<PriorsViewData['image']> {
  const { width: W, height: H } = r.analysis.spec.input;
  const images = r.boxes.images;
  for (let i = 0; i < Math.min(images.length, 50); i++) {
    const im = images[i];
    if (!existsSync(im.imagePath)) continue;
    try {
      // SSD's warp: the whole image resized to the input, as training sees it. sharp loads here, only for the view.
      const { default: sharp } = await import('sharp');
      const jpeg = await sharp(im.imagePath).resize(W, H, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
      const boxes: [number, number, number, number][] = [];
      const b = r.boxes.boxes;
      for (let j = r.boxes.imageStart[i]; j < r.boxes.imageStart[i + 1]; j++)
        boxes.push([round(b[4 * j] * W), round(b[4 * j + 1] * H), round(b[4 * j + 2] * W), round(b[4 * j + 3] * H)]);
      return { uri: `data:image/jpeg;base64,${jpeg.toString('base64')}`, file: im.imagePath, boxes };
    } catch {
      continue; // an undecodable image: the next one
    }
  }
  return null;
}
