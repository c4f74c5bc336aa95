// `dsod export --graph` (issue 12, item 1): core's analysed layer graph as versioned JSON, and its validator.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dsodInProcess } from './train-fixtures';
import { GRAPH_JSON_VERSION, toGraphJson, validateGraphJson, type GraphJson } from '../../protocol/graph-json';
import { analyze, readRepoFile, repoRoot } from '../helpers';

const dsod = (...args: string[]) => dsodInProcess(args);

test('export --graph writes DSOD300 as dsod-graph version 1: every node of core with its shape, scales and totals', async () => {
  const spec = join(repoRoot, 'examples', 'dsod300.dsod.yaml');
  const r = await dsod('export', '--graph', spec);
  assert.equal(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout);
  const check = validateGraphJson(parsed);
  assert.ok(check.ok, check.ok ? '' : check.error);
  const g = parsed as GraphJson;
  assert.equal(g.format, 'dsod-graph');
  assert.equal(g.version, 1);
  assert.deepEqual(g.totals, { paramsLearned: 14_715_804, paramsStored: 14_795_828, macs: 15_079_798_528, defaultBoxes: 8_744 });
  const text = readRepoFile('examples/dsod300.dsod.yaml');
  // The hash checkpoints carry (engine/train/trainer.ts), so a torch checkpoint can name the spec it was trained on.
  assert.equal(g.spec.hash, createHash('sha256').update(text).digest('hex').slice(0, 16));
  assert.deepEqual(g.spec.input, { channels: 3, height: 300, width: 300 });
  assert.equal(g.spec.classes.count, 21);
  const a = analyze(text);
  assert.equal(g.nodes.length, a.graph.nodes.length);
  for (const [i, n] of a.graph.nodes.entries()) {
    const { source: _source, ...rest } = n;
    assert.deepEqual(g.nodes[i], JSON.parse(JSON.stringify(rest)), n.name);
  }
  assert.deepEqual(
    g.scales.map((s) => [s.index, g.nodes[s.feature].shape, s.priorsPerLocation]),
    [
      [1, [800, 38, 38], 4],
      [2, [512, 19, 19], 6],
      [3, [512, 10, 10], 6],
      [4, [256, 5, 5], 6],
      [5, [256, 3, 3], 4],
      [6, [256, 2, 2], 4],
    ],
  );
  // One node per line: a diff of two exports shows the layers that changed.
  assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('  {"id":')).length, a.graph.nodes.length);
});

test('export --graph --out writes the file atomically and prints its path; the bench exports through the same function', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsod-export-'));
  try {
    const out = join(dir, 'tiny.graph.json');
    const r = await dsod('export', '--graph', join(repoRoot, 'examples', 'tiny.dsod.yaml'), '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${out}\n`);
    const g = JSON.parse(readFileSync(out, 'utf8'));
    const same = toGraphJson(analyze(readRepoFile('examples/tiny.dsod.yaml')));
    assert.deepEqual({ ...g, spec: { ...g.spec, hash: null } }, same);
    const bench = readRepoFile('bench/train.bench.ts');
    assert.match(bench, /import \{ toGraphJson \} from '..\/protocol\/graph-json'/);
    const blocked = await dsod('export', '--graph', join(repoRoot, 'examples', 'tiny.dsod.yaml'), '--out', join(out, 'below-a-file.json'));
    assert.equal(blocked.code, 3);
    assert.match(blocked.stderr, /cannot write .*below-a-file\.json: a folder on the path is a file \(ENOTDIR\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export: a spec with errors exits 1 with file:line:col lines; usage and unreadable files exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsod-export-'));
  try {
    const bad = join(dir, 'bad.dsod.yaml');
    writeFileSync(bad, 'dsod: 1\nname: x\ninput: {height: 300, width: 300}\nclasses: 0\n');
    const r = await dsod('export', '--graph', bad);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /bad\.dsod\.yaml:\d+:\d+: error: /);
    const none = await dsod('export');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--graph <spec>/);
    const missing = await dsod('export', '--graph', join(dir, 'nope.dsod.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.dsod\.yaml/);
    const help = await dsod('--help');
    assert.match(help.stdout, /export --graph <spec>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the graph JSON validator names the first bad value and refuses another version', () => {
  const good = toGraphJson(analyze(readRepoFile('examples/tiny.dsod.yaml')));
  assert.ok(validateGraphJson(good).ok);
  const broken = (edit: (g: any) => void) => {
    const g = JSON.parse(JSON.stringify(good));
    edit(g);
    const r = validateGraphJson(g);
    assert.equal(r.ok, false);
    return (r as { error: string }).error;
  };
  assert.match(
    broken((g) => (g.version = GRAPH_JSON_VERSION + 1)),
    /version 2 is not 1/,
  );
  assert.match(
    broken((g) => (g.format = 'other')),
    /graph\.format must be "dsod-graph"/,
  );
  assert.match(
    broken((g) => (g.nodes[3].inputs = [5])),
    /graph\.nodes\[3\]\.inputs\[0\] is 5: inputs must come before the node/,
  );
  assert.match(
    broken((g) => delete g.nodes[1].conv),
    /graph\.nodes\[1\] \(conv\) lacks "conv"/,
  );
  assert.match(
    broken((g) => (g.nodes[2].pool = { kernel: 2, stride: 2, pad: 0 })),
    /graph\.nodes\[2\] \(bn\) must not have "pool"/,
  );
  assert.match(
    broken((g) => (g.nodes[4].shape = [0, 1, 1])),
    /graph\.nodes\[4\]\.shape\[0\] must be positive/,
  );
  assert.match(
    broken((g) => (g.scales[0].conf = g.scales[0].loc)),
    /graph\.scales\[0\]: the conf head has \d+ channels/,
  );
  assert.match(
    broken((g) => (g.scales[1].feature = 10_000)),
    /graph\.scales\[1\]\.feature is 10000, past the last node/,
  );
  assert.match(
    broken((g) => (g.totals.macs = -1)),
    /graph\.totals\.macs must be a non-negative integer/,
  );
});
