// End to end in a real VS Code (code-server 4.100.3, the installed .vsix): "DSOD: Export to TF.js" (issue 14, item 5).
// t. the tiny spec open, a run of it holding weights under <workspace>/runs: the command from the palette opens the
// file picker AT that run's weights, Enter takes them; the folder box proposes <workspace>/tiny-tfjs, Enter: the
// notification says where the model went, and model.json, its shard and priors.json are there.
// Run: `npm run build && npx tsc -p . && flock /tmp/coord/e2e.lock node --test --test-concurrency=1 out/test/e2e/export.e2e.js`.
// Screenshots: results/e2e/export/01-weights-picker.png, 02-folder-box.png, 03-exported.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { createModel, encodeWeights } from '../../engine/model';
import { analyze, readRepoFile, repoRoot } from '../helpers';
import { goTo, log, openFile, openVSCode, showHover, stepRunner, until, type Session } from './harness';

const SPEC = 'tiny.dsod.yaml';
const RUN = 'runs/tiny-20261201-120000';
let vscode: Session | undefined;
const { step } = stepRunner(() => vscode, { escapeFirst: true });
const quickInput = (page: Page) => page.locator('.quick-input-widget input.input');
const toast = (page: Page, text: string) => page.locator('.notifications-toasts .notification-list-item', { hasText: text });

/** The palette, the command chosen: unlike harness.runCommand, the quick input stays open (the picker reuses it). */
async function paletteCommand(page: Page, label: string): Promise<void> {
  await page.keyboard.press('F1');
  await quickInput(page).waitFor({ state: 'visible' });
  await quickInput(page).fill(`>${label}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().click();
}

describe('DSOD Studio in VS Code: Export to TF.js and to ONNX', { timeout: 300_000 }, () => {
  before(
    async () => {
      vscode = await openVSCode({ resultsSubdir: 'export' });
      vscode.page.setDefaultTimeout(30_000);
      // A run of the tiny spec (named as the run manager names them) with weights: where the picker should start.
      const model = createModel(analyze(readRepoFile(`examples/${SPEC}`)).graph, { seed: 5 });
      mkdirSync(join(vscode.workspace, RUN), { recursive: true });
      writeFileSync(join(vscode.workspace, RUN, 'weights.dsodw'), encodeWeights(await model.getWeights()));
      model.dispose();
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await vscode?.close();
  });

  test("t. from the palette: the picker at the newest run's weights, the folder beside the spec, the model written", { timeout: 120_000 }, () =>
    step('t-export-tfjs', async ({ page, screenshot, workspace }) => {
      await openFile(page, SPEC);
      await paletteCommand(page, 'DSOD: Export to TF.js');
      const weights = join(workspace, RUN, 'weights.dsodw');
      // VS Code's own (simple) file dialog: its path box starts at the default file.
      await until('the picker at the run weights', async () => ((await quickInput(page).inputValue()).endsWith(`${RUN}/weights.dsodw`) ? true : undefined));
      log(`picker: ${await quickInput(page).inputValue()}`);
      await screenshot('01-weights-picker');
      await page.keyboard.press('Enter');
      const out = join(workspace, 'tiny-tfjs');
      await until('the folder box', async () => ((await quickInput(page).inputValue()) === out ? true : undefined));
      await screenshot('02-folder-box');
      await page.keyboard.press('Enter');
      await toast(page, 'TF.js model written to').waitFor({ timeout: 90_000 });
      await screenshot('03-exported');
      assert.deepEqual(readdirSync(out).sort(), ['group1-shard1of1.bin', 'model.json', 'priors.json']);
      log(`exported from ${weights} to ${out}`);
    }),
  );

  test('u. Export to ONNX from the palette: the same picker, the file beside the spec, the model written', { timeout: 120_000 }, () =>
    step('u-export-onnx', async ({ page, screenshot, workspace }) => {
      await openFile(page, SPEC);
      await paletteCommand(page, 'DSOD: Export to ONNX');
      await until('the picker at the run weights', async () => ((await quickInput(page).inputValue()).endsWith(`${RUN}/weights.dsodw`) ? true : undefined));
      await page.keyboard.press('Enter');
      const out = join(workspace, 'tiny.onnx');
      await until('the file box', async () => ((await quickInput(page).inputValue()) === out ? true : undefined));
      await screenshot('04-onnx-file-box');
      await page.keyboard.press('Enter');
      await toast(page, 'ONNX model written to').waitFor({ timeout: 90_000 });
      await screenshot('05-onnx-exported');
      assert.ok(statSync(out).size > 100_000, 'the model holds the weights');
    }),
  );

  test('v. dsod latency beside the spec: the totals hover shows the measurement with its machine and runtime', { timeout: 120_000 }, () =>
    step('v-latency-hover', async ({ page, screenshot, workspace }) => {
      // The real CLI measures and writes <spec>.latency.json beside the spec; the extension watches those files.
      const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'latency', join(workspace, SPEC), '--warmup', '1', '--runs', '3'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      await openFile(page, SPEC);
      await goTo(page, 9, 3); // `name:`: the totals
      const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'measured latency' });
      await showHover(page, hover);
      const text = await hover.first().innerText();
      assert.match(text, /measured latency\s+[\d.]+ ms median · p90 [\d.]+ ms at batch 1 · [\d.]+ [GM]MAC\/s · onnxruntime-node [\d.]+ \(cpu\)/);
      log(`hover: ${text.split('\n').find((l) => l.includes('ms median'))}`);
      await screenshot('06-latency-hover');
      await page.keyboard.press('Escape');
    }),
  );
});
