// The messages between the extension host (client/graphPanel.ts) and the graph webview (webview/graph/), one
// discriminated union per direction, and a validator for each: both sides check every incoming message before use,
// because a webview is a web page and its messages are untrusted input. Type-only imports: the browser bundle must not
// pull in the LSP runtime.
import type { Position, Range, Severity } from '../core/diagnostics';
import { HEAD_ROLES, LAYER_KINDS, SCALE_HALVES, STAGE_KINDS } from '../core/graph/types';
import type { GraphCompare, GraphNode, GraphResult, GraphScale, SpecSummary, SpecTotals } from './lsp';
import {
  arrayOf,
  bool,
  count,
  finite,
  messageChecks,
  nullable,
  oneOf,
  optional,
  shapeOf,
  str as strOf,
  tuple,
  validateMessage,
  type Check,
  type Validation,
} from './checks';

export const WEBVIEW_PROTOCOL_VERSION = 1;

/** Large enough for a 4k PNG of a big graph, small enough to refuse junk. */
export const MAX_EXPORT_CHARS = 64 * 1024 * 1024;
const MAX_URI_CHARS = 4096;
const MAX_LOG_CHARS = 4096;
const MAX_NODES = 100_000;

/** Host -> webview. */
export type HostMessage =
  /** The analysed graph of the followed document (sent after `ready` and after every debounced analysis). */
  | { type: 'graph'; title: string; result: GraphResult }
  /** The followed document cannot be analysed (closed, server down); the view keeps its last graph. */
  | { type: 'status'; message: string };

export type ExportFormat = 'svg' | 'png';

/** Webview -> host. */
export type WebviewMessage =
  /** The handshake: the page is loaded and listening; the host answers with `graph`. */
  | { type: 'ready'; protocol: number }
  /** A node was clicked: reveal and select the spec text that made it. */
  | { type: 'reveal'; uri: string; range: Range }
  /** The current view as SVG text or as base64 PNG data, to be saved by the host. */
  | { type: 'export'; format: ExportFormat; name: string; data: string }
  /** A redraw finished (tests and the benchmark wait for it). */
  | { type: 'rendered'; uri: string; version: number; nodes: number; edges: number; layout: 'cached' | 'computed'; ms: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export type { Validation } from './checks';

// The small checkers are shared with the dashboard's protocol (protocol/checks.ts).
const str = (max = MAX_URI_CHARS): Check => strOf(max);

const position = shapeOf<Position>()({ line: count, character: count });
const range = shapeOf<Range>()({ start: position, end: position });
// Listed as a record so that a new severity in core cannot be left out here.
const SEVERITIES: Record<Severity, true> = { error: true, warning: true, information: true, hint: true };
const pathItem: Check = (v, at) =>
  typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ? null : `${at} must be a key or an index`;

const node: Check = shapeOf<GraphNode>()({
  id: count,
  name: str(),
  kind: oneOf(...LAYER_KINDS),
  stage: str(64),
  stageKind: oneOf(...STAGE_KINDS),
  stageIndex: nullable(count),
  group: nullable(str()),
  denseLayer: nullable(count),
  headRole: nullable(oneOf(...HEAD_ROLES)),
  half: nullable(oneOf(...SCALE_HALVES)),
  conv: optional(shapeOf<NonNullable<GraphNode['conv']>>()({ out: count, kernel: count, stride: count, pad: count })),
  pool: optional(shapeOf<NonNullable<GraphNode['pool']>>()({ kernel: count, stride: count, pad: count })),
  inputs: arrayOf(count, 1024),
  shape: tuple(count, count, count),
  paramsLearned: count,
  paramsStored: count,
  macs: count,
  receptiveField: count,
  source: shapeOf<GraphNode['source']>()({ path: arrayOf(pathItem, 64), range }),
});

const scale: Check = shapeOf<GraphScale>()({
  index: count,
  feature: count,
  loc: count,
  conf: count,
  priorsPerLocation: count,
  boxes: count,
  receptiveField: count,
  boxSides: shapeOf<GraphScale['boxSides']>()({ min: finite, max: finite }),
});

const totals: Check = shapeOf<SpecTotals>()({ name: str(), paramsLearned: count, paramsStored: count, macs: count, flops: count, defaultBoxes: count });

const summary: Check = shapeOf<SpecSummary>()({
  uri: str(),
  version: finite,
  name: str(),
  paramsLearned: count,
  paramsStored: count,
  macs: count,
  flops: count,
  defaultBoxes: count,
  errors: count,
  warnings: count,
  withinBudget: nullable(bool),
  analysis: oneOf('full', 'partial', 'none'),
  lastValid: nullable(totals),
});

/** Node ids must index the node list and inputs must point backwards: the drawing code relies on both. */
const graph: Check = (v, at) => {
  const e = shapeOf<NonNullable<GraphResult['graph']>>()({ nodes: arrayOf(node, MAX_NODES), scales: arrayOf(scale, 64) })(v, at);
  if (e) return e;
  const g = v as { nodes: GraphNode[]; scales: GraphScale[] };
  for (let i = 0; i < g.nodes.length; i++) {
    const n = g.nodes[i];
    if (n.id !== i) return `${at}.nodes[${i}].id must be ${i}`;
    if (n.inputs.some((x) => x >= i)) return `${at}.nodes[${i}].inputs must name earlier nodes`;
  }
  for (let i = 0; i < g.scales.length; i++) {
    const s = g.scales[i];
    if ([s.feature, s.loc, s.conf].some((x) => x >= g.nodes.length)) return `${at}.scales[${i}] names a node that does not exist`;
  }
  return null;
};

const graphResultShape: Check = shapeOf<GraphResult>()({
  protocol: count,
  uri: str(),
  version: finite,
  summary,
  graph: nullable(graph),
  diagnostics: arrayOf(
    shapeOf<GraphResult['diagnostics'][number]>()({ severity: oneOf(...Object.keys(SEVERITIES)), message: str(MAX_LOG_CHARS), range }),
    10_000,
  ),
  compare: nullable(
    shapeOf<GraphCompare>()({
      label: str(),
      error: nullable(str(MAX_LOG_CHARS)),
      layers: arrayOf(oneOf('added', 'changed', 'same'), MAX_NODES),
      boxes: arrayOf(oneOf('added', 'changed', 'same'), 64),
      removedStages: arrayOf(str(64), 1024),
    }),
  ),
});

/** A comparison's changes name every node of the graph they colour, and each scale's boxes: no more, no fewer. */
const graphResult: Check = (v, at) => {
  const e = graphResultShape(v, at);
  if (e) return e;
  const r = v as GraphResult;
  if (!r.compare || r.compare.error !== null || !r.graph) return null;
  if (r.compare.layers.length !== r.graph.nodes.length) return `${at}.compare.layers must have one change per node (${r.graph.nodes.length})`;
  if (r.compare.boxes.length !== r.graph.scales.length) return `${at}.compare.boxes must have one change per scale (${r.graph.scales.length})`;
  return null;
};

const hostMessages = messageChecks<HostMessage>({
  graph: { title: str(), result: graphResult },
  status: { message: str(MAX_LOG_CHARS) },
});

const base64: Check = (v, at) => (typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v) ? null : `${at} must be base64`);

const webviewMessages = messageChecks<WebviewMessage>(
  {
    ready: { protocol: count },
    reveal: { uri: str(), range },
    export: { format: oneOf('svg', 'png'), name: str(255), data: str(MAX_EXPORT_CHARS) },
    rendered: { uri: str(), version: finite, nodes: count, edges: count, layout: oneOf('cached', 'computed'), ms: finite },
    log: { level: oneOf('info', 'warn', 'error'), message: str(MAX_LOG_CHARS) },
  },
  {
    export: (v, at) => {
      const m = v as { format: ExportFormat; name: string; data: string };
      if (!/^[\w.-]+$/.test(m.name)) return `${at}.name must be a plain file name`;
      if (m.format === 'png') return base64(m.data, `${at}.data`);
      return m.data.trimStart().startsWith('<svg') ? null : `${at}.data must be an SVG document`;
    },
  },
);

/** Used by the webview on everything the host posts. */
export function validateHostMessage(raw: unknown): Validation<HostMessage> {
  return validateMessage<HostMessage>(raw, hostMessages, 'host');
}

/** Used by the host on everything the webview posts. */
export function validateWebviewMessage(raw: unknown): Validation<WebviewMessage> {
  return validateMessage<WebviewMessage>(raw, webviewMessages, 'webview');
}

export type { GraphResult, SpecSummary };
