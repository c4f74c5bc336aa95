/// <reference lib="dom" />
// VS Code's webview API, shared by every page: acquirable only once per page, so acquired here and handed out.
export interface VsCodeApi<Out> {
  postMessage(message: Out): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare const acquireVsCodeApi: (() => VsCodeApi<unknown>) | undefined;

let api: VsCodeApi<unknown> | null | undefined;

/** The API, typed by what the page sends; null outside VS Code (report.html, an offline file, has no host). */
export function vscodeApi<Out>(): VsCodeApi<Out> | null {
  if (api === undefined) api = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
  return api as VsCodeApi<Out> | null;
}

/** The API of a page that only runs inside VS Code (the graph, the report view). */
export function requireVsCodeApi<Out>(): VsCodeApi<Out> {
  const a = vscodeApi<Out>();
  if (!a) throw new Error('this page runs inside a VS Code webview');
  return a;
}
