/// <reference lib="dom" />
// Entry point of the run dashboard (bundled by esbuild as dist/webview/dashboard.js, an IIFE for the browser, uPlot
// and its CSS inside). In VS Code it validates every message from the host against the shared protocol and says
// `ready` (the handshake: the host sends the run only after it). In report.html the host's messages are embedded in
// the file and go through the same validator.
import { DASHBOARD_PROTOCOL_VERSION, REPORT_DATA_ID, validateDashboardHostMessage } from '../../protocol/dashboard';
import { connectHost, loadState } from './host';
import { installStyles } from './styles';
import { DashboardView } from './view';

// Read while this script runs: the nonce the CSP allows, for the <style> we add.
const script = document.currentScript as HTMLScriptElement | null;
installStyles(script?.nonce ?? '');

const host = connectHost();
const report = document.body.dataset.mode === 'report' || !host.interactive;
const view = new DashboardView(host, loadState(host.getState()), { rebuild: document.body.dataset.rebuild === 'on', report });

function receive(raw: unknown, t0: number): void {
  const checked = validateDashboardHostMessage(raw);
  if (!checked.ok) {
    // Never act on it; say why, here and in the host's log.
    console.warn(`dsod dashboard: rejected a message: ${checked.error}`);
    host.post({ type: 'log', level: 'warn', message: `rejected a message from the host: ${checked.error}`.slice(0, 4000) });
    return;
  }
  view.apply(checked.message, t0);
}

const embedded = document.getElementById(REPORT_DATA_ID);
if (embedded) {
  let messages: unknown = [];
  try {
    messages = JSON.parse(embedded.textContent ?? '[]');
  } catch (e) {
    console.warn(`dsod dashboard: the embedded run data is not JSON: ${(e as Error).message}`);
  }
  for (const m of Array.isArray(messages) ? messages : []) receive(m, performance.now());
}

if (host.interactive) {
  window.addEventListener('message', (event: MessageEvent) => receive(event.data, performance.now()));
}

// VS Code rewrites the --vscode-* variables on <html> and the theme class on <body> when the theme changes.
const themeWatch = new MutationObserver(() => view.themeChanged());
themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
themeWatch.observe(document.body, { attributes: true, attributeFilter: ['class'] });

if (host.interactive) host.post({ type: 'ready', protocol: DASHBOARD_PROTOCOL_VERSION });
