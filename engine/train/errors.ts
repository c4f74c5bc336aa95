// Errors of a run that the CLI reports with a stable code (see engine/cli/engine-command.ts for exit statuses).
export class TrainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly where: string | null = null,
  ) {
    super(message);
  }
}
