// Errors that refuse a training before it steps (codes and exit statuses: engine/errors.ts).
import { EngineError } from '../errors';

export type TrainErrorCode = 'spec' | 'out-of-memory' | 'run-busy' | 'run-exists' | 'resume';

export class TrainError extends EngineError {
  constructor(
    override readonly code: TrainErrorCode,
    message: string,
    where: string | null = null,
  ) {
    super(code, message, where);
  }
}
