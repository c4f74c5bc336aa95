// `dsod latency <spec>`: the network timed on this machine (engine/latency/measure.ts), printed and kept as the spec's
// latest measurement beside it (protocol/latency.ts), which the editor shows beside MACs and checks the budget's
// latency_ms against.
import { basename, dirname, join } from 'node:path';
import { formatLatency, formatMacRate, formatMacs } from '../../core';
import { latencyFileName, type LatencyMeasurement } from '../../protocol/latency';
import { selectBackend } from '../backend/select';
import { writeFileAtomic } from '../data/files';
import { EngineError, EXIT } from '../errors';
import { measureLatency, onnxRunner, tfjsRunner, type Runner } from '../latency/measure';
import { specTextHash } from '../train/checkpoint';
import { choiceOption, intOption, parseCommand, UsageError } from './args';
import type { Io } from './engine-command';
import { releaseStopSignals } from './signals';
import { loadSpecOrReport } from './spec-file';

export const LATENCY_USAGE = `  latency <spec>     Time the network on this machine (the spec's initial weights, random images): warm-up runs,
                     then timed runs; the median and 90th percentile, achieved MAC/s, the machine and runtime.
                     Kept as the spec's latest measurement beside it (<spec>.latency.json) for the editor and
                     the budget's latency_ms
      --runtime NAME     onnx (default: onnxruntime-node, CPU provider; CUDA where installed) or tfjs
      --backend NAME     The tfjs backend with --runtime tfjs (as for train)
      --batch N          Images per run (default 1)
      --warmup N         Untimed runs first (default 3)
      --runs N           Timed runs (default 20)
      --json             Print the measurement as JSON
`;

export async function latencyCommand(args: string[], io: Io): Promise<number> {
  releaseStopSignals();
  const { values, positionals } = parseCommand('latency', args, {
    runtime: { type: 'string' },
    backend: { type: 'string' },
    batch: { type: 'string' },
    warmup: { type: 'string' },
    runs: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('latency takes exactly one spec file');
  const runtime = choiceOption('runtime', values.runtime, ['onnx', 'tfjs'] as const) ?? 'onnx';
  if (values.backend !== undefined && runtime !== 'tfjs') throw new UsageError('--backend chooses the tfjs backend: it goes with --runtime tfjs');
  const batch = intOption('batch', values.batch, 1, 1024) ?? 1;
  const warmup = intOption('warmup', values.warmup, 0, 1000) ?? 3;
  const runs = intOption('runs', values.runs, 1, 100_000) ?? 20;
  const path = positionals[0];
  const spec = loadSpecOrReport(path, io);
  if (typeof spec === 'number') return spec;
  let runner: Runner;
  try {
    if (runtime === 'onnx') runner = await onnxRunner(spec.analysis, batch);
    else {
      const report = await selectBackend({ requested: values.backend ?? 'auto' });
      runner = await tfjsRunner(spec.analysis, batch, report.tfBackend);
    }
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    io.stderr.write(`dsod: ${e.message}\n`);
    return e.exitStatus;
  }
  let m: LatencyMeasurement;
  try {
    m = await measureLatency(spec.analysis, runner, { batch, warmup, runs, specName: basename(path), specHash: specTextHash(spec.text) });
  } finally {
    await runner.dispose();
  }
  const file = join(dirname(path), latencyFileName(basename(path)));
  io.stdout.write(values.json ? `${JSON.stringify(m)}\n` : describe(m, file));
  try {
    await writeFileAtomic(file, `${JSON.stringify(m, null, 1)}\n`);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    io.stderr.write(`dsod: the measurement was not kept: ${e.message}\n`);
    return e.exitStatus;
  }
  return EXIT.ok;
}

function describe(m: LatencyMeasurement, file: string): string {
  const perImage = m.batch > 1 ? ` (${formatLatency(m.medianMs / m.batch)} an image)` : '';
  return [
    `${m.spec}: batch ${m.batch}, ${m.runs} timed runs after ${m.warmup} warm-up`,
    `  median ${formatLatency(m.medianMs)}${perImage}, p90 ${formatLatency(m.p90Ms)}`,
    `  ${formatMacs(m.macsPerImage * m.batch)} a run: ${formatMacRate(m.gmacsPerSecond * 1e9)} achieved`,
    `  ${m.runtime.version} (${m.runtime.device}) on ${m.machine.cpu}, ${m.machine.cores} cores, ${m.machine.platform}`,
    `  kept in ${file}`,
    '',
  ].join('\n');
}
