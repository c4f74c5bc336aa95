// The run manager as VS Code drives it (client/runs/: commands, progress notification, status bar, output, diagnostics,
// code lens, task provider), with a stand-in for the `vscode` module (fakeVscode.ts) and the REAL engine (dist/dsod.js)
// on the tiny example, a few steps at a time: Train from the active spec (the dashboard opened, the cost stated from the
// first steps), Cancel writes a checkpoint, Resume continues from it, a second process on the run is refused, Evaluate
// and Run Inference on the run, a broken spec gives an error with "Open Log" and a diagnostic at its location, a
// restricted workspace refuses with the reason, and shutdown (deactivate) leaves no engine process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EngineResult } from '../../client/runs/engineProcess';
import { readRunStatus } from '../../engine/report/run-folder';
import type { EngineEvent } from '../../protocol/engine-events';
import { STATE_TEXT } from '../../webview/dashboard/model';
import { alive, repoRoot } from '../helpers';
import { fakeContext, installFakeVscode, Uri, type CodeLens } from './fakeVscode';

const state = installFakeVscode();
// Loaded after the fake is in place: these modules import `vscode`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runsModule = require('../../client/runs') as typeof import('../../client/runs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DsodTaskProvider } = require('../../client/runs/taskProvider') as typeof import('../../client/runs/taskProvider');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { describeRun } = require('../../client/runs/runManager') as typeof import('../../client/runs/runManager');

let ws: string;
let spec: string;
let runs: import('../../client/runs').Runs;
let context: ReturnType<typeof fakeContext>;
const opened: string[] = [];
const pids = new Set<number>();

before(() => {
  ws = mkdtempSync(join(tmpdir(), 'dsod-run-manager-'));
  const synth = spawnSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'synth', '--out', join(ws, 'data'), '--count', '40'], { encoding: 'utf8' });
  assert.equal(synth.status, 0, synth.stderr);
  spec = join(ws, 'tiny.dsod.yaml');
  const text = readFileSync(join(repoRoot, 'examples', 'tiny.dsod.yaml'), 'utf8').replace('root: ../data/synth', 'root: data');
  assert.match(text, /root: data,/);
  writeFileSync(spec, text);
  state.workspaceFolder = ws;
  context = fakeContext(repoRoot);
  runs = runsModule.registerRuns(context as never);
  // The dashboard's command (another helper's): record what the manager opens.
  state.commands.set('dsod.openRun', (dir: unknown) => void opened.push(String(dir)));
  runs.manager.onDidChangeRuns(() => {
    for (const r of runs.manager.active) if (r.process.pid) pids.add(r.process.pid);
  });
});

after(async () => {
  // DSOD_TEST_LOG=FILE keeps what the "DSOD Runs" output channel showed, and the notifications, to read.
  if (process.env.DSOD_TEST_LOG)
    writeFileSync(
      process.env.DSOD_TEST_LOG,
      [
        ...state.output,
        '',
        ...state.progress.flatMap((p) => [`[progress] ${p.title}`, ...p.messages.map((m) => `  ${m}`)]),
        '',
        ...state.shown.map((s) => `[${s.kind}] ${s.message} [${s.items.join(', ')}]`),
      ].join('\n') + '\n',
    );
  await runs.shutdown();
  for (const d of context.subscriptions) d.dispose();
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(ws, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${state.output.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exec = (id: string, ...args: unknown[]) => state.commands.get(id)!(...args) as Promise<unknown>;

/** The process of a run folder, with every event it sends from now on. */
function follow(runDir: string): { events: EngineEvent[]; result: Promise<EngineResult>; pid: number | undefined } {
  const run = runs.manager.activeRun(runDir);
  assert.ok(run, `no process on ${runDir}`);
  const events: EngineEvent[] = [];
  run.process.onEvent((e) => events.push(e));
  return { events, result: run.process.result, pid: run.process.pid };
}

const lensTitles = async () =>
  (await Promise.all(state.codeLensProviders.map((p) => p.provideCodeLenses({ uri: Uri.file(spec), languageId: 'dsod' }))))
    .flat()
    .map((l: CodeLens) => l.command!.title);

let runDir = '';
let stoppedAt = 0;

test('a restricted workspace refuses every run command with the reason, and offers no tasks', async () => {
  state.trusted = false;
  state.shown.length = 0;
  try {
    for (const id of ['dsod.train', 'dsod.evaluate', 'dsod.runInference', 'dsod.resumeRun']) assert.equal(await exec(id, Uri.file(spec)), undefined);
    assert.equal(state.shown.length, 4);
    for (const s of state.shown) {
      assert.equal(s.kind, 'warning');
      assert.match(s.message, /disabled in Restricted Mode/);
      assert.match(s.message, /trust the workspace/);
      assert.deepEqual(s.items, ['Manage Workspace Trust']);
    }
    assert.equal(runs.manager.active.length, 0);
    assert.deepEqual(await new DsodTaskProvider(repoRoot).provideTasks(), []);
    assert.ok(!(await lensTitles()).some((t) => /Train|Evaluate/.test(t)), 'Train/Evaluate lenses in a restricted workspace');
  } finally {
    state.trusted = true;
  }
});

test('"DSOD: Train" on the active spec: a new run folder, the dashboard, progress with the cost, status bar, log, code lens', async () => {
  state.activeEditorPath = spec;
  runDir = (await exec('dsod.train')) as string;
  assert.match(runDir, new RegExp(`^${join(ws, 'runs').replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}/tiny-\\d{8}-\\d{6}$`));
  const p = follow(runDir);
  if (p.pid) pids.add(p.pid);
  const note = state.progress.at(-1)!;
  assert.equal(note.title, `DSOD: Training ${runDir.split('/').pop()}`);
  assert.equal(note.cancellable, true);
  await until('step 8', () => p.events.some((e) => e.type === 'progress' && e.step >= 8));
  await until('the cost', () => note.messages.find((m) => /img\/s measured over steps 2-6/.test(m)));
  assert.ok(
    note.messages.some((m) => /^4,000 steps of batch 8 \(32,000 images\) on 32 training images; measuring the speed…$/.test(m)),
    note.messages.join('\n'),
  );
  assert.match(
    note.messages.find((m) => /measured over/.test(m))!,
    /^4,000 steps × batch 8 = 32,000 images; [\d.]+ img\/s measured over steps 2-6; about \S+ to the end$/,
  );
  assert.deepEqual(opened, [runDir], 'the dashboard opens the run once it started');
  await until('the status bar', () => /^\$\(sync~spin\) DSOD \d+\/4,000 · loss \d+\.\d{3} · ETA \S+$/.test(state.status.text));
  assert.equal(state.status.visible, true);
  assert.deepEqual(state.status.command, { command: 'dsod.openRun', title: 'Open Run', arguments: [runDir] });
  assert.equal(state.contexts.get('dsod.runActive'), true);
  const log = state.output.join('\n');
  assert.ok(log.includes(`dist/dsod.js train --json ${spec} --out ${runDir}`), 'the command line is logged');
  assert.match(log, /backend: wasm/);
  assert.match(log, /cost: 4,000 steps × batch 8/);
  await until('the live lens', async () => (await lensTitles()).some((t) => /^training: step \d+\/4,000 · loss/.test(t)));
  assert.ok((await lensTitles()).includes('$(debug-stop) Stop'));

  // Cancel on the notification: a graceful stop that writes a checkpoint.
  note.cancel();
  const result = await p.result;
  assert.equal(result.status, 'stopped', result.message);
  assert.equal(result.exitCode, 130);
  const ckpt = p.events.find((e) => e.type === 'checkpoint');
  assert.ok(ckpt && ckpt.type === 'checkpoint' && ckpt.reason === 'signal');
  assert.ok(existsSync(ckpt.path));
  stoppedAt = ckpt.step;
  assert.ok(note.messages.includes('stopping: writing a checkpoint…'));
  await until('the run to leave the manager', () => runs.manager.active.length === 0);
  assert.equal(alive(p.pid), false);
  assert.equal(state.status.visible, false);
  assert.equal(state.contexts.get('dsod.runActive'), false);
  await until('note done', () => note.done);
  const titles = await lensTitles();
  assert.ok(titles.includes('$(play) Train') && titles.includes('Evaluate'), titles.join(' | '));
  assert.ok(titles.includes(`last run: stopped at step ${stoppedAt.toLocaleString('en-US')}`), titles.join(' | '));
});

test('"DSOD: Resume Run" continues the newest run of the active spec from its checkpoint; a second process is refused', async () => {
  assert.ok(stoppedAt > 0, 'the train test must run first');
  opened.length = 0;
  state.shown.length = 0;
  assert.equal(await exec('dsod.resumeRun'), runDir);
  const p = follow(runDir);
  if (p.pid) pids.add(p.pid);
  const start = await until('the start event', () => p.events.find((e) => e.type === 'start'));
  assert.ok(start.type === 'start' && start.resumed && start.step === stoppedAt);
  const first = await until('a step', () => p.events.find((e) => e.type === 'progress'));
  assert.ok(first.type === 'progress');
  assert.equal(first.step, stoppedAt + 1);
  // The same run folder again, from the dashboard's "resume from this checkpoint": refused, clearly.
  assert.equal(await exec('dsod.resumeRun', { runDir }), undefined);
  const refusal = state.shown.find((s) => s.kind === 'warning');
  assert.match(refusal?.message ?? '', /is in use by a running "dsod train" of this window: stop it first/);
  assert.equal(runs.manager.active.length, 1);
  // "DSOD: Stop Run" with one run running stops it.
  const stopped = (await exec('dsod.stopRun')) as EngineResult;
  assert.equal(stopped.status, 'stopped');
  assert.ok(stopped.done && stopped.done.step! > stoppedAt);
  stoppedAt = stopped.done!.step!;
  assert.equal(alive(p.pid), false);
  assert.deepEqual(opened, [runDir]);
});

test('"DSOD: Evaluate" and "DSOD: Run Inference" on the spec work on its run, their events in the run folder', async () => {
  state.shown.length = 0;
  assert.equal(await exec('dsod.evaluate', Uri.file(spec)), runDir);
  let p = follow(runDir);
  let result = await p.result;
  assert.equal(result.status, 'completed', `${result.message}\n${result.stderr}`);
  const metric = p.events.find((e) => e.type === 'metric');
  assert.ok(metric && metric.type === 'metric' && metric.step === stoppedAt);
  const evalArgv = state.output.find((l) => l.includes('dsod.js eval --json'))!;
  assert.ok(evalArgv.includes(`eval --json ${spec} --run ${runDir}`), evalArgv);

  assert.equal(await exec('dsod.runInference', Uri.file(spec), [Uri.file(spec)]), runDir);
  p = follow(runDir);
  result = await p.result;
  assert.equal(result.status, 'completed', `${result.message}\n${result.stderr}`);
  assert.ok(existsSync(join(runDir, 'inference', 'detections.json')));
  const doc = JSON.parse(readFileSync(join(runDir, 'inference', 'detections.json'), 'utf8'));
  assert.equal(doc.images.length, 8, 'the held-out split of 40 synthetic images');
  assert.ok(state.output.some((l) => /inference on 8 held-out images \(test split of /.test(l)));
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8');
  assert.match(events, /"command":"eval"/);
  assert.match(events, /"command":"infer"/);
  assert.deepEqual(
    state.shown.filter((s) => s.kind !== 'info'),
    [],
  );
});

test('a broken spec: an error notification with "Open Log" and a diagnostic at the place it names', async () => {
  const broken = join(ws, 'broken.dsod.yaml');
  writeFileSync(broken, 'dsod: 1\nbackbone:\n  growth_rat: 48\n');
  state.shown.length = 0;
  state.diagnostics.set('/stale', []);
  const dir = (await exec('dsod.train', Uri.file(broken))) as string;
  assert.equal(state.diagnostics.has('/stale'), false, 'diagnostics of the last run are cleared');
  const result = await runs.manager.activeRun(dir)!.process.result;
  assert.equal(result.status, 'failed');
  await until('the error', () => state.shown.find((s) => s.kind === 'error'));
  const err = state.shown.find((s) => s.kind === 'error')!;
  assert.match(err.message, /^DSOD: train failed: .*broken\.dsod\.yaml has 1 error: Unknown property "growth_rat"/);
  assert.deepEqual(err.items, ['Open Log', 'Go to Error']);
  const [d] = state.diagnostics.get(broken) ?? [];
  assert.ok(d, 'no diagnostic on the spec');
  assert.deepEqual([d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character], [2, 2, 2, 12]);
  assert.equal(d.code, 'spec');
  assert.equal(d.source, 'dsod train');
  await until('the run to leave the manager', () => runs.manager.active.length === 0);
});

test('an engine killed from outside is a failed run, reported with its last step', async () => {
  state.shown.length = 0;
  const dir = (await exec('dsod.train', Uri.file(spec))) as string;
  const p = follow(dir);
  if (p.pid) pids.add(p.pid);
  await until('step 2', () => p.events.some((e) => e.type === 'progress' && e.step >= 2));
  process.kill(p.pid!, 'SIGKILL');
  const r = await p.result;
  assert.equal(r.status, 'failed');
  const err = await until('the error', () => state.shown.find((s) => s.kind === 'error'));
  assert.match(err.message, /^DSOD: train of tiny-\S+ failed: the engine was killed \(SIGKILL\) at step \d+ without finishing/);
  assert.deepEqual(err.items, ['Open Log', 'Open Run']);
  // The lens and the quick pick read it as the dashboard does: its lock names a process that is gone, so it is
  // interrupted, not running.
  await until('the run to leave the manager', () => !runs.manager.activeRun(dir));
  const titles = await lensTitles();
  assert.ok(
    titles.some((t) => t.startsWith(`last run: ${STATE_TEXT.interrupted} at step `)),
    titles.join(' | '),
  );
  const run = await readRunStatus(dir);
  assert.equal(run?.state, 'interrupted');
  assert.ok(run && describeRun(run).includes(STATE_TEXT.interrupted), run ? describeRun(run) : dir);
});

test('shutdown (deactivate) stops every run gracefully, with a checkpoint, and leaves no process', async () => {
  const a = (await exec('dsod.train', Uri.file(spec))) as string;
  const pa = follow(a);
  if (pa.pid) pids.add(pa.pid);
  await until('a step', () => pa.events.some((e) => e.type === 'progress'));
  await runs.shutdown();
  const r = await pa.result;
  assert.equal(r.status, 'stopped');
  assert.ok(pa.events.some((e) => e.type === 'checkpoint' && e.reason === 'signal'));
  assert.equal(alive(pa.pid), false);
  assert.equal(runs.manager.active.length, 0);
  // After shutdown nothing new starts.
  assert.equal(await exec('dsod.train', Uri.file(spec)), undefined);
  assert.equal(runs.manager.active.length, 0);
  for (const pid of pids) assert.equal(alive(pid), false, `engine ${pid} is still running`);
});

test('the dsod task: the runtime with dist/dsod.js, ELECTRON_RUN_AS_NODE, $dsod, and it runs', async () => {
  const provider = new DsodTaskProvider(repoRoot);
  const folder = { uri: Uri.file(ws), name: 'ws', index: 0 };
  const task = (await provider.resolveTask({
    definition: { type: 'dsod', command: 'train', spec: 'tiny.dsod.yaml', args: ['--steps', '1'] },
    scope: folder,
  } as never)) as unknown as {
    execution: { process: string; args: string[]; options: { cwd: string; env: Record<string, string> } };
    problemMatchers: string[];
    name: string;
  };
  assert.ok(task);
  assert.equal(task.execution.process, process.execPath);
  const out = join(ws, 'runs', 'tiny');
  assert.deepEqual(task.execution.args, [join(repoRoot, 'dist', 'dsod.js'), 'train', spec, '--out', out, '--resume', '--steps', '1']);
  assert.deepEqual(task.execution.options, { cwd: ws, env: { ELECTRON_RUN_AS_NODE: '1' } });
  assert.deepEqual(task.problemMatchers, ['$dsod']);
  const r = spawnSync(task.execution.process, task.execution.args, { cwd: ws, env: { ...process.env, ...task.execution.options.env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /done \(step-limit\) at step 1/);
  // Again: the same task continues its run folder.
  const again = spawnSync(task.execution.process, [...task.execution.args.slice(0, -1), '2'], {
    cwd: ws,
    env: { ...process.env, ...task.execution.options.env },
    encoding: 'utf8',
  });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /resuming .* at step 1 of 4000/);
  const evalTask = (await provider.resolveTask({
    definition: { type: 'dsod', command: 'eval', spec: 'tiny.dsod.yaml' },
    scope: folder,
  } as never)) as unknown as { execution: { args: string[] } };
  assert.deepEqual(evalTask.execution.args.slice(1), ['eval', spec, '--run', out], "eval defaults to the newest run of the spec (the task's own)");
});
