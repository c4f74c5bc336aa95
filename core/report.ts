// The text report of an analysed network: a table per stage, a table per scale, and the summary line people quote.
// Printed by `dsod analyze` (the editor's report view shows the same numbers as tables: server/service/report.ts).
import type { Analysis } from './analysis/analyze';
import { formatBytes, formatExact as int, formatFlops, formatShape, formatShare as share } from './format';

// Plain text: shapes in ASCII (800x38x38) so the columns line up in any terminal font.
const shape = (s: readonly number[]) => formatShape(s, true);

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd() + '\n';
  return line(header) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('');
}

export function renderReport(file: string, a: Analysis, batch: number): string {
  const t = a.totals;
  const stageRows = a.stages
    .filter((s) => s.kind !== 'input')
    .map((s) => [
      s.name,
      shape(s.shape),
      int(s.paramsLearned),
      share(s.paramsLearned, t.paramsLearned),
      int(s.macs),
      share(s.macs, t.macs),
      String(s.receptiveField),
    ]);
  stageRows.push(['total', '', int(t.paramsLearned), '100.0%', int(t.macs), '100.0%', '']);
  const scaleRows = a.scales.map((s) => [
    s.name,
    shape(s.shape),
    String(s.priorsPerLocation),
    int(s.boxes),
    `${s.minSize}/${s.maxSize ?? '–'}`,
    s.aspectRatios.map((r) => +r.toFixed(3)).join(','),
    String(+s.step.toFixed(3)),
    String(s.receptiveField),
  ]);
  const { spec } = a;
  return [
    `${spec.name}  (${file}; input ${spec.input.channels}x${spec.input.height}x${spec.input.width}, ${spec.classes.count} classes incl. background)\n\n`,
    table(['stage', 'output', 'learned params', 'params %', 'MACs', 'MACs %', 'RF'], stageRows, new Set([2, 3, 4, 5, 6])),
    '\n',
    table(['scale', 'feature map', 'priors/loc', 'boxes', 'min/max', 'aspect ratios', 'step', 'RF'], scaleRows, new Set([2, 3, 6, 7])),
    '\n',
    summaryLine(a, batch),
    '\n',
  ].join('');
}

/** The one line people quote, exact where others estimate. */
export function summaryLine(a: Analysis, batch = 1): string {
  const t = a.totals;
  return (
    `${a.spec.name} summary: ${a.layers.length - 1} layers (${t.convLayers} conv, ${t.bnLayers} batch norm), ` +
    `${int(t.paramsLearned)} learned parameters, ${int(t.paramsStored)} stored values (learned + ${int(t.bnStatistics)} BN running statistics), ` +
    `${int(t.macs)} MACs = ${formatFlops(t.macs)} (FLOPs = 2 x MACs), ${int(t.defaultBoxes)} default boxes, ` +
    `${formatBytes(t.activationBytesPerImage * batch)} of float32 activations per training step at batch ${batch}`
  );
}
