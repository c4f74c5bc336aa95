/// <reference lib="dom" />
// Entry point of the analysis report webview (bundled by esbuild as dist/webview/report.js, an IIFE for the browser).
// Builds the page, validates every message from the host against the shared protocol, then says `ready` (the
// handshake: the host sends the report only after it).
import { REPORT_PROTOCOL_VERSION, validateReportHostMessage } from '../../protocol/report';
import { loadState, post } from './host';
import { installStyles } from './styles';
import { ReportView } from './view';

// Read while this script runs: the nonce the CSP allows, for the <style> we add.
const script = document.currentScript as HTMLScriptElement | null;
installStyles(script?.nonce ?? '');

const root = document.createElement('main');
document.body.append(root);
const view = new ReportView(root, loadState());
view.status('Waiting for the analysis…');

window.addEventListener('message', (event: MessageEvent) => {
  const checked = validateReportHostMessage(event.data);
  if (!checked.ok) {
    // Never act on it; say why, here and in the host's log.
    console.warn(`dsod report: rejected a message from the host: ${checked.error}`);
    post({ type: 'log', level: 'warn', message: `rejected a message from the host: ${checked.error}` });
    return;
  }
  const m = checked.message;
  if (m.type === 'report') view.receive(m.report);
  else view.status(m.message);
});

post({ type: 'ready', protocol: REPORT_PROTOCOL_VERSION });
