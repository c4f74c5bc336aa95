// The engine's errors and exit statuses, in one place. Every error a command reports on purpose is an EngineError
// with a code from ERROR_CODES; its exit status is that code's. Anything else thrown is a bug: code `internal`.
// The codes are the `code` of the `error` event (protocol/engine-events.ts), which the editor and the dashboard read.

/** The exit statuses of every `dsod` command. */
export const EXIT = {
  ok: 0,
  /** The command ran and failed: a spec with errors, a training that diverged or cannot fit in memory. */
  failed: 1,
  /** The command line, or a file or folder it names, is not usable: nothing was done. */
  usage: 2,
  /** A write the disk refused (full, quota, read-only, permission). */
  io: 3,
  /** Stopped by SIGINT or SIGTERM (a training after its checkpoint). */
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/**
 * Each error code, the exit status it ends a command with, and what it means. A training that fails after it started
 * stepping (the loss guard, or `data`: the images ran out mid-run) reports the code as an event and ends with
 * EXIT.failed, whatever the code's status as a thrown error: the run was accepted and ran.
 */
export const ERROR_CODES = {
  usage: { exit: EXIT.usage, doc: 'an option or argument is wrong or missing' },
  input: { exit: EXIT.usage, doc: "a file the command reads cannot be read, or is damaged (a spec file, a run's metrics.json)" },
  spec: { exit: EXIT.failed, doc: 'the spec has errors (printed as file:line:col lines), or asks for what cannot be trained' },
  io: { exit: EXIT.io, doc: 'a file the command had to write could not be written' },
  data: { exit: EXIT.usage, doc: 'the dataset cannot be used: missing, the wrong classes, no usable images, too many skipped' },
  backend: { exit: EXIT.usage, doc: 'the backend asked for (--backend) cannot be used here' },
  detections: { exit: EXIT.usage, doc: 'a detections file given to `dsod eval --detections` is not one' },
  'run-exists': { exit: EXIT.usage, doc: 'the run folder holds a run already (--resume continues it)' },
  'run-busy': { exit: EXIT.usage, doc: 'another process is training in the run folder' },
  'out-of-memory': { exit: EXIT.failed, doc: 'a training step would not fit in the memory available' },
  resume: { exit: EXIT.failed, doc: 'the run cannot be resumed from its checkpoint (other batches, another network, --from not its own)' },
  weights: { exit: EXIT.failed, doc: "a weights or checkpoint file cannot be read, or does not fit the spec's network" },
  'loss-not-finite': { exit: EXIT.failed, doc: 'the training loss became NaN or infinite' },
  'loss-exploded': { exit: EXIT.failed, doc: 'the training loss grew far above its early level' },
  internal: { exit: EXIT.failed, doc: 'a bug: anything thrown that is not an EngineError (its stack is logged)' },
} as const satisfies Record<string, { exit: number; doc: string }>;

export type EngineErrorCode = keyof typeof ERROR_CODES;

/** The exit status of a code. */
export function exitStatusOf(code: EngineErrorCode): number {
  return ERROR_CODES[code].exit;
}

/** The exit status of a command stopped by a signal. */
export function signalExitStatus(signal: string | null): number {
  return signal === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
}

/** An error a command reports: its code (and so its exit status), its message, and where (a file, file:line:col). */
export class EngineError extends Error {
  constructor(
    readonly code: Exclude<EngineErrorCode, 'internal' | 'loss-not-finite' | 'loss-exploded'>,
    message: string,
    readonly where: string | null = null,
  ) {
    super(message);
  }

  get exitStatus(): number {
    return exitStatusOf(this.code);
  }
}
