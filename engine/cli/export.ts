// `dsod export --graph SPEC [--out FILE]`: core's analysed layer graph as versioned JSON (protocol/graph-json.ts,
// documented in docs/graph-json.md), the network description the PyTorch engine (engine/torch/) builds from.
import { toGraphJson, type GraphJson } from '../../protocol/graph-json';
import { IoError, writeFileAtomic } from '../data/files';
import { parseCommand, UsageError } from './args';
import { EXIT } from '../errors';
import { specTextHash } from '../train/checkpoint';
import type { Io } from './engine-command';
import { EXPORT_TFJS_USAGE, exportTfjsCommand, wantsTfjs } from './export-tfjs';
import { releaseStopSignals } from './signals';
import { loadSpec, SpecError } from './spec-file';

export const EXPORT_USAGE = `  export --graph <spec>
                     Write the analysed layer graph as JSON (format dsod-graph, version 1; docs/graph-json.md):
                     every node's kind, attributes, inputs and shape, the scales, the parameter totals
      --out FILE         Write there (atomically) instead of to stdout
${EXPORT_TFJS_USAGE}`;

export async function exportCommand(args: string[], io: Io): Promise<number> {
  if (wantsTfjs(args)) return exportTfjsCommand(args, io);
  // Nothing here needs a graceful stop: a signal ends it as it would any short command.
  releaseStopSignals();
  const { values, positionals } = parseCommand('export', args, { graph: { type: 'string' }, out: { type: 'string' } });
  if (positionals.length) throw new UsageError(`export: unexpected argument "${positionals[0]}" (the spec goes after --graph)`);
  if (values.graph === undefined) throw new UsageError('export: say what to export: --graph <spec>');
  let text: string;
  try {
    const spec = loadSpec(values.graph);
    text = formatGraphJson(toGraphJson(spec.analysis, { hash: specTextHash(spec.text) }));
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    io.stderr.write(`dsod: ${e.message}\n${e.lines.map((l) => `${l}\n`).join('')}`);
    return e.io ? EXIT.usage : EXIT.failed;
  }
  if (values.out === undefined) {
    io.stdout.write(text);
    return EXIT.ok;
  }
  try {
    await writeFileAtomic(values.out, text);
  } catch (e) {
    if (!(e instanceof IoError)) throw e;
    io.stderr.write(`dsod: ${e.message}\n`);
    return EXIT.io;
  }
  io.stdout.write(`${values.out}\n`);
  return EXIT.ok;
}

/** One node (and one scale) per line: DSOD300's ~1,000 nodes stay readable and diff line by line. */
export function formatGraphJson(g: GraphJson): string {
  const list = (items: unknown[]) => `[\n${items.map((i) => `  ${JSON.stringify(i)}`).join(',\n')}\n ]`;
  const { format, version, spec, nodes, scales, totals } = g;
  const fields = [
    ` "format": ${JSON.stringify(format)}`,
    ` "version": ${JSON.stringify(version)}`,
    ` "spec": ${JSON.stringify(spec)}`,
    ` "nodes": ${list(nodes)}`,
    ` "scales": ${list(scales)}`,
    ` "totals": ${JSON.stringify(totals)}`,
  ];
  return `{\n${fields.join(',\n')}\n}\n`;
}
