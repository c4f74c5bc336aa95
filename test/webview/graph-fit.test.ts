// The graph in a side pane (620 x 860, the width VS Code gives a panel beside the editor): it opens fitted and stays
// fitted while the pane is resized, until the user zooms or pans; fitted, every node shows its name and one number in
// type that stays legible, and full numbers come back when zoomed in; the prediction pyramid is one row of scales;
// with every block expanded the drawing uses the width; the colour legend keeps its scale when blocks expand.
// (Issue 10, item 6.) Screenshots: results/webview/fit-*.png. Needs /usr/bin/chromium and dist/webview/graph.js.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { GraphResult } from '../../protocol/lsp';
import type { WebviewMessage } from '../../protocol/webview';
import { nodeLabel } from '../../webview/graph/labels';
import { buildViewGraph } from '../../webview/graph/model';
import { DSOD300_YAML } from '../helpers';
import { analyzer, launchChromium, missingPrerequisite, openGraphPage, screenshotPath, type GraphPage } from './page';

const PANE = { width: 620, height: 860 };
type Rendered = Extract<WebviewMessage, { type: 'rendered' }>;

interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** The drawing's and the canvas's rectangles on screen, and the zoom. */
async function geometry(gp: GraphPage): Promise<{ drawing: Rect; canvas: Rect; k: number; transform: string }> {
  return gp.page.evaluate(() => {
    const r = (e: Element) => {
      const b = e.getBoundingClientRect();
      return { left: b.left, top: b.top, right: b.right, bottom: b.bottom };
    };
    const g = document.querySelector('svg.graph > g.drawing')!;
    const transform = g.getAttribute('transform') ?? '';
    return { drawing: r(g), canvas: r(document.querySelector('#canvas')!), k: Number(/scale\(([\d.]+)\)/.exec(transform)?.[1] ?? 1), transform };
  });
}

const inside = (d: Rect, c: Rect) => d.left >= c.left - 0.5 && d.top >= c.top - 0.5 && d.right <= c.right + 0.5 && d.bottom <= c.bottom + 0.5;

async function assertFitted(gp: GraphPage, what: string): Promise<void> {
  const { drawing, canvas } = await geometry(gp);
  assert.ok(inside(drawing, canvas), `${what}: the drawing ${JSON.stringify(drawing)} is not inside the pane ${JSON.stringify(canvas)}`);
  // Fitted, not merely small: it fills the pane's width or its height.
  const fill = Math.max((drawing.right - drawing.left) / (canvas.right - canvas.left), (drawing.bottom - drawing.top) / (canvas.bottom - canvas.top));
  assert.ok(fill > 0.9, `${what}: the drawing fills only ${(100 * fill).toFixed(0)}% of the pane`);
}

/** Wait until the page has handled a resize (ResizeObserver callbacks run before the next frame is painted). */
async function frames(gp: GraphPage): Promise<void> {
  await gp.page.evaluate(() => new Promise<void>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok()))));
}

async function resize(gp: GraphPage, width: number, height: number): Promise<void> {
  await gp.page.setViewportSize({ width, height });
  await frames(gp);
}

/** Top-left corner on screen of each drawn node. */
async function corners(gp: GraphPage): Promise<Map<string, { x: number; y: number; kind: string; scale: number | null }>> {
  const list = await gp.page.evaluate(() =>
    Array.from(document.querySelectorAll<SVGGElement>('g.node')).map((g) => {
      const b = g.querySelector(':scope > rect.box')!.getBoundingClientRect();
      return { id: g.dataset.id!, kind: g.dataset.kind!, scale: g.dataset.scale ? Number(g.dataset.scale) : null, x: b.left, y: b.top };
    }),
  );
  return new Map(list.map((n) => [n.id, n]));
}

describe('the graph in a side pane (Chromium)', { skip: missingPrerequisite() ?? false, timeout: 240_000 }, () => {
  let browser: Browser;
  let gp: GraphPage;
  let dsod300: GraphResult;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await gp?.close().catch(() => undefined);
    await browser?.close();
  });

  const open = async () => {
    await gp?.close().catch(() => undefined);
    gp = await openGraphPage(browser, PANE);
    dsod300 = analyzer()(DSOD300_YAML);
    await gp.draw(dsod300);
  };

  /** Every block expanded (88 nodes for DSOD300) or collapsed (50). */
  const expandAll = async (on: boolean) => {
    const since = gp.posted.length;
    await gp.page.click(on ? '#expand-all' : '#collapse-all');
    await gp.next((m): m is Rendered => m.type === 'rendered' && (on ? m.nodes > 80 : m.nodes < 60), since);
  };

  test('DSOD300 opens fitted: the whole graph inside the pane', async () => {
    await open();
    await assertFitted(gp, 'on open');
    await gp.page.screenshot({ path: screenshotPath('fit-01-side-pane-collapsed') });
  });

  test('resizing the pane fits the graph again, until the user zooms or pans; Fit turns it back on', async () => {
    await open();
    await resize(gp, 460, 700);
    await assertFitted(gp, 'narrower pane');
    await resize(gp, 900, 1000);
    await assertFitted(gp, 'wider pane');
    await gp.page.screenshot({ path: screenshotPath('fit-02-resized') });

    // The user zooms: the view is theirs, a resize leaves it alone.
    await gp.page.click('#zoom-in');
    const zoomed = (await geometry(gp)).transform;
    await resize(gp, PANE.width, PANE.height);
    assert.equal((await geometry(gp)).transform, zoomed);

    // Fit: fitted again, and again on resize.
    await gp.page.click('#fit');
    await assertFitted(gp, 'after Fit');
    await resize(gp, 500, 760);
    await assertFitted(gp, 'after Fit, resized');

    // A pan with the wheel also keeps the user's view.
    const c = (await geometry(gp)).canvas;
    await gp.page.mouse.move(c.left + 40, c.top + 40);
    await gp.page.mouse.wheel(0, 120);
    await frames(gp);
    const panned = (await geometry(gp)).transform;
    await resize(gp, PANE.width, PANE.height);
    assert.equal((await geometry(gp)).transform, panned);

    // Expanding a block while fitted fits the new drawing.
    await gp.page.click('#fit');
    await expandAll(true);
    await assertFitted(gp, 'every block expanded');
  });

  test('fitted, every node shows its name and one number in legible type; zoomed in, its full numbers', async () => {
    await open();
    await gp.page.click('#fit');
    const { k } = await geometry(gp);
    assert.equal(await gp.page.locator('svg.graph').getAttribute('class'), 'graph zoomed-out');
    const model = buildViewGraph(dsod300, new Set())!;
    const lod = await gp.page.evaluate(() =>
      Array.from(document.querySelectorAll<SVGGElement>('g.node')).map((g) => {
        const texts = Array.from(g.querySelectorAll<SVGTextElement>(':scope > .lod > text'));
        return {
          id: g.dataset.id!,
          shown:
            getComputedStyle(g.querySelector(':scope > .lod')!).display !== 'none' && getComputedStyle(g.querySelector(':scope > .full')!).display === 'none',
          lines: texts.map((t) => t.textContent ?? ''),
          fontPx: texts.map((t) => parseFloat(getComputedStyle(t).fontSize)),
        };
      }),
    );
    assert.equal(lod.length, await gp.page.locator('g.node').count());
    for (const n of lod) {
      const u = model.units.find((x) => x.id === n.id);
      assert.ok(u, `${n.id} is not a unit of the view graph`);
      assert.ok(n.shown, `${n.id}: the small-zoom labels are not the ones shown`);
      assert.equal(n.lines.length, 2, `${n.id}: ${JSON.stringify(n.lines)}`);
      assert.equal(n.lines[0], u.short, n.id);
      // One number: a compact count with its unit, a shape, or boxes.
      assert.match(n.lines[1], /^(?:[\d.]+ [kMG]?MACs|[\d.]+[kMG]? params|\d+(?:×\d+){2}|[\d,]+ boxes)$/, n.id);
      // At least 9 px on screen, names at least 10 px.
      const [name, number] = n.fontPx.map((px) => px * k);
      assert.ok(name >= 10 && number >= 9, `${n.id}: ${name.toFixed(1)} px name, ${number.toFixed(1)} px number at zoom ${k.toFixed(2)}`);
    }
    const block1 = lod.find((n) => n.id === 'block1')!;
    assert.deepEqual(block1.lines, ['block1', '4.41 GMACs']);

    // Zoomed in past the level of detail: the full, exact numbers.
    while ((await geometry(gp)).k < 0.8) await gp.page.click('#zoom-in');
    assert.equal(await gp.page.locator('svg.graph').getAttribute('class'), 'graph');
    const numbers = gp.page.locator('g.node[data-id="block1"] > .full > .numbers');
    assert.ok(await numbers.isVisible());
    assert.equal(await numbers.textContent(), nodeLabel(model.units.find((u) => u.id === 'block1')!).numbers);
    await gp.page.screenshot({ path: screenshotPath('fit-03-zoomed-full-numbers') });
  });

  test('the prediction pyramid is one row of scales: each part of every scale at the same height, scales left to right', async () => {
    await open();
    const at = await corners(gp);
    const scaled = [...at.values()].filter((n) => n.scale !== null);
    for (const kind of ['reused', 'learned', 'concat', 'l2norm', 'loc', 'conf', 'boxes']) {
      const row = scaled.filter((n) => n.kind === kind).sort((a, b) => a.scale! - b.scale!);
      assert.ok(row.length >= 4, kind);
      for (const n of row)
        assert.ok(Math.abs(n.y - row[0].y) < 0.5, `${kind} of scale ${n.scale} at y ${n.y.toFixed(1)}, scale ${row[0].scale} at ${row[0].y.toFixed(1)}`);
      for (let i = 1; i < row.length; i++) assert.ok(row[i].x > row[i - 1].x, `${kind}: scale ${row[i].scale} is not right of scale ${row[i - 1].scale}`);
    }
    // Each scale is a column: its map, its L2Norm, its heads and its boxes one above the other, below its halves.
    for (let k = 2; k <= 6; k++) {
      const col = ['reused', 'concat', 'l2norm', 'loc', 'conf', 'boxes'].map((p) =>
        at.get(p === 'reused' || p === 'concat' ? `scale${k}/${p}` : p === 'boxes' ? `scale${k}/boxes` : `head${k}/${p}`)!,
      );
      for (const n of col) assert.ok(Math.abs(n.x - col[0].x) < 0.5, `scale ${k}: ${n.kind} is not in the scale's column`);
      for (let i = 1; i < col.length; i++) assert.ok(col[i].y > col[i - 1].y, `scale ${k}: ${col[i].kind} is not below ${col[i - 1].kind}`);
    }
  });

  test('with every block expanded the drawing uses the width, and the legend keeps its scale', async () => {
    await open();
    const legend = () => gp.page.locator('#legend').textContent();
    const collapsed = await legend();
    assert.match(collapsed!, /Share of MACs:0%29\.2%/); // block 1: 4,406,400,000 of 15,079,798,528 MACs
    await expandAll(true);
    assert.equal(await legend(), collapsed);
    const { drawing } = await geometry(gp);
    const aspect = (drawing.right - drawing.left) / (drawing.bottom - drawing.top);
    assert.ok(aspect >= 0.6, `expanded, the drawing is ${aspect.toFixed(2)} as wide as it is tall`);
    await gp.page.screenshot({ path: screenshotPath('fit-04-side-pane-expanded') });
    // Coloured by params, the same: the legend's top is the largest stage's share either way.
    const since = gp.posted.length;
    await gp.page.click('#metric-params');
    await gp.next((m): m is Rendered => m.type === 'rendered', since);
    const params = await legend();
    await expandAll(false);
    assert.equal(await legend(), params);
  });
});
