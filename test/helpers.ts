// Shared by the tests: the repository's files, compact views of diagnostics, engine events and processes.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkSpec, type Diagnostic, type SpecCheck, type SpecFormat } from '../core';
import { parseEngineEventLine, type EngineEvent } from '../protocol/engine-events';

/** Tests run from out/test/...; the repository root is two levels above out/test. */
export const repoRoot = resolve(__dirname, '..', '..');

export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

export const DSOD300_YAML = readRepoFile('examples/dsod300.dsod.yaml');
/**
 * DSOD300 frozen for tests that pin line:column positions: the example may gain comments or keys for users without
 * moving every expected range (test/core/dsod300.test.ts checks the two analyse to the same network).
 */
export const DSOD300_FROZEN_YAML = readRepoFile('test/fixtures/dsod300.frozen.dsod.yaml');
/** A small net of the language's other readings (no stem, plain prediction, L2Norm on scale 1, heads without BN). */
export const PLAIN_YAML = readRepoFile('test/fixtures/plain.dsod.yaml');

export function check(text: string, format: SpecFormat = 'yaml'): SpecCheck {
  return checkSpec(text, format);
}

/** The analysis of a spec that must be valid; fails loudly with its errors otherwise. */
export function analyze(text: string, format: SpecFormat = 'yaml') {
  const result = checkSpec(text, format);
  const errors = result.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
  if (errors.length || !result.analysis) {
    throw new Error(
      `expected a valid spec, got:\n${errors.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.code} ${d.message}`).join('\n')}`,
    );
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

/** A small seeded PRNG (mulberry32): the same seed gives the same cases on every run. */
export function rng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(xs: readonly T[]): T } {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

/** The events of an engine's --json output (one per line; blank lines skipped): the test fails on any invalid line. */
export function parseEventLines(text: string): EngineEvent[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = parseEngineEventLine(l);
      if (!r.ok) throw new Error(`${r.error}: ${l}`);
      return r.event;
    });
}

/** Whether a process of this id exists (EPERM: it does, though not ours to signal). */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every example spec, relative to the repository root. */
export function exampleFiles(): string[] {
  const list = (dir: string): string[] =>
    readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? list(join(dir, e.name)) : e.name.endsWith('.dsod.yaml') ? [join(dir, e.name)] : [],
    );
  return list('examples').sort();
}
