// Completion of keys and values from the schema, with its documentation, and snippets for the common shapes.
import { distance } from 'fastest-levenshtein';
import * as jsonc from 'jsonc-parser';
import { CompletionItemKind, InsertTextFormat, InsertTextMode, type CompletionItem, type Position, type Range } from 'vscode-languageserver-types';
import { splitLines, type Path, type SpecCheck } from '../../core';
import { propertiesAt, schemaAt, valuesFor, yamlFlow, type SchemaNode } from './schema';

type Context =
  | {
      kind: 'key';
      path: Path;
      /** The column the key starts at, as spaces: the indentation of what a block value nests under it. */
      indent: string;
      /** Inside `{ ... }` (YAML flow style or JSON): keys go on the same line. */
      flow: boolean;
    }
  | {
      kind: 'value';
      path: Path;
      item: boolean;
      flow: boolean;
      /** A block list item that may be a scalar or a mapping: its keys, offered when what is typed starts no value. */
      itemKeys?: { path: Path; indent: string };
    };

export function complete(check: SpecCheck, position: Position): CompletionItem[] {
  const doc = check.document;
  const context = doc.format === 'json' ? jsonContext(doc.text, doc.offsetAt(position)) : yamlContext(doc.text, position);
  if (!context) return [];
  const json = doc.format === 'json';
  const unit = indentUnit(splitLines(doc.text), json);
  const keyToken = () => (json ? jsonKeyToken(doc.text, doc.offsetAt(position)) : yamlKeyToken(doc.text, doc.offsetAt(position)));
  const keyRange = (k = keyToken()): Range => ({ start: doc.positionAt(k.start), end: doc.positionAt(k.end) });
  if (context.kind === 'key') {
    const offsets = keyToken();
    const range = keyRange(offsets);
    const colonFollows = /^[ \t]*:/.test(doc.text.slice(doc.offsetAt(range.end)));
    const lineIndent = json ? /^[ \t]*/.exec(splitLines(doc.text)[position.line] ?? '')![0] : context.indent;
    const items = keyItems(doc.draft, context.path, { json, flow: context.flow, indent: lineIndent, unit, range, colonFollows });
    items.push(...snippetsFor(context, { json, unit, range, offsets, text: doc.text, draft: doc.draft, colonFollows }));
    return items;
  }
  const s = context.item ? schemaAt([...context.path, 0]) : schemaAt(context.path);
  const isNotation = !context.item && context.path.join('.') === 'backbone.notation';
  const values = valuesFor(s);
  if (isNotation) for (const n of Object.keys(NOTATIONS)) if (!values.includes(n)) values.push(n);
  const scalar = json
    ? jsonScalar(doc.text, doc.offsetAt(position))
    : yamlScalar(doc.text, position, context.flow, doc.offsetAt({ line: position.line, character: 0 }));
  const range: Range = { start: doc.positionAt(scalar.start), end: doc.positionAt(scalar.end) };
  const typedRaw = doc.text.slice(scalar.start, Math.max(scalar.start, Math.min(doc.offsetAt(position), scalar.end)));
  const typed = typedRaw.trim();
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
      // The editor filters what is typed against filterText. Led by the typed text itself, every value passes and
      // the server's ranking (sortText) decides: `DS/64-6` still lists DS/64-192-48-1, `dnese` lists dense; what is
      // typed next is matched on into the value, so the list stays while typing on.
      filterText: typed === '' ? newText : typedRaw + newText,
      sortText: closeness(typed, newText, i),
      textEdit: { range, newText },
    };
  });
  if (context.itemKeys && !values.some((v) => (json ? JSON.stringify(v) : yamlFlow(v)).toLowerCase().startsWith(typed.toLowerCase()))) {
    // A list of scalars or mappings: what is typed starts no value (`- ch|`), so it is the first key of a mapping
    // item (`- channels: 256`); `- no-p|` and an empty `- |` get the values alone.
    const k = context.itemKeys;
    for (const item of keyItems(doc.draft, k.path, { json, flow: false, indent: k.indent, unit, range: keyRange(), colonFollows: false })) {
      items.push({ ...item, sortText: `5${item.sortText}` });
    }
  }
  if (context.item && context.path.join('.') === 'backbone.blocks' && !scalar.quoted) {
    // A whole block as the list item: in a block list as a block mapping under the dash, else in braces.
    const style = json ? 'json' : context.flow ? 'flow' : 'block';
    const col = ' '.repeat(range.start.character);
    items.push({ ...denseBlockSnippet(style, col, true), sortText: '3dense block', textEdit: { range, newText: denseBlockText(style, col, true) } });
  }
  return items;
}

type KeyPlace = { json: boolean; flow: boolean; indent: string; unit: string; range: Range; colonFollows: boolean };

/**
 * The keys allowed at `path` that are not there yet. Accepting one writes what its value needs, as the YAML extension
 * does: a mapping goes on the next line, indented by the file's unit (`backbone:` + newline + indent), a list of
 * mappings starts its first item (`- `), a scalar stays on the line (`key: `). JSON gets `{ }` and `[ ]`.
 */
function keyItems(draft: unknown, path: Path, p: KeyPlace): CompletionItem[] {
  const present = presentKeys(draft, path);
  return propertiesAt(path)
    .filter(([k]) => !present.has(k))
    .map(([key, s], i) => {
      const { text, snippet } = keyInsert(key, shapeOf(s), p);
      return {
        label: key,
        kind: CompletionItemKind.Property,
        detail: typeSummary(s),
        documentation: s.markdownDescription ? { kind: 'markdown', value: s.markdownDescription } : undefined,
        insertText: text,
        ...(snippet ? { insertTextFormat: InsertTextFormat.Snippet } : {}),
        // The text is indented already (the file's unit, under the key's column): the client must not re-indent it.
        insertTextMode: InsertTextMode.asIs,
        textEdit: { range: p.range, newText: text },
        sortText: String(i).padStart(3, '0'),
      } satisfies CompletionItem;
    });
}

type Shape = 'object' | 'object-list' | 'array' | 'scalar';

/** What a key's value is written as: only a mapping, a list that holds mappings, another list, anything else. */
function shapeOf(s: SchemaNode): Shape {
  const types = ([] as string[]).concat(s.type ?? []);
  if (s.properties && (types.length === 0 || (types.length === 1 && types[0] === 'object')) && !s.anyOf) return 'object';
  if (types.length === 1 && types[0] === 'array') {
    const items = s.items as SchemaNode | undefined;
    return items && (items.properties || (items.anyOf as SchemaNode[] | undefined)?.some((b) => b.properties)) ? 'object-list' : 'array';
  }
  return 'scalar';
}

function keyInsert(key: string, shape: Shape, p: KeyPlace): { text: string; snippet: boolean } {
  const name = p.json ? `"${key}"` : key;
  if (p.colonFollows) return { text: name, snippet: false };
  if (p.json) {
    if (shape === 'object') return { text: `${name}: {\n${p.indent}${p.unit}$0\n${p.indent}}`, snippet: true };
    if (shape === 'object-list' || shape === 'array') return { text: `${name}: [$0]`, snippet: true };
    return { text: `${name}: `, snippet: false };
  }
  if (p.flow) return { text: `${key}: `, snippet: false };
  if (shape === 'object') return { text: `${key}:\n${p.indent}${p.unit}$0`, snippet: true };
  if (shape === 'object-list') return { text: `${key}:\n${p.indent}${p.unit}- $0`, snippet: true };
  return { text: `${key}: `, snippet: false };
}

/**
 * The file's own indentation step: the most common increase from a line that opens a block (YAML: ends in `:`;
 * JSON: ends in `{` or `[`) to the next line. Two spaces when the file has none yet, as the snippets and the editor
 * default for the language (package.json `configurationDefaults`) use.
 */
export function indentUnit(lines: string[], json: boolean): string {
  const counts = new Map<number, number>();
  let tabs = 0;
  let prev: { indent: number; opens: boolean } | undefined;
  for (const l of lines) {
    if (!meaningful(l)) continue;
    const indent = indentOf(l);
    if (prev?.opens && indent > prev.indent) {
      counts.set(indent - prev.indent, (counts.get(indent - prev.indent) ?? 0) + 1);
      if (l[prev.indent] === '\t') tabs++;
    }
    prev = { indent, opens: json ? /[{[]\s*$/.test(l) : /:\s*(#.*)?$/.test(l) };
  }
  // JSON may be indented with tabs (YAML may not).
  if (json && tabs > 0 && tabs * 2 >= [...counts.values()].reduce((a, b) => a + b, 0)) return '\t';
  let best = 2;
  let bestCount = 0;
  for (const [step, n] of counts) if (n > bestCount || (n === bestCount && step < best)) [best, bestCount] = [step, n];
  return ' '.repeat(best);
}

/** The key being typed around the cursor in YAML (letters, digits, `_`, `-`), to be replaced whole. */
function yamlKeyToken(text: string, offset: number): { start: number; end: number } {
  let start = offset;
  while (start > 0 && /[\w-]/.test(text[start - 1])) start--;
  let end = offset;
  while (end < text.length && /[\w-]/.test(text[end])) end++;
  return { start, end };
}

/** The key being typed in JSON: the quoted string around the cursor with its quotes, or the bare word. */
function jsonKeyToken(text: string, offset: number): { start: number; end: number } {
  let start = offset;
  while (start > 0 && /[\w-]/.test(text[start - 1])) start--;
  let end = offset;
  while (end < text.length && /[\w-]/.test(text[end])) end++;
  if (text[start - 1] === '"') {
    start--;
    if (text[end] === '"') end++;
  }
  return { start, end };
}

/**
 * What each known notation is: the schema's examples, the examples/ headers (DSOD300, the lite variant, tiny)
 * and the rows of the paper's Table 3 as examples/ablation gives them.
 */
const NOTATIONS: Record<string, { detail: string; doc: string }> = {
  'DS/64-192-48-1': {
    detail: 'DSOD300 (DS/64-192-48-1)',
    doc: "DSOD300's backbone (VOC and COCO): first conv 64, bottleneck 192, growth rate 48, compression 1. Table 3 rows 6-8 (74.5 to 77.7 mAP on VOC 2007 test).",
  },
  'DS/64-64-16-1': {
    detail: 'the lite variant (Table 3 row 5)',
    doc: 'The small backbone of `dsod300-lite`: first conv 64, bottleneck 64, growth rate 16, compression 1. Table 3 row 5 (69.7 mAP).',
  },
  'DS/32-12-16-0.5': {
    detail: 'Table 3 rows 1-2 (59.9, 61.6 mAP)',
    doc: "The starting point of the paper's Table 3 ablation: first conv 32, bottleneck 12, growth rate 16, compression 0.5.",
  },
  'DS/32-12-16-1': { detail: 'Table 3 row 3 (64.5 mAP)', doc: 'Table 3 row 3: compression θ = 1 (first conv 32, bottleneck 12, growth rate 16).' },
  'DS/32-64-16-1': {
    detail: 'Table 3 row 4 (68.6 mAP)',
    doc: 'Table 3 row 4: the wide bottleneck (first conv 32, bottleneck 64, growth rate 16, compression 1).',
  },
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
  const types = s.enum
    ? s.enum.map((v: unknown) => JSON.stringify(v)).join(' | ')
    : ([] as string[]).concat(s.type ?? (s.anyOf ? 'value' : 'object')).join(' | ');
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
    if (key)
      base = [
        ...(key[2]
          ? [...containerPath(lines, position.line, lead, true), itemIndex(lines, position.line, lead)]
          : containerPath(lines, position.line, lead, false)),
        key[3],
      ];
    else if (ITEM_LINE.test(line)) base = [...containerPath(lines, position.line, lead, true), itemIndex(lines, position.line, lead)];
    else base = containerPath(lines, position.line, lead, false);
    return flow.kind === 'key'
      ? { kind: 'key', path: [...base, ...flow.path], indent: '', flow: true }
      : { kind: 'value', path: [...base, ...flow.path], item: flow.item, flow: true };
  }
  const keyOnly = /^(\s*)(-\s+)?([\w-]*)$/.exec(prefix);
  if (keyOnly) {
    const indent = keyOnly[1].length + (keyOnly[2]?.length ?? 0);
    if (keyOnly[2]) {
      // A new list item: a value of the list, or the first key of an object item.
      const list = containerPath(lines, position.line, keyOnly[1].length, true);
      const index = itemIndex(lines, position.line, keyOnly[1].length);
      const keys = { path: [...list, index], indent: ' '.repeat(indent) };
      const item = schemaAt([...list, 0]);
      if (!item || propertiesAt(keys.path).length === 0) return { kind: 'value', path: list, item: true, flow: false };
      // Only mappings: the first key. A scalar or a mapping (`transitions`, `blocks`): the values, then the keys.
      if (shapeOf(item) === 'object') return { kind: 'key', ...keys, flow: false };
      return { kind: 'value', path: list, item: true, flow: false, itemKeys: keys };
    }
    return { kind: 'key', path: containerPath(lines, position.line, indent, false), indent: ' '.repeat(indent), flow: false };
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
      const key = top ? (top.type === 'seq' ? top.index : (top.pending ?? '')) : '';
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
  if (location.isAtPropertyKey) return { kind: 'key', path: path.slice(0, -1), indent: '', flow: true };
  if (location.previousNode?.type === 'property') return null;
  const last = path[path.length - 1];
  if (typeof last === 'number') return { kind: 'value', path: path.slice(0, -1), item: true, flow: true };
  return { kind: 'value', path, item: false, flow: true };
}

// ---------------------------------------------------------------- snippets

type Style = 'block' | 'flow' | 'json';

/** A dense block's keys: in a block mapping (each under `col`), in flow style or JSON (in braces as a whole item). */
function denseBlockText(style: Style, col: string, braces: boolean): string {
  if (style === 'block') return `layers: \${1:8}\n${col}growth_rate: \${2:48}\n${col}bottleneck: \${3:192}`;
  const q = style === 'json' ? '"' : '';
  const body = `${q}layers${q}: \${1:8}, ${q}growth_rate${q}: \${2:48}, ${q}bottleneck${q}: \${3:192}`;
  return braces ? `{ ${body} }` : body;
}

function denseBlockSnippet(style: Style, col: string, braces: boolean): CompletionItem {
  const text = denseBlockText(style, col, braces);
  return {
    label: 'dense block',
    kind: CompletionItemKind.Snippet,
    detail: 'a dense block with its own growth rate and bottleneck',
    insertTextFormat: InsertTextFormat.Snippet,
    insertTextMode: InsertTextMode.asIs,
    insertText: text,
    documentation: { kind: 'markdown', value: 'A dense block: `layers` x (BN-ReLU-conv 1x1 (B) -> BN-ReLU-conv 3x3 (k)), each concatenated after its input.' },
  };
}

/** DSOD300's dense prediction structure, as the keys of `prediction`. */
function predictionText(style: Style, indent: string): string {
  if (style === 'json')
    return '"structure": "dense", "scales": ${1:6}, "channels": [${2:800, 512, 512, 256, 256, 256}], "l2norm": { "init": 20, "scales": "all" }';
  const lines = ['structure: dense', 'scales: ${1:6}', 'channels: [${2:800, 512, 512, 256, 256, 256}]', 'l2norm: { init: 20, scales: all }'];
  return style === 'flow' ? lines.join(', ') : lines.join(`\n${indent}`);
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

type SnippetPlace = { json: boolean; unit: string; range: Range; offsets: { start: number; end: number }; text: string; draft: unknown; colonFollows: boolean };

/** The snippets that fit a key position: each only where its keys belong and none of them is there yet. */
function snippetsFor(context: Extract<Context, { kind: 'key' }>, p: SnippetPlace): CompletionItem[] {
  if (p.colonFollows) return [];
  const where = context.path.join('.');
  const style: Style = p.json ? 'json' : context.flow ? 'flow' : 'block';
  // The half-typed key at the cursor is in the draft already: it is what the snippet replaces.
  const typed = p.text.slice(p.offsets.start, p.offsets.end).replace(/"/g, '');
  const present = new Set([...presentKeys(p.draft, context.path)].filter((k) => k !== typed));
  const out: CompletionItem[] = [];
  const snippet = (item: CompletionItem, text: string, filterText?: string): CompletionItem => ({
    ...item,
    kind: CompletionItemKind.Snippet,
    insertTextFormat: InsertTextFormat.Snippet,
    insertTextMode: InsertTextMode.asIs,
    insertText: text,
    textEdit: { range: p.range, newText: text },
    filterText,
    sortText: `9${item.label}`,
  });
  if (where === '' && style === 'block' && context.indent === '' && !/^\s*(backbone|prediction|priors)\s*:/m.test(p.text)) {
    // In the file's own indentation: its two-space steps become the file's unit.
    let text = DSOD300_SNIPPET.replace(/^((?: {2})+)/gm, (lead) => p.unit.repeat(lead.length / 2));
    if (/^\s*dsod\s*:/m.test(p.text)) text = text.split('\n').slice(1).join('\n');
    out.push(
      snippet(
        {
          label: 'DSOD300',
          detail: 'the whole DSOD300 spec (VOC, 300x300)',
          documentation: {
            kind: 'markdown',
            value: 'DSOD300 as the official code builds it: 14,715,804 learned parameters, 15.08 GMACs, 8,744 default boxes.',
          },
        },
        text,
      ),
    );
  }
  const prediction = {
    label: 'prediction scales (dense)',
    detail: "DSOD300's dense prediction structure: 6 scales, learn half / reuse half",
    documentation: {
      kind: 'markdown' as const,
      value:
        'The six scales of DSOD300: the first from the backbone (800 channels, L2-normalized), each next one half learned, half the previous scale downsampled.',
    },
  };
  if (where === 'prediction' && !['structure', 'scales', 'channels'].some((k) => present.has(k))) {
    out.push(snippet(prediction, predictionText(style, context.indent)));
  }
  if (where === '' && !present.has('prediction')) {
    // The key with its keys: on the next lines one unit in (block), in braces (flow, JSON).
    const text =
      style === 'block'
        ? `prediction:\n${context.indent}${p.unit}${predictionText('block', context.indent + p.unit)}`
        : style === 'flow'
          ? `prediction: { ${predictionText('flow', '')} }`
          : `"prediction": { ${predictionText('json', '')} }`;
    out.push(snippet(prediction, text, 'prediction'));
  }
  if (/^backbone\.blocks\.[0-9]+$/.test(where) && present.size === 0) {
    out.push(snippet(denseBlockSnippet(style, context.indent, false), denseBlockText(style, context.indent, false)));
  }
  return out;
}
