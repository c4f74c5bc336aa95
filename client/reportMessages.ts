// What the host does with a message from the report webview, apart from VS Code (so node tests can drive it):
// validate it against the protocol, refuse and log anything malformed, and only then act. A reveal must name the
// document the panel reports on: a compromised page cannot make the editor open other files.
import type { Range } from '../core/diagnostics';
import { REPORT_PROTOCOL_VERSION, validateReportWebviewMessage, type ReportWebviewMessage } from '../protocol/report';
import { protocolMismatch } from '../protocol/checks';

export interface ReportHost {
  /** The spec the panel reports on. */
  currentUri(): string;
  ready(): void;
  reveal(uri: string, range: Range): Promise<void> | void;
  rendered(message: Extract<ReportWebviewMessage, { type: 'rendered' }>): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** Returns whether the message was accepted. Never throws on input. */
export async function handleReportMessage(raw: unknown, host: ReportHost): Promise<boolean> {
  const checked = validateReportWebviewMessage(raw);
  if (!checked.ok) {
    host.log('warn', `report view: refused a malformed message (${checked.error})`);
    return false;
  }
  const m = checked.message;
  switch (m.type) {
    case 'ready': {
      // A page left open from an older extension would misread what it is sent: say so instead of half working.
      const mismatch = protocolMismatch('report page', m.protocol, REPORT_PROTOCOL_VERSION);
      if (mismatch) {
        host.log('error', `report view: ${mismatch}`);
        return false;
      }
      host.ready();
      return true;
    }
    case 'reveal':
      if (m.uri !== host.currentUri()) {
        host.log('warn', `report view: refused to reveal ${m.uri.slice(0, 200)}, which is not the spec reported`);
        return false;
      }
      await host.reveal(m.uri, m.range);
      return true;
    case 'rendered':
      host.rendered(m);
      return true;
    case 'log':
      host.log(m.level, `report view: ${m.message}`);
      return true;
  }
}
