// The analysis as tables for papers and spreadsheets (`dsod analyze --format csv|md|json`): per layer, per stage and per
// scale, exact numbers, and the counting conventions written where a reader of the file will see them.
import type { Analysis } from './analysis/analyze';
import { formatExact, formatShape } from './format';

export type TableName = 'layers' | 'stages' | 'scales';
export const TABLE_NAMES: readonly TableName[] = ['layers', 'stages', 'scales'];

export interface Column {
  key: string;
  label: string;
  numeric: boolean;
}

export type Cell = string | number | null;

export interface Table {
  name: TableName;
  title: string;
  columns: Column[];
  rows: Cell[][];
}

/** How every number is counted; printed at the head of each table file. */
export const COUNTING_CONVENTIONS: readonly string[] = [
  'learned params: convolution weights (no convolution has a bias), batch-norm gamma and beta (Caffe Scale), L2Norm scales',
  'stored values: learned params + batch-norm running statistics (mean, variance, moving-average factor: 2C+1 per batch norm), what a Caffe model file holds',
  'MACs: multiply-accumulates of convolutions for one image; FLOPs = 2 x MACs',
  'shape: channels x height x width of one image; convolutions round down, max pooling rounds up (Caffe)',
  'receptive field: theoretical, in input pixels',
  'activation bytes: float32 output of a layer for one image',
];

const col = (key: string, label: string, numeric = true): Column => ({ key, label, numeric });

export function analysisTables(a: Analysis): Record<TableName, Table> {
  const layers: Table = {
    name: 'layers',
    title: `${a.spec.name}: layers`,
    columns: [
      col('name', 'layer', false),
      col('kind', 'kind', false),
      col('stage', 'stage', false),
      col('shape', 'output', false),
      col('paramsLearned', 'learned params'),
      col('paramsStored', 'stored values'),
      col('macs', 'MACs'),
      col('receptiveField', 'receptive field (px)'),
      col('activationBytes', 'activation bytes'),
    ],
    rows: a.layers.map((l) => [
      l.name,
      l.kind,
      l.stage,
      formatShape(l.shape, true),
      l.paramsLearned,
      l.paramsStored,
      l.macs,
      l.receptiveField,
      l.activationBytes,
    ]),
  };
  const stages: Table = {
    name: 'stages',
    title: `${a.spec.name}: stages`,
    columns: [
      col('name', 'stage', false),
      col('kind', 'kind', false),
      col('shape', 'output', false),
      col('denseLayers', 'dense layers'),
      col('ops', 'primitive ops'),
      col('paramsLearned', 'learned params'),
      col('paramsStored', 'stored values'),
      col('macs', 'MACs'),
      col('receptiveField', 'receptive field (px)'),
    ],
    rows: a.stages.map((s) => [s.name, s.kind, formatShape(s.shape, true), s.denseLayers, s.ops, s.paramsLearned, s.paramsStored, s.macs, s.receptiveField]),
  };
  const scales: Table = {
    name: 'scales',
    title: `${a.spec.name}: prediction scales`,
    columns: [
      col('name', 'scale', false),
      col('shape', 'feature map', false),
      col('priorsPerLocation', 'priors/location'),
      col('boxes', 'default boxes'),
      col('minSize', 'min size (px)'),
      col('maxSize', 'max size (px)'),
      col('aspectRatios', 'aspect ratios', false),
      col('step', 'step (px)'),
      col('receptiveField', 'receptive field (px)'),
    ],
    rows: a.scales.map((s) => [
      s.name,
      formatShape(s.shape, true),
      s.priorsPerLocation,
      s.boxes,
      s.minSize,
      s.maxSize,
      s.aspectRatios.map((r) => +r.toFixed(3)).join(' '),
      +s.step.toFixed(3),
      s.receptiveField,
    ]),
  };
  return { layers, stages, scales };
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
function csvField(c: Cell): string {
  const s = c === null ? '' : String(c);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with `#` comment lines first (the title and the conventions; pandas: `read_csv(..., comment='#')`). */
export function tableToCsv(t: Table): string {
  const head = [`# ${t.title}`, ...COUNTING_CONVENTIONS.map((c) => `# ${c}`)];
  const lines = [t.columns.map((c) => csvField(c.label)).join(','), ...t.rows.map((r) => r.map(csvField).join(','))];
  return [...head, ...lines].join('\n') + '\n';
}

/** A GitHub-flavoured Markdown table, numbers grouped and right-aligned, under its title. */
export function tableToMarkdown(t: Table): string {
  const cell = (c: Cell, numeric: boolean) => (c === null ? '–' : numeric && typeof c === 'number' ? formatExact(c) : String(c).replace(/\|/g, '\\|'));
  return [
    `### ${t.title}`,
    '',
    `| ${t.columns.map((c) => c.label).join(' | ')} |`,
    `|${t.columns.map((c) => (c.numeric ? '---:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map((c, i) => cell(c, t.columns[i].numeric)).join(' | ')} |`),
    '',
  ].join('\n');
}

/** The conventions as a Markdown list, for the head of a Markdown file. */
export function conventionsMarkdown(): string {
  return ['Counting conventions:', '', ...COUNTING_CONVENTIONS.map((c) => `- ${c}`), ''].join('\n');
}
