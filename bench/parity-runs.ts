// One training of the parity comparison (bench/parity.bench.ts, test/engine/torch-parity.test.ts): the tiny example with
// a shortened schedule, trained to its end by the built CLI with either engine, and the mAP of its final evaluation.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { readMetrics } from '../engine/train/run-files';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'dsod.js');
export const ENGINES = ['tfjs', 'torch'] as const;
export type Engine = (typeof ENGINES)[number];

/** The tiny example with a shorter schedule, this seed, and the data at `root`. */
export function paritySpec(steps: number, seed: number, root: string): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'examples', 'tiny.dsod.yaml'), 'utf8'));
  doc.setIn(['train', 'iterations'], steps);
  doc.setIn(['train', 'milestones'], [Math.round(0.6 * steps), Math.round(0.85 * steps)]);
  doc.setIn(['train', 'checkpoint_every'], steps);
  doc.setIn(['train', 'seed'], seed);
  doc.setIn(['data', 'root'], root);
  return doc.toString();
}

/** `dsod train` to the end of the schedule; the final evaluation's mAP and the wall time. */
export function trainRun(engine: Engine, spec: string, runDir: string): Promise<{ map: number; seconds: number }> {
  const args = [CLI, 'train', spec, '--out', runDir, '--eval-every', '0', ...(engine === 'torch' ? ['--engine', 'torch'] : ['--backend', 'wasm'])];
  const started = performance.now();
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', fail);
    child.on('close', (code) => {
      const last = readMetrics(runDir).at(-1);
      if (code !== 0 || !last) return fail(new Error(`dsod train --engine ${engine} (${spec}) ended with ${code}: ${stderr.trim().split('\n').pop()}`));
      ok({ map: last.value, seconds: (performance.now() - started) / 1000 });
    });
  });
}
