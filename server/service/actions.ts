// Quick fixes: typos, prior lists of the wrong length, and the design-principle hints whose fix is obvious.
// Every fix is applied to the text and re-checked before it is offered: a fix never introduces an error.
import { CodeActionKind, type CodeAction, type Range, type TextEdit } from 'vscode-languageserver-types';
import { checkSpec, type Diagnostic, type Path, type SpecCheck } from '../../core';
import { normalizeSpec } from '../../core/spec/normalize';
import { parseNotation, formatNotation, type Notation } from '../../core/spec/notation';
import { yamlFlow } from './schema';

interface Fix {
  title: string;
  edits: TextEdit[];
}

export function codeActions(check: SpecCheck, uri: string, range: Range): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of check.diagnostics) {
    if (!overlaps(d.range, range)) continue;
    for (const fix of fixesFor(check, d)) {
      if (!improves(check, d, fix.edits)) continue;
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

/** The fix removes its diagnostic and adds no error. */
function improves(check: SpecCheck, d: Diagnostic, edits: TextEdit[]): boolean {
  const doc = check.document;
  const after = checkSpec(applyEdits(doc.text, edits, doc.offsetAt), doc.format);
  const errors = (c: SpecCheck) => c.diagnostics.filter((x) => x.severity === 'error').length;
  const stillThere = after.diagnostics.some((x) => x.code === d.code && x.message === d.message);
  return !stillThere && errors(after) <= errors(check) - (d.severity === 'error' ? 1 : 0);
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
