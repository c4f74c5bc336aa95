// Reading a spec file for the CLI, before any parsing: a regular file (a FIFO would block, /dev/zero never ends), no
// larger than core checks (a larger one gets core's one `spec/too-large` diagnostic from its first bytes, the rest is
// never read), and valid UTF-8 (decoded strictly: the first bad byte is an error at its line and column).
import { DEFAULT_MAX_LENGTH, oversizedSpec, parseSource, severityOf, type SpecCheck, type SpecFormat } from '../../core';
import { invalidUtf8, readFileChecked, readFileHead } from '../data/files';

export type SpecRead = { text: string; check?: undefined } | { text?: undefined; check: SpecCheck };

/**
 * The spec's text, or (too large, not UTF-8) the check that refuses it. Throws what the file system throws (ENOENT,
 * EACCES) and FileCheckError for what is not a regular file.
 */
export function readSpecFile(path: string, format: SpecFormat): SpecRead {
  const { head, size } = readFileHead(path, 1024, 'spec');
  if (size > DEFAULT_MAX_LENGTH) return { check: oversizedSpec(head.toString('utf8'), size, format) };
  const bytes = readFileChecked(path, DEFAULT_MAX_LENGTH, 'spec');
  const bad = invalidUtf8(bytes);
  if (!bad) return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  const at = { line: bad.line - 1, character: bad.column - 1 };
  return {
    check: {
      document: parseSource('', format),
      diagnostics: [
        {
          code: 'spec/not-utf8',
          severity: severityOf('spec/not-utf8'),
          message: `invalid UTF-8: byte 0x${bad.byte.toString(16).toUpperCase().padStart(2, '0')} at byte offset ${bad.offset} (line ${bad.line}, column ${bad.column}); a spec must be UTF-8 (re-save it as UTF-8)`,
          range: { start: at, end: { line: at.line, character: at.character + 1 } },
          path: [],
        },
      ],
      spec: null,
      analysis: null,
      analysisFrom: null,
      setAside: [],
      provisional: null,
    },
  };
}

/** Why a spec could not be read: the system's code (ENOENT) or the check's reason. */
export function readFailure(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}
