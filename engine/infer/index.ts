// Inference on images: detections as JSON, optionally drawn as PNGs.
export { drawDetections } from './draw';
export { IMAGE_EXTENSIONS, listImages } from './images';
export { inferImages, type ImageDetections, type InferOptions, type PixelDetection } from './infer';
