// The messages between the extension host (client/reportView.ts) and the analysis report page (webview/report/), one
// discriminated union per direction, and a validator for each: both sides check every incoming message before use
// (a webview is a web page; its messages are untrusted input). Type-only imports but the checkers: the browser bundle
// uses this file.
import type { Position, Range } from '../core/diagnostics';
import type { CompareScale, CompareStage, Cost, ReportCompare, ReportData, ReportScale, ReportSource, ReportStage } from './lsp';
import {
  arrayOf,
  bool,
  count,
  finite,
  messageChecks,
  nonNegative,
  nullable,
  oneOf,
  shapeOf,
  str,
  tuple,
  validateMessage,
  type Check,
  type Validation,
} from './checks';

export const REPORT_PROTOCOL_VERSION = 1;

const MAX_ROWS = 10_000;
const MAX_TEXT = 4096;

/** Host -> page. */
export type ReportHostMessage =
  /** The report of the shown spec (after `ready` and after every debounced analysis). */
  | { type: 'report'; report: ReportData }
  /** The spec cannot be reported now (it has errors, the server is down); the page keeps its last tables. */
  | { type: 'status'; message: string };

/** Page -> host. */
export type ReportWebviewMessage =
  /** The handshake: the page is loaded and listening; the host answers with `report`. */
  | { type: 'ready'; protocol: number }
  /** A row was clicked (or Enter pressed on it): select the spec text that made it. */
  | { type: 'reveal'; uri: string; range: Range }
  /** A report was drawn (tests wait for it). */
  | { type: 'rendered'; uri: string; version: number; stages: number; scales: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

const text = str(MAX_TEXT);
const position = shapeOf<Position>()({ line: count, character: count });
const range = shapeOf<Range>()({ start: position, end: position });
const pathItem: Check = (v, at) =>
  typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ? null : `${at} must be a key or an index`;
const source = shapeOf<ReportSource>()({ path: arrayOf(pathItem, 64), range });
const shape3 = tuple(count, count, count);
const fraction: Check = (v, at) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : `${at} must be a number from 0 to 1`);

const stage = shapeOf<ReportStage>()({
  name: str(256),
  kind: oneOf('stem', 'block', 'transition', 'scale', 'head'),
  shape: shape3,
  head: nullable(shapeOf<NonNullable<ReportStage['head']>>()({ loc: shape3, conf: shape3 })),
  paramsLearned: count,
  paramsShare: fraction,
  macs: count,
  macsShare: fraction,
  receptiveField: count,
  source,
});

const scale = shapeOf<ReportScale>()({
  name: str(256),
  shape: shape3,
  priorsPerLocation: count,
  boxes: count,
  boxesShare: fraction,
  minSize: nonNegative,
  maxSize: nullable(nonNegative),
  aspectRatios: arrayOf(finite, 64),
  step: nonNegative,
  receptiveField: count,
  boxSides: shapeOf<ReportScale['boxSides']>()({ min: nonNegative, max: nonNegative }),
  loc: shape3,
  conf: shape3,
  source,
});

/** A change: any safe integer, negative where this side costs less. */
const integer: Check = (v, at) => (typeof v === 'number' && Number.isSafeInteger(v) ? null : `${at} must be an integer`);
const cost = (c: Check) => shapeOf<Cost>()({ paramsLearned: c, macs: c, activationBytes: c, boxes: c });
const stageChange = oneOf('matched', 'added', 'removed');

const compare = shapeOf<ReportCompare>()({
  label: text,
  name: text,
  error: nullable(text),
  stages: arrayOf(
    shapeOf<CompareStage>()({ name: str(256), kind: oneOf('stem', 'block', 'transition', 'scale', 'head'), change: stageChange, delta: cost(integer) }),
    MAX_ROWS,
  ),
  scales: arrayOf(shapeOf<CompareScale>()({ index: count, change: stageChange, delta: cost(integer) }), MAX_ROWS),
  totals: nullable(shapeOf<NonNullable<ReportCompare['totals']>>()({ a: cost(count), b: cost(count), delta: cost(integer) })),
  unchanged: bool,
});

const report = shapeOf<ReportData>()({
  protocol: count,
  uri: text,
  version: finite,
  file: text,
  partial: nullable(text),
  name: text,
  input: shapeOf<ReportData['input']>()({ channels: count, height: count, width: count }),
  classes: count,
  stages: arrayOf(stage, MAX_ROWS),
  scales: arrayOf(scale, MAX_ROWS),
  totals: shapeOf<ReportData['totals']>()({
    layers: count,
    convLayers: count,
    bnLayers: count,
    paramsLearned: count,
    paramsStored: count,
    bnStatistics: count,
    macs: count,
    flops: count,
    defaultBoxes: count,
    batch: count,
    activationBytes: count,
  }),
  compare: nullable(compare),
  latency: nullable(text),
});

const hostMessages = messageChecks<ReportHostMessage>({
  report: { report },
  status: { message: text },
});

const webviewMessages = messageChecks<ReportWebviewMessage>({
  ready: { protocol: count },
  reveal: { uri: text, range },
  rendered: { uri: text, version: finite, stages: count, scales: count },
  log: { level: oneOf('info', 'warn', 'error'), message: text },
});

/** Used by the page on everything the host posts. */
export function validateReportHostMessage(raw: unknown): Validation<ReportHostMessage> {
  return validateMessage<ReportHostMessage>(raw, hostMessages, 'host');
}

/** Used by the host on everything the page posts. */
export function validateReportWebviewMessage(raw: unknown): Validation<ReportWebviewMessage> {
  return validateMessage<ReportWebviewMessage>(raw, webviewMessages, 'report');
}

export type { ReportData, Validation };
