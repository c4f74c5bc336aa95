// Diagnostics are values: every problem core finds is one of these, with the exact source range it is about.
import type { DiagnosticCode, ParserCode } from './codes';

export interface Position {
  /** 0-based line. */
  line: number;
  /** 0-based column in UTF-16 code units (as the Language Server Protocol counts). */
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A path into the spec's data: object keys and array indices, as in a JSON pointer. */
export type Path = readonly (string | number)[];

export interface Diagnostic {
  /** Stable identifier, e.g. `schema/unknown-key`, `priors/length-mismatch`, `principle/no-stem` (core/codes.ts). */
  code: DiagnosticCode | ParserCode;
  severity: Severity;
  message: string;
  range: Range;
  /** Where in the spec's data the problem is (the range was resolved from it). */
  path: Path;
  /** A replacement the editor can offer as a quick fix (the closest known key or value). */
  suggestion?: string;
}

/** A problem before its range is resolved: core's passes speak in data paths, the document maps them to text. */
export interface Finding {
  /** Its severity is the code's (core/codes.ts). */
  code: DiagnosticCode;
  message: string;
  path: Path;
  /** Point at the key of `path` (e.g. an unknown key) rather than at its value. */
  at?: 'key' | 'value';
  suggestion?: string;
}

export const severityRank: Record<Severity, number> = { error: 0, warning: 1, information: 2, hint: 3 };

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
