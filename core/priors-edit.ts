// A prior suggestion as text edits to the spec (`dsod priors --suggest --write`, the editor's one-click edit): only
// the lists that change are rewritten, in place, as flow lists (valid YAML and JSON); the rest of the file, comments
// and layout included, is left as written. A list the spec does not write (sizes from min_ratio) is inserted before
// the first key of `priors`.
import type { Range } from './diagnostics';
import type { ScalePriors } from './priors-suggest';
import type { SourceDocument } from './spec/source';

export interface TextEdit {
  range: Range;
  /** Offsets in the text of `range`. */
  start: number;
  end: number;
  newText: string;
}

const number = (v: number) => String(v);
const list = (xs: readonly number[]) => `[${xs.map(number).join(', ')}]`;

/** The edits that write `after` into the spec, or an error saying why they cannot be placed. */
export function priorEdits(document: SourceDocument, before: readonly ScalePriors[], after: readonly ScalePriors[]): { edits: TextEdit[] } | { error: string } {
  const priors = (document.value as Record<string, unknown> | null | undefined)?.priors;
  if (!priors || typeof priors !== 'object' || Array.isArray(priors) || Object.keys(priors).length === 0)
    return { error: 'the spec has no `priors` section to write the default boxes into: add one (see examples/dsod300.dsod.yaml)' };
  const changes: [string, string][] = [];
  const differs = (f: (p: ScalePriors) => unknown) => JSON.stringify(before.map(f)) !== JSON.stringify(after.map(f));
  if (differs((p) => p.minSize)) changes.push(['min_sizes', list(after.map((p) => p.minSize))]);
  if (differs((p) => p.maxSize) && after.every((p) => p.maxSize !== null)) changes.push(['max_sizes', list(after.map((p) => p.maxSize!))]);
  if (differs((p) => p.aspectRatios)) changes.push(['aspect_ratios', `[${after.map((p) => list(p.aspectRatios)).join(', ')}]`]);
  const text = document.text;
  const firstKey = Object.keys(priors)[0];
  const edits: TextEdit[] = [];
  for (const [key, value] of changes) {
    if (key in priors) {
      const range = document.rangeOf(['priors', key], 'value');
      edits.push({ range, start: document.offsetAt(range.start), end: document.offsetAt(range.end), newText: value });
    } else {
      const range = document.rangeOf(['priors', firstKey], 'key');
      const start = document.offsetAt(range.start);
      const json = document.format === 'json';
      const flow = !json && /\{[^{}]*$/.test(text.slice(text.lastIndexOf('priors', start), start));
      const indent = ' '.repeat(range.start.character);
      const newText = json ? `"${key}": ${value},\n${indent}` : flow ? `${key}: ${value}, ` : `${key}: ${value}\n${indent}`;
      edits.push({ range: { start: range.start, end: range.start }, start, end: start, newText });
    }
  }
  return { edits };
}

/** The text with the edits applied (last first, so earlier offsets hold). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}
