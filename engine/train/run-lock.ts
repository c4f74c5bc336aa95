// One training process per run folder. RUNDIR/.lock holds the owner's pid, host and start time; it is created
// exclusively (O_EXCL: of two processes starting together exactly one wins) and removed when the training ends.
// Checkpoints alone cannot say whether a run is live: two processes resuming the same folder would both write
// step-N checkpoints and interleave events.jsonl. A lock whose process is gone (same host, pid not running) is stale
// and taken over: a run killed by SIGKILL or a power cut must not block its own --resume. A lock from another host
// (a shared disk) cannot be checked and counts as live.
import { statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileChecked } from '../data/files';
import { RUN_FILES } from './run-files';

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
}

export type LockResult = { ok: true; stale: LockHolder | null; release: () => void } | { ok: false; holder: LockHolder; path: string };

export function acquireRunLock(runDir: string): LockResult {
  const path = join(runDir, RUN_FILES.lock);
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  let stale: LockHolder | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me) + '\n', { flag: 'wx' });
      return { ok: true, stale, release: () => releaseLock(path, me) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(path);
    if (holder === 'gone') continue;
    if (holder === 'being-written' || isAlive(holder)) return { ok: false, holder: holder === 'being-written' ? unknownHolder() : holder, path };
    stale = holder;
    try {
      unlinkSync(path);
    } catch {
      // another process took it over first: the next attempt sees its lock
    }
  }
  const holder = readHolder(path);
  return { ok: false, holder: typeof holder === 'string' ? unknownHolder() : holder, path };
}

/** The live process training the run now, or null (no lock, or the lock of a process that is gone). */
export function trainingHolder(runDir: string): LockHolder | null {
  const holder = readHolder(join(runDir, RUN_FILES.lock));
  if (holder === 'gone') return null;
  if (holder === 'being-written') return unknownHolder();
  return isAlive(holder) ? holder : null;
}

/** Remove the lock only while it is still ours (never one a later process took over). */
function releaseLock(path: string, me: LockHolder): void {
  const now = readHolder(path);
  if (typeof now === 'string' || now.pid !== me.pid || now.started !== me.started) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function readHolder(path: string): LockHolder | 'gone' | 'being-written' {
  let text: string;
  try {
    text = readFileChecked(path, 4096, 'run lock').toString('utf8');
  } catch {
    return 'gone';
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h.pid) && typeof h.host === 'string') return h;
  } catch {
    // fall through
  }
  // Empty or torn: a process is between creating and writing it, unless it is old (then its writer died).
  const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0);
  return age < 10_000 ? 'being-written' : { pid: -1, host: hostname(), started: '?' };
}

function isAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  if (h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

function unknownHolder(): LockHolder {
  return { pid: -1, host: hostname(), started: '?' };
}
