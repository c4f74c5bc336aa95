// What package.json promises for runs: the five run commands in the palette, the editor title and the explorer
// (inference also on images and folders), menus hidden in a restricted workspace, `untrustedWorkspaces: limited`, the
// `dsod` task type, and the `$dsod` problem matcher, checked against what the real CLI prints for a spec error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers';

interface Entry {
  command: string;
  when?: string;
  group?: string;
}
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const menus: Record<string, Entry[]> = pkg.contributes.menus;
const RUN_COMMANDS: Record<string, string> = {
  'dsod.train': 'Train',
  'dsod.evaluate': 'Evaluate',
  'dsod.runInference': 'Run Inference',
  'dsod.stopRun': 'Stop Run',
  'dsod.resumeRun': 'Resume Run',
};

test('the run commands are declared as "DSOD: <title>" and registered by the extension', () => {
  const source = readFileSync(join(repoRoot, 'client', 'runs', 'runManager.ts'), 'utf8');
  for (const [id, title] of Object.entries(RUN_COMMANDS)) {
    const c = pkg.contributes.commands.find((x: { command: string }) => x.command === id);
    assert.ok(c, `${id} is not declared`);
    assert.equal(`${c.category}: ${c.title}`, `DSOD: ${title}`);
    assert.ok(source.includes(`cmd('${id}'`), `${id} is not registered in runManager.ts`);
    assert.ok(
      menus.commandPalette.some((e) => e.command === id),
      `${id} is not in the palette`,
    );
  }
});

test('editor title and explorer menus: the run commands on specs, inference on images and folders, only when trusted', () => {
  for (const id of ['dsod.train', 'dsod.evaluate', 'dsod.runInference', 'dsod.resumeRun']) {
    for (const menu of ['editor/title', 'explorer/context']) {
      const entries = menus[menu].filter((e) => e.command === id);
      assert.ok(entries.length, `${id} is not in ${menu}`);
    }
  }
  const inference = menus['explorer/context'].find((e) => e.command === 'dsod.runInference')!;
  assert.match(inference.when!, /explorerResourceIsFolder/);
  assert.match(inference.when!, /jpe\?g\|png/);
  for (const menu of ['editor/title', 'explorer/context']) {
    for (const e of menus[menu].filter((x) => x.command in RUN_COMMANDS)) {
      assert.match(e.when ?? '', /^isWorkspaceTrusted && /, `${menu} ${e.command}: shown in a restricted workspace`);
    }
  }
  // Every command a menu names is declared.
  const declared = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
  for (const [menu, entries] of Object.entries(menus)) for (const e of entries) assert.ok(declared.has(e.command), `${menu}: ${e.command} is not declared`);
});

test('workspace trust: limited support, with the reason and the run root as a restricted setting', () => {
  const u = pkg.capabilities?.untrustedWorkspaces;
  assert.equal(u?.supported, 'limited');
  assert.match(u.description, /trusted workspace/);
  assert.deepEqual(u.restrictedConfigurations, ['dsod.runs.root']);
  const source = readFileSync(join(repoRoot, 'client', 'runs', 'runManager.ts'), 'utf8');
  // Every run command but Stop checks trust first.
  for (const f of ['train', 'resumeRun', 'evaluate', 'runInference']) {
    assert.match(source, new RegExp(`async ${f}\\([^)]*\\)[^{]*\\{\\n\\s+if \\(!this\\.trusted\\(\\)\\) return undefined;`), `${f} does not check trust first`);
  }
});

test('the dsod task type', () => {
  const t = pkg.contributes.taskDefinitions.find((d: { type: string }) => d.type === 'dsod');
  assert.deepEqual(t.required, ['command', 'spec']);
  assert.deepEqual(t.properties.command.enum, ['train', 'eval', 'infer']);
  assert.ok(t.properties.run && t.properties.args);
});

test('the $dsod problem matcher reads the spec errors the CLI prints, once each, at their location', () => {
  const matcher = pkg.contributes.problemMatchers.find((m: { name: string }) => m.name === 'dsod');
  assert.ok(matcher);
  const re = new RegExp(matcher.pattern.regexp);
  const dir = mkdtempSync(join(tmpdir(), 'dsod-matcher-'));
  try {
    const spec = join(dir, 'broken.dsod.yaml');
    writeFileSync(spec, 'dsod: 1\nbackbone:\n  growth_rat: 48\n');
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'train', spec, '--out', join(dir, 'run')], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    const lines = `${r.stdout}\n${r.stderr}`.split('\n');
    const problems = lines.map((l) => re.exec(l)).filter((m): m is RegExpExecArray => m !== null);
    assert.equal(problems.length, 1, `expected one problem in:\n${lines.join('\n')}`);
    const m = problems[0];
    assert.equal(m[matcher.pattern.file], spec);
    assert.equal(m[matcher.pattern.line], '3');
    assert.equal(m[matcher.pattern.column], '3');
    assert.equal(m[matcher.pattern.severity], 'error');
    assert.match(m[matcher.pattern.message], /^Unknown property "growth_rat" in backbone/);
    assert.equal(m[matcher.pattern.code], 'schema/unknown-key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // An engine error with a location that is not a spec diagnostic (`dsod: file:line:col: message`): an error there.
  const other = re.exec('dsod: /w/a.dsod.yaml:12:5: train.batch (64) does not fit in memory');
  assert.ok(other);
  assert.equal(other[1], '/w/a.dsod.yaml');
  assert.equal(other[matcher.pattern.severity], undefined);
  assert.equal(matcher.severity, 'error');
  assert.equal(re.exec('C:\\w\\a.dsod.yaml:2:1: warning: something [x/y]')?.[1], 'C:\\w\\a.dsod.yaml');
  // Progress and log lines are not problems.
  for (const l of [
    'step 3/4000 epoch 0.75 loss 19.222 (loc 3.829, conf 15.394) lr 0.0015 9.8 img/s ETA 1h12m',
    'checkpoint at step 3: /r/checkpoints/step-00000003.dsodckpt (1.8 MiB)',
  ])
    assert.equal(re.exec(l), null, l);
});

test('DSOD specs default to 2-space indentation, as the completions and snippets insert', () => {
  const defaults = pkg.contributes.configurationDefaults['[dsod]'];
  assert.deepEqual(defaults, { 'editor.tabSize': 2, 'editor.insertSpaces': true });
});
