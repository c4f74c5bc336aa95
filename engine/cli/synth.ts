// `dsod synth`: write the synthetic shapes dataset (VOC layout) that the tiny example trains on, no download needed.
import { resolve } from 'node:path';
import { synthesize, SYNTH_DEFAULTS, type SynthReport } from '../data/synth/generate';
import { EXIT } from '../errors';
import { intOption, parseCommand, UsageError } from './args';
import type { Io } from './engine-command';

export const SYNTH_USAGE = `  synth              Write the synthetic shapes dataset (Pascal VOC layout; train/val/test/trainval lists)
      --out DIR          Output folder (default data/synth)
      --count N          Images (default ${SYNTH_DEFAULTS.count})
      --size S           Image side in pixels (default ${SYNTH_DEFAULTS.width}, the tiny example's input)
      --seed K           Same seed and options, same bytes (default ${SYNTH_DEFAULTS.seed})
`;

export const DEFAULT_SYNTH_DIR = 'data/synth';

export async function synthCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('synth', args, {
    out: { type: 'string' },
    count: { type: 'string' },
    size: { type: 'string' },
    seed: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`synth takes no positional arguments (got "${positionals[0]}")`);
  const size = intOption('size', values.size, 16, 4096);
  const report = await writeSynth(
    {
      out: resolve(values.out ?? DEFAULT_SYNTH_DIR),
      count: intOption('count', values.count, 1, 10_000_000),
      size,
      seed: intOption('seed', values.seed, 0, 0xffffffff),
    },
    io,
  );
  io.stdout.write(summary(report));
  return EXIT.ok;
}

export async function writeSynth(o: { out: string; count?: number; size?: number; seed?: number }, io: Io): Promise<SynthReport> {
  const tty = io.stdout.isTTY === true;
  let last = 0;
  return synthesize({
    out: o.out,
    count: o.count,
    width: o.size,
    height: o.size,
    seed: o.seed,
    onProgress: (done, total) => {
      if (tty && (done === total || performance.now() - last > 100)) {
        last = performance.now();
        io.stdout.write(`\r\x1b[Ksynth: ${done}/${total} images`);
        if (done === total) io.stdout.write('\r\x1b[K');
      }
    },
  });
}

function summary(r: SynthReport): string {
  const per = Object.entries(r.perClass)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `wrote ${r.count} images (${r.width}x${r.height}, seed ${r.seed}) to ${r.out} in ${r.seconds.toFixed(1)} s\n` +
    `  ${r.objects} objects (${per}); ${r.difficult} difficult, ${r.truncated} truncated\n` +
    `  splits: train ${r.splits.train}, val ${r.splits.val}, test ${r.splits.test}, trainval ${r.splits.trainval} (ImageSets/Main/*.txt)\n`
  );
}
