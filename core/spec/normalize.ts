// Apply defaults and expand the DS/A-B-k-θ notation. Runs on schema-valid data only: the types below hold.
import type { Finding } from '../diagnostics';
import { parseNotation, type Notation } from './notation';
import type { Backbone, Budget, BudgetTarget, DataSpec, NormalizedSpec, Prediction, Priors, Train } from './types';

/** DSOD300's values: what every left-out setting means (the schema documents the same defaults). */
export const DSOD300_DEFAULTS = {
  size: 300,
  channels: 3,
  classes: 21,
  notation: { firstConv: 64, bottleneck: 192, growthRate: 48, compression: 1 } as Notation,
  blocks: [6, 8, 8, 8],
  lastTransitionChannels: 256,
  scales: 6,
  steps: [8, 16, 32, 64, 100, 300],
  l2normInit: 20,
} as const;

/** Product defaults for budget targets; explicit limits override them. */
export const TARGET_LIMITS: Record<BudgetTarget, { params: number | null; macs: number | null }> = {
  server: { params: null, macs: null },
  desktop: { params: 40e6, macs: 40e9 },
  mobile: { params: 6e6, macs: 3e9 },
  embedded: { params: 1e6, macs: 1.5e9 },
};

// Shapes of schema-valid data, loosely typed: the schema guarantees them.
type Json = Record<string, any>;

export function normalizeSpec(data: Json): { spec: NormalizedSpec; findings: Finding[] } {
  const findings: Finding[] = [];
  const size = data.input?.size ?? DSOD300_DEFAULTS.size;
  const [height, width] = Array.isArray(size) ? size : [size, size];
  const input = { height, width, channels: data.input?.channels ?? DSOD300_DEFAULTS.channels };
  const classes = Array.isArray(data.classes)
    ? { count: data.classes.length + 1, names: ['background', ...data.classes] }
    : { count: data.classes ?? DSOD300_DEFAULTS.classes, names: null };
  const backbone = normalizeBackbone(data.backbone ?? {}, findings);
  const prediction = normalizePrediction(data.prediction ?? {}, backbone, findings);
  const h = data.heads ?? {};
  const heads = { kernel: h.kernel ?? 3, batchNorm: h.batch_norm ?? true, bnEps: h.bn_eps ?? 0.001 };
  const priors = normalizePriors(data.priors ?? {}, prediction.scales, height, width);
  return {
    spec: {
      name: data.name ?? 'DSOD',
      input,
      classes,
      backbone,
      prediction,
      heads,
      priors,
      train: normalizeTrain(data.train ?? {}),
      data: data.data ? normalizeData(data.data) : null,
      budget: data.budget ? normalizeBudget(data.budget) : null,
      hints: { ignore: [...(data.hints?.ignore ?? [])] },
    },
    findings,
  };
}

function normalizeBackbone(b: Json, findings: Finding[]): Backbone {
  let notation: Notation | null = null;
  if (b.notation !== undefined) {
    const parsed = parseNotation(b.notation);
    if ('error' in parsed) {
      findings.push({ code: 'notation/invalid', message: parsed.error, path: ['backbone', 'notation'] });
    } else {
      notation = parsed;
    }
  }
  const stemConvs: number[] | undefined = typeof b.stem === 'object' ? b.stem.convs : undefined;

  // Each of A, B, k, θ: explicit value, else the notation, else the stem's first conv (A only), else DSOD300's.
  const pick = (key: keyof Notation, prop: string, implied?: { value: number; path: (string | number)[] }): number => {
    const explicit: number | undefined = b[prop];
    const fromNotation = notation?.[key];
    if (explicit !== undefined && fromNotation !== undefined && explicit !== fromNotation) {
      findings.push({
        code: 'notation/conflict',
        message: `backbone.${prop} is ${explicit} but the notation ${b.notation} says ${symbol[key]} = ${fromNotation}.`,
        path: ['backbone', prop],
      });
    }
    const value = explicit ?? fromNotation;
    if (implied && value !== undefined && implied.value !== value) {
      findings.push({
        code: 'notation/conflict',
        message: `The stem's first conv has ${implied.value} channels but ${explicit !== undefined ? 'backbone.first_conv' : `the notation ${b.notation}`} says A = ${value}.`,
        path: implied.path,
      });
    }
    return value ?? implied?.value ?? DSOD300_DEFAULTS.notation[key];
  };
  const firstConv = pick('firstConv', 'first_conv', stemConvs ? { value: stemConvs[0], path: ['backbone', 'stem', 'convs', 0] } : undefined);
  const bottleneck = pick('bottleneck', 'bottleneck');
  const growthRate = pick('growthRate', 'growth_rate');
  const compression = pick('compression', 'compression');

  const stem: Backbone['stem'] =
    b.stem === false
      ? { kind: 'densenet', channels: firstConv }
      : { kind: 'stem', convs: stemConvs ?? [firstConv, firstConv, 2 * firstConv], pool: (b.stem?.pool ?? 'max') === 'max' };

  const blocks = (b.blocks ?? DSOD300_DEFAULTS.blocks).map((block: number | Json) =>
    typeof block === 'number'
      ? { layers: block, growthRate, bottleneck }
      : { layers: block.layers, growthRate: block.growth_rate ?? growthRate, bottleneck: block.bottleneck ?? bottleneck },
  );

  const transitions = (b.transitions ?? defaultTransitions(blocks.length)).map((t: string | Json) =>
    typeof t === 'string'
      ? { pool: t === 'pool', channels: null, compression }
      : { pool: t.pool ?? true, channels: t.channels ?? null, compression: t.compression ?? compression },
  );
  return { firstConv, stem, blocks, transitions };
}

const symbol: Record<keyof Notation, string> = { firstConv: 'A', bottleneck: 'B', growthRate: 'k', compression: 'θ' };

/** DSOD300's pattern for any number of blocks: pool after the first two, no pooling after the rest, 256 at the end. */
export function defaultTransitions(blocks: number): (string | Json)[] {
  return Array.from({ length: blocks }, (_, i) =>
    i === blocks - 1 ? { pool: false, channels: DSOD300_DEFAULTS.lastTransitionChannels } : i < 2 ? 'pool' : 'no-pool',
  );
}

function normalizePrediction(p: Json, backbone: Backbone, findings: Finding[]): Prediction {
  const written: number[] | undefined = p.channels;
  const scales: number = p.scales ?? written?.length ?? DSOD300_DEFAULTS.scales;
  if (p.scales !== undefined && written && written.length !== p.scales) {
    findings.push({
      code: 'prediction/channels-length',
      message: `prediction.channels lists ${written.length} scales but prediction.scales is ${p.scales}.`,
      path: ['prediction', 'channels'],
    });
  }
  const channels = Array.from({ length: scales }, (_, i) => written?.[i] ?? null);
  const last = backbone.transitions.length - 1;
  let first = -1;
  if (p.first !== undefined) {
    first = p.first - 1;
    if (first > last) {
      findings.push({
        code: 'prediction/first',
        message: `prediction.first is transition ${p.first} but the backbone has ${backbone.transitions.length} transitions.`,
        path: ['prediction', 'first'],
      });
      first = -1;
    }
  } else {
    for (let i = 0; i < last; i++) if (backbone.transitions[i].pool) first = i;
    if (first < 0) {
      findings.push({
        code: 'prediction/first',
        message: 'Scale 1 ("First") is the output of a pooling transition before the last one, and this backbone has none: add one, or set prediction.first.',
        path: ['backbone', 'transitions'],
      });
    }
  }
  const l2 = p.l2norm ?? true;
  const l2norm =
    l2 === false
      ? null
      : { init: l2 === true ? DSOD300_DEFAULTS.l2normInit : (l2.init ?? DSOD300_DEFAULTS.l2normInit), scales: l2 === true ? 'all' : (l2.scales ?? 'all') };
  return { structure: p.structure ?? 'dense', scales, channels, first, l2norm };
}

function normalizePriors(p: Json, scales: number, height: number, width: number): Priors {
  const generated = ssdSizes(scales, Math.min(height, width), p.min_ratio ?? 20, p.max_ratio ?? 90);
  // DSOD300's steps are written out in its config (100 and 300 follow no formula); elsewhere Caffe's default applies.
  const dsod300 = height === DSOD300_DEFAULTS.size && width === DSOD300_DEFAULTS.size && scales === DSOD300_DEFAULTS.steps.length;
  return {
    minSizes: p.min_sizes ?? generated.min,
    maxSizes: p.max_sizes ?? generated.max,
    aspectRatios: p.aspect_ratios ?? Array.from({ length: scales }, (_, i) => (i === 0 || i >= scales - 2 ? [2] : [2, 3])),
    flip: p.flip ?? true,
    clip: p.clip ?? false,
    steps: p.steps ?? (dsod300 ? [...DSOD300_DEFAULTS.steps] : Array.from({ length: scales }, () => null)),
    offset: p.offset ?? 0.5,
    variances: p.variances ?? [0.1, 0.1, 0.2, 0.2],
  };
}

/**
 * SSD's rule (ssd_pascal.py): scales 2..n get min sizes from min_ratio% to max_ratio% of the input in equal integer
 * steps, each max size being the next min; scale 1 gets min_ratio/2 % and min_ratio %. For 300 it gives DSOD300's lists.
 */
export function ssdSizes(scales: number, minDim: number, minRatio: number, maxRatio: number): { min: number[]; max: number[] } {
  const min: number[] = [(minDim * minRatio) / 2 / 100];
  const max: number[] = [(minDim * minRatio) / 100];
  const step = scales > 2 ? Math.floor((maxRatio - minRatio) / (scales - 2)) : maxRatio - minRatio;
  for (let i = 0; i < scales - 1; i++) {
    const ratio = minRatio + i * step;
    min.push((minDim * ratio) / 100);
    max.push((minDim * (ratio + step)) / 100);
  }
  return { min, max };
}

function normalizeTrain(t: Json): Train {
  return {
    batch: t.batch ?? 128,
    accumulate: t.accumulate ?? 1,
    lr: t.lr ?? 0.1,
    momentum: t.momentum ?? 0.9,
    weightDecay: t.weight_decay ?? 0.0005,
    milestones: t.milestones ?? [20000, 40000, 60000, 80000],
    gamma: t.gamma ?? 0.1,
    warmup: t.warmup ?? 0,
    iterations: t.iterations ?? 100000,
    checkpointEvery: t.checkpoint_every ?? 1000,
    augment: t.augment ?? 'ssd',
    seed: t.seed ?? 0,
    syncBn: t.sync_bn ?? false,
  };
}

function normalizeData(d: Json): DataSpec {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { format: d.format ?? 'voc', root: d.root ?? null, train: list(d.train), test: list(d.test) };
}

function normalizeBudget(b: Json): Budget {
  const preset = b.target ? TARGET_LIMITS[b.target as BudgetTarget] : { params: null, macs: null };
  return {
    target: b.target ?? null,
    params: b.params !== undefined ? parseQuantity(b.params) : preset.params,
    count: b.count ?? 'learned',
    macs: b.macs !== undefined ? parseQuantity(b.macs) : preset.macs,
    activationBytes: b.activation_memory !== undefined ? parseBytes(b.activation_memory) : null,
    batch: b.batch ?? 1,
    trainMemory: b.train_memory !== undefined ? parseBytes(b.train_memory) : null,
    engine: b.engine ?? 'tfjs',
    precision: b.precision ?? 'fp32',
    latencyMs: b.latency_ms ?? null,
  };
}

const DECIMAL: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
const BYTES: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

/** "6M" -> 6000000; numbers pass through. The schema's pattern guarantees the form. */
export function parseQuantity(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKMGT]?)\s*$/.exec(v)!;
  return Math.round(Number(m[1]) * DECIMAL[m[2]]);
}

/** "2GB" -> 2e9, "512MiB" -> 536870912; numbers are bytes. */
export function parseBytes(v: number | string): number {
  return typeof v === 'number' ? v : readBytes(v)!;
}

/** "24GB" -> 24000000000, "512MiB" -> 536870912 (the spec's byte units); null for any other text. */
export function readBytes(v: string): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/.exec(v);
  return m ? Math.round(Number(m[1]) * BYTES[m[2]]) : null;
}
