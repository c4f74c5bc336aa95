// The "Default boxes" page (issue 13, item 2) in headless Chromium, as VS Code hosts it (the page of client/priorsPanel.ts:
// strict CSP, data: images only), fed what the real engine prints: `dsod priors --view --suggest` on a `dsod synth`
// set. The image with the ground truth and one cell's default boxes, the scale picker, a click choosing another cell,
// the scatter of box sizes, the suggestion's Apply button posting `apply`. Screenshots: results/webview/priors-*.png.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  validatePriorsViewData,
  validatePriorsWebviewMessage,
  type PriorsHostMessage,
  type PriorsViewData,
  type PriorsWebviewMessage,
} from '../../protocol/priors';
import { makeNonce, pageHtml, scriptTag } from '../../webview/page-html';
import { launchChromium, missingPrerequisiteFor, openWebviewPage, repoRoot, screenshotPath, type WebviewPage } from './webview-page';

const bundle = join(repoRoot, 'dist', 'webview', 'priors.js');
const engine = join(repoRoot, 'dist', 'dsod.js');
const ORIGIN = 'https://priors.webview.test';
const skip = missingPrerequisiteFor(bundle) ?? false;

type Rendered = Extract<PriorsWebviewMessage, { type: 'rendered' }>;
const rendered = (m: PriorsWebviewMessage): m is Rendered => m.type === 'rendered';

describe('the default-box page, in Chromium', { skip, timeout: 240_000 }, () => {
  let browser: Browser;
  let dir: string;
  let data: PriorsViewData;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsod-priors-page-'));
    const synth = spawnSync(process.execPath, [engine, 'synth', '--out', join(dir, 'synth'), '--count', '40'], { encoding: 'utf8' });
    assert.equal(synth.status, 0, synth.stderr);
    // What the panel runs (client/priorsPanel.ts), on the tiny example with this set.
    const r = spawnSync(
      process.execPath,
      [engine, 'priors', join(repoRoot, 'examples', 'tiny.dsod.yaml'), '--data', join(dir, 'synth'), '--view', '--suggest', '--no-cache'],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const checked = validatePriorsViewData(JSON.parse(r.stdout));
    assert.ok(checked.ok, checked.ok ? '' : checked.error);
    data = checked.message;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<WebviewPage<PriorsHostMessage, PriorsWebviewMessage>> {
    const nonce = makeNonce();
    const bundleUrl = `${ORIGIN}/dist/webview/priors.js`;
    return openWebviewPage<PriorsHostMessage, PriorsWebviewMessage>(browser, {
      html: pageHtml({ title: 'DSOD Default boxes', nonce, images: 'data:', body: scriptTag(nonce, bundleUrl) }),
      nonce,
      bundleUrl,
      bundle: readFileSync(bundle),
      validate: validatePriorsWebviewMessage,
      viewport: { width: 1100, height: 1000 },
      label: 'default-box page',
    });
  }

  test('the image with its objects and one cell of a scale, the scale picker, a click choosing another cell', async () => {
    const wp = await open();
    try {
      const { page } = wp;
      const since = wp.posted.length;
      await wp.send({ type: 'priors', data } satisfies PriorsHostMessage);
      const first = await wp.next(rendered, since);
      // The first scale, its centre cell, every default box of a cell drawn.
      assert.equal(first.scale, 0);
      assert.equal(first.boxes, data.scales[0].shapes.length);
      assert.equal(await page.locator('#image rect.prior').count(), data.scales[0].shapes.length);
      assert.equal(await page.locator('#image rect.truth').count(), data.image!.boxes.length);
      assert.ok(data.image!.boxes.length > 0, 'the image shown has objects');
      // The heading says what was measured.
      assert.match(await page.locator('main').innerText(), /Recall [\d.]+%/);
      await page.screenshot({ path: screenshotPath('priors-01-scale1-centre') });

      // Another scale: its own boxes, its centre cell.
      const picked = wp.posted.length;
      await page.locator('#scale').selectOption('2');
      const third = await wp.next(rendered, picked);
      assert.equal(third.scale, 2);
      assert.equal(await page.locator('#image rect.prior').count(), data.scales[2].shapes.length);

      // A click near the image's top-left corner chooses the first cell.
      const clicked = wp.posted.length;
      await page.locator('#image').click({ position: { x: 3, y: 3 } });
      const corner = await wp.next(rendered, clicked);
      assert.deepEqual([corner.scale, corner.row, corner.column], [2, 0, 0]);
      assert.match(await page.locator('#cell').innerText(), /cell row 0, column 0/);
      await page.screenshot({ path: screenshotPath('priors-02-scale3-corner') });

      assert.deepEqual(await wp.violations(), []);
      assert.deepEqual(wp.foreign, []);
      assert.deepEqual(wp.refused, []);
    } finally {
      await wp.close();
    }
  });

  test("the suggestion's before/after table and Apply, which only asks the host (the page edits nothing)", async () => {
    const wp = await open();
    try {
      const since = wp.posted.length;
      await wp.send({ type: 'priors', data } satisfies PriorsHostMessage);
      await wp.next(rendered, since);
      const s = data.suggestion;
      assert.ok(s, 'the engine ran with --suggest');
      const apply = wp.page.locator('#apply');
      if (!s.improved || s.error) {
        // Nothing better found: no button (the spec is kept).
        assert.equal(await apply.count(), 0);
        return;
      }
      const asked = wp.posted.length;
      await apply.click();
      await wp.next((m): m is Extract<PriorsWebviewMessage, { type: 'apply' }> => m.type === 'apply', asked);
      await wp.page.screenshot({ path: screenshotPath('priors-03-suggestion') });
    } finally {
      await wp.close();
    }
  });
});
