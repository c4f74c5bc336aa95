// Quick fixes: typos, prior lists of the wrong length, and the design-principle hints whose fix is obvious.
// Every fix is applied to the text and re-checked before it is offered: it must remove its own diagnostic and add none
// (the file's other problems may stay: a typo's fix is offered whatever else is wrong elsewhere).
import { CodeActionKind, type CodeAction, type Range, type TextEdit } from 'vscode-languageserver-types';
import { checkSpec, type CheckOptions, type Diagnostic, type Path, type SpecCheck } from '../../core';
import { normalizeSpec } from '../../core/spec/normalize';
import { parseNotation, formatNotation, type Notation } from '../../core/spec/notation';
import { yamlFlow } from './schema';

interface Fix {
  title: string;
  edits: TextEdit[];
}

/** `options` must be those `check` was made with (the re-check compares like with like: hints on or off). */
export function codeActions(check: SpecCheck, uri: string, range: Range, options: CheckOptions = {}): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of check.diagnostics) {
    if (!overlaps(d.range, range)) continue;
    for (const fix of fixesFor(check, d)) {
      if (!improves(check, d, fix.edits, options)) continue;
      out.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [toLspDiagnosticRef(d)],
        isPreferred: out.length === 0,
        edit: { changes: { [uri]: fix.edits } },
      });
    }
  }
  return out;
}

function toLspDiagnosticRef(d: Diagnostic) {
  const severity = { error: 1, warning: 2, information: 3, hint: 4 }[d.severity] as 1 | 2 | 3 | 4;
  return { range: d.range, message: d.message, code: d.code, severity, source: 'dsod' };
}

function overlaps(a: Range, b: Range): boolean {
  const le = (p: Range['start'], q: Range['start']) => p.line < q.line || (p.line === q.line && p.character <= q.character);
  return le(a.start, b.end) && le(b.start, a.end);
}

export function applyEdits(text: string, edits: TextEdit[], offsetAt: (p: Range['start']) => number): string {
  const sorted = edits.map((e) => ({ start: offsetAt(e.range.start), end: offsetAt(e.range.end), text: e.newText })).sort((x, y) => y.start - x.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/**
 * The fix removes its own diagnostic and adds no diagnostic of any severity. Diagnostics are compared by code, message
 * and range, the range of one from before the fix mapped through the edits: whatever was wrong elsewhere in the file
 * before may stay wrong after.
 *
 * Before a spec passes its schema check the later stages (normalization, the network, the lints, the hints) run at
 * most on what its schema errors leave (core's partial check), so the re-check of a typo's fix may show diagnostics of
 * those stages that come from the part the fix brings back; nothing tells them apart, and they are not held against the
 * fix. Diagnostics of the stages that did run before are all compared.
 */
function improves(check: SpecCheck, d: Diagnostic, edits: TextEdit[], options: CheckOptions): boolean {
  const doc = check.document;
  const after = checkSpec(applyEdits(doc.text, edits, doc.offsetAt), doc.format, options);
  const shifts = edits.map((e) => ({ start: doc.offsetAt(e.range.start), end: doc.offsetAt(e.range.end), length: e.newText.length }));
  const key = (x: Diagnostic, start: number, end: number) => `${x.code}\u0000${x.message}\u0000${start}\u0000${end}`;
  const mapped = (x: Diagnostic) => key(x, mapOffset(shifts, doc.offsetAt(x.range.start), 'start'), mapOffset(shifts, doc.offsetAt(x.range.end), 'end'));
  const here = (x: Diagnostic) => key(x, after.document.offsetAt(x.range.start), after.document.offsetAt(x.range.end));
  const before = new Set(check.diagnostics.filter((x) => x !== d).map(mapped));
  if (after.diagnostics.some((x) => here(x) === mapped(d))) return false;
  // The later stages ran before on the spec as written only if it got through its schema check; a partial check ran
  // them without the parts set aside, which the fix may bring back (a typo's key), so theirs are not compared.
  const laterStagesRan = check.spec !== null && check.setAside.length === 0;
  const syntax = new Set(after.document.syntaxErrors);
  const comparable = (x: Diagnostic) => laterStagesRan || syntax.has(x) || x.code.startsWith('schema/') || x.code.startsWith('spec/') || x.code === 'internal';
  return after.diagnostics.every((x) => !comparable(x) || before.has(here(x)));
}

/**
 * Where an offset of the text before `edits` (which do not overlap) lies after them. An edit that ends at or before it
 * moves it (an insertion exactly there moves a start, not an end); one inside an edit goes to its start or new end.
 */
function mapOffset(edits: { start: number; end: number; length: number }[], offset: number, side: 'start' | 'end'): number {
  let delta = 0;
  for (const e of [...edits].sort((x, y) => x.start - y.start)) {
    if (e.end < offset || (e.end === offset && (side === 'start' || e.start < e.end))) delta += e.length - (e.end - e.start);
    else if (e.start < offset) return e.start + delta + (side === 'end' ? e.length : 0);
    else break;
  }
  return offset + delta;
}

function fixesFor(check: SpecCheck, d: Diagnostic): Fix[] {
  const doc = check.document;
  const json = doc.format === 'json';
  const literal = (v: unknown) => (json ? JSON.stringify(v) : yamlFlow(v));
  const setValue = (path: Path, v: unknown): TextEdit => ({ range: doc.rangeOf(path), newText: literal(v) });
  const data = doc.value as Record<string, any> | undefined;

  if (d.suggestion !== undefined && d.code === 'schema/unknown-key') {
    return [{ title: `Change to "${d.suggestion}"`, edits: [{ range: d.range, newText: json ? JSON.stringify(d.suggestion) : d.suggestion }] }];
  }
  if (d.suggestion !== undefined && d.code === 'schema/enum') {
    return [{ title: `Change to "${d.suggestion}"`, edits: [{ range: d.range, newText: literal(d.suggestion) }] }];
  }
  if (!data || typeof data !== 'object') return [];

  if (d.code === 'priors/length-mismatch') {
    const key = String(d.path[1]);
    const current: unknown[] = data.priors[key];
    const rest = structuredClone(data);
    delete rest.priors[key];
    const spec = normalizeSpec(rest).spec;
    const n = spec.prediction.scales;
    const defaults = { min_sizes: spec.priors.minSizes, max_sizes: spec.priors.maxSizes, aspect_ratios: spec.priors.aspectRatios, steps: spec.priors.steps }[key] as unknown[];
    if (current.length < n && defaults.slice(current.length, n).some((v) => v === null)) return [];
    const list = [...current.slice(0, n), ...defaults.slice(current.length, n)];
    const verb = current.length > n ? 'Drop' : 'Add';
    return [{ title: `${verb} entries so that priors.${key} has one per scale (${n})`, edits: [setValue(d.path, list)] }];
  }

  if (!d.code.startsWith('principle/')) return [];
  const b = data.backbone ?? {};
  const notationFix = (title: string, change: (n: Notation) => Notation): Fix[] => {
    const n = typeof b.notation === 'string' ? parseNotation(b.notation) : null;
    if (!n || 'error' in n) return [];
    return [{ title, edits: [setValue(['backbone', 'notation'], formatNotation(change(n)))] }];
  };
  const onNotation = d.path.length === 2 && d.path[1] === 'notation';
  switch (d.code) {
    case 'principle/no-stem':
      return [{ title: "Use DSOD's stem block (stem: true)", edits: [setValue(['backbone', 'stem'], true)] }];
    case 'principle/compression':
      return onNotation ? notationFix('Keep every channel in the transitions (θ = 1)', (n) => ({ ...n, compression: 1 })) : [{ title: 'Keep every channel in the transitions (θ = 1)', edits: [setValue(d.path, 1)] }];
    case 'principle/narrow-bottleneck': {
      const k = check.spec?.backbone.blocks.find((blk) => blk.bottleneck < 4 * blk.growthRate)?.growthRate;
      if (k === undefined) return [];
      return onNotation ? notationFix(`Widen the bottleneck to 4k = ${4 * k}`, (n) => ({ ...n, bottleneck: 4 * k })) : d.path[1] === 'bottleneck' ? [{ title: `Widen the bottleneck to 4k = ${4 * k}`, edits: [setValue(d.path, 4 * k)] }] : [];
    }
    case 'principle/narrow-first-conv':
      if (onNotation) return notationFix('Widen the first conv to A = 64', (n) => ({ ...n, firstConv: 64 }));
      if (d.path[1] === 'stem') return [{ title: 'Use the stem convs 64, 64, 128', edits: [setValue(['backbone', 'stem', 'convs'], [64, 64, 128])] }];
      return d.path[1] === 'first_conv' ? [{ title: 'Widen the first conv to A = 64', edits: [setValue(d.path, 64)] }] : [];
    case 'principle/growth-rate':
      if (onNotation) return notationFix('Use growth rate 48 with a 4k bottleneck (192), as DSOD300', (n) => ({ ...n, growthRate: 48, bottleneck: 192 }));
      if (d.path[1] !== 'growth_rate') return [];
      return [{ title: 'Use growth rate 48 with a 4k bottleneck (192), as DSOD300', edits: [setValue(d.path, 48), ...(b.bottleneck !== undefined ? [setValue(['backbone', 'bottleneck'], 192)] : [])] }];
    case 'principle/plain-prediction': {
      const edits = [setValue(['prediction', 'structure'], 'dense')];
      const channels: number[] | undefined = data.prediction?.channels;
      const backboneOut = check.analysis?.scales[1]?.shape[0];
      // The dense scale 2 is the backbone output plus as many reused maps: its width doubles.
      if (channels && channels.length > 1 && backboneOut !== undefined && channels[1] === backboneOut) edits.push(setValue(['prediction', 'channels', 1], 2 * backboneOut));
      return [{ title: 'Use the dense prediction structure (learn half, reuse half)', edits }];
    }
    default:
      return [];
  }
}
