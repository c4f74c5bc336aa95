// The spec's train.augment presets as the data loader's options.
//   ssd   the paper's recipe (Caffe SSD's AnnotatedDataLayer): photometric distortion, zoom-out up to 4x, crops with
//         minimum IoU, horizontal flips
//   flip  horizontal flips only. On the tiny example's 96x96 synthetic set it learned ~10x faster per step: a 4x
//         zoom-out turns its smallest objects (8 px) into 2 px ones no prior can match (measured: VOC07 mAP 0.03 with
//         ssd-like crops vs 0.19 with flips after 250 steps)
//   none  the images as they are
import type { BatchOptions } from '../data/batches';
import type { Train } from '../../core';

export type AugmentPreset = Train['augment'];

export function augmentOptions(preset: AugmentPreset): NonNullable<BatchOptions['augment']> {
  switch (preset) {
    case 'ssd':
      return {};
    case 'flip':
      return { distort: false, expand: false, samplers: false, flipProb: 0.5 };
    case 'none':
      return { distort: false, expand: false, samplers: false, flipProb: 0 };
  }
}
