/// <reference lib="dom" />
// The page's link to whoever hosts it: VS Code's webview API (acquirable once) inside the editor, nothing in
// report.html (an offline file has no one to talk to: the buttons that would ask the host are not drawn).
import type { DashboardWebviewMessage } from '../../protocol/dashboard';
import { vscodeApi } from '../vscode-api';
import type { SortDir, SortKey } from './rows';

export interface Host {
  /** The page can ask the host to act (resume, evaluate, open another run). */
  readonly interactive: boolean;
  post(message: DashboardWebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

export function connectHost(): Host {
  const api = vscodeApi<DashboardWebviewMessage>();
  if (api) {
    return { interactive: true, post: (m) => api.postMessage(m), getState: () => api.getState(), setState: (s) => api.setState(s) };
  }
  let state: unknown;
  return {
    interactive: false,
    post: () => undefined,
    getState: () => state,
    setState: (s) => {
      state = s;
    },
  };
}

/** What the page keeps across a hide, a reload or a restart of VS Code (the serializer reads runDir). */
export interface SavedState {
  runDir: string | null;
  /** Smoothing weight of the loss curves, 0 (off) to 0.99. */
  smoothing: number;
  sortKey: SortKey;
  sortDir: SortDir;
  /** Score threshold of the gallery, null until a gallery sets it. */
  threshold: number | null;
  truth: boolean;
  /** Runs overlaid on the charts. */
  overlays: string[];
  /** Which COCO precision row the PR curves show. */
  cocoIou: 'mean' | '50' | '75';
}

const SORT_KEYS: SortKey[] = ['name', 'ap', 'delta', 'positives'];

export function loadState(raw: unknown): SavedState {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof SavedState, unknown>>;
  const n = (v: unknown, lo: number, hi: number, d: number) => (typeof v === 'number' && v >= lo && v <= hi ? v : d);
  return {
    runDir: typeof r.runDir === 'string' ? r.runDir : null,
    smoothing: n(r.smoothing, 0, 0.99, 0.6),
    sortKey: SORT_KEYS.includes(r.sortKey as SortKey) ? (r.sortKey as SortKey) : 'ap',
    sortDir: r.sortDir === 'asc' ? 'asc' : 'desc',
    threshold: typeof r.threshold === 'number' && r.threshold >= 0 && r.threshold <= 1 ? r.threshold : null,
    truth: r.truth !== false,
    overlays: Array.isArray(r.overlays) ? r.overlays.filter((x): x is string => typeof x === 'string').slice(0, 8) : [],
    cocoIou: r.cocoIou === '50' || r.cocoIou === '75' ? r.cocoIou : 'mean',
  };
}
