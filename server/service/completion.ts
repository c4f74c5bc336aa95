// Completion of keys and values from the schema, with its documentation, and snippets for the common shapes.
import { distance } from 'fastest-levenshtein';
import * as jsonc from 'jsonc-parser';
import { CompletionItemKind, InsertTextFormat, type CompletionItem, type Position, type Range } from 'vscode-languageserver-types';
import { splitLines, type Path, type SpecCheck } from '../../core';
import { propertiesAt, schemaAt, valuesFor, yamlFlow, type SchemaNode } from './schema';

type Context = { kind: 'key'; path: Path; indent: string } | { kind: 'value'; path: Path; item: boolean; flow: boolean };

export function complete(check: SpecCheck, position: Position): CompletionItem[] {
  const doc = check.document;
  const context = doc.format === 'json' ? jsonContext(doc.text, doc.offsetAt(position)) : yamlContext(doc.text, position);
  if (!context) return [];
  const json = doc.format === 'json';
  if (context.kind === 'key') {
    const present = presentKeys(doc.draft, context.path);
    const items: CompletionItem[] = propertiesAt(context.path)
      .filter(([k]) => !present.has(k))
      .map(([key, s], i) => ({
        label: key,
        kind: CompletionItemKind.Property,
        detail: typeSummary(s),
        documentation: s.markdownDescription ? { kind: 'markdown', value: s.markdownDescription } : undefined,
        insertText: json ? `"${key}": ` : `${key}: `,
        sortText: String(i).padStart(3, '0'),
      }));
    if (!json) items.push(...snippetsFor(context.path, context.indent, doc.text));
    return items;
  }
  const s = context.item ? schemaAt([...context.path, 0]) : schemaAt(context.path);
  const isNotation = !context.item && context.path.join('.') === 'backbone.notation';
  const values = valuesFor(s);
  if (isNotation) for (const n of Object.keys(NOTATIONS)) if (!values.includes(n)) values.push(n);
  const scalar = json ? jsonScalar(doc.text, doc.offsetAt(position)) : yamlScalar(doc.text, position, context.flow, doc.offsetAt({ line: position.line, character: 0 }));
  const range: Range = { start: doc.positionAt(scalar.start), end: doc.positionAt(scalar.end) };
  const typed = doc.text.slice(scalar.start, Math.min(doc.offsetAt(position), scalar.end)).trim();
  const items: CompletionItem[] = values.map((v, i) => {
    const label = json ? JSON.stringify(v) : yamlFlow(v);
    // Inside quotes the quotes stay: the raw value goes between them.
    const newText = scalar.quoted ? (scalar.quoted === "'" ? String(v).replace(/'/g, "''") : JSON.stringify(String(v)).slice(1, -1)) : label;
    const note = isNotation && typeof v === 'string' ? NOTATIONS[v] : undefined;
    return {
      label,
      kind: s?.enum || typeof v === 'boolean' ? CompletionItemKind.EnumMember : CompletionItemKind.Value,
      detail: note?.detail,
      documentation: note ? { kind: 'markdown', value: note.doc } : s?.markdownDescription ? { kind: 'markdown', value: s.markdownDescription } : undefined,
      filterText: newText,
      sortText: closeness(typed, newText, i),
      textEdit: { range, newText },
    };
  });
  if (!json && context.item && context.path.join('.') === 'backbone.blocks') {
    const snippet = denseBlockSnippet(true);
    items.push({ ...snippet, sortText: `2${snippet.label}`, textEdit: { range, newText: snippet.insertText! } });
  }
  return items;
}

/**
 * What each known notation is: the schema's examples, the examples/ headers (DSOD300, the lite variant, tiny)
 * and the rows of the paper's Table 3 as examples/ablation gives them.
 */
const NOTATIONS: Record<string, { detail: string; doc: string }> = {
  'DS/64-192-48-1': { detail: 'DSOD300 (DS/64-192-48-1)', doc: "DSOD300's backbone (VOC and COCO): first conv 64, bottleneck 192, growth rate 48, compression 1. Table 3 rows 6-8 (74.5 to 77.7 mAP on VOC 2007 test)." },
  'DS/64-64-16-1': { detail: 'the lite variant (Table 3 row 5)', doc: 'The small backbone of `dsod300-lite`: first conv 64, bottleneck 64, growth rate 16, compression 1. Table 3 row 5 (69.7 mAP).' },
  'DS/32-12-16-0.5': { detail: 'Table 3 rows 1-2 (59.9, 61.6 mAP)', doc: "The starting point of the paper's Table 3 ablation: first conv 32, bottleneck 12, growth rate 16, compression 0.5." },
  'DS/32-12-16-1': { detail: 'Table 3 row 3 (64.5 mAP)', doc: 'Table 3 row 3: compression θ = 1 (first conv 32, bottleneck 12, growth rate 16).' },
  'DS/32-64-16-1': { detail: 'Table 3 row 4 (68.6 mAP)', doc: 'Table 3 row 4: the wide bottleneck (first conv 32, bottleneck 64, growth rate 16, compression 1).' },
  'DS/16-32-8-1': { detail: 'the tiny example', doc: 'The backbone of `tiny`: first conv 16, bottleneck 32 (= 4k), growth rate 8, compression 1.' },
};

/** Sort key: values that start with what is typed first, then by edit distance to it, then in schema order. */
function closeness(typed: string, value: string, index: number): string {
  const t = typed.toLowerCase();
  const v = value.toLowerCase();
  const group = t === '' || v.startsWith(t) ? 0 : 1;
  return `${group}${String(distance(t, v)).padStart(4, '0')}${String(index).padStart(3, '0')}`;
}

type Scalar = { start: number; end: number; quoted?: '"' | "'" };

/**
 * The whole scalar the cursor is in (offsets in the document), so that accepting a value replaces it rather than
 * inserting into it: `DS/64-6|` or `DS/64-|6` both become `DS/64-192-48-1`. Inside quotes, the text between them.
 */
function yamlScalar(text: string, position: Position, flow: boolean, lineStart: number): Scalar {
  const line = splitLines(text)[position.line] ?? '';
  const cursor = Math.min(position.character, line.length);
  // Where the value starts: after `key:`, `- `, or (in flow style) `{`, `[`, `,`; quotes tracked.
  let start: number;
  let quote: '"' | "'" | undefined;
  let quoteAt = -1;
  const lead = /^(\s*)(-\s+)?(?:[A-Za-z_][\w-]*\s*:(?=\s|$)\s*)?/.exec(line)![0].length;
  start = flow ? 0 : Math.min(lead, cursor);
  for (let i = start; i < cursor; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if ((c === '"' || c === "'") && /^\s*$/.test(line.slice(start, i))) {
      quote = c;
      quoteAt = i;
    } else if (flow && (c === '{' || c === '[' || c === ',' || (c === ':' && /\s/.test(line[i + 1] ?? ' ')))) start = i + 1;
  }
  if (quote) {
    const close = line.indexOf(quote, cursor);
    return { start: lineStart + quoteAt + 1, end: lineStart + (close < 0 ? line.length : close), quoted: quote };
  }
  while (start < cursor && /\s/.test(line[start])) start++;
  let end = cursor;
  for (; end < line.length; end++) {
    const c = line[end];
    if (flow && (c === ',' || c === '}' || c === ']')) break;
    if (c === '#' && /\s/.test(line[end - 1] ?? ' ')) break;
  }
  while (end > cursor && /\s/.test(line[end - 1])) end--;
  return { start: lineStart + start, end: lineStart + end };
}

/** In JSON, the whole value token around the cursor, its quotes included (the labels are JSON). */
function jsonScalar(text: string, offset: number): Scalar {
  let start = offset;
  while (start > 0 && !/[:,[{\s]/.test(text[start - 1])) start--;
  let end = offset;
  while (end < text.length && !/[,}\]\r\n]/.test(text[end])) end++;
  while (end > offset && /\s/.test(text[end - 1])) end--;
  return { start, end };
}

function typeSummary(s: SchemaNode): string {
  const types = s.enum ? s.enum.map((v: unknown) => JSON.stringify(v)).join(' | ') : ([] as string[]).concat(s.type ?? (s.anyOf ? 'value' : 'object')).join(' | ');
  return s.default !== undefined ? `${types} (default ${JSON.stringify(s.default)})` : types;
}

function presentKeys(data: unknown, path: Path): Set<string> {
  let v: any = data;
  for (const s of path) v = v && typeof v === 'object' ? v[s] : undefined;
  return new Set(v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : []);
}

// ---------------------------------------------------------------- YAML context, read from the text around the cursor

const KEY_LINE = /^(\s*)(-\s+)?([A-Za-z_][\w-]*)\s*:(\s|$)/;

function indentOf(line: string): number {
  return /^\s*/.exec(line)![0].length;
}

const meaningful = (line: string) => line.trim() !== '' && !line.trim().startsWith('#');

const ITEM_LINE = /^(\s*)-(\s+|$)/;

/**
 * The path of the block collection that holds an entry starting at column `col` of line `lineNo`: a key
 * (`isItem` false) or the dash of a list item (`isItem` true). Read from indentation, so it works on half-typed text.
 */
function containerPath(lines: string[], lineNo: number, col: number, isItem: boolean): Path {
  for (let i = lineNo - 1; i >= 0; i--) {
    const l = lines[i];
    if (!meaningful(l)) continue;
    const lead = indentOf(l);
    const item = ITEM_LINE.test(l);
    if (lead > col || (lead === col && (!isItem || item))) continue; // a sibling entry, or deeper content
    if (item) return [...containerPath(lines, i, lead, true), itemIndex(lines, i, lead)];
    const key = KEY_LINE.exec(l);
    return key ? [...containerPath(lines, i, lead, false), key[3]] : containerPath(lines, i, lead, false);
  }
  return [];
}

/** Which item of its list the dash on line `lineNo` (at column `lead`) starts. */
function itemIndex(lines: string[], lineNo: number, lead: number): number {
  let n = 0;
  for (let i = lineNo - 1; i >= 0; i--) {
    const l = lines[i];
    if (!meaningful(l)) continue;
    const d = indentOf(l);
    if (d < lead || (d === lead && !ITEM_LINE.test(l))) break;
    if (d === lead) n++;
  }
  return n;
}

function yamlContext(text: string, position: Position): Context | null {
  const lines = splitLines(text);
  const line = lines[position.line] ?? '';
  const prefix = line.slice(0, position.character);
  if (prefix.includes('#')) return null;
  const lead = indentOf(line);
  const flow = flowContext(prefix);
  if (flow) {
    const key = KEY_LINE.exec(line);
    let base: Path;
    if (key) base = [...(key[2] ? [...containerPath(lines, position.line, lead, true), itemIndex(lines, position.line, lead)] : containerPath(lines, position.line, lead, false)), key[3]];
    else if (ITEM_LINE.test(line)) base = [...containerPath(lines, position.line, lead, true), itemIndex(lines, position.line, lead)];
    else base = containerPath(lines, position.line, lead, false);
    return flow.kind === 'key' ? { kind: 'key', path: [...base, ...flow.path], indent: '' } : { kind: 'value', path: [...base, ...flow.path], item: flow.item, flow: true };
  }
  const keyOnly = /^(\s*)(-\s+)?([\w-]*)$/.exec(prefix);
  if (keyOnly) {
    const indent = keyOnly[1].length + (keyOnly[2]?.length ?? 0);
    if (keyOnly[2]) {
      // A new list item: a value of the list, or the first key of an object item.
      const list = containerPath(lines, position.line, keyOnly[1].length, true);
      const index = itemIndex(lines, position.line, keyOnly[1].length);
      const objectItems = propertiesAt([...list, index]).length > 0;
      return objectItems && keyOnly[3] !== '' ? { kind: 'key', path: [...list, index], indent: ' '.repeat(indent) } : { kind: 'value', path: list, item: true, flow: false };
    }
    return { kind: 'key', path: containerPath(lines, position.line, indent, false), indent: ' '.repeat(indent) };
  }
  const keyValue = /^(\s*)(-\s+)?([A-Za-z_][\w-]*)\s*:\s*[^\s]*$/.exec(prefix);
  if (keyValue) {
    const parent = keyValue[2]
      ? [...containerPath(lines, position.line, keyValue[1].length, true), itemIndex(lines, position.line, keyValue[1].length)]
      : containerPath(lines, position.line, keyValue[1].length, false);
    return { kind: 'value', path: [...parent, keyValue[3]], item: false, flow: false };
  }
  return null;
}

/** Inside `{ ... }` or `[ ... ]` on the cursor's line: the path within the flow collections and what is typed. */
function flowContext(prefix: string): { kind: 'key' | 'value'; path: Path; item: boolean } | null {
  const start = prefix.search(/[[{]/);
  if (start < 0) return null;
  const stack: { type: 'map' | 'seq'; key: string | number; index: number; pending: string | null }[] = [];
  let i = start;
  for (; i < prefix.length; i++) {
    const c = prefix[i];
    const top = stack[stack.length - 1];
    if (c === '{' || c === '[') {
      const key = top ? (top.type === 'seq' ? top.index : top.pending ?? '') : '';
      stack.push({ type: c === '{' ? 'map' : 'seq', key, index: 0, pending: null });
    } else if (c === '}' || c === ']') {
      stack.pop();
      if (stack.length === 0) return null;
    } else if (c === ',') {
      if (top?.type === 'seq') top.index++;
      if (top) top.pending = null;
    } else if (top?.type === 'map') {
      const m = /^([A-Za-z_][\w-]*)\s*:/.exec(prefix.slice(i));
      if (m && /[{,\s]/.test(prefix[i - 1])) {
        top.pending = m[1];
        i += m[0].length - 1;
      }
    }
  }
  if (stack.length === 0) return null;
  const path: Path = stack.slice(1).map((s) => s.key);
  const top = stack[stack.length - 1];
  if (top.type === 'seq') return { kind: 'value', path, item: true };
  return top.pending ? { kind: 'value', path: [...path, top.pending], item: false } : { kind: 'key', path, item: false };
}

// ---------------------------------------------------------------- JSON context

function jsonContext(text: string, offset: number): Context | null {
  const location = jsonc.getLocation(text, offset);
  const path = location.path;
  if (location.isAtPropertyKey) return { kind: 'key', path: path.slice(0, -1), indent: '' };
  if (location.previousNode?.type === 'property') return null;
  const last = path[path.length - 1];
  if (typeof last === 'number') return { kind: 'value', path: path.slice(0, -1), item: true, flow: true };
  return { kind: 'value', path, item: false, flow: true };
}

// ---------------------------------------------------------------- snippets

function denseBlockSnippet(flow: boolean): CompletionItem {
  return {
    label: 'dense block',
    kind: CompletionItemKind.Snippet,
    detail: 'a dense block with its own growth rate and bottleneck',
    insertTextFormat: InsertTextFormat.Snippet,
    insertText: flow ? '{ layers: ${1:8}, growth_rate: ${2:48}, bottleneck: ${3:192} }' : 'layers: ${1:8}\ngrowth_rate: ${2:48}\nbottleneck: ${3:192}',
    documentation: { kind: 'markdown', value: 'A dense block: `layers` x (BN-ReLU-conv 1x1 (B) -> BN-ReLU-conv 3x3 (k)), each concatenated after its input.' },
  };
}

const DSOD300_SNIPPET = [
  'dsod: 1',
  'name: ${1:DSOD300}',
  'input: { size: [${2:300}, ${2:300}], channels: 3 }',
  'classes: ${3:21}',
  'backbone:',
  '  notation: ${4:DS/64-192-48-1}',
  '  stem: { convs: [64, 64, 128], pool: max }',
  '  blocks: [6, 8, 8, 8]',
  '  transitions: [pool, pool, no-pool, { pool: false, channels: 256 }]',
  'prediction:',
  '  structure: dense',
  '  scales: 6',
  '  channels: [800, 512, 512, 256, 256, 256]',
  '  l2norm: { init: 20, scales: all }',
  'heads: { kernel: 3, batch_norm: true, bn_eps: 0.001 }',
  'priors:',
  '  min_sizes: [30, 60, 111, 162, 213, 264]',
  '  max_sizes: [60, 111, 162, 213, 264, 315]',
  '  aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]]',
  '  steps: [8, 16, 32, 64, 100, 300]',
  '  variances: [0.1, 0.1, 0.2, 0.2]',
  '',
].join('\n');

function snippetsFor(path: Path, indent: string, text: string): CompletionItem[] {
  const where = path.join('.');
  const out: CompletionItem[] = [];
  if (where === '' && indent === '' && !/^\s*(backbone|prediction|priors)\s*:/m.test(text)) {
    out.push({
      label: 'DSOD300',
      kind: CompletionItemKind.Snippet,
      detail: 'the whole DSOD300 spec (VOC, 300x300)',
      insertTextFormat: InsertTextFormat.Snippet,
      insertText: /^\s*dsod\s*:/m.test(text) ? DSOD300_SNIPPET.split('\n').slice(1).join('\n') : DSOD300_SNIPPET,
      documentation: { kind: 'markdown', value: 'DSOD300 as the official code builds it: 14,715,804 learned parameters, 15.08 GMACs, 8,744 default boxes.' },
    });
  }
  if (/^backbone\.blocks\.[0-9]+$/.test(where)) out.push(denseBlockSnippet(false));
  if (where === 'prediction') {
    out.push({
      label: 'prediction scales (dense)',
      kind: CompletionItemKind.Snippet,
      detail: "DSOD300's dense prediction structure: 6 scales, learn half / reuse half",
      insertTextFormat: InsertTextFormat.Snippet,
      insertText: `structure: dense\n${indent}scales: \${1:6}\n${indent}channels: [\${2:800, 512, 512, 256, 256, 256}]\n${indent}l2norm: { init: 20, scales: all }`,
    });
  }
  return out;
}
