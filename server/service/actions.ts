// Quick fixes: typos, prior lists of the wrong length, and the design-principle hints whose fix is obvious.
// Every fix is applied to the text and re-checked before it is offered: it must remove its own diagnostic and add none
// (the file's other problems may stay: a typo's fix is offered whatever else is wrong elsewhere).
import { CodeActionKind, type CodeAction, type Range, type TextEdit } from 'vscode-languageserver-types';
import {
  checkSpec,
  formatNotation,
  normalizeSpec,
  parseNotation,
  tilingStep,
  type CheckOptions,
  type Diagnostic,
  type Notation,
  type Path,
  type SpecCheck,
} from '../../core';
import { lspDiagnosticRef } from './diagnostic';
import { yamlFlow } from './schema';

interface Fix {
  title: string;
  edits: TextEdit[];
  /** Never the preferred fix (silencing a hint is not fixing what it says). */
  fallback?: true;
}

/** `options` must be those `check` was made with (the re-check compares like with like: hints on or off). */
export function codeActions(check: SpecCheck, uri: string, range: Range, options: CheckOptions = {}): CodeAction[] {
  const out: CodeAction[] = [];
  // One fix for several diagnostics (every step that does not tile) is one action that names them all.
  const same = new Map<string, CodeAction>();
  for (const d of check.diagnostics) {
    if (!overlaps(d.range, range)) continue;
    for (const fix of fixesFor(check, d)) {
      const key = JSON.stringify([fix.title, fix.edits]);
      const earlier = same.get(key);
      if (earlier) {
        if (improves(check, d, fix.edits, options)) earlier.diagnostics!.push(lspDiagnosticRef(d));
        continue;
      }
      if (!improves(check, d, fix.edits, options)) continue;
      const action: CodeAction = {
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [lspDiagnosticRef(d)],
        isPreferred: !fix.fallback && !out.some((a) => a.isPreferred),
        edit: { changes: { [uri]: fix.edits } },
      };
      out.push(action);
      same.set(key, action);
    }
  }
  return out;
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
    const defaults = { min_sizes: spec.priors.minSizes, max_sizes: spec.priors.maxSizes, aspect_ratios: spec.priors.aspectRatios, steps: spec.priors.steps }[
      key
    ] as unknown[];
    if (current.length < n && defaults.slice(current.length, n).some((v) => v === null)) return [];
    const list = [...current.slice(0, n), ...defaults.slice(current.length, n)];
    const verb = current.length > n ? 'Drop' : 'Add';
    return [{ title: `${verb} entries so that priors.${key} has one per scale (${n})`, edits: [setValue(d.path, list)] }];
  }

  if (d.code === 'priors/steps-mismatch') return stepsFix(check, setValue);
  if (!d.code.startsWith('principle/')) return [];
  return [...principleFixes(check, d, data, setValue), ...ignoreHintFix(check, d.code)];
}

/** The design-principle hints' own fixes: the change the hint recommends. */
function principleFixes(check: SpecCheck, d: Diagnostic, data: Record<string, any>, setValue: (path: Path, v: unknown) => TextEdit): Fix[] {
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
      return onNotation
        ? notationFix('Keep every channel in the transitions (θ = 1)', (n) => ({ ...n, compression: 1 }))
        : [{ title: 'Keep every channel in the transitions (θ = 1)', edits: [setValue(d.path, 1)] }];
    case 'principle/narrow-bottleneck': {
      const k = check.spec?.backbone.blocks.find((blk) => blk.bottleneck < 4 * blk.growthRate)?.growthRate;
      if (k === undefined) return [];
      return onNotation
        ? notationFix(`Widen the bottleneck to 4k = ${4 * k}`, (n) => ({ ...n, bottleneck: 4 * k }))
        : d.path[1] === 'bottleneck'
          ? [{ title: `Widen the bottleneck to 4k = ${4 * k}`, edits: [setValue(d.path, 4 * k)] }]
          : [];
    }
    case 'principle/narrow-first-conv':
      if (onNotation) return notationFix('Widen the first conv to A = 64', (n) => ({ ...n, firstConv: 64 }));
      if (d.path[1] === 'stem') return [{ title: 'Use the stem convs 64, 64, 128', edits: [setValue(['backbone', 'stem', 'convs'], [64, 64, 128])] }];
      return d.path[1] === 'first_conv' ? [{ title: 'Widen the first conv to A = 64', edits: [setValue(d.path, 64)] }] : [];
    case 'principle/growth-rate':
      if (onNotation) return notationFix('Use growth rate 48 with a 4k bottleneck (192), as DSOD300', (n) => ({ ...n, growthRate: 48, bottleneck: 192 }));
      if (d.path[1] !== 'growth_rate') return [];
      return [
        {
          title: 'Use growth rate 48 with a 4k bottleneck (192), as DSOD300',
          edits: [setValue(d.path, 48), ...(b.bottleneck !== undefined ? [setValue(['backbone', 'bottleneck'], 192)] : [])],
        },
      ];
    case 'principle/plain-prediction': {
      const edits = [setValue(['prediction', 'structure'], 'dense')];
      const channels: number[] | undefined = data.prediction?.channels;
      const backboneOut = check.analysis?.scales[1]?.shape[0];
      // The dense scale 2 is the backbone output plus as many reused maps: its width doubles.
      if (channels && channels.length > 1 && backboneOut !== undefined && channels[1] === backboneOut)
        edits.push(setValue(['prediction', 'channels', 1], 2 * backboneOut));
      return [{ title: 'Use the dense prediction structure (learn half, reuse half)', edits }];
    }
    default:
      return [];
  }
}

/**
 * Each step that no longer tiles the image set to what does (`tilingStep`: SSD's input / feature map size), the steps
 * that still tile left as written. None when some flagged step has no single value for both sides.
 */
function stepsFix(check: SpecCheck, setValue: (path: Path, v: unknown) => TextEdit): Fix[] {
  const a = check.analysis;
  const written: unknown = (check.document.value as Record<string, any>).priors?.steps;
  if (!a || !Array.isArray(written)) return [];
  const steps = [...written];
  const edits: TextEdit[] = [];
  for (const x of check.diagnostics) {
    if (x.code !== 'priors/steps-mismatch') continue;
    const i = Number(x.path[2]);
    const scale = a.scales[i];
    if (!scale) return [];
    const step = tilingStep(a.spec.input.height, a.spec.input.width, scale.shape[1], scale.shape[2], a.layers[a.graph.scales[i].feature].jump);
    if (step === null) return [];
    steps[i] = step;
    edits.push(setValue(['priors', 'steps', i], step));
  }
  const size = a.spec.input.height === a.spec.input.width ? `${a.spec.input.height}` : `${a.spec.input.height}x${a.spec.input.width}`;
  return [{ title: `Set priors.steps to [${steps.join(', ')}] (input ${size} / feature map size)`, edits }];
}

/**
 * "Ignore <kind> in this spec": the kind added to `hints.ignore`, creating the list or the `hints` section where
 * missing, in the file's own style: JSON, or YAML block or flow as most of the file's lists and mappings are, with
 * the file's indentation and line breaks.
 */
function ignoreHintFix(check: SpecCheck, kind: string): Fix[] {
  const doc = check.document;
  const data = doc.value as Record<string, any>;
  const text = doc.text;
  const json = doc.format === 'json';
  const eol = /\r\n|\r|\n/.exec(text)?.[0] ?? '\n';
  const offsets = (path: Path) => {
    const r = doc.rangeOf(path);
    return { start: doc.offsetAt(r.start), end: doc.offsetAt(r.end) };
  };
  const at = (offset: number, newText: string): TextEdit => ({ range: { start: doc.positionAt(offset), end: doc.positionAt(offset) }, newText });
  const lineStart = (offset: number) => Math.max(text.lastIndexOf('\n', offset - 1), text.lastIndexOf('\r', offset - 1)) + 1;
  const lineEnd = (offset: number) => offset + text.slice(offset).search(/\r|\n|$/);
  /** The end of the last line a collection's text holds (yaml counts a trailing comment and line break in). */
  const contentLineEnd = (end: number) => {
    let last = end;
    while (last > 0 && /\s/.test(text[last - 1])) last--;
    return lineEnd(last - 1);
  };
  const style = yamlStyle(doc);
  const item = json ? JSON.stringify(kind) : yamlFlow(kind);
  const title = `Ignore ${kind} in this spec`;
  const done = (...edits: TextEdit[]): Fix[] => [{ title, edits, fallback: true }];

  const list: unknown = data.hints?.ignore;
  if (Array.isArray(list)) {
    const { start, end } = offsets(['hints', 'ignore']);
    if (text[start] === '[') {
      if (list.length === 0) return done({ range: doc.rangeOf(['hints', 'ignore']), newText: `[${item}]` });
      const last = offsets(['hints', 'ignore', list.length - 1]);
      // A list written over several lines gets the new item on a line of its own, indented as the last one.
      if (lineStart(last.start) === lineStart(start)) return done(at(last.end, `, ${item}`));
      const indent = text.slice(lineStart(last.start), last.start);
      return /^[ \t]*$/.test(indent) ? done(at(last.end, `,${eol}${indent}${item}`)) : done(at(last.end, `, ${item}`));
    }
    // A block list: a new `- kind` line, with the dash and spacing of the last item's.
    const last = offsets(['hints', 'ignore', list.length - 1]);
    const prefix = text.slice(lineStart(last.start), last.start);
    if (!/^[ \t]*-[ \t]+$/.test(prefix)) return [];
    return done(at(contentLineEnd(end), `${eol}${prefix}${item}`));
  }

  // A new entry in a mapping: `ignore` in `hints`, or `hints` in the spec.
  const [path, key, value] = data.hints && typeof data.hints === 'object' ? [['hints'], 'ignore', [kind]] : [[], 'hints', { ignore: [kind] }];
  const { start, end } = offsets(path);
  const map = path.length === 0 ? data : data.hints;
  const keys = Object.keys(map);
  if (json || text[start] === '{') {
    const entry = json
      ? `${JSON.stringify(key)}: ${JSON.stringify(value)
          .replace(/([:,])(?=\S)/g, '$1 ')
          .replace(/^\{(.*)\}$/, '{ $1 }')}`
      : `${key}: ${yamlFlow(value)}`;
    if (keys.length === 0) return done({ range: doc.rangeOf(path), newText: `{ ${entry} }` });
    const lastKey = doc.rangeOf([...path, keys[keys.length - 1]], 'key');
    const lastValue = offsets([...path, keys[keys.length - 1]]);
    const keyStart = doc.offsetAt(lastKey.start);
    if (lineStart(keyStart) === lineStart(start)) return done(at(lastValue.end, `, ${entry}`));
    return done(at(lastValue.end, `,${eol}${text.slice(lineStart(keyStart), keyStart).replace(/\S/g, ' ')}${entry}`));
  }
  // A block mapping: the entry on new lines after its last, at its keys' indentation.
  const indent = ' '.repeat(doc.rangeOf(path).start.character);
  const entry = yamlBlock(key, value, indent, style, eol);
  // After the mapping's last line (before a document end marker `...`, if any), the line break the file uses.
  return done(at(contentLineEnd(end), `${eol}${entry}`));
}

interface YamlStyle {
  flowLists: boolean;
  flowMaps: boolean;
  /** Spaces a nested block collection is indented by. */
  unit: number;
}

/** How the file writes nested lists and mappings: as most of them are (flow on a tie), and its indentation. */
function yamlStyle(doc: SpecCheck['document']): YamlStyle {
  const count = { flowLists: 0, blockLists: 0, flowMaps: 0, blockMaps: 0 };
  let unit = 0;
  const offsetOf = (p: Range['start']) => doc.offsetAt(p);
  for (const c of doc.collections()) {
    if (c.path.length === 0) continue;
    let v: unknown = doc.value;
    for (const s of c.path) v = (v as Record<string | number, unknown>)?.[s];
    const flow = /[[{]/.test(doc.text[offsetOf(c.range.start)] ?? '');
    if (Array.isArray(v)) count[flow ? 'flowLists' : 'blockLists']++;
    else count[flow ? 'flowMaps' : 'blockMaps']++;
    if (!flow && !unit && c.path.length === 1 && c.range.start.character > 0) unit = c.range.start.character;
  }
  return { flowLists: count.flowLists >= count.blockLists, flowMaps: count.flowMaps >= count.blockMaps, unit: unit || 2 };
}

/** `key: value` as YAML lines at `indent`, nested collections in the file's style. */
function yamlBlock(key: string, value: unknown, indent: string, style: YamlStyle, eol: string): string {
  const inner = indent + ' '.repeat(style.unit);
  if (Array.isArray(value)) {
    if (style.flowLists) return `${indent}${key}: ${yamlFlow(value)}`;
    return `${indent}${key}:${value.map((v) => `${eol}${inner}- ${yamlFlow(v)}`).join('')}`;
  }
  if (value && typeof value === 'object') {
    if (style.flowMaps) return `${indent}${key}: ${yamlFlow(value)}`;
    return `${indent}${key}:${Object.entries(value)
      .map(([k, v]) => `${eol}${yamlBlock(k, v, inner, style, eol)}`)
      .join('')}`;
  }
  return `${indent}${key}: ${yamlFlow(value)}`;
}
