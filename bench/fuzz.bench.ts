// The long fuzz run: random incremental edits with interleaved requests over the built language server on stdio
// (the generator of test/server/fuzz.test.ts), reporting crashes, error responses, error lines the server logged,
// request latency and the server's memory growth.
// Run: npm run bench:fuzz                      (100,000 edits)
//      npm run bench:fuzz -- 20000             (or FUZZ_EDITS=20000; FUZZ_SEED picks the sequence)
import { readFileSync } from 'node:fs';
import { fuzz } from '../test/server/fuzz-edits';
import { startServer, type LspServer } from '../test/server/lsp-harness';

const EDITS = Number(process.argv[2] ?? process.env.FUZZ_EDITS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 2026);
const CHUNK = 5_000;

/** VmRSS and VmHWM of a process, in MiB (Linux; NaN elsewhere). */
function memory(pid: number | undefined): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

async function main(): Promise<void> {
  const started = Date.now();
  let server: LspServer = await startServer();
  const latencies = new Map<string, number[]>();
  const errorResponses: { method: string; message: string }[] = [];
  let edits = 0;
  let requests = 0;
  let crashes = 0;
  let errorLines = 0;
  let internal = 0;
  const rssStart = memory(server.process.pid).rss;
  let rssWarm = NaN;
  const onRequest = (method: string, ms: number) => {
    if (!latencies.has(method)) latencies.set(method, []);
    latencies.get(method)!.push(ms);
  };
  for (let chunk = 0; edits < EDITS; chunk++) {
    const n = Math.min(CHUNK, EDITS - edits);
    const result = await fuzz(server, { seed: SEED + chunk, edits: n, onRequest });
    edits += result.edits;
    requests += result.requests;
    errorResponses.push(...result.errorResponses);
    if (chunk === 0) rssWarm = memory(server.process.pid).rss;
    process.stderr.write(
      `\r${edits.toLocaleString('en-US')} edits, ${requests.toLocaleString('en-US')} requests, ${((Date.now() - started) / 1000).toFixed(0)} s, RSS ${memory(server.process.pid).rss.toFixed(0)} MiB   `,
    );
    if (result.crashed) {
      crashes++;
      errorLines += server.errorLines().length;
      internal += server.internal.length;
      process.stderr.write(`\nthe server exited; stderr tail:\n${server.stderr().slice(-2000)}\n`);
      server = await startServer();
    }
  }
  const end = memory(server.process.pid);
  errorLines += server.errorLines().length;
  internal += server.internal.length;
  const firstErrors = server.errorLines().slice(0, 3);
  await server.stop();
  process.stderr.write('\n');

  const all = [...latencies.values()].flat().sort((a, b) => a - b);
  const rows: [string, string][] = [
    ['edits', edits.toLocaleString('en-US')],
    ['requests', requests.toLocaleString('en-US')],
    ['seed', String(SEED)],
    ['wall time', `${((Date.now() - started) / 1000).toFixed(0)} s`],
    ['server crashes', String(crashes)],
    ['error responses', String(errorResponses.length)],
    ['error lines logged (window/logMessage error, stderr)', String(errorLines)],
    ['internal-error diagnostics', String(internal)],
    ['request latency p50 / p99 / max', `${quantile(all, 0.5).toFixed(2)} / ${quantile(all, 0.99).toFixed(2)} / ${all[all.length - 1].toFixed(1)} ms`],
    ['server RSS start / after 5,000 edits / end', `${rssStart.toFixed(0)} / ${rssWarm.toFixed(0)} / ${end.rss.toFixed(0)} MiB`],
    ['server RSS growth (end - after 5,000 edits)', `${(end.rss - rssWarm).toFixed(0)} MiB (peak ${end.peak.toFixed(0)} MiB)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));
  console.log('\nper request            count      p50 ms   p99 ms   max ms');
  for (const [method, xs] of [...latencies].sort()) {
    xs.sort((a, b) => a - b);
    console.log(
      `${method.padEnd(18)} ${String(xs.length).padStart(9)} ${quantile(xs, 0.5).toFixed(2).padStart(10)} ${quantile(xs, 0.99).toFixed(2).padStart(8)} ${xs[xs.length - 1].toFixed(1).padStart(8)}`,
    );
  }
  for (const e of errorResponses.slice(0, 3)) console.log(`error response: ${e.method}: ${e.message}`);
  for (const e of firstErrors) console.log(`error line: ${e.split('\n')[0]}`);
  if (crashes || errorResponses.length || errorLines || internal) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
