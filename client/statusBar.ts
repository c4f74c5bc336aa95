// The status bar item: the active spec's totals (params, GMACs, boxes), errors, and the budget verdict.
import * as vscode from 'vscode';
import { formatCount } from '../core/format';
import type { SpecSummary } from '../protocol/lsp';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('dsod.totals', vscode.StatusBarAlignment.Right, 100);
  private readonly summaries = new Map<string, SpecSummary>();

  constructor() {
    this.item.name = 'DSOD totals';
    this.item.command = 'dsod.showGraph';
  }

  update(summary: SpecSummary): void {
    this.summaries.set(summary.uri, summary);
  }

  /** Show the totals of `uri` when it is a spec we analysed, hide the item otherwise. */
  show(uri: string | undefined): void {
    const s = uri ? this.summaries.get(uri) : undefined;
    if (!s) {
      this.item.hide();
      return;
    }
    if (s.errors > 0 && s.paramsLearned === 0) {
      this.item.text = `$(error) DSOD: ${s.errors} error${s.errors === 1 ? '' : 's'}`;
      this.item.tooltip = 'The spec has errors; see the Problems panel.';
    } else {
      const budget = s.withinBudget === null ? '' : s.withinBudget ? ' $(check)' : ' $(warning) over budget';
      this.item.text = `$(circuit-board) ${formatCount(s.paramsLearned)} params · ${(s.macs / 1e9).toFixed(2)} GMACs · ${s.defaultBoxes.toLocaleString('en-US')} boxes${budget}`;
      this.item.tooltip = new vscode.MarkdownString(
        `**${s.name}**\n\n- learned parameters: ${s.paramsLearned.toLocaleString('en-US')}\n- stored values: ${s.paramsStored.toLocaleString('en-US')}\n- MACs: ${s.macs.toLocaleString('en-US')} (FLOPs = 2 x MACs)\n- default boxes: ${s.defaultBoxes.toLocaleString('en-US')}\n\nClick for the architecture graph.`,
      );
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
