// What the host does with a message from the graph webview, apart from VS Code (so node tests can drive it): validate
// it against the protocol, refuse and log anything malformed, and only then act. A reveal must name the document the
// panel shows: a compromised page cannot make the editor open other files.
import type { Range } from '../core/diagnostics';
import { WEBVIEW_PROTOCOL_VERSION, validateWebviewMessage, type ExportFormat, type WebviewMessage } from '../protocol/webview';
import { protocolMismatch } from '../protocol/checks';

export interface GraphHost {
  /** The document the panel follows. */
  currentUri(): string | undefined;
  ready(): void;
  reveal(uri: string, range: Range): Promise<void> | void;
  save(format: ExportFormat, name: string, data: string): Promise<void> | void;
  rendered(message: Extract<WebviewMessage, { type: 'rendered' }>): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** Returns whether the message was accepted. Never throws on input. */
export async function handleWebviewMessage(raw: unknown, host: GraphHost): Promise<boolean> {
  const checked = validateWebviewMessage(raw);
  if (!checked.ok) {
    host.log('warn', `graph view: refused a malformed message (${checked.error})`);
    return false;
  }
  const m = checked.message;
  switch (m.type) {
    case 'ready': {
      // A page left open from an older extension would misread what it is sent: say so instead of half working.
      const mismatch = protocolMismatch('graph page', m.protocol, WEBVIEW_PROTOCOL_VERSION);
      if (mismatch) {
        host.log('error', `graph view: ${mismatch}`);
        return false;
      }
      host.ready();
      return true;
    }
    case 'reveal':
      if (m.uri !== host.currentUri()) {
        host.log('warn', `graph view: refused to reveal ${m.uri.slice(0, 200)}, which is not the document shown`);
        return false;
      }
      await host.reveal(m.uri, m.range);
      return true;
    case 'export':
      await host.save(m.format, m.name, m.data);
      return true;
    case 'rendered':
      host.rendered(m);
      return true;
    case 'log':
      host.log(m.level, `graph view: ${m.message}`);
      return true;
  }
}
