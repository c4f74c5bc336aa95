// The status bar item: the active spec's totals (params, GMACs, boxes), errors, and the budget verdict.
import * as vscode from 'vscode';
import { formatBoxes, formatCount, formatExact, formatFlops, formatMacs } from '../core/format';
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
      this.item.text = `$(circuit-board) ${formatCount(s.paramsLearned)} params · ${formatMacs(s.macs)} · ${formatBoxes(s.defaultBoxes)}${budget}`;
      this.item.tooltip = new vscode.MarkdownString(
        `**${s.name}**\n\n- learned parameters: ${formatExact(s.paramsLearned)}\n- stored values: ${formatExact(s.paramsStored)}\n- MACs: ${formatExact(s.macs)} (${formatFlops(s.macs)}; FLOPs = 2 × MACs)\n- default boxes: ${formatExact(s.defaultBoxes)}\n\nClick for the architecture graph.`,
      );
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
