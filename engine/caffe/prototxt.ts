// Protocol Buffers text format (what Caffe's .prototxt files are), read and written. The reader is a real parser of
// the grammar (tokens, then fields, nested messages and lists), keeping each field's line for error messages; it does
// not know Caffe's schema: exporter, importer and tests interpret the fields they need.

/** A bare identifier value: an enum (`MAX`, `TRAIN`) or `true`/`false`. */
export class Ident {
  constructor(readonly name: string) {}
}

export type Scalar = string | number | boolean | Ident;

export interface Field {
  name: string;
  value: Scalar | Message;
  /** 1-based line and column of the field's name. */
  line: number;
  column: number;
}

export interface Message {
  fields: Field[];
  /** 1-based line of the opening brace (1 for a file's top level). */
  line: number;
}

/** A text that is not valid text format: where and why. */
export class PrototxtError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'PrototxtError';
  }
}

type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  /** The decoded value of a string token. */
  value?: string;
  line: number;
  column: number;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_.]*/y;
const NUMBER = /[-+]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?|0[xX][0-9a-fA-F]+)/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = ++i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const column = i - lineStart + 1;
    if ('{}[]:,;<>'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line, column });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length || text[j] === '\n') throw new PrototxtError('a string is not closed', line, column);
        const d = text[j];
        if (d === c) break;
        if (d === '\\') {
          const e = text[j + 1];
          const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
          if (e === undefined || !(e in escapes)) throw new PrototxtError(`an unknown escape \\${e ?? ''} in a string`, line, j - lineStart + 1);
          value += escapes[e];
          j += 2;
          continue;
        }
        value += d;
        j++;
      }
      tokens.push({ kind: 'string', text: text.slice(i, j + 1), value, line, column });
      i = j + 1;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = /[-+0-9.]/.test(c) ? NUMBER.exec(text) : null;
    if (num) {
      tokens.push({ kind: 'number', text: num[0], line, column });
      i += num[0].length;
      continue;
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(text);
    if (id) {
      tokens.push({ kind: 'ident', text: id[0], line, column });
      i += id[0].length;
      continue;
    }
    throw new PrototxtError(`unexpected character ${JSON.stringify(c)}`, line, column);
  }
  tokens.push({ kind: 'eof', text: '', line, column: i - lineStart + 1 });
  return tokens;
}

function numberOf(text: string): number {
  const t = text.replace(/[fF]$/, '').toLowerCase();
  if (/^[-+]?inf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[-+]?nan$/.test(t)) return NaN;
  return Number(t);
}

/** Parse a text-format message (a whole file). Throws PrototxtError with the line of the first problem. */
export function parsePrototxt(text: string): Message {
  const tokens = tokenize(text);
  let p = 0;
  const peek = () => tokens[p];
  const next = () => tokens[p++];
  const fail = (t: Token, reason: string): never => {
    throw new PrototxtError(t.kind === 'eof' ? `the file ends too early: ${reason}` : reason, t.line, t.column);
  };

  const scalar = (t: Token): Scalar => {
    if (t.kind === 'string') {
      let value = t.value!;
      // Adjacent strings concatenate, as in C.
      while (peek().kind === 'string') value += next().value!;
      return value;
    }
    if (t.kind === 'number') return numberOf(t.text);
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'True' || t.text === 't') return true;
      if (t.text === 'false' || t.text === 'False' || t.text === 'f') return false;
      return new Ident(t.text);
    }
    return fail(t, `expected a value, found ${describe(t)}`);
  };

  const body = (close: string | null, line: number): Message => {
    const fields: Field[] = [];
    for (;;) {
      const t = next();
      if (close === null && t.kind === 'eof') return { fields, line };
      if (close !== null && t.kind === 'punct' && t.text === close) return { fields, line };
      if (t.kind !== 'ident')
        fail(t, close !== null && t.kind === 'eof' ? `a message opened on line ${line} is not closed` : `expected a field name, found ${describe(t)}`);
      const name = t.text;
      let colon = false;
      if (peek().kind === 'punct' && peek().text === ':') {
        next();
        colon = true;
      }
      const v = peek();
      if (v.kind === 'punct' && (v.text === '{' || v.text === '<')) {
        next();
        fields.push({ name, value: body(v.text === '{' ? '}' : '>', v.line), line: t.line, column: t.column });
      } else if (v.kind === 'punct' && v.text === '[') {
        // A list: `name: [1, 2]` or `name [{...}, {...}]`.
        next();
        if (!(peek().kind === 'punct' && peek().text === ']')) {
          for (;;) {
            const item = next();
            if (item.kind === 'punct' && (item.text === '{' || item.text === '<'))
              fields.push({ name, value: body(item.text === '{' ? '}' : '>', item.line), line: t.line, column: t.column });
            else fields.push({ name, value: scalar(item), line: t.line, column: t.column });
            const sep = next();
            if (sep.kind === 'punct' && sep.text === ']') break;
            if (!(sep.kind === 'punct' && sep.text === ',')) fail(sep, `expected , or ] in the list of ${name}, found ${describe(sep)}`);
          }
        } else next();
      } else {
        if (!colon) fail(v, `expected : or { after ${name}, found ${describe(v)}`);
        fields.push({ name, value: scalar(next()), line: t.line, column: t.column });
      }
      if (peek().kind === 'punct' && (peek().text === ',' || peek().text === ';')) next();
    }
  };
  return body(null, 1);
}

function describe(t: Token): string {
  return t.kind === 'eof' ? 'the end of the file' : JSON.stringify(t.text);
}

// --- Reading fields -------------------------------------------------------------------------------------------------

export function all(m: Message, name: string): Field[] {
  return m.fields.filter((f) => f.name === name);
}

export function first(m: Message, name: string): Field | undefined {
  return m.fields.find((f) => f.name === name);
}

export function isMessage(v: Scalar | Message | undefined): v is Message {
  return typeof v === 'object' && v !== null && !(v instanceof Ident);
}

/** The first sub-message called `name`, or undefined. */
export function sub(m: Message | undefined, name: string): Message | undefined {
  if (!m) return undefined;
  const f = m.fields.find((x) => x.name === name && isMessage(x.value));
  return f ? (f.value as Message) : undefined;
}

export function num(m: Message | undefined, name: string): number | undefined {
  const f = m && first(m, name);
  return f && typeof f.value === 'number' ? f.value : undefined;
}

export function nums(m: Message | undefined, name: string): number[] {
  return m ? all(m, name).flatMap((f) => (typeof f.value === 'number' ? [f.value] : [])) : [];
}

export function str(m: Message | undefined, name: string): string | undefined {
  const f = m && first(m, name);
  return f && typeof f.value === 'string' ? f.value : undefined;
}

export function strs(m: Message | undefined, name: string): string[] {
  return m ? all(m, name).flatMap((f) => (typeof f.value === 'string' ? [f.value] : [])) : [];
}

export function bool(m: Message | undefined, name: string): boolean | undefined {
  const f = m && first(m, name);
  return f && typeof f.value === 'boolean' ? f.value : undefined;
}

export function ident(m: Message | undefined, name: string): string | undefined {
  const f = m && first(m, name);
  return f && f.value instanceof Ident ? f.value.name : undefined;
}

// --- Writing --------------------------------------------------------------------------------------------------------

/** What the writer takes: fields in order; a nested list of fields is a sub-message. Repeated fields repeat. */
export type TextValue = Scalar | TextFields;
export type TextFields = [string, TextValue][];

/** Caffe's own layout (protobuf's printer): two spaces per level, strings quoted, enums bare. */
export function writePrototxt(fields: TextFields, indent = ''): string {
  let out = '';
  for (const [name, value] of fields) {
    if (Array.isArray(value)) {
      out += `${indent}${name} {\n${writePrototxt(value, `${indent}  `)}${indent}}\n`;
    } else {
      out += `${indent}${name}: ${scalarText(value)}\n`;
    }
  }
  return out;
}

function scalarText(v: Scalar): string {
  if (v instanceof Ident) return v.name;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
  return String(v);
}
