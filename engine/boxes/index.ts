// Boxes: overlaps, SSD matching and coding, the MultiBox loss, and detection output (decoding + per-class NMS).
export { decodeBoxesTensor, detect, SSD_DETECT, type DetectOptions, type Detection } from './detect';
export { detectArrays } from './detect-arrays';
export { decodeBoxes, encodeBox, SSD_VARIANCES, type Variances } from './encode';
export { iou, iouMatrix } from './iou';
export { mineHardNegatives, multiboxLoss, type MultiboxLoss, type MultiboxLossOptions } from './loss';
export { matchPriors, type PriorMatch } from './match';
export { encodeTargets, type PriorTargets, type TargetOptions } from './targets';
