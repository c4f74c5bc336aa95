// Inlay hints beside each stage, block and scale line, and the totals lens at the top of the spec.
import type { CodeLens, InlayHint, Range } from 'vscode-languageserver-types';
import type { Path, SpecCheck } from '../../core';
import { exact, shape, short, shortMacs } from './format';

export interface HintSettings {
  enabled: boolean;
  /** Which parameter count hints show. */
  params: 'learned' | 'stored';
}

function valueAt(data: unknown, path: Path): unknown {
  let v: any = data;
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[s];
  }
  return v;
}

const before = (a: Range['start'], b: Range['start']) => a.line < b.line || (a.line === b.line && a.character <= b.character);

export function inlayHints(check: SpecCheck, visible: Range, settings: HintSettings): InlayHint[] {
  const a = check.analysis;
  if (!settings.enabled || !a) return [];
  const doc = check.document;
  const data = doc.value;
  const out: InlayHint[] = [];
  // VS Code truncates a line's hints at ~43 characters: items sharing a line (flow lists) get a compact label, the
  // full numbers stay in the tooltip.
  const put = (path: Path, label: string, compact: string, tooltip: string) => {
    if (valueAt(data, path) === undefined) return;
    const at = doc.rangeOf(path).end;
    if (!before(visible.start, at) || !before(at, visible.end)) return;
    const list = valueAt(data, path.slice(0, -1));
    const listRange = doc.rangeOf(path.slice(0, -1));
    const shared = Array.isArray(list) && list.length > 1 && listRange.start.line === listRange.end.line;
    out.push({ position: at, label: shared ? compact : label, paddingLeft: true, tooltip: `${label}\n${tooltip}` });
  };
  const count = (s: { paramsLearned: number; paramsStored: number }) => short(settings.params === 'stored' ? s.paramsStored : s.paramsLearned);
  for (const s of a.stages) {
    let path: Path | null = null;
    if (s.kind === 'stem') path = ['backbone', 'stem'];
    else if (s.kind === 'block') path = ['backbone', 'blocks', Number(s.name.slice(5)) - 1];
    else if (s.kind === 'transition') path = ['backbone', 'transitions', Number(s.name.slice(10)) - 1];
    if (path) put(path, `${shape(s.shape)} · ${count(s)} · ${shortMacs(s.macs)}`, count(s), `${s.name}: ${exact(s.paramsLearned)} learned params, ${exact(s.paramsStored)} stored, ${exact(s.macs)} MACs`);
  }
  a.scales.forEach((sc, i) => {
    const structure = a.stages.find((s) => s.name === sc.name);
    const cost = structure ? ` · ${count(structure)} · ${shortMacs(structure.macs)}` : '';
    put(['prediction', 'channels', i], `${shape(sc.shape)}${cost} · ${exact(sc.boxes)} boxes`, `${sc.shape[1]}×${sc.shape[2]}`, `${sc.name}: ${sc.priorsPerLocation} priors per location`);
    const head = a.stages.find((s) => s.name === `head${i + 1}`);
    if (head) put(['priors', 'aspect_ratios', i], `${sc.priorsPerLocation} priors · ${exact(sc.boxes)} boxes · head ${count(head)}`, exact(sc.boxes), `${head.name}: ${exact(head.paramsLearned)} learned params, ${exact(head.macs)} MACs`);
  });
  return out.sort((x, y) => x.position.line - y.position.line || x.position.character - y.position.character);
}

/** The one-line verdict on the spec: totals, and the budget when there is one. */
export function totalsTitle(check: SpecCheck): string | null {
  const a = check.analysis;
  if (!a) return null;
  const t = a.totals;
  let title = `${a.spec.name}: ${short(t.paramsLearned)} params (${short(t.paramsStored)} stored) · ${(t.macs / 1e9).toFixed(2)} GMACs (${(t.flops / 1e9).toFixed(2)} GFLOPs) · ${exact(t.defaultBoxes)} boxes`;
  if (a.spec.budget) {
    const over = check.diagnostics.filter((d) => d.code.startsWith('budget/')).map((d) => d.code.slice(7));
    title += over.length ? ` · over budget (${over.join(', ')})` : ' · within budget';
  }
  return title;
}

export function codeLenses(check: SpecCheck, uri: string): CodeLens[] {
  const title = totalsTitle(check);
  if (!title) return [];
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return [{ range: top, command: { title, command: 'dsod.showReport', arguments: [uri] } }];
}
