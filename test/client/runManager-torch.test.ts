// "DSOD: Train" with the setting dsod.engine = torch (client/runs/engineChoice.ts), driven as VS Code drives the run
// manager (fakeVscode.ts stands in for `vscode`) with the REAL bundled engine (dist/dsod.js, which ships
// dist/dsod_torch): the process gets `--engine torch`, the log says which engine and why, the torch engine's doctor
// and events arrive, and "DSOD: Stop Run" ends it with a checkpoint; with dsod.engine set back to tfjs, "DSOD: Resume
// Run" continues it on the torch engine (issue 12, item 5). Skipped, with the reason, without torch.
// Needs `npm run build` (dist/).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EngineResult } from '../../client/runs/engineProcess';
import type { EngineEvent } from '../../protocol/engine-events';
import { checkpointOfName } from '../../protocol/run-files';
import { skipWithoutTorch as skip, torchPython } from '../engine/torch-fixtures';
import { alive, repoRoot } from '../helpers';
import { fakeContext, installFakeVscode } from './fakeVscode';

const state = installFakeVscode();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runsModule = require('../../client/runs') as typeof import('../../client/runs');

let ws = '';
let spec = '';
/** The torch run of the first test, stopped with a checkpoint. */
let runDir = '';
let runs: import('../../client/runs').Runs | null = null;
let context: ReturnType<typeof fakeContext> | null = null;
const pids = new Set<number>();
const previousPython = process.env.DSOD_PYTHON;

before(() => {
  if (skip) return;
  // The engine process inherits our environment: point it at the Python that has torch (a pyenv python3 may not).
  if (torchPython.ok) process.env.DSOD_PYTHON = torchPython.python;
  ws = mkdtempSync(join(tmpdir(), 'dsod-run-manager-torch-'));
  const synth = spawnSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'synth', '--out', join(ws, 'data'), '--count', '16'], { encoding: 'utf8' });
  assert.equal(synth.status, 0, synth.stderr);
  spec = join(ws, 'tiny.dsod.yaml');
  writeFileSync(spec, readFileSync(join(repoRoot, 'examples', 'tiny.dsod.yaml'), 'utf8').replace('root: ../data/synth', 'root: data'));
  state.workspaceFolder = ws;
  state.config.engine = 'torch';
  context = fakeContext(repoRoot);
  runs = runsModule.registerRuns(context as never);
});

after(async () => {
  if (previousPython === undefined) delete process.env.DSOD_PYTHON;
  else process.env.DSOD_PYTHON = previousPython;
  if (!runs) return;
  await runs.shutdown();
  for (const d of context!.subscriptions) d.dispose();
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(ws, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${state.output.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('dsod.engine = torch: "DSOD: Train" starts the torch engine (its doctor, its events); "DSOD: Stop Run" checkpoints', { skip }, async () => {
  state.activeEditorPath = spec;
  runDir = (await state.commands.get('dsod.train')!()) as string;
  const run = runs!.manager.activeRun(runDir);
  assert.ok(run, `no process on ${runDir}`);
  if (run.process.pid) pids.add(run.process.pid);
  const events: EngineEvent[] = [];
  run.process.onEvent((e) => events.push(e));
  assert.deepEqual(run.process.argv.slice(-2), ['--engine', 'torch']);
  await until('a step', () => events.some((e) => e.type === 'progress'));
  const doctor = events.find((e) => e.type === 'doctor');
  assert.ok(doctor?.type === 'doctor' && doctor.engine === 'torch' && doctor.torch?.device === 'cpu', JSON.stringify(doctor));
  assert.ok(
    state.output.some((l) => l.includes('engine torch (dsod.engine is torch)')),
    state.output.slice(-10).join('\n'),
  );
  const stopped = (await state.commands.get('dsod.stopRun')!()) as EngineResult;
  assert.equal(stopped.status, 'stopped', stopped.message);
  const checkpoint = events.find((e) => e.type === 'checkpoint');
  assert.ok(checkpoint?.type === 'checkpoint' && checkpoint.reason === 'signal' && existsSync(checkpoint.path));
  assert.ok(existsSync(join(runDir, 'weights.dsodw')));
});

test('dsod.engine = tfjs: "DSOD: Resume Run" continues the torch run on the torch engine, from its checkpoint', { skip }, async () => {
  assert.ok(runDir, 'the first test left a stopped torch run');
  state.config.engine = 'tfjs';
  const stoppedAt = Math.max(...readdirSync(join(runDir, 'checkpoints')).map((n) => checkpointOfName(n)?.step ?? -1));
  assert.ok(stoppedAt > 0, 'a torch checkpoint');
  state.activeEditorPath = spec;
  assert.equal(await state.commands.get('dsod.resumeRun')!(), runDir, 'the newest run of the active spec');
  const run = runs!.manager.activeRun(runDir);
  assert.ok(run, `no process on ${runDir}`);
  if (run.process.pid) pids.add(run.process.pid);
  const events: EngineEvent[] = [];
  run.process.onEvent((e) => events.push(e));
  assert.deepEqual(run.process.argv.slice(-5), ['--out', runDir, '--resume', '--engine', 'torch']);
  assert.ok(
    state.output.some((l) => l.includes('engine torch (the run was trained by the torch engine; dsod.engine is tfjs)')),
    state.output.slice(-10).join('\n'),
  );
  const progress = await until('a step after the resume', () => events.find((e) => e.type === 'progress'));
  assert.equal(progress.type === 'progress' && progress.step, stoppedAt + 1, "the first step is the checkpoint's next");
  const start = events.find((e) => e.type === 'start');
  assert.ok(start?.type === 'start' && start.resumed && start.step === stoppedAt, JSON.stringify(start));
  const doctor = events.find((e) => e.type === 'doctor');
  assert.ok(doctor?.type === 'doctor' && doctor.engine === 'torch', JSON.stringify(doctor));
  const stopped = (await state.commands.get('dsod.stopRun')!()) as EngineResult;
  assert.equal(stopped.status, 'stopped', stopped.message);
});
