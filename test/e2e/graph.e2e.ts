// End to end in a real VS Code: DSOD300's architecture graph opened from the status bar, in the pane beside the spec,
// as a user meets it (issue 10, item 6): fitted whole into the pane on open and when the pane is resized, names and
// one number legible at that zoom; every block expanded, fitted again and using the width; zoomed in, the full
// numbers. Run: `npm run build && npx tsc -p . && node --test --test-concurrency=1 out/test/e2e/graph.e2e.js`.
// Screenshots: results/e2e/graph/01-collapsed-fitted.png, 02-all-expanded.png, 03-zoomed-full-numbers.png (and
// FAILED-<step>.png); logs: results/e2e/graph/code-server.log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import { expectSoon, log, openFile, openVSCode, statusBarEntry, stepRunner, type Session } from './harness';
import { DSOD300_FILE } from './scenario';

const started = Date.now();
let vscode: Session | undefined;
const { step } = stepRunner(() => vscode, { escapeFirst: true });

/** The graph webview's page (VS Code nests it in two iframes). */
const graphFrame = (page: Session['page']): FrameLocator => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

/** The whole drawing lies inside the graph's canvas, and fills its width or its height. */
async function assertFitted(graph: FrameLocator, what: string): Promise<void> {
  const d = (await graph.locator('svg.graph > g.drawing').boundingBox())!;
  const c = (await graph.locator('#canvas').boundingBox())!;
  const inside = d.x >= c.x - 0.5 && d.y >= c.y - 0.5 && d.x + d.width <= c.x + c.width + 0.5 && d.y + d.height <= c.y + c.height + 0.5;
  assert.ok(inside, `${what}: the drawing ${JSON.stringify(d)} is not inside the pane ${JSON.stringify(c)}`);
  const fill = Math.max(d.width / c.width, d.height / c.height);
  assert.ok(fill > 0.9, `${what}: the drawing fills only ${(100 * fill).toFixed(0)}% of the pane`);
}

const nodes = (graph: FrameLocator) => graph.locator('g.node').count();

describe('the architecture graph in VS Code (code-server)', { timeout: 300_000 }, () => {
  before(
    async () => {
      vscode = await openVSCode({ resultsSubdir: 'graph' });
      vscode.page.setDefaultTimeout(30_000);
      log(`workbench up in ${Date.now() - started} ms`);
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await vscode?.close();
    log(`suite done in ${Date.now() - started} ms`);
  });

  test("x. the status bar opens DSOD300's graph beside the spec, fitted, and fitted again when the pane resizes", { timeout: 120_000 }, () =>
    step('x-graph-fitted', async ({ page, screenshot }) => {
      await openFile(page, DSOD300_FILE);
      await statusBarEntry(page, 'dsod-studio.dsod-studio.dsod.totals').filter({ hasText: /boxes/ }).click();
      const graph = graphFrame(page);
      await graph.locator('body[data-version]').waitFor({ timeout: 60_000 });
      await expectSoon(async () => assert.equal(await nodes(graph), 50));
      // A side pane: narrower than the window.
      const pane = (await graph.locator('#canvas').boundingBox())!;
      assert.ok(pane.width < 0.6 * page.viewportSize()!.width, `the graph pane is ${pane.width} px wide`);
      await expectSoon(() => assertFitted(graph, 'opened'));
      // Fitted in a side pane the view is zoomed out: every node says its name and one number.
      assert.equal(await graph.locator('svg.graph').getAttribute('class'), 'graph zoomed-out');
      assert.deepEqual(await graph.locator('g.node[data-id="block1"] > .lod > text').allTextContents(), ['block1', '4.41 GMACs']);
      assert.deepEqual(await graph.locator('g.node[data-id="transition2"] > .lod > text').allTextContents(), ['transition2', '924 MMACs']);
      await screenshot('01-collapsed-fitted');

      // The side bar closed (Ctrl+B, from the editor): the pane grows and the graph is fitted to it.
      await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+B');
      await expectSoon(async () => assert.ok((await graph.locator('#canvas').boundingBox())!.width > pane.width + 100, 'the pane did not grow'));
      await expectSoon(() => assertFitted(graph, 'the pane grown'));
      await page.keyboard.press('Control+B');
      await expectSoon(() => assertFitted(graph, 'the pane back'));
    }),
  );

  test("y. every block expanded: fitted again, and the drawing uses the pane's width", { timeout: 90_000 }, () =>
    step('y-graph-expanded', async ({ page, screenshot }) => {
      const graph = graphFrame(page);
      await graph.locator('#expand-all').click();
      await expectSoon(async () => assert.equal(await nodes(graph), 88));
      await expectSoon(() => assertFitted(graph, 'expanded'));
      const d = (await graph.locator('svg.graph > g.drawing').boundingBox())!;
      assert.ok(d.width / d.height > 0.6, `expanded, the drawing is ${(d.width / d.height).toFixed(2)} as wide as it is tall`);
      await screenshot('02-all-expanded');
    }),
  );

  test('z. zoomed in, the nodes show their full numbers', { timeout: 90_000 }, () =>
    step('z-graph-zoomed', async ({ page, screenshot }) => {
      const graph = graphFrame(page);
      await graph.locator('#collapse-all').click();
      await expectSoon(async () => assert.equal(await nodes(graph), 50));
      // Ctrl + wheel over scale 2's class scores zooms in around them, as a user would, step by step until the full
      // labels come back.
      const svg = graph.locator('svg.graph');
      const at = (await graph.locator('g.node[data-id="head2/conf"] > rect.box').boundingBox())!;
      await page.mouse.move(at.x + at.width / 2, at.y + at.height / 2);
      await page.keyboard.down('Control');
      for (let i = 0; i < 20 && (await svg.getAttribute('class')) !== 'graph'; i++) await page.mouse.wheel(0, -60);
      await page.keyboard.up('Control');
      assert.equal(await svg.getAttribute('class'), 'graph');
      const conf = graph.locator('g.node[data-id="head2/conf"] > .full');
      await conf.locator('.numbers').waitFor({ state: 'visible' });
      assert.equal(await conf.locator('.title').textContent(), 'head 2 · conf');
      assert.equal(await conf.locator('.shape').textContent(), '126×19×19');
      assert.equal(await conf.locator('.numbers').textContent(), '580,860 params · 209,599,488 MACs');
      await page.mouse.move(5, 5);
      await screenshot('03-zoomed-full-numbers');
    }),
  );
});
