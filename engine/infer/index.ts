// Inference on images: detections as JSON, optionally drawn as PNGs.
export { drawDetections } from './draw';
export { InferenceError, type InferenceErrorCode } from './errors';
export { IMAGE_EXTENSIONS, listImages } from './images';
export { inferImages, type ImageDetections, type InferOptions, type PixelDetection } from './infer';
export { tfjsPredictor, type Predictor } from './predict';
