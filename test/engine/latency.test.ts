// `dsod latency` (issue 14, item 6): a measurement with its statistics, machine and runtime, kept beside the spec in
// the format the editor reads (protocol/latency.ts). Nothing here asserts a speed: speed goes in bench/.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { main } from '../../engine/cli/main';
import { percentile, timeRuns } from '../../engine/latency/measure';
import { latencyFileName, validateLatency } from '../../protocol/latency';
import { analyze, readRepoFile, repoRoot } from '../helpers';

const dir = mkdtempSync(join(tmpdir(), 'dsod-latency-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const spec = join(dir, 'tiny.dsod.yaml');
copyFileSync(join(repoRoot, 'examples', 'tiny.dsod.yaml'), spec);

async function dsod(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => ((stdout += t), true) }, stderr: { write: (t: string) => ((stderr += t), true) } };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

test('the measurement file sits beside the spec, named after it', () => {
  assert.equal(latencyFileName('tiny.dsod.yaml'), 'tiny.dsod.latency.json');
  assert.equal(latencyFileName('net.dsod.json'), 'net.dsod.latency.json');
});

test('percentiles are nearest-rank, warm-up runs are not timed', async () => {
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50), 5);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
  assert.equal(percentile([7], 90), 7);
  let calls = 0;
  let clock = 0;
  const times = await timeRuns(
    async () => {
      calls++;
      clock += calls; // run k takes k "ms"
    },
    2,
    3,
    () => clock,
  );
  assert.equal(calls, 5);
  assert.deepEqual(times, [3, 4, 5]);
});

for (const runtime of ['onnx', 'tfjs'] as const) {
  test(`dsod latency --runtime ${runtime}: median, p90 and MAC/s of the spec's network, the machine and runtime, kept beside the spec`, async () => {
    const r = await dsod(
      'latency',
      spec,
      '--runtime',
      runtime,
      '--runs',
      '3',
      '--warmup',
      '1',
      '--batch',
      '2',
      '--json',
      ...(runtime === 'tfjs' ? ['--backend', 'cpu'] : []),
    );
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout);
    const kept = JSON.parse(readFileSync(join(dir, 'tiny.dsod.latency.json'), 'utf8'));
    assert.deepEqual(kept, printed);
    const v = validateLatency(kept);
    assert.ok(v.ok, v.ok ? '' : v.error);
    const m = v.ok ? v.message : null!;
    assert.equal(m.runtime.name, runtime);
    assert.match(m.runtime.version, runtime === 'onnx' ? /^onnxruntime-node \d+\.\d+\.\d+$/ : /^@tensorflow\/tfjs \d+\.\d+\.\d+$/);
    assert.equal(m.runtime.device, 'cpu');
    assert.equal(m.batch, 2);
    assert.equal(m.runs, 3);
    assert.equal(m.macsPerImage, analyze(readRepoFile('examples/tiny.dsod.yaml')).totals.macs);
    assert.ok(m.medianMs <= m.p90Ms);
    assert.ok(Math.abs(m.gmacsPerSecond - (2 * m.macsPerImage) / (m.medianMs / 1000) / 1e9) < 0.01 * m.gmacsPerSecond + 1e-3);
    assert.ok(m.machine.cpu.length > 0 && m.machine.cores > 0);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('.tmp-')),
      [],
    );
  });
}

test('dsod analyze checks budget.latency_ms against the measurement beside the spec; a damaged one is ignored, said so', async () => {
  const limited = join(dir, 'limited.dsod.yaml');
  writeFileSync(limited, `${readRepoFile('examples/tiny.dsod.yaml').trimEnd()}\nbudget: { latency_ms: 0.001 }\n`);
  assert.equal((await dsod('analyze', limited)).code, 0, 'not measured: nothing to check');
  const r = await dsod('latency', limited, '--runs', '1', '--warmup', '0');
  assert.equal(r.code, 0, r.stderr);
  const over = await dsod('analyze', limited);
  assert.equal(over.code, 1);
  assert.match(
    over.stderr,
    /limited\.dsod\.yaml:\d+:\d+: error: Over budget: the latest measured latency, .* median at batch 1 with onnxruntime-node \d+\.\d+\.\d+ \(cpu\) on .*exceeds the limit of 0\.00 ms .*\[budget\/latency\]/,
  );
  writeFileSync(join(dir, 'limited.dsod.latency.json'), '{"format": "dsod-latency"');
  const damaged = await dsod('analyze', limited);
  assert.equal(damaged.code, 0);
  assert.match(damaged.stderr, /warning: the latency measurement is ignored: .*limited\.dsod\.latency\.json: not JSON/);
});

test('dsod latency refuses a wrong runtime, --backend without tfjs, and a batch of 0', async () => {
  assert.equal((await dsod('latency', spec, '--runtime', 'tensorrt')).code, 2);
  assert.equal((await dsod('latency', spec, '--backend', 'cpu')).code, 2);
  assert.equal((await dsod('latency', spec, '--batch', '0')).code, 2);
});
