// The built language server over stdio with a real LSP client connection, recording everything it says besides
// answers: published diagnostics, window/logMessage lines (by level) and stderr. Shared by the stdio tests and
// bench/fuzz.bench.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  createProtocolConnection,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  MessageType,
  PublishDiagnosticsNotification,
  ShowMessageNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';
import { repoRoot } from '../helpers';

export interface LspServer {
  process: ChildProcess;
  connection: ProtocolConnection;
  published: PublishDiagnosticsParams[];
  /** window/logMessage and window/showMessage lines, with their level (1 error, 2 warning, 3 info, 4 log). */
  logs: { type: number; message: string }[];
  stderr(): string;
  /** Messages of published `internal` diagnostics (a bug of ours that core caught). */
  internal: string[];
  /** What the server reported as going wrong: error-level log lines and anything on stderr, one entry per line. */
  errorLines(): string[];
  /** The published diagnostics for `uri` at `version` or later (waits for them). */
  diagnosticsFor(uri: string, version: number, timeoutMs?: number): Promise<PublishDiagnosticsParams>;
  stop(): Promise<void>;
}

export async function until<T>(f: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function startServer(serverPath = process.env.DSOD_SERVER ?? join(repoRoot, 'dist/server/main.js')): Promise<LspServer> {
  const child = spawn(process.execPath, [serverPath, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const published: PublishDiagnosticsParams[] = [];
  const logs: { type: number; message: string }[] = [];
  const internal: string[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    published.push(p);
    for (const d of p.diagnostics) if (d.code === 'internal') internal.push(String(d.message));
    if (published.length > 1000) published.splice(0, 500);
  });
  connection.onNotification(LogMessageNotification.type, (p) => void logs.push(p));
  connection.onNotification(ShowMessageNotification.type, (p) => void logs.push(p));
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
  await connection.sendNotification(InitializedNotification.type, {});
  return {
    process: child,
    connection,
    published,
    logs,
    stderr: () => stderr,
    internal,
    errorLines: () => [...logs.filter((l) => l.type === MessageType.Error).map((l) => l.message), ...stderr.split('\n').filter((l) => l.trim() !== '')],
    diagnosticsFor: (uri, version, timeoutMs) => until(() => [...published].reverse().find((p) => p.uri === uri && (p.version ?? -1) >= version), timeoutMs),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        await connection.sendRequest(ShutdownRequest.type);
        await connection.sendNotification(ExitNotification.type);
        await exited;
      }
      connection.dispose();
    },
  };
}
