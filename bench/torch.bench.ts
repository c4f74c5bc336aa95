// The torch engine's training speed on this CPU (issue 12, Benchmarks): images per second of a full training step
// (forward, MultiBox loss with hard negative mining, backward, SGD with momentum and weight decay) for the tiny example
// and DSOD300 at batch 1 and 8, measured in the same run for
//   - the torch engine's step (bench/torch_train.py --engine: its speed plan, engine/torch/dsod_torch/speed.py, and
//     Caffe's SGD), at its CPU default (auto: float32) and with --precision bf16 (autocast, channels-last);
//   - the plain eager float32 PyTorch baseline (bench/torch_train.py);
//   - the tfjs engine on wasm (bench/train.bench.ts's measurement).
// Ratios are against the eager baseline and the tfjs engine. All at one thread (tfjs wasm runs one under Node; the
// machine is shared), so images per CPU-second, which other processes' load disturbs far less than wall-clock, are
// shown too; the ratio per CPU-second is the one to read on a loaded machine.
// Run: npm run bench:torch (tsc -p . && node out/bench/torch.bench.js). BENCH_ROUNDS=N rounds (default 1; the median
// round is shown), BENCH_QUICK=1 for the batch-1 rows only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../engine/backend/select';
import { findTorchPython } from '../engine/torch/python';
import { toGraphJson } from '../protocol/graph-json';
import { analysisOf, median, tfjsSpeed, type Speed, type Workload } from './train.bench';

const ROOT = join(__dirname, '..', '..');

interface TorchRun extends Speed {
  version: string;
  precision: string;
  channelsLast: boolean;
}

function torchRun(python: string, graphFile: string, w: Workload, extra: string[]): TorchRun {
  const args = ['--batch', String(w.batch), '--steps', String(w.torch.steps), '--warmup', String(w.torch.warmup), '--threads', '1'];
  const r = spawnSync(python, [join(ROOT, 'bench', 'torch_train.py'), graphFile, ...args, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (r.status !== 0) throw new Error(`torch_train.py ${extra.join(' ')} failed: ${r.stderr || r.stdout}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
  if (!o.lossFinite) throw new Error(`torch_train.py ${extra.join(' ')}: the loss is not finite`);
  return {
    imgPerSec: o.imgPerSec,
    imgPerCpuSec: o.imgPerCpuSec,
    version: o.torch,
    precision: o.speed ? o.speed.precision.value : 'fp32',
    channelsLast: o.speed ? o.speed.channelsLast.value : false,
  };
}

function medianOf<T extends Speed>(xs: T[]): Speed {
  return { imgPerSec: median(xs.map((x) => x.imgPerSec)), imgPerCpuSec: median(xs.map((x) => x.imgPerCpuSec)) };
}

const f = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
  const found = findTorchPython();
  if (!found.ok) {
    console.log(`${found.message}\nnpm run bench:torch needs PyTorch; nothing measured.`);
    return;
  }
  const quick = process.env.BENCH_QUICK === '1';
  const doctor = await selectBackend({ requested: 'wasm' });
  const rows: Workload[] = [
    { label: 'tiny example', spec: 'examples/tiny.dsod.yaml', batch: 1, tfjs: { warmup: 2, steps: 8 }, torch: { warmup: 2, steps: 16 } },
    { label: 'tiny example', spec: 'examples/tiny.dsod.yaml', batch: 8, tfjs: { warmup: 1, steps: 3 }, torch: { warmup: 1, steps: 6 } },
    { label: 'DSOD300', spec: 'examples/dsod300.dsod.yaml', batch: 1, tfjs: { warmup: 1, steps: 2 }, torch: { warmup: 1, steps: 3 } },
    { label: 'DSOD300', spec: 'examples/dsod300.dsod.yaml', batch: 8, tfjs: { warmup: 1, steps: 1 }, torch: { warmup: 1, steps: 2 } },
  ].filter((r) => !quick || r.batch === 1);
  const dir = mkdtempSync(join(tmpdir(), 'dsod-bench-torch-'));
  console.log(`PyTorch ${found.torch} via ${found.python}; tfjs: ${doctor.attempts[0].detail}`);
  console.log(`${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other processes share these cores)`,
  );
  const table: string[][] = [];
  let bf16Layout = '';
  const notes: string[] = [];
  try {
    for (const w of rows) {
      const a = analysisOf(w.spec);
      const graphFile = join(dir, `${w.label.replace(/\W+/g, '-')}.json`);
      writeFileSync(graphFile, JSON.stringify(toGraphJson(a)));
      let tfjsFailed = '';
      const runs: Record<'engine' | 'bf16' | 'eager', TorchRun[]> & { tfjs: Speed[] } = { engine: [], bf16: [], eager: [], tfjs: [] };
      for (let r = 0; r < rounds; r++) {
        // Alternating, so a change of load falls on all of them alike.
        runs.eager.push(torchRun(found.python, graphFile, w, []));
        runs.engine.push(torchRun(found.python, graphFile, w, ['--engine']));
        runs.bf16.push(torchRun(found.python, graphFile, w, ['--engine', '--precision', 'bf16']));
        // tfjs's wasm memory is 32-bit (4 GB): DSOD300's training step at batch 8 does not fit; the row says so.
        try {
          runs.tfjs.push(await tfjsSpeed(a, w));
        } catch (e) {
          tfjsFailed = `tfjs failed at ${w.label} batch ${w.batch}: ${(e as Error).message}`;
          notes.push(tfjsFailed);
        }
        process.stderr.write(`  ${w.label} batch ${w.batch}: round ${r + 1}/${rounds} done\n`);
      }
      bf16Layout = runs.bf16[0].channelsLast ? 'channels-last' : 'contiguous';
      const [e, b, p] = [medianOf(runs.engine), medianOf(runs.bf16), medianOf(runs.eager)];
      const t = runs.tfjs.length ? medianOf(runs.tfjs) : null;
      table.push([
        w.label,
        String(w.batch),
        f(e.imgPerSec),
        f(b.imgPerSec),
        f(p.imgPerSec),
        t ? f(t.imgPerSec) : 'failed',
        ratio(e.imgPerSec, p.imgPerSec),
        ratio(b.imgPerSec, p.imgPerSec),
        t ? ratio(e.imgPerSec, t.imgPerSec) : '-',
        ratio(e.imgPerCpuSec, p.imgPerCpuSec),
        ratio(b.imgPerCpuSec, p.imgPerCpuSec),
        t ? ratio(e.imgPerCpuSec, t.imgPerCpuSec) : '-',
      ]);
      // Each row as it is measured, so a long run that ends early still leaves its numbers.
      process.stderr.write(`  ${table[table.length - 1].join(' | ')}${tfjsFailed ? ' (tfjs failed)' : ''}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header = [
    'network',
    'batch',
    'engine img/s',
    'engine bf16',
    'eager fp32',
    'tfjs wasm',
    'engine/eager',
    'bf16/eager',
    'engine/tfjs',
    'engine/eager per CPU-s',
    'bf16/eager per CPU-s',
    'engine/tfjs per CPU-s',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  console.log('');
  console.log(line(header));
  console.log('|' + widths.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : '-'.repeat(n + 1) + ':')).join('|') + '|');
  for (const r of table) console.log(line(r));
  console.log(
    `\nmedian of ${rounds} round(s), one thread each; load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const n of notes) console.log(n);
  console.log(`engine: its CPU default (auto: float32, contiguous); engine bf16: --precision bf16 (autocast, ${bf16Layout}).`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
