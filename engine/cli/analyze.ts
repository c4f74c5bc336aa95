// `dsod analyze <spec>`: the exact cost of a detector, as a table people can quote or as one JSON object.
import {
  analysisTables,
  checkSpec,
  conventionsMarkdown,
  COUNTING_CONVENTIONS,
  fitBatch,
  formatBytes,
  formatExact,
  formatOf,
  renderReport,
  TABLE_NAMES,
  tableToCsv,
  tableToMarkdown,
  trainingMemory,
  type Analysis,
  type BatchFit,
  type Diagnostic,
  type MemoryEngine,
  type Precision,
  type SpecCheck,
  type TableName,
  type TrainingMemory,
} from '../../core';
import { EXIT } from '../errors';
import { readFailure, readSpecFile, type SpecRead } from './spec-read';
import { readLatencyBeside } from '../latency/file';
import { textTable } from './text-table';

export const ANALYZE_USAGE = `  analyze <spec>     Exact shapes, parameters, MACs and default boxes of a DSOD spec (*.dsod.yaml, *.dsod.json)
      --json         Print one JSON object instead of the tables (the same as --format json)
      --format F     text (default), json, csv or md: the tables for papers and spreadsheets, exact numbers, the
                     counting conventions in the header
      --table T      layers, stages or scales: the one table csv prints (default stages); md prints all three
                     unless one is named
      --batch N      Batch size for the activation-memory figure (default 1); with --memory, the micro-batch
                     (default train.batch / train.accumulate)
      --memory       Training memory of one step, per stage and in total, counted per layer for an engine:
                     weights, gradients, momentum, what the backward pass keeps, the batch; the inference peak
      --engine E     tfjs (default) or torch, for --memory
      --precision P  fp32 (default) or bf16 (torch only: bfloat16 activations, float32 weights), for --memory
      --fit SIZE     With --memory: the largest micro-batch that fits SIZE (24GB, 8GiB) and the accumulation
                     that reaches the spec's train.batch
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
  /** `--memory`: the training-memory breakdown instead of the analysis. */
  memory?: MemoryRequest | null;
}

export interface MemoryRequest {
  engine: MemoryEngine;
  precision: Precision;
  /** The micro-batch; null: the spec's train.batch / train.accumulate. */
  batch: number | null;
  /** `--fit`: bytes a step may take. */
  fit: number | null;
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
  if (options.memory) return memoryCommand(file, check, failed, options.memory, options.format === 'json');
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

function jsonDiagnostics(file: string, check: SpecCheck) {
  return check.diagnostics.map((d) => ({
    file,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    severity: d.severity,
    code: d.code,
    message: d.message,
    range: d.range,
  }));
}

function toJson(file: string, check: SpecCheck, batch: number) {
  const a = check.analysis;
  const diagnostics = jsonDiagnostics(file, check);
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

function memoryCommand(file: string, check: SpecCheck, failed: boolean, request: MemoryRequest, json: boolean): CommandResult {
  const stderr = json ? '' : check.diagnostics.map((d) => diagnosticLine(file, d)).join('');
  const a = check.analysis;
  if (failed || !a) {
    const out = json ? JSON.stringify({ file, name: check.spec?.name ?? null, diagnostics: jsonDiagnostics(file, check) }, null, 2) + '\n' : '';
    return { stdout: out, stderr, exitCode: EXIT.failed };
  }
  const options = { engine: request.engine, precision: request.precision, ...(request.batch !== null ? { batch: request.batch } : {}) };
  const m = trainingMemory(a, options);
  const fit = request.fit !== null ? fitBatch(a, request.fit, { engine: request.engine, precision: request.precision }) : null;
  if (json) {
    return {
      stdout:
        JSON.stringify({ file, name: a.spec.name, memory: m, fit, trainBatch: a.spec.train.batch, diagnostics: jsonDiagnostics(file, check) }, null, 2) + '\n',
      stderr,
      exitCode: EXIT.ok,
    };
  }
  return { stdout: renderMemory(a, m, fit), stderr, exitCode: EXIT.ok };
}

/** The breakdown per stage and the step's parts, as plain text. */
function renderMemory(a: Analysis, m: TrainingMemory, fit: BatchFit | null): string {
  const t = a.spec.train;
  const tfjs = m.engine === 'tfjs';
  const header = ['stage', 'kept for backward', ...(tfjs ? ['backward pass'] : [])];
  // The input stage runs no operation (the batch is its own part below).
  const rows = m.stages.filter((s) => s.saved > 0 || s.backward > 0).map((s) => [s.name, formatBytes(s.saved), ...(tfjs ? [formatBytes(s.backward)] : [])]);
  rows.push(['total', formatBytes(m.saved), ...(tfjs ? [formatBytes(m.backward)] : [])]);
  const parts: [string, number][] = [
    ['weights (stored values, float32)', m.weights],
    ['weight gradients', m.gradients],
    [tfjs && m.accumulate > 1 ? 'momentum + accumulated gradient' : 'momentum (SGD)', m.optimizer],
    ['batch (images, box targets, labels)', m.inputs],
    ['kept for backward', m.saved],
    ...(tfjs ? ([['activation gradients held to the end of backward', m.backward]] as [string, number][]) : []),
    ...(!tfjs ? ([['other node outputs held to the end of forward', m.forwardExtra]] as [string, number][]) : []),
  ];
  const lines = [
    `${a.spec.name}: training memory, ${m.engine} ${m.precision}, micro-batch ${m.batch} ` +
      `(train.batch ${t.batch} = ${t.batch / t.accumulate} x accumulate ${t.accumulate})`,
    '',
    textTable(header, rows),
    textTable(
      ['part', 'bytes'],
      parts.map(([k, v]) => [k, formatBytes(v)]),
    ),
    `one training step (peak): ${formatBytes(m.total)} (${formatExact(m.total)} B)`,
    `inference (forward only, batch ${m.batch}): ${formatBytes(m.inferencePeak)}`,
  ];
  if (fit) {
    lines.push('');
    if (fit.largest === 0) lines.push(`--fit ${formatBytes(fit.budget)}: not even one image fits; use a smaller input or a narrower network`);
    else {
      lines.push(`--fit ${formatBytes(fit.budget)}: at most ${fit.largest} image${fit.largest > 1 ? 's' : ''} per micro-batch`);
      if (fit.plan)
        lines.push(
          `train.batch ${t.batch}: micro-batch ${fit.plan.microBatch} x accumulate ${fit.plan.accumulate} (${formatBytes(fit.plan.memory)} per step)` +
            `: set train.accumulate: ${fit.plan.accumulate}`,
        );
    }
  }
  lines.push(
    '',
    'Counted exactly per layer (what the framework keeps); not counted: allocator overhead and caching, convolution',
    'workspaces (cuDNN, XNNPACK), the CUDA context, cuDNN batch-norm reserve space. See README, "Training memory".',
  );
  return lines.join('\n') + '\n';
}
