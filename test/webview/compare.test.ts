// A spec compared with another side (issue 13, items 3 and 4) in the two pages, in headless Chromium, fed what the
// language service answers once the client has given it the other side (`dsod/baseline`): the report's change per
// stage, per scale and in total, and each scale's default-box sides beside its receptive field; the graph's nodes
// coloured added / changed / same with the legend, the removed stages named. Screenshots: results/webview/compare-*.png.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { diffAnalyses } from '../../core';
import { formatExact, formatSigned } from '../../core/format';
import type { GraphResult, ReportData } from '../../protocol/lsp';
import type { WebviewMessage } from '../../protocol/webview';
import { createLanguageService } from '../../server/service';
import { analyze, DSOD300_YAML, edit } from '../helpers';
import { missingPrerequisite, openGraphPage, resultsDir, screenshotPath } from './page';
import { launchChromium, missingReportPrerequisite, openReportPage } from './report-page';

const URI = 'file:///ws/dsod300.dsod.yaml';
const WIDER = edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 10]');
const MORE_RATIOS = edit(DSOD300_YAML, 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]]', 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2, 3]]');

/** The service with `other` as the compared side, as after "DSOD: Compare with HEAD". */
function compared(other: string | null, label = 'HEAD') {
  const service = createLanguageService();
  if (other !== null) service.setBaseline({ uri: URI, role: 'compare', label, text: other, fileName: '/ws/dsod300.dsod.yaml' });
  let version = 0;
  const doc = (text: string) => ({ uri: URI, version: ++version, getText: () => text });
  return { report: (text: string): ReportData => service.report(doc(text))!, graph: (text: string): GraphResult => service.graph(doc(text)) };
}

const skip = missingReportPrerequisite() ?? missingPrerequisite() ?? false;

describe('comparing with another side, in Chromium', { skip, timeout: 180_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('the report: totals of both sides and the change, per stage and per scale, each row marked by its change', async () => {
    const rp = await openReportPage(browser, { width: 900, height: 1400 });
    try {
      // Without a comparison, no section.
      await rp.draw(compared(null).report(WIDER));
      assert.equal(await rp.page.locator('#compare > *').count(), 0);
      assert.equal(await rp.page.locator('#compare').isVisible(), false);

      await rp.draw(compared(DSOD300_YAML).report(WIDER));
      const { page } = rp;
      const d = diffAnalyses(analyze(DSOD300_YAML), analyze(WIDER));
      assert.equal(await page.locator('#compare-title').textContent(), 'Change from HEAD (DSOD300) to this spec');
      const rows = (id: string) =>
        page
          .locator(`#${id} tbody tr`)
          .evaluateAll((trs) => trs.map((tr) => [(tr as HTMLElement).dataset.change!, ...Array.from(tr.children).map((td) => td.textContent!)]));
      const totals = await rows('compare-totals');
      assert.deepEqual(totals[0], [
        'changed',
        'learned params',
        '14,715,804',
        d.totals.b.paramsLearned.toLocaleString('en-US'),
        formatSigned(d.totals.delta.paramsLearned, formatExact),
      ]);
      assert.deepEqual(totals[3], ['same', 'default boxes', '8,744', '8,744', '0']);
      const stages = await rows('compare-stages');
      assert.equal(stages.length, 20);
      const byName = Object.fromEntries(stages.map((r) => [r[1], r]));
      assert.deepEqual(byName.block1, ['same', 'block1', '0', '0', '0']);
      const b4 = d.stages.find((s) => s.name === 'block4')!.delta;
      assert.deepEqual(byName.block4, ['changed', 'block4', formatSigned(b4.paramsLearned), formatSigned(b4.macs), byName.block4[4]]);
      assert.match(byName.block4[4], /^\+[\d.]+ (KiB|MiB)$/);
      const scales = await rows('compare-scales');
      assert.deepEqual(
        scales.map((r) => r[1]),
        ['scale1', 'scale2', 'scale3', 'scale4', 'scale5', 'scale6'],
      );
      // The scale table's default-box sides, beside the receptive field (item 3): scale 1 is 30/60 px boxes.
      const sides = await page.locator('#scales tbody tr[data-name="scale1"] td').allTextContents();
      const header = await page.locator('#scales thead th').allTextContents();
      assert.equal(header[header.indexOf('RF') + 1], 'box sides');
      assert.equal(sides[header.indexOf('box sides')], '21.2–42.4');
      await page.screenshot({ path: screenshotPath('compare-report'), fullPage: true });

      // The same text as the other side: no per-stage tables, it says so.
      await rp.draw(compared(DSOD300_YAML).report(DSOD300_YAML));
      assert.equal(await page.locator('#compare-unchanged').textContent(), 'No change: the same stages, each costing the same.');
      assert.equal(await page.locator('#compare-stages').count(), 0);
      // The other side has an error: said, with its line.
      await rp.draw(compared(edit(DSOD300_YAML, 'size: [300, 300]', 'size: big'), 'HEAD~1').report(WIDER));
      assert.match((await page.locator('#compare .compare-error').textContent())!, /^HEAD~1 has errors: line 6: /);
      assert.deepEqual(await rp.violations(), []);
      assert.deepEqual(rp.refused, []);
    } finally {
      await rp.close();
    }
  });

  test('the graph: nodes coloured by change, the legend counts them and names the removed stages', async () => {
    const gp = await openGraphPage(browser, { width: 1100, height: 900 });
    try {
      await gp.draw(compared(DSOD300_YAML).graph(MORE_RATIOS));
      const { page } = gp;
      const changeOf = () =>
        page
          .locator('g.node')
          .evaluateAll((gs) => Object.fromEntries(gs.map((g) => [(g as SVGGElement).dataset.id!, /change-(\w+)/.exec(g.getAttribute('class')!)?.[1]])));
      const changes = await changeOf();
      assert.deepEqual(
        Object.entries(changes)
          .filter(([, c]) => c !== 'same')
          .map(([id, c]) => `${id}:${c}`)
          .sort(),
        ['head6/conf:changed', 'head6/loc:changed', 'scale6/boxes:changed'].sort(),
      );
      assert.equal(await page.locator('#change-legend').isVisible(), true);
      assert.equal(await page.locator('.legend .key.heat').isVisible(), false);
      const legend = await page.locator('#change-legend').innerText();
      assert.match(legend, /Change from HEAD:/);
      assert.match(legend, /added \(0\)/);
      assert.match(legend, /changed \(3\)/);
      assert.match(legend, /removed: none/);
      // A changed node's fill differs from a same one's, which is the background.
      const fill = (id: string) => page.locator(`g.node[data-id="${id}"] > rect.box`).getAttribute('fill');
      assert.notEqual(await fill('head6/loc'), await fill('head5/loc'));
      await page.screenshot({ path: screenshotPath('compare-graph-changed') });
      // An exported picture explains the same colouring: the change legend, not the heat ramp.
      const since = gp.posted.length;
      await page.click('#export-svg');
      const svg = await gp.next((m): m is Extract<WebviewMessage, { type: 'export' }> => m.type === 'export' && m.format === 'svg', since);
      assert.match(svg.data, /Change from HEAD:/);
      assert.match(svg.data, /changed \(3\)/);
      assert.doesNotMatch(svg.data, /Share of/);
      writeFileSync(join(resultsDir, 'compare-graph-export.svg'), svg.data);

      // Two more dense layers in block 4, expanded: the new layers are added, the block's frame changed.
      await page.locator('#expand-all').click();
      const wider = compared(DSOD300_YAML).graph(WIDER);
      await gp.draw(wider);
      const expanded = await changeOf();
      assert.equal(expanded['block4/layer9'], 'added');
      assert.equal(expanded['block4/layer10'], 'added');
      assert.equal(expanded['block4/layer1'], 'same');
      assert.equal(expanded['block1'], 'same');
      // Block 4's drawn output is its last concat, wider now; its input is transition 3's output, as before.
      assert.equal(expanded['block4/out'], 'changed');
      assert.equal(expanded['block4/in'], 'same');
      assert.match(await page.locator('#change-legend').innerText(), /added \(2\)/);
      await page.screenshot({ path: screenshotPath('compare-graph-added') });

      // Stopping the comparison: the heat colours and their ramp are back.
      await page.locator('#collapse-all').click();
      await gp.draw(compared(null).graph(WIDER));
      assert.equal(await page.locator('#change-legend').isVisible(), false);
      assert.equal(await page.locator('.legend .key.heat').isVisible(), true);
      assert.equal(await page.locator('g.node[class*="change-"]').count(), 0);
      assert.deepEqual(await gp.violations(), []);
    } finally {
      await gp.close();
    }
  });
});
