// `dsod export --caffe SPEC --out DIR` and `dsod import --caffe FILE [--out SPEC]`: the official DSOD code's Caffe
// files (train, test, deploy, solver) from a spec, and a spec from a DSOD-family prototxt.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkSpec } from '../../core';
import { CaffeExportError, caffeFiles } from '../caffe/export';
import { CaffeImportError, importCaffe } from '../caffe/import';
import { writeFolderAtomic } from '../caffe/write';
import { FileCheckError, IoError, readTextFileChecked } from '../data/files';
import { EXIT } from '../errors';
import { parseCommand, UsageError } from './args';
import type { Io } from './engine-command';
import { writeTextOutput } from './text-output';
import { releaseStopSignals } from './signals';
import { loadSpecOrReport, whereIs } from './spec-file';

/** A prototxt is a few hundred KB (DSOD300's train net: ~200 KB); more is not one. */
const MAX_PROTOTXT_BYTES = 16 * 1024 * 1024;

export async function exportCaffe(specPath: string, out: string | undefined, io: Io): Promise<number> {
  if (out === undefined) throw new UsageError('export --caffe writes four files: say where with --out <folder>');
  const spec = loadSpecOrReport(specPath, io);
  if (typeof spec === 'number') return spec;
  let files;
  try {
    files = caffeFiles(spec.analysis);
  } catch (e) {
    if (!(e instanceof CaffeExportError)) throw e;
    io.stderr.write(`${whereIs(spec, [...e.path]) ?? specPath}: error: Caffe cannot express this spec: ${e.message}\n`);
    return EXIT.failed;
  }
  for (const w of files.warnings) io.stderr.write(`${whereIs(spec, [...w.path]) ?? specPath}: warning: ${w.message}\n`);
  try {
    writeFolderAtomic(out, files.files);
  } catch (e) {
    if (!(e instanceof IoError)) throw e;
    io.stderr.write(`dsod: ${e.message}\n`);
    return EXIT.io;
  }
  for (const f of files.files) io.stdout.write(`${join(out, f.name)}\n`);
  return EXIT.ok;
}

export const IMPORT_USAGE = `  import --caffe <file.prototxt>
                     Read a DSOD-family Caffe net (deploy, train or test prototxt: stem, dense blocks,
                     transitions, dense or plain prediction structure, heads, PriorBox parameters) and write
                     its spec; solver.prototxt (and train.prototxt) beside it give the train section
      --out FILE         Write the spec there (atomically) instead of to stdout
`;

export async function importCommand(args: string[], io: Io): Promise<number> {
  releaseStopSignals();
  const { values, positionals } = parseCommand('import', args, { caffe: { type: 'string' }, out: { type: 'string' } });
  if (positionals.length) throw new UsageError(`import: unexpected argument "${positionals[0]}" (the prototxt goes after --caffe)`);
  if (values.caffe === undefined) throw new UsageError('import: say what to import: --caffe <file.prototxt>');
  const file = values.caffe;
  const read = (path: string): string => readTextFileChecked(path, MAX_PROTOTXT_BYTES, 'prototxt');
  let text: string;
  let solver: string | undefined;
  let train: string | undefined;
  try {
    text = read(file);
    const beside = (name: string) => {
      const p = join(dirname(file), name);
      return p !== file && existsSync(p) ? read(p) : undefined;
    };
    solver = beside('solver.prototxt');
    train = beside('train.prototxt');
  } catch (e) {
    const reason = e instanceof FileCheckError ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    io.stderr.write(`dsod: cannot read ${e instanceof FileCheckError ? e.path : file}: ${reason}\n`);
    return EXIT.usage;
  }
  let yaml: string;
  try {
    const result = importCaffe(text, { solver, train });
    yaml = result.yaml;
    for (const n of result.notes) io.stderr.write(`${file}: note: ${n}\n`);
  } catch (e) {
    if (!(e instanceof CaffeImportError)) throw e;
    io.stderr.write(`${file}:${e.line}: error: ${e.reason}\n`);
    return EXIT.failed;
  }
  // What was read must be a valid spec: checked as `dsod analyze` would.
  const check = checkSpec(yaml, 'yaml', { hints: false });
  const errors = check.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !check.analysis) {
    io.stderr.write(`${file}: error: the net reads as a spec with errors: ${errors.map((d) => d.message).join('; ') || 'no network'}\n`);
    return EXIT.failed;
  }
  return writeTextOutput(io, values.out, yaml);
}
