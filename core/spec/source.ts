// Parse spec text (YAML or JSON) into plain data while keeping a way back from any data path to its text range.
import { isCollection, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Node as YamlNode } from 'yaml';
import * as jsonc from 'jsonc-parser';
import type { Diagnostic, Path, Position, Range } from '../diagnostics';
import type { ParserCode } from '../codes';
import { firstLineEnd, lineStarts, loneCrAsLf } from './lines';

export type SpecFormat = 'yaml' | 'json';

export interface SourceDocument {
  readonly text: string;
  readonly format: SpecFormat;
  /** The spec as plain data; `undefined` when the text could not be parsed. */
  readonly value: unknown;
  /** The data as far as it could be read despite syntax errors (for completion while typing); never validated. */
  readonly draft: unknown;
  /** Syntax errors, already placed. */
  readonly syntaxErrors: Diagnostic[];
  /** The range of the value (or of the key) at `path`; the nearest existing ancestor when `path` is absent. */
  rangeOf(path: Path, at?: 'key' | 'value'): Range;
  positionAt(offset: number): Position;
  offsetAt(position: Position): number;
  /** The deepest data path at `offset`, and whether the offset is on that entry's key or its value. */
  pathAt(offset: number): { path: Path; on: 'key' | 'value' };
  /** Every collection (mapping or list) with its path and range: the spec's foldable structure. */
  collections(): { path: Path; range: Range }[];
}

/** Guess the format from a file name: `.json` is JSON, everything else YAML. */
export function formatOf(fileName: string): SpecFormat {
  return /\.json$/i.test(fileName) ? 'json' : 'yaml';
}

export function parseSource(text: string, format: SpecFormat): SourceDocument {
  return format === 'json' ? parseJson(text) : parseYaml(text);
}

/** Maps offsets to line/character and back with a table of line starts built once per document. */
class LineIndex {
  readonly starts: number[];
  constructor(text: string) {
    this.starts = lineStarts(text);
  }
  positionAt(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }
}

function lazyLineIndex(text: string): { positionAt: (offset: number) => Position; offsetAt: (p: Position) => number } {
  let index: LineIndex | undefined;
  const get = () => (index ??= new LineIndex(text));
  return {
    positionAt: (offset) => get().positionAt(Math.max(0, Math.min(offset, text.length))),
    offsetAt: (p) => {
      const starts = get().starts;
      if (p.line >= starts.length) return text.length;
      const start = starts[Math.max(0, p.line)];
      // A character past the line's end means its end, before the line break (as LSP and TextDocument say).
      let lineEnd = p.line + 1 < starts.length ? starts[p.line + 1] : text.length;
      if (lineEnd > start && text.charCodeAt(lineEnd - 1) === 10) lineEnd--;
      if (lineEnd > start && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
      return Math.max(0, Math.min(start + Math.max(0, p.character), lineEnd));
    },
  };
}

function syntaxError(code: ParserCode, message: string, range: Range): Diagnostic {
  return { code, severity: 'error', message, range, path: [] };
}

// ---------------------------------------------------------------- YAML

function parseYaml(text: string): SourceDocument {
  const { positionAt, offsetAt } = lazyLineIndex(text);
  const span = (start: number, end: number): Range => ({ start: positionAt(start), end: positionAt(end) });
  // logLevel 'error': the library's own console warnings (a collection used as a key, say) would reach the client as
  // log lines on every keystroke; every problem is in doc.errors/doc.warnings or found below and becomes a diagnostic.
  const doc = parseDocument(loneCrAsLf(text), { prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const syntaxErrors = [...doc.errors, ...doc.warnings.filter((w) => w.code !== 'TAG_RESOLVE_FAILED')].map((e) =>
    syntaxError(`syntax/${e.code.toLowerCase().replace(/_/g, '-')}`, firstLine(e.message), span(e.pos[0], wordEnd(text, e.pos[0], e.pos[1]))),
  );
  // A list or mapping used as a key would be stringified ("[ a, b ]"); no key of a spec can be one.
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key as YamlNode | null;
      if (isCollection(key) && key.range) {
        syntaxErrors.push({
          code: 'syntax/collection-key',
          severity: 'error',
          message: 'A key must be a name, not a list or a mapping.',
          range: span(key.range[0], key.range[1]),
          path: [],
        });
      }
    },
  });
  let value: unknown;
  let draft: unknown;
  try {
    draft = doc.toJS({ maxAliasCount: 100 });
    if (doc.errors.length === 0) value = draft;
  } catch (e) {
    // Alias bombs and similar: the data cannot be built, say so at the document's start.
    if (doc.errors.length === 0) syntaxErrors.push(syntaxError('syntax/unresolvable', firstLine(String((e as Error).message)), span(0, 1)));
  }

  const rangeOf = (path: Path, at: 'key' | 'value' = 'value'): Range => {
    if (path.length === 0 && at === 'key') return span(0, firstLineEnd(text));
    let node: unknown = doc.contents;
    let keyNode: YamlNode | null = null;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
        if (!pair) break;
        keyNode = pair.key as YamlNode;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        keyNode = null;
        node = node.items[segment];
      } else {
        break; // missing, or an alias: the nearest ancestor stands for it
      }
    }
    const target = at === 'key' && keyNode ? keyNode : ((node as YamlNode | null) ?? keyNode);
    if (target?.range) return span(target.range[0], target.range[1]);
    if (keyNode?.range) return span(keyNode.range[0], keyNode.range[1]);
    return span(0, firstLineEnd(text));
  };

  const pathAt = (offset: number): { path: Path; on: 'key' | 'value' } => {
    const path: (string | number)[] = [];
    let node: unknown = doc.contents;
    const inside = (n: unknown) => !!n && !!(n as YamlNode).range && (n as YamlNode).range![0] <= offset && offset <= (n as YamlNode).range![1];
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.find((p) => inside(p.key) || inside(p.value));
        if (!pair) break;
        path.push(keyText(pair.key));
        if (inside(pair.key)) return { path, on: 'key' };
        node = pair.value;
      } else if (isSeq(node)) {
        const i = node.items.findIndex(inside);
        if (i < 0) break;
        path.push(i);
        node = node.items[i];
      } else {
        break;
      }
    }
    return { path, on: 'value' };
  };

  const collections = (): { path: Path; range: Range }[] => {
    const out: { path: Path; range: Range }[] = [];
    const visit = (node: unknown, path: (string | number)[]) => {
      if (isMap(node) || isSeq(node)) {
        if (node.range) out.push({ path, range: span(node.range[0], node.range[1]) });
        node.items.forEach((item, i) => {
          if (isPair(item)) visit(item.value, [...path, keyText(item.key)]);
          else visit(item, [...path, i]);
        });
      }
    };
    visit(doc.contents, []);
    return out;
  };

  return { text, format: 'yaml', value, draft, syntaxErrors, rangeOf, positionAt, offsetAt, pathAt, collections };
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

// ---------------------------------------------------------------- JSON

function parseJson(text: string): SourceDocument {
  const { positionAt, offsetAt } = lazyLineIndex(text);
  const span = (start: number, end: number): Range => ({ start: positionAt(start), end: positionAt(end) });
  const errors: jsonc.ParseError[] = [];
  let root: jsonc.Node | undefined;
  try {
    root = jsonc.parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  } catch (e) {
    // Pathological nesting overflows the parser's recursion.
    return failed(
      text,
      'json',
      syntaxError('syntax/resource-exhaustion', `JSON could not be parsed: ${(e as Error).message}`, span(0, firstLineEnd(text))),
      lazyLineIndex(text),
    );
  }
  const syntaxErrors = errors.map((e) =>
    syntaxError(
      `syntax/${jsonc
        .printParseErrorCode(e.error)
        .replace(/([a-z])([A-Z])/g, '$1-$2')
        .toLowerCase()}`,
      describeJsonError(e.error),
      span(e.offset, e.offset + Math.max(1, e.length)),
    ),
  );
  const draft = root ? jsonc.getNodeValue(root) : undefined;
  const value = errors.length === 0 ? draft : undefined;

  const rangeOf = (path: Path, at: 'key' | 'value' = 'value'): Range => {
    if (!root) return span(0, firstLineEnd(text));
    let node = root;
    for (let depth = path.length; depth >= 0; depth--) {
      const found = jsonc.findNodeAtLocation(root, path.slice(0, depth) as jsonc.JSONPath);
      if (found) {
        node = found;
        if (depth === path.length && at === 'key' && found.parent?.type === 'property' && found.parent.children?.[0]) {
          const key = found.parent.children[0];
          return span(key.offset, key.offset + key.length);
        }
        break;
      }
    }
    return span(node.offset, node.offset + node.length);
  };

  const pathAt = (offset: number): { path: Path; on: 'key' | 'value' } => {
    const location = jsonc.getLocation(text, offset);
    return { path: location.path.filter((s) => s !== ''), on: location.isAtPropertyKey ? 'key' : 'value' };
  };

  const collections = (): { path: Path; range: Range }[] => {
    const out: { path: Path; range: Range }[] = [];
    const visit = (node: jsonc.Node | undefined) => {
      if (!node) return;
      if (node.type === 'object' || node.type === 'array') out.push({ path: jsonc.getNodePath(node), range: span(node.offset, node.offset + node.length) });
      node.children?.forEach(visit);
    };
    visit(root);
    return out;
  };

  return { text, format: 'json', value, draft, syntaxErrors, rangeOf, positionAt, offsetAt, pathAt, collections };
}

function failed(text: string, format: SpecFormat, error: Diagnostic, index: ReturnType<typeof lazyLineIndex>): SourceDocument {
  const start = error.range;
  return {
    text,
    format,
    value: undefined,
    draft: undefined,
    syntaxErrors: [error],
    rangeOf: () => start,
    ...index,
    pathAt: () => ({ path: [], on: 'value' }),
    collections: () => [],
  };
}

function describeJsonError(code: jsonc.ParseErrorCode): string {
  const words = jsonc
    .printParseErrorCode(code)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return `JSON syntax error: ${words}`;
}

/** yaml marks some errors with a single character; widen such a mark to the word it starts (a duplicate key, say). */
function wordEnd(text: string, start: number, end: number): number {
  if (end - start > 1) return end;
  const word = /^[^\s:,[\]{}#]+/.exec(text.slice(start, start + 200));
  return start + (word ? word[0].length : 0);
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}
