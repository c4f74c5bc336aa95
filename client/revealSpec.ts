// Select a spec's text in its editor: what a click on a graph node or a report row does.
import * as vscode from 'vscode';
import type { Range } from '../core';

/** Select `r` in the editor of `uri` (the visible one, else opened in the first column) and bring it into view. */
export async function revealSpecRange(uri: string, r: Range): Promise<void> {
  const range = new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri);
  const doc = visible?.document ?? (await vscode.workspace.openTextDocument(vscode.Uri.parse(uri)));
  const editor = await vscode.window.showTextDocument(doc, {
    viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
    selection: range,
    preserveFocus: false,
  });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
