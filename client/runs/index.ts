// The run manager's registration from client/extension.ts: commands, code lens, task provider, and a shutdown that
// deactivate() awaits (every engine process stopped gracefully, then forcefully: no orphans).
import * as vscode from 'vscode';
import { RunCodeLens } from './runCodeLens';
import { RunManager } from './runManager';
import { DsodTaskProvider } from './taskProvider';

export interface Runs {
  manager: RunManager;
  /** Stop every run (graceful, then forced) and resolve once all engine processes are gone. */
  shutdown(): Promise<void>;
}

/**
 * `serverStarted`: the run code lens is registered once it settles, after the language server's code lens provider.
 * VS Code draws the lenses of a line in provider order, the newest registration first: so "Train · Evaluate · last run"
 * comes before the long totals lens on the spec's first line and stays in sight in a half-width editor (the dashboard
 * opens beside it). Without it, at once.
 */
export function registerRuns(context: vscode.ExtensionContext, serverStarted?: Thenable<unknown>): Runs {
  const manager = RunManager.register(context);
  const lens = () => void RunCodeLens.register(context, manager);
  if (serverStarted) serverStarted.then(lens, lens);
  else lens();
  DsodTaskProvider.register(context);
  // If the extension host exits without awaiting deactivate(), kill what still runs (synchronous, last resort).
  const onExit = () => manager.killAll();
  process.once('exit', onExit);
  context.subscriptions.push({ dispose: () => process.off('exit', onExit) });
  return { manager, shutdown: () => manager.shutdown() };
}
