// The spec's latest measurement as the CLI reads it (beside the spec, protocol/latency.ts): `dsod analyze` checks
// budget.latency_ms against it, as the editor does.
import { basename, dirname, join } from 'node:path';
import type { MeasuredLatency } from '../../core';
import { latencyFileName, measuredLatency, validateLatency } from '../../protocol/latency';
import { readFileChecked } from '../data/files';

/** null when the spec has no measurement; `problem` when the file is there but is not one. */
export function readLatencyBeside(specPath: string): { latency: MeasuredLatency | null; problem: string | null } {
  const file = join(dirname(specPath), latencyFileName(basename(specPath)));
  let text: string;
  try {
    text = readFileChecked(file, 64 * 1024, 'latency measurement').toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { latency: null, problem: null };
    return { latency: null, problem: `${file}: ${(e as Error).message}` };
  }
  let v;
  try {
    v = validateLatency(JSON.parse(text));
  } catch (e) {
    return { latency: null, problem: `${file}: not JSON (${(e as Error).message})` };
  }
  return v.ok ? { latency: measuredLatency(v.message), problem: null } : { latency: null, problem: `${file}: ${v.error}` };
}
