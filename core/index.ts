// core's front door: spec text in; diagnostics, the normalized spec and the analysed network out. Never throws.
import { analyzeGraph, type Analysis } from './analysis/analyze';
import type { MeasuredLatency } from './analysis/budget';
import { lintAnalysis, lintSpec, principleHints } from './analysis/lints';
import { severityRank, type Diagnostic, type Finding } from './diagnostics';
import { severityOf } from './codes';
import { buildGraph } from './graph/build';
import { normalizeSpec } from './spec/normalize';
import { NETWORK_SECTIONS, partialData, readsInvalid, type NetworkSection, type SetAside } from './spec/partial';
import { parseSource, type SourceDocument, type SpecFormat } from './spec/source';
import type { NormalizedSpec } from './spec/types';
import { emptySectionsAsMappings, validateSpec } from './spec/validate';

export interface SpecCheck {
  document: SourceDocument;
  /** Sorted by position, then severity. */
  diagnostics: Diagnostic[];
  /** Present when the spec is valid enough to normalize. */
  spec: NormalizedSpec | null;
  /**
   * Present when the network could be built; it may still carry errors (over budget, for example). Every number in it
   * is the spec's own: with `analysisFrom: 'partial'` schema errors were set aside (`setAside`) that shape no number.
   */
  analysis: Analysis | null;
  /** 'full': the spec as written; 'partial': the spec less what `setAside` lists; null: no analysis. */
  analysisFrom: 'full' | 'partial' | null;
  /** What schema errors made the check leave out (unknown keys, invalid sections at their defaults); empty when none. */
  setAside: SetAside[];
  /**
   * When a section that shapes the network is invalid: the network built with those sections at their defaults. Only
   * its numbers that read none of `invalid` are the spec's own (see NUMBERS_READ); `analysis` is null then.
   */
  provisional: { analysis: Analysis; invalid: NetworkSection[] } | null;
}

export interface CheckOptions {
  /** Design-principle hints (information severity); on by default. */
  hints?: boolean;
  /** Larger texts are refused with one diagnostic instead of parsed (a spec is a few KB; YAML parses ~1 MB/s). */
  maxLength?: number;
  /** The spec's latest measured latency, read by whoever can read files: checked against budget.latency_ms. */
  latency?: MeasuredLatency | null;
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
  let analysisFrom: SpecCheck['analysisFrom'] = null;
  let setAside: SetAside[] = [];
  let provisional: SpecCheck['provisional'] = null;
  try {
    document = parseSource(text, format);
    if (document.syntaxErrors.length === 0) {
      if (document.value === undefined || document.value === null) {
        findings.push({ code: 'spec/empty', message: 'The spec is empty: it needs at least `dsod: 1`.', path: [] });
      } else {
        const value = emptySectionsAsMappings(document.value);
        const schemaFindings = validateSpec(value);
        findings.push(...schemaFindings);
        // Schema errors hide nothing they do not touch: set them aside and check the rest, so that the numbers of the
        // sections that are fine and the semantic errors elsewhere show at once (not only after a typo is fixed).
        const partial = schemaFindings.length === 0 ? { data: value as Record<string, any>, setAside: [] } : partialData(value, schemaFindings);
        if (partial) {
          setAside = partial.setAside;
          const invalid = [...new Set(setAside.flatMap((s) => (s.why === 'invalid-section' && isNetworkSection(s.path[0]) ? [s.path[0]] : [])))];
          const data = partial.data;
          const normalized = normalizeSpec(data);
          const specFindings = [...normalized.findings, ...lintSpec(normalized.spec, data)];
          const later: Finding[] = [];
          const graph = buildGraph(normalized.spec, later);
          let built: Analysis | null = null;
          if (graph) {
            built = analyzeGraph(normalized.spec, graph);
            later.push(...lintAnalysis(built, data, options.latency ?? null));
          }
          if (options.hints !== false) later.push(...principleHints(normalized.spec, data));
          // A section normalization could not read (a notation that does not parse, widths that contradict it, a
          // channels list of another length) took defaults too: its numbers are not the spec's own either.
          const unreadable = normalized.findings.filter((f) => severityOf(f.code) === 'error');
          const broken = [...new Set([...invalid, ...unreadable.flatMap((f) => (isNetworkSection(f.path[0]) ? [f.path[0]] : []))])];
          if (broken.length === 0) {
            spec = normalized.spec;
            analysis = built;
            analysisFrom = built ? (setAside.length ? 'partial' : 'full') : null;
            findings.push(...specFindings, ...later);
          } else {
            // Defaults stand in for invalid sections: keep only what reads none of them, invent nothing.
            findings.push(...unreadable, ...specFindings.filter((f) => !unreadable.includes(f) && !readsInvalid(f.path, broken)));
            if (built) provisional = { analysis: built, invalid: broken };
          }
        }
      }
    }
  } catch (e) {
    // A bug of ours (or a parser's), not the user's: report it where they can see it instead of taking the editor down.
    findings.push({ code: 'internal', message: `Internal error while checking this spec: ${(e as Error).message}`, path: [], at: 'key' });
    analysis = null;
    analysisFrom = null;
    provisional = null;
  }
  const diagnostics = [...document.syntaxErrors, ...findings.map((f) => place(document, f)), ...replacementCharacters(document)];
  diagnostics.sort(
    (a, b) =>
      a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || severityRank[a.severity] - severityRank[b.severity],
  );
  return { document, diagnostics, spec, analysis, analysisFrom, setAside, provisional };
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
      severity: severityOf('spec/invalid-utf8'),
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
    severity: severityOf('spec/too-large'),
    message: `This spec is ${(size / 1024).toFixed(0)} KB; specs over ${(maxLength / 1024).toFixed(0)} KB are not checked (a DSOD spec is a few KB).`,
    range,
    path: [],
  };
  return { document, diagnostics: [diagnostic], spec: null, analysis: null, analysisFrom: null, setAside: [], provisional: null };
}

const isNetworkSection = (s: unknown): s is NetworkSection => (NETWORK_SECTIONS as readonly unknown[]).includes(s);

function place(document: SourceDocument, f: Finding): Diagnostic {
  const d: Diagnostic = { code: f.code, severity: severityOf(f.code), message: f.message, range: document.rangeOf(f.path, f.at), path: f.path };
  if (f.suggestion !== undefined) d.suggestion = f.suggestion;
  return d;
}

// The front door: server/, client/ and engine/ import core from here and nowhere deeper (eslint.config.mjs enforces it),
// so core can reorganise inside without breaking a room. The exceptions are the browser-safe leaves, which import no
// yaml or ajv and so can be bundled into a webview (or into the extension without the whole of core): core/format.ts,
// core/diagnostics.ts, core/spec/lines.ts and core/graph/types.ts.
export type { Analysis, LayerStats, ScaleStats, StageStats, Totals } from './analysis/analyze';
export { defaultBoxes, findStage } from './analysis/analyze';
export { budgetChecks, latencyIsStale, type BudgetCheck, type MeasuredLatency } from './analysis/budget';
export {
  fitBatch,
  MEMORY_ENGINES,
  PRECISIONS,
  trainingMemory,
  type BatchFit,
  type MemoryEngine,
  type MemoryOptions,
  type Precision,
  type StageMemory,
  type TrainingMemory,
} from './analysis/memory';
export {
  diffAnalyses,
  diffLayers,
  isUnchanged,
  type AnalysisDiff,
  type Change,
  type LayerChange,
  type LayerDiff,
  type ScaleCost,
  type ScaleDiff,
  type StageCost,
  type StageDiff,
} from './analysis/diff';
export { tilingStep } from './analysis/lints';
export * from './format';
export { DIAGNOSTIC_CODES, severityOf, type DiagnosticCode, type ParserCode } from './codes';
export type { Diagnostic, Path, Position, Range, Severity } from './diagnostics';
export { convOutSize, poolOutSize } from './graph/build';
export type { HeadRole, LayerGraph, LayerKind, LayerNode, ScaleHalf, Shape, StageKind } from './graph/types';
export { renderReport, summaryLine } from './report';
export { analysisTables, conventionsMarkdown, COUNTING_CONVENTIONS, TABLE_NAMES, tableToCsv, tableToMarkdown, type Table, type TableName } from './tables';
export { formatOf, parseSource, type SourceDocument, type SpecFormat } from './spec/source';
export { LINE_BREAK, lineStarts, splitLines } from './spec/lines';
export { normalizeSpec, readBytes } from './spec/normalize';
export { formatNotation, parseNotation, type Notation } from './spec/notation';
export type { NormalizedSpec, Train } from './spec/types';
export { NETWORK_SECTIONS, NUMBERS_READ, type NetworkSection, type SetAside } from './spec/partial';
export { displayPath, specSchema } from './spec/validate';
export { priorShapes, type BoxShape } from './priors';
export {
  COCO_SIZE_LIMITS,
  measureCoverage,
  priorLayout,
  SIZE_BUCKETS,
  sizeBucket,
  sizeLimits,
  SSD_MATCH_THRESHOLD,
  type CoverageCount,
  type GroundTruth,
  type PriorCoverage,
  type PriorLayout,
  type PriorScaleLayout,
  type SizeBucket,
} from './priors-coverage';
export {
  clusterRatios,
  keepsNetwork,
  sampleImages,
  scalePriors,
  suggestPriors,
  withPriors,
  type PriorSuggestion,
  type ScalePriors,
  type SuggestOptions,
} from './priors-suggest';
export { applyEdits, priorEdits, type TextEdit } from './priors-edit';
