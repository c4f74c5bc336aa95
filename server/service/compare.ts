// A document against another side (its HEAD, another spec, a git revision): the data of the report's deltas, the
// graph's colouring by change, and the code lens "+1.2M params vs HEAD". The change itself is core's
// (diffAnalyses: stages by kind and number; diffLayers: layers by their typed place); the other side's text comes from
// the client (`dsod/baseline`): the server reads no files and spawns nothing.
import type { CodeLens } from 'vscode-languageserver-types';
import { diffAnalyses, diffLayers, formatMacs, formatSigned, isUnchanged, type Analysis, type ScaleCost, type SpecCheck, type StageCost } from '../../core';
import type { Cost, GraphCompare, ReportCompare } from '../../protocol/lsp';

/** The other side of a comparison, checked once when the client sends it. */
export interface Baseline {
  label: string;
  check: SpecCheck;
}

const cost = (c: StageCost | ScaleCost): Cost => ({
  paramsLearned: c.paramsLearned,
  macs: c.macs,
  activationBytes: c.activationBytes,
  boxes: 'boxes' in c ? c.boxes : 0,
});

/** Why the other side cannot be compared: its first error with its line, or that it does not analyse. */
export function baselineError(base: Baseline): string | null {
  if (base.check.analysisFrom === 'full') return null;
  const e = base.check.diagnostics.find((d) => d.severity === 'error');
  return e ? `${base.label} has errors: line ${e.range.start.line + 1}: ${e.message}` : `${base.label} cannot be analysed`;
}

/** The report's comparison of `current` (this side, B) with `base` (A); null while this side cannot be analysed. */
export function reportCompare(current: Analysis, base: Baseline): ReportCompare {
  const error = baselineError(base);
  const name = base.check.analysis?.spec.name ?? '';
  if (error || !base.check.analysis) return { label: base.label, name, error, stages: [], scales: [], totals: null, unchanged: false };
  const d = diffAnalyses(base.check.analysis, current);
  return {
    label: base.label,
    name,
    error: null,
    stages: d.stages.filter((s) => s.kind !== 'input').map((s) => ({ name: s.name, kind: s.kind, change: s.change, delta: cost(s.delta) })),
    scales: d.scales.map((s) => ({ index: s.index, change: s.change, delta: cost(s.delta) })),
    totals: { a: cost(d.totals.a), b: cost(d.totals.b), delta: cost(d.totals.delta) },
    unchanged: isUnchanged(d),
  };
}

/** The graph's colouring: each of this side's layers added, changed or the same; the stages only the other side has. */
export function graphCompare(current: Analysis, base: Baseline): GraphCompare {
  const error = baselineError(base);
  if (error || !base.check.analysis) return { label: base.label, error, layers: [], boxes: [], removedStages: [] };
  const d = diffAnalyses(base.check.analysis, current);
  const scales = new Map(d.scales.map((s) => [s.index, s]));
  return {
    label: base.label,
    error: null,
    layers: diffLayers(base.check.analysis, current).layers,
    boxes: current.scales.map((s) => {
      const sd = scales.get(s.index);
      return !sd || sd.change === 'added' ? 'added' : sd.delta.boxes !== 0 ? 'changed' : 'same';
    }),
    removedStages: d.removed.map((s) => s.name),
  };
}

/**
 * The lens's text against HEAD: "+1.2M params vs HEAD", and the MACs where they changed too; null when either side
 * does not analyse fully or the two cost the same everywhere.
 */
export function headLensTitle(current: SpecCheck, head: Baseline): string | null {
  if (current.analysisFrom !== 'full' || head.check.analysisFrom !== 'full') return null;
  const d = diffAnalyses(head.check.analysis!, current.analysis!);
  if (isUnchanged(d)) return null;
  const t = d.totals.delta;
  const macs = t.macs !== 0 ? ` · ${formatSigned(t.macs, formatMacs)}` : '';
  return `${formatSigned(t.paramsLearned)} params${macs} vs ${head.label}`;
}

/** The code lens beside the totals: what the edits since HEAD cost; a click compares with HEAD. */
export function headLens(current: SpecCheck, head: Baseline, uri: string): CodeLens | null {
  const title = headLensTitle(current, head);
  if (!title) return null;
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return {
    range: top,
    command: { title, command: 'dsod.compareWithHead', arguments: [uri], tooltip: `Compare with ${head.label}: the change per stage and scale` },
  };
}
