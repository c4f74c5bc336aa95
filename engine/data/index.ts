// The engine's data room: where the images are (source.ts), datasets in (VOC, COCO, synthetic), network-ready batches out.
export { augmentSample, CAFFE_NORMALIZATION, resizeSample, SSD_DISTORT, SSD_EXPAND, SSD_SAMPLERS } from './augment';
export type { Annotations, AugmentOptions, CropSampler, DistortOptions, ExpandOptions, PixelNormalization, Sample } from './augment';
export { BatchLoader, recordAnnotations, type Batch, type BatchOptions } from './batches';
export { loadCoco, type CocoLoadOptions } from './coco';
export { writeFileAtomic, writeFileAtomicSync } from './files';
export { decodeImage, imageSize, type DecodeOptions, type RawImage } from './image';
export { createRng, deriveSeed, type Rng } from './rng';
export { cocoImageDir, DataSourceError, loadSplit, resolveDataSource, type DataSource } from './source';
export { synthesize, SynthOptionError, SYNTH_DEFAULTS, type SynthOptions, type SynthReport } from './synth/generate';
export { SHAPE_CLASSES, type ShapeName } from './synth/shapes';
export { emptyReport, formatProblem, objectClassNames, VOC_CLASSES } from './types';
export type { DataProblem, DetectionDataset, GtObject, ImageRecord, LoadReport } from './types';
export { loadVoc, type VocLoadOptions } from './voc';
