/// <reference lib="dom" />
// Entry point of the graph webview (bundled by esbuild as dist/webview/graph.js, an IIFE for the browser). Builds the
// page, validates every message from the host against the shared protocol, then says `ready` (the handshake: the host
// sends the graph only after it).
import { validateHostMessage, WEBVIEW_PROTOCOL_VERSION } from '../../protocol/webview';
import { loadState, post } from './host';
import { installStyles } from './styles';
import { GraphView } from './view';

// Read while this script runs: the nonce the CSP allows, for the <style> we add.
const script = document.currentScript as HTMLScriptElement | null;
installStyles(script?.nonce ?? '');

const div = (id: string, parent: HTMLElement, tag: 'div' | 'header' | 'main' = 'div'): HTMLElement => {
  const e = document.createElement(tag);
  e.id = id;
  parent.append(e);
  return e;
};
const header = div('header', document.body, 'header');
const canvas = div('canvas', document.body, 'main');
const message = div('message', canvas);
const tooltip = div('tooltip', canvas);
message.textContent = 'Waiting for the analysis…';

// The benchmark's peer page turns the layout cache off; nothing else does.
const layoutCache = document.body.dataset.layoutCache !== 'off';
const view = new GraphView({ header, canvas, tooltip, message }, loadState(), { layoutCache });

window.addEventListener('message', (event: MessageEvent) => {
  const t0 = performance.now();
  const checked = validateHostMessage(event.data);
  if (!checked.ok) {
    // Never act on it; say why, here and in the host's log.
    console.warn(`dsod graph: rejected a message from the host: ${checked.error}`);
    post({ type: 'log', level: 'warn', message: `rejected a message from the host: ${checked.error}` });
    return;
  }
  const m = checked.message;
  switch (m.type) {
    case 'graph':
      view.receive(m.result, m.title, t0);
      break;
    case 'status':
      view.status(m.message);
      break;
  }
});

// VS Code rewrites the --vscode-* variables on <html> and the theme class on <body> when the theme changes.
const themeWatch = new MutationObserver(() => view.themeChanged());
themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
themeWatch.observe(document.body, { attributes: true, attributeFilter: ['class'] });

post({ type: 'ready', protocol: WEBVIEW_PROTOCOL_VERSION });
