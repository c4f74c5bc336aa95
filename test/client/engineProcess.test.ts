// The run manager's process layer (client/runs/engineProcess.ts, supervisor.ts) against the REAL engine, the bundled
// dist/dsod.js, on examples/tiny.dsod.yaml with a small synthetic set, a few steps at a time: events parsed, a stop
// (SIGINT) writes a checkpoint and exits 130, resume continues from it, a process killed without `done` is a failed
// run that keeps its last events, a process that ignores SIGINT is killed after the grace period, two processes on
// one run folder are refused, and no engine process is left behind (also when the extension host itself dies).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { trainArgs } from '../../client/runs/engineArgs';
import { EngineProcess, type EngineResult } from '../../client/runs/engineProcess';
import { readRunStatus } from '../../engine/report/run-folder';
import { RunBusyError, RunSupervisor } from '../../client/runs/supervisor';
import type { EngineEvent, ProgressEvent } from '../../protocol/engine-events';
import { alive, repoRoot } from '../helpers';

const engine = join(repoRoot, 'dist', 'dsod.js');
const spec = join(repoRoot, 'examples', 'tiny.dsod.yaml');
let dir: string;
let data: string;
const pids: number[] = [];

before(() => {
  assert.ok(existsSync(engine), `${engine} is missing: run \`npm run build\` first`);
  dir = mkdtempSync(join(tmpdir(), 'dsod-client-runs-'));
  data = join(dir, 'data');
  const r = spawnSync(process.execPath, [engine, 'synth', '--out', data, '--count', '40'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

after(() => {
  // Whatever a failed test left running.
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function gone(pid: number | undefined, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function train(runDir: string, extra: { resume?: boolean; from?: string; steps?: number } = {}): EngineProcess {
  const p = new EngineProcess({
    enginePath: engine,
    command: 'train',
    args: trainArgs({
      spec,
      runDir,
      resume: extra.resume,
      from: extra.from,
      extra: ['--data', data, ...(extra.steps ? ['--steps', String(extra.steps)] : [])],
    }),
    cwd: dir,
  });
  if (p.pid !== undefined) pids.push(p.pid);
  return p;
}

function waitFor(p: EngineProcess, pred: (e: EngineEvent) => boolean, timeoutMs = 120_000): Promise<EngineEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for an event')), timeoutMs);
    p.onEvent((e) => {
      if (pred(e)) {
        clearTimeout(timer);
        resolve(e);
      }
    });
    void p.result.then((r) => {
      clearTimeout(timer);
      reject(new Error(`the engine ended first: ${r.message}\n${r.stderr}`));
    });
  });
}

let stoppedAt = 0;
let checkpoint = '';
const runDir = () => join(dir, 'runs', 'tiny-20260101-000000');

test('a training run streams valid events; stop (SIGINT) writes a checkpoint, exits 130 and leaves no process', async () => {
  const p = train(runDir());
  const seen: EngineEvent[] = [];
  const logs: string[] = [];
  p.onEvent((e) => seen.push(e));
  p.onLog((_, line) => logs.push(line));
  assert.deepEqual(p.argv.slice(0, 3), [engine, 'train', '--json']);
  const third = (await waitFor(p, (e) => e.type === 'progress' && e.step >= 3)) as ProgressEvent;
  assert.equal(third.steps, 4000);
  const result = await p.stop(60_000);
  assert.equal(result.status, 'stopped', result.message);
  assert.equal(result.exitCode, 130);
  assert.equal(result.forced, false);
  assert.equal(result.done?.reason, 'stopped');
  assert.equal(result.invalidLines, 0, logs.join('\n'));
  const types = new Set(seen.map((e) => e.type));
  for (const t of ['doctor', 'start', 'progress', 'checkpoint', 'done'] as const) assert.ok(types.has(t), `no ${t} event`);
  const ckpt = seen.find((e) => e.type === 'checkpoint');
  assert.ok(ckpt && ckpt.type === 'checkpoint');
  assert.equal(ckpt.reason, 'signal');
  assert.ok(existsSync(ckpt.path), ckpt.path);
  assert.ok(ckpt.step >= 3);
  stoppedAt = ckpt.step;
  checkpoint = ckpt.path;
  assert.ok(await gone(p.pid), `engine ${p.pid} still alive after stop`);
  // The run folder says the same.
  const info = await readRunStatus(runDir());
  assert.equal(info?.state, 'stopped');
  assert.equal(info?.step, stoppedAt);
  assert.equal(info?.spec, spec);
  assert.deepEqual(
    info?.checkpoints.map((c) => c.path),
    [checkpoint],
  );
});

test('resume continues from the checkpoint the stop wrote', async () => {
  assert.ok(stoppedAt > 0, 'the stop test must run first');
  const p = train(runDir(), { resume: true, steps: stoppedAt + 2 });
  const events: EngineEvent[] = [];
  p.onEvent((e) => events.push(e));
  const result = await p.result;
  assert.equal(result.status, 'completed', `${result.message}\n${result.stderr}`);
  assert.equal(result.exitCode, 0);
  assert.equal(result.start?.step, stoppedAt);
  assert.equal(result.start?.resumed, true);
  const steps = events.filter((e): e is ProgressEvent => e.type === 'progress').map((e) => e.step);
  assert.deepEqual(steps, [stoppedAt + 1, stoppedAt + 2]);
  assert.equal(result.done?.step, stoppedAt + 2);
  assert.ok(await gone(p.pid));
  assert.equal((await readRunStatus(runDir()))?.state, 'step-limit', 'it ended at --steps, not at the end of its schedule');
});

test('a process killed without a done event is a failed run that keeps its last events', async () => {
  const p = train(join(dir, 'runs', 'killed'));
  await waitFor(p, (e) => e.type === 'progress' && e.step >= 2);
  process.kill(p.pid!, 'SIGKILL');
  const result = await p.result;
  assert.equal(result.status, 'failed');
  assert.equal(result.signal, 'SIGKILL');
  assert.equal(result.done, null);
  assert.match(result.message, /killed \(SIGKILL\) at step \d+ without finishing/);
  assert.ok(result.lastProgress && result.lastProgress.step >= 2);
  assert.ok(result.events.some((e) => e.type === 'start'));
  assert.ok(result.events.some((e) => e.type === 'progress'));
  // Its lock names a process that is gone: interrupted, not running.
  assert.equal((await readRunStatus(join(dir, 'runs', 'killed')))?.state, 'interrupted');
});

test('the supervisor refuses a second process on the same run folder and stops all on dispose', async () => {
  const sup = new RunSupervisor({ enginePath: engine, cwd: dir });
  const folder = join(dir, 'runs', 'busy');
  const ended: EngineResult[] = [];
  sup.onEnd((_, r) => ended.push(r));
  const a = sup.start(folder, { command: 'train', args: trainArgs({ spec, runDir: folder, extra: ['--data', data] }) });
  pids.push(a.process.pid!);
  assert.throws(
    () => sup.start(join(folder, '.'), { command: 'eval', args: [] }),
    (e: unknown) => e instanceof RunBusyError && /in use by a running "dsod train"/.test(e.message) && /stop it first/.test(e.message),
  );
  await waitFor(a.process, (e) => e.type === 'progress');
  await sup.dispose(60_000);
  assert.equal(sup.runs.length, 0);
  assert.equal(ended.length, 1);
  assert.equal(ended[0].status, 'stopped');
  assert.ok(await gone(a.process.pid));
  assert.throws(() => sup.start(join(dir, 'runs', 'later'), { command: 'train', args: [] }), /shutting down/);
});

test('a process that ignores SIGINT is killed after the grace period', async () => {
  const fake = join(dir, 'stubborn.js');
  writeFileSync(
    fake,
    `process.on('SIGINT', () => {});
     console.log(JSON.stringify({ v: 1, time: new Date().toISOString(), type: 'log', level: 'info', message: 'ready' }));
     setInterval(() => {}, 1000);`,
  );
  const p = new EngineProcess({ enginePath: fake, command: 'train', args: [] });
  pids.push(p.pid!);
  await waitFor(p, (e) => e.type === 'log');
  const t0 = Date.now();
  const result = await p.stop(400);
  assert.ok(Date.now() - t0 >= 350, 'killed before the grace period');
  assert.equal(result.status, 'stopped');
  assert.equal(result.forced, true);
  assert.equal(result.signal, 'SIGKILL');
  assert.match(result.message, /by force/);
  assert.ok(await gone(p.pid));
});

test('lines that are not events are logged, never fatal; split chunks and CRLF are read whole', async () => {
  const fake = join(dir, 'noisy.js');
  const ev = (body: object) => JSON.stringify({ v: 1, time: new Date().toISOString(), ...body });
  const done = ev({ type: 'done', reason: 'completed', step: null, elapsedSec: 0, exitCode: 0, metric: null });
  writeFileSync(
    fake,
    `const out = ${JSON.stringify(['hello, not JSON\n', '{"v":2,"type":"log"}\n', ev({ type: 'log', level: 'info', message: 'one' }).slice(0, 20)])};
     const rest = ${JSON.stringify(ev({ type: 'log', level: 'info', message: 'one' }).slice(20) + '\r\n' + done)};
     for (const s of out) process.stdout.write(s);
     setTimeout(() => { process.stdout.write(rest); console.error('a warning on stderr'); }, 50);`,
  );
  const p = new EngineProcess({ enginePath: fake, command: 'eval', args: [] });
  const logs: string[] = [];
  const events: EngineEvent[] = [];
  p.onLog((level, line) => logs.push(`${level}: ${line}`));
  p.onEvent((e) => events.push(e));
  const result = await p.result;
  assert.equal(result.status, 'completed', result.message);
  assert.equal(result.invalidLines, 2);
  assert.deepEqual(
    events.map((e) => e.type),
    ['log', 'done'],
  );
  assert.ok(logs.some((l) => /not an event \(not JSON/.test(l) && /hello, not JSON/.test(l)));
  assert.ok(logs.some((l) => /event version 2/.test(l)));
  assert.ok(logs.includes('warn: a warning on stderr'));
  assert.match(result.stderr, /a warning on stderr/);
});

test('a runtime that cannot start is a failed run, not an exception', async () => {
  const p = new EngineProcess({ enginePath: engine, command: 'train', args: [], execPath: join(dir, 'no-such-node') });
  const result = await p.result;
  assert.equal(result.status, 'failed');
  assert.match(result.message, /could not be started/);
});

test('an engine whose extension host dies exits too (no orphan)', async () => {
  // A stand-in for the extension host: it starts the engine through EngineProcess, reports its pid, and is then
  // killed with SIGKILL (no deactivate). The engine's next event write hits a closed pipe and it exits.
  const host = join(dir, 'host.js');
  const moduleFile = join(repoRoot, 'out', 'client', 'runs', 'engineProcess.js');
  writeFileSync(
    host,
    `const { EngineProcess } = require(${JSON.stringify(moduleFile)});
     const p = new EngineProcess({ enginePath: ${JSON.stringify(engine)}, command: 'train',
       args: ${JSON.stringify(trainArgs({ spec, runDir: join(dir, 'runs', 'orphan'), extra: ['--data', data] }))} });
     p.onEvent((e) => { if (e.type === 'progress' && e.step === 2) console.log('ENGINE ' + p.pid); });
     setInterval(() => {}, 1000);`,
  );
  const parent = spawn(process.execPath, [host], { stdio: ['ignore', 'pipe', 'inherit'] });
  pids.push(parent.pid!);
  const enginePid = await new Promise<number>((resolve, reject) => {
    let out = '';
    parent.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ENGINE (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    parent.once('exit', () => reject(new Error(`host exited: ${out}`)));
    setTimeout(() => reject(new Error('no engine pid')), 120_000).unref();
  });
  pids.push(enginePid);
  assert.ok(alive(enginePid));
  parent.kill('SIGKILL');
  assert.ok(await gone(enginePid, 20_000), `engine ${enginePid} outlived its host`);
  const events = readFileSync(join(dir, 'runs', 'orphan', 'events.jsonl'), 'utf8');
  assert.match(events, /"type":"progress"/);
});
