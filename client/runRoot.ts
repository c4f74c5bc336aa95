// Where run folders live: the setting `dsod.runs.root` (absolute, or relative to the first workspace folder), by
// default `<workspace>/runs`. The run manager makes runs there and the dashboard lists past runs from it.
import * as path from 'node:path';
import * as vscode from 'vscode';

export const RUN_ROOT_SETTING = 'runs.root';

/** The run root, or undefined when the setting is relative and no folder is open. */
export function runRoot(): vscode.Uri | undefined {
  const configured = vscode.workspace.getConfiguration('dsod').get<string>(RUN_ROOT_SETTING, 'runs').trim() || 'runs';
  if (path.isAbsolute(configured)) return vscode.Uri.file(configured);
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? vscode.Uri.joinPath(folder.uri, configured) : undefined;
}
