/// <reference lib="dom" />
// The page's CSS, theme-aware through VS Code's --vscode-* variables (light, dark and high contrast). Kept in the bundle
// and added as a nonce'd <style>, so the CSP needs no 'unsafe-inline'; the SVG part is also embedded, with the
// variables resolved, in exported SVG files.

/** Rules for the drawing itself: what an exported SVG needs. */
export const SVG_CSS = `
.graph text { font-family: var(--vscode-font-family, system-ui, sans-serif); font-size: 11px; fill: var(--vscode-editor-foreground, #cccccc); }
.graph .title { font-weight: 600; font-size: 12px; }
.graph .shape { font-family: var(--vscode-editor-font-family, monospace); font-size: 11px; }
.graph .detail { opacity: 0.82; }
.graph .numbers { font-variant-numeric: tabular-nums; }
.graph .box { stroke: var(--vscode-editorWidget-border, #454545); stroke-width: 1; }
.graph .frame > .box { stroke-dasharray: 5 3; stroke-width: 1.2; }
.graph .kind-boxes > .box, .graph .kind-blockIn > .box, .graph .kind-blockOut > .box { stroke-dasharray: 3 2; }
.graph .edge { fill: none; stroke: var(--vscode-editor-foreground, #cccccc); stroke-opacity: 0.5; stroke-width: 1.3; }
.graph .edge.learned { stroke: var(--vscode-charts-green, #89d185); stroke-opacity: 0.95; stroke-width: 2.2; }
.graph .edge.reused { stroke: var(--vscode-charts-purple, #b180d7); stroke-opacity: 0.95; stroke-width: 2.2; stroke-dasharray: 7 4; }
.graph .edge.dense { stroke: var(--vscode-charts-yellow, #cca700); stroke-opacity: 0.55; stroke-width: 1.1; }
.graph .arrow { fill: var(--vscode-editor-foreground, #cccccc); fill-opacity: 0.6; }
.graph .arrow.learned { fill: var(--vscode-charts-green, #89d185); fill-opacity: 1; }
.graph .arrow.reused { fill: var(--vscode-charts-purple, #b180d7); fill-opacity: 1; }
.graph .arrow.dense { fill: var(--vscode-charts-yellow, #cca700); fill-opacity: 0.8; }
.graph .toggle rect { fill: var(--vscode-button-secondaryBackground, #313131); stroke: var(--vscode-button-border, transparent); }
.graph .toggle text { fill: var(--vscode-button-secondaryForeground, #cccccc); font-weight: 700; font-size: 12px; }
.graph .big-title { font-size: 30px; font-weight: 700; }
.graph .big-brief { font-size: 28px; font-variant-numeric: tabular-nums; }
.graph .lod { display: none; }
.graph.zoomed-out .lod { display: inline; }
.graph.zoomed-out .full { display: none; }
.graph .heading { font-size: 13px; font-weight: 600; }
.graph .legend-text { font-size: 11px; opacity: 0.85; }
`;

/** Interaction states: not exported. */
const INTERACTIVE_CSS = `
.graph .node { cursor: pointer; }
.graph .node:focus { outline: none; }
.graph .node:hover > .box { stroke: var(--vscode-list-hoverForeground, var(--vscode-focusBorder, #0078d4)); stroke-width: 1.6; }
.graph .node.selected > .box { stroke: var(--vscode-focusBorder, #0078d4); stroke-width: 2.4; }
.graph .node:focus-visible > .box { stroke: var(--vscode-focusBorder, #0078d4); stroke-width: 3; }
.graph .toggle { cursor: pointer; }
.graph .toggle:hover rect { fill: var(--vscode-button-secondaryHoverBackground, #3c3c3c); }
.graph .edge.dim { stroke-opacity: 0.12; }
body.vscode-high-contrast .graph .box, body.vscode-high-contrast-light .graph .box { stroke: var(--vscode-contrastBorder, #6fc3df); }
body.vscode-high-contrast .graph .node.selected > .box { stroke: var(--vscode-contrastActiveBorder, #f38518); }
`;

const PAGE_CSS = `
html, body { height: 100%; margin: 0; padding: 0; overflow: hidden; }
body { display: flex; flex-direction: column; font-family: var(--vscode-font-family, system-ui, sans-serif); font-size: var(--vscode-font-size, 13px);
  color: var(--vscode-foreground, #cccccc); background: var(--vscode-editor-background, #1f1f1f); }
header { flex: none; display: flex; flex-direction: column; gap: 4px; padding: 6px 10px 6px; border-bottom: 1px solid var(--vscode-panel-border, #2b2b2b); }
header .row { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; }
header .name { font-weight: 600; font-size: 1.1em; }
header .file { color: var(--vscode-descriptionForeground, #9d9d9d); }
header .totals { font-variant-numeric: tabular-nums; }
header .verdict { padding: 0 6px; border-radius: 3px; border: 1px solid currentColor; }
header .verdict.within { color: var(--vscode-charts-green, #89d185); }
header .verdict.over { color: var(--vscode-editorWarning-foreground, #cca700); }
header .verdict.none { color: var(--vscode-descriptionForeground, #9d9d9d); border-color: transparent; padding: 0; }
header .problems { color: var(--vscode-errorForeground, #f85149); font-weight: 600; }
header .problems:empty, header .status:empty { display: none; }
header .status { color: var(--vscode-descriptionForeground, #9d9d9d); }
.toolbar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.toolbar .sep { width: 1px; align-self: stretch; background: var(--vscode-panel-border, #2b2b2b); margin: 0 4px; }
.toolbar .label { color: var(--vscode-descriptionForeground, #9d9d9d); }
button { font: inherit; font-size: 12px; padding: 2px 8px; border-radius: 2px; cursor: pointer;
  color: var(--vscode-button-secondaryForeground, #cccccc); background: var(--vscode-button-secondaryBackground, #313131);
  border: 1px solid var(--vscode-button-border, transparent); }
button:hover { background: var(--vscode-button-secondaryHoverBackground, #3c3c3c); }
button[aria-pressed="true"] { color: var(--vscode-button-foreground, #ffffff); background: var(--vscode-button-background, #0078d4); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: 1px; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; font-size: 11px; color: var(--vscode-descriptionForeground, #9d9d9d); }
.legend .ramp { width: 140px; height: 10px; border: 1px solid var(--vscode-editorWidget-border, #454545); }
.legend .key { display: inline-flex; align-items: center; gap: 4px; }
.legend .swatch { display: inline-block; width: 22px; height: 0; border-top: 2px solid; }
.legend .swatch.learned { border-color: var(--vscode-charts-green, #89d185); }
.legend .swatch.reused { border-color: var(--vscode-charts-purple, #b180d7); border-top-style: dashed; }
.legend .change-legend { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; }
.legend .change-legend[hidden], .legend [hidden] { display: none; }
.legend .change-title { color: var(--vscode-foreground, #cccccc); font-weight: 600; }
.legend .change-swatch { display: inline-block; width: 14px; height: 10px; border: 1px solid var(--vscode-editorWidget-border, #454545); }
.legend .change-key.removed .change-swatch { border-style: dashed; }
.legend .swatch.dense { border-color: var(--vscode-charts-yellow, #cca700); }
#canvas { flex: 1; position: relative; overflow: hidden; }
#canvas > svg { position: absolute; inset: 0; width: 100%; height: 100%; cursor: grab; }
#canvas > svg.panning { cursor: grabbing; }
#canvas > svg:focus { outline: none; }
#message { position: absolute; left: 0; right: 0; top: 40%; text-align: center; color: var(--vscode-descriptionForeground, #9d9d9d); padding: 0 20px; }
#message:empty { display: none; }
#tooltip { position: absolute; z-index: 10; pointer-events: none; max-width: 380px; padding: 6px 8px; font-size: 12px;
  color: var(--vscode-editorHoverWidget-foreground, #cccccc); background: var(--vscode-editorHoverWidget-background, #202020);
  border: 1px solid var(--vscode-editorHoverWidget-border, #454545); box-shadow: 0 2px 8px var(--vscode-widget-shadow, rgba(0,0,0,0.36)); }
#tooltip[hidden] { display: none; }
#tooltip .tip-title { font-weight: 600; margin-bottom: 2px; }
#tooltip .tip-detail { color: var(--vscode-descriptionForeground, #9d9d9d); margin-bottom: 4px; }
#tooltip table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
#tooltip td { padding: 1px 10px 1px 0; vertical-align: top; }
#tooltip td:first-child { color: var(--vscode-descriptionForeground, #9d9d9d); }
#tooltip .tip-hint { margin-top: 4px; color: var(--vscode-descriptionForeground, #9d9d9d); font-size: 11px; }
`;

/** Add the page's styles, allowed by the CSP through the nonce of the script that runs this. */
export function installStyles(nonce: string): void {
  const style = document.createElement('style');
  style.nonce = nonce;
  style.textContent = PAGE_CSS + SVG_CSS + INTERACTIVE_CSS;
  document.head.appendChild(style);
}
