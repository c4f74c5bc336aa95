// The graph webview rendered in headless Chromium from the DSOD300 analysis the language service produces: what is
// drawn (nodes, the 6 scales, the learned and reused halves, core's exact numbers), how it behaves (expand, live
// redraw, errors, click, hover, keyboard, export, themes), and what it refuses (CSP, malformed messages).
// Screenshots: results/webview/*.png. Needs /usr/bin/chromium and dist/webview/graph.js (npm run build).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { formatFlops } from '../../core/format';
import type { GraphResult } from '../../protocol/lsp';
import type { WebviewMessage } from '../../protocol/webview';
import { nodeLabel } from '../../webview/graph/labels';
import { buildViewGraph } from '../../webview/graph/model';
import { DSOD300_YAML, edit } from '../helpers';
import { analyzer, launchChromium, missingPrerequisite, openGraphPage, resultsDir, screenshotPath, type GraphPage } from './page';
import { HIGH_CONTRAST, LIGHT } from './themes';

type Of<T extends WebviewMessage['type']> = Extract<WebviewMessage, { type: T }>;
const is =
  <T extends WebviewMessage['type']>(type: T, extra: (m: Of<T>) => boolean = () => true) =>
  (m: WebviewMessage): m is Of<T> =>
    m.type === type && extra(m as Of<T>);

/** What each drawn node says, read from the page. */
async function labels(gp: GraphPage): Promise<Record<string, { title: string; shape: string; detail: string; numbers: string | null }>> {
  return gp.page.evaluate(() => {
    const out: Record<string, { title: string; shape: string; detail: string; numbers: string | null }> = {};
    document.querySelectorAll<SVGGElement>('g.node').forEach((g) => {
      const t = (cls: string) => g.querySelector(`:scope > .full > .${cls}`)?.textContent ?? null;
      out[g.dataset.id!] = { title: t('title') ?? '', shape: t('shape') ?? '', detail: t('detail') ?? '', numbers: t('numbers') };
    });
    return out;
  });
}

const count = (gp: GraphPage, selector: string) => gp.page.locator(selector).count();

/** Click a node's body (not its expand box), whatever the zoom. */
async function clickNode(gp: GraphPage, id: string): Promise<void> {
  const rect = gp.page.locator(`g.node[data-id="${id}"] > rect.box`);
  const b = (await rect.boundingBox())!;
  await rect.click({ position: { x: b.width * 0.6, y: b.height * 0.75 } });
}
const transformOf = (gp: GraphPage) => gp.page.locator('svg.graph > g.drawing').getAttribute('transform');

describe('the graph webview in Chromium', { skip: missingPrerequisite() ?? false, timeout: 240_000 }, () => {
  let browser: Browser;
  let gp: GraphPage;
  let analyze: (text: string) => GraphResult;
  let dsod300: GraphResult;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  const open = async (options: Parameters<typeof openGraphPage>[1] = {}) => {
    await gp?.close().catch(() => undefined);
    gp = await openGraphPage(browser, options);
    analyze = analyzer();
    dsod300 = analyze(DSOD300_YAML);
    return gp;
  };

  test("DSOD300: every node with core's exact numbers, the 6 scales, the learned and reused half of each", async () => {
    await open();
    const drawn = await gp.draw(dsod300);
    assert.equal(drawn.nodes, 50);
    assert.equal(drawn.edges, 60);
    assert.equal(await count(gp, 'g.node'), 50);
    const kinds: Record<string, number> = {
      input: 1,
      stem: 1,
      block: 4,
      transition: 4,
      pool: 2,
      reused: 5,
      learned: 4,
      concat: 5,
      l2norm: 6,
      loc: 6,
      conf: 6,
      boxes: 6,
    };
    for (const [kind, n] of Object.entries(kinds)) assert.equal(await count(gp, `g.node[data-kind="${kind}"]`), n, kind);

    // Every label is exactly what core's numbers give.
    const model = buildViewGraph(dsod300, new Set())!;
    const onPage = await labels(gp);
    for (const u of model.units) assert.deepEqual(onPage[u.id], nodeLabel(u), u.id);
    assert.deepEqual(onPage.block1, {
      title: 'block1 · dense block',
      shape: '416×75×75',
      detail: '6 layers · k 48 · B 192 · 128→416 ch',
      numbers: '788,640 params · 4,406,400,000 MACs',
    });

    // The 6 scales with their boxes, and the totals in the header.
    const scales = Object.entries(onPage)
      .filter(([id]) => id.endsWith('/boxes'))
      .map(([, l]) => `${l.title} | ${l.detail}`);
    assert.deepEqual(scales, [
      'scale 1 · 38×38 | 4 priors/location · 5,776 boxes',
      'scale 2 · 19×19 | 6 priors/location · 2,166 boxes',
      'scale 3 · 10×10 | 6 priors/location · 600 boxes',
      'scale 4 · 5×5 | 6 priors/location · 150 boxes',
      'scale 5 · 3×3 | 4 priors/location · 36 boxes',
      'scale 6 · 2×2 | 4 priors/location · 16 boxes',
    ]);
    assert.equal(await gp.page.locator('#totals').textContent(), '14,715,804 params (14,795,828 stored) · 15,079,798,528 MACs (30.2 GFLOPs) · 8,744 boxes');
    assert.equal(await gp.page.locator('#budget').textContent(), 'no budget');

    // Scales 2..6 each concatenate one learned and one reused half; scale 2's learned half is the backbone output.
    for (let k = 2; k <= 6; k++) {
      const into = `path.edge[data-target="scale${k}/concat"]`;
      assert.equal(await count(gp, `${into}[data-role="learned"][data-scale="${k}"]`), 1, `scale ${k} learned`);
      assert.equal(await count(gp, `${into}[data-role="reused"][data-scale="${k}"]`), 1, `scale ${k} reused`);
      assert.equal(await count(gp, `path.edge[data-scale="${k}"][data-role="reused"]`), 2, `scale ${k}: pool path in and out`);
    }
    assert.equal(await gp.page.locator('path.edge[data-target="scale2/concat"][data-role="learned"]').getAttribute('data-source'), 'transition4');
    assert.equal(await count(gp, 'path.edge[data-role="learned"]'), 1 + 4 * 2);
    assert.equal(await count(gp, 'path.edge[data-role="reused"]'), 5 * 2);
    for (const d of await gp.page.locator('path.edge').evaluateAll((ps) => ps.map((p) => p.getAttribute('d') ?? '')))
      assert.match(d, /^M[\d.-]+,[\d.-]+( L[\d.-]+,[\d.-]+)+$/);

    await gp.page.screenshot({ path: screenshotPath('01-dsod300-opened') });
    await gp.page.click('#fit');
    assert.equal(await gp.page.locator('svg.graph').getAttribute('class'), 'graph zoomed-out');
    await gp.page.screenshot({ path: screenshotPath('02-dsod300-fit') });
    // Zoomed in past the threshold, the detailed labels come back.
    for (let i = 0; i < 3; i++) await gp.page.click('#zoom-in');
    assert.equal(await gp.page.locator('svg.graph').getAttribute('class'), 'graph');
    await gp.page.locator('g.node[data-id="block2"]').scrollIntoViewIfNeeded();
    await gp.page.screenshot({ path: screenshotPath('03-dsod300-detail') });
  });

  test('a dense block expands into its layers with every dense connection, and collapses back', async () => {
    await open();
    await gp.draw(dsod300);
    const since = gp.posted.length;
    await gp.page.click('g.toggle[data-toggle="block1"]');
    const expanded = await gp.next(
      is('rendered', (m) => m.nodes === 58),
      since,
    );
    assert.equal(expanded.layout, 'computed');
    assert.equal(await count(gp, 'g.node'), 58);
    assert.equal(await count(gp, 'g.node.frame[data-id="block1"]'), 1);
    assert.equal(await count(gp, 'g.node[data-kind="layer"]'), 6);
    // All pairs of (input, layer 1..6, output): 28 dense connections, 21 of them arcs around the chain.
    assert.equal(await count(gp, 'path.edge[data-role="dense"][data-source^="block1/"]'), 28);
    const arcs = await gp.page.locator('path.edge[data-role="dense"]').evaluateAll((ps) => ps.filter((p) => p.getAttribute('d')!.includes('C')).length);
    assert.equal(arcs, 21);
    assert.equal(await count(gp, 'path.edge[data-source="block1/layer2"][data-role="dense"]'), 5); // to layers 3..6 and the output
    const layer3 = (await labels(gp))['block1/layer3'];
    assert.deepEqual(layer3, {
      title: 'layer3',
      shape: '48×75×75',
      detail: '1×1 conv 192 → 3×3 conv 48 · concat 272',
      numbers: '126,784 params · 708,480,000 MACs',
    });
    // Show block 1 at full size for the screenshot.
    // Zoomed in to the full labels, the keyboard walks down into block 1 to layer 3 (each step brings its node into view).
    await gp.page.keyboard.press('Escape');
    for (let i = 0; i < 5; i++) await gp.page.click('#zoom-in');
    await gp.page.locator('svg.graph').focus();
    await gp.page.keyboard.press('Home');
    for (let i = 0; i < 6; i++) await gp.page.keyboard.press('ArrowDown');
    assert.equal(await gp.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset?.id), 'block1/layer3');
    await gp.page.mouse.move(5, 5);
    await gp.page.screenshot({ path: screenshotPath('04-block1-expanded') });

    const s2 = gp.posted.length;
    await gp.page.click('#expand-all');
    await gp.next(
      is('rendered', (m) => m.nodes === 88),
      s2,
    );
    assert.equal(await count(gp, 'g.node'), 88);
    assert.equal(await count(gp, 'path.edge[data-role="dense"]'), 28 + 3 * 45);
    await gp.page.click('#fit');
    await gp.page.screenshot({ path: screenshotPath('05-all-blocks-expanded-fit') });
    const s3 = gp.posted.length;
    await gp.page.click('#collapse-all');
    await gp.next(
      is('rendered', (m) => m.nodes === 50),
      s3,
    );
    assert.equal(await count(gp, 'g.node'), 50);
  });

  test('live: a new analysis redraws in place, keeping zoom, pan and expanded blocks; same topology, cached layout', async () => {
    await open();
    await gp.draw(dsod300);
    let since = gp.posted.length;
    await gp.page.click('g.toggle[data-toggle="block2"]');
    await gp.next(
      is('rendered', (m) => m.nodes === 60),
      since,
    );
    await gp.page.click('#zoom-in');
    const box = (await gp.page.locator('#canvas').boundingBox())!;
    await gp.page.mouse.move(box.x + 20, box.y + box.height - 20); // background
    await gp.page.mouse.down();
    await gp.page.mouse.move(box.x + 80, box.y + box.height - 120, { steps: 4 });
    await gp.page.mouse.up();
    const before = await transformOf(gp);

    const coco = analyze(edit(DSOD300_YAML, 'classes: 21', 'classes: 81'));
    const redrawn = await gp.draw(coco);
    assert.equal(redrawn.layout, 'cached');
    assert.equal(redrawn.nodes, 60);
    assert.equal(await transformOf(gp), before);
    assert.equal(await count(gp, 'g.node[data-id="block2/layer8"]'), 1);
    const conf = buildViewGraph(coco, new Set(['block2']))!.units.find((u) => u.id === 'head1/conf')!;
    assert.equal((await labels(gp))['head1/conf'].numbers, nodeLabel(conf).numbers);
    assert.match(nodeLabel(conf).detail, /4 priors × 81 classes/);
    assert.equal(
      await gp.page.locator('#totals').textContent(),
      `${coco.summary.paramsLearned.toLocaleString('en-US')} params (${coco.summary.paramsStored.toLocaleString('en-US')} stored) · ${coco.summary.macs.toLocaleString('en-US')} MACs (${formatFlops(coco.summary.macs)}) · 8,744 boxes`,
    );

    // One more layer in the collapsed block 4: the same drawing, the cached layout. Expanded, it is laid out anew, in
    // the same view.
    const deeper = await gp.draw(analyze(edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 9]')));
    assert.equal(deeper.layout, 'cached');
    since = gp.posted.length;
    await gp.page.locator('g.toggle[data-toggle="block4"]').dispatchEvent('click');
    const relaid = await gp.next(
      is('rendered', (m) => m.nodes === 60 + 11),
      since,
    );
    assert.equal(relaid.layout, 'computed');
    assert.equal(await count(gp, 'g.node[data-id="block4/layer9"]'), 1);
    assert.equal(await transformOf(gp), before);
  });

  test('a spec with errors keeps the last good graph and shows the number of errors', async () => {
    await open();
    await gp.draw(dsod300);
    const broken = analyze(edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 8, 8]')); // 5 blocks, 4 transitions
    assert.equal(broken.graph, null);
    await gp.send({ type: 'graph', title: 'dsod300.dsod.yaml', result: broken });
    await gp.page.waitForSelector(`body[data-latest-version="${broken.version}"]`);
    assert.equal(await count(gp, 'g.node'), 50);
    assert.equal(await gp.page.locator('body').getAttribute('data-version'), String(dsod300.version));
    assert.equal(
      await gp.page.locator('#problems').textContent(),
      `${broken.summary.errors} error${broken.summary.errors === 1 ? '' : 's'} · showing the last valid graph`,
    );
    assert.equal(await gp.page.locator('#totals').textContent(), '14,715,804 params (14,795,828 stored) · 15,079,798,528 MACs (30.2 GFLOPs) · 8,744 boxes');
    await gp.page.screenshot({ path: screenshotPath('06-errors-keep-last-graph') });
    const fixed = await gp.draw(analyze(DSOD300_YAML));
    assert.equal(fixed.layout, 'cached');
    assert.equal(await gp.page.locator('#problems').textContent(), '');
    // Another document that never had a graph: no stale picture of the previous one.
    const other = analyzer('file:///ws/other.dsod.yaml')('dsod: 1\nbackbone: { transitions: [pool, pool] }\n'); // 4 blocks, 2 transitions
    await gp.send({ type: 'graph', title: 'other.dsod.yaml', result: other });
    await gp.page.waitForSelector('#message:not(:empty)');
    assert.equal(await count(gp, 'g.node'), 0);
    assert.match((await gp.page.locator('#message').textContent())!, /^\d+ errors? in other\.dsod\.yaml: fix/);
  });

  test('click selects the spec text; hover shows the numbers; the keyboard moves, expands and selects', async () => {
    await open();
    await gp.draw(dsod300);
    const rangeOf = (stage: string) => dsod300.graph!.nodes.find((n) => n.stage === stage)!.source.range;

    let since = gp.posted.length;
    await clickNode(gp, 'block1');
    const reveal = await gp.next(is('reveal'), since);
    assert.deepEqual(reveal, { type: 'reveal', uri: dsod300.uri, range: rangeOf('block1') });
    assert.deepEqual(reveal.range, { start: { line: 11, character: 11 }, end: { line: 11, character: 12 } }); // the 6 of blocks: [6, ...]
    assert.equal(await gp.page.locator('g.node[data-id="block1"]').getAttribute('class'), 'node kind-block selected');

    await gp.page.hover('g.node[data-id="transition2"] .box');
    const tip = gp.page.locator('#tooltip');
    await tip.waitFor({ state: 'visible' });
    const text = await tip.innerText();
    assert.match(text, /^transition2\n1×1 conv 800→800 · then max pool\n/);
    assert.match(text, /learned params\t641,600 \(4\.4%\)/);
    assert.match(text, /MACs\t924,160,000 \(6\.1%\)/);
    assert.match(text, /spec\tbackbone\.transitions\.1/);
    await gp.page.screenshot({ path: screenshotPath('07-hover-tooltip') });
    await gp.page.mouse.move(5, 5);

    // Keyboard: into the canvas, then follow the data.
    await gp.page.locator('svg.graph').focus();
    const focused = () => gp.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset?.id ?? document.activeElement?.tagName);
    await gp.page.keyboard.press('Home');
    assert.equal(await focused(), 'input');
    for (const expected of ['stem', 'block1']) {
      await gp.page.keyboard.press('ArrowDown');
      assert.equal(await focused(), expected);
    }
    since = gp.posted.length;
    await gp.page.keyboard.press(' ');
    await gp.next(
      is('rendered', (m) => m.nodes === 58),
      since,
    );
    assert.equal(await focused(), 'block1');
    await gp.page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'block1/in');
    await gp.page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'block1/layer1');
    since = gp.posted.length;
    await gp.page.keyboard.press('Enter');
    assert.deepEqual((await gp.next(is('reveal'), since)).range, rangeOf('block1'));
    await gp.page.keyboard.press('ArrowUp');
    await gp.page.keyboard.press('ArrowUp');
    assert.equal(await focused(), 'block1');
    // Fitted until the user zooms; the 0 key fits again.
    const fitted = await transformOf(gp);
    await gp.page.keyboard.press('+');
    assert.notEqual(await transformOf(gp), fitted);
    await gp.page.keyboard.press('0');
    assert.equal(await transformOf(gp), fitted);
    // A clicked node of a spec with an external range stays on its own document.
    assert.ok(gp.posted.filter((m) => m.type === 'reveal').every((m) => (m as Of<'reveal'>).uri === dsod300.uri));
  });

  test('export: a standalone SVG with resolved colours, and a PNG drawn through a canvas', async () => {
    await open();
    await gp.draw(dsod300);
    let since = gp.posted.length;
    await gp.page.click('#export-svg');
    const svg = await gp.next(
      is('export', (m) => m.format === 'svg'),
      since,
    );
    assert.equal(svg.name, 'DSOD300-graph.svg');
    assert.match(svg.data, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="graph" width="\d+" height="\d+"/);
    assert.ok(svg.data.includes('788,640 params · 4,406,400,000 MACs'));
    assert.ok(svg.data.includes('DSOD300 — dsod300.dsod.yaml'));
    assert.doesNotMatch(svg.data, /var\(--|<script|tabindex|class="lod"/);
    assert.match(svg.data, /fill: #cccccc/); // the theme's foreground, resolved
    writeFileSync(join(resultsDir, '08-export.svg'), svg.data);

    since = gp.posted.length;
    await gp.page.click('#export-png');
    const png = await gp.next(
      is('export', (m) => m.format === 'png'),
      since,
      30_000,
    );
    assert.equal(png.name, 'DSOD300-graph.png');
    const bytes = Buffer.from(png.data, 'base64');
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const [w, h] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    const [sw, sh] = [/width="(\d+)"/, /height="(\d+)"/].map((r) => Number(r.exec(svg.data)![1]));
    assert.deepEqual([w, h], [2 * sw, 2 * sh]);
    writeFileSync(join(resultsDir, '09-export.png'), bytes);
  });

  test('theme colours: light and high contrast, and colouring by params', async () => {
    await open({ theme: LIGHT });
    await gp.draw(dsod300);
    const fill = (id: string) => gp.page.locator(`g.node[data-id="${id}"] > rect.box`).getAttribute('fill');
    const macsFill = await fill('block1');
    const since = gp.posted.length;
    await gp.page.click('#metric-params');
    await gp.next(
      is('rendered', (m) => m.layout === 'cached'),
      since,
    );
    assert.equal(await gp.page.locator('#metric-params').getAttribute('aria-pressed'), 'true');
    assert.notEqual(await fill('block1'), macsFill);
    assert.match((await gp.page.locator('#legend').textContent())!, /Share of learned params:0%18\.8%/); // block 4: 2,764,928 / 14,715,804
    // On a white theme even the hottest node stays light enough for dark text.
    const [r, g, b] = /rgb\((\d+), (\d+), (\d+)\)/
      .exec((await fill('block4'))!)!
      .slice(1)
      .map(Number);
    assert.ok(0.299 * r + 0.587 * g + 0.114 * b > 120, `block4 fill rgb(${r}, ${g}, ${b}) too dark for dark text`);
    await gp.page.click('#fit');
    await gp.page.screenshot({ path: screenshotPath('10-light-theme-params') });

    await gp.theme(HIGH_CONTRAST);
    await gp.page.waitForFunction(() => document.querySelector('g.node[data-id="input"] > rect.box')?.getAttribute('fill') === 'rgb(0, 0, 0)');
    await gp.page.screenshot({ path: screenshotPath('11-high-contrast') });
  });

  test('the CSP: no inline or foreign script runs, nothing remote loads, and the graph still draws', async () => {
    const hostile = [
      '<script>window.__inline = 1;</script>',
      '<script nonce="not-the-nonce">window.__wrongNonce = 1;</script>',
      '<script src="https://remote.example/evil.js"></script>',
      '<link rel="stylesheet" href="https://remote.example/evil.css">',
      '<img src="https://remote.example/pixel.png" alt="">',
      '<style>body { display: none; }</style>',
    ].join('\n');
    await open({ inject: hostile });
    const drawn = await gp.draw(dsod300);
    assert.equal(drawn.nodes, 50);
    const ran = await gp.page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      // A script element added at run time, as an injection would: refused too.
      const s = document.createElement('script');
      s.textContent = 'window.__dynamic = 1;';
      document.body.append(s);
      return { inline: w.__inline, wrongNonce: w.__wrongNonce, dynamic: w.__dynamic, hidden: getComputedStyle(document.body).display === 'none' };
    });
    assert.deepEqual(ran, { inline: undefined, wrongNonce: undefined, dynamic: undefined, hidden: false });
    const violations = await gp.violations();
    for (const v of [
      'script-src-elem inline',
      'script-src-elem https://remote.example/evil.js',
      'style-src-elem https://remote.example/evil.css',
      'img-src https://remote.example/pixel.png',
      'style-src-elem inline',
    ]) {
      assert.ok(violations.includes(v), `no "${v}" violation in ${JSON.stringify(violations)}`);
    }
    assert.deepEqual(gp.foreign, []); // blocked before any request left the page
    assert.deepEqual(gp.refused, []);
  });

  test('malformed host messages are refused and logged, and text in a valid one is never markup', async () => {
    await open();
    await gp.draw(dsod300);
    let since = gp.posted.length;
    const bad = JSON.parse(JSON.stringify(dsod300)) as GraphResult;
    (bad.graph!.nodes[3] as unknown as Record<string, unknown>).macs = 'lots';
    await gp.send({ type: 'graph', title: 'x', result: bad });
    assert.match(
      (await gp.next(is('log'), since)).message,
      /^rejected a message from the host: graph\.result\.graph\.nodes\[3\]\.macs must be a non-negative integer$/,
    );
    since = gp.posted.length;
    await gp.send({ type: 'run', code: 'window.__pwned = 1' });
    assert.equal((await gp.next(is('log'), since)).message, 'rejected a message from the host: unknown host message type "run"');
    assert.ok(gp.console.some((l) => l.startsWith('warning: dsod graph: rejected a message from the host')));
    assert.equal(await gp.page.locator('body').getAttribute('data-version'), String(dsod300.version));

    // Valid, but with markup in its strings: drawn as text.
    const named = analyze(DSOD300_YAML.replace('name: DSOD300', 'name: "<img src=x onerror=window.__pwned=1>"'));
    await gp.draw(named, '<script>window.__pwned=1</script>.dsod.yaml');
    assert.equal(await gp.page.locator('#spec-name').textContent(), '<img src=x onerror=window.__pwned=1>');
    assert.equal(await count(gp, 'img'), 0);
    assert.equal(await gp.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  });
});
