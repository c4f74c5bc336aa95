// The outline (document symbols) and folding of a spec: sections, stages, blocks and scales.
import { SymbolKind, type DocumentSymbol, type FoldingRange } from 'vscode-languageserver-types';
import { findStage, type Path, type SpecCheck, type StageKind } from '../../core';
import { formatBoxes, formatMacs, formatParams, formatShape as shape } from '../../core/format';

export function documentSymbols(check: SpecCheck): DocumentSymbol[] {
  const doc = check.document;
  const data = doc.value;
  if (!data || typeof data !== 'object' || Array.isArray(data)) return [];
  const a = check.analysis;
  const detail = (kind: StageKind, index: number | null = null) => {
    const s = a && findStage(a.stages, kind, index);
    return s ? `${shape(s.shape)} · ${formatParams(s.paramsLearned)} · ${formatMacs(s.macs)}` : undefined;
  };
  const symbol = (name: string, path: Path, kind: SymbolKind, info?: string, children?: DocumentSymbol[]): DocumentSymbol => {
    const range = doc.rangeOf(path);
    const keyRange = typeof path[path.length - 1] === 'string' ? doc.rangeOf(path, 'key') : range;
    const full = { start: keyRange.start, end: range.end };
    return { name, detail: info, kind, range: full, selectionRange: keyRange, children };
  };
  const out: DocumentSymbol[] = [];
  for (const [key, value] of Object.entries(data as Record<string, any>)) {
    const children: DocumentSymbol[] = [];
    let info: string | undefined;
    if (key === 'backbone' && value && typeof value === 'object') {
      if (value.stem !== undefined) children.push(symbol('stem', ['backbone', 'stem'], SymbolKind.Module, detail('stem')));
      (Array.isArray(value.blocks) ? value.blocks : []).forEach((blk: unknown, i: number) =>
        children.push(
          symbol(
            `block ${i + 1}`,
            ['backbone', 'blocks', i],
            SymbolKind.Class,
            detail('block', i + 1) ?? `${typeof blk === 'number' ? blk : (blk as any)?.layers} layers`,
          ),
        ),
      );
      (Array.isArray(value.transitions) ? value.transitions : []).forEach((_: unknown, i: number) =>
        children.push(symbol(`transition ${i + 1}`, ['backbone', 'transitions', i], SymbolKind.Function, detail('transition', i + 1))),
      );
      const backbone = a?.stages.filter((s) => ['stem', 'block', 'transition'].includes(s.kind));
      info = backbone ? formatParams(backbone.reduce((n, s) => n + s.paramsLearned, 0)) : undefined;
    } else if (key === 'prediction' && value && typeof value === 'object' && Array.isArray(value.channels)) {
      value.channels.forEach((_: unknown, i: number) => {
        const sc = a?.scales[i];
        children.push(
          symbol(`scale ${i + 1}`, ['prediction', 'channels', i], SymbolKind.Array, sc ? `${shape(sc.shape)} · ${formatBoxes(sc.boxes)}` : undefined),
        );
      });
      info = a ? `${a.scales.length} scales, ${formatBoxes(a.totals.defaultBoxes)}` : undefined;
    } else if (key === 'name' || key === 'dsod') {
      info = String(value);
    }
    out.push(
      symbol(key, [key], key === 'backbone' || key === 'prediction' ? SymbolKind.Namespace : SymbolKind.Property, info, children.length ? children : undefined),
    );
  }
  return out;
}

export function foldingRanges(check: SpecCheck): FoldingRange[] {
  const out: FoldingRange[] = [];
  for (const c of check.document.collections()) {
    if (c.path.length === 0) continue; // the whole document
    // A block collection's range runs to the start of the next line; fold up to its last line with content.
    const end = c.range.end.character === 0 ? c.range.end.line - 1 : c.range.end.line;
    const start = c.path.length > 0 && typeof c.path[c.path.length - 1] === 'string' ? check.document.rangeOf(c.path, 'key').start.line : c.range.start.line;
    if (end > start) out.push({ startLine: start, endLine: end });
  }
  return out;
}
