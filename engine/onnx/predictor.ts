// Detection through onnxruntime: the engine's network exported in memory (the same builder as `dsod export --onnx`)
// and run by an onnxruntime-node session, behind the Predictor the tfjs path uses, so the decoding, NMS and the
// detections file that follow are the very same code.
import type { LayerGraph } from '../../core';
import type { Predictor } from '../infer/predict';
import type { WeightMap } from '../model/weights';
import { buildOnnxModel } from './build';
import { createOnnxSession, runOnnx, type OnnxProvider } from './runtime';

export interface OnnxPredictor extends Predictor {
  provider: OnnxProvider;
  note: string | null;
  release(): Promise<void>;
}

export async function onnxPredictor(graph: LayerGraph, weights: WeightMap, priors: Float32Array): Promise<OnnxPredictor> {
  const { session, provider, note } = await createOnnxSession(buildOnnxModel(graph, weights, { priors }));
  const [c, h, w] = graph.nodes[0].shape;
  const first = graph.scales[0];
  return {
    inputShape: [h, w, c],
    numClasses: graph.nodes[first.conf].shape[0] / first.priorsPerLocation,
    provider,
    note,
    predict: async (images, shape) => {
      const [loc, conf] = await runOnnx(session, images, shape, ['loc', 'conf']);
      return { loc, conf };
    },
    release: () => session.release(),
  };
}
