// Which engine the VS Code run commands start (setting `dsod.engine`): tfjs (embedded, needs nothing installed), torch
// (PyTorch through a Python that has it: engine/torch), or auto (torch where such a Python is found, else tfjs). No
// `vscode` here: the run manager and the task provider pass the setting's value (default tfjs: the embedded engine
// needs nothing installed) and a probe.
import { findTorchPython } from '../../engine/torch/python';

export const ENGINE_SETTING = 'engine';
export type EngineSetting = 'tfjs' | 'torch' | 'auto';
export type Engine = 'tfjs' | 'torch';

export interface EngineResolution {
  engine: Engine;
  /** For the run's log: what the setting said and what was found. */
  why: string;
}

/** A probe for a Python with torch: null when one is found, else what was tried and the command that fixes it. */
export type TorchProbe = () => string | null;

/** The setting's value as the run commands read it; anything else (a typo in settings.json) is the default, tfjs. */
export function engineSetting(value: unknown): EngineSetting {
  return value === 'tfjs' || value === 'torch' || value === 'auto' ? value : 'tfjs';
}

export function resolveEngine(setting: unknown, probe: TorchProbe): EngineResolution {
  const s = engineSetting(setting);
  if (s === 'tfjs') return { engine: 'tfjs', why: 'dsod.engine is tfjs' };
  // torch asked for by name: the engine's doctor says what is missing (no fallback that would hide it).
  if (s === 'torch') return { engine: 'torch', why: 'dsod.engine is torch' };
  const missing = probe();
  return missing === null
    ? { engine: 'torch', why: 'dsod.engine is auto and a Python with PyTorch was found' }
    : { engine: 'tfjs', why: `dsod.engine is auto and the torch engine cannot run (${missing}): tfjs` };
}

/**
 * The engine that continues a run: the one that trained it (its checkpoints are that engine's own format, which the
 * other cannot read), whatever the setting says; a run that never trained (engine null) follows the setting. A torch
 * run where no Python with PyTorch is found throws an EngineUnavailableError that says what is missing.
 */
export function resumeEngine(runEngine: Engine | null, setting: unknown, probe: TorchProbe): EngineResolution {
  if (runEngine === null) return resolveEngine(setting, probe);
  const why = `the run was trained by the ${runEngine} engine; dsod.engine is ${engineSetting(setting)}`;
  if (runEngine === 'torch') {
    const missing = probe();
    if (missing !== null) throw new EngineUnavailableError('torch', missing);
  }
  return { engine: runEngine, why };
}

/** A run that must continue on an engine that cannot run here. */
export class EngineUnavailableError extends Error {
  constructor(
    readonly engine: Engine,
    /** What is missing, and the command that fixes it. */
    readonly missing: string,
  ) {
    super(`the run was trained by the ${engine} engine, which cannot run here: ${missing}`);
    this.name = 'EngineUnavailableError';
  }
}

/** The engine's options on a command line: nothing for tfjs (the CLI's default). */
export function engineOption(engine: Engine): string[] {
  return engine === 'torch' ? ['--engine', 'torch'] : [];
}

let cached: { env: string | undefined; missing: string | null } | null = null;

/** findTorchPython once per window (it starts Python and imports torch: seconds), again if DSOD_PYTHON changes. */
export const findTorchOnce: TorchProbe = () => {
  if (!cached || cached.env !== process.env.DSOD_PYTHON) {
    const found = findTorchPython();
    cached = { env: process.env.DSOD_PYTHON, missing: found.ok ? null : found.message };
  }
  return cached.missing;
};
