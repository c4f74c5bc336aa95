// `dsod export --graph SPEC [--out FILE]`: core's analysed layer graph as versioned JSON (protocol/graph-json.ts,
// documented in docs/graph-json.md), the network description the PyTorch engine (engine/torch/) builds from.
// `dsod export --caffe SPEC --out DIR`: prototxts and a solver for Caffe (engine/caffe/).
// `dsod export --onnx SPEC (--weights FILE | --random-weights) --out FILE`: the network as ONNX (engine/onnx/).
import { defaultBoxes } from '../../core';
import { toGraphJson, type GraphJson } from '../../protocol/graph-json';
import { writeFileAtomic } from '../data/files';
import { parseCommand, UsageError } from './args';
import { exportCaffe } from './caffe';
import { EngineError, EXIT } from '../errors';
import { seededWeights } from '../latency/measure';
import type { WeightMap } from '../model/weights';
import { buildOnnxModel } from '../onnx/build';
import { readWeightsFile, specTextHash } from '../train/checkpoint';
import type { Io } from './engine-command';
import { writeTextOutput } from './text-output';
import { EXPORT_TFJS_USAGE, exportTfjsCommand, wantsTfjs } from './export-tfjs';
import { releaseStopSignals } from './signals';
import { loadSpecOrReport } from './spec-file';

export const EXPORT_USAGE = `  export --graph <spec>
                     Write the analysed layer graph as JSON (format dsod-graph, version 1; docs/graph-json.md):
                     every node's kind, attributes, inputs and shape, the scales, the parameter totals
      --out FILE         Write there (atomically) instead of to stdout
  export --caffe <spec> --out <folder>
                     Write train, test and deploy prototxts and a solver for Caffe (SSD's fork), as the official
                     DSOD code generates them; all four files or none
  export --onnx <spec> --weights FILE --out FILE
                     Write the network as an ONNX model (opset 13): input images [batch, 3, H, W] (the engine's
                     normalized pixels, channels first), outputs loc, conf (logits) and priors (the default boxes)
      --weights FILE     A checkpoint (.dsodckpt) or weights file (.dsodw) that fits the spec
      --random-weights   Instead of --weights: the spec's initial weights (train.seed), for timing or wiring checks
      --with-postprocess Also box decoding, softmax and per-class NonMaxSuppression in the graph: outputs boxes,
                         scores and detections [n, 7] (image, class, score, xmin, ymin, xmax, ymax)
${EXPORT_TFJS_USAGE}`;

export async function exportCommand(args: string[], io: Io): Promise<number> {
  if (wantsTfjs(args)) return exportTfjsCommand(args, io);
  // Nothing here needs a graceful stop: a signal ends it as it would any short command.
  releaseStopSignals();
  const { values, positionals } = parseCommand('export', args, {
    graph: { type: 'string' },
    caffe: { type: 'string' },
    onnx: { type: 'string' },
    weights: { type: 'string' },
    'random-weights': { type: 'boolean', default: false },
    'with-postprocess': { type: 'boolean', default: false },
    out: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`export: unexpected argument "${positionals[0]}" (the spec goes after --graph, --caffe or --onnx)`);
  const formats = (['graph', 'caffe', 'onnx'] as const).filter((f) => values[f] !== undefined);
  if (formats.length > 1) throw new UsageError(`export: one format at a time, not ${formats.map((f) => `--${f}`).join(' and ')}`);
  if (values.onnx !== undefined) return exportOnnx(values.onnx, values, io);
  if (values.weights !== undefined || values['random-weights'] || values['with-postprocess'])
    throw new UsageError('export: --weights, --random-weights and --with-postprocess go with --onnx');
  if (values.caffe !== undefined) return exportCaffe(values.caffe, values.out, io);
  if (values.graph === undefined) throw new UsageError('export: say what to export: --graph <spec>, --caffe <spec> or --onnx <spec>');
  const spec = loadSpecOrReport(values.graph, io);
  if (typeof spec === 'number') return spec;
  const text = formatGraphJson(toGraphJson(spec.analysis, { hash: specTextHash(spec.text) }));
  return writeTextOutput(io, values.out, text);
}

async function exportOnnx(
  specPath: string,
  values: { weights?: string; 'random-weights'?: boolean; 'with-postprocess'?: boolean; out?: string },
  io: Io,
): Promise<number> {
  if (values.out === undefined) throw new UsageError('export --onnx: say where with --out FILE (an ONNX model is binary)');
  if (values.weights !== undefined && values['random-weights']) throw new UsageError('export --onnx: --weights or --random-weights, not both');
  if (values.weights === undefined && !values['random-weights'])
    throw new UsageError('export --onnx needs --weights FILE (a checkpoint or .dsodw); --random-weights exports the untrained initial weights');
  const spec = loadSpecOrReport(specPath, io);
  if (typeof spec === 'number') return spec;
  const { analysis } = spec;
  let bytes: Uint8Array;
  try {
    let weights: WeightMap;
    if (values.weights !== undefined) {
      try {
        weights = readWeightsFile(values.weights).weights;
      } catch (e) {
        throw new EngineError('weights', (e as Error).message, values.weights);
      }
    } else weights = seededWeights(analysis);
    const postprocess = values['with-postprocess'] ? { variances: analysis.spec.priors.variances } : null;
    try {
      bytes = buildOnnxModel(analysis.graph, weights, {
        priors: defaultBoxes(analysis),
        postprocess,
        doc: `DSOD detector of ${spec.path} (dsod export --onnx)`,
      });
    } catch (e) {
      if (e instanceof EngineError && values.weights !== undefined)
        throw new EngineError('weights', `${values.weights} does not fit ${spec.path}: ${e.message}`, values.weights);
      throw e;
    }
    await writeFileAtomic(values.out, bytes);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    io.stderr.write(`dsod: ${e.message}\n`);
    return e.exitStatus;
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
