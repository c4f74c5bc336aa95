// `dsod report RUNDIR`: the run dashboard as one offline file, RUNDIR/report.html (curves, per-class AP, PR curves,
// the inference gallery), for anyone without VS Code.
import { statSync } from 'node:fs';
import { writeReport } from '../report/report';
import { EXIT } from '../errors';
import { parseCommand, UsageError } from './args';
import type { Io } from './engine-command';

export const REPORT_USAGE = `  report <rundir>    Write RUNDIR/report.html: the run dashboard as one offline file (loss, learning rate, mAP,
                     per-class AP, precision-recall curves, detections on images), opens in any browser
      --out FILE         Write there instead
`;

export async function reportCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('report', args, { out: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('report takes exactly one run folder');
  const runDir = positionals[0];
  try {
    if (!statSync(runDir).isDirectory()) throw new Error('not a folder');
  } catch {
    io.stderr.write(`dsod: ${runDir}: no such run folder\n`);
    return EXIT.usage;
  }
  try {
    const path = await writeReport(runDir, values.out ? { out: values.out } : {});
    io.stdout.write(`${path}\n`);
    return EXIT.ok;
  } catch (e) {
    io.stderr.write(`dsod: report: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
}
