// core's front door: spec text in; diagnostics, the normalized spec and the analysed network out. Never throws.
import { analyzeGraph, type Analysis } from './analysis/analyze';
import { lintAnalysis, lintSpec, principleHints } from './analysis/lints';
import { severityRank, type Diagnostic, type Finding } from './diagnostics';
import { buildGraph } from './graph/build';
import { normalizeSpec } from './spec/normalize';
import { parseSource, type SourceDocument, type SpecFormat } from './spec/source';
import type { NormalizedSpec } from './spec/types';
import { validateSpec } from './spec/validate';

export interface SpecCheck {
  document: SourceDocument;
  /** Sorted by position, then severity. */
  diagnostics: Diagnostic[];
  /** Present when the spec is valid enough to normalize. */
  spec: NormalizedSpec | null;
  /** Present when the network could be built; it may still carry errors (over budget, for example). */
  analysis: Analysis | null;
}

export interface CheckOptions {
  /** Design-principle hints (information severity); on by default. */
  hints?: boolean;
  /** Larger texts are refused with one diagnostic instead of parsed (a spec is a few KB; YAML parses ~1 MB/s). */
  maxLength?: number;
}

export const DEFAULT_MAX_LENGTH = 512 * 1024;

export function checkSpec(text: string, format: SpecFormat, options: CheckOptions = {}): SpecCheck {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  // Refused before any parsing, whatever its shape: a one-line file is as large as its first line.
  if (text.length > maxLength) return oversizedSpec(text, text.length, format, maxLength);
  const findings: Finding[] = [];
  let document: SourceDocument = parseSource('', format);
  let spec: NormalizedSpec | null = null;
  let analysis: Analysis | null = null;
  try {
    document = parseSource(text, format);
    if (document.syntaxErrors.length === 0) {
      if (document.value === undefined || document.value === null) {
        findings.push({ code: 'spec/empty', severity: 'error', message: 'The spec is empty: it needs at least `dsod: 1`.', path: [] });
      } else {
        findings.push(...validateSpec(document.value));
        if (findings.length === 0) {
          const data = document.value as Record<string, any>;
          const normalized = normalizeSpec(data);
          findings.push(...normalized.findings);
          spec = normalized.spec;
          findings.push(...lintSpec(spec, data));
          const graph = buildGraph(spec, findings);
          if (graph) {
            analysis = analyzeGraph(spec, graph);
            findings.push(...lintAnalysis(analysis, data));
          }
          if (options.hints !== false) findings.push(...principleHints(spec, data));
        }
      }
    }
  } catch (e) {
    // A bug of ours (or a parser's), not the user's: report it where they can see it instead of taking the editor down.
    findings.push({ code: 'internal', severity: 'error', message: `Internal error while checking this spec: ${(e as Error).message}`, path: [], at: 'key' });
    analysis = null;
  }
  const diagnostics = [...document.syntaxErrors, ...findings.map((f) => place(document, f)), ...replacementCharacters(document)];
  diagnostics.sort(
    (a, b) =>
      a.range.start.line - b.range.start.line ||
      a.range.start.character - b.range.start.character ||
      severityRank[a.severity] - severityRank[b.severity],
  );
  return { document, diagnostics, spec, analysis };
}

/** At most this many `spec/invalid-utf8` warnings per document (one per run of U+FFFD). */
const MAX_REPLACEMENT_WARNINGS = 20;

/**
 * U+FFFD in the text: what a decoder puts where the file's bytes were not UTF-8 (an editor hands us text already
 * decoded). A warning at each run of them: the spec still reads, but those characters are not what the file held and
 * saving it would replace the original bytes for good. The CLI reads bytes and refuses invalid UTF-8 as an error.
 */
function replacementCharacters(document: SourceDocument): Diagnostic[] {
  const text = document.text;
  const out: Diagnostic[] = [];
  for (let i = text.indexOf('\uFFFD'); i >= 0 && out.length < MAX_REPLACEMENT_WARNINGS; i = text.indexOf('\uFFFD', i)) {
    let end = i;
    while (text.charCodeAt(end) === 0xfffd) end++;
    out.push({
      code: 'spec/invalid-utf8',
      severity: 'warning',
      message: `${end - i === 1 ? 'A replacement character (U+FFFD)' : `${end - i} replacement characters (U+FFFD)`}: the file is probably not valid UTF-8 here; retype the text (saving keeps U+FFFD, not the original bytes).`,
      range: { start: document.positionAt(i), end: document.positionAt(end) },
      path: document.pathAt(i).path,
    });
    i = end;
  }
  return out;
}

/** What the first line is read up to, at most, to place a too-large spec's diagnostic. */
const HEAD_LIMIT = 256;

/**
 * The check of a spec too large to parse: one `spec/too-large` error over its first line (at most 256 characters of
 * it), nothing else parsed. `head` may be the text or only its beginning (the CLI reads no more); `size`
 * is the whole spec's length (characters, or bytes for a file).
 */
export function oversizedSpec(head: string, size: number, format: SpecFormat, maxLength: number = DEFAULT_MAX_LENGTH): SpecCheck {
  const lineEnd = Math.min(head.slice(0, HEAD_LIMIT + 1).search(/\r|\n|$/), HEAD_LIMIT);
  // The document holds the first line only when it is short and parses alone (hovers and lenses then have a key).
  const parsed = parseSource(head.slice(0, lineEnd), format);
  const document = parsed.syntaxErrors.length === 0 ? parsed : parseSource('', format);
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: lineEnd } };
  const diagnostic: Diagnostic = {
    code: 'spec/too-large',
    severity: 'error',
    message: `This spec is ${(size / 1024).toFixed(0)} KB; specs over ${(maxLength / 1024).toFixed(0)} KB are not checked (a DSOD spec is a few KB).`,
    range,
    path: [],
  };
  return { document, diagnostics: [diagnostic], spec: null, analysis: null };
}

function place(document: SourceDocument, f: Finding): Diagnostic {
  const d: Diagnostic = { code: f.code, severity: f.severity, message: f.message, range: document.rangeOf(f.path, f.at), path: f.path };
  if (f.suggestion !== undefined) d.suggestion = f.suggestion;
  return d;
}

export type { Analysis, LayerStats, ScaleStats, StageStats, Totals } from './analysis/analyze';
export { defaultBoxes } from './analysis/analyze';
export * from './format';
export type { Diagnostic, Path, Position, Range, Severity } from './diagnostics';
export type { LayerGraph, LayerNode, Shape } from './graph/types';
export { formatOf, type SourceDocument, type SpecFormat } from './spec/source';
export { LINE_BREAK, lineStarts, splitLines } from './spec/lines';
export type { NormalizedSpec } from './spec/types';
