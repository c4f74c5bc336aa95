/// <reference lib="dom" />
// The page's link to the extension host: VS Code's webview API (acquirable once), typed by the shared protocol, and
// the state VS Code keeps for a hidden or restored panel.
import type { WebviewMessage } from '../../protocol/webview';
import { requireVsCodeApi } from '../vscode-api';
import type { Metric } from './labels';
import type { Transform } from './viewport';

const api = requireVsCodeApi<WebviewMessage>();

export function post(message: WebviewMessage): void {
  api.postMessage(message);
}

export interface SavedState {
  metric: Metric;
  /** Expanded dense blocks (`block1`, ...). */
  expanded: string[];
  /** Zoom and pan per document URI. */
  views: Record<string, Transform>;
}

const isTransform = (t: unknown): t is Transform =>
  typeof t === 'object' && t !== null && ['x', 'y', 'k'].every((k) => Number.isFinite((t as Record<string, unknown>)[k]));

/**
 * The saved state, or defaults for whatever is missing or malformed (it may come from an older version). Expanded
 * blocks are kept as ids, not parsed: the view keeps those that are blocks of the graph it draws.
 */
export function loadState(): SavedState {
  const raw = api.getState() as Partial<SavedState> | undefined;
  const views: Record<string, Transform> = {};
  if (raw && typeof raw.views === 'object' && raw.views) for (const [uri, t] of Object.entries(raw.views)) if (isTransform(t)) views[uri] = t;
  return {
    metric: raw?.metric === 'params' ? 'params' : 'macs',
    expanded: Array.isArray(raw?.expanded) ? raw.expanded.filter((x): x is string => typeof x === 'string' && x.length <= 256).slice(0, 1024) : [],
    views,
  };
}

export function saveState(state: SavedState): void {
  api.setState(state);
}
