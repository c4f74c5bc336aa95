// `dsod analyze <spec>`: the exact cost of a detector, as a table people can quote or as one JSON object.
import { readFileSync } from 'node:fs';
import { checkSpec, formatBytes, formatOf, type Analysis, type Diagnostic, type SpecCheck } from '../../core';

export interface AnalyzeOptions {
  json: boolean;
  hints: boolean;
  /** Batch size for the activation-memory figure. */
  batch: number;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export function analyzeCommand(file: string, options: AnalyzeOptions): CommandResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { stdout: '', stderr: `dsod: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`, exitCode: 2 };
  }
  const check = checkSpec(text, formatOf(file), { hints: options.hints });
  const failed = check.diagnostics.some((d) => d.severity === 'error');
  if (options.json) {
    return { stdout: JSON.stringify(toJson(file, check, options.batch), null, 2) + '\n', stderr: '', exitCode: failed ? 1 : 0 };
  }
  const stderr = check.diagnostics.map((d) => diagnosticLine(file, d)).join('');
  if (failed || !check.analysis) return { stdout: '', stderr, exitCode: 1 };
  return { stdout: renderReport(file, check.analysis, options.batch), stderr, exitCode: 0 };
}

/** `file:line:col: severity: message [code]`, 1-based like compilers print. */
export function diagnosticLine(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message} [${d.code}]\n`;
}

function toJson(file: string, check: SpecCheck, batch: number) {
  const a = check.analysis;
  const diagnostics = check.diagnostics.map((d) => ({
    file,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    severity: d.severity,
    code: d.code,
    message: d.message,
    range: d.range,
  }));
  if (!a) return { file, name: check.spec?.name ?? null, diagnostics };
  const t = a.totals;
  return {
    file,
    name: a.spec.name,
    input: [a.spec.input.channels, a.spec.input.height, a.spec.input.width],
    classes: a.spec.classes.count,
    params: { learned: t.paramsLearned, stored: t.paramsStored, bnStatistics: t.bnStatistics },
    macs: t.macs,
    flops: t.flops,
    defaultBoxes: t.defaultBoxes,
    activationBytes: { batch, bytes: t.activationBytesPerImage * batch },
    counts: { layers: a.layers.length - 1, conv: t.convLayers, batchNorm: t.bnLayers },
    scales: a.scales.map((s) => ({
      name: s.name,
      shape: s.shape,
      priorsPerLocation: s.priorsPerLocation,
      boxes: s.boxes,
      minSize: s.minSize,
      maxSize: s.maxSize,
      aspectRatios: s.aspectRatios,
      step: s.step,
      receptiveField: s.receptiveField,
    })),
    stages: a.stages.map((s) => ({
      name: s.name,
      kind: s.kind,
      shape: s.shape,
      layers: s.layers,
      paramsLearned: s.paramsLearned,
      paramsStored: s.paramsStored,
      macs: s.macs,
      receptiveField: s.receptiveField,
    })),
    layers: a.layers.map((l) => ({
      name: l.name,
      kind: l.kind,
      stage: l.stage,
      shape: l.shape,
      paramsLearned: l.paramsLearned,
      paramsStored: l.paramsStored,
      macs: l.macs,
      receptiveField: l.receptiveField,
    })),
    diagnostics,
  };
}

const int = (n: number) => n.toLocaleString('en-US');
const share = (part: number, total: number) => (total === 0 ? '-' : `${((100 * part) / total).toFixed(1)}%`);
const shape = (s: readonly number[]) => s.join('x');

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd() + '\n';
  return line(header) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('');
}

export function renderReport(file: string, a: Analysis, batch: number): string {
  const t = a.totals;
  const stageRows = a.stages
    .filter((s) => s.kind !== 'input')
    .map((s) => [s.name, shape(s.shape), int(s.paramsLearned), share(s.paramsLearned, t.paramsLearned), int(s.macs), share(s.macs, t.macs), String(s.receptiveField)]);
  stageRows.push(['total', '', int(t.paramsLearned), '100.0%', int(t.macs), '100.0%', '']);
  const scaleRows = a.scales.map((s) => [
    s.name,
    shape(s.shape),
    String(s.priorsPerLocation),
    int(s.boxes),
    `${s.minSize}/${s.maxSize ?? '-'}`,
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
    `${int(t.macs)} MACs = ${(t.flops / 1e9).toFixed(2)} GFLOPs (FLOPs = 2 x MACs), ${int(t.defaultBoxes)} default boxes, ` +
    `${formatBytes(t.activationBytesPerImage * batch)} of float32 activations per training step at batch ${batch}`
  );
}
