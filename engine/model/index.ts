// The engine's model room: a tfjs DSOD built from core's layer graph, its parameters and weights.
export { batchNormInfer, batchNormTrain, channelDots, channelSums, MOVING_AVERAGE_FRACTION, runningStats, type BatchNormParams } from './batch-norm';
export { concatChannels, conv, l2Normalize, maxPoolCaffe } from './layers';
export { createModel, DsodModel, type ForwardOptions, type HeadOutputs, type ModelOptions } from './model';
export { countParams, initialValue, isHeadNode, paramLayout, type Param, type ParamCounts, type ParamRole, type ParamSlot } from './params';
export { decodeWeights, encodeWeights, type NamedWeight, type WeightMap } from './weights';
