// A small zip reader for the tests (a .vsix is a zip): the central directory, stored and deflated entries. No zip64,
// no encryption: enough for the packages this repository builds, and no `unzip` needed on the machine.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  method: number;
  offset: number;
}

export function listZip(buf: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${k}`);
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    const offset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLength);
    entries.push({ name, size, compressedSize, method, offset });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

export function readEntry(buf: Buffer, e: ZipEntry): Buffer {
  if (buf.readUInt32LE(e.offset) !== 0x04034b50) throw new Error(`bad local header for ${e.name}`);
  const start = e.offset + 30 + buf.readUInt16LE(e.offset + 26) + buf.readUInt16LE(e.offset + 28);
  const raw = buf.subarray(start, start + e.compressedSize);
  const data = e.method === 0 ? Buffer.from(raw) : e.method === 8 ? inflateRawSync(raw) : null;
  if (!data) throw new Error(`${e.name}: compression method ${e.method} is not supported`);
  if (data.length !== e.size) throw new Error(`${e.name}: ${data.length} bytes, expected ${e.size}`);
  return data;
}

/** Extract every file into `dir` (names that would leave it are refused). */
export function extractZip(file: string, dir: string): ZipEntry[] {
  const buf = readFileSync(file);
  const entries = listZip(buf);
  const root = resolve(dir);
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    const target = resolve(root, e.name);
    if (!target.startsWith(root + sep)) throw new Error(`${e.name} leaves the target folder`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, readEntry(buf, e));
  }
  return entries;
}
