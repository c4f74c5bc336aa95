// SIGINT and SIGTERM, caught from the first moment of the `dsod` process (main.ts imports this module before any
// other, and the bundle evaluates it first): a signal that comes during start-up, backend selection or data loading
// waits for the command to act on it, so every engine command ends with its `done` event (stopped, 130/143) however
// early it is asked to stop. Its one import defines constants and runs nothing: nothing runs before this module.
import { signalExitStatus } from '../errors';

/** What a signal does once a command has said (installStopHandlers, runEngineCommand); null: it is kept for later. */
type SignalHandler = (signal: NodeJS.Signals) => void;

const state = {
  caught: false,
  /** The first signal, while no command acted on it yet. */
  pending: null as NodeJS.Signals | null,
  handler: null as SignalHandler | null,
};

function onStopSignal(signal: NodeJS.Signals): void {
  if (state.handler) return state.handler(signal);
  // A second signal before anything acted on the first: stop at once (nothing has been written yet).
  if (state.pending) process.exit(signalExitStatus(signal));
  state.pending = signal;
}

/** Catch SIGINT and SIGTERM from now on (idempotent); true when this call installed the listeners. */
export function catchStopSignals(): boolean {
  if (state.caught) return false;
  state.caught = true;
  process.on('SIGINT', onStopSignal);
  process.on('SIGTERM', onStopSignal);
  return true;
}

/**
 * Back to the default action (commands that do not stop gracefully: analyze, help); a signal that came already is
 * delivered again, so it ends the process as it would have.
 */
export function releaseStopSignals(redeliver = true): void {
  if (!state.caught) return;
  state.caught = false;
  process.off('SIGINT', onStopSignal);
  process.off('SIGTERM', onStopSignal);
  const pending = state.pending;
  state.pending = null;
  state.handler = null;
  if (pending && redeliver) process.kill(process.pid, pending);
}

/** The signal that came before a command could act on it (and forget it: the caller acts now). */
export function takePendingSignal(): NodeJS.Signals | null {
  const s = state.pending;
  state.pending = null;
  return s;
}

/** Route signals to `handler` until the returned function restores the one before. */
export function handleStopSignals(handler: SignalHandler): () => void {
  const previous = state.handler;
  state.handler = handler;
  return () => {
    state.handler = previous;
  };
}

// The `dsod` bundle: catch signals before the rest of it is even evaluated (the engine commands act on them; main.ts
// releases them for the others). Not when imported by tests or tools.
if (require.main === module) catchStopSignals();
