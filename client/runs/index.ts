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

export function registerRuns(context: vscode.ExtensionContext): Runs {
  const manager = RunManager.register(context);
  RunCodeLens.register(context, manager);
  DsodTaskProvider.register(context);
  // If the extension host exits without awaiting deactivate(), kill what still runs (synchronous, last resort).
  const onExit = () => manager.killAll();
  process.once('exit', onExit);
  context.subscriptions.push({ dispose: () => process.off('exit', onExit) });
  return { manager, shutdown: () => manager.shutdown() };
}
