// The latest measured latency of a spec's network (`dsod latency`), as a small JSON file beside the spec:
// `<spec file name less .yaml/.yml/.json>.latency.json` (tiny.dsod.yaml -> tiny.dsod.latency.json). The engine writes
// it (atomically); the extension reads it and hands it to the language server (LatencyNotification in lsp.ts), which
// shows it beside MACs and checks `budget.latency_ms` against it. Validated on every read: the file is on disk.
import type { MeasuredLatency } from '../core/analysis/budget';
import { count, finite, literal, nonNegative, shapeOf, str, type Validation } from './checks';

export const LATENCY_FORMAT = 'dsod-latency';
export const LATENCY_VERSION = 1;

export interface LatencyMachine {
  /** The CPU's model name as the OS reports it. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** `linux x64` and the like. */
  platform: string;
}

export interface LatencyRuntime {
  /** `onnx` (onnxruntime-node) or `tfjs`. */
  name: string;
  /** `onnxruntime-node 1.30.0` or `@tensorflow/tfjs 4.22.0`. */
  version: string;
  /** The provider or backend that ran: `cpu`, `cuda`, `wasm (SIMD)`. */
  device: string;
}

export interface LatencyMeasurement {
  format: typeof LATENCY_FORMAT;
  version: typeof LATENCY_VERSION;
  /** The spec's file name (beside the measurement). */
  spec: string;
  /** The hash of the spec text measured (engine/train/checkpoint.ts specTextHash): a later edit makes it stale. */
  specHash: string;
  /** MACs of one image, as core counts them. */
  macsPerImage: number;
  batch: number;
  warmup: number;
  runs: number;
  /** Milliseconds per batch. */
  medianMs: number;
  p90Ms: number;
  /** Achieved multiply-accumulates per second, in billions, at the median. */
  gmacsPerSecond: number;
  runtime: LatencyRuntime;
  machine: LatencyMachine;
  /** ISO time of the measurement. */
  measuredAt: string;
}

/** Where the latest measurement of a spec lives. No node imports: the path is joined by the caller. */
export function latencyFileName(specFileName: string): string {
  return `${specFileName.replace(/\.(ya?ml|json)$/i, '')}.latency.json`;
}

const positive = (v: unknown, at: string) => finite(v, at) ?? ((v as number) > 0 ? null : `${at} must be above 0`);

const checkRuntime = shapeOf<LatencyRuntime>()({ name: str(64), version: str(128), device: str(128) });
const checkMachine = shapeOf<LatencyMachine>()({ cpu: str(256), cores: count, platform: str(64) });
const checkMeasurement = shapeOf<LatencyMeasurement>()({
  format: literal(LATENCY_FORMAT),
  version: literal(LATENCY_VERSION),
  spec: str(1024),
  specHash: str(128),
  macsPerImage: nonNegative,
  batch: positive,
  warmup: count,
  runs: positive,
  medianMs: positive,
  p90Ms: positive,
  gmacsPerSecond: nonNegative,
  runtime: checkRuntime,
  machine: checkMachine,
  measuredAt: str(64),
});

export function validateLatency(raw: unknown): Validation<LatencyMeasurement> {
  const error = checkMeasurement(raw, 'latency');
  return error ? { ok: false, error } : { ok: true, message: raw as LatencyMeasurement };
}

/** A measurement as core's MeasuredLatency (what budget.latency_ms is checked against), labelled by who measured it. */
export function measuredLatency(m: LatencyMeasurement): MeasuredLatency {
  return {
    medianMs: m.medianMs,
    p90Ms: m.p90Ms,
    batch: m.batch,
    label: `${m.runtime.version} (${m.runtime.device}) on ${m.machine.cpu}, ${m.machine.cores} cores`,
    measuredAt: m.measuredAt,
    macsPerImage: m.macsPerImage,
  };
}
