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
  const findings: Finding[] = [];
  let document: SourceDocument = parseSource('', format);
  let spec: NormalizedSpec | null = null;
  let analysis: Analysis | null = null;
  try {
    if (text.length > maxLength) {
      document = parseSource(text.slice(0, text.search(/\r|\n|$/)), format);
      findings.push({
        code: 'spec/too-large',
        severity: 'error',
        message: `This spec is ${(text.length / 1024).toFixed(0)} KB; specs over ${(maxLength / 1024).toFixed(0)} KB are not checked (a DSOD spec is a few KB).`,
        path: [],
        at: 'key',
      });
    } else {
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
    }
  } catch (e) {
    // A bug of ours (or a parser's), not the user's: report it where they can see it instead of taking the editor down.
    findings.push({ code: 'internal', severity: 'error', message: `Internal error while checking this spec: ${(e as Error).message}`, path: [], at: 'key' });
    analysis = null;
  }
  const diagnostics = [...document.syntaxErrors, ...findings.map((f) => place(document, f))];
  diagnostics.sort(
    (a, b) =>
      a.range.start.line - b.range.start.line ||
      a.range.start.character - b.range.start.character ||
      severityRank[a.severity] - severityRank[b.severity],
  );
  return { document, diagnostics, spec, analysis };
}

function place(document: SourceDocument, f: Finding): Diagnostic {
  const d: Diagnostic = { code: f.code, severity: f.severity, message: f.message, range: document.rangeOf(f.path, f.at), path: f.path };
  if (f.suggestion !== undefined) d.suggestion = f.suggestion;
  return d;
}

export type { Analysis, LayerStats, ScaleStats, StageStats, Totals } from './analysis/analyze';
export { defaultBoxes } from './analysis/analyze';
export { formatBytes, formatCount } from './format';
export type { Diagnostic, Path, Position, Range, Severity } from './diagnostics';
export type { LayerGraph, LayerNode, Shape } from './graph/types';
export { formatOf, type SourceDocument, type SpecFormat } from './spec/source';
export type { NormalizedSpec } from './spec/types';
