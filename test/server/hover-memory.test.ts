// Hovering train.batch shows what one training step takes in memory (core/analysis/memory.ts) per engine, and the
// micro-batch x accumulation that fits the budget's train_memory, or common cards when the spec sets none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Position } from 'vscode-languageserver-types';
import { fitBatch, formatBytes, trainingMemory } from '../../core';
import { createLanguageService } from '../../server/service';
import { analyze, DSOD300_YAML, edit } from '../helpers';

let version = 0;
const doc = (text: string) => ({ uri: 'file:///ws/spec.dsod.yaml', version: ++version, getText: () => text });
const positionOf = (text: string, needle: string, delta = 0): Position => {
  const lines = text.slice(0, text.indexOf(needle) + delta).split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
};
const service = createLanguageService();
const hoverText = (text: string, needle: string) => (service.hover(doc(text), positionOf(text, needle, 2))!.contents as { value: string }).value;

test('train.batch: the step at the micro-batch for tfjs, torch fp32 and bf16, and the plan for 8 GiB and 24 GiB cards', () => {
  const a = analyze(DSOD300_YAML);
  const micro = a.spec.train.batch / a.spec.train.accumulate;
  const value = hoverText(DSOD300_YAML, 'batch: 128');
  assert.ok(value.includes(`**One training step** · micro-batch ${micro} (train.batch 128 / accumulate ${a.spec.train.accumulate})`), value);
  for (const [engine, precision] of [
    ['tfjs', 'fp32'],
    ['torch', 'fp32'],
    ['torch', 'bf16'],
  ] as const) {
    const m = trainingMemory(a, { engine, precision, batch: micro });
    assert.ok(value.includes(`| ${engine} ${precision} | ${formatBytes(m.total)} | ${formatBytes(m.saved)} |`), `${engine} ${precision}`);
  }
  const fit = fitBatch(a, 8 * 2 ** 30, { engine: 'torch', precision: 'fp32' });
  assert.ok(
    value.includes(
      `- A 8.00 GiB card (torch fp32): at most ${fit.largest} images per micro-batch; train.batch 128 as ${fit.plan!.microBatch} × accumulate ${fit.plan!.accumulate}.`,
    ),
    value,
  );
  // The key's own documentation still follows.
  assert.match(value, /\*\*train\.batch\*\*/);
});

test("with budget.train_memory the advice is the budget's: within it, or the plan that fits it", () => {
  const over = DSOD300_YAML + 'budget: { train_memory: 8GB, engine: torch }\n';
  const value = hoverText(over, 'batch: 128');
  const fit = fitBatch(analyze(over.replace('budget: { train_memory: 8GB, engine: torch }\n', '')), 8e9, { engine: 'torch' });
  assert.ok(value.includes(`Over \`budget.train_memory\` (${formatBytes(8e9)}, torch fp32): at most ${fit.largest} images per micro-batch`), value);
  const within = edit(over, 'train_memory: 8GB', 'train_memory: 80GB');
  assert.ok(hoverText(within, 'batch: 128').includes(`Within \`budget.train_memory\` (${formatBytes(80e9)}, torch fp32).`));
});

test('hovering another train key shows no step memory', () => {
  assert.ok(!hoverText(DSOD300_YAML, 'lr: ').includes('One training step'));
});
