// A run folder read into what the dashboard shows (protocol/dashboard.ts RunSnapshot): events.jsonl, metrics.json,
// pr-curves.json, inference/detections.json with its images as data: URLs, the checkpoint files, the spec as trained.
// Shared by the VS Code dashboard (client/dashboardPanel.ts) and `dsod report` (engine/report/report.ts); node's fs
// only (no tfjs, no vscode). Everything is checked here with the protocol's own checkers, so a damaged file costs its
// own part of the picture and never the whole snapshot: the page would refuse a message with one bad value in it.
import { promises as fsp, type Stats } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { validateEngineEvent, type EngineCommand, type EngineEvent, type EngineName, type MetricName } from '../../protocol/engine-events';
import {
  DASHBOARD_LIMITS,
  gallery as galleryCheck,
  metricRecord,
  prCurves,
  type CheckpointFile,
  type GalleryData,
  type GalleryImage,
  type MetricRecordData,
  type PrCurvesData,
  type RunArtifacts,
  type RunSnapshot,
  type RunSummary,
} from '../../protocol/dashboard';
import { isObject } from '../../protocol/checks';
import { RunModel, type Liveness, type RunState } from '../../webview/dashboard/model';
import { checkpointOfName, RUN_FILES } from '../../protocol/run-files';
import { readFileChecked } from '../data/files';
import { trainingHolder } from '../train/run-lock';

/** events.jsonl of a 100,000-step run is ~40 MB; far larger is not a run's log. */
const MAX_EVENTS_BYTES = 1024 * 1024 * 1024;

export const INFERENCE_RECORD = RUN_FILES.inferenceRecord;

export interface GalleryLimits {
  /** Images sent with their pixels (the rest are listed with their boxes only). */
  maxImages: number;
  /** Largest image file sent. */
  maxBytes: number;
  /** All image files together. */
  maxTotalBytes: number;
}

export const DEFAULT_GALLERY_LIMITS: GalleryLimits = { maxImages: 60, maxBytes: 2 * 1024 * 1024, maxTotalBytes: 24 * 1024 * 1024 };

export interface ReadOptions {
  gallery?: GalleryLimits | false;
  /** Progress events kept in a snapshot (evenly thinned beyond; every other event is kept). */
  maxProgress?: number;
}

export const DEFAULT_MAX_PROGRESS = 20_000;

// --- events.jsonl -------------------------------------------------------------------------------------------------------

export interface ParsedEvents {
  events: EngineEvent[];
  /** Lines that were not valid events (and were not the partial last line). */
  skipped: number;
  /** The first problem, for a log. */
  firstProblem: string | null;
}

/** Parse complete lines (the caller keeps a partial last line for later). Blank lines are ignored. */
export function parseEventLines(lines: readonly string[]): ParsedEvents {
  const events: EngineEvent[] = [];
  let skipped = 0;
  let firstProblem: string | null = null;
  for (const line of lines) {
    const t = line.trim();
    if (!t) continue;
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch (e) {
      skipped++;
      firstProblem ??= `not JSON: ${(e as Error).message}`;
      continue;
    }
    const r = validateEngineEvent(value);
    if (r.ok) events.push(r.event);
    else {
      skipped++;
      firstProblem ??= r.error;
    }
  }
  return { events, skipped, firstProblem };
}

/** The complete lines of a buffer read from offset 0, and the byte length they end at (after their last newline). */
export function completeLines(buf: Buffer): { lines: string[]; bytes: number } {
  const end = buf.lastIndexOf(0x0a);
  if (end < 0) return { lines: [], bytes: 0 };
  return { lines: buf.subarray(0, end).toString('utf8').split('\n'), bytes: end + 1 };
}

/**
 * Keep at most `max` progress events: every k-th, and always the last one before any other event (so a resume's
 * purge, a checkpoint or an evaluation still meets the step it followed). Other events are all kept.
 */
export function thinProgress(events: readonly EngineEvent[], max: number): { events: EngineEvent[]; thinned: number } {
  const n = events.reduce((s, e) => s + (e.type === 'progress' ? 1 : 0), 0);
  if (n <= max) return { events: [...events], thinned: 0 };
  const k = Math.ceil(n / Math.max(1, max - 1));
  const out: EngineEvent[] = [];
  let i = 0;
  for (let j = 0; j < events.length; j++) {
    const e = events[j];
    if (e.type !== 'progress') {
      out.push(e);
      continue;
    }
    const next = events[j + 1];
    if (i % k === 0 || !next || next.type !== 'progress') out.push(e);
    i++;
  }
  return { events: out, thinned: events.length - out.length };
}

async function readEvents(runDir: string, maxProgress: number): Promise<{ events: EngineEvent[]; skipped: number; thinned: number; bytes: number }> {
  let buf: Buffer;
  try {
    // Checked: a run folder is anyone's files, and events.jsonl linked to a device or a FIFO must not hang a reader.
    buf = readFileChecked(join(runDir, RUN_FILES.events), MAX_EVENTS_BYTES, 'event log');
  } catch {
    return { events: [], skipped: 0, thinned: 0, bytes: 0 };
  }
  const { lines, bytes } = completeLines(buf);
  const parsed = parseEventLines(lines);
  const thin = thinProgress(parsed.events, maxProgress);
  return { events: thin.events, skipped: parsed.skipped, thinned: thin.thinned, bytes };
}

// --- the other files ----------------------------------------------------------------------------------------------------

async function readJson(path: string, maxBytes = 64 * 1024 * 1024): Promise<unknown> {
  try {
    const st = await fsp.stat(path);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return JSON.parse(await fsp.readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** metrics.json's evaluations that pass the protocol's check (a bad record is left out, not the file). */
export async function readMetricRecords(runDir: string): Promise<MetricRecordData[]> {
  const doc = await readJson(join(runDir, RUN_FILES.metrics));
  const list = isObject(doc) && Array.isArray(doc.evaluations) ? doc.evaluations : [];
  return list.filter((r): r is MetricRecordData => metricRecord(r, 'record') === null);
}

export async function readPrCurves(runDir: string): Promise<PrCurvesData | null> {
  const doc = await readJson(join(runDir, RUN_FILES.curves));
  return doc !== undefined && prCurves(doc, 'curves') === null ? (doc as PrCurvesData) : null;
}

/** The checkpoint files of both engines (protocol/run-files.ts CHECKPOINT_KINDS), oldest first. */
export async function listCheckpointFiles(runDir: string): Promise<CheckpointFile[]> {
  const dir = join(runDir, RUN_FILES.checkpoints);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const out: CheckpointFile[] = [];
  for (const n of names) {
    const c = checkpointOfName(n);
    if (!c) continue;
    try {
      const st = await fsp.stat(join(dir, n));
      if (st.isFile()) out.push({ path: join(dir, n), step: c.step, engine: c.engine, bytes: st.size });
    } catch {
      // removed meanwhile (the trainer keeps the last few)
    }
  }
  return out.sort((a, b) => a.step - b.step);
}

const exists = (p: string) =>
  fsp.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

// --- the gallery ----------------------------------------------------------------------------------------------------------

/** The image type from its first bytes (never from its name): only what a browser draws in an <img>. */
export function sniffImage(head: Uint8Array): 'png' | 'jpeg' | 'gif' | 'webp' | null {
  const b = head;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif';
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return 'webp';
  return null;
}

const IMAGE_NAME = /\.(jpe?g|png|gif|webp)$/i;
const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const boxOf = (x: unknown): [number, number, number, number] | null =>
  Array.isArray(x) && x.length === 4 && x.every(num) ? (x as [number, number, number, number]) : null;
const clampScore = (x: number) => Math.min(1, Math.max(0, x));

/**
 * Where a relative image path of the record is: beside the record, in the run folder, or above it (a workspace that
 * keeps runs/ and data/ side by side), else from the current folder (the CLI).
 */
function imageCandidates(image: string, runDir: string, recordDir: string): string[] {
  if (isAbsolute(image)) return [image];
  return [recordDir, runDir, dirname(runDir), dirname(dirname(runDir)), process.cwd()].map((d) => resolve(d, image));
}

/**
 * inference/detections.json with its images. Only the files the record names are read, only when their bytes are a
 * PNG, JPEG, GIF or WebP image, and within the limits; every other image is listed with a note instead of its pixels.
 */
/** What identifies a version of the inference record (null: there is none). */
export async function galleryStamp(runDir: string): Promise<string | null> {
  try {
    const st = await fsp.stat(join(runDir, INFERENCE_RECORD));
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return null;
  }
}

export async function readGallery(runDir: string, limits: GalleryLimits = DEFAULT_GALLERY_LIMITS): Promise<GalleryData | null> {
  const recordPath = join(runDir, INFERENCE_RECORD);
  const stamp = await galleryStamp(runDir);
  const doc = await readJson(recordPath);
  if (!isObject(doc) || !Array.isArray(doc.images)) return null;
  const records = doc.images.filter(isObject);
  const images: GalleryImage[] = [];
  let sent = 0;
  let totalBytes = 0;
  const L = DASHBOARD_LIMITS;
  for (const r of records.slice(0, L.galleryImages)) {
    if (typeof r.image !== 'string' || r.image.length > L.pathChars) continue;
    const detections = (Array.isArray(r.detections) ? r.detections : [])
      .filter(isObject)
      .map((d) => ({ label: d.label, name: d.name, score: d.score, box: boxOf(d.box) }))
      .filter(
        (d): d is GalleryImage['detections'][number] =>
          Number.isSafeInteger(d.label) && (d.label as number) >= 0 && typeof d.name === 'string' && num(d.score) && d.box !== null,
      )
      .map((d) => ({ ...d, name: d.name.slice(0, 200), score: clampScore(d.score) }))
      .slice(0, L.boxesPerImage);
    const truth = Array.isArray(r.truth)
      ? r.truth
          .filter(isObject)
          .map((t) => ({ name: typeof t.name === 'string' ? t.name.slice(0, 200) : '?', box: boxOf(t.box), difficult: t.difficult === true }))
          .filter((t): t is { name: string; box: [number, number, number, number]; difficult: boolean } => t.box !== null)
          .slice(0, L.boxesPerImage)
      : null;
    const width = Number.isSafeInteger(r.width) && (r.width as number) > 0 ? (r.width as number) : 0;
    const height = Number.isSafeInteger(r.height) && (r.height as number) > 0 ? (r.height as number) : 0;
    const img: GalleryImage = { path: r.image, width, height, src: null, note: null, detections, truth };
    images.push(img);
    if (sent >= limits.maxImages) {
      img.note = `not shown: the gallery holds ${limits.maxImages} images`;
      continue;
    }
    if (!IMAGE_NAME.test(r.image)) {
      img.note = `not shown: ${extname(r.image) || 'no extension'} is not an image type a browser shows`;
      continue;
    }
    const loaded = await loadImage(imageCandidates(r.image, runDir, dirname(recordPath)), limits, limits.maxTotalBytes - totalBytes);
    if (typeof loaded === 'string') {
      img.note = loaded;
      continue;
    }
    img.src = loaded.src;
    totalBytes += loaded.bytes;
    sent++;
  }
  const g: GalleryData = {
    stamp: stamp ?? '',
    weights: typeof doc.weights === 'string' ? doc.weights.slice(0, L.pathChars) : null,
    threshold: num(doc.threshold) ? clampScore(doc.threshold) : 0,
    total: records.length,
    images,
  };
  // The page refuses anything the protocol does not allow; a gallery it would refuse is better not sent at all.
  return galleryCheck(g, 'gallery') === null ? g : null;
}

async function loadImage(candidates: string[], limits: GalleryLimits, budget: number): Promise<{ src: string; bytes: number } | string> {
  for (const path of candidates) {
    let st: Stats;
    try {
      st = await fsp.stat(path);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    if (st.size > limits.maxBytes)
      return `not shown: ${(st.size / 1048576).toFixed(1)} MiB is over the ${(limits.maxBytes / 1048576).toFixed(1)} MiB limit per image`;
    if (st.size > budget) return `not shown: the gallery's ${(limits.maxTotalBytes / 1048576).toFixed(0)} MiB are used`;
    const data = await fsp.readFile(path);
    const type = sniffImage(data.subarray(0, 16));
    if (!type) return 'not shown: the file is not a PNG, JPEG, GIF or WebP image';
    return { src: `data:image/${type};base64,${data.toString('base64')}`, bytes: data.length };
  }
  return 'not shown: the image file is not there any more';
}

// --- the whole folder ---------------------------------------------------------------------------------------------------

/**
 * The files besides events.jsonl. `previous`: the gallery read last time, reused (images not read again) while the
 * inference record is unchanged.
 */
export async function readArtifacts(runDir: string, o: ReadOptions = {}, previous: GalleryData | null = null): Promise<RunArtifacts> {
  const readG = async () => {
    if (o.gallery === false) return null;
    if (previous && previous.stamp === (await galleryStamp(runDir))) return previous;
    return readGallery(runDir, o.gallery ?? DEFAULT_GALLERY_LIMITS);
  };
  const [metrics, curves, gallery, checkpoints, weights] = await Promise.all([
    readMetricRecords(runDir),
    readPrCurves(runDir),
    readG(),
    listCheckpointFiles(runDir),
    exists(join(runDir, RUN_FILES.weights)),
  ]);
  return { metrics, curves, gallery, checkpoints, weights, training: trainingHolder(runDir) !== null };
}

async function readSpec(runDir: string): Promise<string | null> {
  try {
    const text = readFileChecked(join(runDir, RUN_FILES.spec), 4 * DASHBOARD_LIMITS.specChars, 'spec copy').toString('utf8');
    return text.length <= DASHBOARD_LIMITS.specChars ? text : text.slice(0, DASHBOARD_LIMITS.specChars);
  } catch {
    return null;
  }
}

/** The run's name: its spec's (from the first start event, else the spec's `name:`), else the folder's. */
export function runName(runDir: string, events: readonly EngineEvent[], spec: string | null): string {
  const start = events.find((e) => e.type === 'start');
  if (start?.type === 'start' && start.name) return start.name;
  const m = spec ? /^name:\s*(.+?)\s*$/m.exec(spec) : null;
  if (m) return m[1].replace(/^(['"])(.*)\1$/, '$2');
  return basename(runDir);
}

/**
 * Whether a folder is a run folder: it has events, the spec as trained, weights or a checkpoints folder (a run that
 * is starting has some of them before its first event).
 */
export async function isRunFolder(dir: string): Promise<boolean> {
  const [events, spec, weights, checkpoints] = await Promise.all([
    exists(join(dir, RUN_FILES.events)),
    exists(join(dir, RUN_FILES.spec)),
    exists(join(dir, RUN_FILES.weights)),
    fsp.stat(join(dir, RUN_FILES.checkpoints)).then(
      (s) => s.isDirectory(),
      () => false,
    ),
  ]);
  return events || spec || weights || checkpoints;
}

/** A run folder that has nothing yet (a run that is starting): the follower fills it in. */
export function emptySnapshot(runDir: string): RunSnapshot {
  const dir = resolve(runDir);
  return {
    runDir: dir,
    name: basename(dir),
    spec: null,
    events: [],
    skipped: 0,
    thinned: 0,
    eventsBytes: 0,
    metrics: [],
    curves: null,
    gallery: null,
    checkpoints: [],
    weights: false,
    training: false,
    readAt: new Date().toISOString(),
  };
}

/** Read a run folder into a snapshot. Throws only when `runDir` is not a run folder. */
export async function readRunSnapshot(runDir: string, o: ReadOptions = {}): Promise<RunSnapshot> {
  const dir = resolve(runDir);
  if (!(await isRunFolder(dir)))
    throw new Error(`${dir} is not a run folder (no ${RUN_FILES.events}, ${RUN_FILES.spec}, ${RUN_FILES.weights} or ${RUN_FILES.checkpoints}/)`);
  const [ev, spec, artifacts] = await Promise.all([readEvents(dir, o.maxProgress ?? DEFAULT_MAX_PROGRESS), readSpec(dir), readArtifacts(dir, o)]);
  return {
    runDir: dir,
    name: runName(dir, ev.events, spec).slice(0, 1000),
    spec,
    events: ev.events,
    skipped: ev.skipped,
    thinned: ev.thinned,
    eventsBytes: ev.bytes,
    ...artifacts,
    readAt: new Date().toISOString(),
  };
}

// --- the run root -------------------------------------------------------------------------------------------------------

/**
 * A run folder as the run lists (the dashboard's, the code lens, the run quick picks) see it. Its state, step, steps,
 * latest evaluation, spec and processes are the dashboard's fold of its events (RunModel): the one reading of a run's
 * state, with the lock (engine/train/run-lock.ts) saying whether a training that never said `done` still runs.
 */
export interface RunStatus {
  runDir: string;
  /** The run's name: its spec's (runName), else the folder's. */
  name: string;
  /** The spec file the run was made from (its first train start's, else its first start's), when absolute. */
  spec: string | null;
  /** Last progress step, and the schedule's steps. */
  step: number | null;
  steps: number | null;
  /** The latest evaluation (events, else metrics.json). */
  metric: { metric: MetricName; value: number; step: number | null } | null;
  /** RunModel.shownState for a reader that follows nothing: a training without `done` whose lock holder is gone is interrupted. */
  state: RunState;
  /** The commands that worked on the run (train, eval, infer), in order of first use. */
  commands: EngineCommand[];
  /** ISO time of its first event (else of the folder), and of the last change of events.jsonl (else of the folder). */
  created: string;
  modified: string;
  /** Checkpoint files, oldest first, and whether weights.dsodw is there. */
  checkpoints: CheckpointFile[];
  weights: boolean;
  /**
   * The engine that trains the run, what resuming it must use: the engine of its last checkpoint (the file the resume
   * reads), else its last training's doctor (`engine`, absent: tfjs), else null (it never trained).
   */
  engine: EngineName | null;
}

/** What a run list needs of the events: folded once per version of events.jsonl and metrics.json, and per liveness. */
type RunFold = Omit<RunStatus, 'checkpoints' | 'weights' | 'engine'> & {
  /** The engine its last training's doctor named. */
  trainedBy: EngineName | null;
};

const SUMMARY_MAX_PROGRESS = 2000;
const MAX_CACHED_FOLDS = 2000;
const folds = new Map<string, { key: string; fold: RunFold }>();

const statOf = (path: string): Promise<Stats | null> => fsp.stat(path).catch(() => null);
const stamp = (st: Stats | null): string => (st ? `${st.size}:${st.mtimeMs}` : '-');

/**
 * The run's events folded by RunModel. Cached by the size and time of events.jsonl and metrics.json and by whether a
 * live process holds the lock (its death changes no file), so a list read every few seconds (the code lens) reads
 * only the runs that changed.
 */
async function foldRunFolder(dir: string): Promise<RunFold> {
  const [eventsStat, metricsStat] = await Promise.all([statOf(join(dir, RUN_FILES.events)), statOf(join(dir, RUN_FILES.metrics))]);
  const live: Liveness = { training: trainingHolder(dir) !== null, following: false };
  const key = `${stamp(eventsStat)}|${stamp(metricsStat)}|${live.training}`;
  const hit = folds.get(dir);
  if (hit && hit.key === key) return hit.fold;

  const ev = await readEvents(dir, SUMMARY_MAX_PROGRESS);
  const model = new RunModel(dir, runName(dir, ev.events, null));
  model.addAll(ev.events);
  if (!model.evaluations.length) model.setMetricRecords(await readMetricRecords(dir));
  const latest = model.latestEvaluation;
  const starts = model.processes.flatMap((p) => (p.start ? [p.start] : []));
  const spec = (starts.find((s) => s.command === 'train') ?? starts.find((s) => s.spec))?.spec ?? null;
  const trainDoctor = model.trainProcess?.doctor ?? null;
  const folderTime = eventsStat?.mtime ?? (await statOf(dir))?.mtime ?? new Date();
  const first = ev.events.length ? Date.parse(ev.events[0].time) : NaN;
  const fold: RunFold = {
    runDir: dir,
    name: model.name.slice(0, 1000),
    spec: spec && isAbsolute(spec) ? spec : null,
    step: model.step,
    steps: model.steps,
    metric: latest ? { metric: latest.metric, value: latest.value, step: latest.step } : null,
    state: model.shownState(live),
    commands: [...new Set(model.processes.flatMap((p) => (p.command ? [p.command] : [])))],
    created: (Number.isFinite(first) ? new Date(first) : folderTime).toISOString(),
    modified: folderTime.toISOString(),
    trainedBy: trainDoctor ? (trainDoctor.engine ?? 'tfjs') : null,
  };
  if (folds.size >= MAX_CACHED_FOLDS) folds.clear();
  folds.set(dir, { key, fold });
  return fold;
}

/** A run folder's status (null: not a run folder). */
export async function readRunStatus(runDir: string): Promise<RunStatus | null> {
  const dir = resolve(runDir);
  if (!(await isRunFolder(dir))) return null;
  const [{ trainedBy, ...fold }, checkpoints, weights] = await Promise.all([
    foldRunFolder(dir),
    listCheckpointFiles(dir),
    exists(join(dir, RUN_FILES.weights)),
  ]);
  return { ...fold, checkpoints, weights, engine: checkpoints.at(-1)?.engine ?? trainedBy };
}

/** `read` of every folder directly under `root` (its hidden ones aside), where it says it is a run folder. */
async function underRoot<T>(root: string, read: (dir: string) => Promise<T | null>): Promise<T[]> {
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch {
    return [];
  }
  const found = await Promise.all(names.filter((n) => !n.startsWith('.')).map((n) => read(join(root, n)).catch(() => null)));
  return found.filter((r): r is Awaited<T> => r !== null);
}

/** Every run folder directly under `root`, in no particular order. */
export function listRunStatuses(root: string): Promise<RunStatus[]> {
  return underRoot(root, readRunStatus);
}

/** One run's line in the dashboard's list (the protocol's RunSummary of its status). */
export async function summarizeRun(runDir: string): Promise<RunSummary | null> {
  const dir = resolve(runDir);
  if (!(await isRunFolder(dir))) return null;
  return toSummary(await foldRunFolder(dir));
}

function toSummary(s: RunFold): RunSummary {
  return {
    runDir: s.runDir,
    name: s.name,
    step: s.step,
    steps: s.steps,
    metric: s.metric ? { metric: s.metric.metric, value: s.metric.value } : null,
    state: s.state,
    modified: s.modified,
  };
}

/** The run folders directly under `root`, the last changed first. */
export async function listRuns(root: string, max = 200): Promise<RunSummary[]> {
  return (await underRoot(root, summarizeRun)).sort((a, b) => b.modified.localeCompare(a.modified)).slice(0, max);
}
