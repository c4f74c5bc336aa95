// The language server's custom messages, shared by server/ and client/ (one definition, both sides typed).
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { Path, Range, Severity } from '../core/diagnostics';

export const PROTOCOL_VERSION = 1;

export interface TextDocumentParams {
  uri: string;
}

/** A network's totals, as the status bar shows them. */
export interface SpecTotals {
  name: string;
  paramsLearned: number;
  paramsStored: number;
  macs: number;
  flops: number;
  defaultBoxes: number;
}

/** The totals a status bar or a header shows. */
export interface SpecSummary {
  uri: string;
  version: number;
  name: string;
  paramsLearned: number;
  paramsStored: number;
  macs: number;
  flops: number;
  defaultBoxes: number;
  errors: number;
  warnings: number;
  /** `null` when the spec has no budget. */
  withinBudget: boolean | null;
  /**
   * Where the totals above come from: the spec as written ('full'), the spec with its schema errors set aside
   * ('partial': unknown keys, sections that shape no number), or nowhere ('none': they are 0).
   */
  analysis: 'full' | 'partial' | 'none';
  /** With `analysis: 'none'`: the document's last valid totals (stale), when it had some since it was opened. */
  lastValid: SpecTotals | null;
}

export interface GraphNode {
  id: number;
  name: string;
  kind: string;
  stage: string;
  stageKind: string;
  group: string | null;
  inputs: number[];
  shape: [number, number, number];
  paramsLearned: number;
  paramsStored: number;
  macs: number;
  receptiveField: number;
  /** The spec text that made this node. */
  source: { path: Path; range: Range };
}

export interface GraphScale {
  index: number;
  feature: number;
  loc: number;
  conf: number;
  priorsPerLocation: number;
  boxes: number;
}

/** The analysed network of a document, for the graph view. `graph` is null while the spec cannot be built. */
export interface GraphResult {
  protocol: number;
  uri: string;
  version: number;
  summary: SpecSummary;
  graph: { nodes: GraphNode[]; scales: GraphScale[] } | null;
  diagnostics: { severity: Severity; message: string; range: Range }[];
}

/** The analysed graph of an open document. */
export const GraphRequest = new RequestType<TextDocumentParams, GraphResult | null, void>('dsod/graph');

/** The text report of `dsod analyze` for an open document. */
export const ReportRequest = new RequestType<TextDocumentParams, string | null, void>('dsod/report');

/** Sent after every analysis, so that the client can show the totals of the active document. */
export const AnalyzedNotification = new NotificationType<SpecSummary>('dsod/analyzed');
