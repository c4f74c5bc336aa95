// A spec as a git revision has it ("DSOD: Compare with HEAD", the lens "+1.2M params vs HEAD"): `git show REV:./NAME`
// and `git rev-parse HEAD`, spawned with an argument array in the file's own folder (so its repository is the one git
// finds), never through a shell. No `vscode` import: node tests drive it against real repositories. The language server
// spawns nothing; the client sends it the text (`dsod/baseline`).
import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';

/** Past core's DEFAULT_MAX_LENGTH (512 KB, what the server checks): a larger spec is refused, not half read. */
const MAX_BYTES = 512 * 1024 + 1;

export type GitRead = { ok: true; text: string } | { ok: false; message: string };

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** Spawning failed (git missing, output too large). */
  error: NodeJS.ErrnoException | null;
}

function git(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, encoding: 'buffer', maxBuffer: MAX_BYTES, windowsHide: true, timeout: 30_000 }, (error, stdout, stderr) => {
      const e = error as (NodeJS.ErrnoException & { code?: string | number }) | null;
      // A non-zero exit is reported as an error with a numeric code: that is git's answer, not a failure to run it.
      const spawnFailed = e && typeof e.code !== 'number' ? e : null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr: stderr.toString('utf8'), error: spawnFailed });
    });
  });
}

/** The commit HEAD names in the repository holding `file`; null outside git or before the first commit. */
export async function headCommit(file: string): Promise<string | null> {
  const r = await git(['rev-parse', '--verify', '--quiet', 'HEAD'], dirname(file));
  return r.code === 0 && !r.error ? r.stdout.toString('utf8').trim() || null : null;
}

/** A revision as the user typed it: one word that git cannot read as an option. */
export function revisionProblem(revision: string): string | null {
  if (!revision.trim()) return 'Type a revision: HEAD~1, a branch, a tag or a commit.';
  if (revision.startsWith('-')) return `"${revision}" is not a revision (git would read it as an option).`;
  if (/[\s:]/.test(revision)) return `"${revision}" is not a revision: no spaces or colons.`;
  return null;
}

/** The text of `file` (an absolute path) at `revision`, or why it cannot be read, in words for the user. */
export async function readAtRevision(file: string, revision: string): Promise<GitRead> {
  const name = basename(file);
  const bad = revisionProblem(revision);
  if (bad) return { ok: false, message: bad };
  const r = await git(['show', `${revision}:./${name}`], dirname(file));
  if (r.error) {
    if (r.error.code === 'ENOENT') return { ok: false, message: 'git is not installed (or not on the PATH), so no revision can be read.' };
    if (r.error.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
      return { ok: false, message: `${name} at ${revision} is over 512 KB; specs over that are not checked.` };
    return { ok: false, message: `git show failed: ${r.error.message}` };
  }
  if (r.code !== 0) {
    const why = r.stderr;
    if (/not a git repository/i.test(why)) return { ok: false, message: `${name} is not in a git repository.` };
    if (/exists on disk, but not in|does not exist in/i.test(why)) return { ok: false, message: `${name} is not in ${revision} (it was not committed there).` };
    if (/invalid object name|unknown revision|bad revision|ambiguous argument/i.test(why))
      return {
        ok: false,
        message: revision === 'HEAD' ? 'The repository has no commit yet (HEAD names nothing).' : `git does not know the revision "${revision}".`,
      };
    const first =
      why
        .trim()
        .split('\n')[0]
        ?.replace(/^fatal: /, '') || `git show exited with status ${r.code}`;
    return { ok: false, message: `git: ${first}` };
  }
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(r.stdout) };
  } catch {
    return { ok: false, message: `${name} at ${revision} is not UTF-8 text.` };
  }
}
