// File I/O the engine trusts: writes that never leave a half-written file behind (a reader sees the old file or the
// new one, not a torso) and reads that refuse what is not a regular file of a sane size (a FIFO would block forever,
// /dev/zero never ends). Failures name the file.
import { randomBytes } from 'node:crypto';
import { formatBytes } from '../../core/format';
import { EngineError } from '../errors';
import { closeSync, constants, fstatSync, openSync, promises as fsp, readSync, renameSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';

/**
 * A write (or read) that failed for a reason no retry fixes: the disk is full, the quota spent, the file system
 * read-only, permission denied, a path through a file. The engine's error code `io`, exit status 3.
 */
export class IoError extends EngineError {
  constructor(
    message: string,
    readonly path: string,
    /** The system's code (ENOSPC, EDQUOT, EROFS, EACCES...), when there is one. */
    readonly errno: string | null,
  ) {
    super('io', message, path);
    this.name = 'IoError';
  }
}

const WORDS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a folder on the path is a file',
  EISDIR: 'it is a folder',
  ENOENT: 'no such folder',
  EIO: 'input/output error',
  EFBIG: 'file too large',
};

/** `e` as an IoError about `path` when it is a system error (ENOSPC and the like); anything else unchanged. */
export function ioErrorOf(e: unknown, path: string, verb = 'write'): unknown {
  if (e instanceof IoError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  return new IoError(`cannot ${verb} ${path}: ${WORDS[code] ?? (e as Error).message} (${code})`, path, code);
}

function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

const TEMP_NAME = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/** The pid of the process that wrote temporary file `name` (NAME.tmp-PID-HEX), or null when it is not one. */
export function tempFileWriter(name: string): number | null {
  const m = TEMP_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** The file operations atomic writes use; tests inject failing ones (a full disk cannot be made on demand). */
export interface WriteOps {
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

const realOps: WriteOps = { writeFile: (p, d) => fsp.writeFile(p, d), rename: (a, b) => fsp.rename(a, b) };

/**
 * Write to a temporary file beside `path`, then rename over it (rename is atomic within one file system). On failure
 * the temporary file is removed and a system error becomes an IoError naming `path`.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, ops: WriteOps = realOps): Promise<void> {
  const tmp = tempName(path);
  try {
    await ops.writeFile(tmp, data);
    await ops.rename(tmp, path);
  } catch (e) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw ioErrorOf(e, path);
  }
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created
    }
    throw ioErrorOf(e, path);
  }
}

/**
 * A file that is not one to read: a FIFO, a device, a folder, or larger than the reader allows. Its message is the
 * reason without the path (callers print `cannot read <path>: <reason>`); `path` has it.
 */
export class FileCheckError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'FileCheckError';
  }
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Open `path` for reading without blocking (a FIFO's open would wait for a writer), check it is a regular file, and
 * hand its descriptor and size to `body`. System errors (ENOENT, EACCES) are thrown as they are.
 */
function withRegularFile<T>(path: string, what: string, body: (fd: number, size: number) => T): T {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new FileCheckError(`${kindOf(s)}, not a regular file: the ${what} must be a file`, path);
    return body(fd, s.size);
  } finally {
    closeSync(fd);
  }
}

/** The size of a regular file (FileCheckError for anything else), without reading it. */
export function regularFileSize(path: string, what: string): number {
  return withRegularFile(path, what, (_fd, size) => size);
}

/**
 * Up to `max` bytes from `fd`, stopping at end of file. The buffer starts at the size fstat gave (plus one byte, to
 * see a file that grew) and doubles only if the file did grow: allocating `max` for every read (16 MiB for a 1 KB
 * annotation) made reading 20,000 VOC files take minutes of garbage collection.
 */
function readUpTo(fd: number, max: number, expected = max): Buffer {
  let buf = Buffer.allocUnsafe(Math.max(0, Math.min(max, expected + 1)));
  let got = 0;
  while (got < max) {
    if (got === buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(max, 2 * buf.length + 1));
      buf.copy(bigger, 0, 0, got);
      buf = bigger;
    }
    const n = readSync(fd, buf, got, buf.length - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * The bytes of a regular file of at most `maxBytes`; FileCheckError (naming the limit) for a larger one, a FIFO, a
 * device or a folder. A file that grows while read is cut at the limit and refused, never read without end.
 */
export function readFileChecked(path: string, maxBytes: number, what: string): Buffer {
  return withRegularFile(path, what, (fd, size) => {
    const tooLarge = (n: number) => new FileCheckError(n === size ? `the ${what} is ${formatBytes(n)}, over its limit of ${formatBytes(maxBytes)}` : `the ${what} grew past its limit of ${formatBytes(maxBytes)} while being read`, path);
    if (size > maxBytes) throw tooLarge(size);
    const bytes = readUpTo(fd, maxBytes + 1, size);
    if (bytes.length > maxBytes) throw tooLarge(bytes.length);
    return bytes;
  });
}

/** The first `bytes` bytes of a regular file (for a too-large spec's one diagnostic), and its whole size. */
export function readFileHead(path: string, bytes: number, what: string): { head: Buffer; size: number } {
  return withRegularFile(path, what, (fd, size) => ({ head: readUpTo(fd, Math.min(bytes, size)), size }));
}

/** A text file of at most `maxBytes` as UTF-8 (invalid bytes become U+FFFD, as readFileSync's 'utf8' does). */
export function readTextFileChecked(path: string, maxBytes: number, what: string): string {
  return readFileChecked(path, maxBytes, what).toString('utf8');
}

/** Where the first byte that is not UTF-8 is, or null: its byte offset, and its 1-based line and column (UTF-16). */
export function invalidUtf8(bytes: Uint8Array): { offset: number; line: number; column: number; byte: number } | null {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return null;
  } catch {
    // find it below
  }
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    // The sequence length and the smallest code point it may encode (shorter forms are overlong, so invalid).
    let len: number;
    let min = 0;
    if (b < 0x80) len = 1;
    else if (b >= 0xc2 && b <= 0xdf) [len, min] = [2, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [len, min] = [3, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [len, min] = [4, 0x10000];
    else break;
    if (i + len > n) break;
    let cp = len === 1 ? b : b & (0xff >> (len + 1));
    let ok = true;
    for (let k = 1; k < len; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 0x3f);
    }
    if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) break;
    i += len;
  }
  if (i >= n) return null;
  let lineStart = 0;
  let line = 1;
  for (let k = 0; k < i; k++) {
    const c = bytes[k];
    if (c === 10 || (c === 13 && bytes[k + 1] !== 10)) {
      line++;
      lineStart = k + 1;
    }
  }
  const column = Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, i - lineStart).toString('utf8').length + 1;
  return { offset: i, line, column, byte: bytes[i] };
}

/** COCO instances files: train2017's is 450 MB; a JS string cannot hold much more than 512 MB. */
export const MAX_COCO_BYTES = 512 * 1024 * 1024;
/** One VOC annotation (a few KB; 20,000 objects are ~4 MB). */
export const MAX_ANNOTATION_BYTES = 16 * 1024 * 1024;
/** An ImageSets/Main list (one id a line). */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;
