// A run continues on the engine that trained it (issue 12, item 5): its checkpoints are that engine's own files, so
// "DSOD: Resume Run" (and Resume on the dashboard) start `--engine torch` for a torch run whatever dsod.engine says, and
// the tfjs engine for a tfjs run even with dsod.engine = torch; a torch run where no Python has PyTorch is not started,
// and the notification says what is missing. The dashboard's host accepts the torch engine's step-N.pt inside the
// run's checkpoints folder for Resume and nothing else. Driven as VS Code drives the run manager (fakeVscode.ts), with
// the REAL engine (dist/dsod.js: `npm run build`) training the tfjs run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkpointProblem, weightsProblem } from '../../client/dashboardMessages';
import { EngineUnavailableError, resumeEngine } from '../../client/runs/engineChoice';
import { weightsOfRun } from '../../client/runs/runFolders';
import { readRunStatus } from '../../engine/report/run-folder';
import { RUN_FILES } from '../../protocol/run-files';
import { alive, repoRoot } from '../helpers';
import { fakeContext, installFakeVscode } from './fakeVscode';

const state = installFakeVscode();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runsModule = require('../../client/runs') as typeof import('../../client/runs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { describeRun } = require('../../client/runs/runManager') as typeof import('../../client/runs/runManager');

const ws = mkdtempSync(join(tmpdir(), 'dsod-resume-engine-'));
const dsod = join(repoRoot, 'dist', 'dsod.js');
const pids = new Set<number>();
let runs: import('../../client/runs').Runs | null = null;
let context: ReturnType<typeof fakeContext> | null = null;
const previousPython = process.env.DSOD_PYTHON;

/** A run folder as the torch engine leaves it after a stop (only names matter until an engine reads the files). */
function torchRunFolder(name: string): string {
  const dir = join(ws, 'runs', name);
  mkdirSync(join(dir, RUN_FILES.checkpoints), { recursive: true });
  writeFileSync(join(dir, RUN_FILES.spec), readFileSync(join(ws, 'tiny.dsod.yaml')));
  writeFileSync(join(dir, RUN_FILES.checkpoints, 'step-00000002.pt'), 'torch checkpoint');
  writeFileSync(join(dir, RUN_FILES.checkpoints, 'step-00000004.pt'), 'torch checkpoint');
  writeFileSync(join(dir, RUN_FILES.weights), 'weights');
  return dir;
}

before(() => {
  const synth = spawnSync(process.execPath, [dsod, 'synth', '--out', join(ws, 'data'), '--count', '16'], { encoding: 'utf8' });
  assert.equal(synth.status, 0, synth.stderr);
  writeFileSync(join(ws, 'tiny.dsod.yaml'), readFileSync(join(repoRoot, 'examples', 'tiny.dsod.yaml'), 'utf8').replace('root: ../data/synth', 'root: data'));
  state.workspaceFolder = ws;
  context = fakeContext(repoRoot);
  runs = runsModule.registerRuns(context as never);
  runs.manager.onDidChangeRuns(() => {
    for (const r of runs!.manager.active) if (r.process.pid) pids.add(r.process.pid);
  });
});

after(async () => {
  if (previousPython === undefined) delete process.env.DSOD_PYTHON;
  else process.env.DSOD_PYTHON = previousPython;
  await runs?.shutdown();
  for (const d of context?.subscriptions ?? []) d.dispose();
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(ws, { recursive: true, force: true });
});

describe('resumeEngine', () => {
  const found = () => null;
  const missing = () => 'no Python with PyTorch found: tried python3 (not found). Install it: apt-get install python3-torch';
  test("the run's engine, whatever dsod.engine says", () => {
    for (const setting of ['tfjs', 'torch', 'auto', 'typo']) {
      assert.equal(resumeEngine('torch', setting, found).engine, 'torch', setting);
      assert.equal(resumeEngine('tfjs', setting, found).engine, 'tfjs', setting);
    }
    assert.equal(resumeEngine('torch', 'tfjs', found).why, 'the run was trained by the torch engine; dsod.engine is tfjs');
  });
  test('a run that never trained follows the setting', () => {
    assert.equal(resumeEngine(null, 'torch', found).engine, 'torch');
    assert.equal(resumeEngine(null, 'tfjs', found).engine, 'tfjs');
    assert.equal(resumeEngine(null, 'auto', missing).engine, 'tfjs');
  });
  test('a torch run without PyTorch: an error that says what is missing; a tfjs run never asks for Python', () => {
    assert.throws(
      () => resumeEngine('torch', 'tfjs', missing),
      (e: unknown) =>
        e instanceof EngineUnavailableError && e.engine === 'torch' && /torch engine, which cannot run here: no Python with PyTorch/.test(e.message),
    );
    assert.equal(resumeEngine('tfjs', 'torch', missing).engine, 'tfjs');
  });
});

describe("the dashboard's checkpoint paths", () => {
  test("step-N.pt inside the run's checkpoints folder resumes; the same name elsewhere or any other file does not", () => {
    const dir = torchRunFolder('paths');
    const cp = join(dir, RUN_FILES.checkpoints, 'step-00000004.pt');
    assert.equal(checkpointProblem(dir, cp), null);
    writeFileSync(join(dir, RUN_FILES.checkpoints, 'step-00000004.pt.tmp'), '');
    writeFileSync(join(dir, 'step-00000004.pt'), '');
    assert.equal(
      checkpointProblem(dir, join(dir, RUN_FILES.checkpoints, 'step-00000004.pt.tmp')),
      'the file is not a checkpoint (step-N.dsodckpt or step-N.pt)',
    );
    assert.equal(checkpointProblem(dir, join(dir, 'step-00000004.pt')), "the checkpoint is not in the run's checkpoints folder");
    assert.equal(
      checkpointProblem(dir, join(dir, RUN_FILES.checkpoints, '..', RUN_FILES.checkpoints, 'step-00000006.pt')),
      'the checkpoint file is not there any more',
    );
    assert.equal(checkpointProblem(dir, `${RUN_FILES.checkpoints}/step-00000004.pt`), 'the checkpoint path is not absolute');
  });
  test('Evaluate refuses a torch checkpoint with the reason (dsod eval reads .dsodckpt and .dsodw); weights.dsodw is fine', () => {
    const dir = torchRunFolder('evaluate');
    assert.match(weightsProblem(dir, join(dir, RUN_FILES.checkpoints, 'step-00000004.pt')) ?? '', /PyTorch's own file.*evaluate the run's weights\.dsodw/);
    assert.equal(weightsProblem(dir, join(dir, RUN_FILES.weights)), null);
  });
  test('the run pickers say a torch run is one', async () => {
    const run = await readRunStatus(torchRunFolder('picker'));
    assert.match(describeRun(run!), / · torch engine · /);
  });
  test("a run's weights to evaluate are never a torch checkpoint", async () => {
    const dir = torchRunFolder('weights');
    rmSync(join(dir, RUN_FILES.weights));
    const run = await readRunStatus(dir);
    assert.equal(run?.checkpoints.length, 2);
    assert.equal(weightsOfRun(run!), null);
  });
});

describe('"DSOD: Resume Run"', () => {
  test('a torch run with dsod.engine = tfjs and no Python with PyTorch: not started, the notification names what is missing', async () => {
    const dir = torchRunFolder('no-python');
    state.config.engine = 'tfjs';
    process.env.DSOD_PYTHON = join(ws, 'no-such-python3');
    state.shown.length = 0;
    try {
      assert.equal(await state.commands.get('dsod.resumeRun')!({ runDir: dir }), undefined);
    } finally {
      if (previousPython === undefined) delete process.env.DSOD_PYTHON;
      else process.env.DSOD_PYTHON = previousPython;
    }
    assert.equal(runs!.manager.activeRun(dir), undefined, 'no process');
    const shown = state.shown.filter((s) => s.kind === 'error');
    assert.equal(shown.length, 1, JSON.stringify(state.shown));
    assert.match(
      shown[0].message,
      /^DSOD: cannot resume no-python: the run was trained by the torch engine, which cannot run here: no Python with PyTorch found: tried .*no-such-python3 \(not found\)\. Install it: apt-get install python3-torch/,
    );
    assert.deepEqual(shown[0].items, ['Open Log']);
  });

  test('a tfjs run with dsod.engine = torch resumes with the tfjs engine', async () => {
    const dir = join(ws, 'runs', 'tfjs-run');
    const trained = spawnSync(process.execPath, [dsod, 'train', join(ws, 'tiny.dsod.yaml'), '--out', dir, '--steps', '2', '--json'], {
      encoding: 'utf8',
      cwd: ws,
    });
    assert.equal(trained.status, 0, trained.stderr);
    assert.equal((await readRunStatus(dir))?.engine, 'tfjs');
    state.config.engine = 'torch';
    assert.equal(await state.commands.get('dsod.resumeRun')!({ runDir: dir }), dir);
    const run = runs!.manager.activeRun(dir);
    assert.ok(run, 'a process');
    assert.ok(run.process.argv.includes('--resume'), run.process.argv.join(' '));
    assert.ok(!run.process.argv.includes('--engine'), `no --engine torch: ${run.process.argv.join(' ')}`);
    assert.ok(
      state.output.some((l) => l.includes('engine tfjs (the run was trained by the tfjs engine; dsod.engine is torch)')),
      state.output.slice(-5).join('\n'),
    );
    const result = await runs!.manager.stop(run);
    assert.ok(['stopped', 'completed'].includes(result.status), result.message);
  });
});
