// The torch engine's speed options (engine/torch/dsod_torch/speed.py, issue 12, items 3 and 4): the report of every
// choice, bf16 autocast and channels-last training on the CPU, fp16's loss scaling, synchronized batch norm over two
// gloo processes, the launcher's multi-machine arguments as torchrun's environment, and the flags launch.ts passes.
// Skipped, with the reason, where no Python with torch is found (engine/torch/python.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { torchTrainArgs } from '../../engine/torch/launch';
import { torchPackageRoot } from '../../engine/torch/python';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import { toGraphJson } from '../../protocol/graph-json';
import { analyze, readRepoFile } from '../helpers';
import { skipWithoutTorch as skip, torchEnv as env, torchPython as found } from './torch-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-speed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Progress = Extract<EngineEvent, { type: 'progress' }>;

function tinyGraph(): string {
  const path = join(dir, 'tiny.graph.json');
  if (!existsSync(path)) writeFileSync(path, JSON.stringify(toGraphJson(analyze(readRepoFile('examples/tiny.dsod.yaml')), { hash: '00aa00aa00aa00aa' })));
  return path;
}

/** `python -m dsod_torch ...args` in the package folder: status, stdout, stderr. */
function dsodTorch(args: string[]): { code: number | null; stdout: string; stderr: string } {
  if (!found.ok) throw new Error(found.message);
  const r = spawnSync(found.python, ['-m', 'dsod_torch', ...args], { cwd: torchPackageRoot(), env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A Python program (on stdin) with dsod_torch importable; its last stdout line as JSON. */
function python<T>(source: string, ...args: string[]): T {
  if (!found.ok) throw new Error(found.message);
  const r = spawnSync(found.python, ['-', ...args], { cwd: torchPackageRoot(), env, input: source, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

function events(stdout: string): EngineEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const r = parseEngineEventLine(line);
      assert.ok(r.ok, r.ok ? '' : `${r.error}: ${line}`);
      return r.event;
    });
}

const CHOICES = ['device', 'precision', 'lossScaling', 'channelsLast', 'cudnnBenchmark', 'compile', 'threads', 'loader', 'syncBatchNorm'];

test('the speed report names every choice with its reason; auto on the CPU is float32, contiguous, no cudnn, no compile', { skip }, () => {
  const r = python<Record<string, Record<string, { value: unknown; why: string }>>>(`
import json, torch
from dsod_torch.speed import choose, speed_report
print(json.dumps({
    "auto": speed_report(choose("cpu")),
    "bf16": choose("cpu", precision="bf16").report(),
    "ranks": choose("cpu", sync_bn=True, world_size=4, local_world_size=2, cpu_count=8).report(),
}))`);
  for (const [name, report] of Object.entries(r)) {
    assert.deepEqual(Object.keys(report), CHOICES, name);
    for (const [k, c] of Object.entries(report)) assert.ok(typeof c.why === 'string' && c.why.length > 10, `${name}.${k}: ${c.why}`);
  }
  const auto = r.auto;
  assert.deepEqual(
    CHOICES.filter((k) => k !== 'threads' && k !== 'loader').map((k) => auto[k].value),
    ['cpu', 'fp32', false, false, false, false, false],
  );
  assert.match(auto.precision.why, /^auto on the CPU: float32/);
  assert.match(auto.cudnnBenchmark.why, /no cuDNN on the CPU/);
  // torch 1.13 (Debian 12) has no torch.compile; a torch 2 says why it is off on the CPU.
  assert.match(auto.compile.why, /has no torch\.compile|off on the CPU/);
  assert.deepEqual(Object.keys(auto.loader.value as object), ['num_workers', 'pin_memory', 'persistent_workers', 'prefetch_factor']);
  assert.equal((auto.loader.value as { pin_memory: boolean }).pin_memory, false);
  // bf16 on the CPU: channels-last follows (auto), no loss scaling.
  assert.deepEqual([r.bf16.precision.value, r.bf16.channelsLast.value, r.bf16.lossScaling.value], ['bf16', true, false]);
  // Two processes of this machine share its 8 cores: 4 threads each; --sync-bn with 4 processes in all.
  assert.deepEqual([r.ranks.syncBatchNorm.value, r.ranks.loader.value && (r.ranks.loader.value as { num_workers: number }).num_workers], [true, 1]);
  assert.match(r.ranks.syncBatchNorm.why, /all 4 processes/);
  assert.match(r.ranks.threads.why, /8 cores shared by 2 processes/);
});

test('options the machine cannot honour are refused with the reason (exit 2): fp16 on the CPU; an unknown precision', { skip }, () => {
  const fp16 = dsodTorch(['train', tinyGraph(), '--out', join(dir, 'fp16'), '--steps', '1', '--batch', '1', '--precision', 'fp16']);
  assert.equal(fp16.code, 2);
  assert.match(fp16.stderr, /--precision fp16 needs CUDA \(torch's CPU autocast has bf16 only\)/);
  assert.equal(existsSync(join(dir, 'fp16', 'events.jsonl')), false);
  const bad = dsodTorch(['train', tinyGraph(), '--out', join(dir, 'bad'), '--precision', 'fp8']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid choice: 'fp8'/);
});

test("bf16 autocast on the CPU trains: finite losses near float32's, valid events, float32 weights in the checkpoint", { skip }, () => {
  const bf16 = dsodTorch(['train', tinyGraph(), '--out', join(dir, 'bf16'), '--steps', '3', '--batch', '2', '--precision', 'bf16']);
  assert.equal(bf16.code, 0, bf16.stderr);
  const ev = events(bf16.stdout);
  assert.deepEqual(
    ev.map((e) => e.type),
    ['doctor', 'start', 'log', 'progress', 'progress', 'progress', 'checkpoint', 'done'],
  );
  assert.match((ev[2] as Extract<EngineEvent, { type: 'log' }>).message, /bf16 autocast, channels-last/);
  // The doctor carries every speed choice as it ran, with its reason.
  const choices = (ev[0] as Extract<EngineEvent, { type: 'doctor' }>).torch?.choices;
  assert.deepEqual(Object.keys(choices ?? {}), CHOICES);
  assert.deepEqual([choices!.precision.value, choices!.channelsLast.value, choices!.lossScaling.value], ['bf16', 'on', 'off']);
  const fp32 = events(dsodTorch(['train', tinyGraph(), '--out', join(dir, 'fp32'), '--steps', '3', '--batch', '2', '--precision', 'fp32']).stdout);
  const lb = ev.filter((e) => e.type === 'progress').map((e) => (e as Progress).loss);
  const lf = fp32.filter((e) => e.type === 'progress').map((e) => (e as Progress).loss);
  for (let i = 0; i < 3; i++) {
    assert.ok(Number.isFinite(lb[i]));
    // bf16 keeps 8 bits of mantissa: the same loss to about a percent, not the same bits.
    assert.ok(Math.abs(lb[i] - lf[i]) < 0.02 * lf[i], `step ${i + 1}: bf16 ${lb[i]}, fp32 ${lf[i]}`);
  }
  assert.notDeepEqual(lb, lf);
  const ck = ev.find((e) => e.type === 'checkpoint') as Extract<EngineEvent, { type: 'checkpoint' }>;
  const dtypes = python<string[]>(
    'import sys, json, torch; c = torch.load(sys.argv[1], weights_only=True); print(json.dumps(sorted({str(t.dtype) for k in ("weights", "optimizer") for t in c[k].values()})))',
    ck.path,
  );
  assert.deepEqual(dtypes, ['torch.float32']);
});

test('channels-last trains to the same losses as contiguous (float32, within 1e-4 relative) and resumes', { skip }, () => {
  const runs = ['--channels-last', '--no-channels-last'].map((flag) => {
    const r = dsodTorch(['train', tinyGraph(), '--out', join(dir, flag), '--steps', '3', '--batch', '2', '--precision', 'fp32', flag]);
    assert.equal(r.code, 0, r.stderr);
    return events(r.stdout);
  });
  const firstLog = (ev: EngineEvent[]) => (ev.find((e) => e.type === 'log') as Extract<EngineEvent, { type: 'log' }>).message;
  assert.match(firstLog(runs[0]), /fp32, channels-last/);
  assert.match(firstLog(runs[1]), /fp32, contiguous/);
  const [a, b] = runs.map((ev) => ev.filter((e) => e.type === 'progress').map((e) => (e as Progress).loss));
  assert.equal(a.length, 3);
  // The first step's loss is the same network on the same batch: 1e-4. Later steps start from weights that differ by
  // the rounding of other convolution kernels, which the hard-negative ranking can amplify: the same to 1e-2.
  assert.ok(Math.abs(a[0] - b[0]) <= 1e-4 * Math.abs(b[0]), `step 1: ${a[0]} vs ${b[0]}`);
  for (let i = 1; i < 3; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-2 * Math.abs(b[i]), `step ${i + 1}: ${a[i]} vs ${b[i]}`);
  // A channels-last checkpoint resumes in the other layout (the checkpoint holds values, not strides).
  const resumed = dsodTorch(['train', tinyGraph(), '--out', join(dir, '--channels-last'), '--steps', '4', '--resume', '--no-channels-last']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(
    events(resumed.stdout)
      .filter((e) => e.type === 'progress')
      .map((e) => (e as Progress).step),
    [4],
  );
});

// The gradients through a smooth function of the outputs: the MultiBox loss's hard-negative ranking flips near-ties
// under any change of rounding and sends gradient through other priors (both right), which is not what is compared.
// Gradients of the weights before a batch norm are small sums of large terms that cancel (batch norm ignores its
// input's scale), so float32 gets them only to ~1e-2 in any layout: each layout's is compared with float64's, and
// channels-last must be as close to it as contiguous.
test("channels-last: the loss equals the contiguous network's within 1e-4 relative, and its gradients are as exact", { skip }, () => {
  const r = python<{ loss: number; errContiguous: number; errChannelsLast: number; layouts: boolean[] }>(
    `
import sys, json, torch
from dsod_torch.graph import GraphNet, load_graph
from dsod_torch.loss import multibox_loss
from dsod_torch.speed import choose
from dsod_torch.train import synthetic_images
from dsod_torch.boxes import prior_boxes
g = load_graph(sys.argv[1])
x, loc_t, labels = synthetic_images(g, prior_boxes(g), 0, 2, 0)
def run(cl, dtype):
    plan = choose("cpu", precision="fp32", channels_last=cl)
    net = plan.prepare(GraphNet(g, seed=0).to(dtype).train())
    loc, conf = plan.forward(net, x.to(dtype)) if dtype == torch.float32 else net(x.to(dtype))
    loss = multibox_loss(loc, conf, loc_t, labels)[0].item()
    gen = torch.Generator().manual_seed(1)
    ((loc * torch.randn(loc.shape, generator=gen, dtype=dtype)).sum() + (conf * torch.randn(conf.shape, generator=gen, dtype=dtype)).sum()).backward()
    w = net.layers[1].weight
    return loss, [p.grad.double() for p in net.parameters()], w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
(la, ga, ca), (lb, gb, cb), (_, ref, _) = run(False, torch.float32), run(True, torch.float32), run(False, torch.float64)
def err(gs): return max(float((a - r).abs().max() / r.abs().max()) for a, r in zip(gs, ref))
print(json.dumps({"loss": abs(la - lb) / abs(la), "errContiguous": err(ga), "errChannelsLast": err(gb), "layouts": [ca, cb]}))`,
    tinyGraph(),
  );
  assert.deepEqual(r.layouts, [false, true]);
  assert.ok(r.loss <= 1e-4, `loss: relative difference ${r.loss}`);
  assert.ok(
    r.errChannelsLast <= Math.max(2 * r.errContiguous, 1e-5),
    `gradients vs float64: channels-last ${r.errChannelsLast}, contiguous ${r.errContiguous}`,
  );
});

test("fp16's loss scaling: scaled backward then unscale gives the unscaled gradients; an overflow skips the step and halves the scale", { skip }, () => {
  const r = python<{ err: number; ok: boolean[]; scales: number[] }>(`
import json, torch
from dsod_torch.speed import LossScaler
torch.manual_seed(0)
w = torch.randn(5, 3, requires_grad=True)
x = torch.randn(4, 5)
(x @ w).square().mean().backward()
plain = w.grad.clone()
w.grad = None
s = LossScaler(scale=1024.0, interval=2)
((x @ w).square().mean() * s.scale).backward()
ok1 = s.unscale([w])
err = float((w.grad - plain).abs().max() / plain.abs().max())
w.grad = torch.full_like(w, float("inf"))
ok2 = s.unscale([w])
scale_after_overflow = s.scale
w.grad = plain.clone(); ok3 = s.unscale([w])
w.grad = plain.clone(); ok4 = s.unscale([w])
print(json.dumps({"err": err, "ok": [ok1, ok2, ok3, ok4], "scales": [scale_after_overflow, s.scale]}))`);
  assert.ok(r.err < 1e-6, `relative error ${r.err}`);
  assert.deepEqual(r.ok, [true, false, true, true]);
  // 1024 halved on the overflow; two good steps in a row (interval 2) double it back.
  assert.deepEqual(r.scales, [512, 1024]);
});

const SYNC_CHECK = `
import json, os, socket, torch, torch.distributed as dist, torch.multiprocessing as mp
from dsod_torch.graph import CaffeBatchNorm
from dsod_torch import syncbn
C = 5
torch.manual_seed(0)
x = torch.randn(6, C, 4, 3) * 3 + 1.5
dy = torch.randn(6, C, 4, 3)
PARTS = [slice(0, 2), slice(2, 6)]  # unequal: the combination must weigh each process by its count

def make():
    bn = CaffeBatchNorm(C, 1e-3).train()
    with torch.no_grad():
        bn.gamma.copy_(torch.linspace(0.5, 1.5, C)); bn.beta.copy_(torch.linspace(-0.2, 0.2, C))
        bn.mean_ema.copy_(torch.linspace(-1, 1, C) * 0.003); bn.var_ema.copy_(torch.linspace(0.5, 2, C) * 0.003); bn.factor.fill_(3.0)
    return bn

def run(bn, part):
    xi = x[part].clone().requires_grad_()
    y = bn(xi)
    (y * dy[part]).sum().backward()
    return y.detach(), xi.grad

def worker(rank, port, q):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    bn = make()
    assert syncbn.enable(bn) == 1
    y, gx = run(bn, PARTS[rank])
    g = torch.stack([bn.gamma.grad, bn.beta.grad])
    dist.all_reduce(g)
    # Plain lists through the queue: tensors would travel as shared memory the exiting child takes with it.
    q.put((rank, y.tolist(), gx.tolist(), g.tolist(), torch.cat([bn.mean_ema, bn.var_ema, bn.factor]).tolist()))
    dist.destroy_process_group()

with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
ctx = mp.get_context("fork")
q = ctx.Queue()
ps = [ctx.Process(target=worker, args=(r, port, q)) for r in range(2)]
for p in ps: p.start()
got = sorted((q.get(timeout=120) for _ in ps), key=lambda t: t[0])
got = [[t[0]] + [torch.tensor(v) for v in t[1:]] for t in got]
for p in ps: p.join()
one = make()
y, gx = run(one, slice(0, 6))
# What one step adds to the running statistics (the decayed sums keep 0.999 of their trained-like start).
init = torch.cat([make().mean_ema, make().var_ema, make().factor])
stats = torch.cat([one.mean_ema, one.var_ema, one.factor]) - init
def parts(t): return (t[:C], t[C:2 * C], t[2 * C:])
def rel(a, b): return float((a - b).abs().max() / b.abs().max())
def rel_parts(a, b): return max(rel(u, v) for u, v in zip(parts(a), parts(b)))
# Per process, without synchronization: what --sync-bn replaces (its statistics are not the whole batch's).
alone = make(); run(alone, PARTS[0])
print(json.dumps({
    "stats": max(rel_parts(t[4] - init, stats) for t in got),
    "out": rel(torch.cat([got[0][1], got[1][1]]), y),
    "gradX": rel(torch.cat([got[0][2], got[1][2]]), gx),
    "gradGammaBeta": max(rel(t[3], torch.stack([one.gamma.grad, one.beta.grad])) for t in got),
    "unsynced": rel_parts(torch.cat([alone.mean_ema, alone.var_ema, alone.factor]) - init, stats),
}))
`;

test('--sync-bn: two gloo processes with parts of a batch get the single-process statistics, output and gradients of the whole batch', { skip }, () => {
  const r = python<Record<string, number>>(SYNC_CHECK);
  for (const k of ['stats', 'out', 'gradX', 'gradGammaBeta']) assert.ok(r[k] < 1e-5, `${k}: relative error ${r[k]}`);
  assert.ok(r.unsynced > 1e-2, `a process alone differs: ${r.unsynced}`);
});

test('--sync-bn in training: two processes (DDP, gloo) fold the same running statistics as one process with the whole batch', { skip }, () => {
  const stats = (run: string) =>
    python<number[]>(
      'import sys, json, torch; c = torch.load(sys.argv[1] + "/checkpoints/step-00000001.pt", weights_only=True); w = c["weights"]; print(json.dumps(torch.cat([w[k].reshape(-1) for k in sorted(w) if k.endswith(("_sum", "/factor"))]).tolist()))',
      run,
    );
  const one = dsodTorch(['train', tinyGraph(), '--out', join(dir, 'bn-one'), '--steps', '1', '--batch', '4']);
  assert.equal(one.code, 0, one.stderr);
  const synced = dsodTorch(['launch', '--nproc', '2', 'train', tinyGraph(), '--out', join(dir, 'bn-sync'), '--steps', '1', '--batch', '4', '--sync-bn']);
  assert.equal(synced.code, 0, synced.stderr);
  const log = events(synced.stdout).find((e) => e.type === 'log') as Extract<EngineEvent, { type: 'log' }>;
  assert.match(log.message, /2 processes \(gloo\).*synchronized batch norm/);
  const per = dsodTorch(['launch', '--nproc', '2', 'train', tinyGraph(), '--out', join(dir, 'bn-per'), '--steps', '1', '--batch', '4']);
  assert.equal(per.code, 0, per.stderr);
  const [a, b, c] = [stats(join(dir, 'bn-one')), stats(join(dir, 'bn-sync')), stats(join(dir, 'bn-per'))];
  // Relative to the statistics' scale: float32 sums in another order through ~30 layers differ by ~1e-6 of it.
  const scale = Math.max(...a.map(Math.abs));
  const err = (u: number[], v: number[]) => Math.max(...u.map((x, i) => Math.abs(x - v[i]))) / scale;
  assert.ok(err(b, a) < 1e-4, `synced vs whole batch: ${err(b, a)}`);
  assert.ok(err(c, a) > 1e-2, `per process differs: ${err(c, a)}`);
});

test("launch: --nnodes/--node-rank/--master-addr/--master-port become torchrun's environment of each local rank", { skip }, () => {
  const r = python<{ options: Record<string, unknown>; rest: string[]; envs: Record<string, string>[] }>(`
import json
from dsod_torch.launch import parse_launch, rank_envs
o, rest = parse_launch(["--nproc", "2", "--nnodes=3", "--node-rank", "1", "--master-addr", "10.1.2.3", "--master-port", "29555", "train", "g.json", "--out", "r", "--sync-bn"])
keys = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT"]
envs = [{k: e[k] for k in keys} for e in rank_envs(o["nproc"], o["nnodes"], o["node_rank"], o["master_addr"], o["master_port"], base={})]
print(json.dumps({"options": o, "rest": rest, "envs": envs}))`);
  assert.deepEqual(r.options, { nproc: 2, nnodes: 3, node_rank: 1, master_addr: '10.1.2.3', master_port: 29555 });
  assert.deepEqual(r.rest, ['train', 'g.json', '--out', 'r', '--sync-bn']);
  const common = { WORLD_SIZE: '6', LOCAL_WORLD_SIZE: '2', GROUP_RANK: '1', MASTER_ADDR: '10.1.2.3', MASTER_PORT: '29555' };
  assert.deepEqual(r.envs, [
    { RANK: '2', LOCAL_RANK: '0', ...common },
    { RANK: '3', LOCAL_RANK: '1', ...common },
  ]);
  // Several machines without a rendezvous address, or a node rank out of range: refused before anything starts.
  const noAddr = dsodTorch(['launch', '--nproc', '2', '--nnodes', '2', '--node-rank', '1', 'train', tinyGraph(), '--out', join(dir, 'never')]);
  assert.equal(noAddr.code, 2);
  assert.match(noAddr.stderr, /several machines \(--nnodes > 1\) need --master-addr and --master-port/);
  const rank = dsodTorch(['launch', '--nproc', '1', '--nnodes', '2', '--node-rank', '2', '--master-addr', 'h', '--master-port', '1', 'train']);
  assert.equal(rank.code, 2);
  assert.match(rank.stderr, /--node-rank 2: between 0 and --nnodes - 1 \(1\)/);
  assert.equal(existsSync(join(dir, 'never')), false);
});

test('bench/gpu/: the prepared GPU benchmark runs on the CPU with a tiny setting and writes its table; its DSOD300 graph is current', { skip }, () => {
  if (!found.ok) return;
  const out = join(dir, 'gpu-bench.md');
  const script = join(__dirname, '..', '..', '..', 'bench', 'gpu', 'gpu_bench.py');
  const r = spawnSync(
    found.python,
    [script, '--device', 'cpu', '--graph', tinyGraph(), '--batch', '2', '--steps', '1', '--warmup', '1', '--threads', '1', '--out', out],
    {
      env,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const md = readFileSync(out, 'utf8');
  assert.match(md, /^tiny DSOD \(DS\/16-32-8-1, 96x96\) training on the CPU \(torch [^)]+\); batch asked 2, 1 warm-up \+ 1 timed steps, median step\./);
  assert.match(md, /\| torch engine \(its automatic speed plan\) \| 2 \| [\d.]+ \| [\d.]+ \| [\d.]+x \| - \(CPU\) \| \d+ \|/);
  assert.match(md, /\| eager fp32 baseline \| 2 \| [\d.]+ \| [\d.]+ \| 1\.00x \| - \(CPU\) \| \d+ \|/);
  assert.match(md, /\| tfjs WebGPU \| - \| (not available|not measured) /);
  assert.match(md, /Engine choices: precision = "fp32" \(auto on the CPU/);
  // Without a GPU the GPU run says so instead of measuring the CPU (where there is one, it would run for minutes).
  if (!python<boolean>('import torch; print("true" if torch.cuda.is_available() else "false")')) {
    const noGpu = spawnSync(found.python, [script, '--out', join(dir, 'never.md')], { env, encoding: 'utf8' });
    assert.equal(noGpu.status, 2);
    assert.match(noGpu.stderr, /no CUDA device here/);
  }
  // The graph the GPU machine reads (it may have no Node to export it) is today's export of examples/dsod300.dsod.yaml.
  const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'bench', 'gpu', 'dsod300.graph.json'), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(toGraphJson(analyze(readRepoFile('examples/dsod300.dsod.yaml'))))));
});

test('launch.ts passes the speed and multi-machine options to the engine', () => {
  const graph = toGraphJson(analyze(readRepoFile('examples/tiny.dsod.yaml')));
  const base = { graph, runDir: 'r', specPath: 's.yaml' };
  assert.deepEqual(torchTrainArgs(base, 'g.json', '/r'), ['-m', 'dsod_torch', 'train', 'g.json', '--out', '/r', '--spec', 's.yaml', '--no-events-file']);
  assert.deepEqual(
    torchTrainArgs(
      {
        ...base,
        processes: 4,
        nodes: { count: 2, rank: 1, masterAddr: '10.0.0.1', masterPort: 29500 },
        precision: 'bf16',
        channelsLast: false,
        compile: true,
        syncBn: true,
      },
      'g.json',
      '/r',
    ),
    [
      ...['-m', 'dsod_torch', 'launch', '--nproc', '4', '--nnodes', '2', '--node-rank', '1', '--master-addr', '10.0.0.1', '--master-port', '29500'],
      ...['train', 'g.json', '--out', '/r', '--spec', 's.yaml', '--precision', 'bf16', '--no-channels-last', '--compile', '--sync-bn', '--no-events-file'],
    ],
  );
});
