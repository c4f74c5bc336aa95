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
  /** While the document is compared with another side ("DSOD: Compare with..."): how each node changed. */
  compare: GraphCompare | null;
}

/** What became of a layer against the other side (core's LayerChange). */
export type LayerChange = 'added' | 'changed' | 'same';

/** The graph's colouring by change: per node of this document's graph, matched by structure (core's diffLayers). */
export interface GraphCompare {
  /** The other side, for people: "HEAD", "HEAD~2", "other.dsod.yaml". */
  label: string;
  /** Why the other side cannot be compared (its first error, with its line); then `layers` is empty. */
  error: string | null;
  /** By node id: added, changed or the same. */
  layers: LayerChange[];
  /** By this graph's scales, in order: the scale's boxes added (a new scale), changed in number, or the same. */
  boxes: LayerChange[];
  /** The stages only the other side has (not drawn: this graph has no place for them). */
  removedStages: string[];
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
  /** The shortest and longest side of the scale's default boxes, px (core's ScaleStats.boxSides): beside the RF. */
  boxSides: { min: number; max: number };
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
  /** While the document is compared with another side ("DSOD: Compare with..."): the change, per stage, scale and in total. */
  compare: ReportCompare | null;
  /** The latest measured latency (`dsod latency`), one line with who measured it and when; null when not measured. */
  latency: string | null;
}

/** Learned parameters, MACs and float32 activation bytes of one image (core's StageCost), and the boxes of a scale. */
export interface Cost {
  paramsLearned: number;
  macs: number;
  activationBytes: number;
  boxes: number;
}

/** A stage against the other side, matched by kind and number (core's StageDiff). */
export interface CompareStage {
  name: string;
  kind: StageKind;
  change: 'matched' | 'added' | 'removed';
  /** This side minus the other, a missing side counting 0; `boxes` is 0 for a stage. */
  delta: Cost;
}

/** A prediction scale against the other side (core's ScaleDiff). */
export interface CompareScale {
  index: number;
  change: 'matched' | 'added' | 'removed';
  delta: Cost;
}

/** The report's comparison: "this spec" (B) against the other side (A): b − a. */
export interface ReportCompare {
  /** The other side, for people: "HEAD", "HEAD~2", "other.dsod.yaml". */
  label: string;
  /** The other side's spec name ('' when it cannot be analysed). */
  name: string;
  /** Why the other side cannot be compared (its first error, with its line); then the rest is empty. */
  error: string | null;
  stages: CompareStage[];
  scales: CompareScale[];
  totals: { a: Cost; b: Cost; delta: Cost } | null;
  /** The same stages, each costing the same. */
  unchanged: boolean;
}

/** The analysis report of an open document; null while the spec has errors (or the document is not open). */
export const ReportRequest = new RequestType<TextDocumentParams, ReportData | null, void>('dsod/report');

/**
 * Which comparison another side serves: `head`, the file as committed in HEAD, for the code lens ("+1.2M params vs
 * HEAD"; the client reads it with git as files are opened and saved); `compare`, the side "DSOD: Compare with..." chose,
 * shown in the report and the graph. The server keeps one of each per open document and never reads files itself.
 */
export type BaselineRole = 'head' | 'compare';

export interface BaselineParams {
  uri: string;
  role: BaselineRole;
  /** The other side, for people: "HEAD", "HEAD~2", "other.dsod.yaml". */
  label: string;
  /** The other side's text; null ends that comparison (the file is not in git, the user stopped comparing). */
  text: string | null;
  /** The other side's file name: its format (YAML or JSON) follows its extension. */
  fileName: string;
}

/** The client sets (or clears) a document's other side; the document's lenses, report and graph follow. */
export const BaselineNotification = new NotificationType<BaselineParams>('dsod/baseline');

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
