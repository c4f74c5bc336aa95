// `dsod demo`: the README's main job in one command. Makes the synthetic set if it is not there, trains the tiny
// example from scratch on the CPU with live progress (or continues / re-evaluates an earlier demo run), and prints
// the held-out VOC07 mAP.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { intOption, numberOption, parseCommand, UsageError } from './args';
import { createSink, runEngineCommand, type Io } from './engine-command';
import { METRIC_NAMES } from './reporter';
import { writeSynth } from './synth';
import { runTraining } from './train';

export const DEMO_USAGE = `  demo               Make the synthetic set (if missing), train examples/tiny.dsod.yaml from scratch on the CPU,
                     evaluate it on the held-out images and print the mAP; run it again to continue or re-evaluate
      --minutes M        Time budget (the schedule is compressed to fit); default: the spec's whole schedule
      --data DIR         Dataset folder (default data/synth; made there when missing)
      --out RUNDIR       Run folder (default runs/demo)
      --steps N          Stop after optimizer step N
      --backend NAME     As for train
      --json             Print events as JSON lines on stdout
`;

/** examples/tiny.dsod.yaml of this installation: beside dist/ in the package, or up from out/engine/cli in a checkout. */
export function findTinySpec(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'examples', 'tiny.dsod.yaml');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new UsageError(`examples/tiny.dsod.yaml not found above ${from}`);
  }
}

export async function demoCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('demo', args, {
    minutes: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    steps: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const sink = createSink(io, values.json === true);
  return runEngineCommand(sink, async () => {
    if (positionals.length) throw new UsageError(`demo takes no positional arguments (got "${positionals[0]}")`);
    const minutes = numberOption('minutes', values.minutes, 0);
    const steps = intOption('steps', values.steps, 1);
    const spec = findTinySpec();
    const data = resolve(values.data ?? 'data/synth');
    if (!existsSync(join(data, 'ImageSets', 'Main', 'trainval.txt'))) {
      sink.emit({ type: 'log', level: 'info', message: `making the synthetic dataset in ${data} (2,000 images, a few seconds)` });
      const r = await writeSynth({ out: data }, { stdout: values.json ? { write: () => true } : io.stdout, stderr: io.stderr });
      sink.emit({ type: 'log', level: 'info', message: `wrote ${r.count} images, ${r.objects} objects, in ${r.seconds.toFixed(1)} s` });
    }
    const end = await runTraining(sink, {
      spec,
      data,
      out: values.out ?? 'runs/demo',
      resume: true,
      ...(minutes !== undefined ? { minutes } : {}),
      ...(steps !== undefined ? { steps } : {}),
      ...(values.backend !== undefined ? { backend: values.backend } : {}),
    });
    if (end.metric) sink.print(`\nheld-out ${METRIC_NAMES[end.metric.metric]}: ${end.metric.value.toFixed(4)}`);
    return end;
  });
}
