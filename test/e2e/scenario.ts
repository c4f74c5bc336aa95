// The end-to-end scenario's data, shared by the code-server suite (test/e2e/) and the @vscode/test-electron suite
// (test/vscode/): the broken spec, where things are in the examples, and what a user must read on the screen.
// Only node built-ins here: both suites compile it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BROKEN_FILE = 'broken.dsod.yaml';
export const DSOD300_FILE = 'dsod300.dsod.yaml';

/**
 * What a user sees. The numbers are DSOD300's as the official Caffe code builds it (README): 14,715,804 learned
 * parameters, 15,079,798,528 MACs, 8,744 default boxes; dense block 1 (6 layers, k = 48, B = 192, on 128 channels) has
 * 788,640 learned parameters.
 */
export const EXPECT = {
  brokenMessage: 'Unknown property "growth_rat" in backbone. Did you mean "growth_rate"?',
  brokenCode: 'schema/unknown-key',
  brokenSource: 'dsod',
  fixTitle: 'Change to "growth_rate"',
  block1Title: 'block1',
  block1Learned: '788,640',
  block1LearnedShare: '788,640 (5.4%)',
  statusBar: '14.7M params · 15.1 GMACs · 8,744 boxes',
  brokenStatusBar: 'DSOD: 1 error',
  learned: '14,715,804',
  macs: '15,079,798,528',
  boxes: '8,744',
  codeLens: 'DSOD300: 14.7M params (14.8M stored) · 15.1 GMACs (30.2 GFLOPs) · 8,744 boxes',
} as const;

export interface Place {
  /** 1-based, as VS Code's status bar and Problems panel show them. */
  line: number;
  column: number;
}

export interface Scenario {
  dsod300: string;
  /** DSOD300 with the typo `growth_rat: 48` under backbone: one error, and the quick fix gives a valid DSOD300
   * (with `growth_rat: 32` the fix would be refused: growth_rate 32 conflicts with the notation's k = 48). */
  broken: string;
  /** Where the typo's key starts in the broken spec. */
  typo: Place;
  /** The `6` of `blocks: [6, 8, 8, 8]` in DSOD300: dense block 1. */
  block1: Place;
}

function placeOf(text: string, lineStart: RegExp, token: string): Place {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => lineStart.test(l));
  if (index < 0) throw new Error(`no line matching ${lineStart} in the spec`);
  const column = lines[index].indexOf(token, lines[index].search(/\S/));
  return { line: index + 1, column: column + 1 };
}

export function scenario(repoRoot: string): Scenario {
  const dsod300 = readFileSync(join(repoRoot, 'examples', DSOD300_FILE), 'utf8');
  const broken = dsod300.replace(/^( {2}notation: .*\n)/m, '$1  growth_rat: 48\n');
  if (broken === dsod300) throw new Error('examples/dsod300.dsod.yaml has no backbone notation line to put the typo after');
  return {
    dsod300,
    broken,
    typo: placeOf(broken, /^ {2}growth_rat:/, 'growth_rat'),
    block1: placeOf(dsod300, /^ {2}blocks: \[/, '6'),
  };
}

/**
 * What the editor shows while the spec has errors (issue 10, item 2; test/e2e/errors.e2e.ts). With the typo of the broken
 * spec the rest is analysed (partial); with an invalid `input.size` nothing is, and the last valid numbers stay, stale.
 */
export const EXPECT_ERRORS = {
  partialStatusBar: 'DSOD: 1 error · partial 14.7M params · 15.1 GMACs · 8,744 boxes',
  partialCodeLens: 'partial (ignoring backbone.growth_rat): DSOD300: 14.7M params (14.8M stored) · 15.1 GMACs (30.2 GFLOPs) · 8,744 boxes',
  staleStatusBar: 'DSOD: 1 error · last valid 14.7M params · 15.1 GMACs · 8,744 boxes',
  staleCodeLens: 'last valid: DSOD300: 14.7M params (14.8M stored) · 15.1 GMACs (30.2 GFLOPs) · 8,744 boxes',
  /** The blocks' inlay hint, after `blocks: [6, 8, 8, 8]` (one hint per one-line list: VS Code cuts a line's hints at 43 characters). */
  block1Hint: 'params: 789k · 1.57M · 2.17M · 2.76M',
  /** What marks a stale hint (server/service/inlay.ts: STALE_MARK). */
  staleMark: '⟲ ',
  /** The input line of DSOD300, and what breaks it. */
  inputSize: '[300, 300]',
  badInputSize: 'big',
} as const;
