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
    this.item.text = statusText(s);
    const totals = s.analysis === 'none' ? s.lastValid : s;
    const problems = s.errors > 0 ? `The spec has ${errorCount(s.errors)}; see the Problems panel.\n\n` : '';
    if (!totals) {
      this.item.tooltip = problems.trim();
    } else {
      const from =
        s.analysis === 'none'
          ? ' (last valid: the current text gives no totals)'
          : s.analysis === 'partial'
            ? ' (partial: the parts with schema errors are left out)'
            : '';
      this.item.tooltip = new vscode.MarkdownString(
        `${problems}**${totals.name}**${from}\n\n- learned parameters: ${formatExact(totals.paramsLearned)}\n- stored values: ${formatExact(totals.paramsStored)}\n- MACs: ${formatExact(totals.macs)} (${formatFlops(totals.macs)}; FLOPs = 2 × MACs)\n- default boxes: ${formatExact(totals.defaultBoxes)}\n\nClick for the architecture graph.`,
      );
    }
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}

const errorCount = (n: number) => `${n} error${n === 1 ? '' : 's'}`;

/**
 * The item's text: the totals, with the error count before them when there are errors, and said to be partial or the
 * last valid ones when the current text does not give them all (errors never hide the numbers).
 */
export function statusText(s: SpecSummary): string {
  const totals = s.analysis === 'none' ? s.lastValid : s;
  const numbers = totals ? `${formatCount(totals.paramsLearned)} params · ${formatMacs(totals.macs)} · ${formatBoxes(totals.defaultBoxes)}` : '';
  const budget = s.analysis === 'none' || s.withinBudget === null ? '' : s.withinBudget ? ' $(check)' : ' $(warning) over budget';
  if (s.errors === 0) return `$(circuit-board) ${numbers}${budget}`;
  const from = s.analysis === 'none' ? 'last valid ' : s.analysis === 'partial' ? 'partial ' : '';
  return `$(error) DSOD: ${errorCount(s.errors)}${numbers ? ` · ${from}${numbers}` : ''}${budget}`;
}
