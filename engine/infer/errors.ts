// Errors of inference (`dsod infer`, and `dsod eval` loading trained weights): not training's, whose codes say why a
// run was refused. Codes and exit statuses: engine/errors.ts.
import { EngineError } from '../errors';

export type InferenceErrorCode = 'weights';

export class InferenceError extends EngineError {
  constructor(
    override readonly code: InferenceErrorCode,
    message: string,
    where: string | null = null,
  ) {
    super(code, message, where);
  }
}
