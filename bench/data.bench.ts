// Benchmark of the engine's data path: synthetic generation, and loading + SSD augmentation (+ prior matching) at
// 96x96 (examples/tiny.dsod.yaml) and 300x300 (DSOD300). The peer, measured in the same run on the same files, is
// sharp alone decoding and resizing each image to the input size (no augmentation): the floor our path stands on.
// Machines are shared and noisy: read the ratios. Informational only: exits 0 unless a workload fails.
// Run: tsc -p . && node out/bench/data.bench.js
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { checkSpec, defaultBoxes } from '../core/index';
import { matchPriors } from '../engine/boxes/match';
import { BatchLoader } from '../engine/data/batches';
import { MAX_OBJECTS_PER_IMAGE } from '../engine/data/types';
import { synthesize } from '../engine/data/synth/generate';
import { loadVoc } from '../engine/data/voc';

const ROOT = join(__dirname, '..', '..');

async function loaderSpeed(root: string, size: number, priors: Float32Array | undefined, cacheBytes: number, batches: number): Promise<number> {
  const ds = await loadVoc({ root, splits: ['train', 'val', 'test'] });
  const loader = new BatchLoader(ds, { batchSize: 16, width: size, height: size, priors, seed: 1, cacheBytes });
  await loader.next(); // warm-up: JIT and the first decodes
  const t = performance.now();
  let n = 0;
  for (let i = 0; i < batches; i++) n += (await loader.next())!.size;
  loader.close();
  return n / ((performance.now() - t) / 1000);
}

async function sharpSpeed(root: string, size: number, count: number): Promise<number> {
  const files = readdirSync(join(root, 'JPEGImages')).slice(0, count);
  const t = performance.now();
  // 16 in flight, as a batch of the loader has.
  for (let i = 0; i < files.length; i += 16) {
    await Promise.all(
      files.slice(i, i + 16).map((f) =>
        sharp(join(root, 'JPEGImages', f))
          .resize(size, size, { fit: 'fill' })
          .raw()
          .toBuffer(),
      ),
    );
  }
  return files.length / ((performance.now() - t) / 1000);
}

/** Images a second matched against the priors with `objects` small random boxes each (the per-image cap). */
function crowdedMatchSpeed(priors: Float32Array, objects: number): number {
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
  const gt = new Float32Array(4 * objects);
  for (let j = 0; j < objects; j++) {
    const w = 0.01 + rnd() * 0.1;
    const x = rnd() * (1 - w);
    const y = rnd() * (1 - w);
    gt.set([x, y, x + w, y + w], 4 * j);
  }
  matchPriors(priors, gt); // warm-up
  const t = performance.now();
  const reps = 5;
  for (let k = 0; k < reps; k++) matchPriors(priors, gt);
  return reps / ((performance.now() - t) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dsod-bench-data-'));
  try {
    const tiny = checkSpec(readFileSync(join(ROOT, 'examples/tiny.dsod.yaml'), 'utf8'), 'yaml').analysis!;
    const dsod300 = checkSpec(readFileSync(join(ROOT, 'examples/dsod300.dsod.yaml'), 'utf8'), 'yaml').analysis!;
    const rows: string[][] = [];
    for (const [size, count, analysis] of [
      [96, 2000, tiny],
      [300, 600, dsod300],
    ] as const) {
      const root = join(dir, String(size));
      const synth = await synthesize({ out: root, count, width: size, height: size, seed: 1 });
      const priors = defaultBoxes(analysis);
      const batches = Math.floor(count / 16) - 2;
      const fromDisk = await loaderSpeed(root, size, undefined, 0, batches);
      const cached = await loaderSpeed(root, size, undefined, 1 << 30, batches);
      const matched = await loaderSpeed(root, size, priors, 1 << 30, batches);
      const peer = await sharpSpeed(root, size, count);
      rows.push(
        [`synth ${size}x${size}`, synth.imagesPerSecond.toFixed(0), ''],
        [`load+augment ${size}x${size} (decode every image)`, fromDisk.toFixed(0), `${(fromDisk / peer).toFixed(2)}x sharp`],
        [`load+augment ${size}x${size} (decoded images cached)`, cached.toFixed(0), ''],
        [`load+augment+match ${size}x${size} (${priors.length / 4} priors, cached)`, matched.toFixed(0), ''],
        [`peer: sharp decode+resize ${size}x${size}`, peer.toFixed(0), ''],
        [
          `match only, ${MAX_OBJECTS_PER_IMAGE} objects an image (${priors.length / 4} priors)`,
          crowdedMatchSpeed(priors, MAX_OBJECTS_PER_IMAGE).toFixed(1),
          '',
        ],
      );
    }
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`${'workload'.padEnd(w)}  images/s  vs peer`);
    for (const r of rows) console.log(`${r[0].padEnd(w)}  ${r[1].padStart(8)}  ${r[2]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
