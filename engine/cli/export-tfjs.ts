// `dsod export --tfjs SPEC --weights W --out DIR`: a TF.js graph model of the spec's network (engine/export/tfjs.ts)
// written as a whole folder or not at all: the files go into a temporary folder beside DIR, renamed into place.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EngineError, EXIT } from '../errors';
import { ioErrorOf, IoError } from '../data/files';
import { buildTfjsExport, MODEL_FILE } from '../export/tfjs';
import { createModel, type DsodModel } from '../model/model';
import { readWeightsFile, specTextHash } from '../train/checkpoint';
import { parseCommand, UsageError } from './args';
import type { Io } from './engine-command';
import { releaseStopSignals } from './signals';
import { loadSpecOrReport, type LoadedSpec } from './spec-file';

export const EXPORT_TFJS_USAGE = `  export --tfjs <spec> --out DIR
                     Write a TF.js graph model (DIR/model.json, weight shards, DIR/priors.json: the default boxes)
                     that plain @tensorflow/tfjs loads with tf.loadGraphModel; outputs loc and conf
      --weights FILE     A checkpoint (.dsodckpt) or weights file (.dsodw) of the spec's network
      --random-weights   Instead of --weights: the untrained network of the spec's train.seed (for trying a page)
`;

/** Whether `export` was asked for a TF.js model (the dispatch in export.ts). */
export function wantsTfjs(args: readonly string[]): boolean {
  return args.some((a) => a === '--tfjs' || a.startsWith('--tfjs='));
}

export async function exportTfjsCommand(args: string[], io: Io): Promise<number> {
  releaseStopSignals();
  const { values, positionals } = parseCommand('export', args, {
    tfjs: { type: 'string' },
    weights: { type: 'string' },
    'random-weights': { type: 'boolean' },
    out: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`export: unexpected argument "${positionals[0]}" (the spec goes after --tfjs)`);
  if (values.out === undefined) throw new UsageError('export --tfjs needs --out DIR (the folder to write the model into)');
  if (values.weights !== undefined && values['random-weights']) throw new UsageError('export: give --weights FILE or --random-weights, not both');
  if (values.weights === undefined && !values['random-weights']) {
    throw new UsageError('export --tfjs needs --weights FILE (a trained checkpoint or weights file), or --random-weights for an untrained network');
  }
  const spec = loadSpecOrReport(values.tfjs!, io);
  if (typeof spec === 'number') return spec;
  try {
    const out = values.out;
    checkTarget(out);
    // The cpu backend folds the batch norms: plain JS float32, the same on every machine.
    await tf.setBackend('cpu');
    const model = modelOf(spec, values.weights);
    try {
      const seed = spec.analysis.spec.train.seed;
      const built = await buildTfjsExport(model, spec.analysis, {
        specName: spec.analysis.spec.name ?? basename(spec.path),
        specHash: specTextHash(spec.text),
        weights: values.weights !== undefined ? basename(values.weights) : `random (seed ${seed})`,
      });
      await writeFolderAtomic(out, built.files);
    } finally {
      model.dispose();
    }
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    io.stderr.write(`dsod: ${e.message}\n`);
    return e.exitStatus;
  }
  io.stdout.write(`${values.out}\n`);
  return EXIT.ok;
}

function modelOf(spec: LoadedSpec, weightsPath: string | undefined): DsodModel {
  const model = createModel(spec.analysis.graph, { seed: spec.analysis.spec.train.seed });
  if (weightsPath === undefined) return model;
  try {
    model.setWeights(readWeightsFile(weightsPath).weights);
  } catch (e) {
    model.dispose();
    throw new EngineError('weights', `${weightsPath} does not fit ${spec.path}: ${(e as Error).message}`, weightsPath);
  }
  return model;
}

/** DIR may be new, empty, or an earlier export (it holds model.json): anything else is not ours to replace. */
function checkTarget(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UsageError(`export: --out ${out} is a file, not a folder`);
  const names = readdirSync(out);
  if (names.length && !names.includes(MODEL_FILE)) {
    throw new UsageError(`export: ${out} holds other files (not an earlier TF.js export): choose a new or empty folder`);
  }
}

/**
 * Write every file into a temporary folder beside `dir`, then rename it to `dir` (an earlier export there is moved
 * aside first and removed after): a reader sees the old model or the new one, never a mix, and a failure leaves
 * nothing behind.
 */
export async function writeFolderAtomic(dir: string, files: ReadonlyMap<string, string | Uint8Array>): Promise<void> {
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`);
  const old = join(dirname(dir), `.${basename(dir)}.old-${tag}`);
  try {
    await mkdir(tmp);
    for (const [name, data] of files) await writeFile(join(tmp, name), data);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw asIoError(e, dir);
  }
  let movedAside = false;
  try {
    if (existsSync(dir)) {
      await rename(dir, old);
      movedAside = true;
    }
    await rename(tmp, dir);
  } catch (e) {
    if (movedAside) await rename(old, dir).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw asIoError(e, dir);
  }
  if (movedAside) await rm(old, { recursive: true, force: true }).catch(() => undefined);
}

function asIoError(e: unknown, dir: string): unknown {
  const io = ioErrorOf(e, dir);
  return io instanceof IoError ? io : e;
}
