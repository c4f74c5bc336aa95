// ONNX export and onnxruntime inference: the engine's network as the tools people deploy with read it.
export { buildOnnxModel, checkWeights, detectionsFromRows, WeightsMismatch, type OnnxExportOptions, type PostprocessOptions } from './build';
export { decodeModel, encodeModel, ONNX_OPSET } from './proto';
export { createOnnxSession, cudaProviderPresent, nhwcToNchw, onnxRuntimeVersion, runOnnx, type OnnxProvider, type OnnxSession } from './runtime';
export { onnxPredictor, type OnnxPredictor } from './predictor';
