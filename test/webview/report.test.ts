// The analysis report webview in headless Chromium (report-page.ts), fed what the language service answers for
// `dsod/report`: the stage and scale tables with both outputs of every head, sorting by a header click or the
// keyboard (numeric on the exact numbers, aria-sort), a 500 px pane that scrolls the tables inside their box instead
// of cutting them off, rows that ask the host to select their spec text (click, Enter), and a report that follows
// edits. Any CSP violation, foreign request or refused message fails a test. Screenshots: results/webview/report-*.png.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ReportData } from '../../protocol/lsp';
import { DSOD300_YAML, edit } from '../helpers';
import { is, launchChromium, missingReportPrerequisite, openReportPage, reporter, screenshotPath, type ReportPage } from './report-page';
import { HIGH_CONTRAST, LIGHT } from './themes';

const rowNames = (rp: ReportPage, table: string) =>
  rp.page.locator(`#${table} tbody tr`).evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name!));
const ariaSorts = (rp: ReportPage, table: string) =>
  rp.page
    .locator(`#${table} thead th`)
    .evaluateAll((ths) => Object.fromEntries(ths.map((t) => [(t as HTMLElement).dataset.key!, t.getAttribute('aria-sort')])));

describe('the analysis report in Chromium', { skip: missingReportPrerequisite() ?? false, timeout: 120_000 }, () => {
  let browser: Browser;
  let rp: ReportPage | undefined;
  let report: ReportData;
  let refusedExpected = 0;

  before(async () => {
    browser = await launchChromium();
    report = reporter()(DSOD300_YAML);
  });
  afterEach(async () => {
    if (rp) {
      assert.deepEqual(await rp.violations(), [], 'CSP violations');
      assert.deepEqual(rp.foreign, [], 'requests outside the page');
      assert.equal(rp.refused.length, 0, rp.refused.join('\n'));
      assert.equal(rp.console.filter((l) => l.startsWith('pageerror')).length, 0, rp.console.join('\n'));
      assert.equal(rp.console.filter((l) => l.startsWith('warning')).length, refusedExpected, rp.console.join('\n'));
      await rp.close();
      rp = undefined;
    }
    refusedExpected = 0;
  });
  after(async () => {
    await browser?.close();
  });

  test('DSOD300: stages, scales, totals and summary, with loc and conf of every head', async () => {
    rp = await openReportPage(browser);
    const drawn = await rp.draw(report);
    assert.deepEqual([drawn.stages, drawn.scales], [20, 6]);
    const { page } = rp;
    assert.equal(await page.locator('h1').textContent(), 'DSOD300');
    assert.equal(await page.locator('#meta').textContent(), 'dsod300.dsod.yaml · input 3×300×300 · 21 classes incl. background');
    assert.deepEqual(
      await rowNames(rp, 'stages'),
      report.stages.map((s) => s.name),
    );
    const cells = (selector: string) => page.locator(selector).evaluateAll((tds) => tds.map((td) => (td as HTMLElement).innerText.replace(/\n/g, ' | ')));
    assert.deepEqual(await cells('#stages tbody tr[data-name="block1"] td'), ['block1', '416×75×75', '788,640', '5.4%', '4,406,400,000', '29.2%', '61']);
    // Both outputs of a head, each on its line, in the stage table and in the scale table.
    assert.deepEqual(await cells('#stages tbody tr[data-name="head1"] td'), [
      'head1',
      'loc 16×38×38 | conf 84×38×38',
      '721,000',
      '4.9%',
      '1,039,680,000',
      '6.9%',
      '209',
    ]);
    assert.equal(await page.locator('#stages tbody tr[data-name="head6"] td:nth-child(2) .line').count(), 2);
    assert.deepEqual((await cells('#scales tbody tr[data-name="scale2"] td')).at(-1), 'loc 24×19×19 | conf 126×19×19');
    assert.deepEqual(await cells('#stages tfoot td'), ['total', '', '14,715,804', '100.0%', '15,079,798,528', '100.0%', '']);
    assert.deepEqual(await cells('#scales tfoot td'), ['total', '', '', '8,744', '100.0%', '', '', '', '', '', '']);
    const summary = await page.locator('#summary li').allTextContents();
    assert.ok(summary.includes('14,715,804 learned parameters'), summary.join('\n'));
    assert.ok(summary.includes('8,744 default boxes'), summary.join('\n'));
    await page.screenshot({ path: screenshotPath('report-dsod300'), fullPage: true });
  });

  test('a header click sorts numerically on the exact numbers and says so with aria-sort; the keyboard sorts too', async () => {
    rp = await openReportPage(browser);
    await rp.draw(report);
    const { page } = rp;
    assert.ok(
      Object.values(await ariaSorts(rp, 'stages')).every((s) => s === 'none'),
      'the network order at first',
    );
    const macs = page.locator('#stages thead th[data-key="macs"] button');
    await macs.click();
    const desc = [...report.stages].sort((a, b) => b.macs - a.macs).map((s) => s.name);
    assert.deepEqual(await rowNames(rp, 'stages'), desc);
    // As text, 973,440,000 (transition1) would sort above 4,406,400,000 (block1).
    assert.equal(desc[0], 'block1');
    assert.deepEqual(await ariaSorts(rp, 'stages'), {
      name: 'none',
      output: 'none',
      params: 'none',
      paramsShare: 'none',
      macs: 'descending',
      macsShare: 'none',
      rf: 'none',
    });
    await page.locator('#stages thead th[data-key="macs"] button').click();
    assert.deepEqual(
      await rowNames(rp, 'stages'),
      [...report.stages].sort((a, b) => a.macs - b.macs).map((s) => s.name),
    );
    assert.equal((await ariaSorts(rp, 'stages')).macs, 'ascending');
    // The total stays last whatever the order.
    assert.equal(await page.locator('#stages tfoot td').first().textContent(), 'total');
    // Keyboard: Tab reaches the header buttons; Enter sorts by RF (descending), focus stays on the header.
    await page.locator('#stages thead th[data-key="rf"] button').focus();
    await page.keyboard.press('Enter');
    assert.equal((await ariaSorts(rp, 'stages')).rf, 'descending');
    assert.deepEqual(
      await rowNames(rp, 'stages'),
      [...report.stages].sort((a, b) => b.receptiveField - a.receptiveField || report.stages.indexOf(a) - report.stages.indexOf(b)).map((s) => s.name),
    );
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.focusKey), 'stages:sort:rf');
    // The scale table sorts apart from the stage table.
    await page.locator('#scales thead th[data-key="boxes"] button').click();
    assert.deepEqual(await rowNames(rp, 'scales'), ['scale1', 'scale2', 'scale3', 'scale4', 'scale5', 'scale6']);
    await page.locator('#scales thead th[data-key="boxes"] button').click();
    assert.deepEqual(await rowNames(rp, 'scales'), ['scale6', 'scale5', 'scale4', 'scale3', 'scale2', 'scale1']);
    assert.equal((await ariaSorts(rp, 'stages')).rf, 'descending');
    await page.screenshot({ path: screenshotPath('report-sorted'), fullPage: true });
  });

  test('a 500 px pane: nothing is cut off; the tables scroll inside their box and every column can be reached', async () => {
    rp = await openReportPage(browser, { width: 500, height: 800 });
    await rp.draw(report);
    const { page } = rp;
    const fit = await page.evaluate(() => {
      const doc = document.documentElement;
      const wraps = ['stages', 'scales'].map((id) => {
        const wrap = document.getElementById(`${id}-wrap`)!;
        const box = wrap.getBoundingClientRect();
        return { id, overflowX: getComputedStyle(wrap).overflowX, scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth, right: box.right };
      });
      return { pageScroll: doc.scrollWidth - doc.clientWidth, viewport: doc.clientWidth, wraps };
    });
    assert.equal(fit.pageScroll, 0, 'the page itself does not scroll sideways');
    for (const w of fit.wraps) {
      assert.equal(w.overflowX, 'auto', `${w.id} scrolls inside its box`);
      assert.ok(w.right <= fit.viewport, `${w.id}'s box ends inside the pane`);
    }
    const scales = fit.wraps.find((w) => w.id === 'scales')!;
    assert.ok(scales.scrollWidth > scales.clientWidth, 'the scale table is wider than 500 px: it must scroll, not be cut');
    // Scrolled to its end, the last column is inside the box and the first column (the row names) stays in view.
    const reach = await page.evaluate(() => {
      const wrap = document.getElementById('scales-wrap')!;
      wrap.scrollLeft = wrap.scrollWidth;
      const box = wrap.getBoundingClientRect();
      const last = wrap.querySelector('thead th:last-child')!.getBoundingClientRect();
      const first = wrap.querySelector('tbody td:first-child')!.getBoundingClientRect();
      return { lastRight: last.right, firstLeft: first.left, boxLeft: box.left, boxRight: box.right };
    });
    assert.ok(reach.lastRight <= reach.boxRight + 1, `the last column is reachable (${reach.lastRight} <= ${reach.boxRight})`);
    assert.ok(Math.abs(reach.firstLeft - reach.boxLeft) <= 1, 'the first column is sticky');
    // The keyboard can scroll the box too: it is focusable.
    assert.equal(await page.locator('#scales-wrap').getAttribute('tabindex'), '0');
    await page.evaluate(() => (document.getElementById('scales-wrap')!.scrollLeft = 0));
    await page.screenshot({ path: screenshotPath('report-500px'), fullPage: true });
  });

  test('a row click or Enter asks the host to select the spec text that made it', async () => {
    rp = await openReportPage(browser);
    await rp.draw(report);
    const { page } = rp;
    const block1 = report.stages.find((s) => s.name === 'block1')!;
    let since = rp.posted.length;
    await page.locator('#stages tbody tr[data-name="block1"]').click();
    const reveal = await rp.next(is('reveal'), since);
    assert.deepEqual(reveal, { type: 'reveal', uri: report.uri, range: block1.source.range });
    assert.equal(await page.locator('#stages tbody tr.selected').getAttribute('data-name'), 'block1');
    // Keyboard: the arrow moves to the next row, Enter reveals it.
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.name), 'transition1');
    since = rp.posted.length;
    await page.keyboard.press('Enter');
    assert.deepEqual((await rp.next(is('reveal'), since)).range, report.stages.find((s) => s.name === 'transition1')!.source.range);
    // A scale row reveals its scale's spec text; a head row its aspect ratios.
    since = rp.posted.length;
    await page.locator('#scales tbody tr[data-name="scale3"]').click();
    assert.deepEqual((await rp.next(is('reveal'), since)).range, report.scales[2].source.range);
    assert.deepEqual(await page.locator('tbody tr.selected').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name)), ['scale3']);
    await page.screenshot({ path: screenshotPath('report-row-selected'), fullPage: true });
  });

  test('an edit redraws the numbers and keeps the sort, the selection and the focus', async () => {
    rp = await openReportPage(browser);
    const analyse = reporter();
    await rp.draw(analyse(DSOD300_YAML));
    const { page } = rp;
    await page.locator('#stages thead th[data-key="params"] button').click();
    await page.locator('#stages tbody tr[data-name="head1"]').click();
    const edited = analyse(edit(DSOD300_YAML, 'classes: 21', 'classes: 81'));
    await rp.draw(edited);
    assert.equal((await ariaSorts(rp, 'stages')).params, 'descending');
    assert.deepEqual(
      await rowNames(rp, 'stages'),
      [...edited.stages].sort((a, b) => b.paramsLearned - a.paramsLearned || edited.stages.indexOf(a) - edited.stages.indexOf(b)).map((s) => s.name),
    );
    assert.equal(await page.locator('#stages tbody tr[data-name="head1"] td:nth-child(2)').innerText(), 'loc 16×38×38\nconf 324×38×38');
    assert.equal(await page.locator('#stages tbody tr.selected').getAttribute('data-name'), 'head1');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.name), 'head1');
    assert.equal(await page.locator('#stages tfoot td:nth-child(3)').textContent(), edited.totals.paramsLearned.toLocaleString('en-US'));
  });

  test('a status keeps the last tables; a malformed message is refused and changes nothing', async () => {
    rp = await openReportPage(browser);
    await rp.draw(report);
    const { page } = rp;
    await rp.send({ type: 'status', message: 'This spec has errors (see the Problems panel); the report returns when they are fixed.' });
    await page.locator('#status', { hasText: 'This spec has errors' }).waitFor();
    assert.equal(await page.locator('#stages tbody tr').count(), 20);
    const since = rp.posted.length;
    await rp.send({ type: 'report', report: { ...report, stages: [{ ...report.stages[0], name: '<img src=x onerror=alert(1)>', macs: -5 }] } });
    const log = await rp.next(is('log'), since);
    assert.match(log.message, /rejected a message from the host: report\.report\.stages\[0\]\.macs must be a non-negative integer/);
    refusedExpected = 1;
    assert.equal(await page.locator('#stages tbody tr').count(), 20);
    assert.equal(await page.locator('img').count(), 0);
  });

  test('light and high-contrast themes', async () => {
    for (const [name, theme] of [
      ['light', LIGHT],
      ['high-contrast', HIGH_CONTRAST],
    ] as const) {
      rp = await openReportPage(browser, { width: 700, theme });
      await rp.draw(report);
      await rp.page.locator('#stages tbody tr[data-name="block2"]').click();
      const colours = await rp.page.evaluate(() => ({ fg: getComputedStyle(document.body).color, bg: getComputedStyle(document.body).backgroundColor }));
      assert.notEqual(colours.fg, colours.bg);
      await rp.page.screenshot({ path: screenshotPath(`report-${name}`), fullPage: true });
      assert.deepEqual(await rp.violations(), []);
      await rp.close();
    }
    rp = undefined;
  });
});
