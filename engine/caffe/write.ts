// A set of files written as one: all go to a temporary folder first, then into place by renames, so an error (a full
// disk, a folder that cannot be written) leaves no part of the set behind.
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ioErrorOf } from '../data/files';

/**
 * Write `files` (name -> text) into folder `dir`. A new `dir` appears whole (the temporary folder is renamed to it);
 * into an existing one the files are renamed one by one, each atomically, after all were written. Throws IoError.
 */
export function writeFolderAtomic(dir: string, files: { name: string; text: string }[]): void {
  let exists = false;
  try {
    const s = statSync(dir);
    if (!s.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    exists = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioErrorOf(e, dir);
  }
  // A name taken by a folder (or anything but a file) would stop the renames half way: refused before any is made.
  if (exists)
    for (const f of files) {
      const target = join(dir, f.name);
      let kind: string | null = null;
      try {
        const s = lstatSync(target);
        if (!s.isFile()) kind = s.isDirectory() ? 'EISDIR' : 'EEXIST';
      } catch {
        // absent: fine
      }
      if (kind) throw ioErrorOf(Object.assign(new Error(`${target} exists and is not a file`), { code: kind }), target);
    }
  // Beside a new folder (same file system, so the rename is atomic), inside an existing one.
  const tmp = exists ? join(dir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`) : `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    mkdirSync(tmp);
  } catch (e) {
    throw ioErrorOf(e, exists ? dir : dirname(dir) || '.');
  }
  let at = tmp;
  try {
    for (const f of files) {
      at = join(dir, f.name);
      writeFileSync(join(tmp, f.name), f.text);
    }
    if (exists) {
      for (const f of files) {
        at = join(dir, f.name);
        renameSync(join(tmp, f.name), at);
      }
      rmSync(tmp, { recursive: true, force: true });
    } else {
      at = dir;
      renameSync(tmp, dir);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw ioErrorOf(e, at);
  }
}
