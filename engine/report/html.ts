// The run dashboard's HTML and its Content-Security-Policy, for both places the page runs: a VS Code webview (the
// bundle loaded from dist/webview/dashboard.js by URI) and report.html (the bundle and the run's data inside the file).
// Everything is denied but the one script (by nonce), its styles (by the same nonce) and data: images (the gallery);
// no remote host anywhere, so the report works offline and can reach nothing. No vscode import: the tests load the
// very same page.
import { REPORT_DATA_ID, type DashboardHostMessage } from '../../protocol/dashboard';
import { escapeAttr, makeNonce, pageHtml, scriptTag, strictCsp } from '../../webview/page-html';

export const DASHBOARD_VIEW_TYPE = 'dsod.dashboard';
export { makeNonce, REPORT_DATA_ID };

export function dashboardCsp(nonce: string): string {
  return strictCsp(nonce, 'data:');
}

/** JSON inside <script type="application/json">: no `<` at all, so neither `</script>` nor `<!--` can end it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A script's text inside <script>: `</script` (in a string or a regular expression of the bundle) would end it early. */
export function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export interface DashboardHtmlOptions {
  nonce: string;
  title?: string;
  /** The bundle's URI as the webview may load it (webview.asWebviewUri(dist/webview/dashboard.js)). */
  scriptUri?: string;
  /** Or the bundle's text itself (report.html). */
  scriptText?: string;
  /** Host messages the page applies at start-up, as if the host had posted them (report.html). */
  data?: DashboardHostMessage[];
  /** 'on' only for the benchmark's peer: every chart rebuilt from scratch on every event. */
  rebuild?: 'on' | 'off';
  /** Markup right after the CSP (the CSP test puts hostile content there). */
  inject?: string;
}

export function dashboardHtml(o: DashboardHtmlOptions): string {
  const script =
    o.scriptText !== undefined ? `<script nonce="${escapeAttr(o.nonce)}">${inlineScript(o.scriptText)}</script>` : scriptTag(o.nonce, o.scriptUri ?? '');
  const data = o.data ? `<script type="application/json" id="${REPORT_DATA_ID}">${scriptJson(o.data)}</script>\n` : '';
  return pageHtml({
    title: o.title ?? 'DSOD Run',
    nonce: o.nonce,
    images: 'data:',
    afterPolicy: o.inject,
    bodyAttributes: { 'data-rebuild': o.rebuild ?? 'off', 'data-mode': o.data ? 'report' : 'vscode' },
    body: `${data}${script}`,
  });
}
