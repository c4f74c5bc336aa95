// Inference speed: images per second of a forward pass read back to the CPU (loc and conf), for DSOD300 and the tiny
// example at batch 1 and 8, run by onnxruntime-node (the CPU provider, on the network `dsod export --onnx` writes) and,
// as the peer in the same run with the same weights and images, by the tfjs engine on its wasm backend. The goal
// (issue 14): onnxruntime at least 4x tfjs wasm for DSOD300. Rounds alternate between the two; the table shows the
// median round. Machines are shared: images per CPU-second (process CPU time, every thread) are shown too, which
// other processes' load disturbs far less than wall-clock time.
// Run: npm run bench:infer (tsc -p . && node out/bench/infer.bench.js); BENCH_ROUNDS=N to change the rounds.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { checkSpec, type Analysis } from '../core/index';
import { selectBackend } from '../engine/backend/select';
import { onnxRunner, seededWeights, tfjsRunner, timeRuns, type Runner } from '../engine/latency/measure';
import { onnxRuntimeVersion } from '../engine/onnx/runtime';

const ROOT = join(__dirname, '..', '..');

interface Workload {
  label: string;
  spec: string;
  batch: number;
  /** Untimed then timed runs, per round and runtime. */
  warmup: number;
  runs: number;
}

interface Speed {
  imgPerSec: number;
  imgPerCpuSec: number;
}

function analysisOf(file: string): Analysis {
  const r = checkSpec(readFileSync(join(ROOT, file), 'utf8'), 'yaml', { hints: false });
  if (!r.analysis) throw new Error(`${file} does not analyse`);
  return r.analysis;
}

async function speed(make: () => Promise<Runner>, w: Workload): Promise<Speed> {
  const runner = await make();
  try {
    for (let i = 0; i < w.warmup; i++) await runner.run();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await timeRuns(() => runner.run(), 0, w.runs);
    const sec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const images = w.batch * w.runs;
    return { imgPerSec: images / sec, imgPerCpuSec: images / ((cpu.user + cpu.system) / 1e6) };
  } finally {
    await runner.dispose();
  }
}

function median(xs: Speed[]): Speed {
  const pick = (f: (s: Speed) => number) => [...xs.map(f)].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  return { imgPerSec: pick((s) => s.imgPerSec), imgPerCpuSec: pick((s) => s.imgPerCpuSec) };
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
  const workloads: Workload[] = [
    { label: 'tiny example', spec: 'examples/tiny.dsod.yaml', batch: 1, warmup: 3, runs: 20 },
    { label: 'tiny example', spec: 'examples/tiny.dsod.yaml', batch: 8, warmup: 1, runs: 5 },
    { label: 'DSOD300', spec: 'examples/dsod300.dsod.yaml', batch: 1, warmup: 1, runs: 2 },
    { label: 'DSOD300', spec: 'examples/dsod300.dsod.yaml', batch: 8, warmup: 0, runs: 1 },
  ];
  const doctor = await selectBackend({ requested: 'wasm' });
  console.log(`peer: tfjs ${doctor.attempts[0].detail}`);
  console.log(`onnxruntime-node ${onnxRuntimeVersion()}, CPU provider; ${cpus()[0]?.model.trim()}, ${cpus().length} cores`);
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other processes share these cores)`,
  );
  const rows: string[][] = [];
  const f = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
  for (const w of workloads) {
    const a = analysisOf(w.spec);
    const weights = seededWeights(a);
    const ort: Speed[] = [];
    const tfjs: Speed[] = [];
    let tfjsFailed: string | null = null;
    for (let r = 0; r < rounds; r++) {
      ort.push(await speed(() => onnxRunner(a, w.batch, weights), w));
      if (!tfjsFailed) {
        try {
          tfjs.push(await speed(() => tfjsRunner(a, w.batch, 'wasm', weights), w));
        } catch (e) {
          // wasm32 memory stops at 4 GB: a large batch of DSOD300 may not fit.
          tfjsFailed = (e as Error).message.split('\n')[0].slice(0, 80);
        }
      }
      process.stderr.write(`  ${w.label} batch ${w.batch}: round ${r + 1}/${rounds} done\n`);
    }
    const o = median(ort);
    const t = tfjs.length ? median(tfjs) : null;
    rows.push([
      w.label,
      String(w.batch),
      f(o.imgPerSec),
      t ? f(t.imgPerSec) : `failed: ${tfjsFailed}`,
      t ? `${(o.imgPerSec / t.imgPerSec).toFixed(2)}x` : '-',
      f(o.imgPerCpuSec),
      t ? f(t.imgPerCpuSec) : '-',
      t ? `${(o.imgPerCpuSec / t.imgPerCpuSec).toFixed(2)}x` : '-',
    ]);
  }
  const header = ['network', 'batch', 'onnxruntime img/s', 'tfjs wasm img/s', 'ratio', 'onnxruntime img/CPU-s', 'tfjs wasm img/CPU-s', 'ratio per CPU-s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(
    `\nmedian of ${rounds} alternating round${rounds > 1 ? 's' : ''}; load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log('tfjs wasm runs one thread (threads are off under Node); onnxruntime uses its default intra-op threads.');
  console.log('Goal (issue 14): onnxruntime >= 4x tfjs wasm images/s for DSOD300.');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
