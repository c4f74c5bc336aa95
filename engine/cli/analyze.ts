// `dsod analyze <spec>`: the exact cost of a detector, as a table people can quote or as one JSON object.
import {
  analysisTables,
  checkSpec,
  conventionsMarkdown,
  COUNTING_CONVENTIONS,
  formatOf,
  renderReport,
  TABLE_NAMES,
  tableToCsv,
  tableToMarkdown,
  type Diagnostic,
  type SpecCheck,
  type TableName,
} from '../../core';
import { EXIT } from '../errors';
import { readFailure, readSpecFile, type SpecRead } from './spec-read';
import { readLatencyBeside } from '../latency/file';

export const ANALYZE_USAGE = `  analyze <spec>     Exact shapes, parameters, MACs and default boxes of a DSOD spec (*.dsod.yaml, *.dsod.json)
      --json         Print one JSON object instead of the tables (the same as --format json)
      --format F     text (default), json, csv or md: the tables for papers and spreadsheets, exact numbers, the
                     counting conventions in the header
      --table T      layers, stages or scales: the one table csv prints (default stages); md prints all three
                     unless one is named
      --batch N      Batch size for the activation-memory figure (default 1)
      --no-hints     Leave out the design-principle hints
`;

export type AnalyzeFormat = 'text' | 'json' | 'csv' | 'md';
export const ANALYZE_FORMATS: readonly AnalyzeFormat[] = ['text', 'json', 'csv', 'md'];

export interface AnalyzeOptions {
  format: AnalyzeFormat;
  /** The table csv prints (default stages) or the only one md prints. */
  table: TableName | null;
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
  let read: SpecRead;
  try {
    read = readSpecFile(file, formatOf(file));
  } catch (e) {
    return { stdout: '', stderr: `dsod: cannot read ${file}: ${readFailure(e)}\n`, exitCode: EXIT.usage };
  }
  // The latest `dsod latency` beside the spec, for budget.latency_ms (as the editor checks it).
  const measured = readLatencyBeside(file);
  const warning = measured.problem ? `dsod: warning: the latency measurement is ignored: ${measured.problem}\n` : '';
  const check = read.check ?? checkSpec(read.text, formatOf(file), { hints: options.hints, latency: measured.latency });
  const failed = check.diagnostics.some((d) => d.severity === 'error');
  if (options.format === 'json') {
    return { stdout: JSON.stringify(toJson(file, check, options.batch), null, 2) + '\n', stderr: warning, exitCode: failed ? EXIT.failed : EXIT.ok };
  }
  const stderr = warning + check.diagnostics.map((d) => diagnosticLine(file, d)).join('');
  if (failed || !check.analysis) return { stdout: '', stderr, exitCode: EXIT.failed };
  const tables = analysisTables(check.analysis);
  if (options.format === 'csv') return { stdout: tableToCsv(tables[options.table ?? 'stages']), stderr, exitCode: EXIT.ok };
  if (options.format === 'md') {
    const shown = options.table ? [tables[options.table]] : TABLE_NAMES.map((n) => tables[n]);
    return { stdout: [conventionsMarkdown(), ...shown.map(tableToMarkdown)].join('\n'), stderr, exitCode: EXIT.ok };
  }
  return { stdout: renderReport(file, check.analysis, options.batch), stderr, exitCode: EXIT.ok };
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
      // The shortest and longest side of the scale's default boxes, px: what its receptive field must cover.
      boxSides: s.boxSides,
    })),
    stages: a.stages.map((s) => ({
      name: s.name,
      kind: s.kind,
      shape: s.shape,
      ops: s.ops,
      denseLayers: s.denseLayers,
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
    conventions: COUNTING_CONVENTIONS,
    diagnostics,
  };
}
