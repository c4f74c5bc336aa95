// Pure: the report's tables as columns (what a cell shows, what it sorts by) and the sorting. No DOM, so node tests
// and the page share it. Cells print through core/format.ts; sorting uses the exact numbers, never the printed text.
import { formatBytes, formatExact, formatFlops, formatShape, formatShare, formatSigned } from '../../core/format';
import type { Cost, ReportCompare, ReportData, ReportScale, ReportStage } from '../../protocol/lsp';

export type SortDir = 'asc' | 'desc';
export interface SortState {
  key: string;
  dir: SortDir;
}

export interface Column<Row> {
  key: string;
  label: string;
  /** Spoken and shown on hover: what the short label means. */
  title: string;
  numeric: boolean;
  /** Lines of the cell (a head's output cell has two). */
  cell(row: Row): string[];
  sortValue(row: Row): number | string;
}

const volume = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** Shares arrive as fractions of their total. */
const percent = (f: number) => formatShare(f, 1);
const trim = (n: number) => String(+n.toFixed(3));
const px = (n: number) => formatExact(+n.toFixed(1));

/** A column of one number of the row: shown through `format`, sorted by the number itself. */
function numberColumn<Row>(key: string, label: string, title: string, value: (row: Row) => number, format: (n: number) => string): Column<Row> {
  return { key, label, title, numeric: true, cell: (r) => [format(value(r))], sortValue: value };
}

export const STAGE_COLUMNS: Column<ReportStage>[] = [
  { key: 'name', label: 'stage', title: 'Stage', numeric: false, cell: (r) => [r.name], sortValue: (r) => r.name },
  {
    key: 'output',
    label: 'output',
    title: 'Output shape (channels × height × width); a head has a box-offset (loc) and a class-score (conf) output',
    numeric: true,
    cell: (r) => (r.head ? [`loc ${formatShape(r.head.loc)}`, `conf ${formatShape(r.head.conf)}`] : [formatShape(r.shape)]),
    // Sorted by the values the stage outputs (both outputs of a head).
    sortValue: (r) => (r.head ? volume(r.head.loc) + volume(r.head.conf) : volume(r.shape)),
  },
  numberColumn('params', 'learned params', 'Learned parameters', (r) => r.paramsLearned, formatExact),
  numberColumn('paramsShare', 'params %', 'Share of all learned parameters', (r) => r.paramsShare, percent),
  numberColumn('macs', 'MACs', 'Multiply-accumulates for one image', (r) => r.macs, formatExact),
  numberColumn('macsShare', 'MACs %', 'Share of all multiply-accumulates', (r) => r.macsShare, percent),
  numberColumn('rf', 'RF', 'Receptive field in input pixels', (r) => r.receptiveField, String),
];

export const SCALE_COLUMNS: Column<ReportScale>[] = [
  { key: 'name', label: 'scale', title: 'Scale', numeric: false, cell: (r) => [r.name], sortValue: (r) => r.name },
  {
    key: 'map',
    label: 'feature map',
    title: 'Feature map the default boxes tile (channels × height × width)',
    numeric: true,
    cell: (r) => [formatShape(r.shape)],
    sortValue: (r) => volume(r.shape),
  },
  numberColumn('priors', 'priors/loc', 'Default boxes per feature-map location', (r) => r.priorsPerLocation, String),
  numberColumn('boxes', 'boxes', 'Default boxes', (r) => r.boxes, formatExact),
  numberColumn('boxesShare', 'boxes %', 'Share of all default boxes', (r) => r.boxesShare, percent),
  {
    key: 'size',
    label: 'min/max',
    title: 'Minimum and maximum box size in input pixels',
    numeric: true,
    cell: (r) => [`${trim(r.minSize)}/${r.maxSize === null ? '–' : trim(r.maxSize)}`],
    sortValue: (r) => r.minSize,
  },
  {
    key: 'ratios',
    label: 'aspect ratios',
    title: 'Aspect ratios of the boxes (flipped ones included)',
    numeric: false,
    cell: (r) => [r.aspectRatios.map(trim).join(', ')],
    sortValue: (r) => r.aspectRatios.length,
  },
  numberColumn('step', 'step', 'Distance between box centres in input pixels', (r) => r.step, trim),
  numberColumn('rf', 'RF', 'Receptive field in input pixels', (r) => r.receptiveField, String),
  {
    key: 'boxSides',
    label: 'box sides',
    title: "Shortest and longest side of the scale's default boxes in input pixels, to hold against its receptive field (⚠: boxes larger than it)",
    numeric: true,
    // To a tenth of a pixel, as the hover and the graph's tooltip print them; ⚠ where the boxes outgrow what the scale sees.
    cell: (r) => [`${px(r.boxSides.min)}–${px(r.boxSides.max)}${r.boxSides.max > r.receptiveField ? ' ⚠' : ''}`],
    sortValue: (r) => r.boxSides.max,
  },
  {
    key: 'head',
    label: 'head outputs',
    title: "The scale's head: box offsets (loc) and class scores (conf)",
    numeric: true,
    cell: (r) => [`loc ${formatShape(r.loc)}`, `conf ${formatShape(r.conf)}`],
    sortValue: (r) => volume(r.loc) + volume(r.conf),
  },
];

/** The rows in the order of `sort` (ties keep the network's order); the network's order without one. */
export function sortRows<Row>(rows: readonly Row[], columns: readonly Column<Row>[], sort: SortState | null): Row[] {
  const column = sort && columns.find((c) => c.key === sort.key);
  if (!column || !sort) return [...rows];
  const sign = sort.dir === 'asc' ? 1 : -1;
  return rows
    .map((row, i) => ({ row, i, v: column.sortValue(row) }))
    .sort((a, b) => {
      const d = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v), 'en', { numeric: true });
      return d !== 0 ? sign * d : a.i - b.i;
    })
    .map((x) => x.row);
}

/** A header click: the same column flips its direction; another starts descending (numbers) or ascending (names). */
export function nextSort<Row>(current: SortState | null, column: Column<Row>): SortState {
  if (current?.key === column.key) return { key: column.key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key: column.key, dir: column.numeric ? 'desc' : 'asc' };
}

/** The summary line of `dsod analyze` (core/report.ts summaryLine), one fact per item: the page wraps them to its width. */
export function summaryItems(r: ReportData): string[] {
  const t = r.totals;
  return [
    `${formatExact(t.layers)} layers (${formatExact(t.convLayers)} conv, ${formatExact(t.bnLayers)} batch norm)`,
    `${formatExact(t.paramsLearned)} learned parameters`,
    `${formatExact(t.paramsStored)} stored values (learned + ${formatExact(t.bnStatistics)} BN running statistics)`,
    `${formatExact(t.macs)} MACs = ${formatFlops(t.macs)} (FLOPs = 2 × MACs)`,
    `${formatExact(t.defaultBoxes)} default boxes`,
    `${formatBytes(t.activationBytes)} of float32 activations per training step at batch ${t.batch}`,
    ...(r.latency ? [`measured latency: ${r.latency}`] : []),
  ];
}

/** A row of a comparison table: what became of the stage or scale, and its cells (the first is its name). */
export interface DeltaRow {
  change: 'added' | 'removed' | 'changed' | 'same';
  cells: string[];
}

export interface DeltaTable {
  header: string[];
  /** Spoken and shown on hover, per column. */
  titles: string[];
  rows: DeltaRow[];
}

const zero = (c: Cost) => c.paramsLearned === 0 && c.macs === 0 && c.activationBytes === 0 && c.boxes === 0;
const rowChange = (change: 'matched' | 'added' | 'removed', delta: Cost): DeltaRow['change'] =>
  change !== 'matched' ? change : zero(delta) ? 'same' : 'changed';
const mark = (change: string) => (change === 'added' || change === 'removed' ? ` (${change})` : '');
const costCells = (d: Cost) => [formatSigned(d.paramsLearned), formatSigned(d.macs), formatSigned(d.activationBytes, formatBytes)];
const COST_TITLES = ['Change in learned parameters', 'Change in multiply-accumulates for one image', 'Change in float32 activations of one image'];

/**
 * The comparison's tables (this spec minus the other side, as `dsod diff` prints them): the totals of both sides and
 * the change, then the change per stage and per scale. Changes are signed, with a true minus sign.
 */
export function compareTables(c: ReportCompare, thisSide = 'this spec'): { totals: DeltaTable; stages: DeltaTable; scales: DeltaTable } | null {
  const t = c.totals;
  if (!t) return null;
  const total = (label: string, pick: (x: Cost) => number, unit: (n: number) => string): DeltaRow => ({
    change: pick(t.delta) === 0 ? 'same' : 'changed',
    cells: [label, unit(pick(t.a)), unit(pick(t.b)), formatSigned(pick(t.delta), unit)],
  });
  return {
    totals: {
      header: ['total', c.label, thisSide, 'change'],
      titles: ['', `The totals of ${c.label}`, `The totals of ${thisSide}`, `${thisSide} minus ${c.label}`],
      rows: [
        total('learned params', (x) => x.paramsLearned, formatExact),
        total('MACs', (x) => x.macs, formatExact),
        total('activations / image', (x) => x.activationBytes, formatBytes),
        total('default boxes', (x) => x.boxes, formatExact),
      ],
    },
    stages: {
      header: ['stage', 'params', 'MACs', 'activations'],
      titles: ['Stage, matched by kind and number', ...COST_TITLES],
      rows: c.stages.map((s) => ({ change: rowChange(s.change, s.delta), cells: [s.name + mark(s.change), ...costCells(s.delta)] })),
    },
    scales: {
      header: ['scale', 'params', 'MACs', 'activations', 'boxes'],
      titles: ['Prediction scale: its own stages (scale and head)', ...COST_TITLES, 'Change in default boxes'],
      rows: c.scales.map((s) => ({
        change: rowChange(s.change, s.delta),
        cells: [`scale${s.index}${mark(s.change)}`, ...costCells(s.delta), formatSigned(s.delta.boxes, formatExact)],
      })),
    },
  };
}
