// Reading a spec for the engine commands: the same checker as `dsod analyze`, errors printed as file:line:col lines.
import { checkSpec, formatOf, type Analysis } from '../../core';
import { EngineError, EXIT } from '../errors';
import { diagnosticLine } from './analyze';
import type { Io } from './engine-command';
import { readFailure, readSpecFile, type SpecRead } from './spec-read';

/** A spec with errors (code `spec`), or one that cannot be read (`io`: code `input`). */
export class SpecError extends EngineError {
  constructor(
    message: string,
    /** `file:line:col: severity: message [code]` lines. */
    readonly lines: string[],
    where: string | null,
    readonly io = false,
  ) {
    super(io ? 'input' : 'spec', message, where);
  }
}

export interface LoadedSpec {
  path: string;
  text: string;
  analysis: Analysis;
}

export function loadSpec(path: string): LoadedSpec {
  let read: SpecRead;
  try {
    read = readSpecFile(path, formatOf(path));
  } catch (e) {
    throw new SpecError(`cannot read ${path}: ${readFailure(e)}`, [], null, true);
  }
  const text = read.text ?? '';
  const check = read.check ?? checkSpec(text, formatOf(path), { hints: false });
  const errors = check.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !check.analysis) {
    const lines = errors.map((d) => diagnosticLine(path, d).trimEnd());
    const first = errors[0];
    const where = first ? `${path}:${first.range.start.line + 1}:${first.range.start.character + 1}` : null;
    throw new SpecError(`${path} has ${errors.length} error${errors.length === 1 ? '' : 's'}${first ? `: ${first.message}` : ''}`, lines, where);
  }
  return { path, text, analysis: check.analysis };
}

/**
 * loadSpec for a command that prints rather than emits events (the exports, latency): the spec, or its errors written
 * to stderr (the message, then a file:line:col line each) and the exit status to return.
 */
export function loadSpecOrReport(path: string, io: Io): LoadedSpec | number {
  try {
    return loadSpec(path);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    io.stderr.write(`dsod: ${e.message}\n${e.lines.map((l) => `${l}\n`).join('')}`);
    return e.io ? EXIT.usage : EXIT.failed;
  }
}

/** The place of a key in the spec (`file:line:col`), for errors about a setting. */
export function whereIs(spec: LoadedSpec, path: (string | number)[]): string | null {
  const check = checkSpec(spec.text, formatOf(spec.path), { hints: false });
  const r = check.document.rangeOf(path, 'key');
  return r ? `${spec.path}:${r.start.line + 1}:${r.start.character + 1}` : null;
}
