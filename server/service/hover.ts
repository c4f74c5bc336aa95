// Hover: what the thing under the cursor costs in the analysed network, then what its key means (the schema's words).
import type { Hover, Position } from 'vscode-languageserver-types';
import { fitBatch, trainingMemory, type Analysis, type MeasuredLatency, type MemoryEngine, type Precision, type SpecCheck, type StageStats } from '../../core';
import { latencyText } from './latency';
import { formatBytes, formatExact as exact, formatFlops, formatMacs, formatShape as shape, formatShare as share } from '../../core/format';
import { schemaAt } from './schema';
import { scaleStages, targetAt, type Target } from './targets';

/** `latency`: the spec's latest measurement, shown in the totals beside MACs. */
export function hover(check: SpecCheck, position: Position, latency: MeasuredLatency | null = null): Hover | null {
  const doc = check.document;
  const { path, on } = doc.pathAt(doc.offsetAt(position));
  if (path.length === 0) return null;
  const sections: string[] = [];
  const a = check.analysis;
  const target = a ? targetAt(a, path) : null;
  if (a && target) sections.push(describeTarget(a, target, latency));
  // train.batch (and train.accumulate): what one step of it costs in memory, and how to fit it.
  if (a && path[0] === 'train' && (path[1] === 'batch' || path[1] === 'accumulate') && path.length === 2) sections.push(stepMemory(a));
  const docs = keyDocs(path);
  if (docs) sections.push(docs);
  if (sections.length === 0) return null;
  return { contents: { kind: 'markdown', value: sections.join('\n\n---\n\n') }, range: doc.rangeOf(path, on) };
}

/** The schema's documentation of the nearest named key on the path. */
function keyDocs(path: readonly (string | number)[]): string | null {
  for (let n = path.length; n > 0; n--) {
    if (typeof path[n - 1] !== 'string') continue;
    const s = schemaAt(path.slice(0, n));
    if (s?.markdownDescription) {
      const name = path
        .slice(0, n)
        .filter((p) => typeof p === 'string')
        .join('.');
      const def = s.default !== undefined ? `\n\nDefault: \`${JSON.stringify(s.default)}\`` : '';
      return `**${name}**: ${s.markdownDescription}${def}`;
    }
  }
  return null;
}

function table(rows: [string, string][]): string {
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

function stageRows(a: Analysis, s: StageStats): [string, string][] {
  const t = a.totals;
  return [
    ['output', shape(s.shape)],
    ['learned params', `${exact(s.paramsLearned)} (${share(s.paramsLearned, t.paramsLearned)})`],
    ['stored values', exact(s.paramsStored)],
    ['MACs', `${exact(s.macs)} (${share(s.macs, t.macs)}) · ${formatFlops(s.macs)}`],
    ['receptive field', `${s.receptiveField} px`],
    ['activations', `${formatBytes(s.activationBytes)} / image`],
    ...(s.kind === 'block' ? [['dense layers', String(s.denseLayers)] as [string, string]] : []),
    ['primitive ops', `${s.ops} (conv, batch norm, ReLU, pool, concat, L2Norm)`],
  ];
}

/** Pixels to a tenth: box sides such as √(60·111) = 81.6. */
const px = (n: number): string => exact(+n.toFixed(1));

/** A scale's receptive field and how much of it its largest default box takes (a warning sign past all of it). */
function receptiveFieldText(rf: number, largestBox: number): string {
  const part = `largest box ${share(largestBox, rf)} of it`;
  return largestBox > rf ? `${exact(rf)} px · ⚠ ${part}: its boxes are larger than what it sees` : `${exact(rf)} px · ${part}`;
}

function describeTarget(a: Analysis, target: Target, latency: MeasuredLatency | null): string {
  const t = a.totals;
  switch (target.kind) {
    case 'stage':
      return `**${target.stage.name}** · ${target.stage.kind}\n\n${table(stageRows(a, target.stage))}`;
    case 'scale': {
      const s = a.scales[target.index];
      const { structure, head } = scaleStages(a, target.index);
      const rows: [string, string][] = [
        ['feature map', shape(s.shape)],
        ['priors / location', String(s.priorsPerLocation)],
        ['default boxes', `${exact(s.boxes)} (${share(s.boxes, t.defaultBoxes)})`],
        ['sizes', `min ${s.minSize}, max ${s.maxSize ?? '–'}`],
        ['aspect ratios', s.aspectRatios.map((r) => +r.toFixed(3)).join(', ')],
        ['step', `${+s.step.toFixed(3)} px`],
        ['default box sides', `${px(s.boxSides.min)} to ${px(s.boxSides.max)} px`],
        ['receptive field', receptiveFieldText(s.receptiveField, s.boxSides.max)],
      ];
      if (structure) rows.push(['structure params / MACs', `${exact(structure.paramsLearned)} / ${exact(structure.macs)}`]);
      if (head) rows.push(['head params / MACs', `${exact(head.paramsLearned)} / ${exact(head.macs)}`]);
      return `**${s.name}** · prediction scale ${s.index}\n\n${table(rows)}`;
    }
    case 'stages': {
      const sum = (f: (s: StageStats) => number) => target.stages.reduce((n, s) => n + f(s), 0);
      const learned = sum((s) => s.paramsLearned);
      const macs = sum((s) => s.macs);
      const rows = target.stages.map((s) => `| ${s.name} | ${shape(s.shape)} | ${exact(s.paramsLearned)} | ${exact(s.macs)} |`);
      return [
        `**${target.title}** · ${exact(learned)} learned params (${share(learned, t.paramsLearned)}) · ${exact(macs)} MACs (${share(macs, t.macs)})`,
        '',
        '| stage | output | learned params | MACs |',
        '|---|---|---:|---:|',
        ...rows,
      ].join('\n');
    }
    case 'totals':
      return `**${a.spec.name}**\n\n${table([
        ['learned params', exact(t.paramsLearned)],
        ['stored values', `${exact(t.paramsStored)} (+${exact(t.bnStatistics)} BN statistics)`],
        ['MACs', `${exact(t.macs)} · ${formatMacs(t.macs)}`],
        ...(latency ? [['measured latency', latencyText(a, latency)] as [string, string]] : []),
        ['FLOPs (2 × MACs)', `${exact(t.flops)} · ${formatFlops(t.macs)}`],
        ['default boxes', exact(t.defaultBoxes)],
        ['activations', `${formatBytes(t.activationBytesPerImage)} / image`],
      ])}`;
  }
}

/** The engines and precisions a step is shown for: the tfjs trainer, PyTorch in fp32 and bf16. */
const STEP_VARIANTS: [MemoryEngine, Precision][] = [
  ['tfjs', 'fp32'],
  ['torch', 'fp32'],
  ['torch', 'bf16'],
];
/** Cards the advice is given for when the spec's budget names no train_memory (a GPU's "8 GB" is 8 GiB). */
const CARDS = [8 * 2 ** 30, 24 * 2 ** 30];

/** One training step's memory at the spec's micro-batch, per engine, and the micro-batch x accumulation that fits. */
function stepMemory(a: Analysis): string {
  const t = a.spec.train;
  const micro = Math.max(1, Math.floor(t.batch / Math.max(1, t.accumulate)));
  const rows = STEP_VARIANTS.map(([engine, precision]) => {
    const m = trainingMemory(a, { engine, precision, batch: micro });
    return `| ${engine} ${precision} | ${formatBytes(m.total)} | ${formatBytes(m.saved)} |`;
  });
  const budget = a.spec.budget;
  const advice: string[] = [];
  if (budget?.trainMemory != null && !(budget.engine === 'tfjs' && budget.precision !== 'fp32')) {
    const m = trainingMemory(a, { engine: budget.engine, precision: budget.precision, batch: micro });
    advice.push(
      m.total <= budget.trainMemory
        ? `Within \`budget.train_memory\` (${formatBytes(budget.trainMemory)}, ${budget.engine} ${budget.precision}).`
        : `Over \`budget.train_memory\` (${formatBytes(budget.trainMemory)}, ${budget.engine} ${budget.precision}): ${fitText(a, budget.trainMemory, budget.engine, budget.precision)}`,
    );
  } else {
    for (const card of CARDS) advice.push(`A ${formatBytes(card)} card (torch fp32): ${fitText(a, card, 'torch', 'fp32')}`);
  }
  return [
    `**One training step** · micro-batch ${micro} (train.batch ${t.batch} / accumulate ${t.accumulate})`,
    '',
    '| engine | step | kept for backward |',
    '|---|---:|---:|',
    ...rows,
    '',
    ...advice.map((line) => `- ${line}`),
    '',
    'Counted per layer (`dsod analyze --memory`); allocator overhead and convolution workspaces come on top.',
  ].join('\n');
}

function fitText(a: Analysis, budget: number, engine: MemoryEngine, precision: Precision): string {
  const fit = fitBatch(a, budget, { engine, precision });
  if (fit.largest === 0) return 'not even one image fits.';
  const most = `at most ${fit.largest} image${fit.largest > 1 ? 's' : ''} per micro-batch`;
  return fit.plan ? `${most}; train.batch ${a.spec.train.batch} as ${fit.plan.microBatch} × accumulate ${fit.plan.accumulate}.` : `${most}.`;
}
