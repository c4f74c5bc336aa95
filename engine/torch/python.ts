// Finding a Python with PyTorch for the torch engine (the package beside this file, dsod_torch/). Nothing is
// installed or downloaded: the engine uses the PyTorch the user has. Tried in order: $DSOD_PYTHON (when set, the only
// one: a user who names a Python means that one), `python3` on PATH, Debian's /usr/bin/python3 (a pyenv or venv
// python3 often shadows the system one that has python3-torch).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The folder that holds dsod_torch/ (what goes on PYTHONPATH for `python -m dsod_torch`): beside this file in the
 * sources, engine/torch/ from the compiled out/engine/torch/, or the bundle's dist/ (esbuild.mjs copies dsod_torch/ there).
 */
export function torchPackageRoot(from: string = __dirname): string {
  const candidates = [from, join(from, '..', '..', '..', 'engine', 'torch'), join(from, '..', 'engine', 'torch')];
  const found = candidates.find((d) => existsSync(join(d, 'dsod_torch', '__init__.py')));
  if (!found) throw new Error(`the torch engine's Python package (dsod_torch) is not next to ${from}`);
  return found;
}

export const TORCH_INSTALL_HINT = 'apt-get install python3-torch libopenblas0-pthread (Debian/Ubuntu), or pip install torch';

export interface PythonAttempt {
  python: string;
  /** Why it was not taken: not found, no torch, ... (null when it was). */
  problem: string | null;
}

export type TorchPython = { ok: true; python: string; torch: string; attempts: PythonAttempt[] } | { ok: false; message: string; attempts: PythonAttempt[] };

const PROBE = 'import sys, torch; print(torch.__version__); print(sys.version.split()[0])';

export function findTorchPython(env: NodeJS.ProcessEnv = process.env): TorchPython {
  const candidates = env.DSOD_PYTHON ? [env.DSOD_PYTHON] : ['python3', '/usr/bin/python3'];
  const attempts: PythonAttempt[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 60_000, env: { ...env, PYTHONDONTWRITEBYTECODE: '1' } });
    if (r.error) {
      attempts.push({ python, problem: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message });
      continue;
    }
    if (r.status !== 0) {
      const last = (r.stderr || r.stdout).trim().split('\n').pop() ?? '';
      attempts.push({ python, problem: /No module named .?torch/.test(last) ? 'no torch module' : `exit ${r.status}: ${last}` });
      continue;
    }
    attempts.push({ python, problem: null });
    return { ok: true, python, torch: r.stdout.trim().split('\n')[0], attempts };
  }
  const tried = attempts.map((a) => `${a.python} (${a.problem})`).join(', ');
  return {
    ok: false,
    message: `no Python with PyTorch found: tried ${tried}. Install it: ${TORCH_INSTALL_HINT}; or set DSOD_PYTHON to a python that has torch.`,
    attempts,
  };
}
