// The report page's HTML with its Content-Security-Policy (webview/page-html.ts): nothing but the one bundle and its
// styles, by nonce; no images, no remote host. No `vscode` import: the Chromium tests load the very same page.
import { escapeAttr, makeNonce, strictCsp } from '../page-html';

export { makeNonce };

export interface ReportHtmlOptions {
  /** The bundle's URI as the webview may load it (webview.asWebviewUri(dist/webview/report.js)). */
  scriptUri: string;
  nonce: string;
}

export function reportHtml(o: ReportHtmlOptions): string {
  const nonce = escapeAttr(o.nonce);
  // The page draws no image: data: is the narrower of the two sources the shared policy knows.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(strictCsp(o.nonce, 'data:'))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>DSOD Analysis Report</title>
</head>
<body>
<script nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}
