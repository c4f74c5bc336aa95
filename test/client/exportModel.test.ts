// "DSOD: Export to TF.js" and "DSOD: Export to ONNX" as VS Code drives them (fakeVscode.ts for `vscode`, the REAL engine
// dist/dsod.js): refused with the reason in a restricted workspace; the weights picker starts at the newest run's weights
// of the spec; the model is written where the input box says; weights of another network end in an error naming the
// tensor.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createModel, encodeWeights } from '../../engine/model';
import { analyze, readRepoFile, repoRoot } from '../helpers';
import { fakeContext, installFakeVscode, Uri, vscode } from './fakeVscode';

const state = installFakeVscode();
// Loaded after the fake is in place: it imports `vscode`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { registerModelExports } = require('../../client/exportModel') as typeof import('../../client/exportModel');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MODEL_EXPORTS } = require('../../client/exportModelArgs') as typeof import('../../client/exportModelArgs');
const EXPORT_TFJS_COMMAND = MODEL_EXPORTS.tfjs.command;

const engineMissing = existsSync(join(repoRoot, 'dist', 'dsod.js')) ? false : 'no dist/dsod.js (npm run build)';
const TINY = readRepoFile('examples/tiny.dsod.yaml');

// The fake has no file picker or input box: these record what the command asks and answer it.
const asked: { open: { defaultUri?: Uri; filters?: unknown }[]; input: { value?: string }[] } = { open: [], input: [] };
let openAnswer: string | undefined;
Object.assign(vscode.window, {
  showOpenDialog: async (o: { defaultUri?: Uri; filters?: unknown }) => {
    asked.open.push(o);
    return openAnswer ? [Uri.file(openAnswer)] : undefined;
  },
  showInputBox: async (o: { value?: string }) => {
    asked.input.push(o);
    return o.value; // accepted as proposed
  },
});

let ws: string;
let spec: string;
let runWeights: string;

before(async () => {
  ws = mkdtempSync(join(tmpdir(), 'dsod-export-tfjs-'));
  spec = join(ws, 'tiny.dsod.yaml');
  writeFileSync(spec, TINY);
  // A run of the spec (by its folder name) holding weights: the picker's starting point.
  const run = join(ws, 'runs', 'tiny-20261201-120000');
  mkdirSync(run, { recursive: true });
  const model = createModel(analyze(TINY).graph, { seed: 3 });
  runWeights = join(run, 'weights.dsodw');
  writeFileSync(runWeights, encodeWeights(await model.getWeights()));
  model.dispose();
  state.workspaceFolder = ws;
  registerModelExports(fakeContext(repoRoot) as never);
});

after(() => rmSync(ws, { recursive: true, force: true }));

test('a restricted workspace: refused with the reason, nothing asked, nothing written', { skip: engineMissing }, async () => {
  state.trusted = false;
  state.shown.length = 0;
  try {
    const r = await state.commands.get(EXPORT_TFJS_COMMAND)!(Uri.file(spec));
    assert.equal(r, undefined);
    assert.equal(state.shown.length, 1);
    assert.equal(state.shown[0].kind, 'warning');
    assert.match(state.shown[0].message, /Restricted Mode/);
    assert.deepEqual(asked.open, []);
    assert.equal(existsSync(join(ws, 'tiny-tfjs')), false);
  } finally {
    state.trusted = true;
  }
});

test("the picker starts at the newest run's weights; the model goes to <spec>-tfjs beside the spec", { skip: engineMissing, timeout: 120_000 }, async () => {
  state.shown.length = 0;
  state.activeEditorPath = spec;
  openAnswer = runWeights;
  const out = await state.commands.get(EXPORT_TFJS_COMMAND)!();
  assert.equal(asked.open.length, 1);
  assert.equal(asked.open[0].defaultUri?.fsPath, runWeights);
  assert.deepEqual(asked.open[0].filters, { 'DSOD weights': ['dsodw', 'dsodckpt'] });
  assert.equal(asked.input.at(-1)?.value, join(ws, 'tiny-tfjs'));
  assert.equal(out, join(ws, 'tiny-tfjs'));
  assert.deepEqual(readdirSync(join(ws, 'tiny-tfjs')).sort(), ['group1-shard1of1.bin', 'model.json', 'priors.json']);
  assert.equal(state.shown.at(-1)?.kind, 'info');
  assert.match(state.shown.at(-1)!.message, /TF\.js model written to .*tiny-tfjs/);
});

test('weights of another network: an error naming the tensor, no folder', { skip: engineMissing, timeout: 120_000 }, async () => {
  state.shown.length = 0;
  const other = createModel(analyze(TINY.replace('classes: [circle, square, triangle, star, cross]', 'classes: [circle, square]')).graph);
  const wrong = join(ws, 'two-classes.dsodw');
  writeFileSync(wrong, encodeWeights(await other.getWeights()));
  other.dispose();
  const out = await state.commands.get(EXPORT_TFJS_COMMAND)!(Uri.file(spec), { weights: wrong, out: join(ws, 'wrong-tfjs') });
  assert.equal(out, undefined);
  assert.equal(state.shown.at(-1)?.kind, 'error');
  assert.match(state.shown.at(-1)!.message, /export to TF\.js failed: .*two-classes\.dsodw does not fit .*conf\/conv\/weight: shape/);
  assert.equal(existsSync(join(ws, 'wrong-tfjs')), false);
});

test(
  'Export to ONNX: the same picker, the model written to <spec>.onnx beside the spec, opset 13 in its header',
  { skip: engineMissing, timeout: 120_000 },
  async () => {
    state.shown.length = 0;
    state.activeEditorPath = spec;
    openAnswer = runWeights;
    const before = asked.open.length;
    const out = await state.commands.get(MODEL_EXPORTS.onnx.command)!();
    assert.equal(asked.open.length, before + 1);
    assert.equal(asked.open.at(-1)?.defaultUri?.fsPath, runWeights);
    assert.equal(asked.input.at(-1)?.value, join(ws, 'tiny.onnx'));
    assert.equal(out, join(ws, 'tiny.onnx'));
    assert.ok(statSync(out as string).size > 100_000, 'the model holds the weights');
    assert.equal(state.shown.at(-1)?.kind, 'info');
    assert.match(state.shown.at(-1)!.message, /ONNX model written to .*tiny\.onnx/);
  },
);
