// The `dsod` command-line tool: everything the editor shows, outside the editor, and the training engine.
// One file per command; this one only dispatches.
// First: SIGINT/SIGTERM are caught before anything else is evaluated (an engine command ends with `done` however early
// it is stopped); see signals.ts.
import { catchStopSignals, releaseStopSignals } from './signals';
import { parseArgs } from 'node:util';
import { MEMORY_ENGINES, PRECISIONS, readBytes, TABLE_NAMES, type MemoryEngine, type Precision, type TableName } from '../../core';
import { ANALYZE_FORMATS, ANALYZE_USAGE, analyzeCommand, type AnalyzeFormat, type CommandResult, type MemoryRequest } from './analyze';
import { EXIT } from '../errors';
import { UsageError } from './args';
import { DEMO_USAGE, demoCommand } from './demo';
import { DIFF_USAGE, diffCommand } from './diff';
import { isOutputClosed, outputClosed, processIo, type Io } from './engine-command';
import { EVAL_USAGE, evalCommand } from './eval';
import { EXPORT_USAGE, exportCommand } from './export';
import { IMPORT_USAGE, importCommand } from './caffe';
import { INFER_USAGE, inferCommand } from './infer';
import { PRIORS_USAGE, priorsCommand } from './priors';
import { LATENCY_USAGE, latencyCommand } from './latency';
import { REPORT_USAGE, reportCommand } from './report';
import { SYNTH_USAGE, synthCommand } from './synth';
import { TRAIN_USAGE, trainCommand } from './train';

/** An engine subcommand: its usage block (the top-level help and its own `--help`) and what runs it. */
interface Subcommand {
  usage: string;
  run: (args: string[], io: Io) => Promise<number>;
}

const ENGINE_COMMANDS: Record<string, Subcommand> = {
  demo: { usage: DEMO_USAGE, run: demoCommand },
  synth: { usage: SYNTH_USAGE, run: synthCommand },
  train: { usage: TRAIN_USAGE, run: trainCommand },
  eval: { usage: EVAL_USAGE, run: evalCommand },
  infer: { usage: INFER_USAGE, run: inferCommand },
  report: { usage: REPORT_USAGE, run: reportCommand },
  export: { usage: EXPORT_USAGE, run: exportCommand },
  import: { usage: IMPORT_USAGE, run: importCommand },
  priors: { usage: PRIORS_USAGE, run: priorsCommand },
  latency: { usage: LATENCY_USAGE, run: latencyCommand },
};

const EXIT_STATUS = `Exit status: 0 ok, 1 the spec has errors or training failed, 2 usage or input problem (an option,
a file that cannot be read), 3 I/O failure writing a file (disk full, quota, read-only, permission; the file is
named), 130/143 stopped by SIGINT/SIGTERM (a training after writing a checkpoint).
`;

const USAGE = `Usage: dsod <command> [options]   (dsod <command> --help: one command's options)

Commands:
${ANALYZE_USAGE}${DIFF_USAGE}${Object.values(ENGINE_COMMANDS)
  .map((c) => c.usage)
  .join('')}
${EXIT_STATUS}`;

/** `--help` or `-h` anywhere before a `--`: a command's help wins over its other arguments, even wrong ones. */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** One command's help: its synopsis (the usage block's first words), the block, and the exit statuses. */
export function commandHelp(usage: string): string {
  const synopsis = usage.trimStart().split(/\n| {2,}/)[0];
  return `Usage: dsod ${synopsis} [options]\n\n${usage}\n${EXIT_STATUS}`;
}

function usageOf(command: string): string | undefined {
  return command === 'analyze' ? ANALYZE_USAGE : command === 'diff' ? DIFF_USAGE : ENGINE_COMMANDS[command]?.usage;
}

/** `dsod analyze` (synchronous, pure): kept as a function tests and tools can call. */
export function run(argv: string[]): CommandResult {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') return { stdout: USAGE, stderr: '', exitCode: command ? EXIT.ok : EXIT.usage };
  if (command === 'help') {
    // `dsod help <command>`
    if (!rest.length) return { stdout: USAGE, stderr: '', exitCode: EXIT.ok };
    const usage = usageOf(rest[0]);
    return usage ? { stdout: commandHelp(usage), stderr: '', exitCode: EXIT.ok } : usageError(`unknown command "${rest[0]}"`);
  }
  if (command === 'diff') return wantsHelp(rest) ? { stdout: commandHelp(DIFF_USAGE), stderr: '', exitCode: EXIT.ok } : diffCommand(rest);
  if (command !== 'analyze') return usageError(`unknown command "${command}"`);
  if (wantsHelp(rest)) return { stdout: commandHelp(ANALYZE_USAGE), stderr: '', exitCode: EXIT.ok };
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        format: { type: 'string' },
        table: { type: 'string' },
        batch: { type: 'string' },
        'no-hints': { type: 'boolean', default: false },
        memory: { type: 'boolean', default: false },
        engine: { type: 'string' },
        precision: { type: 'string' },
        fit: { type: 'string' },
      },
    });
  } catch (e) {
    return usageError((e as Error).message);
  }
  const files = parsed.positionals;
  if (files.length !== 1) return usageError('analyze takes exactly one spec file');
  const batch = Number(parsed.values.batch ?? '1');
  if (!Number.isInteger(batch) || batch < 1) return usageError(`--batch must be a positive integer (got "${parsed.values.batch}")`);
  const format = parsed.values.format ?? (parsed.values.json ? 'json' : 'text');
  if (!ANALYZE_FORMATS.includes(format as AnalyzeFormat)) return usageError(`--format must be one of ${ANALYZE_FORMATS.join(', ')} (got "${format}")`);
  if (parsed.values.json && format !== 'json') return usageError(`--json and --format ${format} disagree`);
  const table = parsed.values.table ?? null;
  if (table !== null && !TABLE_NAMES.includes(table as TableName)) return usageError(`--table must be one of ${TABLE_NAMES.join(', ')} (got "${table}")`);
  if (table !== null && format !== 'csv' && format !== 'md') return usageError('--table goes with --format csv or md');
  const memory = memoryRequest(parsed.values, format);
  if (typeof memory === 'string') return usageError(memory);
  return analyzeCommand(files[0], {
    format: format as AnalyzeFormat,
    table: table as TableName | null,
    hints: parsed.values['no-hints'] !== true,
    batch,
    memory,
  });
}

/** `--memory` and its options, or why they do not go together; null without --memory. */
function memoryRequest(
  v: { memory?: boolean; engine?: string; precision?: string; fit?: string; batch?: string },
  format: string,
): MemoryRequest | null | string {
  if (!v.memory) {
    const stray = (['engine', 'precision', 'fit'] as const).find((k) => v[k] !== undefined);
    return stray ? `--${stray} goes with --memory` : null;
  }
  if (format !== 'text' && format !== 'json') return `--memory prints text or --json (got --format ${format})`;
  const engine = v.engine ?? 'tfjs';
  if (!MEMORY_ENGINES.includes(engine as MemoryEngine)) return `--engine must be one of ${MEMORY_ENGINES.join(', ')} (got "${engine}")`;
  const precision = v.precision ?? 'fp32';
  if (!PRECISIONS.includes(precision as Precision)) return `--precision must be one of ${PRECISIONS.join(', ')} (got "${precision}")`;
  if (engine === 'tfjs' && precision !== 'fp32') return '--precision bf16 goes with --engine torch: the tfjs engine trains in float32';
  let fit: number | null = null;
  if (v.fit !== undefined) {
    fit = readBytes(v.fit);
    if (fit === null || fit <= 0) return `--fit must be a size like 24GB or 8GiB (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB; got "${v.fit}")`;
  }
  return { engine: engine as MemoryEngine, precision: precision as Precision, batch: v.batch !== undefined ? Number(v.batch) : null, fit };
}

/** Any command; resolves to the exit status. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  const engine = command ? ENGINE_COMMANDS[command] : undefined;
  if (!engine || wantsHelp(rest)) {
    // analyze and help stop as any process does on a signal (one that came during start-up ends it now).
    releaseStopSignals();
  }
  if (!engine) {
    const result = run(argv);
    io.stdout.write(result.stdout);
    io.stderr.write(result.stderr);
    return result.exitCode;
  }
  if (wantsHelp(rest)) {
    io.stdout.write(commandHelp(engine.usage));
    return EXIT.ok;
  }
  try {
    return await engine.run(rest, io);
  } catch (e) {
    // Usage errors found before a command's event stream starts (its options).
    if (e instanceof UsageError) {
      io.stderr.write(`dsod: ${e.message}\n\nRun \`dsod --help\` for the options.\n`);
      return e.exitStatus;
    }
    throw e;
  }
}

function usageError(message: string): CommandResult {
  return { stdout: '', stderr: `dsod: ${message}\n\n${USAGE}`, exitCode: EXIT.usage };
}

if (require.main === module) {
  catchStopSignals();
  // A closed pipe (`dsod analyze x --json | head`, or the editor that started a run died) is not a crash: see
  // outputClosed (a training checkpoints, then stops).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') outputClosed();
      else throw e;
    });
  }
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      if (isOutputClosed()) process.exit(code);
      // Exit explicitly once both streams are flushed (pipes are asynchronous on macOS): a loaded backend (webgpu's
      // Dawn) or an image decode still in flight must not keep a finished command alive.
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
    (e: Error) => {
      process.stderr.write(`dsod: internal error: ${e.stack ?? e.message}\n`, () => process.exit(EXIT.failed));
    },
  );
}
