// What the host does with a message from the run dashboard, apart from VS Code (so node tests can drive it): validate
// it against the protocol, refuse and log anything malformed, and only then act. The page is a web page: it may only
// name the run it shows, checkpoints (either engine's) inside that run's checkpoints/ folder or its weights.dsodw, and runs the host
// listed to it. A compromised page cannot make the editor resume, evaluate or read anything else.
import { statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DASHBOARD_PROTOCOL_VERSION, validateDashboardWebviewMessage, type DashboardWebviewMessage } from '../protocol/dashboard';
import { protocolMismatch } from '../protocol/checks';
import { checkpointOfName, CHECKPOINT_KINDS, RUN_FILES } from '../protocol/run-files';

export interface DashboardHost {
  /** The run folder the panel shows. */
  currentRun(): string | undefined;
  /** Run folders the page was shown in its list (it may open or overlay only those). */
  knownRuns(): readonly string[];
  ready(): void;
  resume(runDir: string, checkpoint: string): Promise<void> | void;
  evaluate(runDir: string, weights: string): Promise<void> | void;
  open(runDir: string): Promise<void> | void;
  overlay(runDir: string): Promise<void> | void;
  listRuns(): Promise<void> | void;
  rendered(message: Extract<DashboardWebviewMessage, { type: 'rendered' }>): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** `child` is `parent` or inside it (both resolved; no `..` escapes). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

const sameDir = (a: string, b: string) => resolve(a) === resolve(b);

const CHECKPOINT_NAMES = CHECKPOINT_KINDS.map((k) => `step-N${k.extension}`).join(' or ');

/**
 * Why a checkpoint path from the page is refused, or null: it must be a checkpoint of either engine in
 * RUNDIR/checkpoints/ (step-N.dsodckpt or step-N.pt) and exist.
 */
export function checkpointProblem(runDir: string, path: string): string | null {
  if (!isAbsolute(path)) return 'the checkpoint path is not absolute';
  if (!sameDir(dirname(resolve(path)), join(runDir, RUN_FILES.checkpoints))) return "the checkpoint is not in the run's checkpoints folder";
  if (!checkpointOfName(basename(path))) return `the file is not a checkpoint (${CHECKPOINT_NAMES})`;
  if (!isFile(path)) return 'the checkpoint file is not there any more';
  return null;
}

/** The tfjs engine's checkpoints, or the run's own weights.dsodw: what `dsod eval --weights` reads. */
export function weightsProblem(runDir: string, path: string): string | null {
  if (isAbsolute(path) && resolve(path) === resolve(runDir, RUN_FILES.weights)) return isFile(path) ? null : `the run has no ${RUN_FILES.weights} yet`;
  if (checkpointOfName(basename(path))?.engine === 'torch')
    return `a torch engine checkpoint is PyTorch's own file, which dsod eval does not read: evaluate the run's ${RUN_FILES.weights}`;
  return checkpointProblem(runDir, path);
}

/** Returns whether the message was accepted. Never throws on input. */
export async function handleDashboardMessage(raw: unknown, host: DashboardHost): Promise<boolean> {
  const checked = validateDashboardWebviewMessage(raw);
  if (!checked.ok) {
    host.log('warn', `run dashboard: refused a malformed message (${checked.error})`);
    return false;
  }
  const m = checked.message;
  const refuse = (why: string) => {
    host.log('warn', `run dashboard: refused ${m.type}: ${why}`);
    return false;
  };
  const current = host.currentRun();
  switch (m.type) {
    case 'ready': {
      // A page left open from an older extension would misread what it is sent: say so instead of half working.
      const mismatch = protocolMismatch('dashboard page', m.protocol, DASHBOARD_PROTOCOL_VERSION);
      if (mismatch) {
        host.log('error', `run dashboard: ${mismatch}`);
        return false;
      }
      host.ready();
      return true;
    }
    case 'resume': {
      if (!current || !sameDir(m.runDir, current)) return refuse(`${m.runDir.slice(0, 200)} is not the run shown`);
      const problem = checkpointProblem(current, m.checkpoint);
      if (problem) return refuse(`${m.checkpoint.slice(0, 200)}: ${problem}`);
      await host.resume(resolve(current), resolve(m.checkpoint));
      return true;
    }
    case 'evaluate': {
      if (!current || !sameDir(m.runDir, current)) return refuse(`${m.runDir.slice(0, 200)} is not the run shown`);
      const problem = weightsProblem(current, m.weights);
      if (problem) return refuse(`${m.weights.slice(0, 200)}: ${problem}`);
      await host.evaluate(resolve(current), resolve(m.weights));
      return true;
    }
    case 'open':
    case 'overlay': {
      if (!host.knownRuns().some((r) => sameDir(r, m.runDir))) return refuse(`${m.runDir.slice(0, 200)} is not a run of the list`);
      if (m.type === 'open') await host.open(resolve(m.runDir));
      else await host.overlay(resolve(m.runDir));
      return true;
    }
    case 'listRuns':
      await host.listRuns();
      return true;
    case 'rendered':
      host.rendered(m);
      return true;
    case 'log':
      host.log(m.level, `run dashboard: ${m.message}`);
      return true;
  }
}
