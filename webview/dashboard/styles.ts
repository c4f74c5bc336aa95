/// <reference lib="dom" />
// The page's CSS, theme-aware through VS Code's --vscode-* variables (light, dark, high contrast), and uPlot's own
// stylesheet, both added as one nonce'd <style>: the CSP needs no 'unsafe-inline'. report.html has no VS Code to set
// the variables, so it sets them itself, following the browser's light or dark preference.
import uplotCss from 'uplot/dist/uPlot.min.css';

const REPORT_THEME = `
body[data-mode="report"] {
  --vscode-font-family: system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif; --vscode-font-size: 13px;
  --vscode-editor-font-family: ui-monospace, "Droid Sans Mono", monospace;
  --vscode-editor-background: #ffffff; --vscode-foreground: #3b3b3b; --vscode-editor-foreground: #3b3b3b;
  --vscode-descriptionForeground: #616161; --vscode-panel-border: #e5e5e5; --vscode-editorWidget-border: #c8c8c8;
  --vscode-focusBorder: #005fb8; --vscode-charts-blue: #1a85ff; --vscode-charts-orange: #d18616; --vscode-charts-green: #388a34;
  --vscode-charts-purple: #652d90; --vscode-charts-yellow: #bf8803; --vscode-charts-red: #e51400;
  --vscode-button-background: #005fb8; --vscode-button-foreground: #ffffff; --vscode-button-secondaryBackground: #e5e5e5;
  --vscode-button-secondaryForeground: #3b3b3b; --vscode-button-secondaryHoverBackground: #cccccc; --vscode-errorForeground: #e51400;
  --vscode-editorWarning-foreground: #bf8803; --vscode-list-hoverBackground: #f2f2f2; --vscode-textLink-foreground: #005fb8;
}
@media (prefers-color-scheme: dark) {
  body[data-mode="report"] {
    --vscode-editor-background: #1f1f1f; --vscode-foreground: #cccccc; --vscode-editor-foreground: #cccccc;
    --vscode-descriptionForeground: #9d9d9d; --vscode-panel-border: #2b2b2b; --vscode-editorWidget-border: #454545;
    --vscode-focusBorder: #0078d4; --vscode-charts-blue: #3794ff; --vscode-charts-green: #89d185; --vscode-charts-purple: #b180d7;
    --vscode-charts-yellow: #cca700; --vscode-charts-red: #f14c4c; --vscode-button-background: #0078d4;
    --vscode-button-secondaryBackground: #313131; --vscode-button-secondaryForeground: #cccccc;
    --vscode-button-secondaryHoverBackground: #3c3c3c; --vscode-errorForeground: #f85149; --vscode-editorWarning-foreground: #cca700;
    --vscode-list-hoverBackground: #2a2d2e; --vscode-textLink-foreground: #4daafc;
  }
}
`;

const PAGE_CSS = `
html, body { margin: 0; padding: 0; }
body { font-family: var(--vscode-font-family, system-ui, sans-serif); font-size: var(--vscode-font-size, 13px);
  color: var(--vscode-foreground, #cccccc); background: var(--vscode-editor-background, #1f1f1f); }
.muted { color: var(--vscode-descriptionForeground, #9d9d9d); }
.num { font-variant-numeric: tabular-nums; }
header#run-header { position: sticky; top: 0; z-index: 5; display: flex; flex-direction: column; gap: 4px; padding: 8px 14px;
  background: var(--vscode-editor-background, #1f1f1f); border-bottom: 1px solid var(--vscode-panel-border, #2b2b2b); }
header .row { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 14px; }
#run-name { font-weight: 600; font-size: 1.15em; }
#run-dir { color: var(--vscode-descriptionForeground, #9d9d9d); font-family: var(--vscode-editor-font-family, monospace); font-size: 0.9em; }
.badge { padding: 0 6px; border-radius: 3px; border: 1px solid currentColor; font-size: 0.9em; }
.badge.running { color: var(--vscode-charts-blue, #3794ff); }
.badge.completed, .badge.step-limit, .badge.time-limit, .badge.stopped { color: var(--vscode-charts-green, #89d185); }
.badge.failed { color: var(--vscode-errorForeground, #f85149); }
.badge.interrupted { color: var(--vscode-editorWarning-foreground, #cca700); }
.badge.empty { color: var(--vscode-descriptionForeground, #9d9d9d); }
#run-facts span { white-space: nowrap; }
#run-facts b { font-weight: 600; }
#status:empty { display: none; }
#status { color: var(--vscode-editorWarning-foreground, #cca700); }
.toolbar { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; }
.toolbar label { display: inline-flex; align-items: center; gap: 6px; }
input[type="range"] { accent-color: var(--vscode-button-background, #0078d4); }
body.vscode-high-contrast input[type="range"], body.vscode-high-contrast-light input[type="range"] { accent-color: var(--vscode-focusBorder, #f38518); }
main { padding: 10px 14px 40px; display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 14px; }
section { min-width: 0; border: 1px solid var(--vscode-panel-border, #2b2b2b); border-radius: 4px; padding: 8px 10px; }
section.wide { grid-column: 1 / -1; }
section[hidden] { display: none; }
section > h2 { font-size: 1em; font-weight: 600; margin: 0 0 6px; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
section > h2 .muted { font-weight: normal; font-size: 0.92em; }
.empty-note { color: var(--vscode-descriptionForeground, #9d9d9d); font-style: italic; padding: 6px 0; }
.chart { width: 100%; min-height: 40px; }
.chart .u-legend { font-size: 11px; color: var(--vscode-foreground, #cccccc); }
.chart .u-legend .u-series > * { padding: 1px 4px; }
.chart .u-select { background: rgba(128, 128, 128, 0.15); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 8px 3px 0; vertical-align: top; }
th { font-weight: 600; color: var(--vscode-descriptionForeground, #9d9d9d); border-bottom: 1px solid var(--vscode-panel-border, #2b2b2b); }
td.r, th.r { text-align: right; }
tbody tr:hover { background: var(--vscode-list-hoverBackground, rgba(128, 128, 128, 0.1)); }
th button.sort { all: unset; cursor: pointer; }
th button.sort:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); }
th button.sort[data-dir="asc"]::after { content: " ▲"; }
th button.sort[data-dir="desc"]::after { content: " ▼"; }
.bar { display: inline-block; height: 8px; background: var(--vscode-charts-blue, #3794ff); opacity: 0.75; vertical-align: middle; }
.delta.up { color: var(--vscode-charts-green, #89d185); }
.delta.down { color: var(--vscode-errorForeground, #f85149); }
tr.selected { outline: 1px solid var(--vscode-focusBorder, #0078d4); }
button { font: inherit; font-size: 12px; padding: 1px 8px; border-radius: 2px; cursor: pointer;
  color: var(--vscode-button-secondaryForeground, #cccccc); background: var(--vscode-button-secondaryBackground, #313131);
  border: 1px solid var(--vscode-button-border, transparent); }
button:hover:not(:disabled) { background: var(--vscode-button-secondaryHoverBackground, #3c3c3c); }
button.primary { color: var(--vscode-button-foreground, #ffffff); background: var(--vscode-button-background, #0078d4); }
button:disabled { opacity: 0.45; cursor: default; }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: 1px; }
.actions { display: flex; gap: 4px; justify-content: flex-end; }
.path { font-family: var(--vscode-editor-font-family, monospace); font-size: 0.92em; word-break: break-all; }
#pr-curves { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 8px; }
.pr { border: 1px solid transparent; border-radius: 3px; }
.pr.selected { border-color: var(--vscode-focusBorder, #0078d4); }
.pr svg { width: 100%; height: auto; display: block; }
.pr .frame { fill: none; stroke: var(--vscode-editorWidget-border, #454545); }
.pr .grid { stroke: var(--vscode-panel-border, #2b2b2b); stroke-dasharray: 2 3; }
.pr .curve { fill: none; stroke-width: 1.6; }
.pr .envelope { fill: none; stroke-width: 1; stroke-dasharray: 4 3; opacity: 0.7; }
.pr text { fill: var(--vscode-descriptionForeground, #9d9d9d); font-size: 10px; font-family: var(--vscode-font-family, sans-serif); }
.pr text.title { fill: var(--vscode-foreground, #cccccc); font-size: 11.5px; font-weight: 600; }
.pr text.count { font-size: 10px; }
#gallery-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--vscode-panel-border, #2b2b2b); border-radius: 3px; padding: 6px; }
.card .caption { font-size: 12px; margin-bottom: 4px; display: flex; justify-content: space-between; gap: 6px; }
.card .caption .file { font-family: var(--vscode-editor-font-family, monospace); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.panes { display: flex; gap: 6px; }
.pane { flex: 1; min-width: 0; }
.pane .label { font-size: 11px; color: var(--vscode-descriptionForeground, #9d9d9d); margin-bottom: 2px; }
.frame-img { position: relative; width: 100%; line-height: 0; overflow: hidden; background: rgba(128, 128, 128, 0.12); }
.frame-img img { width: 100%; height: auto; display: block; image-rendering: auto; }
.frame-img .placeholder { line-height: 1.3; padding: 30px 8px; font-size: 11px; color: var(--vscode-descriptionForeground, #9d9d9d); }
.box { position: absolute; box-sizing: border-box; border: 2px solid; pointer-events: none; }
.box.truth { border-style: dashed; }
.box.difficult { opacity: 0.55; }
.box[hidden] { display: none; }
.box .tag { position: absolute; left: -2px; bottom: 100%; line-height: 1.2; font-size: 10px; padding: 0 3px; white-space: nowrap;
  color: #000; font-family: var(--vscode-font-family, sans-serif); }
.box.low .tag { top: 0; bottom: auto; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip { display: inline-flex; gap: 6px; align-items: center; border: 1px solid var(--vscode-editorWidget-border, #454545); border-radius: 10px; padding: 0 4px 0 8px; font-size: 12px; }
.chip .swatch { width: 14px; height: 0; border-top: 2px dashed; }
#doctor-attempts td:first-child { white-space: nowrap; }
.ok { color: var(--vscode-charts-green, #89d185); }
.bad { color: var(--vscode-errorForeground, #f85149); }
.warn { color: var(--vscode-editorWarning-foreground, #cca700); }
#logs { max-height: 220px; overflow: auto; font-family: var(--vscode-editor-font-family, monospace); font-size: 11.5px; }
#logs div { white-space: pre-wrap; }
details summary { cursor: pointer; }
pre.spec { max-height: 300px; overflow: auto; font-family: var(--vscode-editor-font-family, monospace); font-size: 11.5px; margin: 4px 0 0; }
`;

/** Add the page's styles, allowed by the CSP through the nonce of the script that runs this. */
export function installStyles(nonce: string): void {
  const style = document.createElement('style');
  style.nonce = nonce;
  style.textContent = uplotCss + REPORT_THEME + PAGE_CSS;
  document.head.appendChild(style);
}
