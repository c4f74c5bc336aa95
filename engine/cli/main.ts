// The `dsod` command-line tool: everything the editor shows, outside the editor.
import { parseArgs } from 'node:util';
import { analyzeCommand, type CommandResult } from './analyze';

const USAGE = `Usage: dsod <command> [options]

Commands:
  analyze <spec>     Exact shapes, parameters, MACs and default boxes of a DSOD spec (*.dsod.yaml, *.dsod.json)
      --json         Print one JSON object instead of the tables
      --batch N      Batch size for the activation-memory figure (default 1)
      --no-hints     Leave out the design-principle hints

Exit status: 0 ok, 1 the spec has errors, 2 usage or I/O problem.
`;

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

function usageError(message: string): CommandResult {
  return { stdout: '', stderr: `dsod: ${message}\n\n${USAGE}`, exitCode: 2 };
}

if (require.main === module) {
  // A closed pipe (`dsod analyze x --json | head`) is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const result = run(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}
