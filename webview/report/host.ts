/// <reference lib="dom" />
// The page's link to the extension host: VS Code's webview API (acquirable once), typed by the shared protocol, and
// the state VS Code keeps for a hidden panel (the sort of each table).
import type { ReportWebviewMessage } from '../../protocol/report';
import { requireVsCodeApi } from '../vscode-api';
import type { SortState } from './model';

const api = requireVsCodeApi<ReportWebviewMessage>();

export function post(message: ReportWebviewMessage): void {
  api.postMessage(message);
}

export interface SavedState {
  stages: SortState | null;
  scales: SortState | null;
}

const sortOf = (v: unknown): SortState | null => {
  const s = v as Partial<SortState> | null | undefined;
  return s && typeof s.key === 'string' && s.key.length < 32 && (s.dir === 'asc' || s.dir === 'desc') ? { key: s.key, dir: s.dir } : null;
};

/** The saved state, or none for whatever is missing or malformed (it may come from an older version). */
export function loadState(): SavedState {
  const raw = api.getState() as Partial<SavedState> | undefined;
  return { stages: sortOf(raw?.stages), scales: sortOf(raw?.scales) };
}

export function saveState(state: SavedState): void {
  api.setState(state);
}
