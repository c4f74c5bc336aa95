// The report page's HTML with its Content-Security-Policy (webview/page-html.ts): nothing but the one bundle and its
// styles, by nonce; no images, no remote host. No `vscode` import: the Chromium tests load the very same page.
import { makeNonce, pageHtml, scriptTag } from '../page-html';

export { makeNonce };

export interface ReportHtmlOptions {
  /** The bundle's URI as the webview may load it (webview.asWebviewUri(dist/webview/report.js)). */
  scriptUri: string;
  nonce: string;
}

export function reportHtml(o: ReportHtmlOptions): string {
  // The page draws no image: data: is the narrower of the two sources the shared policy knows.
  return pageHtml({ title: 'DSOD Analysis Report', nonce: o.nonce, images: 'data:', body: scriptTag(o.nonce, o.scriptUri) });
}
