// The DSOD language service: plain functions over document text and positions, built on core/. It knows nothing of
// connections or editors (server/main.ts wires it to LSP), so tests call it directly.
import type {
  CodeAction,
  CodeLens,
  CompletionItem,
  Diagnostic as LspDiagnostic,
  DocumentSymbol,
  FoldingRange,
  Hover,
  InlayHint,
  Position,
  Range,
} from 'vscode-languageserver-types';
import { checkSpec, formatOf, type Analysis, type MeasuredLatency, type SpecCheck } from '../../core';
import type { BaselineParams, BaselineRole, GraphNode, GraphResult, ReportData, SpecSummary, SpecTotals } from '../../protocol/lsp';
import { PROTOCOL_VERSION } from '../../protocol/lsp';
import { codeActions } from './actions';
import { graphCompare, headLens, reportCompare, type Baseline } from './compare';
import { SEVERITY, toLspDiagnostic } from './diagnostic';
import { complete } from './completion';
import { hover } from './hover';
import { measuredLatency, type LatencyMeasurement } from '../../protocol/latency';
import { codeLenses, inlayHints, type HintSettings } from './inlay';
import { reportData } from './report';
import { documentSymbols, foldingRanges } from './symbols';

export interface ServiceSettings {
  inlayHints: HintSettings;
  /** Design-principle hints as information diagnostics. */
  designHints: boolean;
  codeLens: boolean;
}

export const DEFAULT_SETTINGS: ServiceSettings = {
  inlayHints: { enabled: true, params: 'learned' },
  designHints: true,
  codeLens: true,
};

export interface TextDocumentLike {
  uri: string;
  version: number;
  getText(): string;
}

export { SEVERITY, toLspDiagnostic };

/** What the language server asks of the service; server/main.ts wires each to its LSP request. */
export interface LanguageService {
  /** New settings; every cached analysis is dropped (hints and lenses depend on them). */
  configure(next: ServiceSettings): void;
  /** core's check of the document's current version (cached per version). */
  check(doc: TextDocumentLike): SpecCheck;
  /** The latest `dsod latency` measurement of a spec (null: none); its analyses are redone with it. */
  setLatency(uri: string, measurement: LatencyMeasurement | null): void;
  /** The document was closed: drop its analyses and its baselines. */
  forget(uri: string): void;
  /** `dsod/baseline`: the other side of a comparison (checked once here), or none. */
  setBaseline(p: BaselineParams): void;
  diagnostics(doc: TextDocumentLike): LspDiagnostic[];
  hover(doc: TextDocumentLike, position: Position): Hover | null;
  inlayHints(doc: TextDocumentLike, range: Range): InlayHint[];
  codeLenses(doc: TextDocumentLike): CodeLens[];
  completion(doc: TextDocumentLike, position: Position): CompletionItem[];
  codeActions(doc: TextDocumentLike, range: Range): CodeAction[];
  documentSymbols(doc: TextDocumentLike): DocumentSymbol[];
  foldingRanges(doc: TextDocumentLike): FoldingRange[];
  /** The totals a status bar shows (sent as `dsod/analyzed`). */
  summary(doc: TextDocumentLike): SpecSummary;
  /** `dsod/report`: null while the spec cannot be analysed. */
  report(doc: TextDocumentLike): ReportData | null;
  /** `dsod/graph`. */
  graph(doc: TextDocumentLike): GraphResult;
}

export function createLanguageService(initial: ServiceSettings = DEFAULT_SETTINGS): LanguageService {
  let settings = initial;
  // One analysis per open document version: hovers, hints and lenses of the same version share it.
  const cache = new Map<string, { version: number; check: SpecCheck }>();
  // Per document, the analysis of its last fully valid text: while the text has errors, the numbers it cannot give
  // are shown from this one, marked stale (one error must not wipe out every number in the editor).
  const lastValid = new Map<string, Analysis>();
  // Per document and role, the other side of a comparison, checked once when the client sends it.
  const baselines = new Map<string, Baseline>();
  const baseKey = (uri: string, role: BaselineRole) => `${role}\u0000${uri}`;
  // Per spec URI, its latest measured latency (handed in by the client: the service reads no files).
  const latencies = new Map<string, MeasuredLatency>();

  const check = (doc: TextDocumentLike): SpecCheck => {
    const hit = cache.get(doc.uri);
    if (hit && hit.version === doc.version) return hit.check;
    const result = checkSpec(doc.getText(), formatOf(doc.uri), { hints: settings.designHints, latency: latencies.get(doc.uri) ?? null });
    cache.set(doc.uri, { version: doc.version, check: result });
    if (result.analysisFrom === 'full') lastValid.set(doc.uri, result.analysis!);
    return result;
  };

  /** The last valid analysis to show for `doc`, once it is checked: only when the current text gives no totals. */
  const staleFor = (doc: TextDocumentLike, c: SpecCheck): Analysis | null => (c.analysis ? null : (lastValid.get(doc.uri) ?? null));

  const summary = (doc: TextDocumentLike): SpecSummary => {
    const c = check(doc);
    const t = c.analysis?.totals;
    const count = (s: string) => c.diagnostics.filter((d) => d.severity === s).length;
    return {
      uri: doc.uri,
      version: doc.version,
      name: c.spec?.name ?? '',
      paramsLearned: t?.paramsLearned ?? 0,
      paramsStored: t?.paramsStored ?? 0,
      macs: t?.macs ?? 0,
      flops: t?.flops ?? 0,
      defaultBoxes: t?.defaultBoxes ?? 0,
      errors: count('error'),
      warnings: count('warning'),
      withinBudget: c.spec?.budget ? !c.diagnostics.some((d) => d.code.startsWith('budget/')) : null,
      analysis: c.analysisFrom ?? 'none',
      lastValid: totalsOf(staleFor(doc, c)),
    };
  };

  return {
    configure(next: ServiceSettings) {
      settings = next;
      cache.clear();
    },
    check,
    setLatency(uri: string, measurement: LatencyMeasurement | null) {
      if (measurement) latencies.set(uri, measuredLatency(measurement));
      else latencies.delete(uri);
      cache.delete(uri);
    },
    forget(uri: string) {
      cache.delete(uri);
      lastValid.delete(uri);
      baselines.delete(baseKey(uri, 'head'));
      baselines.delete(baseKey(uri, 'compare'));
    },
    setBaseline(p: BaselineParams) {
      const key = baseKey(p.uri, p.role);
      if (p.text === null) baselines.delete(key);
      else baselines.set(key, { label: p.label, check: checkSpec(p.text, formatOf(p.fileName), { hints: false }) });
    },
    diagnostics: (doc: TextDocumentLike): LspDiagnostic[] => check(doc).diagnostics.map(toLspDiagnostic),
    hover: (doc: TextDocumentLike, position: Position): Hover | null => hover(check(doc), position, latencies.get(doc.uri) ?? null),
    inlayHints: (doc: TextDocumentLike, range: Range): InlayHint[] => {
      const c = check(doc);
      return inlayHints(c, range, settings.inlayHints, staleFor(doc, c));
    },
    codeLenses: (doc: TextDocumentLike): CodeLens[] => {
      const c = check(doc);
      if (!settings.codeLens) return [];
      const lenses = codeLenses(c, doc.uri, staleFor(doc, c));
      const head = baselines.get(baseKey(doc.uri, 'head'));
      const vsHead = head ? headLens(c, head, doc.uri) : null;
      return vsHead ? [...lenses, vsHead] : lenses;
    },
    completion: (doc: TextDocumentLike, position: Position): CompletionItem[] => complete(check(doc), position),
    codeActions: (doc: TextDocumentLike, range: Range): CodeAction[] => codeActions(check(doc), doc.uri, range, { hints: settings.designHints }),
    documentSymbols: (doc: TextDocumentLike): DocumentSymbol[] => documentSymbols(check(doc)),
    foldingRanges: (doc: TextDocumentLike): FoldingRange[] => foldingRanges(check(doc)),
    summary,
    report: (doc: TextDocumentLike): ReportData | null => {
      const c = check(doc);
      const r = reportData(c, doc.uri, doc.version, 1, latencies.get(doc.uri) ?? null);
      const base = baselines.get(baseKey(doc.uri, 'compare'));
      if (r && base && c.analysis) r.compare = reportCompare(c.analysis, base);
      return r;
    },
    graph: (doc: TextDocumentLike): GraphResult => {
      const c = check(doc);
      const a = c.analysis;
      const compareBase = baselines.get(baseKey(doc.uri, 'compare'));
      return {
        protocol: PROTOCOL_VERSION,
        uri: doc.uri,
        version: doc.version,
        summary: summary(doc),
        graph: a
          ? {
              nodes: a.graph.nodes.map((n) => {
                const l = a.layers[n.id];
                const node: GraphNode = {
                  id: n.id,
                  name: n.name,
                  kind: n.kind,
                  stage: n.stage,
                  stageKind: n.stageKind,
                  stageIndex: n.stageIndex,
                  group: n.group,
                  denseLayer: n.denseLayer,
                  headRole: n.headRole,
                  half: n.half,
                  inputs: n.inputs,
                  shape: n.shape,
                  paramsLearned: l.paramsLearned,
                  paramsStored: l.paramsStored,
                  macs: l.macs,
                  receptiveField: l.receptiveField,
                  source: { path: n.source, range: c.document.rangeOf(n.source) },
                };
                if (n.conv) node.conv = n.conv;
                if (n.pool) node.pool = n.pool;
                return node;
              }),
              scales: a.graph.scales.map((s, i) => ({
                index: s.index,
                feature: s.feature,
                loc: s.loc,
                conf: s.conf,
                priorsPerLocation: s.priorsPerLocation,
                boxes: a.scales[i].boxes,
                receptiveField: a.scales[i].receptiveField,
                boxSides: a.scales[i].boxSides,
              })),
            }
          : null,
        diagnostics: c.diagnostics.map((d) => ({ severity: d.severity, message: d.message, range: d.range })),
        compare: a && compareBase ? graphCompare(a, compareBase) : null,
      };
    },
  };
}

function totalsOf(a: Analysis | null): SpecTotals | null {
  if (!a) return null;
  const t = a.totals;
  return { name: a.spec.name, paramsLearned: t.paramsLearned, paramsStored: t.paramsStored, macs: t.macs, flops: t.flops, defaultBoxes: t.defaultBoxes };
}
