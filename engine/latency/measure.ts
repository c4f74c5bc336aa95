// Measured latency of a spec's network (issue 14, item 6): what edge engineers budget for, timed rather than inferred
// from MACs. The network with the spec's seeded initial weights (latency does not depend on the values), run by
// onnxruntime-node or by the tfjs engine on random images: warm-up runs, then timed runs; the median and the 90th
// percentile, the achieved multiply-accumulates per second, and the machine and runtime that ran it.
import { cpus, platform, arch } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { Analysis } from '../../core';
import { defaultBoxes } from '../../core';
import { LATENCY_FORMAT, LATENCY_VERSION, type LatencyMachine, type LatencyMeasurement, type LatencyRuntime } from '../../protocol/latency';
import { createModel } from '../model/model';
import { initialValue, paramLayout } from '../model/params';
import type { WeightMap } from '../model/weights';
import { buildOnnxModel } from '../onnx/build';
import { createOnnxSession, nhwcToNchw, onnxRuntimeVersion } from '../onnx/runtime';

export type LatencyRuntimeName = 'onnx' | 'tfjs';

/** One batch through the network, read back to the CPU; dispose frees what the runner holds. */
export interface Runner {
  runtime: LatencyRuntime;
  run(): Promise<void>;
  dispose(): Promise<void>;
}

/** The weights a training starts from (the spec's seed): the values the tfjs model is created with. */
export function seededWeights(analysis: Analysis): WeightMap {
  const out: WeightMap = {};
  for (const slot of paramLayout(analysis.graph)) out[slot.name] = { shape: slot.shape, values: initialValue(slot, { seed: analysis.spec.train.seed }) };
  return out;
}

/** Pixel-like values from a fixed seed: the same images for every runtime. */
export function randomImages(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 255;
  }
  return out;
}

export async function onnxRunner(analysis: Analysis, batch: number, weights: WeightMap = seededWeights(analysis)): Promise<Runner> {
  const { session, provider } = await createOnnxSession(buildOnnxModel(analysis.graph, weights, { priors: defaultBoxes(analysis) }));
  const [c, h, w] = analysis.graph.nodes[0].shape;
  const feeds = { images: nhwcToNchw(randomImages(batch * h * w * c), [batch, h, w, c]) };
  return {
    runtime: { name: 'onnx', version: `onnxruntime-node ${onnxRuntimeVersion()}`, device: provider },
    run: async () => {
      await session.run(feeds, ['loc', 'conf']);
    },
    dispose: () => session.release(),
  };
}

/** On tfjs's current backend (the caller selects it); `device` says which. */
export async function tfjsRunner(analysis: Analysis, batch: number, device: string, weights?: WeightMap): Promise<Runner> {
  const model = createModel(analysis.graph, { seed: analysis.spec.train.seed });
  if (weights) model.setWeights(weights);
  const [h, w, c] = model.inputShape;
  const x = tf.tensor4d(randomImages(batch * h * w * c), [batch, h, w, c]);
  return {
    runtime: { name: 'tfjs', version: `@tensorflow/tfjs ${tf.version_core}`, device },
    run: async () => {
      const out = model.forward(x);
      try {
        await Promise.all([out.loc.data(), out.conf.data()]);
      } finally {
        tf.dispose([out.loc, out.conf]);
      }
    },
    dispose: async () => {
      x.dispose();
      model.dispose();
    },
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Milliseconds of each timed run, after `warmup` untimed ones. */
export async function timeRuns(run: () => Promise<void>, warmup: number, runs: number, now: () => number = () => performance.now()): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await run();
    times.push(now() - t0);
  }
  return times;
}

export function describeMachine(): LatencyMachine {
  const list = cpus();
  return { cpu: list[0]?.model.trim() || 'unknown CPU', cores: list.length, platform: `${platform()} ${arch()}` };
}

export interface MeasureOptions {
  batch: number;
  warmup: number;
  runs: number;
  specName: string;
  specHash: string;
}

/** Time a runner and describe the result as the measurement file keeps it. */
export async function measureLatency(analysis: Analysis, runner: Runner, o: MeasureOptions): Promise<LatencyMeasurement> {
  const times = (await timeRuns(() => runner.run(), o.warmup, o.runs)).sort((a, b) => a - b);
  const medianMs = percentile(times, 50);
  const macsPerImage = analysis.totals.macs;
  return {
    format: LATENCY_FORMAT,
    version: LATENCY_VERSION,
    spec: o.specName,
    specHash: o.specHash,
    macsPerImage,
    batch: o.batch,
    warmup: o.warmup,
    runs: o.runs,
    medianMs: round(medianMs, 3),
    p90Ms: round(percentile(times, 90), 3),
    gmacsPerSecond: round((macsPerImage * o.batch) / (medianMs / 1000) / 1e9, 3),
    runtime: runner.runtime,
    machine: describeMachine(),
    measuredAt: new Date().toISOString(),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
