/// <reference lib="dom" />
// The report page's CSS, theme-aware through VS Code's --vscode-* variables (light, dark, high contrast), added as one
// nonce'd <style>: the CSP needs no 'unsafe-inline'. The tables scroll inside their own box (at most 85% of the pane
// high, so its sideways scrollbar is in sight), so a narrow pane never cuts a column off and the page itself never
// scrolls sideways; the header row and the first column stay in view while they do.
const CSS = `
html, body { margin: 0; padding: 0; }
body { font-family: var(--vscode-font-family, system-ui, sans-serif); font-size: var(--vscode-font-size, 13px);
  color: var(--vscode-foreground, #cccccc); background: var(--vscode-editor-background, #1f1f1f); padding: 10px 14px 24px;
  overflow-x: hidden; }
h1 { font-size: 1.25em; font-weight: 600; margin: 0 0 2px; }
h2 { font-size: 1.05em; font-weight: 600; margin: 18px 0 6px; }
.muted, #meta { color: var(--vscode-descriptionForeground, #9d9d9d); }
#status { margin: 6px 0; color: var(--vscode-editorWarning-foreground, #cca700); }
#status:empty { display: none; }
.hint { color: var(--vscode-descriptionForeground, #9d9d9d); font-size: 0.92em; margin: 2px 0 0; }
.table-wrap { max-width: 100%; max-height: 85vh; overflow: auto; border: 1px solid var(--vscode-panel-border, #2b2b2b); border-radius: 2px;
  /* A shadow on the right edge while columns are hidden there (it scrolls away with the last column). */
  background: linear-gradient(to left, var(--vscode-editor-background, #1f1f1f) 40%, transparent) right / 28px 100% no-repeat local,
    radial-gradient(farthest-side at 100% 50%, color-mix(in srgb, var(--vscode-foreground, #cccccc) 35%, transparent), transparent) right / 10px 100% no-repeat scroll; }
table { border-collapse: separate; border-spacing: 0; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; white-space: nowrap; text-align: left; vertical-align: top;
  border-bottom: 1px solid var(--vscode-panel-border, #2b2b2b); }
th.num, td.num { text-align: right; }
td .line { display: block; }
thead th { font-weight: 600; background: var(--vscode-editorWidget-background, var(--vscode-editor-background, #252526));
  position: sticky; top: 0; z-index: 2; }
th:first-child, td:first-child { position: sticky; left: 0; z-index: 1; background: var(--vscode-editor-background, #1f1f1f);
  border-right: 1px solid var(--vscode-panel-border, #2b2b2b); }
thead th:first-child { z-index: 3; background: var(--vscode-editorWidget-background, var(--vscode-editor-background, #252526)); }
th button.sort { all: unset; cursor: pointer; display: inline-block; }
th button.sort:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: 2px; }
th[aria-sort="ascending"] button.sort::after { content: " ▲"; }
th[aria-sort="descending"] button.sort::after { content: " ▼"; }
tbody tr { cursor: pointer; }
tbody tr:hover td { background: var(--vscode-list-hoverBackground, #2a2d2e); }
tbody tr.selected td { background: var(--vscode-list-inactiveSelectionBackground, #37373d);
  color: var(--vscode-list-inactiveSelectionForeground, inherit); }
tbody tr:focus { outline: none; }
tbody tr:focus-visible td { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: -1px; }
tfoot td { font-weight: 600; border-bottom: none; }
td .tag { color: var(--vscode-descriptionForeground, #9d9d9d); }
ul#summary { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
ul#summary li { overflow-wrap: anywhere; }
#compare:empty { display: none; }
#compare { margin-bottom: 14px; }
table.delta tbody tr { cursor: default; }
table.delta tr.change-same td { color: var(--vscode-descriptionForeground, #9d9d9d); }
table.delta tr.change-added td:first-child { box-shadow: inset 3px 0 var(--vscode-charts-green, #89d185); }
table.delta tr.change-removed td:first-child { box-shadow: inset 3px 0 var(--vscode-charts-red, #f14c4c); }
table.delta tr.change-changed td:first-child { box-shadow: inset 3px 0 var(--vscode-charts-yellow, #cca700); }
table.delta + .hint, #compare .table-wrap + .table-wrap { margin-top: 8px; }
.compare-error { color: var(--vscode-editorWarning-foreground, #cca700); }
body.vscode-high-contrast tbody tr.selected td { outline: 1px dashed var(--vscode-contrastActiveBorder, #f38518); outline-offset: -1px; }
`;

export function installStyles(nonce: string): void {
  const style = document.createElement('style');
  style.nonce = nonce;
  style.textContent = CSS;
  document.head.appendChild(style);
}
