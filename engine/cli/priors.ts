// `dsod priors SPEC --data DIR`: the spec's default boxes measured against the training boxes of a dataset (issue
// 13, item 2): recall by the matching rule, per object size and class, mean best IoU, positives per scale, and the
// objects no prior matches. The measure is core's (core/priors-coverage.ts); this file reads, caches and prints.
import { resolve } from 'node:path';
import {
  applyEdits,
  checkSpec,
  formatExact,
  formatOf,
  formatPixels,
  formatShare,
  measureCoverage,
  priorEdits,
  priorLayout,
  SIZE_BUCKETS,
  SSD_MATCH_THRESHOLD,
  suggestPriors,
  type Analysis,
  type PriorCoverage,
  type PriorSuggestion,
  type ScalePriors,
  type TextEdit,
} from '../../core';
import { writeFileAtomicSync } from '../data/files';
import { resolveDataSource } from '../data/source';
import { EngineError, EXIT } from '../errors';
import { parseCommand, UsageError } from './args';
import type { Io } from './engine-command';
import { coverageCache, trainingBoxes, type TrainingBoxes } from './priors-data';
import { priorsView } from './priors-view';
import { splitList } from './run-target';
import { loadSpec, SpecError } from './spec-file';

export const PRIORS_USAGE = `  priors <spec>      Measure the spec's default boxes against a dataset's training boxes: recall by the matching
                     rule (best IoU >= 0.5), per size (small/medium/large) and class, mean best IoU, positives
                     per scale, and the objects no default box matches
      --data DIR         A VOC folder or a COCO instances JSON (default: the spec's data.root)
      --split NAME       VOC list(s) to read, comma-separated (default: the spec's data.train, else trainval)
      --json             Print one JSON object instead of the tables
      --list N           Unmatched objects listed (default 20; --json lists all)
      --cache DIR        Where the boxes read are kept, by the dataset's files (default runs/.cache/priors)
      --no-cache         Read the dataset again and keep nothing
      --suggest          Propose min/max sizes and aspect ratios per scale that match more objects (k-means of the
                         box shapes, then a search on the measure; each scale keeps its boxes per location, so the
                         network is unchanged): a before/after table and the spec edit. Never lowers recall: without
                         a better proposal, says so and keeps the spec
      --write            With --suggest: apply the edit to the spec file (only the changed lists are rewritten)
      --view             Print what the editor's "Default boxes" view draws, one JSON object (protocol/priors.ts)
`;

export const DEFAULT_PRIORS_CACHE = 'runs/.cache/priors';

export async function priorsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('priors', args, {
    data: { type: 'string' },
    split: { type: 'string' },
    json: { type: 'boolean', default: false },
    list: { type: 'string' },
    cache: { type: 'string' },
    'no-cache': { type: 'boolean', default: false },
    suggest: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    view: { type: 'boolean', default: false },
  });
  try {
    if (positionals.length !== 1) throw new UsageError('priors takes exactly one spec file');
    const list = values.list === undefined ? 20 : Number(values.list);
    if (!Number.isInteger(list) || list < 0) throw new UsageError(`--list must be a whole number (got "${values.list}")`);
    const result = await measurePriors({
      spec: positionals[0],
      data: values.data ?? null,
      split: splitList(values.split) ?? null,
      cacheDir: values['no-cache'] ? null : resolve(values.cache ?? DEFAULT_PRIORS_CACHE),
    });
    if (values.write && !values.suggest) throw new UsageError('--write applies the edit of --suggest: pass both');
    const suggestion = values.suggest ? suggestEdit(result) : null;
    if (suggestion && values.write && suggestion.suggestion.improved) writeSuggestion(result, suggestion);
    if (values.view) {
      io.stdout.write(JSON.stringify(await priorsView(result, suggestion)) + '\n');
      return EXIT.ok;
    }
    io.stdout.write(
      values.json
        ? JSON.stringify({ ...priorsJson(result), ...(suggestion ? { suggestion: suggestionJson(result, suggestion, values.write === true) } : {}) }, null, 2) +
            '\n'
        : priorsText(result, list) + (suggestion ? suggestionText(result, suggestion, values.write === true) : ''),
    );
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    if (e instanceof SpecError) for (const l of e.lines) io.stderr.write(`${l}\n`);
    io.stderr.write(`dsod: ${e.where ? `${e.where}: ` : ''}${e.message}\n`);
    return e.exitStatus;
  }
}

export interface PriorsRun {
  specPath: string;
  specText: string;
  analysis: Analysis;
  dataRoot: string;
  split: string[];
  boxes: TrainingBoxes;
  coverage: PriorCoverage;
  cached: boolean;
  seconds: { read: number; measure: number };
}

/** Read (or take from the cache) the training boxes and measure the spec's priors against them. */
export async function measurePriors(o: { spec: string; data: string | null; split: string[] | null; cacheDir: string | null }): Promise<PriorsRun> {
  const spec = loadSpec(o.spec);
  const src = resolveDataSource(spec.analysis.spec, o.spec, o.data);
  if (o.split && src.format === 'coco') throw new UsageError('--split names VOC lists; for COCO pass the instances JSON with --data');
  const parts = o.split ?? src.train;
  const t0 = performance.now();
  const { boxes, cached, key } = await trainingBoxes(src, parts, spec.analysis.spec, o.cacheDir);
  const t1 = performance.now();
  const layout = priorLayout(spec.analysis);
  const measured = coverageCache(o.cacheDir, key, layout, SSD_MATCH_THRESHOLD);
  let coverage = measured.read();
  if (!coverage) {
    coverage = measureCoverage(layout, boxes);
    measured.write(coverage);
  }
  const t2 = performance.now();
  return {
    specPath: o.spec,
    specText: spec.text,
    analysis: spec.analysis,
    dataRoot: src.root,
    split: parts,
    boxes,
    coverage,
    cached,
    seconds: { read: (t1 - t0) / 1000, measure: (t2 - t1) / 1000 },
  };
}

/** Where an object is written: `file:line` (VOC) or `file`, and its place in the file. */
export function objectPlace(b: TrainingBoxes, j: number): { image: number; file: string; line: number | null; object: number } {
  // Images are in object order: a binary search over their starts.
  let lo = 0;
  let hi = b.images.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (b.imageStart[mid] <= j) lo = mid;
    else hi = mid - 1;
  }
  return { image: lo, file: b.images[lo].source, line: b.objectLine[j] || null, object: b.objectIndex[j] };
}

function inputBox(r: PriorsRun, j: number): { x: number; y: number; width: number; height: number } {
  const { width: W, height: H } = r.analysis.spec.input;
  const b = r.boxes.boxes;
  return { x: b[4 * j] * W, y: b[4 * j + 1] * H, width: (b[4 * j + 2] - b[4 * j]) * W, height: (b[4 * j + 3] - b[4 * j + 1]) * H };
}

function scaleOfPrior(r: PriorsRun, p: number): number {
  const scales = r.coverage.scales;
  let first = 0;
  for (let i = 0; i < scales.length; i++) {
    if (p < first + scales[i].priors) return i;
    first += scales[i].priors;
  }
  return -1;
}

const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;

export function priorsJson(r: PriorsRun) {
  const c = r.coverage;
  return {
    spec: r.specPath,
    data: r.dataRoot,
    split: r.split,
    input: [r.analysis.spec.input.height, r.analysis.spec.input.width],
    threshold: c.threshold,
    images: c.images,
    objects: c.objects,
    matched: c.matched,
    recall: c.objects ? c.matched / c.objects : 0,
    meanBestIou: c.meanBestIou,
    sizeLimits: c.sizeLimits,
    bySize: SIZE_BUCKETS.map((b) => ({ bucket: b, ...c.buckets[b] })),
    byClass: c.classes.flatMap((k, label) => (label === 0 ? [] : [{ label, name: r.boxes.classNames[label], ...k }])),
    scales: c.scales.map((s) => ({ ...s, positivesPerImage: c.images ? s.positives / c.images : 0 })),
    positives: c.positives,
    unmatched: [...c.unmatched].map((j) => {
      const at = objectPlace(r.boxes, j);
      const p = c.bestPrior[j];
      const box = inputBox(r, j);
      return {
        file: at.file,
        line: at.line,
        object: at.object,
        image: r.boxes.images[at.image].id,
        class: r.boxes.classNames[r.boxes.labels[j]],
        box: { x: round(box.x, 2), y: round(box.y, 2), width: round(box.width, 2), height: round(box.height, 2) },
        bestIou: round(c.bestIou[j]),
        bestScale: p >= 0 ? c.scales[scaleOfPrior(r, p)].name : null,
      };
    }),
    cached: r.cached,
  };
}

/** Columns padded to their widest cell; the first left-aligned, the rest right-aligned. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => '  ' + r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n') + '\n';
}

const recall = (k: { objects: number; matched: number }) => [formatExact(k.objects), formatExact(k.matched), formatShare(k.matched, k.objects)];

export function priorsText(r: PriorsRun, list: number): string {
  const c = r.coverage;
  const { height: H, width: W } = r.analysis.spec.input;
  const out: string[] = [];
  out.push(
    `${r.specPath}: default boxes against ${formatExact(c.objects)} objects in ${formatExact(c.images)} images of ${r.dataRoot} (${r.split.join(', ')}), ` +
      `warped to ${W}x${H}${r.cached ? ', boxes from the cache' : ''}\n`,
  );
  out.push(
    `recall ${formatShare(c.matched, c.objects)} (${formatExact(c.matched)} of ${formatExact(c.objects)} objects have a default box with IoU >= ${c.threshold}), ` +
      `mean best IoU ${c.meanBestIou.toFixed(3)}\n\n`,
  );
  out.push(
    `By size (sides in input px: small < ${formatPixels(c.sizeLimits.small)}, medium < ${formatPixels(c.sizeLimits.medium)}, COCO's 32 and 96 scaled to the input):\n`,
  );
  out.push(table([['size', 'objects', 'matched', 'recall'], ...SIZE_BUCKETS.map((b) => [b, ...recall(c.buckets[b])])]));
  out.push('\nBy class:\n');
  out.push(
    table([
      ['class', 'objects', 'matched', 'recall'],
      ...c.classes.flatMap((k, label) => (label === 0 || k.objects === 0 ? [] : [[r.boxes.classNames[label], ...recall(k)]])),
    ]),
  );
  out.push('\nPer scale (positives: priors matched by the training rule, bipartite then IoU >= threshold, over all images):\n');
  out.push(
    table([
      ['scale', 'boxes', 'min', 'max', 'positives', 'per image', 'share', 'best for'],
      ...c.scales.map((s, i) => {
        const l = priorLayout(r.analysis).scales[i];
        return [
          s.name,
          formatExact(s.priors),
          formatPixels(l.minSize),
          l.maxSize === null ? '–' : formatPixels(l.maxSize),
          formatExact(s.positives),
          (c.images ? s.positives / c.images : 0).toFixed(2),
          formatShare(s.positives, c.positives),
          formatExact(s.bestFor),
        ];
      }),
      [
        'total',
        formatExact(c.scales.reduce((n, s) => n + s.priors, 0)),
        '',
        '',
        formatExact(c.positives),
        (c.images ? c.positives / c.images : 0).toFixed(2),
        '',
        formatExact(c.objects),
      ],
    ]),
  );
  const n = c.unmatched.length;
  out.push(`\nObjects no default box matches: ${formatExact(n)}${n > list ? ` (the first ${list}; --json lists all)` : ''}\n`);
  for (const j of [...c.unmatched].slice(0, list)) {
    const at = objectPlace(r.boxes, j);
    const b = inputBox(r, j);
    const p = c.bestPrior[j];
    out.push(
      `  ${at.file}${at.line ? `:${at.line}` : ''}: object ${at.object} "${r.boxes.classNames[r.boxes.labels[j]]}" ` +
        `${formatPixels(b.width)}x${formatPixels(b.height)} px at (${formatPixels(b.x)}, ${formatPixels(b.y)}): best IoU ${c.bestIou[j].toFixed(3)}` +
        `${p >= 0 ? ` (${c.scales[scaleOfPrior(r, p)].name})` : ''}\n`,
    );
  }
  return out.join('');
}

// --suggest

export interface SuggestedEdit {
  suggestion: PriorSuggestion;
  edits: TextEdit[];
  /** Why the edit cannot be placed in the spec (then nothing is written). */
  error: string | null;
}

export function suggestEdit(r: PriorsRun): SuggestedEdit {
  const suggestion = suggestPriors(priorLayout(r.analysis), r.boxes);
  if (!suggestion.improved) return { suggestion, edits: [], error: null };
  const document = checkSpec(r.specText, formatOf(r.specPath), { hints: false }).document;
  const placed = priorEdits(document, suggestion.before, suggestion.after);
  if ('error' in placed) return { suggestion, edits: [], error: placed.error };
  // The edited spec must check as cleanly as before (a bad edit is a bug; it is never written).
  const edited = checkSpec(applyEdits(r.specText, placed.edits), formatOf(r.specPath), { hints: false });
  if (!edited.analysis || edited.diagnostics.some((d) => d.severity === 'error'))
    return {
      suggestion,
      edits: [],
      error: `the edited spec would not check: ${edited.diagnostics.find((d) => d.severity === 'error')?.message ?? 'no analysis'}`,
    };
  return { suggestion, edits: placed.edits, error: null };
}

function writeSuggestion(r: PriorsRun, s: SuggestedEdit): void {
  if (s.error) throw new EngineError('spec', `--write: ${s.error}`, r.specPath);
  writeFileAtomicSync(r.specPath, applyEdits(r.specText, s.edits));
}

const settingText = (p: ScalePriors) =>
  `${formatPixels(p.minSize)}${p.maxSize === null ? '' : `-${formatPixels(p.maxSize)}`} px, ratios ${p.aspectRatios.join(', ') || '-'}`;

function suggestionJson(r: PriorsRun, s: SuggestedEdit, written: boolean) {
  const { suggestion: g } = s;
  const recall = (c: PriorCoverage) => ({
    matched: c.matched,
    recall: c.objects ? c.matched / c.objects : 0,
    meanBestIou: c.meanBestIou,
    positives: c.positives,
  });
  return {
    improved: g.improved,
    before: g.before,
    after: g.after,
    measureBefore: recall(g.coverageBefore),
    measureAfter: recall(g.coverageAfter),
    bySize: SIZE_BUCKETS.map((b) => ({
      bucket: b,
      objects: g.coverageBefore.buckets[b].objects,
      before: g.coverageBefore.buckets[b].matched,
      after: g.coverageAfter.buckets[b].matched,
    })),
    scales: g.coverageBefore.scales.map((sc, i) => ({ name: sc.name, positivesBefore: sc.positives, positivesAfter: g.coverageAfter.scales[i].positives })),
    edits: s.edits.map((e) => ({
      file: r.specPath,
      start: { line: e.range.start.line + 1, column: e.range.start.character + 1 },
      end: { line: e.range.end.line + 1, column: e.range.end.character + 1 },
      newText: e.newText,
    })),
    error: s.error,
    written: written && g.improved && !s.error,
    search: { evaluations: g.evaluations, images: g.searchImages },
  };
}

function suggestionText(r: PriorsRun, s: SuggestedEdit, written: boolean): string {
  const g = s.suggestion;
  const out: string[] = ['\nSuggestion (--suggest):\n'];
  if (!g.improved) {
    out.push(
      `  no proposal matches more objects than the spec (${formatExact(g.coverageBefore.matched)} of ${formatExact(g.coverageBefore.objects)}; ` +
        `${g.evaluations} settings measured on ${formatExact(g.searchImages)} images): the spec is kept\n`,
    );
    return out.join('');
  }
  const b = g.coverageBefore;
  const a = g.coverageAfter;
  out.push(
    table([
      ['', 'before', 'after'],
      ['recall', formatShare(b.matched, b.objects), formatShare(a.matched, a.objects)],
      ['matched objects', formatExact(b.matched), formatExact(a.matched)],
      ['mean best IoU', b.meanBestIou.toFixed(3), a.meanBestIou.toFixed(3)],
      ...SIZE_BUCKETS.map((k) => [
        `recall, ${k}`,
        formatShare(b.buckets[k].matched, b.buckets[k].objects),
        formatShare(a.buckets[k].matched, a.buckets[k].objects),
      ]),
      ['positives', formatExact(b.positives), formatExact(a.positives)],
    ]),
  );
  out.push('\n');
  out.push(
    table([
      ['scale', 'before', 'after', 'positives'],
      ...g.before.map((p, i) => [
        b.scales[i].name,
        settingText(p),
        settingText(g.after[i]),
        `${formatExact(b.scales[i].positives)} -> ${formatExact(a.scales[i].positives)}`,
      ]),
    ]),
  );
  if (s.error) {
    out.push(`\n  the edit cannot be written: ${s.error}\n`);
    return out.join('');
  }
  out.push(`\n${written ? 'Written to' : 'The edit (--write applies it) in'} ${r.specPath}:\n`);
  for (const e of s.edits) {
    const was = r.specText.slice(e.start, e.end);
    out.push(`  ${r.specPath}:${e.range.start.line + 1}:${e.range.start.character + 1}: ${was ? `${was} -> ` : 'insert '}${e.newText.trim()}\n`);
  }
  return out.join('');
}
