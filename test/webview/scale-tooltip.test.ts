// The graph's tooltip on the boxes of a scale (issue 13, item 3): the default boxes' sides beside the receptive field
// of the scale's feature map, as the language server sends them, flagged where the boxes are larger than that field.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { validateHostMessage } from '../../protocol/webview';
import { createLanguageService } from '../../server/service';
import { tooltipRows } from '../../webview/graph/labels';
import { buildViewGraph } from '../../webview/graph/model';
import { DSOD300_YAML, edit } from '../helpers';
import { analyzer, launchChromium, missingPrerequisite, openGraphPage, screenshotPath } from './page';

const service = createLanguageService();
let version = 0;
const graphOf = (text: string) => service.graph({ uri: 'file:///ws/spec.dsod.yaml', version: ++version, getText: () => text });

function boxesRows(text: string, scale: number): Map<string, string> {
  const result = graphOf(text);
  assert.equal(validateHostMessage({ type: 'graph', title: 't', result }).ok, true);
  const u = buildViewGraph(result, new Set())!.units.find((x) => x.id === `scale${scale}/boxes`)!;
  return new Map(tooltipRows(u, result.summary, result.graph!.scales));
}

test("DSOD300's scale 2 boxes: 34.6 to 103.9 px, the largest 14.6% of the 713 px field", () => {
  const rows = boxesRows(DSOD300_YAML, 2);
  assert.equal(rows.get('default box sides'), '34.6 to 103.9 px');
  assert.equal(rows.get('receptive field'), '713 px · largest box 14.6% of it');
  // Scale 1: 21.2 to 42.4 px in a 193 px field.
  assert.equal(boxesRows(DSOD300_YAML, 1).get('receptive field'), '193 px · largest box 22.0% of it');
});

test('boxes larger than the field are flagged in the tooltip as in the warning', () => {
  const wide = edit(DSOD300_YAML, 'max_sizes: [60, 111,', 'max_sizes: [1300, 111,');
  const rows = boxesRows(wide, 1);
  assert.equal(rows.get('default box sides'), '21.2 to 197.5 px');
  assert.equal(rows.get('receptive field'), '193 px · ⚠ largest box 102.3% of it: its boxes are larger than what it sees');
});

describe("the tooltip on a scale's boxes in Chromium", { skip: missingPrerequisite() ?? false, timeout: 120_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('hovering the boxes of scale 2 shows their sides beside the receptive field (the page passes the scales on)', async () => {
    const gp = await openGraphPage(browser);
    try {
      await gp.draw(analyzer()(DSOD300_YAML));
      await gp.page.hover('g.node[data-id="scale2/boxes"] .box');
      const tip = gp.page.locator('#tooltip');
      await tip.waitFor({ state: 'visible' });
      const text = await tip.innerText();
      assert.match(text, /default box sides\t34\.6 to 103\.9 px/);
      assert.match(text, /receptive field\t713 px · largest box 14\.6% of it/);
      await gp.page.screenshot({ path: screenshotPath('scale-boxes-tooltip') });
    } finally {
      await gp.close();
    }
  });
});
