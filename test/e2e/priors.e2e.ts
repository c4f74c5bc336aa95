// End to end in a real VS Code: "DSOD: Show Default Boxes" (issue 13, item 2) on the tiny spec with a synthetic set
// at data/synth (`dsod synth --count 120`), the workspace trusted: d1. the palette command opens the "Default boxes"
// view beside the spec: the recall the CLI gives (`dsod priors --json`), a training image with scale 1's boxes at the
// centre cell, the size scatter with each scale's shapes, the suggestion table; d2. scale 3 chosen and a click on the
// image's top-left moves the cell to row 0, column 0; d3. "Apply to the spec": the spec's min_sizes line is the
// suggestion's, saved, and the view measures again (the new recall).
// Run: `npm run build && npx tsc -p . && flock /tmp/coord/e2e.lock node --test --test-concurrency=1 out/test/e2e/priors.e2e.js`.
// Screenshots: results/e2e/priors/01-default-boxes.png, 02-scale3-corner.png, 03-applied.png (and FAILED-<step>.png).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { build, expectSoon, log, openFile, openVSCode, repoRoot, runCommand, stepRunner, type Session } from './harness';

const SPEC = 'examples/tiny.dsod.yaml';
const started = Date.now();
let vscode: Session | undefined;
let sourceDir = '';
const { step } = stepRunner(() => vscode, { escapeFirst: true });

const viewFrame = (page: Page): FrameLocator => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

function cli(args: string[]): { matched: number; objects: number; suggestion?: { measureAfter: { matched: number }; after: { minSize: number }[] } } {
  return JSON.parse(execFileSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'priors', ...args, '--json', '--no-cache'], { encoding: 'utf8' }));
}

describe('the default-box view in VS Code (code-server)', { timeout: 600_000 }, () => {
  before(
    async () => {
      await build();
      sourceDir = mkdtempSync(join(tmpdir(), 'dsod-e2e-priors-ws-'));
      mkdirSync(join(sourceDir, 'examples'));
      copyFileSync(join(repoRoot, SPEC), join(sourceDir, SPEC));
      execFileSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'synth', '--out', join(sourceDir, 'data', 'synth'), '--count', '120'], {
        stdio: 'ignore',
      });
      vscode = await openVSCode({ workspaceFrom: sourceDir, resultsSubdir: 'priors' });
      vscode.page.setDefaultTimeout(30_000);
      log(`workbench up in ${Date.now() - started} ms`);
    },
    { timeout: 300_000 },
  );

  after(async () => {
    await vscode?.close();
    if (sourceDir) rmSync(sourceDir, { recursive: true, force: true });
    log(`suite done in ${Date.now() - started} ms`);
  });

  test('d1-d3. the view: image with default boxes, size scatter, suggestion applied as an edit', { timeout: 300_000 }, () =>
    step('d-default-boxes', async ({ page, screenshot }) => {
      const expected = cli([join(sourceDir, SPEC), '--suggest']);
      await openFile(page, SPEC);
      await runCommand(page, 'DSOD: Show Default Boxes');
      const view = viewFrame(page);
      const recall = `${((100 * expected.matched) / expected.objects).toFixed(1)}%`;
      await view
        .locator('#summary')
        .filter({ hasText: `Recall ${recall}` })
        .waitFor({ timeout: 120_000 });
      assert.equal(await view.locator('#image image').count(), 1, 'a training image');
      assert.equal(await view.locator('#image rect.prior').count(), 4, "scale 1's four boxes at the centre cell");
      assert.ok((await view.locator('#image rect.truth').count()) > 0, 'the image has objects');
      assert.equal(await view.locator('#scatter rect.shape').count(), 16, "four scales' four shapes");
      assert.ok((await view.locator('#scatter circle.size').count()) === expected.objects);
      await view.locator('#apply').waitFor();
      await screenshot('01-default-boxes');

      // d2. Scale 3, then the image's top-left corner: the cell moves to row 0, column 0.
      await view.locator('#scale').selectOption('2');
      await expectSoon(async () => assert.match((await view.locator('#cell').textContent()) ?? '', /row 3, column 3/));
      const img = (await view.locator('#image').boundingBox())!;
      await page.mouse.click(img.x + 3, img.y + 3);
      await expectSoon(async () => assert.match((await view.locator('#cell').textContent()) ?? '', /row 0, column 0/));
      await screenshot('02-scale3-corner');

      // d3. Apply: the spec's lists are the suggestion's, saved; the view measures again.
      await view.locator('#apply').click();
      const file = join(vscode!.workspace, SPEC);
      const wanted = `  min_sizes: [${expected.suggestion!.after.map((s) => s.minSize).join(', ')}]`;
      await expectSoon(async () => assert.ok(readFileSync(file, 'utf8').split('\n').includes(wanted), readFileSync(file, 'utf8')), 60_000);
      const after = `${((100 * expected.suggestion!.measureAfter.matched) / expected.objects).toFixed(1)}%`;
      await view
        .locator('#summary')
        .filter({ hasText: `Recall ${after}` })
        .waitFor({ timeout: 120_000 });
      await screenshot('03-applied');
    }),
  );
});
