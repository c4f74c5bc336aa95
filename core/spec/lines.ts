// The one rule for where a line ends, shared by the parser's positions, the server and the client: the LSP's.
// "\r\n", "\n" and a lone "\r" each end a line (vscode-languageserver-textdocument and the yaml parser count the same).

export const LINE_BREAK = /\r\n|\r|\n/;

/** The lines of `text`, without their line breaks. */
export function splitLines(text: string): string[] {
  return text.split(LINE_BREAK);
}

/** The offset at which each line starts; the first is 0. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return starts;
}

/** The offset of the end of the first line (its first line break, or the text's end). */
export function firstLineEnd(text: string): number {
  const nl = text.search(/\r|\n/);
  return nl < 0 ? text.length : nl;
}

/**
 * The text with each lone "\r" made "\n": the same length and offsets, for parsers that know only "\n" and "\r\n"
 * as line breaks (the yaml library reads a lone "\r" as part of a line; YAML 1.2 and the LSP end the line there).
 */
export function loneCrAsLf(text: string): string {
  return text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
}
