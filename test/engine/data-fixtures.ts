// Shared by the engine's data tests: small synthetic datasets in temporary folders, made once per test file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSpec, defaultBoxes, type Analysis } from '../../core';
import { synthesize, type SynthOptions, type SynthReport } from '../../engine/data/synth/generate';
import { repoRoot } from '../helpers';

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `dsod-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A synthetic VOC dataset in a new temporary folder. */
export async function synthDataset(o: Omit<SynthOptions, 'out'> = {}): Promise<{ root: string; report: SynthReport; remove(): void }> {
  const dir = tempDir('synth');
  const report = await synthesize({ count: 40, seed: 7, ...o, out: dir.path });
  return { root: dir.path, report, remove: dir.remove };
}

let tiny: Analysis | null = null;

/** examples/tiny.dsod.yaml, analysed by core (96x96, 5 shape classes, 3,060 priors). */
export function tinyAnalysis(): Analysis {
  if (!tiny) {
    const r = checkSpec(readFileSync(join(repoRoot, 'examples/tiny.dsod.yaml'), 'utf8'), 'yaml');
    if (!r.analysis) throw new Error('examples/tiny.dsod.yaml does not analyse');
    tiny = r.analysis;
  }
  return tiny;
}

export function tinyPriors(): Float32Array {
  return defaultBoxes(tinyAnalysis());
}

/** The VOC annotation's objects as [name, xmin, ymin, xmax, ymax, difficult] (a regex reader, independent of ours). */
export function readVocObjects(xml: string): { name: string; box: number[]; difficult: boolean }[] {
  return [...xml.matchAll(/<object>([\s\S]*?)<\/object>/g)].map((m) => {
    const get = (tag: string) => /<(\w+)>([^<]*)<\/\1>/g.exec(m[1].slice(m[1].indexOf(`<${tag}>`)))![2];
    return { name: get('name'), box: ['xmin', 'ymin', 'xmax', 'ymax'].map((t) => Number(get(t))), difficult: get('difficult') === '1' };
  });
}
