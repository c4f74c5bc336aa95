// A small, strict XML reader for annotation files (Pascal VOC): elements, attributes, text, comments, CDATA,
// the five predefined entities and character references. No DTDs, no namespaces: VOC files use none of them.
// Errors carry the line and column, so a broken annotation is reported where it is broken.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (children's text excluded), entities decoded, trimmed. */
  text: string;
  /** 1-based position of the start tag. */
  line: number;
  column: number;
}

export class XmlError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${line}:${column}: ${message}`);
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};
const MAX_DEPTH = 256;

export function parseXml(text: string): XmlElement {
  let pos = 0;
  // Line starts, for turning offsets into line:column only when an error or an element needs it.
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const where = (offset: number): { line: number; column: number } => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
  };
  const fail = (message: string, offset = pos): never => {
    const { line, column } = where(Math.min(offset, text.length));
    throw new XmlError(message, line, column);
  };

  const skipSpace = () => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 32 || c === 10 || c === 13 || c === 9) pos++;
      else return;
    }
  };
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) fail('expected a name');
    pos += m![0].length;
    return m![0];
  };
  const decode = (raw: string, offset: number): string =>
    raw.indexOf('&') < 0
      ? raw
      : raw.replace(/&([^;&\s]*);?/g, (all, body: string, at: number) => {
          if (!all.endsWith(';')) fail(`"&" must start an entity such as &amp;`, offset + at);
          if (body.startsWith('#x') || body.startsWith('#X')) {
            const n = parseInt(body.slice(2), 16);
            if (!/^#[xX][0-9a-fA-F]+$/.test(body) || n > 0x10ffff) fail(`bad character reference "${all}"`, offset + at);
            return String.fromCodePoint(n);
          }
          if (body.startsWith('#')) {
            const n = parseInt(body.slice(1), 10);
            if (!/^#[0-9]+$/.test(body) || n > 0x10ffff) fail(`bad character reference "${all}"`, offset + at);
            return String.fromCodePoint(n);
          }
          const e = ENTITIES[body];
          if (e === undefined) fail(`unknown entity "${all}"`, offset + at);
          return e;
        });
  /** Skip comments, processing instructions and whitespace between markup. */
  const skipMisc = (allowDoctype: boolean) => {
    for (;;) {
      skipSpace();
      if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (text.startsWith('<?', pos)) {
        const end = text.indexOf('?>', pos + 2);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else if (allowDoctype && text.startsWith('<!DOCTYPE', pos)) {
        fail('DOCTYPE declarations are not supported in annotation files');
      } else return;
    }
  };

  const readElement = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail(`elements nested deeper than ${MAX_DEPTH}`);
    const start = pos;
    if (text[pos] !== '<') fail('expected "<"');
    pos++;
    const name = readName();
    const attributes: Record<string, string> = {};
    for (;;) {
      const before = pos;
      skipSpace();
      if (text.startsWith('/>', pos)) {
        pos += 2;
        return { name, attributes, children: [], text: '', ...where(start) };
      }
      if (text[pos] === '>') {
        pos++;
        break;
      }
      if (pos === before) fail(`expected whitespace, ">" or "/>" in <${name}>`);
      const attrAt = pos;
      const attr = readName();
      skipSpace();
      if (text[pos] !== '=') fail(`expected "=" after attribute "${attr}"`);
      pos++;
      skipSpace();
      const quote = text[pos];
      if (quote !== '"' && quote !== "'") fail(`attribute "${attr}" needs a quoted value`);
      const end = text.indexOf(quote, pos + 1);
      if (end < 0) fail(`unterminated value of attribute "${attr}"`);
      if (attr in attributes) fail(`duplicate attribute "${attr}"`, attrAt);
      attributes[attr] = decode(text.slice(pos + 1, end), pos + 1);
      pos = end + 1;
    }
    const children: XmlElement[] = [];
    let own = '';
    for (;;) {
      if (pos >= text.length) fail(`<${name}> is never closed`, start);
      if (text.charCodeAt(pos) !== 60 /* < */) {
        const next = text.indexOf('<', pos);
        const end = next < 0 ? text.length : next;
        own += decode(text.slice(pos, end), pos);
        pos = end;
        continue;
      }
      if (text.startsWith('</', pos)) {
        pos += 2;
        const closeAt = pos;
        const closing = readName();
        if (closing !== name) fail(`</${closing}> closes <${name}> (opened at line ${where(start).line})`, closeAt);
        skipSpace();
        if (text[pos] !== '>') fail(`expected ">" after </${closing}`);
        pos++;
        return {
          name,
          attributes,
          children,
          text: own.trim(),
          ...where(start),
        };
      }
      if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (text.startsWith('<![CDATA[', pos)) {
        const end = text.indexOf(']]>', pos + 9);
        if (end < 0) fail('unterminated CDATA section');
        own += text.slice(pos + 9, end);
        pos = end + 3;
      } else if (text.startsWith('<?', pos)) {
        const end = text.indexOf('?>', pos + 2);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else {
        children.push(readElement(depth + 1));
      }
    }
  };

  if (text.charCodeAt(0) === 0xfeff) pos = 1; // byte order mark
  skipMisc(true);
  if (pos >= text.length) fail('the file has no root element');
  const root = readElement(0);
  skipMisc(false);
  if (pos < text.length) fail('content after the root element');
  return root;
}

/** The first child named `name`, or undefined. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** Escape text for element content or attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${Object.keys(ENTITIES).find((k) => ENTITIES[k] === c)};`);
}
