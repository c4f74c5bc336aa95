// Shared by the tests: the repository's files and compact views of diagnostics.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkSpec, type Diagnostic, type SpecCheck, type SpecFormat } from '../core';

/** Tests run from out/test/...; the repository root is two levels above out/test. */
export const repoRoot = resolve(__dirname, '..', '..');

export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

export const DSOD300_YAML = readRepoFile('examples/dsod300.dsod.yaml');

export function check(text: string, format: SpecFormat = 'yaml'): SpecCheck {
  return checkSpec(text, format);
}

/** The analysis of a spec that must be valid; fails loudly with its errors otherwise. */
export function analyze(text: string, format: SpecFormat = 'yaml') {
  const result = checkSpec(text, format);
  const errors = result.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
  if (errors.length || !result.analysis) {
    throw new Error(`expected a valid spec, got:\n${errors.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.code} ${d.message}`).join('\n')}`);
  }
  return result.analysis;
}

/** `line:col-line:col` (1-based), the covered text, the code, the severity: everything a test pins down. */
export function describe(text: string, d: Diagnostic): { at: string; covers: string; code: string; severity: string; message: string } {
  const lines = text.split(/\r?\n/);
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return {
    at: `${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1}`,
    covers: text.slice(offset(d.range.start), offset(d.range.end)),
    code: d.code,
    severity: d.severity,
    message: d.message,
  };
}

/** Replace exactly one occurrence of `from` (the test fails if it is missing or ambiguous). */
export function edit(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`"${from}" must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}
