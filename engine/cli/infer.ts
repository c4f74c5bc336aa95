// `dsod infer <spec> --weights FILE <images or folders>`: detections as JSON (stdout, or DIR/detections.json with
// --out), and with --draw a PNG per image with its boxes drawn.
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { defaultBoxes } from '../../core';
import { writeFileAtomic } from '../data/files';
import { drawDetections } from '../infer/draw';
import { listImages } from '../infer/images';
import { inferImages } from '../infer/infer';
import { numberOption, parseCommand, UsageError } from './args';
import { chooseBackend, createSink, runEngineCommand, type Io } from './engine-command';
import { loadTrainedModel } from './model-file';
import { loadSpec } from './spec-file';

export const INFER_USAGE = `  infer <spec> <images or folders...>
                     Detect objects; prints detections as JSON (pixel corners, class, score)
      --weights FILE     A checkpoint (.dsodckpt) or weights file (.dsodw)
      --out DIR          Write DIR/detections.json instead of printing
      --draw             Also write DIR/<image>.png with the boxes drawn (needs --out)
      --threshold T      Lowest score reported (default 0.3)
      --backend NAME     As for train
      --json             Print events as JSON lines on stdout (needs --out)
`;

export async function inferCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('infer', args, {
    weights: { type: 'string' },
    out: { type: 'string' },
    draw: { type: 'boolean', default: false },
    threshold: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const json = values.json === true;
  // Detections go to stdout without --out: then events and human lines go to stderr, keeping stdout one JSON document.
  const toStdout = !values.out;
  const sink = createSink(toStdout && !json ? { stdout: io.stderr, stderr: io.stderr } : io, json);
  return runEngineCommand(sink, async () => {
    const [specPath, ...inputs] = positionals;
    if (!specPath || inputs.length === 0) throw new UsageError('infer takes a spec file and at least one image or folder');
    if (!values.weights) throw new UsageError('infer needs --weights FILE (a run folder holds weights.dsodw)');
    if (values.draw && !values.out) throw new UsageError('--draw needs --out DIR for the PNGs');
    if (json && toStdout) throw new UsageError('--json prints events on stdout: give --out DIR for the detections');
    const threshold = numberOption('threshold', values.threshold, 0, false) ?? 0.3;
    const spec = loadSpec(specPath);
    const { images, problems } = listImages(inputs);
    for (const p of problems) sink.emit({ type: 'log', level: 'warn', message: p });
    if (!images.length) throw new UsageError('no images to detect on');
    await chooseBackend(sink, values.backend);
    const { model } = loadTrainedModel(spec, values.weights);
    const out = values.out ? resolve(values.out) : null;
    if (out) mkdirSync(out, { recursive: true });
    const names =
      spec.analysis.spec.classes.names ?? Array.from({ length: spec.analysis.spec.classes.count }, (_, i) => (i === 0 ? 'background' : `class${i}`));
    const used = new Set<string>();
    try {
      const r = await inferImages(
        model,
        defaultBoxes(spec.analysis),
        images,
        { classNames: names, threshold, detect: { variances: spec.analysis.spec.priors.variances } },
        async (d) => {
          if (out && values.draw) await drawDetections(d, join(out, uniquePng(d.image, used)));
        },
      );
      for (const p of r.problems) sink.emit({ type: 'log', level: 'warn', message: p });
      const doc = JSON.stringify({ spec: spec.path, weights: values.weights, threshold, images: r.results }, null, 1) + '\n';
      if (out) {
        await writeFileAtomic(join(out, 'detections.json'), doc);
        const n = r.results.reduce((s, x) => s + x.detections.length, 0);
        sink.emit({
          type: 'log',
          level: 'info',
          message: `${n} detections on ${r.results.length} images -> ${join(out, 'detections.json')}${values.draw ? ` (+ ${r.results.length} PNGs)` : ''}`,
        });
      } else io.stdout.write(doc);
      return { reason: 'completed', step: null, exitCode: r.results.length ? 0 : 1, metric: null };
    } finally {
      model.dispose();
    }
  });
}

/** <name>.png, with -2, -3 ... when two inputs share a name (a.jpg and a.png, or the same name in two folders). */
function uniquePng(image: string, used: Set<string>): string {
  const stem = basename(image, extname(image));
  let name = `${stem}.png`;
  for (let k = 2; used.has(name); k++) name = `${stem}-${k}.png`;
  used.add(name);
  return name;
}
