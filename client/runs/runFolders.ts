// Run folders as the run manager and the code lens see them, with no `vscode` import (node tests use it): a new run's
// folder name, the runs under the run root (newest first) and what each holds (the spec it trained, its state, its last
// evaluation, its checkpoints), and the default images to run inference on for a spec (its held-out split).
// The folder contract is in /tmp/coord/PLAN.md and engine/train/run-files.ts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseEngineEventLine, type EngineCommand, type MetricName } from '../../protocol/engine-events';

export const EVENTS_FILE = 'events.jsonl';
export const METRICS_FILE = 'metrics.json';
export const WEIGHTS_FILE = 'weights.dsodw';
export const RUN_SPEC_FILE = 'spec.dsod.yaml';

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

export type RunState = 'completed' | 'stopped' | 'failed' | 'unfinished' | 'empty';

export interface RunMetric {
  metric: MetricName;
  value: number;
  step: number | null;
}

export interface RunInfo {
  dir: string;
  name: string;
  /** The spec file the run was trained from (its first train start event), or null when unknown. */
  spec: string | null;
  /** The network's name (the spec's `name`). */
  specName: string | null;
  /** When the run was made (its first event, else the folder's time), ms since the epoch. */
  created: number;
  /** When it last changed, ms since the epoch. */
  updated: number;
  /** How its last train process ended; unfinished: it has no done event (running now, or killed). */
  state: RunState;
  /** Last optimizer step reached, and the schedule's steps. */
  step: number | null;
  steps: number | null;
  /** The latest evaluation (metrics.json, else the last metric event). */
  metric: RunMetric | null;
  /** Checkpoint files, oldest first. */
  checkpoints: string[];
  hasWeights: boolean;
  /** Which commands worked on the run (train, eval, infer). */
  commands: EngineCommand[];
}

interface Cached {
  key: string;
  info: RunInfo;
}
const cache = new Map<string, Cached>();

function fileKey(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return '-';
  }
}

/** Whether a folder is a run folder (it has events, checkpoints or weights). */
export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, EVENTS_FILE)) || existsSync(join(dir, 'checkpoints')) || existsSync(join(dir, WEIGHTS_FILE));
}

/** What a run folder holds. Cached by the size and time of its events, metrics and checkpoints folder. */
export function readRun(dir: string): RunInfo {
  dir = resolve(dir);
  const events = join(dir, EVENTS_FILE);
  const metrics = join(dir, METRICS_FILE);
  const checkpointsDir = join(dir, 'checkpoints');
  const key = [fileKey(events), fileKey(metrics), fileKey(checkpointsDir), fileKey(join(dir, WEIGHTS_FILE))].join('|');
  const hit = cache.get(dir);
  if (hit && hit.key === key) return hit.info;

  let folderTime = Date.now();
  try {
    folderTime = statSync(dir).mtimeMs;
  } catch {
    // gone meanwhile
  }
  const info: RunInfo = {
    dir,
    name: basename(dir),
    spec: null,
    specName: null,
    created: folderTime,
    updated: folderTime,
    state: 'empty',
    step: null,
    steps: null,
    metric: null,
    checkpoints: [],
    hasWeights: existsSync(join(dir, WEIGHTS_FILE)),
    commands: [],
  };
  let text = '';
  try {
    text = readFileSync(events, 'utf8');
    info.updated = statSync(events).mtimeMs;
  } catch {
    // no events yet
  }
  let first = true;
  /** The command whose process wrote the last start event (a done event ends it). */
  let current: EngineCommand | null = null;
  let sawDone = false;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = parseEngineEventLine(line);
    if (!r.ok) continue;
    const e = r.event;
    if (first) {
      const t = Date.parse(e.time);
      if (Number.isFinite(t)) info.created = t;
      first = false;
    }
    switch (e.type) {
      case 'start':
        current = e.command;
        if (!info.commands.includes(e.command)) info.commands.push(e.command);
        if (e.command === 'train') {
          if (info.spec === null) info.spec = e.spec;
          info.specName = e.name;
          info.steps = e.steps;
          info.step = e.step;
          info.state = 'unfinished';
        } else if (info.spec === null && e.spec) {
          info.spec = e.spec;
          info.specName = e.name;
        }
        break;
      case 'progress':
        info.step = e.step;
        info.steps = e.steps;
        break;
      case 'metric':
        info.metric = { metric: e.metric, value: e.value, step: e.step };
        break;
      case 'done':
        sawDone = true;
        if (current === 'train') {
          info.state = e.reason === 'stopped' ? 'stopped' : e.reason === 'failed' ? 'failed' : 'completed';
          if (e.step !== null) info.step = e.step;
        }
        current = null;
        break;
    }
  }
  // A process that failed before its start event leaves only error and done events.
  if (info.state === 'empty' && sawDone && !info.commands.length) info.state = 'failed';
  const recorded = lastRecordedMetric(metrics);
  if (recorded) info.metric = recorded;
  try {
    info.checkpoints = readdirSync(checkpointsDir)
      .filter((f) => /^step-\d+\.dsodckpt$/.test(f))
      .sort()
      .map((f) => join(checkpointsDir, f));
  } catch {
    // none
  }
  if (info.spec !== null && !isAbsolute(info.spec)) info.spec = null;
  cache.set(dir, { key, info });
  return info;
}

function lastRecordedMetric(path: string): RunMetric | null {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as { evaluations?: { metric?: unknown; value?: unknown; step?: unknown }[] };
    const list = Array.isArray(m.evaluations) ? m.evaluations : [];
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i];
      if (typeof e?.value === 'number' && (e.metric === 'voc07' || e.metric === 'voc' || e.metric === 'coco')) {
        return { metric: e.metric, value: e.value, step: typeof e.step === 'number' ? e.step : null };
      }
    }
  } catch {
    // no metrics.json, or a partial one
  }
  return null;
}

/** Every run folder directly under `root`, newest first. */
export function listRuns(root: string): RunInfo[] {
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
  return names
    .map((n) => join(root, n))
    .filter(isRunDir)
    .map(readRun)
    .sort((a, b) => b.created - a.created || b.name.localeCompare(a.name));
}

const samePath = (a: string, b: string) => (process.platform === 'win32' ? resolve(a).toLowerCase() === resolve(b).toLowerCase() : resolve(a) === resolve(b));

/** The runs of one spec file, newest first: those trained from it, and folders named after it whose spec is unknown. */
export function runsOfSpec(root: string, specPath: string): RunInfo[] {
  const named = new RegExp(`^${specStem(specPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}-\\d{6}(-\\d+)?$`);
  return listRuns(root).filter((r) => (r.spec !== null ? samePath(r.spec, specPath) : named.test(r.name)));
}

/** "mAP" for the VOC metrics, "AP" for COCO's AP@[.5:.95]. */
export function metricLabel(m: MetricName): string {
  return m === 'coco' ? 'AP' : 'mAP';
}

/** The spec a run trained: the original file when it still exists, else the copy in the run folder. */
export function specOfRun(run: RunInfo): string | null {
  if (run.spec && existsSync(run.spec)) return run.spec;
  const copy = join(run.dir, RUN_SPEC_FILE);
  return existsSync(copy) ? copy : null;
}

/** The best weights to evaluate or run: weights.dsodw, else the last checkpoint. */
export function weightsOfRun(run: RunInfo): string | null {
  if (run.hasWeights) return join(run.dir, WEIGHTS_FILE);
  return run.checkpoints.length ? run.checkpoints[run.checkpoints.length - 1] : null;
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
    throw new Error(`cannot read ${specPath}: ${(e as Error).message}`);
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
