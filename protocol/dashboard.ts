// The messages between the extension host (client/dashboardPanel.ts) and the run dashboard page (webview/dashboard/),
// one discriminated union per direction, and a validator for each. Both sides check every incoming message before use:
// the page is a web page, and what the host sends is read from files a training process (or anyone) wrote. The same
// page also runs outside VS Code as report.html (`dsod report`), where the host's messages are embedded in the file
// and pass through the same validator. Engine events are checked field by field by protocol/engine-events.ts.
//
// No runtime imports but the checkers and the event validator (which imports only the checkers): the browser bundle uses this file.
import { validateEngineEvent, type EngineEvent, type EngineName, type MetricName } from './engine-events';
import {
  all,
  arrayOf,
  bool,
  count,
  finite,
  literal,
  messageChecks,
  nonNegative,
  nullable,
  oneOf,
  optional,
  recordOf,
  shapeOf,
  str,
  tuple,
  validateMessage,
  type Check,
  type Fields,
  type Validation,
} from './checks';

export const DASHBOARD_PROTOCOL_VERSION = 1;

/** The element of report.html that holds the host's messages (type application/json: data, never executed). */
export const REPORT_DATA_ID = 'dsod-report-data';

/** Bounds: large enough for a long run of a big model, small enough to refuse junk. */
export const DASHBOARD_LIMITS = {
  /** Events in one message (a snapshot thins progress events to stay far below this). */
  events: 1_000_000,
  pathChars: 4096,
  textChars: 16 * 1024,
  specChars: 256 * 1024,
  classes: 10_000,
  curvePoints: 100_000,
  galleryImages: 500,
  boxesPerImage: 10_000,
  /** One image as a data: URL. */
  imageChars: 8 * 1024 * 1024,
  runs: 10_000,
  checkpoints: 100_000,
} as const;

// --- the data -------------------------------------------------------------------------------------------------------

import type { MetricRecordData, PrCurveData, PrCurvesData } from './run-files';
export type { MetricRecordData, PrCurveData, PrCurvesData };

export type Box = [number, number, number, number];

export interface PredictedBox {
  label: number;
  name: string;
  score: number;
  /** Corners in the image's pixels. */
  box: Box;
}

export interface TruthBox {
  name: string;
  box: Box;
  difficult: boolean;
}

export interface GalleryImage {
  /** The image's path as the inference record names it. */
  path: string;
  width: number;
  height: number;
  /** The image as a data: URL, or null when it was not sent (missing, not an image, too large, over the count). */
  src: string | null;
  /** Why `src` is null. */
  note: string | null;
  detections: PredictedBox[];
  /** Ground truth of the image, or null when the set has none for it. */
  truth: TruthBox[] | null;
}

/** inference/detections.json of a run, with the images it names. */
export interface GalleryData {
  /** The record's modification time and size: a page redraws the gallery only when this changes. */
  stamp: string;
  weights: string | null;
  /** The lowest score the inference kept. */
  threshold: number;
  /** Images in the record (the gallery may hold fewer). */
  total: number;
  images: GalleryImage[];
}

export interface CheckpointFile {
  path: string;
  step: number;
  /** The engine that wrote it, and the only one that reads it (protocol/run-files.ts CHECKPOINT_KINDS). */
  engine: EngineName;
  bytes: number;
}

/** A run folder's files besides events.jsonl, read again whenever one of them changes. */
export interface RunArtifacts {
  metrics: MetricRecordData[];
  curves: PrCurvesData | null;
  gallery: GalleryData | null;
  /** Checkpoint files that exist now. */
  checkpoints: CheckpointFile[];
  /** weights.dsodw exists. */
  weights: boolean;
  /** A live process held the run's lock when the folder was read (a training without `done` is running, not killed). */
  training: boolean;
}

/** What a run folder holds, read once (engine/report/run-folder.ts). */
export interface RunSnapshot extends RunArtifacts {
  runDir: string;
  /** The run's display name: its spec's name, else the folder's. */
  name: string;
  /** spec.dsod.yaml as trained, or null. */
  spec: string | null;
  /** events.jsonl, every line that validated, in order (progress events may be thinned: `thinned` of them left out). */
  events: EngineEvent[];
  /** Lines of events.jsonl that were not valid events. */
  skipped: number;
  thinned: number;
  /** Bytes of events.jsonl read (the follower continues from there). */
  eventsBytes: number;
  /** ISO time the folder was read. */
  readAt: string;
}

/** A run of the run root, for the list of past runs. */
export interface RunSummary {
  runDir: string;
  name: string;
  /** Last progress step and the schedule's steps. */
  step: number | null;
  steps: number | null;
  /** The latest evaluation. */
  metric: { metric: MetricName; value: number } | null;
  /** webview/dashboard/model.ts RunState: a done reason, 'running', 'interrupted' (no done, and nothing writes it any more) or 'empty'. */
  state: string;
  /** ISO time of the last change of events.jsonl. */
  modified: string;
}

// --- the messages ---------------------------------------------------------------------------------------------------

/** Host -> page. */
export type DashboardHostMessage =
  /** A run read from its folder: `main` replaces what the page shows, `overlay` adds a run to compare on the charts. */
  | { type: 'snapshot'; role: 'main' | 'overlay'; run: RunSnapshot; live: boolean }
  /** Events appended to the main run's events.jsonl since the last message. */
  | { type: 'events'; runDir: string; events: EngineEvent[]; skipped: number }
  /** The run's other files changed (after an evaluation, an inference, a checkpoint): read again. */
  | ({ type: 'artifacts'; runDir: string } & RunArtifacts)
  /** The runs under the run root, newest first. */
  | { type: 'runs'; root: string | null; runs: RunSummary[] }
  /** The host stopped or resumed following the run (`live` false: nothing more will come). */
  | { type: 'live'; runDir: string; live: boolean }
  | { type: 'status'; message: string };

/** Page -> host. */
export type DashboardWebviewMessage =
  /** The handshake: the page is loaded and listening; the host answers with the snapshot and the runs. */
  | { type: 'ready'; protocol: number }
  /** "Resume from this checkpoint": the host runs `dsod.resumeRun` { runDir, checkpoint }. */
  | { type: 'resume'; runDir: string; checkpoint: string }
  /** "Evaluate this checkpoint" (or the run's weights): the host runs `dsod.evaluate` { runDir, weights }. */
  | { type: 'evaluate'; runDir: string; weights: string }
  /** Show another run of the list. */
  | { type: 'open'; runDir: string }
  /** Add a run of the list to the charts (the host answers with a snapshot of role overlay). */
  | { type: 'overlay'; runDir: string }
  /** List the runs again. */
  | { type: 'listRuns' }
  /** A host message was applied and drawn (tests and the benchmark wait for it). */
  | { type: 'rendered'; runDir: string; events: number; step: number | null; ms: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

// --- checkers -------------------------------------------------------------------------------------------------------

const L = DASHBOARD_LIMITS;
const path = str(L.pathChars);
const text = str(L.textChars);
const metricName = oneOf('voc07', 'voc', 'coco');
const iso: Check = (v, at) => (typeof v === 'string' && v.length < 64 && !Number.isNaN(Date.parse(v)) ? null : `${at} must be an ISO time`);
const unit: Check = (v, at) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : `${at} must be a number from 0 to 1`);
const ap = nullable(unit);
const box: Check = tuple(finite, finite, finite, finite);

const event: Check = (v, at) => {
  const r = validateEngineEvent(v);
  return r.ok ? null : `${at}: ${r.error}`;
};

const perClass = arrayOf(shapeOf<MetricRecordData['perClass'][number]>()({ name: text, ap }), L.classes);

export const metricRecord: Check = shapeOf<MetricRecordData>()({
  metric: metricName,
  value: finite,
  extras: recordOf(finite),
  perClass,
  step: nullable(count),
  elapsedSec: nonNegative,
  split: text,
  images: count,
});

/** Recall and precision of equal length, each in 0..1. */
const curve: Check = (v, at) => {
  const e = shapeOf<PrCurveData>()({ recall: arrayOf(unit, L.curvePoints), precision: arrayOf(unit, L.curvePoints), score: arrayOf(finite, L.curvePoints) })(
    v,
    at,
  );
  if (e) return e;
  const c = v as unknown as PrCurveData;
  return c.recall.length === c.precision.length && c.score.length === c.recall.length ? null : `${at}: recall, precision and score must have equal lengths`;
};

type Voc = NonNullable<PrCurvesData['voc']>;
type Coco = NonNullable<PrCurvesData['coco']>;

export const prCurves: Check = (v, at) => {
  const e = shapeOf<PrCurvesData>()({
    version: literal(1),
    voc: optional(
      shapeOf<Voc>()({
        iouThreshold: unit,
        map11: unit,
        mapArea: unit,
        classes: arrayOf(shapeOf<Voc['classes'][number]>()({ label: count, name: text, positives: count, ap11: ap, apArea: ap, curve }), L.classes),
      }),
    ),
    coco: optional(
      shapeOf<Coco>()({
        ap: unit,
        ap50: unit,
        ap75: unit,
        recallThresholds: arrayOf(unit, 1000),
        classes: arrayOf(
          shapeOf<Coco['classes'][number]>()({
            label: count,
            name: text,
            ap,
            at50: nullable(arrayOf(unit, 1000)),
            at75: nullable(arrayOf(unit, 1000)),
            mean: nullable(arrayOf(unit, 1000)),
          }),
          L.classes,
        ),
      }),
    ),
  })(v, at);
  if (e) return e;
  const c = (v as unknown as PrCurvesData).coco;
  if (c) {
    const n = c.recallThresholds.length;
    for (let i = 0; i < c.classes.length; i++) {
      const k = c.classes[i];
      for (const row of [k.at50, k.at75, k.mean])
        if (row && row.length !== n) return `${at}.coco.classes[${i}]: a precision row must have one value per recall threshold`;
    }
  }
  return null;
};

/** Only images, only inline: a page that is handed anything else would load it. */
const IMAGE_DATA_URL = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*={0,2}$/;
export const imageDataUrl: Check = (v, at) =>
  typeof v !== 'string'
    ? `${at} must be a string`
    : v.length > L.imageChars
      ? `${at} is larger than ${L.imageChars} characters`
      : IMAGE_DATA_URL.test(v)
        ? null
        : `${at} must be a base64 data: URL of a PNG, JPEG, GIF or WebP image`;

const galleryImage: Check = shapeOf<GalleryImage>()({
  path,
  width: count,
  height: count,
  src: nullable(imageDataUrl),
  note: nullable(text),
  detections: arrayOf(shapeOf<PredictedBox>()({ label: count, name: text, score: unit, box }), L.boxesPerImage),
  truth: nullable(arrayOf(shapeOf<TruthBox>()({ name: text, box, difficult: bool }), L.boxesPerImage)),
});

export const gallery: Check = shapeOf<GalleryData>()({
  stamp: str(64),
  weights: nullable(path),
  threshold: unit,
  total: count,
  images: arrayOf(galleryImage, L.galleryImages),
});

const checkpointFile: Check = shapeOf<CheckpointFile>()({ path, step: count, engine: oneOf('tfjs', 'torch'), bytes: count });
const checkpoints = arrayOf(checkpointFile, L.checkpoints);

const artifactFields: Fields<RunArtifacts> = {
  metrics: arrayOf(metricRecord, L.checkpoints),
  curves: nullable(prCurves),
  gallery: nullable(gallery),
  checkpoints,
  weights: bool,
  training: bool,
};

const snapshot: Check = shapeOf<RunSnapshot>()({
  runDir: path,
  name: text,
  spec: nullable(str(L.specChars)),
  events: arrayOf(event, L.events),
  skipped: count,
  thinned: count,
  eventsBytes: count,
  ...artifactFields,
  readAt: iso,
});

const runSummary: Check = shapeOf<RunSummary>()({
  runDir: path,
  name: text,
  step: nullable(count),
  steps: nullable(count),
  metric: nullable(shapeOf<NonNullable<RunSummary['metric']>>()({ metric: metricName, value: finite })),
  state: str(64),
  modified: iso,
});

const hostMessages = messageChecks<DashboardHostMessage>({
  snapshot: { role: oneOf('main', 'overlay'), run: snapshot, live: bool },
  events: { runDir: path, events: arrayOf(event, L.events), skipped: count },
  artifacts: { runDir: path, ...artifactFields },
  runs: { root: nullable(path), runs: arrayOf(runSummary, L.runs) },
  live: { runDir: path, live: bool },
  status: { message: text },
});

const webviewMessages = messageChecks<DashboardWebviewMessage>({
  ready: { protocol: count },
  resume: { runDir: path, checkpoint: path },
  evaluate: { runDir: path, weights: path },
  open: { runDir: path },
  overlay: { runDir: path },
  listRuns: {},
  rendered: { runDir: path, events: count, step: nullable(count), ms: all(finite, nonNegative) },
  log: { level: oneOf('info', 'warn', 'error'), message: text },
});

/** Used by the page on everything the host posts (and on the data embedded in report.html). */
export function validateDashboardHostMessage(raw: unknown): Validation<DashboardHostMessage> {
  return validateMessage<DashboardHostMessage>(raw, hostMessages, 'host');
}

/** Used by the host on everything the page posts. */
export function validateDashboardWebviewMessage(raw: unknown): Validation<DashboardWebviewMessage> {
  return validateMessage<DashboardWebviewMessage>(raw, webviewMessages, 'dashboard');
}

export type { Validation };
