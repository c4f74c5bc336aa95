// A model ready for inference: the spec's network with weights from a checkpoint or a weights file.
import { createModel, type DsodModel } from '../model/model';
import { readWeightsFile, type CheckpointMeta } from '../train/checkpoint';
import { InferenceError } from '../infer/errors';
import type { LoadedSpec } from './spec-file';

/** `meta` is the checkpoint's (step, data, whether its batch-norm statistics were recalibrated); null for a .dsodw. */
export function loadTrainedModel(spec: LoadedSpec, weightsPath: string): { model: DsodModel; step: number | null; meta: CheckpointMeta | null } {
  let file: ReturnType<typeof readWeightsFile>;
  try {
    file = readWeightsFile(weightsPath);
  } catch (e) {
    throw new InferenceError('weights', (e as Error).message);
  }
  const model = createModel(spec.analysis.graph, { seed: spec.analysis.spec.train.seed });
  try {
    model.setWeights(file.weights);
  } catch (e) {
    model.dispose();
    throw new InferenceError('weights', `${weightsPath} does not fit ${spec.path}: ${(e as Error).message}`);
  }
  return { model, step: file.step, meta: file.meta };
}
