// Both engines' checkpoints in a run folder (issue 12, item 5): the one table of checkpoint kinds
// (protocol/run-files.ts CHECKPOINT_KINDS) names each file's engine and step; the run folder reader lists the torch
// engine's step-N.pt beside the tfjs engine's step-N.dsodckpt, each with its engine, and says which engine trains the
// run (its last checkpoint's, else its training's doctor); the tfjs trainer's own list leaves the torch files alone.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { listCheckpointFiles, readArtifacts, readRunStatus } from '../../engine/report/run-folder';
import { listCheckpoints } from '../../engine/train/checkpoint';
import { formatEngineEvent, makeEvent, validateEngineEvent, type EngineEvent, type EventBody } from '../../protocol/engine-events';
import { CHECKPOINT_KINDS, checkpointFileName, checkpointOfName, RUN_FILES } from '../../protocol/run-files';

const temp = mkdtempSync(join(tmpdir(), 'dsod-report-checkpoints-'));
after(() => rmSync(temp, { recursive: true, force: true }));

let runs = 0;
/** A run folder with these files under checkpoints/ (a few bytes each: only names and sizes are read here). */
function runFolder(checkpoints: string[], events: EventBody[] = []): string {
  const dir = join(temp, `run-${++runs}`);
  mkdirSync(join(dir, RUN_FILES.checkpoints), { recursive: true });
  writeFileSync(join(dir, RUN_FILES.spec), 'name: tiny\n');
  for (const n of checkpoints) writeFileSync(join(dir, RUN_FILES.checkpoints, n), 'x'.repeat(n.length));
  const lines = events.map((b) => {
    const e = makeEvent(b) as EngineEvent;
    assert.ok(validateEngineEvent(e).ok, `a valid event: ${JSON.stringify(e)}`);
    return formatEngineEvent(e);
  });
  if (lines.length) writeFileSync(join(dir, RUN_FILES.events), lines.join('\n') + '\n');
  return dir;
}

const trainStart: EventBody = {
  type: 'start',
  command: 'train',
  spec: '/w/tiny.dsod.yaml',
  name: 'tiny',
  runDir: '/w/runs/tiny',
  step: 0,
  steps: 100,
  batch: 8,
  accumulate: 1,
  images: { train: 10, test: 5 },
  resumed: false,
};
const doctor = (engine: 'tfjs' | 'torch' | undefined): EventBody => ({
  type: 'doctor',
  chosen: engine === 'torch' ? 'torch-cpu' : 'wasm',
  tfBackend: engine === 'torch' ? 'none' : 'wasm',
  requested: 'auto',
  reason: 'r',
  attempts: [],
  ...(engine ? { engine } : {}),
});

describe('the table of checkpoint kinds', () => {
  test('names each file its engine and step; anything else is no checkpoint', () => {
    assert.deepEqual(checkpointOfName('step-00000012.pt'), { engine: 'torch', step: 12 });
    assert.deepEqual(checkpointOfName('step-00000012.dsodckpt'), { engine: 'tfjs', step: 12 });
    assert.deepEqual(checkpointOfName('step-123456789.pt'), { engine: 'torch', step: 123456789 });
    for (const n of [
      'step-00000012.pt.tmp',
      'step-00000012.dsodckpt.partial',
      'step-.pt',
      'step-12.PT',
      'step-1e3.pt',
      'weights.dsodw',
      'step-00000012.pth',
      'x-step-1.pt',
    ])
      assert.equal(checkpointOfName(n), null, n);
  });

  test('file names round-trip, one kind per engine, eight digits as both trainers write them', () => {
    assert.deepEqual(
      CHECKPOINT_KINDS.map((k) => k.engine),
      ['tfjs', 'torch'],
    );
    assert.equal(checkpointFileName('torch', 40), 'step-00000040.pt');
    assert.equal(checkpointFileName('tfjs', 40), 'step-00000040.dsodckpt');
    for (const k of CHECKPOINT_KINDS) assert.deepEqual(checkpointOfName(checkpointFileName(k.engine, 7)), { engine: k.engine, step: 7 });
  });
});

describe('a run folder of the torch engine', () => {
  test('its step-N.pt are listed, each with its engine, step and size, oldest first; temporary files are not', async () => {
    const dir = runFolder(['step-00000008.pt', 'step-00000004.pt', 'step-00000012.pt.tmp-1234', 'notes.txt']);
    const files = await listCheckpointFiles(dir);
    assert.deepEqual(
      files.map((f) => [f.step, f.engine, f.bytes, f.path]),
      [
        [4, 'torch', 16, join(dir, RUN_FILES.checkpoints, 'step-00000004.pt')],
        [8, 'torch', 16, join(dir, RUN_FILES.checkpoints, 'step-00000008.pt')],
      ],
    );
    assert.deepEqual((await readArtifacts(dir, { gallery: false })).checkpoints, files, 'the dashboard snapshot lists them the same');
    assert.deepEqual(listCheckpoints(dir), [], "the tfjs trainer's own list (resume, pruning) leaves the torch engine's files alone");
  });

  test("the run's engine is its last checkpoint's", async () => {
    const torch = await readRunStatus(runFolder(['step-00000004.pt']));
    assert.equal(torch?.engine, 'torch');
    assert.equal(torch?.checkpoints.length, 1);
    assert.equal((await readRunStatus(runFolder(['step-00000004.dsodckpt'])))?.engine, 'tfjs');
  });

  test("without a checkpoint yet, the engine its training's doctor named (none: tfjs, events before the torch engine); never trained: null", async () => {
    assert.equal((await readRunStatus(runFolder([], [trainStart, doctor('torch')])))?.engine, 'torch');
    assert.equal((await readRunStatus(runFolder([], [trainStart, doctor('tfjs')])))?.engine, 'tfjs');
    assert.equal((await readRunStatus(runFolder([], [trainStart, doctor(undefined)])))?.engine, 'tfjs');
    assert.equal((await readRunStatus(runFolder([])))?.engine, null);
  });
});
