// The `dsod` tool as users run it: the built bundle, through `npx dsod` from the repository root.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers';

const bin = join(repoRoot, 'dist', 'dsod.js');

function dsod(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

test('analyze --json gives the exact DSOD300 numbers', () => {
  const r = dsod('analyze', 'examples/dsod300.dsod.yaml', '--json');
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.deepEqual(o.params, { learned: 14_715_804, stored: 14_795_828, bnStatistics: 80_024 });
  assert.equal(o.macs, 15_079_798_528);
  assert.equal(o.flops, 30_159_597_056);
  assert.equal(o.defaultBoxes, 8_744);
  assert.deepEqual(
    o.scales.map((s: any) => s.shape[0]),
    [800, 512, 512, 256, 256, 256],
  );
  assert.deepEqual(
    o.scales.map((s: any) => [s.name, s.priorsPerLocation, s.boxes]),
    [
      ['scale1', 4, 5776],
      ['scale2', 6, 2166],
      ['scale3', 6, 600],
      ['scale4', 6, 150],
      ['scale5', 4, 36],
      ['scale6', 4, 16],
    ],
  );
  const first = o.layers.find((l: any) => l.name === 'stem/conv1');
  assert.deepEqual(first, {
    name: 'stem/conv1',
    kind: 'conv',
    stage: 'stem',
    shape: [64, 150, 150],
    paramsLearned: 1728,
    paramsStored: 1728,
    macs: 38_880_000,
    receptiveField: 3,
  });
  assert.equal(
    o.layers.reduce((n: number, l: any) => n + l.macs, 0),
    o.macs,
  );
  // Each scale's box sides beside its receptive field (DSOD300's largest, scale 6: √(264 × 315) < 1193 px).
  assert.deepEqual(
    o.scales.map((s: any) => s.receptiveField),
    [193, 713, 745, 809, 937, 1193],
  );
  assert.ok(o.scales.every((s: any) => s.boxSides.min > 0 && s.boxSides.max < s.receptiveField));
  assert.ok(Math.abs(o.scales[0].boxSides.max - Math.sqrt(30 * 60)) < 1e-9); // scale 1's largest box: the sqrt(min·max) square
  assert.deepEqual(o.diagnostics, []);
});

test('analyze prints the stage table and the summary line people quote', () => {
  const r = dsod('analyze', 'examples/dsod300.dsod.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^block1 +416x75x75 +788,640 +5\.4% +4,406,400,000 +29\.2% +61$/m);
  assert.match(r.stdout, /^total +14,715,804 +100\.0% +15,079,798,528 +100\.0%$/m);
  assert.match(r.stdout, /^scale6 +256x2x2 +4 +16 +264\/315/m);
  assert.match(
    r.stdout,
    /DSOD300 summary: .*14,715,804 learned parameters, 14,795,828 stored values \(learned \+ 80,024 BN running statistics\), 15,079,798,528 MACs = 30\.2 GFLOPs \(FLOPs = 2 x MACs\), 8,744 default boxes/,
  );
});

test('a spec with errors prints file:line:col lines and exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsod-cli-'));
  const file = join(dir, 'bad.dsod.yaml');
  writeFileSync(file, 'dsod: 1\nbackbone:\n  growth_rat: 32\nprediction: { structure: dens }\n');
  const r = dsod('analyze', file);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.deepEqual(r.stderr.trim().split('\n'), [
    `${file}:3:3: error: Unknown property "growth_rat" in backbone. Did you mean "growth_rate"? [schema/unknown-key]`,
    `${file}:4:26: error: "dens" is not allowed for prediction.structure; expected "dense" or "plain". Did you mean "dense"? [schema/enum]`,
  ]);
  const json = dsod('analyze', file, '--json');
  assert.equal(json.code, 1);
  assert.deepEqual(
    JSON.parse(json.stdout).diagnostics.map((d: any) => [d.line, d.column, d.code]),
    [
      [3, 3, 'schema/unknown-key'],
      [4, 26, 'schema/enum'],
    ],
  );
});

test('JSON specs, hints on stderr, and usage errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsod-cli-'));
  const file = join(dir, 'nostem.dsod.json');
  writeFileSync(file, JSON.stringify({ dsod: 1, backbone: { stem: false } }, null, 2));
  const r = dsod('analyze', file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /nostem\.dsod\.json:4:13: information: No stem block.*\+2\.8 mAP.*\[principle\/no-stem\]/);
  assert.equal(dsod('analyze', file, '--no-hints').stderr, '');
  assert.equal(dsod('analyze', join(dir, 'missing.yaml')).code, 2);
  assert.equal(dsod('frobnicate').code, 2);
  assert.equal(dsod('analyze').code, 2);
  assert.equal(dsod('analyze', file, '--batch', 'x').code, 2);
  assert.match(dsod('--help').stdout, /Usage: dsod <command>/);
});

test('npx dsod runs the package bin from the repository root', () => {
  const r = spawnSync('npx', ['--no-install', 'dsod', 'analyze', 'examples/tiny.dsod.yaml', '--json'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).params.learned > 0);
});

test('analyze --format csv prints one table per file, the counting conventions as # lines, exact numbers', () => {
  const r = dsod('analyze', 'examples/dsod300.dsod.yaml', '--format', 'csv');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const comments = lines.filter((l) => l.startsWith('#'));
  assert.equal(comments[0], '# DSOD300: stages');
  assert.ok(comments.some((l) => /FLOPs = 2 x MACs/.test(l)) && comments.some((l) => /2C\+1 per batch norm/.test(l)), comments.join('\n'));
  const rows = lines.filter((l) => !l.startsWith('#'));
  assert.equal(rows[0], 'stage,kind,output,dense layers,primitive ops,learned params,stored values,MACs,receptive field (px)');
  assert.ok(rows.includes('block1,block,416x75x75,6,42,788640,793932,4406400000,61'), rows.slice(0, 5).join('\n'));
  const sum = (col: number) => rows.slice(1).reduce((n, l) => n + Number(l.split(',')[col]), 0);
  assert.equal(sum(5), 14_715_804);
  assert.equal(sum(7), 15_079_798_528);
  // The per-layer and per-scale tables; an aspect-ratio list stays one field.
  const layers = dsod('analyze', 'examples/dsod300.dsod.yaml', '--format', 'csv', '--table', 'layers')
    .stdout.split('\n')
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(layers.length - 1, 1 + JSON.parse(dsod('analyze', 'examples/dsod300.dsod.yaml', '--json').stdout).layers.length - 1);
  const scales = dsod('analyze', 'examples/dsod300.dsod.yaml', '--format', 'csv', '--table', 'scales').stdout;
  assert.match(scales, /^scale2,512x19x19,6,2166,60,111,1 2 0\.5 3 0\.333,16,713$/m);
});

test('analyze --format md prints the conventions and the three tables; bad --format and --table are usage errors', () => {
  const md = dsod('analyze', 'examples/tiny.dsod.yaml', '--format', 'md');
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /^Counting conventions:/);
  for (const title of ['layers', 'stages', 'prediction scales']) assert.match(md.stdout, new RegExp(`^### tiny[^\\n]*: ${title}$`, 'm'));
  assert.match(md.stdout, /^\| stage \| kind \| output \|.*\|\n\|---\|---\|---\|---:\|/m);
  const json = JSON.parse(dsod('analyze', 'examples/tiny.dsod.yaml', '--format', 'json').stdout);
  assert.ok(json.conventions.length >= 4);
  const bad = dsod('analyze', 'examples/tiny.dsod.yaml', '--format', 'xlsx');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format must be one of text, json, csv, md \(got "xlsx"\)/);
  assert.match(dsod('analyze', 'examples/tiny.dsod.yaml', '--format', 'csv', '--table', 'heads').stderr, /--table must be one of layers, stages, scales/);
  assert.match(dsod('analyze', 'examples/tiny.dsod.yaml', '--table', 'stages').stderr, /--table goes with --format csv or md/);
});
