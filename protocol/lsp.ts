// The language server's custom messages, shared by server/ and client/ (one definition, both sides typed).
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { Path, Range, Severity } from '../core/diagnostics';
import type { LayerNode, LayerPlace, StageKind } from '../core/graph/types';
import type { LatencyMeasurement } from './latency';

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
export interface SpecSummary extends SpecTotals {
  uri: string;
  version: number;
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

/** A layer of core's graph with its numbers. Its place (stage, dense layer, head role, scale half) is typed data: read
 * it from these fields, never from `name`, which is for people. */
export interface GraphNode extends Omit<LayerPlace, 'source'>, Pick<LayerNode, 'id' | 'name' | 'kind' | 'inputs' | 'shape' | 'conv' | 'pool'> {
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
  /** The receptive field of the scale's feature map, px (core's ScaleStats.receptiveField). */
  receptiveField: number;
  /** The shortest and longest side of the scale's default boxes, px (core's ScaleStats.boxSides). */
  boxSides: { min: number; max: number };
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

/** The spec text that made a report row: its path in the spec and where that is in the document. */
export interface ReportSource {
  path: Path;
  range: Range;
}

/** A row of the report's stage table (the input is left out). Exact numbers; shares are fractions of the totals. */
export interface ReportStage {
  name: string;
  kind: StageKind;
  /** Output of the stage's last layer. */
  shape: [number, number, number];
  /** A head's two outputs (box offsets and class scores); null for every other stage. */
  head: { loc: [number, number, number]; conf: [number, number, number] } | null;
  paramsLearned: number;
  /** paramsLearned / total learned parameters (0 when the total is 0). */
  paramsShare: number;
  macs: number;
  macsShare: number;
  receptiveField: number;
  source: ReportSource;
}

/** A row of the report's scale table. */
export interface ReportScale {
  name: string;
  /** The feature map the scale's boxes tile. */
  shape: [number, number, number];
  priorsPerLocation: number;
  boxes: number;
  boxesShare: number;
  minSize: number;
  maxSize: number | null;
  aspectRatios: number[];
  step: number;
  receptiveField: number;
  /** The head's outputs for this scale. */
  loc: [number, number, number];
  conf: [number, number, number];
  source: ReportSource;
}

/** What `dsod analyze` reports, as data for the report view: the stage and scale tables and the summary's totals. */
export interface ReportData {
  /** PROTOCOL_VERSION of the server that made it. */
  protocol: number;
  uri: string;
  version: number;
  /** The spec's file name. */
  file: string;
  /** Set when schema errors were set aside to analyse the rest: what was ignored ("ignoring backbone.growth_rat"). */
  partial: string | null;
  name: string;
  input: { channels: number; height: number; width: number };
  /** Classes including the background. */
  classes: number;
  stages: ReportStage[];
  scales: ReportScale[];
  totals: {
    /** Layers without the input. */
    layers: number;
    convLayers: number;
    bnLayers: number;
    paramsLearned: number;
    paramsStored: number;
    bnStatistics: number;
    macs: number;
    flops: number;
    defaultBoxes: number;
    /** Batch of the activation figure (1, as `dsod analyze` prints by default). */
    batch: number;
    activationBytes: number;
  };
  /** The latest measured latency (`dsod latency`), one line with who measured it and when; null when not measured. */
  latency: string | null;
}

/** The analysis report of an open document; null while the spec has errors (or the document is not open). */
export const ReportRequest = new RequestType<TextDocumentParams, ReportData | null, void>('dsod/report');

/** Sent after every analysis, so that the client can show the totals of the active document. */
export const AnalyzedNotification = new NotificationType<SpecSummary>('dsod/analyzed');

/**
 * Client -> server: the latest `dsod latency` measurement of a spec (protocol/latency.ts, read and validated by the
 * client, which watches the files; null when there is none or it was deleted). The server reads no files: it checks
 * budget.latency_ms against this and shows it in the totals hover.
 */
export interface LatencyParams {
  /** The spec's document URI. */
  uri: string;
  measurement: LatencyMeasurement | null;
}
export const LatencyNotification = new NotificationType<LatencyParams>('dsod/latency');
