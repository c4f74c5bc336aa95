// The graph webview's HTML with its Content-Security-Policy. No `vscode` import: the Chromium tests load the very same
// page. Everything is denied but the one bundle (by nonce), its styles (by the same nonce) and blob: images (the PNG
// export draws the SVG through an <img>); no remote host is allowed anywhere.
import { makeNonce, pageHtml, scriptTag, strictCsp } from '../webview/page-html';

export { makeNonce };

export function graphCsp(nonce: string): string {
  return strictCsp(nonce, 'blob:');
}

export interface GraphHtmlOptions {
  /** The bundle's URI as the webview may load it (webview.asWebviewUri(dist/webview/graph.js)). */
  scriptUri: string;
  nonce: string;
  /** 'off' only for the benchmark's peer (a full relayout on every redraw). */
  layoutCache?: 'on' | 'off';
}

export function graphHtml(o: GraphHtmlOptions): string {
  return pageHtml({
    title: 'DSOD Architecture Graph',
    nonce: o.nonce,
    images: 'blob:',
    bodyAttributes: { 'data-layout-cache': o.layoutCache ?? 'on' },
    body: scriptTag(o.nonce, o.scriptUri),
  });
}
