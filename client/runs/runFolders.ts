// Run folders as the run manager, the code lens and the task provider see them, with no `vscode` import (node tests use
// it): a new run's folder name, the runs under the run root (newest first) and the runs of a spec, the spec and the
// weights of a run, and the default images to run inference on for a spec (its held-out split).
// What a run folder holds (its state, step, latest evaluation, spec, checkpoints) is engine/report/run-folder.ts's
// RunStatus: the dashboard's own fold of its events (RunModel), so the lens, the quick picks and the dashboard agree.
// The folder's files: protocol/run-files.ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { listRunStatuses, type RunStatus } from '../../engine/report/run-folder';
import { RUN_FILES } from '../../protocol/run-files';

export type { RunStatus };

/** "tiny" for examples/tiny.dsod.yaml: the file name without .dsod.yaml/.yml/.json, safe as a folder name. */
export function specStem(specPath: string): string {
  const stem = basename(specPath)
    .replace(/\.dsod\.(ya?ml|json)$/i, '')
    .replace(/\.(ya?ml|json)$/i, '');
  return stem.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '') || 'run';
}

const two = (n: number) => String(n).padStart(2, '0');

/** <spec>-<yyyymmdd>-<hhmmss> in local time. */
export function runDirName(specPath: string, now: Date = new Date()): string {
  const d = `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}`;
  const t = `${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
  return `${specStem(specPath)}-${d}-${t}`;
}

/** A folder for a new run of `specPath` under `root` that does not exist yet (-2, -3 ... for runs of the same second). */
export function newRunDir(root: string, specPath: string, now: Date = new Date()): string {
  const name = runDirName(specPath, now);
  let dir = join(root, name);
  for (let k = 2; existsSync(dir); k++) dir = join(root, `${name}-${k}`);
  return dir;
}

/** Every run folder directly under `root`, newest first (by its first event, else by the folder's time). */
export async function listRuns(root: string): Promise<RunStatus[]> {
  return (await listRunStatuses(root)).sort((a, b) => b.created.localeCompare(a.created) || basename(b.runDir).localeCompare(basename(a.runDir)));
}

const samePath = (a: string, b: string) => (process.platform === 'win32' ? resolve(a).toLowerCase() === resolve(b).toLowerCase() : resolve(a) === resolve(b));

/** The runs of one spec file, newest first: those trained from it, and folders named after it whose spec is unknown. */
export async function runsOfSpec(root: string, specPath: string): Promise<RunStatus[]> {
  const named = new RegExp(`^${specStem(specPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}-\\d{6}(-\\d+)?$`);
  return (await listRuns(root)).filter((r) => (r.spec !== null ? samePath(r.spec, specPath) : named.test(basename(r.runDir))));
}

/** The spec a run trained: the original file when it still exists, else the copy in the run folder. */
export function specOfRun(run: RunStatus): string | null {
  if (run.spec && existsSync(run.spec)) return run.spec;
  const copy = join(run.runDir, RUN_FILES.spec);
  return existsSync(copy) ? copy : null;
}

/**
 * The best weights to evaluate or run: weights.dsodw, else the last tfjs checkpoint (dsod eval and infer read
 * .dsodckpt and .dsodw; a torch checkpoint is PyTorch's own file, and the torch engine writes weights.dsodw with each).
 */
export function weightsOfRun(run: RunStatus): string | null {
  if (run.weights) return join(run.runDir, RUN_FILES.weights);
  return run.checkpoints.filter((c) => c.engine === 'tfjs').at(-1)?.path ?? null;
}

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.JPG', '.JPEG', '.PNG'];

/** Whether a path names a spec file (*.dsod.yaml, *.dsod.yml, *.dsod.json). */
export const isSpecPath = (p: string): boolean => /\.dsod\.(ya?ml|json)$/i.test(p);

/** Whether a path names an image file the engine reads. */
export function isImagePath(path: string): boolean {
  return /\.(jpe?g|png|webp)$/i.test(path);
}

export interface TestImages {
  images: string[];
  /** Images in the split (images.length may be smaller: `limit`). */
  total: number;
  /** Where they came from, for people. */
  source: string;
}

/**
 * The held-out images of a spec (its data.test split), the default input of "Run Inference" on a spec: at most `limit`
 * of them, in list order. Throws an Error that says what is missing.
 */
export function testImagesOfSpec(specPath: string, limit = 200): TestImages {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(specPath, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${specPath}: ${(e as Error).message}`, { cause: e });
  }
  const data = (doc as { data?: { format?: string; root?: string; test?: string | string[] } } | null)?.data;
  if (!data || typeof data.root !== 'string') throw new Error(`${basename(specPath)} has no data.root: run inference on image files or folders instead`);
  const root = resolve(dirname(specPath), data.root);
  if (!existsSync(root)) throw new Error(`the dataset folder ${root} (data.root of ${basename(specPath)}) does not exist`);
  const tests = data.test === undefined ? [] : Array.isArray(data.test) ? data.test : [data.test];
  if ((data.format ?? 'voc') === 'coco') return cocoTestImages(root, tests, limit);
  const images: string[] = [];
  let total = 0;
  const lists = tests.length ? tests : ['test'];
  for (const split of lists) {
    const slash = split.lastIndexOf('/');
    const dir = join(root, slash >= 0 ? split.slice(0, slash) : '');
    const list = join(dir, 'ImageSets', 'Main', `${slash >= 0 ? split.slice(slash + 1) : split}.txt`);
    let text: string;
    try {
      text = readFileSync(list, 'utf8');
    } catch {
      throw new Error(`cannot read the image list ${list}`);
    }
    for (const line of text.split(/\r?\n/)) {
      const id = line.trim().split(/\s+/)[0];
      if (!id || id.includes('/') || id.includes('\\')) continue;
      total++;
      if (images.length >= limit) continue;
      const found = IMAGE_EXTENSIONS.map((x) => join(dir, 'JPEGImages', id + x)).find((p) => existsSync(p));
      if (found) images.push(found);
    }
  }
  if (!images.length) throw new Error(`no images found for the split ${lists.join('+')} under ${root}`);
  return { images, total, source: `${lists.join('+')} split of ${root}` };
}

function cocoTestImages(root: string, tests: string[], limit: number): TestImages {
  let files = tests.map((f) => resolve(root, f));
  if (!files.length) {
    const dir = join(root, 'annotations');
    files = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json') && /val|test/i.test(f) && !/train/i.test(f))
          .map((f) => join(dir, f))
      : [];
  }
  const images: string[] = [];
  let total = 0;
  for (const file of files) {
    let doc: { images?: { file_name?: unknown }[] };
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new Error(`cannot read the COCO annotations ${file}`);
    }
    const split = basename(file, '.json').replace(/^instances_/, '');
    const dir =
      [join(root, split), join(root, 'images', split), join(root, 'images'), dirname(file), root].find((c) => existsSync(c) && statSync(c).isDirectory()) ??
      dirname(file);
    for (const im of doc.images ?? []) {
      if (typeof im.file_name !== 'string') continue;
      total++;
      if (images.length < limit) images.push(join(dir, im.file_name));
    }
  }
  if (!images.length) throw new Error(`no test images found in the COCO annotations under ${root}`);
  return { images, total, source: `${files.map((f) => basename(f)).join('+')} under ${root}` };
}
