// `dsod diff A B`: what an edit costs. Each side is a spec file or a git revision of one (`HEAD:examples/x.dsod.yaml`);
// the change itself is core's (core/analysis/diff.ts), this file reads the two sides and prints the change.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkSpec, DEFAULT_MAX_LENGTH, diffAnalyses, formatOf, isUnchanged, type AnalysisDiff, type SpecCheck, type StageCost } from '../../core';
import { formatBytes, formatExact, formatSigned as signed } from '../../core/format';
import { invalidUtf8 } from '../data/files';
import { EXIT } from '../errors';
import { diagnosticLine, type CommandResult } from './analyze';
import { readFailure, readSpecFile } from './spec-read';
import { textTable } from './text-table';

export const DIFF_USAGE = `  diff <A> <B>       What an edit costs: per stage, per scale and in total, the change in learned parameters, MACs,
                     activation memory and default boxes from spec A to spec B. A side is a spec file or a git
                     revision of one, REV:PATH (HEAD:examples/dsod300.dsod.yaml; PATH as for a file, relative to
                     the current directory, read with git show in the file's repository)
      --json         Print one JSON object instead of the tables
`;

/** A side that cannot be read: a missing file, a revision git does not know. Exit status 2. */
class SideError extends Error {}

interface Side {
  /** As the user wrote it: the label of its diagnostics and of the table. */
  label: string;
  /** `null` for a file of the working tree. */
  revision: string | null;
  check: SpecCheck;
}

/** `REV:PATH` (not a file of that name, not a Windows drive `C:\\x`): the revision and the path. */
function revisionOf(arg: string, cwd: string): { revision: string; path: string } | null {
  const colon = arg.indexOf(':');
  if (colon <= 0 || existsSync(resolve(cwd, arg)) || /^[A-Za-z]:[\\/]/.test(arg)) return null;
  return { revision: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** The bytes of `path` (relative to `cwd`) at `revision`, by `git show REV:./NAME` run in the file's own folder. */
function gitShow(revision: string, path: string, cwd: string): Uint8Array {
  if (revision.startsWith('-')) throw new SideError(`"${revision}" is not a revision (it would read as an option of git)`);
  if (!path) throw new SideError(`no path after "${revision}:" (write ${revision}:path/to/spec.dsod.yaml)`);
  const abs = resolve(cwd, path);
  const dir = dirname(abs);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SideError(`folder ${dirname(path)} does not exist, so its repository is unknown`);
  const r = spawnSync('git', ['show', `${revision}:./${basename(abs)}`], { cwd: realpathSync(dir), maxBuffer: DEFAULT_MAX_LENGTH + 1, windowsHide: true });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SideError('git is not installed (a REV:PATH side is read with git show)');
    if (code === 'ENOBUFS') throw new SideError(`the spec is over ${DEFAULT_MAX_LENGTH / 1024} KB; specs over that are not checked`);
    throw new SideError(`git show failed: ${r.error.message}`);
  }
  if (r.status !== 0) {
    const why = r.stderr.toString('utf8').trim().split('\n')[0] || `git show exited with status ${r.status}`;
    throw new SideError(`git: ${why.replace(/^fatal: /, '')}`);
  }
  return r.stdout;
}

function readSide(arg: string, cwd: string, hints: boolean): Side {
  const rev = revisionOf(arg, cwd);
  const format = formatOf(rev ? rev.path : arg);
  if (!rev) {
    let read;
    try {
      read = readSpecFile(resolve(cwd, arg), format);
    } catch (e) {
      throw new SideError(readFailure(e));
    }
    return { label: arg, revision: null, check: read.check ?? checkSpec(read.text, format, { hints }) };
  }
  const bytes = gitShow(rev.revision, rev.path, cwd);
  const bad = invalidUtf8(bytes);
  if (bad) throw new SideError(`invalid UTF-8: byte 0x${bad.byte.toString(16).toUpperCase().padStart(2, '0')} at line ${bad.line}, column ${bad.column}`);
  return { label: arg, revision: rev.revision, check: checkSpec(new TextDecoder('utf-8').decode(bytes), format, { hints }) };
}

const costCells = (c: StageCost) => [signed(c.paramsLearned), signed(c.macs), signed(c.activationBytes, formatBytes)];
const mark = (change: string) => (change === 'added' ? ' (added)' : change === 'removed' ? ' (removed)' : '');

/** The change as text: the totals (A, B and the change), then the stages and the scales. */
export function renderDiff(d: AnalysisDiff, a: Side, b: Side): string {
  const t = d.totals;
  const name = (s: Side) => s.check.analysis?.spec.name ?? '';
  const out = [`A: ${a.label}  (${name(a)})\nB: ${b.label}  (${name(b)})\n\n`];
  out.push(
    textTable(
      ['total', 'A', 'B', 'change'],
      [
        ['learned params', formatExact(t.a.paramsLearned), formatExact(t.b.paramsLearned), signed(t.delta.paramsLearned)],
        ['MACs', formatExact(t.a.macs), formatExact(t.b.macs), signed(t.delta.macs)],
        ['activations / image', formatBytes(t.a.activationBytes), formatBytes(t.b.activationBytes), signed(t.delta.activationBytes, formatBytes)],
        ['default boxes', formatExact(t.a.boxes), formatExact(t.b.boxes), signed(t.delta.boxes, formatExact)],
      ],
    ),
  );
  out.push('\n');
  if (isUnchanged(d)) return out.join('') + 'No change: the same stages, each costing the same.\n';
  out.push(
    textTable(
      ['stage', 'params', 'MACs', 'activations'],
      d.stages.map((s) => [s.name + mark(s.change), ...costCells(s.delta)]),
    ),
  );
  out.push('\n');
  out.push(
    textTable(
      ['scale', 'params', 'MACs', 'activations', 'boxes'],
      d.scales.map((s) => [`scale${s.index}${mark(s.change)}`, ...costCells(s.delta), signed(s.delta.boxes, formatExact)]),
    ),
  );
  const list = (xs: { name: string }[]) => xs.map((x) => x.name).join(', ');
  if (d.added.length) out.push(`\nadded in B: ${list(d.added)}\n`);
  if (d.removed.length) out.push(`${d.added.length ? '' : '\n'}removed from A: ${list(d.removed)}\n`);
  return out.join('');
}

export interface DiffOptions {
  /** What relative paths and REV:PATH sides are relative to (the process's current directory). */
  cwd?: string;
}

export function diffCommand(args: string[], options: DiffOptions = {}): CommandResult {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false } } });
  } catch (e) {
    return usage((e as Error).message);
  }
  if (parsed.positionals.length !== 2) return usage(`diff takes two specs, A and B (got ${parsed.positionals.length})`);
  const cwd = options.cwd ?? process.cwd();
  const sides: Side[] = [];
  for (const arg of parsed.positionals) {
    try {
      sides.push(readSide(arg, cwd, false));
    } catch (e) {
      if (!(e instanceof SideError)) throw e;
      return { stdout: '', stderr: `dsod: cannot read ${arg}: ${e.message}\n`, exitCode: EXIT.usage };
    }
  }
  const [a, b] = sides;
  // Both sides must analyse: their errors (with the side's label, line and column), and no table.
  const stderr = sides.flatMap((s) => s.check.diagnostics.filter((d) => d.severity === 'error').map((d) => diagnosticLine(s.label, d))).join('');
  if (!a.check.analysis || !b.check.analysis || stderr) {
    return { stdout: '', stderr: stderr || `dsod: ${a.check.analysis ? b.label : a.label} cannot be analysed\n`, exitCode: EXIT.failed };
  }
  const d = diffAnalyses(a.check.analysis, b.check.analysis);
  if (parsed.values.json) {
    const side = (s: Side) => ({ source: s.label, revision: s.revision, name: s.check.analysis?.spec.name ?? null });
    return { stdout: JSON.stringify({ a: side(a), b: side(b), ...d }, null, 2) + '\n', stderr: '', exitCode: EXIT.ok };
  }
  return { stdout: renderDiff(d, a, b), stderr: '', exitCode: EXIT.ok };
}

function usage(message: string): CommandResult {
  return { stdout: '', stderr: `dsod: ${message}\n\nUsage: dsod diff <A> <B> [--json]\n\n${DIFF_USAGE}`, exitCode: EXIT.usage };
}
