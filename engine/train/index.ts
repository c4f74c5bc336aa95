// Training: the loop, its optimizer and schedule, checkpoints, memory and loss guards, the run lock.
export {
  CHECKPOINT_DIR,
  checkpointName,
  decodeCheckpoint,
  encodeCheckpoint,
  listCheckpoints,
  readableHere,
  readWeightsFile,
  writeCheckpoint,
  writeWeightsFile,
} from './checkpoint';
export type { Checkpoint, CheckpointEngine, CheckpointFile, CheckpointMeta } from './checkpoint';
export { LossGuard, type LossVerdict } from './loss-guard';
export { ALLOCATOR_HEADROOM, checkMemory, estimateTrainingMemory, memoryLimit, type MemoryEstimate } from './memory';
export { dropMetricsAfter, MetricsFileError, readMetrics, recordMetric, RUN_FILES, type MetricRecord } from './run-files';
export { acquireRunLock, type LockHolder, type LockResult } from './run-lock';
export { rewindMessage, rewindRun, type Rewound } from './rewind';
export { compressSchedule, learningRate, scheduleOf, type Schedule } from './schedule';
export { MomentumSgd, type SgdOptions } from './sgd';
export { TrainingRun } from './training-run';
export { train, TrainError, type Emit, type StopFlag, type TrainOptions, type TrainOutcome } from './trainer';
