// A command's text result (a graph JSON, an imported spec, ...): to --out, written atomically with its path printed, or
// to stdout. One place, so every such command fails alike on a file it cannot write (exit 3, the file named).
import { IoError, writeFileAtomic } from '../data/files';
import { EXIT } from '../errors';
import type { Io } from './engine-command';

/** Write `text` to `out` (or stdout when absent); the exit status. */
export async function writeTextOutput(io: Io, out: string | undefined, text: string): Promise<number> {
  if (out === undefined) {
    io.stdout.write(text);
    return EXIT.ok;
  }
  try {
    await writeFileAtomic(out, text);
  } catch (e) {
    if (!(e instanceof IoError)) throw e;
    io.stderr.write(`dsod: ${e.message}\n`);
    return EXIT.io;
  }
  io.stdout.write(`${out}\n`);
  return EXIT.ok;
}
