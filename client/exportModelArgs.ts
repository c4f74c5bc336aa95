// "DSOD: Export to TF.js" and "DSOD: Export to ONNX" without `vscode` (node tests use it): the formats, the engine's
// argument array, where the model goes by default, and which weights the file picker starts from (the newest run of the
// spec that has some).
import { dirname, join } from 'node:path';
import { runsOfSpec, specStem, weightsOfRun } from './runs/runFolders';

/** A trained network's export: `dsod export --<flag> SPEC --weights W --out OUT`. */
export interface ModelExport {
  command: string;
  flag: 'tfjs' | 'onnx';
  /** For people: "TF.js", "ONNX". */
  label: string;
  /** Where it goes by default: a folder (TF.js: model.json, shards, priors.json) or a file (ONNX). */
  defaultOut(specPath: string): string;
  /** What the output box says is written there. */
  outPrompt: string;
}

export const MODEL_EXPORTS = {
  tfjs: {
    command: 'dsod.exportTfjs',
    flag: 'tfjs',
    label: 'TF.js',
    defaultOut: (specPath: string) => join(dirname(specPath), `${specStem(specPath)}-tfjs`),
    outPrompt: 'model.json, its weight shards and priors.json are written there (a new folder, or an earlier export)',
  },
  onnx: {
    command: 'dsod.exportOnnx',
    flag: 'onnx',
    label: 'ONNX',
    defaultOut: (specPath: string) => join(dirname(specPath), `${specStem(specPath)}.onnx`),
    outPrompt: 'the ONNX model (opset 13: images in, loc, conf and the default boxes out), written atomically',
  },
} as const satisfies Record<string, ModelExport>;

/** `dsod export --<format> SPEC --weights W --out OUT`, one element each: never joined into a shell string. */
export function exportModelArgs(format: ModelExport, o: { spec: string; weights: string; out: string }): string[] {
  return ['export', `--${format.flag}`, o.spec, '--weights', o.weights, '--out', o.out];
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
