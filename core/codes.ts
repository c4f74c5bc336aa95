// Every diagnostic code core emits, with its severity and what it means: the one registry the checks, the README's
// table and the tests read. A finding names its code; its severity comes from here, so one code never means two things.
import type { Severity } from './diagnostics';

export interface CodeInfo {
  severity: Severity;
  /** One line for the README's table and for tools. */
  summary: string;
}

export const DIAGNOSTIC_CODES = {
  'spec/empty': { severity: 'error', summary: 'The spec has no content; it needs at least `dsod: 1`.' },
  'spec/too-large': { severity: 'error', summary: 'Over 512 KB: refused before parsing (a DSOD spec is a few KB).' },
  'spec/invalid-utf8': {
    severity: 'warning',
    summary: 'Replacement characters in the text: the file was probably not valid UTF-8 there (the editor gets text already decoded).',
  },
  'spec/not-utf8': { severity: 'error', summary: 'The file is not UTF-8: the CLI reads its bytes and names the first bad one.' },
  'syntax/collection-key': { severity: 'error', summary: 'A list or a mapping used as a key.' },
  'schema/required': { severity: 'error', summary: 'A required key is missing.' },
  'schema/unknown-key': { severity: 'error', summary: 'A key the spec language does not have (with the closest one as a quick fix).' },
  'schema/type': { severity: 'error', summary: 'A value of the wrong type.' },
  'schema/enum': { severity: 'error', summary: 'A value outside its allowed set (with the closest one as a quick fix).' },
  'schema/const': { severity: 'error', summary: 'A value that must be one exact value (e.g. `dsod: 1`).' },
  'schema/range': { severity: 'error', summary: 'A number outside its range.' },
  'schema/items': { severity: 'error', summary: 'A list with too few or too many items.' },
  'schema/unique': { severity: 'error', summary: 'A list that names the same item twice.' },
  'schema/empty': { severity: 'error', summary: 'An empty string or list where a value is needed.' },
  'schema/invalid': {
    severity: 'error',
    summary: 'A value the schema refuses for a reason without a code of its own (a schema keyword the checker does not word yet).',
  },
  'schema/format': { severity: 'error', summary: 'A value not in its written form (a notation, a size like `14.8M`).' },
  'notation/invalid': { severity: 'error', summary: 'A `DS/A-B-k-θ` notation that does not parse.' },
  'notation/conflict': { severity: 'error', summary: 'An explicit width that contradicts the notation.' },
  'backbone/transitions-length': { severity: 'error', summary: 'Not one transition after each dense block.' },
  'width/non-positive': { severity: 'error', summary: 'A layer left with no channels (compression, or scale 2 with nothing to reuse).' },
  'shape/collapse': { severity: 'error', summary: 'Feature maps shrink below 1×1.' },
  'shape/concat-mismatch': { severity: 'error', summary: 'Maps to concatenate differ in size.' },
  'shape/degenerate': { severity: 'warning', summary: 'A 1×1 scale after a 1×1 scale: it sees nothing new.' },
  'prediction/channels-length': { severity: 'error', summary: '`prediction.channels` lists another number of scales than `prediction.scales`.' },
  'prediction/channels': {
    severity: 'error',
    summary: 'A scale width the structure cannot have (scale 1 is the First map; plain scale 2 is the backbone output).',
  },
  'prediction/odd-channels': { severity: 'error', summary: 'A dense scale with odd channels (half reused, half learned).' },
  'prediction/first': { severity: 'error', summary: '`prediction.first` names no suitable pooling transition.' },
  'priors/length-mismatch': { severity: 'error', summary: 'A prior list with another length than the number of scales.' },
  'priors/min-ge-max': { severity: 'error', summary: 'A scale whose min size is not below its max size.' },
  'priors/size-exceeds-input': { severity: 'warning', summary: 'A min size larger than the input: its boxes cover more than the image.' },
  'priors/aspect-ratio': { severity: 'error', summary: 'An aspect ratio that is not positive.' },
  'priors/redundant-aspect-ratio': { severity: 'warning', summary: 'An aspect ratio already present (1, a repeat, or 1/r with flip): it adds no box.' },
  'priors/steps-mismatch': {
    severity: 'warning',
    summary: "A scale's feature map × step no longer spans the input (the input size changed, the steps did not).",
  },
  'priors/beyond-receptive-field': { severity: 'warning', summary: "A scale's largest default box is larger than the receptive field that predicts it." },
  'budget/params': { severity: 'error', summary: 'Parameters over the budget, and by how much.' },
  'budget/macs': { severity: 'error', summary: 'MACs per image over the budget, and by how much.' },
  'budget/activation-memory': { severity: 'error', summary: 'Activation memory of a training step over the budget.' },
  'budget/train-memory': {
    severity: 'error',
    summary:
      "One training step's memory (weights, gradients, momentum, batch, what backward keeps) over `budget.train_memory`, with the micro-batch that fits.",
  },
  'budget/precision': { severity: 'error', summary: '`budget.precision: bf16` with the tfjs engine, which trains in float32 only.' },
  'budget/latency': {
    severity: 'error',
    summary: 'The latest measured latency (`dsod latency`, with its machine and runtime) over `budget.latency_ms`.',
  },
  'analysis/too-large': { severity: 'error', summary: 'Totals past 2^53: too large to count exactly.' },
  'principle/no-stem': { severity: 'information', summary: 'No stem block (the paper: +2.8 mAP with it).' },
  'principle/compression': { severity: 'information', summary: 'Compression θ < 1 (the paper: +2.9 mAP at θ = 1).' },
  'principle/no-transition-without-pooling': { severity: 'information', summary: 'No transition without pooling (the paper: +1.7 mAP with it).' },
  'principle/narrow-bottleneck': { severity: 'information', summary: 'A bottleneck narrower than 4k (the paper: +4.1 mAP wide).' },
  'principle/narrow-first-conv': { severity: 'information', summary: 'A first conv narrower than 64 (the paper: +1.1 mAP at 64).' },
  'principle/growth-rate': { severity: 'information', summary: 'A growth rate below 48 (the paper: +4.8 mAP at k = 48 with a 4k bottleneck).' },
  'principle/plain-prediction': { severity: 'information', summary: 'The plain prediction structure (the paper: +0.4 mAP and fewer parameters dense).' },
  internal: { severity: 'error', summary: 'A bug in the checker itself; please report it with the spec.' },
} as const satisfies Record<string, CodeInfo>;

/** A code core emits through a finding. */
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** The YAML or JSON parser's own errors and warnings, named after the parser's code (`syntax/bad-indent`). */
export type ParserCode = `syntax/${string}`;

export function severityOf(code: DiagnosticCode): Severity {
  return DIAGNOSTIC_CODES[code].severity;
}
