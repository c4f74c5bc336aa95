// Latency from a didChange of the DSOD300 spec to its publishDiagnostics, through real language servers over stdio:
// ours (which also computes every number) and yaml-language-server validating the same text against our schema.
// Both run in the same process tree, interleaved in rounds, so machine noise hits both alike: read the ratio.
// Run: npm run bench:lsp
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ConfigurationRequest,
  createProtocolConnection,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';

const ROOT = resolve(__dirname, '..', '..');
const EDITS = Number(process.env.EDITS ?? 400);
const WARMUP = 50;
const ROUNDS = 10;
const YAML_LS_DELAY_MS = 200;
const text = readFileSync(join(ROOT, 'examples/dsod300.dsod.yaml'), 'utf8');
const schemaUri = pathToFileURL(join(ROOT, 'schemas/dsod.schema.json')).toString();

interface Server {
  name: string;
  process: ChildProcess;
  connection: ProtocolConnection;
  uri: string;
  version: number;
  waiting: ((p: PublishDiagnosticsParams) => void) | null;
  samples: number[];
}

const yamlSettings = {
  yaml: { validate: true, hover: false, completion: false, format: { enable: false }, schemas: { [schemaUri]: '*.dsod.yaml' }, schemaStore: { enable: false } },
};

async function start(name: string, args: string[]): Promise<Server> {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const server: Server = {
    name,
    process: child,
    connection,
    uri: `file:///bench/${name.replace(/\W/g, '')}.dsod.yaml`,
    version: 1,
    waiting: null,
    samples: [],
  };
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    if (p.uri === server.uri && server.waiting) server.waiting(p);
  });
  connection.onRequest(ConfigurationRequest.type, (p) => p.items.map((i) => (i.section === 'yaml' ? yamlSettings.yaml : i.section ? undefined : yamlSettings)));
  connection.onRequest('client/registerCapability', () => null);
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(ROOT).toString(),
    workspaceFolders: null,
    capabilities: {
      workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
      textDocument: { publishDiagnostics: { versionSupport: true } },
    },
  });
  await connection.sendNotification(InitializedNotification.type, {});
  await connection.sendNotification(DidChangeConfigurationNotification.type, { settings: yamlSettings });
  const first = new Promise<PublishDiagnosticsParams>((r) => (server.waiting = r));
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: server.uri, languageId: 'yaml', version: 1, text } });
  await first;
  return server;
}

/** One edit: change the layer count of the first block, then wait for the diagnostics of exactly that version. */
async function edit(server: Server, layers: number): Promise<number> {
  server.version++;
  const version = server.version;
  const next = text.replace('blocks: [6, 8, 8, 8]', `blocks: [${layers}, 8, 8, 8]`);
  const done = new Promise<void>((resolveDone) => {
    server.waiting = (p) => {
      if (p.version === undefined || p.version === version) resolveDone();
    };
  });
  const t0 = process.hrtime.bigint();
  await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: server.uri, version },
    contentChanges: [{ text: next }],
  });
  await done;
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function stop(server: Server): Promise<void> {
  await server.connection.sendRequest(ShutdownRequest.type).catch(() => undefined);
  await server.connection.sendNotification(ExitNotification.type).catch(() => undefined);
  server.connection.dispose();
  server.process.kill();
}

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function main() {
  const ours = await start('dsod language server', [join(ROOT, 'dist/server/main.js'), '--stdio']);
  const peer = await start('yaml-language-server', [join(ROOT, 'node_modules/yaml-language-server/bin/yaml-language-server'), '--stdio']);
  const servers = [ours, peer];
  for (const s of servers) for (let i = 0; i < WARMUP; i++) await edit(s, 1 + (i % 12));
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of servers) for (let i = 0; i < EDITS / ROUNDS; i++) s.samples.push(await edit(s, 1 + ((r * 7 + i) % 12)));
  }
  for (const s of servers) await stop(s);

  const base = pct(ours.samples, 0.5);
  console.log(`\nLSP bench — didChange -> publishDiagnostics, DSOD300 spec, ${EDITS} edits per server, node ${process.version}\n`);
  console.log('| server | median ms | p95 ms | mean ms | median vs ours |');
  console.log('|---|---:|---:|---:|---:|');
  for (const s of servers) {
    const mean = s.samples.reduce((a, b) => a + b, 0) / s.samples.length;
    console.log(
      `| ${s.name} | ${pct(s.samples, 0.5).toFixed(3)} | ${pct(s.samples, 0.95).toFixed(3)} | ${mean.toFixed(3)} | ${(pct(s.samples, 0.5) / base).toFixed(2)}x |`,
    );
  }
  // yaml-language-server waits a fixed 200 ms (validationDelayMs, not configurable) before it validates a change.
  const peerWork = pct(peer.samples, 0.5) - YAML_LS_DELAY_MS;
  console.log(`| yaml-language-server minus its fixed ${YAML_LS_DELAY_MS} ms wait | ${peerWork.toFixed(3)} | | | ${(peerWork / base).toFixed(2)}x |`);
  const speedup = pct(peer.samples, 0.5) / base;
  console.log(
    `\nGoals: median <= 5 ms (${base <= 5 ? 'met' : 'NOT met'}: ${base.toFixed(3)} ms); >= 5x faster than yaml-language-server (${speedup >= 5 ? 'met' : 'NOT met'}: ${speedup.toFixed(2)}x end to end, ${(peerWork / base).toFixed(2)}x on work alone).`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
