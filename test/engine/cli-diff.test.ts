// `dsod diff A B` (issue 13, item 4): files and git revisions of them, the change as a table or JSON, clear errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { diffAnalyses } from '../../core/analysis/diff';
import { diffCommand } from '../../engine/cli/diff';
import { run } from '../../engine/cli/main';
import { analyze, DSOD300_YAML, readRepoFile, repoRoot } from '../helpers';

const ROW1 = 'examples/ablation/01-ds32-12-16-0.5.dsod.yaml';

// A repository of its own: DSOD300 committed under specs/, then edited in the working tree (a wider bottleneck, and
// scale 1 gains the 3:1 boxes).
const repo = mkdtempSync(join(tmpdir(), 'dsod-diff-'));
after(() => rmSync(repo, { recursive: true, force: true }));
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, stdio: 'pipe' });
git('init', '-q');
mkdirSync(join(repo, 'specs'));
const spec = join(repo, 'specs', 'net.dsod.yaml');
writeFileSync(spec, DSOD300_YAML);
git('add', 'specs/net.dsod.yaml');
git('commit', '-q', '-m', 'DSOD300');
const edited = DSOD300_YAML.replace('DS/64-192-48-1', 'DS/64-256-48-1').replace('aspect_ratios: [[2], [2, 3]', 'aspect_ratios: [[2, 3], [2, 3]');
assert.notEqual(edited, DSOD300_YAML);
writeFileSync(spec, edited);

test('DSOD300 against a Table 3 row, --json: the deltas are core diff of the two analyses', () => {
  const r = diffCommand(['examples/dsod300.dsod.yaml', ROW1, '--json'], { cwd: repoRoot });
  assert.equal(r.exitCode, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  const d = diffAnalyses(analyze(DSOD300_YAML), analyze(readRepoFile(ROW1)));
  assert.deepEqual(o.a, { source: 'examples/dsod300.dsod.yaml', revision: null, name: 'DSOD300' });
  assert.deepEqual({ stages: o.stages, scales: o.scales, totals: o.totals, added: o.added, removed: o.removed }, JSON.parse(JSON.stringify(d)));
  assert.equal(o.totals.delta.paramsLearned, 4_362_444 - 14_715_804);
});

test('the table: totals with A, B and the signed change, then stages and scales', () => {
  const r = run(['diff', 'examples/dsod300.dsod.yaml', ROW1]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^learned params +14,715,804 +4,362,444 +−10\.4M$/m);
  assert.match(r.stdout, /^default boxes +8,744 +8,744 +0$/m);
  assert.match(r.stdout, /^block4 \(removed\) +−2\.76M +−989M +−52\.1 MiB$/m);
  assert.match(r.stdout, /^scale3 +\+392k +\+22\.2M +−1\.5 MiB$/m);
  assert.match(r.stdout, /^removed from A: block4, transition4, scale2$/m);
});

test('HEAD:PATH of a tracked file, relative to the current directory, against the edited working copy', () => {
  const r = diffCommand(['HEAD:specs/net.dsod.yaml', 'specs/net.dsod.yaml', '--json'], { cwd: repo });
  assert.equal(r.exitCode, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.deepEqual(o.a, { source: 'HEAD:specs/net.dsod.yaml', revision: 'HEAD', name: 'DSOD300' });
  const d = diffAnalyses(analyze(DSOD300_YAML), analyze(edited));
  assert.deepEqual(o.totals, JSON.parse(JSON.stringify(d.totals)));
  assert.ok(o.totals.delta.paramsLearned > 0);
  assert.equal(o.totals.delta.boxes, 38 * 38 * 2);
  // From another folder, by absolute path: git runs in the file's repository, not in the current directory's.
  const far = diffCommand([`HEAD:${spec}`, spec, '--json'], { cwd: repoRoot });
  assert.equal(far.exitCode, 0, far.stderr);
  assert.deepEqual(JSON.parse(far.stdout).totals, o.totals);
  // The same revision on both sides: nothing changes.
  const same = diffCommand(['HEAD:specs/net.dsod.yaml', 'HEAD:specs/net.dsod.yaml', '--json'], { cwd: repo });
  assert.deepEqual(JSON.parse(same.stdout).totals.delta, { paramsLearned: 0, macs: 0, activationBytes: 0, boxes: 0 });
  const sameText = diffCommand(['HEAD:specs/net.dsod.yaml', 'HEAD:specs/net.dsod.yaml'], { cwd: repo });
  assert.match(sameText.stdout, /\nNo change: the same stages, each costing the same\.\n$/);
  assert.doesNotMatch(sameText.stdout, /^stage /m);
});

test('a revision that does not exist, a path not in the revision, a folder outside any repository: exit 2, said plainly', () => {
  const missing = diffCommand(['nope:specs/net.dsod.yaml', 'specs/net.dsod.yaml'], { cwd: repo });
  assert.equal(missing.exitCode, 2);
  assert.equal(missing.stdout, '');
  assert.equal(missing.stderr, "dsod: cannot read nope:specs/net.dsod.yaml: git: invalid object name 'nope'.\n");
  writeFileSync(join(repo, 'specs', 'new.dsod.yaml'), DSOD300_YAML);
  const untracked = diffCommand(['HEAD:specs/new.dsod.yaml', 'specs/net.dsod.yaml'], { cwd: repo });
  assert.equal(untracked.exitCode, 2);
  assert.match(untracked.stderr, /^dsod: cannot read HEAD:specs\/new\.dsod\.yaml: git: path 'specs\/new\.dsod\.yaml' exists on disk, but not in 'HEAD'/);
  const outside = mkdtempSync(join(tmpdir(), 'dsod-diff-plain-'));
  try {
    writeFileSync(join(outside, 'x.dsod.yaml'), DSOD300_YAML);
    const r = diffCommand(['HEAD:x.dsod.yaml', 'x.dsod.yaml'], { cwd: outside });
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /^dsod: cannot read HEAD:x\.dsod\.yaml: git: not a git repository/);
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
  // A revision that git would take for an option is refused before git runs.
  const option = diffCommand(['--', '--output=x:specs/net.dsod.yaml', 'specs/net.dsod.yaml'], { cwd: repo });
  assert.equal(option.exitCode, 2);
  assert.match(option.stderr, /"--output=x" is not a revision \(it would read as an option of git\)/);
});

test('a missing file is exit 2; a side with spec errors is exit 1 with its errors at line and column', () => {
  const gone = diffCommand(['examples/none.dsod.yaml', ROW1], { cwd: repoRoot });
  assert.equal(gone.exitCode, 2);
  assert.equal(gone.stderr, 'dsod: cannot read examples/none.dsod.yaml: ENOENT\n');
  writeFileSync(join(repo, 'bad.dsod.yaml'), 'dsod: 1\nbackbone: { growth_rate: zero }\n');
  const bad = diffCommand(['bad.dsod.yaml', 'specs/net.dsod.yaml'], { cwd: repo });
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /^bad\.dsod\.yaml:2:26: error: .*\[schema\/type\]$/m);
});

test('usage: two sides, --help through the dispatcher', () => {
  assert.equal(diffCommand(['examples/dsod300.dsod.yaml'], { cwd: repoRoot }).exitCode, 2);
  const help = run(['diff', '--help']);
  assert.equal(help.exitCode, 0);
  assert.match(help.stdout, /^Usage: dsod diff <A> <B> \[options\]/);
  assert.match(run(['--help']).stdout, /diff <A> <B> +What an edit costs/);
});
