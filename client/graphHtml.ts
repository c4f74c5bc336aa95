// The graph webview's HTML with its Content-Security-Policy. No `vscode` import: the Chromium tests load the very same
// page. Everything is denied but the one bundle (by nonce), its styles (by the same nonce) and blob: images (the PNG
// export draws the SVG through an <img>); no remote host is allowed anywhere.
import { escapeAttr, makeNonce, strictCsp } from '../webview/page-html';

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
  const nonce = escapeAttr(o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(graphCsp(o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>DSOD Architecture Graph</title>
</head>
<body data-layout-cache="${o.layoutCache ?? 'on'}">
<script nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}
