// `dsod train|eval|infer --engine torch` through the CLI (out/engine/cli/main.js): the torch engine behind the same
// events and run folder as the tfjs engine, its evaluations scored by the TypeScript evaluator, stop and resume, and
// weights both engines read. Skipped, with the reason, where no Python with torch is found (except the test of what
// the doctor says then).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadSplit, resolveDataSource } from '../../engine/data/source';
import { readDetectionsFile } from '../../engine/eval/detections-file';
import { decodeWeights } from '../../engine/model/weights';
import { readWeightsFile } from '../../engine/train/checkpoint';
import { readMetrics } from '../../engine/train/run-files';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import { skipWithoutTorch as skip, torchEnv } from './torch-fixtures';

const repoRoot = join(__dirname, '..', '..', '..');
const cli = join(repoRoot, 'out', 'engine', 'cli', 'main.js');
const spec = join(repoRoot, 'examples', 'tiny.dsod.yaml');
const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-bridge-'));
const data = join(dir, 'synth');
after(() => rmSync(dir, { recursive: true, force: true }));
/** The tiny example with a checkpoint every 2 steps and 100000 iterations (a --minutes budget cannot fit them), its
 * data.root the synthetic set. */
const spec2 = join(dir, 'tiny2.dsod.yaml');
/** The tiny example with train.sync_bn: true. */
const syncSpec = join(dir, 'tiny-sync.dsod.yaml');
before(() => {
  const r = spawnSync(process.execPath, [cli, 'synth', '--out', data, '--count', '16'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(spec, 'utf8')
    .replace('checkpoint_every: 500', 'checkpoint_every: 2')
    .replace('iterations: 4000', 'iterations: 100000')
    .replace('root: ../data/synth', 'root: synth');
  assert.match(text, /checkpoint_every: 2\b[\s\S]*root: synth\b/);
  writeFileSync(spec2, text);
  const sync = readFileSync(spec, 'utf8').replace('\n  seed: 0\n', '\n  seed: 0\n  sync_bn: true\n');
  assert.match(sync, /sync_bn: true/);
  writeFileSync(syncSpec, sync);
});

/** Every stdout line an event the protocol accepts (the test fails on the first that is not). */
function events(stdout: string): EngineEvent[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = parseEngineEventLine(l);
      assert.ok(r.ok, `${r.ok ? '' : r.error}: ${l}`);
      return r.event;
    });
}

function dsod(args: string[], env: NodeJS.ProcessEnv = torchEnv): { status: number | null; events: EngineEvent[]; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, events: events(r.stdout), stderr: r.stderr };
}

const types = (es: EngineEvent[]) => es.filter((e) => e.type !== 'log').map((e) => e.type);
const of = <K extends EngineEvent['type']>(es: EngineEvent[], type: K) => es.filter((e): e is Extract<EngineEvent, { type: K }> => e.type === type);

/** A run folder's files, checkpoints by extension (the engines' checkpoint formats differ: .dsodckpt, .pt). */
function folder(runDir: string): string[] {
  return readdirSync(runDir, { recursive: true, encoding: 'utf8' })
    .map((f) => f.replace(/step-\d+\.(dsodckpt|pt)$/, 'step-N.checkpoint'))
    .sort();
}

const torchRun = join(dir, 'torch');
let trained: ReturnType<typeof dsod> | null = null;

test('dsod train --engine torch: valid events in the tfjs order, evaluations scored in Node, the run folder of a tfjs run', { skip }, () => {
  const tfjsRun = join(dir, 'tfjs');
  const common = ['--data', data, '--steps', '3', '--eval-every', '2'];
  const t = dsod(['train', spec, '--engine', 'torch', '--out', torchRun, ...common]);
  trained = t;
  assert.equal(t.status, 0, t.stderr);
  const f = dsod(['train', spec, '--out', tfjsRun, ...common]);
  assert.equal(f.status, 0, f.stderr);
  // The same sequence as the tfjs engine's (logs aside): a periodic evaluation at step 2, the final one after the checkpoint.
  assert.deepEqual(types(t.events), types(f.events));
  assert.deepEqual(types(t.events), ['doctor', 'start', 'progress', 'progress', 'metric', 'progress', 'checkpoint', 'metric', 'done']);
  const doctor = of(t.events, 'doctor')[0];
  assert.equal(doctor.engine, 'torch');
  assert.ok(doctor.torch && doctor.torch.version && doctor.torch.worldSize === 1, JSON.stringify(doctor));
  assert.ok(
    doctor.attempts.some((a) => a.ok),
    'the Pythons tried are the attempts',
  );
  assert.deepEqual(
    of(t.events, 'metric').map((m) => [m.step, m.images, m.split, m.curves]),
    [
      [2, 3, 'test', join(torchRun, 'pr-curves.json')],
      [3, 3, 'test', join(torchRun, 'pr-curves.json')],
    ],
  );
  // The same initial weights (the tfjs engine's seeded ones, handed over by the bridge), the same batches (the ported
  // augmentation) and the same loss: the first step's loss and parts equal the tfjs engine's to float32 rounding;
  // later steps start from updates that differ by rounding.
  const losses = (es: EngineEvent[]) => of(es, 'progress').map((p) => [p.loss, p.parts.loc, p.parts.conf]);
  for (const [i, tolerance] of [1e-5, 1e-3, 1e-3].entries())
    losses(t.events)[i].forEach((x, k) => {
      const y = losses(f.events)[i][k];
      assert.ok(Math.abs(x - y) <= tolerance * Math.abs(y), `step ${i + 1}: torch ${x} vs tfjs ${y}`);
    });
  // Both recompute the batch-norm statistics the weights leave with, over the same training images.
  const recalibrated = (es: EngineEvent[]) => of(es, 'log').find((l) => l.message.startsWith('batch-norm statistics recomputed'))?.message;
  assert.equal(recalibrated(t.events), recalibrated(f.events));
  assert.ok(recalibrated(t.events));
  const done = of(t.events, 'done')[0];
  assert.deepEqual([done.reason, done.step, done.exitCode], ['step-limit', 3, 0]);
  assert.equal(of(t.events, 'checkpoint')[0].reason, 'limit');
  // events.jsonl: exactly what was printed (one writer), never the torch engine's `detections` hand-over.
  const lines = events(readFileSync(join(torchRun, 'events.jsonl'), 'utf8'));
  assert.deepEqual(lines, t.events);
  assert.ok(!lines.some((e) => (e.type as string) === 'detections'));
  // The same files as the tfjs run's, and what the torch engine read: the graph and the dataset index.
  assert.deepEqual(folder(torchRun), [...folder(tfjsRun), 'data.json', 'graph.json'].sort());
  assert.deepEqual(
    readMetrics(torchRun).map((m) => m.step),
    [2, 3],
  );
  // The final weights in the tfjs engine's file, with the tfjs network's names and shapes.
  const torchWeights = decodeWeights(readFileSync(join(torchRun, 'weights.dsodw')));
  const tfjsWeights = decodeWeights(readFileSync(join(tfjsRun, 'weights.dsodw')));
  assert.deepEqual(
    Object.entries(torchWeights).map(([n, w]) => [n, w.shape]),
    Object.entries(tfjsWeights).map(([n, w]) => [n, w.shape]),
  );
});

test('SIGTERM: a checkpoint, done stopped, exit 143; --resume continues at the next step', { skip }, async () => {
  const runDir = join(dir, 'stopped');
  const child = spawn(process.execPath, [cli, 'train', spec, '--engine', 'torch', '--data', data, '--out', runDir, '--eval-every', '0', '--json'], {
    env: torchEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let signalled = false;
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    if (!signalled && out.includes('"type":"progress"')) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  const code = await new Promise<number | null>((ok) => child.on('close', ok));
  assert.equal(code, 143, err);
  const es = events(out);
  const checkpoint = of(es, 'checkpoint').at(-1)!;
  const done = of(es, 'done').at(-1)!;
  assert.equal(checkpoint.reason, 'signal');
  assert.deepEqual([done.reason, done.exitCode, done.step], ['stopped', 143, checkpoint.step]);
  assert.equal(es.at(-1), done);

  const at = checkpoint.step;
  const r = dsod(['train', spec, '--engine', 'torch', '--data', data, '--out', runDir, '--resume', '--steps', String(at + 1), '--eval-every', '0']);
  assert.equal(r.status, 0, r.stderr);
  const start = of(r.events, 'start')[0];
  assert.deepEqual([start.step, start.resumed], [at, true]);
  assert.deepEqual(
    of(r.events, 'progress').map((p) => p.step),
    [at + 1],
  );
  // Without --resume, the folder is refused (run-exists), as for tfjs; the tfjs engine refuses it even with --resume.
  const again = dsod(['train', spec, '--engine', 'torch', '--data', data, '--out', runDir, '--steps', '1']);
  assert.equal(again.status, 2);
  assert.equal(of(again.events, 'error')[0].code, 'run-exists');
  const tfjs = dsod(['train', spec, '--data', data, '--out', runDir, '--resume', '--steps', String(at + 2)]);
  assert.equal(tfjs.status, 2);
  assert.match(of(tfjs.events, 'error')[0].message, /holds a run of the torch engine: continue it with --engine torch/);
});

test('dsod eval --engine torch: a metric event from the TypeScript evaluator, recorded in the run', { skip }, () => {
  assert.ok(trained, 'needs the training test');
  const r = dsod(['eval', '--run', torchRun, '--engine', 'torch', '--data', data]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(types(r.events), ['doctor', 'start', 'metric', 'done']);
  const m = of(r.events, 'metric')[0];
  assert.equal(m.images, 3);
  // The step is known (weights.dsodw carries the checkpoint's meta): the evaluation of step 3 replaces the run's own
  // evaluation of that step, as `dsod eval --run` of a tfjs run does.
  assert.equal(m.step, 3);
  assert.deepEqual(
    readMetrics(torchRun).map((e) => e.step),
    [2, 3],
  );
  // The tfjs engine scores the same weights (the torch run's weights.dsodw) to the same number.
  const f = dsod(['eval', '--run', torchRun, '--data', data]);
  assert.equal(f.status, 0, f.stderr);
  assert.ok(Math.abs(of(f.events, 'metric')[0].value - m.value) < 1e-3, `${of(f.events, 'metric')[0].value} vs ${m.value}`);
});

test('dsod infer --engine torch: detections.json the TypeScript evaluator reads, as the tfjs engine detects', { skip }, async () => {
  assert.ok(trained, 'needs the training test');
  const images = join(data, 'JPEGImages');
  const r = dsod(['infer', '--run', torchRun, '--engine', 'torch', '--threshold', '0.05', images]);
  assert.equal(r.status, 0, r.stderr);
  const file = join(torchRun, 'inference', 'detections.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(doc.images.length, 16);
  const source = resolveDataSource(null, null, data);
  const gt = await loadSplit(source, 'test', null);
  const loaded = readDetectionsFile(file, gt);
  assert.equal(loaded.missing, 0);
  assert.ok(loaded.detections.some((d) => d.length > 0));
  // The tfjs engine on the same weights and images: the same best detection of every image.
  const out = join(dir, 'tfjs-infer');
  const f = dsod(['infer', join(torchRun, 'spec.dsod.yaml'), '--weights', join(torchRun, 'weights.dsodw'), '--threshold', '0.05', '--out', out, images]);
  assert.equal(f.status, 0, f.stderr);
  const tf = JSON.parse(readFileSync(join(out, 'detections.json'), 'utf8'));
  for (let i = 0; i < doc.images.length; i++) {
    const [a, b] = [doc.images[i].detections[0], tf.images[i].detections[0]];
    assert.equal(a?.label, b?.label, doc.images[i].image);
    if (a)
      assert.ok(
        Math.abs(a.score - b.score) <= 2e-4 && a.box.every((v: number, k: number) => Math.abs(v - b.box[k]) <= 0.2),
        `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
      );
  }
});

test('no Python with torch: the doctor says what is missing and the command that fixes it; exit 2 (backend)', () => {
  const r = dsod(['train', spec, '--engine', 'torch', '--data', data, '--out', join(dir, 'none'), '--steps', '1'], {
    ...torchEnv,
    DSOD_PYTHON: join(dir, 'no-python'),
  });
  assert.equal(r.status, 2, r.stderr);
  const doctor = of(r.events, 'doctor')[0];
  assert.equal(doctor.engine, 'torch');
  assert.match(doctor.missing?.[0].problem ?? '', /no python3/);
  assert.match(doctor.missing?.[0].fix ?? '', /apt-get install python3 python3-torch/);
  assert.equal(of(r.events, 'error')[0].code, 'backend');
  assert.deepEqual(types(r.events), ['doctor', 'error', 'done']);
});

test(
  "dsod train --engine torch --gpus 2: two processes (DDP, gloo on the CPU), one stream of events, the doctor names them and every speed choice; the spec's train.sync_bn synchronizes batch norm",
  { skip },
  () => {
    const run = join(dir, 'ddp');
    const t = dsod([
      'train',
      syncSpec,
      '--engine',
      'torch',
      '--gpus',
      '2',
      '--precision',
      'fp32',
      '--out',
      run,
      '--data',
      data,
      '--steps',
      '2',
      '--eval-every',
      '0',
    ]);
    assert.equal(t.status, 0, t.stderr);
    assert.deepEqual(types(t.events), ['doctor', 'start', 'progress', 'progress', 'checkpoint', 'metric', 'done']);
    const doctor = of(t.events, 'doctor')[0];
    assert.equal(doctor.torch?.worldSize, 2);
    assert.equal(doctor.torch?.distributed, 'gloo');
    assert.equal(doctor.torch?.choices?.precision.value, 'fp32');
    assert.equal(doctor.torch?.choices?.syncBatchNorm.value, 'on');
    assert.match(doctor.torch?.choices?.syncBatchNorm.why ?? '', /^asked \(the spec's train\.sync_bn\): batch statistics over all 2 processes' images$/);
  },
);

test("the torch engine's options are refused with the tfjs engine, and several machines need all four of their flags", () => {
  const tfjs = spawnSync(process.execPath, [cli, 'train', spec, '--gpus', '2'], { encoding: 'utf8' });
  assert.equal(tfjs.status, 2);
  assert.match(tfjs.stderr, /--gpus is an option of the torch engine: add --engine torch/);
  const partial = spawnSync(process.execPath, [cli, 'train', spec, '--engine', 'torch', '--nnodes', '2', '--node-rank', '1'], { encoding: 'utf8' });
  assert.equal(partial.status, 2);
  assert.match(partial.stderr, /several machines need all of --nnodes, --node-rank, --master-addr, --master-port \(missing --master-addr, --master-port\)/);
});

test(
  'dsod train --engine torch --from: continues from an earlier checkpoint (N or its path), later ones set aside, later evaluations dropped, as the tfjs engine',
  { skip },
  () => {
    const run = join(dir, 'from');
    const t = dsod(['train', spec2, '--engine', 'torch', '--out', run, '--steps', '6', '--eval-every', '2']);
    assert.equal(t.status, 0, t.stderr);
    assert.deepEqual(
      readMetrics(run).map((m) => m.step),
      [2, 4, 6],
    );
    // --from N: no spec, no --data (the run's weights.dsodw records its data).
    const r = dsod(['train', '--engine', 'torch', '--out', run, '--from', '2', '--steps', '3', '--eval-every', '0']);
    assert.equal(r.status, 0, r.stderr);
    const info = of(r.events, 'log').find((l) => l.message.startsWith('continuing from step 2'));
    assert.match(
      info?.message ?? '',
      /^continuing from step 2 of the 6 the run had reached: 2 later checkpoints moved to .*superseded-.*, 2 later evaluations dropped from metrics\.json \(their events stay in events\.jsonl\)$/,
    );
    // Where the tfjs engine says it: after the doctor event, before start.
    assert.equal(r.events.indexOf(info!), r.events.indexOf(of(r.events, 'doctor')[0]) + 1);
    const start = of(r.events, 'start')[0];
    assert.deepEqual([start.step, start.resumed], [2, true]);
    assert.deepEqual(
      of(r.events, 'progress').map((p) => p.step),
      [3],
    );
    const ckpts = join(run, 'checkpoints');
    assert.deepEqual(
      readdirSync(ckpts).filter((n) => !n.startsWith('superseded-')),
      ['step-00000002.pt', 'step-00000003.pt'],
    );
    const aside = readdirSync(ckpts).find((n) => n.startsWith('superseded-'))!;
    assert.deepEqual(readdirSync(join(ckpts, aside)), ['step-00000004.pt', 'step-00000006.pt']);
    assert.deepEqual(
      readMetrics(run).map((m) => m.step),
      [2, 3],
    );
    assert.equal(readWeightsFile(join(run, 'weights.dsodw')).step, 3);
    // --from PATH: the checkpoint file; weights.dsodw is the chosen checkpoint's before the first step (here: none).
    const p = dsod(['train', '--engine', 'torch', '--from', join(ckpts, 'step-00000002.pt'), '--steps', '2', '--eval-every', '0']);
    assert.equal(p.status, 0, p.stderr);
    assert.ok(of(p.events, 'log').some((l) => l.message.startsWith('continuing from step 2 of the 3')));
    assert.equal(readWeightsFile(join(run, 'weights.dsodw')).step, 2);
    // Not a checkpoint of this engine's run: refused (resume), as the tfjs engine refuses one.
    const bad = dsod(['train', '--engine', 'torch', '--out', run, '--from', '5']);
    assert.equal(bad.status, 2);
  },
);

test('--minutes under torch: a schedule that cannot fit is compressed as the tfjs trainer does, recorded in the checkpoint, kept on --resume', { skip }, () => {
  const run = join(dir, 'minutes');
  // 100000 steps never fit a minute: after 12 timed steps the schedule is compressed; --steps ends the run first.
  const t = dsod(['train', spec2, '--engine', 'torch', '--out', run, '--minutes', '1', '--steps', '15', '--eval-every', '0']);
  assert.equal(t.status, 0, t.stderr);
  const fit = of(t.events, 'log').find((l) => l.message.startsWith('--minutes 1:'));
  assert.ok(fit, 'the fit is logged');
  const [, reachable, m1, m2] =
    /: at \d+\.\d\d s a step, (\d+) of the spec's 100000 steps fit; schedule compressed \(milestones (\d+), (\d+)\)$/.exec(fit.message) ?? [];
  const n = Number(reachable);
  assert.ok(n > 16 && n < 100000, fit.message);
  // compressSchedule: milestones 3000 and 3600 of 100000, in proportion, after the warm-up (100).
  assert.deepEqual([Number(m1), Number(m2)], [Math.max(101, Math.round(3000 * (n / 100000))), Math.max(101, Math.round(3600 * (n / 100000)))]);
  assert.equal(of(t.events, 'start')[0].steps, 100000);
  const steps = of(t.events, 'progress').map((p) => [p.step, p.steps]);
  assert.deepEqual(
    steps.slice(0, 13),
    Array.from({ length: 13 }, (_, i) => [i + 1, 100000]),
  );
  assert.deepEqual(steps.slice(13), [
    [14, n],
    [15, n],
  ]);
  const meta = readWeightsFile(join(run, 'weights.dsodw')).meta!;
  assert.equal(meta.scheduleFitted, true);
  assert.deepEqual(meta.schedule, { lr: 0.05, gamma: 0.1, milestones: [Number(m1), Number(m2)], warmup: 100, iterations: n });
  // A resumed run keeps the fitted schedule (from the .pt), without a budget.
  const r = dsod(['train', '--engine', 'torch', '--out', run, '--resume', '--steps', '16', '--eval-every', '0']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(of(r.events, 'start')[0].steps, n);
  assert.deepEqual(
    of(r.events, 'progress').map((p) => [p.step, p.steps]),
    [[16, n]],
  );
});

test('dsod eval|infer --run of a torch run without --data: the data and step its weights.dsodw records', { skip }, () => {
  assert.ok(trained, 'needs the training test');
  // The run's copy of the spec names data.root relative to examples/: only what the run recorded finds the data.
  for (const engine of ['tfjs', 'torch']) {
    const r = dsod(['eval', '--run', torchRun, '--engine', engine]);
    assert.equal(r.status, 0, r.stderr);
    const m = of(r.events, 'metric')[0];
    assert.deepEqual([m.step, m.images, of(r.events, 'start')[0].step], [3, 3, 3]);
  }
  const i = dsod(['infer', '--run', torchRun, '--engine', 'torch', join(data, 'JPEGImages')]);
  assert.equal(i.status, 0, i.stderr);
  assert.equal(of(i.events, 'start')[0].step, 3);
  assert.ok(of(i.events, 'log').some((l) => / on 16 images .*; ground truth for 16$/.test(l.message)));
});

test('a held-out image the torch engine cannot decode: a warning, counted, and more than 5% fail the run (code data) as with tfjs', { skip }, () => {
  const bad = join(dir, 'bad-data');
  cpSync(data, bad, { recursive: true });
  const first = readFileSync(join(bad, 'ImageSets', 'Main', 'test.txt'), 'utf8')
    .trim()
    .split('\n')[0]
    .trim();
  const image = join(bad, 'JPEGImages', `${first}.jpg`);
  assert.ok(existsSync(image));
  writeFileSync(image, 'not a JPEG');
  const outcome = (engine: string) => {
    const r = dsod(['train', spec, '--engine', engine, '--data', bad, '--out', join(dir, `bad-${engine}`), '--steps', '3', '--eval-every', '2']);
    const warned = of(r.events, 'log').filter((l) => l.level === 'warn' && l.message.startsWith(`test data: ${image}: unreadable image, skipped:`));
    const error = of(r.events, 'error')[0];
    return { status: r.status, warned: warned.length, code: error?.code, message: error?.message.split(':')[0], metrics: of(r.events, 'metric').length };
  };
  const expected = { status: 2, warned: 1, code: 'data', message: 'the evaluation skipped 1 of 3 images (33.3%, more than the 5% allowed)', metrics: 0 };
  assert.deepEqual(outcome('torch'), expected);
  assert.deepEqual(outcome('tfjs'), expected);
  // `dsod eval --engine torch` decodes the held-out split in the engine too: the same warning and refusal as tfjs.
  const weights = join(dir, 'bad-torch', 'weights.dsodw');
  const evaluated = (engine: string) => {
    const r = dsod(['eval', spec, '--weights', weights, '--data', bad, '--engine', engine]);
    const error = of(r.events, 'error')[0];
    const warned = of(r.events, 'log').filter((l) => l.level === 'warn' && l.message.startsWith(`${image}: unreadable image, skipped:`));
    return [r.status, warned.length, error?.code, error?.message.split(':')[0]];
  };
  assert.deepEqual(evaluated('torch'), [2, 1, 'data', expected.message]);
  assert.deepEqual(evaluated('tfjs'), [2, 1, 'data', expected.message]);
});

test("train.sync_bn: --no-sync-bn overrides the spec's; the tfjs engine (one process) ignores it with an info line", { skip }, () => {
  const args = ['--data', data, '--steps', '1', '--eval-every', '0'];
  const off = dsod(['train', syncSpec, '--engine', 'torch', '--no-sync-bn', '--out', join(dir, 'sync-off'), ...args]);
  assert.equal(off.status, 0, off.stderr);
  assert.equal(of(off.events, 'doctor')[0].torch?.choices?.syncBatchNorm.why, 'one process: nothing to synchronize');
  const on = dsod(['train', syncSpec, '--engine', 'torch', '--out', join(dir, 'sync-on'), ...args]);
  assert.equal(on.status, 0, on.stderr);
  assert.match(of(on.events, 'doctor')[0].torch?.choices?.syncBatchNorm.why ?? '', /^asked \(the spec's train\.sync_bn\), one process/);
  const tfjs = dsod(['train', syncSpec, '--out', join(dir, 'sync-tfjs'), ...args]);
  assert.equal(tfjs.status, 0, tfjs.stderr);
  assert.deepEqual(
    of(tfjs.events, 'log')
      .filter((l) => l.message.includes('sync_bn'))
      .map((l) => [l.level, l.message]),
    [['info', "train.sync_bn is ignored: the tfjs engine trains in one process (its batch-norm statistics are the whole batch's already)"]],
  );
  const both = spawnSync(process.execPath, [cli, 'train', syncSpec, '--engine', 'torch', '--sync-bn', '--no-sync-bn'], { encoding: 'utf8' });
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--sync-bn or --no-sync-bn, not both/);
});
