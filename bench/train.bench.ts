// Training speed: images per second of a full training step (forward, MultiBox loss with hard negative mining,
// backward, SGD with momentum and weight decay) for the tiny example (its micro-batch) and DSOD300 (batch 1), on
// tfjs's wasm backend with our kernels, and, as the peer in the same run, PyTorch on the CPU training the same
// network built from core's graph (bench/torch_train.py; Debian: apt-get install python3-torch libopenblas0-pthread).
// Rounds alternate between the two, and the table shows the median round. Machines are shared: besides wall-clock
// images/s, images per CPU-second (process CPU time) are shown, which other processes' load disturbs far less.
// Run: npm run bench:train (tsc -p . && node out/bench/train.bench.js); BENCH_ROUNDS=N to change the rounds.
// A second table compares tfjs wasm on 1 thread (the single-threaded SIMD build) with the threaded SIMD build on 2
// threads: each in its own process (a process has one wasm module), alternating, the same seeded inputs; median step
// time of the timed steps, and the first 3 steps' losses compared (issue 12, item 7). BENCH_THREADS_ONLY=1 runs only it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkSpec, type Analysis } from '../core/index';
import { selectBackend } from '../engine/backend/select';
import { WASM_THREADS_ENV } from '../engine/backend/wasm-threads';
import { multiboxLoss } from '../engine/boxes/loss';
import { createModel } from '../engine/model/model';
import { MomentumSgd } from '../engine/train/sgd';
import { findTorchPython } from '../engine/torch/python';
import { toGraphJson } from '../protocol/graph-json';

const ROOT = join(__dirname, '..', '..');

export interface Workload {
  label: string;
  spec: string;
  batch: number;
  tfjs: { warmup: number; steps: number };
  torch: { warmup: number; steps: number };
}

export interface Speed {
  imgPerSec: number;
  imgPerCpuSec: number;
}

export function analysisOf(file: string): Analysis {
  const r = checkSpec(readFileSync(join(ROOT, file), 'utf8'), 'yaml', { hints: false });
  if (!r.analysis) throw new Error(`${file} does not analyse`);
  return r.analysis;
}

/** The same synthetic targets as torch_train.py: a positive every 50 priors, smooth offsets. */
function targets(batch: number, P: number, C: number): { labels: Int32Array; loc: Float32Array } {
  const labels = new Int32Array(batch * P);
  for (let i = 0; i < labels.length; i++) labels[i] = i % 50 === 0 ? 1 + (i % (C - 1)) : 0;
  const loc = Float32Array.from({ length: batch * P * 4 }, (_, i) => Math.sin(i) * 0.5);
  return { labels, loc };
}

export async function tfjsSpeed(a: Analysis, w: Workload): Promise<Speed> {
  const r = await tfjsSteps(a, w, w.tfjs.warmup + w.tfjs.steps);
  const timed = (xs: number[]) => xs.slice(w.tfjs.warmup).reduce((sum, x) => sum + x, 0) / 1000;
  const images = w.batch * w.tfjs.steps;
  return { imgPerSec: images / timed(r.ms), imgPerCpuSec: images / timed(r.cpuMs) };
}

/** Per-step wall and CPU milliseconds and losses of `steps` training steps on seeded inputs (the first `warmup` untimed by the caller). */
export async function tfjsSteps(a: Analysis, w: Workload, steps: number): Promise<{ ms: number[]; cpuMs: number[]; losses: number[] }> {
  const model = createModel(a.graph, { seed: 0 });
  const trainable = model.params.filter((p) => p.trainable);
  const vars = trainable.map((p) => p.variable);
  const sgd = new MomentumSgd(trainable, { momentum: 0.9, weightDecay: 5e-4 });
  const [h, wd, c] = model.inputShape;
  const P = model.numBoxes;
  const t = targets(w.batch, P, model.numClasses);
  const x = tf.randomUniform([w.batch, h, wd, c], -100, 100, 'float32', 7) as tf.Tensor4D;
  const locT = tf.tensor3d(t.loc, [w.batch, P, 4]);
  const labels = tf.tensor2d(t.labels, [w.batch, P], 'int32');
  const out = { ms: [] as number[], cpuMs: [] as number[], losses: [] as number[] };
  try {
    for (let i = 0; i < steps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => {
        const o = model.forward(x, { training: true });
        return multiboxLoss(o.loc, o.conf, locT, labels).total;
      }, vars);
      const loss = (await value.data())[0];
      const g = vars.map((v) => grads[v.name]);
      sgd.apply(g, 1e-3);
      tf.dispose([value, ...g]);
      await vars[vars.length - 1].data(); // the update has run
      const cu = process.cpuUsage(c0);
      out.ms.push(performance.now() - t0);
      out.cpuMs.push((cu.user + cu.system) / 1000);
      out.losses.push(loss);
    }
    return out;
  } finally {
    tf.dispose([x, locT, labels]);
    sgd.dispose();
    model.dispose();
  }
}

interface ThreadsRun {
  threads: number;
  ms: number[];
  cpuMs: number[];
  losses: number[];
}

/** One process: the wasm backend with $DSOD_WASM_THREADS as given, the workload's steps; prints a ThreadsRun as JSON. */
async function threadsChild(): Promise<void> {
  const w = JSON.parse(process.env.DSOD_BENCH_THREADS_CHILD!) as Workload;
  const doctor = await selectBackend({ requested: 'wasm' });
  const r = await tfjsSteps(analysisOf(w.spec), w, w.tfjs.warmup + w.tfjs.steps);
  console.log(JSON.stringify({ threads: doctor.threads ?? 1, ...r }));
}

function runThreadsChild(w: Workload, threads: number): ThreadsRun {
  const r = spawnSync(process.execPath, [__filename], {
    encoding: 'utf8',
    env: { ...process.env, DSOD_BENCH_THREADS_CHILD: JSON.stringify(w), [WASM_THREADS_ENV]: String(threads) },
  });
  if (r.status !== 0) throw new Error(`the ${threads}-thread run failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ThreadsRun;
}

/** The table of 1 thread vs 2 threads, rounds alternating; median of the timed steps of all rounds. */
async function threadsTable(workloads: Workload[], rounds: number): Promise<void> {
  const rows: string[][] = [];
  for (const w of workloads) {
    const runs: Record<1 | 2, ThreadsRun[]> = { 1: [], 2: [] };
    for (let r = 0; r < rounds; r++) {
      for (const n of [1, 2] as const) {
        const run = runThreadsChild(w, n);
        if (run.threads !== n) throw new Error(`asked for ${n} threads, the backend runs ${run.threads}`);
        runs[n].push(run);
      }
      process.stderr.write(`  ${w.label}: threads round ${r + 1}/${rounds} done\n`);
    }
    const timed = (xs: ThreadsRun[], k: 'ms' | 'cpuMs') => xs.flatMap((x) => x[k].slice(w.tfjs.warmup));
    const [m1, m2] = [median(timed(runs[1], 'ms')), median(timed(runs[2], 'ms'))];
    const [c1, c2] = [median(timed(runs[1], 'cpuMs')), median(timed(runs[2], 'cpuMs'))];
    // The first 3 steps' losses: every 2-thread run against the first 1-thread run (and 1-thread runs among themselves).
    const ref = runs[1][0].losses.slice(0, 3);
    const rel = (xs: ThreadsRun[]) => Math.max(...xs.flatMap((x) => x.losses.slice(0, 3).map((l, i) => Math.abs(l - ref[i]) / Math.abs(ref[i]))));
    rows.push([
      w.label,
      String(w.batch),
      String(runs[1].length * w.tfjs.steps),
      (m1 / 1000).toFixed(3),
      (m2 / 1000).toFixed(3),
      `${(m1 / m2).toFixed(2)}x`,
      (c1 / 1000).toFixed(2),
      (c2 / 1000).toFixed(2),
      rel(runs[2]).toExponential(1),
      ref.map((l) => l.toPrecision(7)).join(' '),
    ]);
  }
  const header = [
    'network',
    'batch',
    'timed steps each',
    '1 thread s/step',
    '2 threads s/step',
    'speed-up',
    '1t CPU-s/step',
    '2t CPU-s/step',
    'max rel. loss diff (steps 1-3)',
    'losses (1 thread)',
  ];
  console.log('');
  printTable(header, rows);
  console.log(
    `\ntfjs wasm, 1 thread (the single-threaded SIMD build) vs the threaded SIMD build on 2 threads; ${rounds} alternating rounds, each in its own process.`,
  );
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

function torchSpeed(python: string, graphFile: string, w: Workload, threads: number): Speed & { version: string } {
  const r = spawnSync(
    python,
    [
      join(ROOT, 'bench', 'torch_train.py'),
      graphFile,
      '--batch',
      String(w.batch),
      '--steps',
      String(w.torch.steps),
      '--warmup',
      String(w.torch.warmup),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } },
  );
  if (r.status !== 0) throw new Error(`torch_train.py failed: ${r.stderr || r.stdout}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { imgPerSec: o.imgPerSec, imgPerCpuSec: o.imgPerCpuSec, version: o.torch };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function medianSpeed(xs: Speed[]): Speed {
  return { imgPerSec: median(xs.map((x) => x.imgPerSec)), imgPerCpuSec: median(xs.map((x) => x.imgPerCpuSec)) };
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const tiny = analysisOf('examples/tiny.dsod.yaml');
  const tinyBatch = tiny.spec.train.batch / tiny.spec.train.accumulate;
  const workloads: Workload[] = [
    { label: 'tiny example', spec: 'examples/tiny.dsod.yaml', batch: tinyBatch, tfjs: { warmup: 2, steps: 8 }, torch: { warmup: 2, steps: 16 } },
    { label: 'DSOD300', spec: 'examples/dsod300.dsod.yaml', batch: 1, tfjs: { warmup: 1, steps: 2 }, torch: { warmup: 1, steps: 4 } },
  ];
  if (process.env.BENCH_THREADS_ONLY === '1') {
    console.log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (2 cores here; other processes share them)`,
    );
    await threadsTable(workloads, rounds);
    console.log(
      `load average at end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    return;
  }
  const doctor = await selectBackend({ requested: 'wasm' });
  // The torch engine's own search ($DSOD_PYTHON, python3, /usr/bin/python3), so the bench runs what the engine would.
  const found = findTorchPython();
  const python = found.ok ? found.python : null;
  const dir = mkdtempSync(join(tmpdir(), 'dsod-bench-train-'));
  const load = loadavg();
  console.log(`backend: ${doctor.attempts[0].detail}`);
  console.log(`peer: ${found.ok ? `PyTorch ${found.torch} via ${found.python}` : `${found.message} tfjs only`}`);
  console.log(`load average at start: ${load.map((l) => l.toFixed(2)).join(' ')} (2 cores here; other processes share them)`);
  const rows: string[][] = [];
  let version = '';
  try {
    for (const w of workloads) {
      const a = analysisOf(w.spec);
      const graphFile = join(dir, `${w.label.replace(/\W+/g, '-')}.json`);
      writeFileSync(graphFile, JSON.stringify(toGraphJson(a)));
      const tfjsRuns: Speed[] = [];
      const torch1: Speed[] = [];
      const torch2: Speed[] = [];
      for (let r = 0; r < rounds; r++) {
        tfjsRuns.push(await tfjsSpeed(a, w));
        if (python) {
          const one = torchSpeed(python, graphFile, w, 1);
          version = one.version;
          torch1.push(one);
          torch2.push(torchSpeed(python, graphFile, w, 2));
        }
        process.stderr.write(`  ${w.label}: round ${r + 1}/${rounds} done\n`);
      }
      const t = medianSpeed(tfjsRuns);
      const p1 = python ? medianSpeed(torch1) : null;
      const p2 = python ? medianSpeed(torch2) : null;
      const f = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
      rows.push([
        w.label,
        String(w.batch),
        f(t.imgPerSec),
        p1 ? f(p1.imgPerSec) : '-',
        p2 ? f(p2.imgPerSec) : '-',
        p1 ? `${(t.imgPerSec / p1.imgPerSec).toFixed(2)}x` : '-',
        p2 ? `${(t.imgPerSec / p2.imgPerSec).toFixed(2)}x` : '-',
        f(t.imgPerCpuSec),
        p1 ? f(p1.imgPerCpuSec) : '-',
        p1 ? `${(t.imgPerCpuSec / p1.imgPerCpuSec).toFixed(2)}x` : '-',
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header = [
    'network',
    'batch',
    'tfjs wasm img/s',
    `PyTorch${version ? ' ' + version : ''} 1 thread`,
    'PyTorch 2 threads',
    'tfjs/PyTorch 1t',
    'tfjs/PyTorch 2t',
    'tfjs img/CPU-s',
    'PyTorch 1t img/CPU-s',
    'ratio per CPU-s',
  ];
  console.log('');
  printTable(header, rows);
  console.log(
    `\nmedian of ${rounds} alternating rounds; load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`tfjs wasm runs ${doctor.threads ?? 1} thread(s) (${WASM_THREADS_ENV}=N for the threaded build); PyTorch is shown at 1 and 2 threads.`);
  if (!existsSync(join(ROOT, 'bench', 'torch_train.py'))) console.log('(bench/torch_train.py missing)');
  await threadsTable(workloads, rounds);
}

// bench/torch.bench.ts imports the tfjs measurement from here.
if (require.main === module) {
  (process.env.DSOD_BENCH_THREADS_CHILD ? threadsChild() : main()).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
