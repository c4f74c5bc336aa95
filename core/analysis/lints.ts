// What core says about a valid spec beyond its numbers: semantic problems, the budget verdict, and DSOD's design
// principles, each hint citing the effect the paper measured (docs/dsod.md, the paper's Table 3) so that a designer learns why.
import type { DiagnosticCode } from '../codes';
import type { Finding, Path } from '../diagnostics';
import { conventionalStep, expandAspectRatios, stepTiles } from '../priors';
import { buildGraph } from '../graph/build';
import type { Backbone, Budget, NormalizedSpec, Prediction } from '../spec/types';
import { analyzeGraph, type Analysis } from './analyze';
import { budgetTrainMemory, fitBatch } from './memory';
import { formatBytes, formatExact, formatExcess, formatLatency, formatMacs, formatPixels } from '../format';
import { latencyIsStale, type MeasuredLatency } from './budget';

type Json = Record<string, any>;

/** Checks that need only the normalized spec (they run even when the graph cannot be built). */
export function lintSpec(spec: NormalizedSpec, data: Json): Finding[] {
  const findings: Finding[] = [];
  const { priors, prediction } = spec;
  const scales = prediction.scales;
  const lists: [keyof typeof priorsKeys, unknown[] | undefined][] = [
    ['min_sizes', data.priors?.min_sizes],
    ['max_sizes', data.priors?.max_sizes],
    ['aspect_ratios', data.priors?.aspect_ratios],
    ['steps', data.priors?.steps],
  ];
  for (const [key, list] of lists) {
    if (list && list.length !== scales) {
      findings.push({
        code: 'priors/length-mismatch',
        message: `priors.${key} has ${list.length} entr${list.length === 1 ? 'y' : 'ies'} but there ${scales === 1 ? 'is 1 prediction scale' : `are ${scales} prediction scales`}: give one ${priorsKeys[key]} per scale.`,
        path: ['priors', key],
      });
    }
  }
  for (let i = 0; i < Math.min(priors.minSizes.length, priors.maxSizes.length); i++) {
    if (priors.minSizes[i] >= priors.maxSizes[i]) {
      findings.push({
        code: 'priors/min-ge-max',
        message: `Scale ${i + 1}: min size ${priors.minSizes[i]} must be smaller than max size ${priors.maxSizes[i]}.`,
        path: data.priors?.max_sizes ? ['priors', 'max_sizes', i] : ['priors', 'min_sizes', i],
      });
    }
  }
  const maxSide = Math.max(spec.input.height, spec.input.width);
  priors.minSizes.forEach((m, i) => {
    if (m > maxSide) {
      findings.push({
        code: 'priors/size-exceeds-input',
        message: `Scale ${i + 1}: min size ${m} is larger than the ${spec.input.height}x${spec.input.width} input; its boxes cover more than the image.`,
        path: ['priors', 'min_sizes', i],
      });
    }
  });
  priors.aspectRatios.forEach((ratios, i) => {
    ratios.forEach((r, j) => {
      const path: Path = ['priors', 'aspect_ratios', i, j];
      if (!(r > 0)) {
        findings.push({ code: 'priors/aspect-ratio', message: `Scale ${i + 1}: aspect ratio ${r} is not positive.`, path });
      } else if (Math.abs(r - 1) < 1e-6) {
        findings.push({
          code: 'priors/redundant-aspect-ratio',
          message: `Scale ${i + 1}: aspect ratio 1 is always present (the min-size box); this entry adds nothing.`,
          path,
        });
      } else if (expandAspectRatios(ratios.slice(0, j), priors.flip).some((a) => Math.abs(a - r) < 1e-6)) {
        findings.push({
          code: 'priors/redundant-aspect-ratio',
          message: `Scale ${i + 1}: aspect ratio ${r} is already present${priors.flip ? ' (flip adds 1/r)' : ''}; this entry adds nothing.`,
          path,
        });
      }
    });
  });
  return findings;
}

const priorsKeys = { min_sizes: 'min size', max_sizes: 'max size', aspect_ratios: 'list of aspect ratios', steps: 'step' };

/** Checks on the built network: degenerate scales, exactness, the budget. */
export function lintAnalysis(a: Analysis, data: Json, latency: MeasuredLatency | null = null): Finding[] {
  const findings: Finding[] = [];
  for (let i = 1; i < a.scales.length; i++) {
    const [prev, cur] = [a.scales[i - 1].shape, a.scales[i].shape];
    if (cur[1] === 1 && cur[2] === 1 && prev[1] === 1 && prev[2] === 1) {
      findings.push({
        code: 'shape/degenerate',
        message: `Scale ${i + 1} is 1x1 like scale ${i}: it cannot shrink further and sees nothing new. Use fewer scales or a larger input.`,
        path: a.scales[i].source,
      });
    }
  }
  findings.push(...stepsMismatch(a, data));
  findings.push(...beyondReceptiveField(a, data));
  const t = a.totals;
  if (![t.paramsStored, t.macs, t.flops, t.activationBytesPerImage].every(Number.isSafeInteger)) {
    findings.push({
      code: 'analysis/too-large',
      message: `This network is too large to count exactly (${t.flops.toExponential(2)} FLOPs): totals pass 2^53.`,
      path: ['backbone'],
      at: 'key',
    });
  }
  const budget = a.spec.budget;
  if (budget) {
    const from = (key: string): Path => (data.budget?.[key] !== undefined ? ['budget', key] : ['budget', 'target']);
    const params = budget.count === 'stored' ? t.paramsStored : t.paramsLearned;
    if (budget.params !== null && params > budget.params) {
      findings.push({
        code: 'budget/params',
        message: `Over budget: ${formatExact(params)} ${budget.count} parameters exceed the ${budget.target ? `${budget.target} ` : ''}limit of ${formatExact(budget.params)} by ${formatExcess(params, budget.params)}.`,
        path: from('params'),
      });
    }
    if (budget.macs !== null && t.macs > budget.macs) {
      findings.push({
        code: 'budget/macs',
        message: `Over budget: ${formatExact(t.macs)} MACs per image exceed the ${budget.target ? `${budget.target} ` : ''}limit of ${formatExact(budget.macs)} by ${formatExcess(t.macs, budget.macs, formatMacs)}.`,
        path: from('macs'),
      });
    }
    const memory = t.activationBytesPerImage * budget.batch;
    if (budget.activationBytes !== null && memory > budget.activationBytes) {
      findings.push({
        code: 'budget/activation-memory',
        message: `Over budget: activations of a training step at batch ${budget.batch} take ${formatBytes(memory)}, over the limit of ${formatBytes(budget.activationBytes)} by ${formatExcess(memory, budget.activationBytes, formatBytes)}.`,
        path: ['budget', 'activation_memory'],
      });
    }
    findings.push(...trainMemoryFindings(a, data));
    if (budget.latencyMs !== null && latency && latency.medianMs > budget.latencyMs) {
      const stale = latencyIsStale(a, latency) ? ' (measured on another network: its MACs differ; run `dsod latency` again)' : '';
      findings.push({
        code: 'budget/latency',
        message: `Over budget: the latest measured latency, ${formatLatency(latency.medianMs)} median at batch ${latency.batch} with ${latency.label}, exceeds the limit of ${formatLatency(budget.latencyMs)} by ${formatExcess(latency.medianMs, budget.latencyMs, formatLatency)}${stale}.`,
        path: ['budget', 'latency_ms'],
      });
    }
  }
  return findings;
}

/**
 * Written steps whose grid of default boxes no longer spans the image: steps copied from a spec of another input size
 * (DSOD300's [8, 16, 32, 64, 100, 300] with a 512x512 input). The last scale may take the input side as its step:
 * SSD's one box centred on the image, which DSOD300's released config keeps for its 2x2 last map.
 */
function stepsMismatch(a: Analysis, data: Json): Finding[] {
  const findings: Finding[] = [];
  const written: unknown[] = Array.isArray(data.priors?.steps) ? data.priors.steps : [];
  const { height: H, width: W } = a.spec.input;
  const px = formatPixels;
  a.scales.forEach((scale, i) => {
    const step = written[i];
    if (typeof step !== 'number') return;
    const [, h, w] = scale.shape;
    const last = i === a.scales.length - 1;
    const fits = (map: number, side: number) => stepTiles(step, map, side) || (last && step === side);
    if (fits(h, H) && fits(w, W)) return;
    const stride = a.layers[a.graph.scales[i].feature].jump;
    const tiling = tilingStep(H, W, h, w, stride);
    const exact = W / w;
    const how = tiling === exact ? '' : tiling === stride ? `, written as the scale's stride as SSD does` : ', rounded';
    const fix =
      tiling === null
        ? 'No one step tiles both sides of this map: leave priors.steps out to get input size / feature map size for each side.'
        : `A step of ${px(tiling)} tiles it (${px(W)} / ${w} = ${px(exact)}${how}).`;
    findings.push({
      code: 'priors/steps-mismatch',
      message: `Scale ${i + 1}: its ${h}x${w} feature map × step ${px(step)} spans ${px(h * step)}x${px(w * step)} px, but the input is ${H}x${W}: its default boxes no longer tile the image (steps written for another input size?). ${fix}`,
      path: ['priors', 'steps', i],
    });
  });
  return findings;
}

/**
 * Scales whose largest default box is wider or taller than the scale's theoretical receptive field: the feature that
 * predicts such a box sees only part of the object it must cover (and the effective field is smaller still). DSOD300
 * does not: its largest boxes (42 to 373 px) sit well inside its fields (193 to 1,193 px).
 */
function beyondReceptiveField(a: Analysis, data: Json): Finding[] {
  const findings: Finding[] = [];
  const px = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
  a.scales.forEach((scale, i) => {
    const { max } = scale.boxSides;
    if (!(max > scale.receptiveField)) return;
    // The largest box is the sqrt(min·max) square or an aspect-ratio box of the min size: point at the size that makes it.
    const fromMax = scale.maxSize !== null && Math.abs(Math.sqrt(scale.minSize * scale.maxSize) - max) < 1e-9;
    const key = fromMax ? 'max_sizes' : 'min_sizes';
    // The size as written; else the priors section (its defaults); else, with no priors written, the scales that make them.
    const written = Array.isArray(data.priors?.[key]);
    const path: Path = written ? ['priors', key, i] : data.priors !== undefined ? ['priors'] : ['prediction', 'scales'];
    const made = fromMax
      ? `√(min ${scale.minSize} × max ${scale.maxSize})`
      : max === scale.minSize
        ? `min size ${scale.minSize}`
        : `min size ${scale.minSize} at aspect ratio ${px(scale.aspectRatios.reduce((m, r) => Math.max(m, r, 1 / r), 1))}`;
    findings.push({
      code: 'priors/beyond-receptive-field',
      ...(!written && data.priors !== undefined ? { at: 'key' as const } : {}),
      message: `Scale ${i + 1}: its largest default box (${px(max)} px, ${made}) is larger than the scale's receptive field (${px(scale.receptiveField)} px): each of its predictions sees less of the image than the box it must fit, so objects of that size are classified and placed from a part of them. Use a smaller size here or predict it from a deeper scale.`,
      path,
    });
  });
  return findings;
}

/** The one step that tiles both sides of a scale's map by SSD's convention (see `conventionalStep`); `null`: none does. */
export function tilingStep(H: number, W: number, h: number, w: number, stride: number): number | null {
  for (const step of [conventionalStep(W, w, stride), conventionalStep(H, h, stride)]) {
    if (stepTiles(step, h, H) && stepTiles(step, w, W)) return step;
  }
  return null;
}

/** Every kind of design-principle hint, as `hints.ignore` lists them (the schema's enum is this list). */
export const PRINCIPLE_KINDS = [
  'principle/no-stem',
  'principle/compression',
  'principle/no-transition-without-pooling',
  'principle/narrow-bottleneck',
  'principle/narrow-first-conv',
  'principle/growth-rate',
  'principle/plain-prediction',
] as const satisfies readonly DiagnosticCode[];
export type PrincipleKind = (typeof PRINCIPLE_KINDS)[number];

/** A hint and the spec it suggests: the change its message recommends (and its quick fix makes), applied. */
interface Suggestion {
  finding: Finding;
  changed: (spec: NormalizedSpec) => NormalizedSpec;
}

/**
 * DSOD's design principles, as hints where the spec departs from them; less the kinds the spec's `hints.ignore`
 * lists, and less those whose suggested change would take the network over a limit of the spec's own budget (the
 * changed spec is analysed like any other: its parameters, MACs, activation memory and training-step memory).
 */
export function principleHints(spec: NormalizedSpec, data: Json): Finding[] {
  const suggestions = principleSuggestions(spec, data).filter((s) => !spec.hints.ignore.includes(s.finding.code));
  const budget = spec.budget;
  if (!budget || (budget.params === null && budget.macs === null && budget.activationBytes === null && budget.trainMemory === null))
    return suggestions.map((s) => s.finding);
  const before = analysisOf(spec);
  if (!before) return suggestions.map((s) => s.finding);
  return suggestions.filter((s) => !worsensBudget(before, analysisOf(s.changed(spec)), budget)).map((s) => s.finding);
}

/** The analysis of a spec's network; `null` when it cannot be built. */
function analysisOf(spec: NormalizedSpec): Analysis | null {
  const graph = buildGraph(spec, []);
  return graph ? analyzeGraph(spec, graph) : null;
}

/** What a budget limits, measured on an analysis: [used, limit] per limited quantity. */
function budgetUse(a: Analysis, budget: Budget): [number, number][] {
  const t = a.totals;
  const out: [number, number][] = [];
  if (budget.params !== null) out.push([budget.count === 'stored' ? t.paramsStored : t.paramsLearned, budget.params]);
  if (budget.macs !== null) out.push([t.macs, budget.macs]);
  if (budget.activationBytes !== null) out.push([t.activationBytesPerImage * budget.batch, budget.activationBytes]);
  const train = budgetTrainMemory(a);
  if (train && budget.trainMemory !== null) out.push([train.total, budget.trainMemory]);
  return out;
}

/**
 * The change would take a quantity over its limit, or further over it. A changed network that cannot be built is
 * not held against the hint (nothing to measure); a change that costs less is fine even where the spec is over.
 */
function worsensBudget(before: Analysis, after: Analysis | null, budget: Budget): boolean {
  if (!after) return false;
  const was = budgetUse(before, budget);
  return budgetUse(after, budget).some(([used, limit], i) => used > limit && used > was[i][0]);
}

function principleSuggestions(spec: NormalizedSpec, data: Json): Suggestion[] {
  const hints: Suggestion[] = [];
  const b = data.backbone ?? {};
  const notation: Path = ['backbone', 'notation'];
  const source = (key: string): Path => (b[key] !== undefined ? ['backbone', key] : b.notation !== undefined ? notation : ['backbone']);
  const bb = spec.backbone;
  const hint = (code: PrincipleKind, message: string, path: Path, backbone: (bb: Backbone) => Partial<Backbone>, prediction: Partial<Prediction> = {}) =>
    hints.push({
      finding: { code, message, path },
      changed: (s) => ({ ...s, backbone: { ...s.backbone, ...backbone(s.backbone) }, prediction: { ...s.prediction, ...prediction } }),
    });

  if (bb.stem.kind === 'densenet') {
    hint(
      'principle/no-stem',
      "No stem block: DSOD's stem (3x3 convs 64-64-128, the first with stride 2, and a 2x2 max pool) keeps more of the raw image than a 7x7/2 conv + pool; adding it gave +2.8 mAP on VOC07 (74.5 -> 77.3).",
      ['backbone', 'stem'],
      // `stem: true`, the quick fix: the stem's widths follow A.
      (x) => ({ stem: { kind: 'stem', convs: [x.firstConv, x.firstConv, 2 * x.firstConv], pool: true } }),
    );
  }
  const compressed = bb.transitions.map((t, i) => ({ t, i })).filter(({ t }) => t.channels === null && t.compression < 1);
  if (compressed.length > 0) {
    const written = data.backbone?.transitions?.[compressed[0].i];
    const path =
      typeof written === 'object' && written.compression !== undefined ? ['backbone', 'transitions', compressed[0].i, 'compression'] : source('compression');
    hint(
      'principle/compression',
      `Compression θ = ${compressed[0].t.compression} < 1 shrinks the transitions; keeping every channel (θ = 1) gave +2.9 mAP on VOC07 (61.6 -> 64.5).`,
      path,
      (x) => ({ transitions: x.transitions.map((t) => (t.channels === null ? { ...t, compression: 1 } : t)) }),
    );
  }
  // The last transition only feeds the prediction structure; a transition w/o pooling is one with a block after it.
  if (!bb.transitions.slice(0, -1).some((t) => !t.pool)) {
    hint(
      'principle/no-transition-without-pooling',
      'No transition w/o pooling: one lets the backbone add a dense block without shrinking the feature maps; it gave +1.7 mAP on VOC07 (59.9 -> 61.6).',
      ['backbone', 'transitions'],
      // As in the paper's ablation (Table 3): one more dense block, like the last, behind a transition w/o pooling.
      (x) => ({
        blocks: [...x.blocks, x.blocks[x.blocks.length - 1]],
        transitions: [
          ...x.transitions.slice(0, -1),
          { pool: false, channels: null, compression: x.transitions[x.transitions.length - 1].compression },
          x.transitions[x.transitions.length - 1],
        ],
      }),
    );
  }
  const narrow = bb.blocks.findIndex((blk) => blk.bottleneck < 4 * blk.growthRate);
  if (narrow >= 0) {
    const blk = bb.blocks[narrow];
    hint(
      'principle/narrow-bottleneck',
      `Bottleneck width B = ${blk.bottleneck} is under 4k = ${4 * blk.growthRate}: widening the bottleneck (DS/32-12-16 -> DS/32-64-16) gave +4.1 mAP on VOC07 (64.5 -> 68.6).`,
      source('bottleneck'),
      (x) => ({ blocks: x.blocks.map((k) => ({ ...k, bottleneck: Math.max(k.bottleneck, 4 * k.growthRate) })) }),
    );
  }
  if (bb.firstConv < 64) {
    hint(
      'principle/narrow-first-conv',
      `First conv width A = ${bb.firstConv}: a wider first conv (A = 64) gave +1.1 mAP on VOC07 (68.6 -> 69.7).`,
      b.stem?.convs ? ['backbone', 'stem', 'convs', 0] : source('first_conv'),
      (x) => ({ firstConv: 64, stem: x.stem.kind === 'stem' ? { ...x.stem, convs: [64, 64, 128] } : { kind: 'densenet', channels: 64 } }),
    );
  }
  const slow = bb.blocks.findIndex((blk) => blk.growthRate < 48);
  if (slow >= 0) {
    hint(
      'principle/growth-rate',
      `Growth rate k = ${bb.blocks[slow].growthRate}: DSOD300's k = 48 with a 4k bottleneck (DS/64-64-16 -> DS/64-192-48) gave +4.8 mAP on VOC07 (69.7 -> 74.5).`,
      source('growth_rate'),
      (x) => ({ blocks: x.blocks.map((k) => (k.growthRate < 48 ? { ...k, growthRate: 48, bottleneck: 192 } : k)) }),
    );
  }
  if (spec.prediction.structure === 'plain') {
    hint(
      'principle/plain-prediction',
      "Plain prediction structure: the dense structure (each scale learns half of its maps and reuses the other half) gave +0.4 mAP on VOC07 (77.3 -> 77.7), and the paper's dense DSOD300 has fewer parameters than its plain one (14.8M against 18.2M).",
      ['prediction', 'structure'],
      () => ({}),
      { structure: 'dense' },
    );
  }
  return hints;
}

/** `budget.train_memory`: one training step at the spec's micro-batch, counted for the budget's engine and precision. */
function trainMemoryFindings(a: Analysis, data: Json): Finding[] {
  const budget = a.spec.budget;
  if (!budget) return [];
  if (budget.engine === 'tfjs' && budget.precision !== 'fp32') {
    return [
      {
        code: 'budget/precision',
        message: 'The tfjs engine trains in float32 only: bf16 is counted for `budget.engine: torch`.',
        path: data.budget?.precision !== undefined ? ['budget', 'precision'] : ['budget'],
      },
    ];
  }
  const m = budgetTrainMemory(a);
  if (!m || budget.trainMemory === null || m.total <= budget.trainMemory) return [];
  const fit = fitBatch(a, budget.trainMemory, { engine: budget.engine, precision: budget.precision });
  const t = a.spec.train;
  const advice = fit.plan
    ? ` At most ${fit.largest} image${fit.largest > 1 ? 's' : ''} per micro-batch fit: train.batch ${t.batch} as ${fit.plan.microBatch} x accumulate ${fit.plan.accumulate} takes ${formatBytes(fit.plan.memory)}.`
    : fit.largest > 0
      ? ` At most ${fit.largest} image${fit.largest > 1 ? 's' : ''} per micro-batch fit, and no divisor of train.batch ${t.batch} is that small.`
      : ' Not even one image fits: a smaller input or a narrower network.';
  return [
    {
      code: 'budget/train-memory',
      message:
        `Over budget: one training step (${budget.engine}, ${budget.precision}, micro-batch ${m.batch}) takes ${formatBytes(m.total)}, over the limit of ` +
        `${formatBytes(budget.trainMemory)} by ${formatExcess(m.total, budget.trainMemory, formatBytes)}.${advice}`,
      path: ['budget', 'train_memory'],
    },
  ];
}
