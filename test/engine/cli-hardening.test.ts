// Hostile and special files for the `dsod` CLI (the built bundle in child processes, each with a time limit: a hang
// fails the test instead of hanging it): FIFOs and devices, a 5 MB one-line spec, invalid UTF-8, writes that cannot
// succeed, and SIGTERM before any work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { IoError, ioErrorOf, readFileChecked, writeFileAtomic } from '../../engine/data/files';
import { EventSink } from '../../engine/cli/reporter';
import { writeWeightsFile } from '../../engine/train/checkpoint';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';
import { repoRoot } from '../helpers';
import { microWorkspace, tempDir } from './train-fixtures';

const bin = join(repoRoot, 'dist', 'dsod.js');
let dir: ReturnType<typeof tempDir>;
let spec: string;
let data: string;

before(async () => {
  ({ dir, data, spec } = await microWorkspace('cli-hardening', 12, '{ batch: 4, lr: 0.05, iterations: 100000, checkpoint_every: 100000, seed: 1 }'));
});
after(() => dir.remove());

function dsod(args: string[], o: { env?: NodeJS.ProcessEnv; node?: string[]; timeoutMs?: number } = {}) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [...(o.node ?? []), bin, ...args], {
    cwd: dir.path,
    encoding: 'utf8',
    timeout: o.timeoutMs ?? 20_000,
    env: { ...process.env, ...o.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"v":'))
    .map((l) => {
      const p = parseEngineEventLine(l);
      assert.ok(p.ok, l);
      return p.event;
    });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started, events };
}

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, String(r.stderr));
}

const lastError = (events: EngineEvent[]) => events.filter((e) => e.type === 'error').at(-1);

// Item 5: FIFOs and devices are refused by type before they are opened for a blocking read.
test('dsod analyze on a FIFO or /dev/zero: a clear error naming it, exit 2, promptly', () => {
  const fifo = join(dir.path, 'pipe.dsod.yaml');
  mkfifo(fifo);
  const r = dsod(['analyze', fifo], { timeoutMs: 15_000 });
  assert.equal(r.signal, null, 'it did not hang');
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`cannot read ${fifo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: a FIFO \\(named pipe\\), not a regular file`));
  const zero = dsod(['analyze', '/dev/zero'], { timeoutMs: 15_000 });
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /cannot read \/dev\/zero: a character device, not a regular file/);
  assert.ok(zero.ms < 10_000);
});

test('dsod train with a FIFO spec ends with an input error and a done event, exit 2', () => {
  const fifo = join(dir.path, 'pipe2.dsod.yaml');
  mkfifo(fifo);
  const r = dsod(['train', fifo, '--data', data, '--out', join(dir.path, 'run-fifo'), '--json']);
  assert.equal(r.code, 2, r.stderr);
  const error = lastError(r.events);
  assert.ok(error && error.type === 'error' && error.code === 'input' && error.message.includes(fifo) && /FIFO/.test(error.message));
  const done = r.events.at(-1)!;
  assert.ok(done.type === 'done' && done.exitCode === 2);
});

test('data files that are FIFOs (a VOC list, a VOC annotation, a COCO JSON) are reported with their path, never read', () => {
  // In a child process: a blocking read would hang it, not this test runner.
  const script = (body: string) =>
    spawnSync(
      process.execPath,
      ['-e', `(async () => { ${body} })().then((x) => console.log(JSON.stringify(x)), (e) => { console.error(e); process.exit(1); })`],
      {
        cwd: join(repoRoot, 'out'),
        encoding: 'utf8',
        timeout: 15_000,
      },
    );
  const voc = join(dir.path, 'voc-fifo');
  spawnSync('cp', ['-r', data, voc]);
  const ann = readdirSync(join(voc, 'Annotations'))[0];
  rmSync(join(voc, 'Annotations', ann));
  mkfifo(join(voc, 'Annotations', ann));
  rmSync(join(voc, 'ImageSets', 'Main', 'test.txt'));
  mkfifo(join(voc, 'ImageSets', 'Main', 'test.txt'));
  const v = script(
    `const { loadVoc } = require('./engine/data/voc'); const d = await loadVoc({ root: ${JSON.stringify(voc)}, splits: ['train', 'test'] }); return d.report.problems;`,
  );
  assert.equal(v.signal, null, 'loadVoc did not hang');
  const problems = JSON.parse(v.stdout) as { path: string; message: string }[];
  assert.ok(
    problems.some((p) => p.path.endsWith(join('ImageSets', 'Main', 'test.txt')) && /FIFO/.test(p.message)),
    v.stdout,
  );
  assert.ok(
    problems.some((p) => p.path.endsWith(join('Annotations', ann)) && /FIFO/.test(p.message)),
    v.stdout,
  );

  const coco = join(dir.path, 'instances_fifo.json');
  mkfifo(coco);
  const c = script(
    `const { loadCoco } = require('./engine/data/coco'); const d = await loadCoco({ annotationFile: ${JSON.stringify(coco)}, imageDir: ${JSON.stringify(dir.path)} }); return d.report.problems;`,
  );
  assert.equal(c.signal, null, 'loadCoco did not hang');
  assert.match(c.stdout, /FIFO/);
  assert.match(c.stdout, /instances_fifo\.json/);
});

test('readFileChecked refuses devices and files over its limit, naming the limit', () => {
  assert.throws(() => readFileChecked('/dev/zero', 1024, 'annotation'), /a character device, not a regular file/);
  const big = join(dir.path, 'big.xml');
  writeFileSync(big, 'x'.repeat(5000));
  assert.throws(() => readFileChecked(big, 1024, 'annotation'), /the annotation is 4.9 KiB, over its limit of 1.0 KiB/);
  assert.equal(readFileChecked(big, 5000, 'annotation').length, 5000);
});

// Item 4: a 5 MB spec on one line is refused by its size, not parsed.
test('dsod analyze on a 5 MB one-line spec: the one spec/too-large error, in well under the 18 s parsing took', () => {
  const huge = join(dir.path, 'huge.dsod.yaml');
  writeFileSync(huge, `{dsod: 1, name: huge, sizes: [${'12345, '.repeat(750_000)}0]}`);
  const r = dsod(['analyze', huge]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /huge\.dsod\.yaml:1:1: error: This spec is 5127 KB; specs over 512 KB are not checked .*\[spec\/too-large\]\n$/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(r.ms < 5000, `${r.ms} ms`);
});

// Item 7: invalid UTF-8 is an error at its line and column.
test('dsod analyze on a spec with invalid UTF-8: an error at the bad byte, line:col, exit 1', () => {
  const latin1 = join(dir.path, 'latin1.dsod.yaml');
  writeFileSync(latin1, Buffer.concat([Buffer.from('dsod: 1\nname: "Caf'), Buffer.from([0xe9]), Buffer.from(' DSOD"\n')]));
  const r = dsod(['analyze', latin1]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /latin1\.dsod\.yaml:2:11: error: invalid UTF-8: byte 0xE9 at byte offset 18 \(line 2, column 11\).*\[spec\/not-utf8\]/);
  const json = dsod(['analyze', latin1, '--json']);
  const d = JSON.parse(json.stdout).diagnostics;
  assert.deepEqual(
    d.map((x: { code: string; line: number; column: number }) => [x.code, x.line, x.column]),
    [['spec/not-utf8', 2, 11]],
  );
  // Valid multi-byte UTF-8 is fine, and the column counts characters (UTF-16), not bytes.
  const ok = join(dir.path, 'utf8.dsod.yaml');
  writeFileSync(ok, Buffer.concat([Buffer.from('dsod: 1\nname: "Café '), Buffer.from([0xff]), Buffer.from('"\n')]));
  assert.match(dsod(['analyze', ok]).stderr, /utf8\.dsod\.yaml:2:13: error: invalid UTF-8: byte 0xFF at byte offset 21/);
});

// Item 10: writes that cannot succeed name the file, are I/O errors (code io, exit 3), leave no temporary file.
test('an atomic write that meets a full disk: IoError naming the file, its temporary file removed', async () => {
  const target = join(dir.path, 'ckpt', 'step-1.dsodckpt');
  mkdirSync(join(dir.path, 'ckpt'), { recursive: true });
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  let tmp = '';
  const failing = {
    writeFile: async (p: string) => {
      tmp = p;
      writeFileSync(p, 'half a checkpoint'); // the disk filled up part way
      throw enospc;
    },
    rename: async () => assert.fail('no rename after a failed write'),
  };
  await assert.rejects(writeFileAtomic(target, new Uint8Array(10), failing), (e: unknown) => {
    assert.ok(e instanceof IoError);
    assert.equal(e.errno, 'ENOSPC');
    assert.equal(e.path, target);
    assert.equal(e.message, `cannot write ${target}: no space left on the device (ENOSPC)`);
    return true;
  });
  assert.ok(tmp && !existsSync(tmp), 'the temporary file is gone');
  assert.deepEqual(readdirSync(join(dir.path, 'ckpt')), []);
  for (const code of ['EDQUOT', 'EROFS', 'EACCES']) {
    const e = ioErrorOf(Object.assign(new Error(code), { code }), '/x/metrics.json');
    assert.ok(e instanceof IoError && e.errno === code && e.message.startsWith('cannot write /x/metrics.json: '));
  }
  const bug = new TypeError('not a system error');
  assert.equal(ioErrorOf(bug, '/x'), bug);
  // The checkpoint writer's files go through the same write: a path through a file names the weights file.
  const file = join(dir.path, 'plain-file');
  writeFileSync(file, '');
  await assert.rejects(writeWeightsFile(join(file, 'weights.dsodw'), {}), (e: unknown) => {
    assert.ok(e instanceof IoError && e.errno === 'ENOTDIR' && e.message.startsWith(`cannot write ${join(file, 'weights.dsodw')}: `));
    return true;
  });
});

test('events.jsonl that cannot be appended to: said once, not retried', () => {
  const out: string[] = [];
  const err: string[] = [];
  const sink = new EventSink({ json: true, stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, tty: false });
  const file = join(dir.path, 'a-file');
  writeFileSync(file, '');
  sink.attachRunDir(join(file, 'run')); // ENOTDIR on every append
  for (let i = 0; i < 5; i++) sink.emit({ type: 'log', level: 'info', message: `line ${i}` });
  assert.ok(sink.writeFailure instanceof IoError);
  assert.equal(err.length, 1);
  assert.match(err[0], /cannot append to .*a-file\/run\/events\.jsonl: a folder on the path is a file \(ENOTDIR\); events are no longer written/);
  assert.equal(out.length, 5, 'events still reach stdout');
});

test('dsod train into a run folder that cannot be created: error code io naming it, exit 3', () => {
  const file = join(dir.path, 'not-a-folder');
  writeFileSync(file, '');
  const r = dsod(['train', spec, '--data', data, '--out', join(file, 'run'), '--json']);
  assert.equal(r.code, 3, r.stderr);
  const error = lastError(r.events);
  assert.ok(error && error.type === 'error' && error.code === 'io', JSON.stringify(error));
  assert.match(error.message, /not-a-folder\/run.*\(ENOTDIR\)/);
  const done = r.events.at(-1)!;
  assert.ok(done.type === 'done' && done.reason === 'failed' && done.exitCode === 3);
  const help = dsod(['--help']);
  assert.match(help.stdout, /3 I\/O failure writing a file/);
});

// Item 13: stop signals are caught before any work. A preload sends SIGTERM to the process itself at the chosen
// moment (from outside, "at once" would land in node's own start-up, before any JavaScript can catch anything).
const PRELOAD = `
const when = process.env.DSOD_TEST_SIGTERM_AT;
if (when === 'start') setImmediate(() => process.kill(process.pid, 'SIGTERM'));
if (when === 'first-event') {
  const write = process.stdout.write.bind(process.stdout);
  let sent = false;
  process.stdout.write = (chunk, ...rest) => {
    const r = write(chunk, ...rest);
    if (!sent) { sent = true; process.kill(process.pid, 'SIGTERM'); }
    return r;
  };
}`;

for (const at of ['start', 'first-event'] as const) {
  test(`SIGTERM ${at === 'start' ? 'at the first turn of the event loop (during start-up)' : 'right after the first event (during data loading)'}: done "stopped", exit 143`, () => {
    const preload = join(dir.path, 'sigterm-preload.cjs');
    writeFileSync(preload, PRELOAD);
    const run = join(dir.path, `run-sig-${at}`);
    const r = dsod(['train', spec, '--data', data, '--out', run, '--json'], { node: ['--require', preload], env: { DSOD_TEST_SIGTERM_AT: at } });
    assert.equal(r.signal, null, `killed by ${r.signal}: no handler yet`);
    assert.equal(r.code, 143, r.stderr);
    const done = r.events.at(-1)!;
    assert.ok(done.type === 'done' && done.reason === 'stopped' && done.exitCode === 143, JSON.stringify(done));
    assert.ok(!r.events.some((e) => e.type === 'progress'), 'no training step was taken');
  });
}

test('SIGTERM from outside once the first event is out: done "stopped", exit 143', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [bin, 'train', spec, '--data', data, '--out', join(dir.path, 'run-sig-outside'), '--json'], { cwd: dir.path });
  let out = '';
  let sent = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    if (!sent && out.includes('\n')) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  assert.equal(signal, null);
  assert.equal(code, 143);
  const last = parseEngineEventLine(out.trim().split('\n').at(-1)!);
  assert.ok(last.ok && last.event.type === 'done' && last.event.reason === 'stopped' && last.event.exitCode === 143);
});

test('analyze still ends on SIGTERM as any process does (signals are released for it)', () => {
  const preload = join(dir.path, 'sigterm-preload.cjs');
  writeFileSync(preload, PRELOAD);
  const r = dsod(['analyze', spec], { node: ['--require', preload], env: { DSOD_TEST_SIGTERM_AT: 'start' } });
  // The signal came at the first turn of the loop, after analyze had finished synchronously; it is delivered then.
  assert.ok(r.signal === 'SIGTERM' || r.code === 0, `${r.code} ${r.signal}`);
});
