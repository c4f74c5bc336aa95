// What `dsod eval` and `dsod infer` work on, from their options or from a run folder (--run RUNDIR):
// - the spec: the one given, else the run's spec.dsod.yaml;
// - the weights: --weights, else the run's latest checkpoint, else its weights.dsodw (the same weights: the trainer
//   writes both at every checkpoint, but only the checkpoint says its step and whether its batch-norm statistics
//   were recalibrated, which `dsod eval` needs to give the run's own number);
// - the data: --data, else the data.root of a spec named on the command line, else the data the checkpoint says the
//   run trained on (the run's copy of the spec cannot say: its data.root is relative to where the original was); a
//   torch run's weights.dsodw carries its checkpoint's meta (Node does not read .pt files).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listCheckpoints, readWeightsFile, type CheckpointMeta } from '../train/checkpoint';
import { DataSourceError, resolveDataSource, type DataSource } from '../data/source';
import { RUN_FILES } from '../train/run-files';
import { UsageError } from './args';
import { loadSpec, type LoadedSpec } from './spec-file';

/** --run's folder, checked to be a run. */
export function runDirOption(run: string | undefined): string | null {
  if (!run) return null;
  const dir = resolve(run);
  if (!existsSync(join(dir, RUN_FILES.spec)) && !existsSync(join(dir, RUN_FILES.weights)) && !listCheckpoints(dir).length)
    throw new UsageError(`--run ${run}: not a run folder (no ${RUN_FILES.spec}, ${RUN_FILES.weights} or checkpoints/)`);
  return dir;
}

/** The spec, and whether it was named on the command line (then its data.root counts). */
export function targetSpec(specArg: string | undefined, runDir: string | null): { spec: LoadedSpec | null; explicit: boolean } {
  if (specArg) return { spec: loadSpec(specArg), explicit: true };
  if (runDir) return { spec: loadSpec(join(runDir, RUN_FILES.spec)), explicit: false };
  return { spec: null, explicit: false };
}

export function targetWeights(weights: string | undefined, runDir: string | null): string | null {
  if (weights) return weights;
  if (!runDir) return null;
  const latest = listCheckpoints(runDir).at(-1);
  if (latest) return latest.path;
  const file = join(runDir, RUN_FILES.weights);
  return existsSync(file) ? file : null;
}

/**
 * The latest checkpoint's meta of a run (its data, for commands that load no weights); for a torch run, whose .pt
 * checkpoints only Python reads, the one its weights.dsodw carries.
 */
export function latestMeta(runDir: string): CheckpointMeta | null {
  const latest = listCheckpoints(runDir).at(-1);
  if (latest) return readWeightsFile(latest.path).meta;
  const weights = join(runDir, RUN_FILES.weights);
  return existsSync(weights) ? readWeightsFile(weights).meta : null;
}

export function targetData(spec: LoadedSpec | null, explicitSpec: boolean, dataArg: string | undefined, meta: CheckpointMeta | null): DataSource {
  const s = spec?.analysis.spec ?? null;
  if (dataArg) return resolveDataSource(s, spec?.path ?? null, dataArg);
  if (spec && explicitSpec && s?.data?.root != null) return resolveDataSource(s, spec.path, null);
  if (meta?.data) {
    if (!existsSync(meta.data.root)) throw new DataSourceError(`the run's data (${meta.data.root}, recorded in its checkpoints) is not there: pass --data`);
    return { format: meta.data.format, root: meta.data.root, train: [...meta.data.train], test: [...meta.data.test] };
  }
  return resolveDataSource(s, spec?.path ?? null, null);
}

/** Split lists from --split ("test", "VOC2007/test,VOC2012/val"). */
export function splitList(text: string | undefined): string[] | undefined {
  return text
    ? text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
}
