// What core says about a valid spec beyond its numbers: semantic problems, the budget verdict, and DSOD's design
// principles, each hint citing the effect the paper measured (docs/dsod.md, the paper's Table 3) so that a designer learns why.
import type { Finding, Path } from '../diagnostics';
import { expandAspectRatios } from '../priors';
import type { NormalizedSpec } from '../spec/types';
import type { Analysis } from './analyze';
import { formatBytes, formatExact, formatExcess, formatMacs } from '../format';

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
        severity: 'error',
        message: `priors.${key} has ${list.length} entr${list.length === 1 ? 'y' : 'ies'} but there ${scales === 1 ? 'is 1 prediction scale' : `are ${scales} prediction scales`}: give one ${priorsKeys[key]} per scale.`,
        path: ['priors', key],
      });
    }
  }
  for (let i = 0; i < Math.min(priors.minSizes.length, priors.maxSizes.length); i++) {
    if (priors.minSizes[i] >= priors.maxSizes[i]) {
      findings.push({
        code: 'priors/min-ge-max',
        severity: 'error',
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
        severity: 'warning',
        message: `Scale ${i + 1}: min size ${m} is larger than the ${spec.input.height}x${spec.input.width} input; its boxes cover more than the image.`,
        path: ['priors', 'min_sizes', i],
      });
    }
  });
  priors.aspectRatios.forEach((ratios, i) => {
    ratios.forEach((r, j) => {
      const path: Path = ['priors', 'aspect_ratios', i, j];
      if (!(r > 0)) {
        findings.push({ code: 'priors/aspect-ratio', severity: 'error', message: `Scale ${i + 1}: aspect ratio ${r} is not positive.`, path });
      } else if (Math.abs(r - 1) < 1e-6) {
        findings.push({ code: 'priors/aspect-ratio', severity: 'warning', message: `Scale ${i + 1}: aspect ratio 1 is always present (the min-size box); this entry adds nothing.`, path });
      } else if (expandAspectRatios(ratios.slice(0, j), priors.flip).some((a) => Math.abs(a - r) < 1e-6)) {
        findings.push({ code: 'priors/aspect-ratio', severity: 'warning', message: `Scale ${i + 1}: aspect ratio ${r} is already present${priors.flip ? ' (flip adds 1/r)' : ''}; this entry adds nothing.`, path });
      }
    });
  });
  return findings;
}

const priorsKeys = { min_sizes: 'min size', max_sizes: 'max size', aspect_ratios: 'list of aspect ratios', steps: 'step' };

/** Checks on the built network: degenerate scales, exactness, the budget. */
export function lintAnalysis(a: Analysis, data: Json): Finding[] {
  const findings: Finding[] = [];
  for (let i = 1; i < a.scales.length; i++) {
    const [prev, cur] = [a.scales[i - 1].shape, a.scales[i].shape];
    if (cur[1] === 1 && cur[2] === 1 && prev[1] === 1 && prev[2] === 1) {
      findings.push({
        code: 'shape/degenerate',
        severity: 'warning',
        message: `Scale ${i + 1} is 1x1 like scale ${i}: it cannot shrink further and sees nothing new. Use fewer scales or a larger input.`,
        path: a.scales[i].source,
      });
    }
  }
  const t = a.totals;
  if (![t.paramsStored, t.macs, t.flops, t.activationBytesPerImage].every(Number.isSafeInteger)) {
    findings.push({
      code: 'analysis/too-large',
      severity: 'error',
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
        severity: 'error',
        message: `Over budget: ${formatExact(params)} ${budget.count} parameters exceed the ${budget.target ? `${budget.target} ` : ''}limit of ${formatExact(budget.params)} by ${formatExcess(params, budget.params)}.`,
        path: from('params'),
      });
    }
    if (budget.macs !== null && t.macs > budget.macs) {
      findings.push({
        code: 'budget/macs',
        severity: 'error',
        message: `Over budget: ${formatExact(t.macs)} MACs per image exceed the ${budget.target ? `${budget.target} ` : ''}limit of ${formatExact(budget.macs)} by ${formatExcess(t.macs, budget.macs, formatMacs)}.`,
        path: from('macs'),
      });
    }
    const memory = t.activationBytesPerImage * budget.batch;
    if (budget.activationBytes !== null && memory > budget.activationBytes) {
      findings.push({
        code: 'budget/activation-memory',
        severity: 'error',
        message: `Over budget: activations of a training step at batch ${budget.batch} take ${formatBytes(memory)}, over the limit of ${formatBytes(budget.activationBytes)} by ${formatExcess(memory, budget.activationBytes, formatBytes)}.`,
        path: ['budget', 'activation_memory'],
      });
    }
  }
  return findings;
}

/** DSOD's design principles, as hints where the spec departs from them. */
export function principleHints(spec: NormalizedSpec, data: Json): Finding[] {
  const hints: Finding[] = [];
  const b = data.backbone ?? {};
  const notation: Path = ['backbone', 'notation'];
  const source = (key: string): Path => (b[key] !== undefined ? ['backbone', key] : b.notation !== undefined ? notation : ['backbone']);
  const hint = (code: string, message: string, path: Path) => hints.push({ code: `principle/${code}`, severity: 'information', message, path });
  const bb = spec.backbone;

  if (bb.stem.kind === 'densenet') {
    hint('no-stem', "No stem block: DSOD's stem (3x3 convs 64-64-128, the first with stride 2, and a 2x2 max pool) keeps more of the raw image than a 7x7/2 conv + pool; adding it gave +2.8 mAP on VOC07 (74.5 -> 77.3).", ['backbone', 'stem']);
  }
  const compressed = bb.transitions.map((t, i) => ({ t, i })).filter(({ t }) => t.channels === null && t.compression < 1);
  if (compressed.length > 0) {
    const written = data.backbone?.transitions?.[compressed[0].i];
    const path = typeof written === 'object' && written.compression !== undefined ? ['backbone', 'transitions', compressed[0].i, 'compression'] : source('compression');
    hint('compression', `Compression θ = ${compressed[0].t.compression} < 1 shrinks the transitions; keeping every channel (θ = 1) gave +2.9 mAP on VOC07 (61.6 -> 64.5).`, path);
  }
  // The last transition only feeds the prediction structure; a transition w/o pooling is one with a block after it.
  if (!bb.transitions.slice(0, -1).some((t) => !t.pool)) {
    hint('no-transition-without-pooling', 'No transition w/o pooling: one lets the backbone add a dense block without shrinking the feature maps; it gave +1.7 mAP on VOC07 (59.9 -> 61.6).', ['backbone', 'transitions']);
  }
  const narrow = bb.blocks.findIndex((blk) => blk.bottleneck < 4 * blk.growthRate);
  if (narrow >= 0) {
    const blk = bb.blocks[narrow];
    hint('narrow-bottleneck', `Bottleneck width B = ${blk.bottleneck} is under 4k = ${4 * blk.growthRate}: widening the bottleneck (DS/32-12-16 -> DS/32-64-16) gave +4.1 mAP on VOC07 (64.5 -> 68.6).`, source('bottleneck'));
  }
  if (bb.firstConv < 64) {
    hint('narrow-first-conv', `First conv width A = ${bb.firstConv}: a wider first conv (A = 64) gave +1.1 mAP on VOC07 (68.6 -> 69.7).`, b.stem?.convs ? ['backbone', 'stem', 'convs', 0] : source('first_conv'));
  }
  const slow = bb.blocks.findIndex((blk) => blk.growthRate < 48);
  if (slow >= 0) {
    hint('growth-rate', `Growth rate k = ${bb.blocks[slow].growthRate}: DSOD300's k = 48 with a 4k bottleneck (DS/64-64-16 -> DS/64-192-48) gave +4.8 mAP on VOC07 (69.7 -> 74.5).`, source('growth_rate'));
  }
  if (spec.prediction.structure === 'plain') {
    hint('plain-prediction', "Plain prediction structure: the dense structure (each scale learns half of its maps and reuses the other half) gave +0.4 mAP on VOC07 (77.3 -> 77.7), and the paper's dense DSOD300 has fewer parameters than its plain one (14.8M against 18.2M).", ['prediction', 'structure']);
  }
  return hints;
}
