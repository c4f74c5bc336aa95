// Pure: the report's tables as columns (what a cell shows, what it sorts by) and the sorting. No DOM, so node tests
// and the page share it. Cells print through core/format.ts; sorting uses the exact numbers, never the printed text.
import { formatBytes, formatExact, formatFlops, formatShape, formatShare } from '../../core/format';
import type { ReportData, ReportScale, ReportStage } from '../../protocol/lsp';

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
