// The `dsod` command-line tool: everything the editor shows, outside the editor, and the training engine.
// One file per command; this one only dispatches.
import { parseArgs } from 'node:util';
import { analyzeCommand, type CommandResult } from './analyze';
import { UsageError } from './args';
import { DEMO_USAGE, demoCommand } from './demo';
import { processIo, type Io } from './engine-command';
import { EVAL_USAGE, evalCommand } from './eval';
import { INFER_USAGE, inferCommand } from './infer';
import { SYNTH_USAGE, synthCommand } from './synth';
import { TRAIN_USAGE, trainCommand } from './train';

const USAGE = `Usage: dsod <command> [options]

Commands:
  analyze <spec>     Exact shapes, parameters, MACs and default boxes of a DSOD spec (*.dsod.yaml, *.dsod.json)
      --json         Print one JSON object instead of the tables
      --batch N      Batch size for the activation-memory figure (default 1)
      --no-hints     Leave out the design-principle hints
${DEMO_USAGE}${SYNTH_USAGE}${TRAIN_USAGE}${EVAL_USAGE}${INFER_USAGE}
Exit status: 0 ok, 1 the spec has errors or training failed, 2 usage or I/O problem,
130/143 training stopped by SIGINT/SIGTERM (after writing a checkpoint).
`;

/** `dsod analyze` (synchronous, pure): kept as a function tests and tools can call. */
export function run(argv: string[]): CommandResult {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    return { stdout: USAGE, stderr: '', exitCode: command ? 0 : 2 };
  }
  if (command !== 'analyze') return usageError(`unknown command "${command}"`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, batch: { type: 'string', default: '1' }, 'no-hints': { type: 'boolean', default: false } },
    });
  } catch (e) {
    return usageError((e as Error).message);
  }
  const files = parsed.positionals;
  if (files.length !== 1) return usageError('analyze takes exactly one spec file');
  const batch = Number(parsed.values.batch);
  if (!Number.isInteger(batch) || batch < 1) return usageError(`--batch must be a positive integer (got "${parsed.values.batch}")`);
  return analyzeCommand(files[0], { json: parsed.values.json === true, hints: parsed.values['no-hints'] !== true, batch });
}

const ENGINE_COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  demo: demoCommand,
  synth: synthCommand,
  train: trainCommand,
  eval: evalCommand,
  infer: inferCommand,
};

/** Any command; resolves to the exit status. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  const engine = command ? ENGINE_COMMANDS[command] : undefined;
  if (!engine) {
    const result = run(argv);
    io.stdout.write(result.stdout);
    io.stderr.write(result.stderr);
    return result.exitCode;
  }
  try {
    return await engine(rest, io);
  } catch (e) {
    // Usage errors found before a command's event stream starts (its options).
    if (e instanceof UsageError) {
      io.stderr.write(`dsod: ${e.message}\n\nRun \`dsod --help\` for the options.\n`);
      return 2;
    }
    throw e;
  }
}

function usageError(message: string): CommandResult {
  return { stdout: '', stderr: `dsod: ${message}\n\n${USAGE}`, exitCode: 2 };
}

if (require.main === module) {
  // A closed pipe (`dsod analyze x --json | head`) is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Exit explicitly once both streams are flushed (pipes are asynchronous on macOS): a loaded backend (webgpu's
      // Dawn) or an image decode still in flight must not keep a finished command alive.
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
    (e: Error) => {
      process.stderr.write(`dsod: internal error: ${e.stack ?? e.message}\n`, () => process.exit(1));
    },
  );
}
