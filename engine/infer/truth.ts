// Ground truth beside the detections of `dsod infer --run` (the dashboard draws both): an image in a VOC folder
// (.../JPEGImages/x.jpg) has .../Annotations/x.xml; an image listed in the run's COCO instances JSON has its
// annotations there (matched by path, else by a file name unique in that JSON). Anything else: null (unknown, which
// is not the same as "no objects").
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { loadCoco } from '../data/coco';
import type { ImageRecord } from '../data/types';
import { readVocObjects } from '../data/voc';
import { cocoImageDir, type DataSource } from '../data/source';

export interface TruthBox {
  name: string;
  /** Corners in the image's pixels [xmin, ymin, xmax, ymax], as the detections' `box`. */
  box: [number, number, number, number];
  difficult: boolean;
  /** COCO iscrowd (a region, not one object). */
  crowd?: true;
}

export async function findTruth(images: readonly { image: string; width: number; height: number }[], data: DataSource | null): Promise<(TruthBox[] | null)[]> {
  const out: (TruthBox[] | null)[] = images.map((im) => vocTruth(im));
  const unknown = images.map((_, i) => i).filter((i) => out[i] === null);
  if (!unknown.length || data?.format !== 'coco') return out;
  // Held-out files first: inference usually runs on held-out images, and a training JSON can be large.
  for (const file of [...new Set([...data.test, ...data.train])]) {
    const ds = await loadCoco({ annotationFile: file, imageDir: cocoImageDir(data.root, file), checkFiles: false });
    const byPath = new Map(ds.records.map((r) => [resolve(r.imagePath), r]));
    const byName = new Map<string, ImageRecord | null>();
    for (const r of ds.records) byName.set(basename(r.imagePath), byName.has(basename(r.imagePath)) ? null : r);
    for (const i of unknown.filter((k) => out[k] === null)) {
      const im = images[i];
      const r = byPath.get(resolve(im.image)) ?? byName.get(basename(im.image));
      if (r) out[i] = r.objects.map((o) => ({ name: o.name, box: pixels(o.box, im), difficult: o.difficult, ...(o.crowd ? { crowd: true as const } : {}) }));
    }
    if (out.every((t) => t !== null)) break;
  }
  return out;
}

function vocTruth(im: { image: string; width: number; height: number }): TruthBox[] | null {
  const folder = dirname(resolve(im.image));
  if (basename(folder) !== 'JPEGImages') return null;
  const xml = join(dirname(folder), 'Annotations', `${basename(im.image, extname(im.image))}.xml`);
  if (!existsSync(xml)) return null;
  const objects = readVocObjects(xml, im);
  return objects && objects.map((o) => ({ name: o.name, box: pixels(o.box, im), difficult: o.difficult }));
}

function pixels(b: readonly number[], im: { width: number; height: number }): [number, number, number, number] {
  const r = (x: number) => Math.round(x * 10) / 10;
  return [r(b[0] * im.width), r(b[1] * im.height), r(b[2] * im.width), r(b[3] * im.height)];
}
