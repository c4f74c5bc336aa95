// The recorded run folder of test/webview/fixtures/run-tiny (see its README): a real tiny training killed and resumed
// from an earlier checkpoint, two evaluations and an inference, as the engine wrote them. Tests copy it to a temporary
// folder, with empty stand-ins for the checkpoint files it left out.
import { cpSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEngineEventLine, type EngineEvent } from '../../protocol/engine-events';

/** Compiled into out/test/webview/: the repository root is three levels up. */
export const repoRoot = resolve(__dirname, '..', '..', '..');
export const FIXTURE_RUN = join(repoRoot, 'test', 'webview', 'fixtures', 'run-tiny');
/** A second recorded run to compare with: the same spec at lr 0.02, 200 steps (events, metrics, spec). */
export const FIXTURE_RUN_LR002 = join(repoRoot, 'test', 'webview', 'fixtures', 'run-tiny-lr002');
/** The checkpoints the trainer had kept when the recording ended (it keeps the last three). */
export const KEPT_CHECKPOINTS = [520, 560, 600];

export function recordedEvents(): EngineEvent[] {
  return readFileSync(join(FIXTURE_RUN, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = parseEngineEventLine(l);
      if (!r.ok) throw new Error(`fixture event: ${r.error}`);
      return r.event;
    });
}

/** A copy of the recorded run folder; `parent` gets a folder named `name` (default: a new temporary folder). */
export function copyFixtureRun(parent: string = mkdtempSync(join(tmpdir(), 'dsod-dash-')), name = 'tiny'): string {
  const dir = join(parent, name);
  cpSync(FIXTURE_RUN, dir, { recursive: true });
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  for (const s of KEPT_CHECKPOINTS) writeFileSync(join(dir, 'checkpoints', `step-${String(s).padStart(8, '0')}.dsodckpt`), 'stand-in');
  writeFileSync(join(dir, 'weights.dsodw'), 'stand-in');
  return dir;
}

export function copySecondRun(parent: string, name = 'tiny-lr002'): string {
  const dir = join(parent, name);
  cpSync(FIXTURE_RUN_LR002, dir, { recursive: true });
  return dir;
}
