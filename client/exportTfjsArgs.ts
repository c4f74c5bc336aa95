// "DSOD: Export to TF.js" without `vscode` (node tests use it): the engine's argument array, where the model goes by
// default, and which weights the file picker starts from (the newest run of the spec that has some).
import { dirname, join } from 'node:path';
import { runsOfSpec, specStem, weightsOfRun } from './runs/runFolders';

/** `dsod export --tfjs SPEC --weights W --out DIR`, one element each: never joined into a shell string. */
export function exportTfjsArgs(o: { spec: string; weights: string; out: string }): string[] {
  return ['export', '--tfjs', o.spec, '--weights', o.weights, '--out', o.out];
}

/** `<spec folder>/<spec stem>-tfjs`: beside the spec, named after it. */
export function defaultTfjsOut(specPath: string): string {
  return join(dirname(specPath), `${specStem(specPath)}-tfjs`);
}

/** The weights of the newest run of `specPath` under `root` that has any (weights.dsodw, else its last checkpoint). */
export async function latestWeightsOfSpec(root: string | undefined, specPath: string): Promise<string | null> {
  if (!root) return null;
  for (const run of await runsOfSpec(root, specPath)) {
    const w = weightsOfRun(run);
    if (w) return w;
  }
  return null;
}
