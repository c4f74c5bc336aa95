// Temporary files that an interrupted atomic write left in a run folder (engine/data/files.ts writes NAME.tmp-PID-HEX,
// then renames it over NAME: a SIGKILL or a power cut between the two leaves it, a whole checkpoint among them).
// The training that holds the run's lock removes them when it starts (no other training writes there then). Other
// processes may still write into the folder without the lock (`dsod eval --run`, `dsod infer --run`, a report), so a
// temporary file of a process that still runs is left alone, unless it is too old to be a write in progress (its pid
// was reused).
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempFileWriter } from '../data/files';
import { RUN_FILES } from './run-files';

/** A temporary file of a live process older than this is taken for an orphan whose pid was reused. */
const IN_PROGRESS_MS = 60 * 60 * 1000;

export interface RemovedTemp {
  /** Relative to the run folder. */
  file: string;
  bytes: number;
}

export interface TempCleanup {
  removed: RemovedTemp[];
  bytes: number;
  /** Stale temporary files that could not be removed, with the reason. */
  failed: { file: string; reason: string }[];
}

/** Remove the stale temporary files of the run folder, its checkpoints/ and its inference/ folders. */
export function removeStaleTempFiles(runDir: string, now = Date.now()): TempCleanup {
  const out: TempCleanup = { removed: [], bytes: 0, failed: [] };
  for (const sub of ['', RUN_FILES.checkpoints, RUN_FILES.inference]) {
    let names: string[];
    try {
      names = readdirSync(join(runDir, sub));
    } catch {
      continue; // no such folder
    }
    for (const name of names.sort()) {
      const pid = tempFileWriter(name);
      if (pid === null || pid === process.pid) continue;
      const file = sub ? `${sub}/${name}` : name;
      const path = join(runDir, sub, name);
      const st = lstatSync(path, { throwIfNoEntry: false });
      // A plain file only: a folder or a link with such a name is not one of ours.
      if (!st || !st.isFile()) continue;
      if (processRuns(pid) && now - st.mtimeMs < IN_PROGRESS_MS) continue;
      try {
        unlinkSync(path);
        out.removed.push({ file, bytes: st.size });
        out.bytes += st.size;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') out.failed.push({ file, reason: code ?? (e as Error).message });
      }
    }
  }
  return out;
}

/** What a cleanup removed, for a log line ('' when nothing). */
export function describeCleanup(c: TempCleanup): string {
  const parts: string[] = [];
  if (c.removed.length) {
    const n = c.removed.length;
    parts.push(
      `removed ${n} temporary file${n === 1 ? '' : 's'} (${c.bytes} bytes) that interrupted writes left: ` +
        c.removed.map((r) => `${r.file} (${r.bytes} bytes)`).join(', '),
    );
  }
  if (c.failed.length) parts.push(`could not remove ${c.failed.map((f) => `${f.file} (${f.reason})`).join(', ')}`);
  return parts.join('; ');
}

function processRuns(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
