// Detections on arbitrary images: each decoded at its own size, resized to the network input as evaluation does
// (SSD's warp), detected, and mapped back to the image's pixels.
import type { DetectOptions } from '../boxes/detect';
import { detectArrays } from '../boxes/detect-arrays';
import { resizeSample } from '../data/augment';
import { decodeImage, type RawImage } from '../data/image';
import { DsodModel } from '../model/model';
import { tfjsPredictor, type Predictor } from './predict';

export interface PixelDetection {
  label: number;
  name: string;
  score: number;
  /** Corners in the image's pixels [xmin, ymin, xmax, ymax]. */
  box: [number, number, number, number];
  /** The same, normalised to 0..1. */
  boxNormalized: [number, number, number, number];
}

export interface ImageDetections {
  image: string;
  width: number;
  height: number;
  detections: PixelDetection[];
}

export interface InferOptions {
  classNames: readonly string[];
  /** Detections below this score are left out (the detector itself keeps down to 0.01). */
  threshold: number;
  batchSize?: number;
  detect?: DetectOptions;
}

const EMPTY = { boxes: new Float32Array(0), labels: new Int32Array(0), difficult: new Uint8Array(0) };

/** `net`: the tfjs model, or any Predictor (engine/onnx's onnxruntime session): the same detection code follows. */
export async function inferImages(
  net: DsodModel | Predictor,
  priors: Float32Array,
  paths: readonly string[],
  o: InferOptions,
  onImage?: (r: ImageDetections) => Promise<void> | void,
): Promise<{ results: ImageDetections[]; problems: string[] }> {
  const model = net instanceof DsodModel ? tfjsPredictor(net) : net;
  const [height, width] = model.inputShape;
  const batchSize = o.batchSize ?? 8;
  const results: ImageDetections[] = [];
  const problems: string[] = [];
  for (let start = 0; start < paths.length; start += batchSize) {
    const chunk = paths.slice(start, start + batchSize);
    const decoded = await Promise.all(
      chunk.map((p) =>
        decodeImage(p).then(
          (img): { path: string; img: RawImage } => ({ path: p, img }),
          (e: Error) => {
            problems.push(`${p}: unreadable image, skipped: ${e.message}`);
            return null;
          },
        ),
      ),
    );
    const ok = decoded.filter((d): d is { path: string; img: RawImage } => d !== null);
    if (!ok.length) continue;
    const input = new Float32Array(ok.length * height * width * 3);
    ok.forEach((d, k) => resizeSample(d.img, EMPTY, { width, height }, { buffer: input, offset: k * height * width * 3 }));
    const { loc, conf } = await model.predict(input, [ok.length, height, width, 3]);
    const dets = detectArrays(loc, conf, priors, model.numClasses, o.detect);
    for (let k = 0; k < ok.length; k++) {
      const { path, img } = ok[k];
      const r: ImageDetections = {
        image: path,
        width: img.width,
        height: img.height,
        detections: dets[k]
          .filter((d) => d.score >= o.threshold)
          .map((d) => ({
            label: d.label,
            name: o.classNames[d.label] ?? `class${d.label}`,
            score: round(d.score, 4),
            box: [round(d.box[0] * img.width, 1), round(d.box[1] * img.height, 1), round(d.box[2] * img.width, 1), round(d.box[3] * img.height, 1)],
            boxNormalized: d.box.map((v) => round(v, 5)) as PixelDetection['boxNormalized'],
          })),
      };
      results.push(r);
      await onImage?.(r);
    }
  }
  return { results, problems };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
