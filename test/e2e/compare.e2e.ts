// End to end in a real VS Code: what an edit costs (issue 13, items 3 and 4). The workspace is a git repository with
// DSOD300 committed; the spec is edited (two more dense layers in block 4) and: r. the code lens says what the edit
// costs against HEAD ("+809k params · +289 MMACs vs HEAD", from core's numbers); s. "DSOD: Compare with HEAD" from the
// palette opens the report with the change in total, per stage and per scale, and each scale's default-box sides beside
// its receptive field; t. the graph beside it coloured by change: block 4 and transition 4 changed, nothing else, and
// the legend saying so; u. the edit undone: the lens says nothing (the file costs what HEAD does) and the report says
// "No change"; v. "DSOD: Compare with..." another spec; w. the messages for a revision git does not know and a spec
// not in HEAD; x. the edit committed with git outside the editor: the lens against HEAD goes; then "DSOD: Stop Comparing".
// Run: `npm run build && npx tsc -p . && flock /tmp/coord/e2e.lock node --test --test-concurrency=1
// out/test/e2e/compare.e2e.js`. Screenshots in results/e2e/compare/: 01-lens-vs-head.png, 02-report-deltas.png,
// 02b-report-box-sides.png, 03-graph-by-change.png, 04-undone-no-change.png, 05-compare-with-file.png,
// 06-not-in-head.png, 07-committed-no-lens.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { formatExact, formatMacs, formatSigned } from '../../core/format';
import { analyze, DSOD300_YAML, edit } from '../helpers';
import { expectSoon, goTo, log, openFile, openVSCode, repoRoot, runCommand, stepRunner, type Session } from './harness';
import { DSOD300_FILE } from './scenario';

const started = Date.now();
let vscode: Session | undefined;
let repo: string | undefined;
const { step } = stepRunner(() => vscode, { escapeFirst: true });

const BLOCKS = 'blocks: [6, 8, 8, 8]';
const LITE_FILE = 'dsod300-lite.dsod.yaml';
/** A notification toast. */
const toast = (page: Page, text: string) => page.locator('.notifications-toasts .notification-list-item', { hasText: text });
const WIDER = edit(DSOD300_YAML, BLOCKS, 'blocks: [6, 8, 8, 10]');
const a = analyze(DSOD300_YAML);
const b = analyze(WIDER);
const LENS = `${formatSigned(b.totals.paramsLearned - a.totals.paramsLearned)} params · ${formatSigned(b.totals.macs - a.totals.macs, formatMacs)} vs HEAD`;

/** The code lenses above the spec's first line (one decoration holds every lens of a line). */
const lenses = (page: Page) => page.locator('.editor-group-container .codelens-decoration').first();
/** The webview in sight (VS Code nests each page in two iframes; the hidden panel's frame is not visible). */
const visibleWebview = (page: Page): FrameLocator => page.frameLocator('iframe.webview.ready:visible').frameLocator('#active-frame');
const texts = (l: ReturnType<FrameLocator['locator']>) => l.evaluateAll((els) => els.map((e) => (e as HTMLElement).innerText.trim()));

describe('what an edit costs, in VS Code (code-server)', { timeout: 360_000 }, () => {
  before(
    async () => {
      // A git repository holding DSOD300, committed: the workspace is a copy of it (its .git included).
      repo = mkdtempSync(join(tmpdir(), 'dsod-compare-repo-'));
      copyFileSync(join(repoRoot, 'examples', DSOD300_FILE), join(repo, DSOD300_FILE));
      // Beside it, never committed: another spec to compare with, and a file HEAD does not have.
      copyFileSync(join(repoRoot, 'examples', LITE_FILE), join(repo, LITE_FILE));
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: repo });
      git('init', '-q');
      git('add', DSOD300_FILE);
      git('commit', '-qm', 'DSOD300');
      vscode = await openVSCode({ workspaceFrom: repo, resultsSubdir: 'compare' });
      vscode.page.setDefaultTimeout(30_000);
      log(`workbench up in ${Date.now() - started} ms`);
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await vscode?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
    log(`suite done in ${Date.now() - started} ms`);
  });

  test('r. an edit of the committed spec: the lens says what it costs against HEAD', { timeout: 120_000 }, () =>
    step('r-lens', async ({ page, screenshot }) => {
      assert.equal(LENS, '+809k params · +289 MMACs vs HEAD');
      await openFile(page, DSOD300_FILE);
      await lenses(page).filter({ hasText: 'DSOD300:' }).waitFor({ timeout: 60_000 });
      // Two more dense layers in block 4: the last 8 of `blocks: [6, 8, 8, 8]` becomes 10.
      const lines = DSOD300_YAML.split('\n');
      const at = lines.findIndex((l) => l.includes(BLOCKS));
      await goTo(page, at + 1, lines[at].lastIndexOf('8') + 1);
      await page.keyboard.press('Shift+ArrowRight');
      await page.keyboard.type('10');
      await page.keyboard.press('Control+S');
      await page.locator('.editor-group-container.active .tab.active.dirty').waitFor({ state: 'detached' });
      await page.keyboard.press('Control+Home');
      await lenses(page).filter({ hasText: LENS }).waitFor({ timeout: 30_000 });
      await screenshot('01-lens-vs-head');
    }),
  );

  test('s. "DSOD: Compare with HEAD": the report shows the change in total, per stage and per scale', { timeout: 120_000 }, () =>
    step('s-report', async ({ page, screenshot }) => {
      await runCommand(page, 'DSOD: Compare with HEAD');
      await page
        .locator('.editor-group-container .tab', { hasText: `Report: ${DSOD300_FILE}` })
        .first()
        .waitFor();
      const report = visibleWebview(page);
      await report.locator('#compare-totals').waitFor({ timeout: 60_000 });
      assert.equal(await report.locator('#compare-title').innerText(), 'Change from HEAD (DSOD300) to this spec');
      const totals = await report
        .locator('#compare-totals tbody tr')
        .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((td) => (td as HTMLElement).innerText.trim())));
      assert.deepEqual(totals[0], [
        'learned params',
        formatExact(a.totals.paramsLearned),
        formatExact(b.totals.paramsLearned),
        formatSigned(b.totals.paramsLearned - a.totals.paramsLearned, formatExact),
      ]);
      assert.deepEqual(totals[3], ['default boxes', '8,744', '8,744', '0']);
      // Only block 4 and the transition after it cost otherwise.
      const changed = await report.locator('#compare-stages tbody tr[data-change="changed"] td:first-child').allInnerTexts();
      assert.deepEqual(changed, ['block4', 'transition4']);
      assert.deepEqual(await texts(report.locator('#compare-scales tbody tr td:first-child')), ['scale1', 'scale2', 'scale3', 'scale4', 'scale5', 'scale6']);
      // Each scale's default-box sides beside its receptive field.
      const header = await texts(report.locator('#scales thead th'));
      const rf = header.indexOf('RF');
      assert.equal(header[rf + 1], 'box sides');
      const scale1 = await texts(report.locator('#scales tbody tr[data-name="scale1"] td'));
      assert.deepEqual([scale1[rf], scale1[rf + 1]], ['193', '21.2–42.4']);
      await screenshot('02-report-deltas');
      // A side pane scrolls the scale table sideways: bring the RF and box sides columns into view.
      await report.locator('#scales').scrollIntoViewIfNeeded();
      await report.locator('#scales-wrap').evaluate((w) => (w.scrollLeft = w.scrollWidth));
      await screenshot('02b-report-box-sides');
    }),
  );

  test('t. the graph beside it, coloured by change, with its legend', { timeout: 120_000 }, () =>
    step('t-graph', async ({ page, screenshot }) => {
      await page
        .locator('.editor-group-container .tab', { hasText: `Graph: ${DSOD300_FILE}` })
        .first()
        .click();
      const graph = visibleWebview(page);
      await graph.locator('g.node.change-changed').first().waitFor({ timeout: 60_000 });
      const changes = await graph
        .locator('g.node')
        .evaluateAll((gs) => gs.map((g) => [(g as SVGGElement).dataset.id!, /change-(\w+)/.exec(g.getAttribute('class') ?? '')?.[1] ?? '']));
      assert.deepEqual(changes.filter(([, c]) => c !== 'same').sort(), [
        ['block4', 'changed'],
        ['transition4', 'changed'],
      ]);
      assert.equal(changes.length, 50);
      const legend = await graph.locator('#change-legend').innerText();
      assert.match(legend, /Change from HEAD:/);
      assert.match(legend, /changed \(2\)/);
      assert.match(legend, /removed: none/);
      await screenshot('03-graph-by-change');
    }),
  );

  test('u. the edit undone: no lens against HEAD, and the report says there is no change', { timeout: 120_000 }, () =>
    step('u-undone', async ({ page, screenshot }) => {
      // The spec's own editor, in the first group (the Explorer would open it again beside the graph).
      await page.locator('.editor-group-container').first().locator('.tab', { hasText: DSOD300_FILE }).click();
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+Z');
      await page.keyboard.press('Control+S');
      await page.locator('.editor-group-container.active .tab.active.dirty').waitFor({ state: 'detached' });
      await page.keyboard.press('Control+Home');
      await expectSoon(async () => assert.doesNotMatch(await lenses(page).innerText(), /vs HEAD/));
      assert.match(await lenses(page).innerText(), /DSOD300:/);
      await page
        .locator('.editor-group-container .tab', { hasText: `Report: ${DSOD300_FILE}` })
        .first()
        .click();
      const report = visibleWebview(page);
      await report.locator('#compare-unchanged').waitFor();
      assert.equal(await report.locator('#compare-stages').count(), 0);
      await screenshot('04-undone-no-change');
    }),
  );

  test('v. "DSOD: Compare with..." another spec of the workspace: the report compares with it', { timeout: 120_000 }, () =>
    step('v-compare-with-file', async ({ page, screenshot }) => {
      await page.locator('.editor-group-container').first().locator('.tab', { hasText: DSOD300_FILE }).click();
      await runCommand(page, 'DSOD: Compare with...');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'A git revision of this spec' }).waitFor();
      await page.locator('.quick-input-list .monaco-list-row', { hasText: LITE_FILE }).click();
      const report = visibleWebview(page);
      await expectSoon(async () =>
        assert.equal(await report.locator('#compare-title').innerText(), `Change from ${LITE_FILE} (DSOD300 (DS/64-64-16-1)) to this spec`),
      );
      const lite = analyze(readFileSync(join(repoRoot, 'examples', LITE_FILE), 'utf8'));
      const totals = await report.locator('#compare-totals tbody tr').first().locator('td').allInnerTexts();
      assert.deepEqual(
        totals.map((t) => t.trim()),
        [
          'learned params',
          formatExact(lite.totals.paramsLearned),
          formatExact(a.totals.paramsLearned),
          formatSigned(a.totals.paramsLearned - lite.totals.paramsLearned, formatExact),
        ],
      );
      await screenshot('05-compare-with-file');
    }),
  );

  test('w. clear messages: a spec not in HEAD, and a revision git does not know', { timeout: 120_000 }, () =>
    step('w-messages', async ({ page, screenshot }) => {
      await page.locator('.editor-group-container').first().locator('.tab', { hasText: DSOD300_FILE }).click();
      await runCommand(page, 'DSOD: Compare with...');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'A git revision of this spec' }).click();
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor({ state: 'visible' });
      await input.fill('HEAD~1');
      await page.keyboard.press('Enter');
      await toast(page, 'DSOD: cannot compare dsod300.dsod.yaml with HEAD~1: git does not know the revision "HEAD~1".').waitFor();
      await page.keyboard.press('Escape');
      // The spec beside it was never committed.
      await page.locator('.editor-group-container').first().click();
      await openFile(page, LITE_FILE);
      await runCommand(page, 'DSOD: Compare with HEAD');
      await toast(page, `DSOD: cannot compare ${LITE_FILE} with HEAD: ${LITE_FILE} is not in HEAD (it was not committed there).`).waitFor();
      // And no lens against HEAD on it.
      await page.keyboard.press('Control+Home');
      await lenses(page).filter({ hasText: 'DS/64-64-16-1' }).waitFor();
      assert.doesNotMatch(await lenses(page).innerText(), /vs HEAD/);
      await screenshot('06-not-in-head');
    }),
  );

  test('x. the edit committed outside the editor: HEAD moved, the lens against it goes without a save', { timeout: 120_000 }, () =>
    step('x-committed', async ({ page, screenshot }) => {
      await page.locator('.editor-group-container').first().locator('.tab', { hasText: DSOD300_FILE }).click();
      const lines = DSOD300_YAML.split('\n');
      const at = lines.findIndex((l) => l.includes(BLOCKS));
      await goTo(page, at + 1, lines[at].lastIndexOf('8') + 1);
      await page.keyboard.press('Shift+ArrowRight');
      await page.keyboard.type('10');
      await page.keyboard.press('Control+S');
      await page.locator('.editor-group-container.active .tab.active.dirty').waitFor({ state: 'detached' });
      await page.keyboard.press('Control+Home');
      await lenses(page).filter({ hasText: LENS }).waitFor();
      // As a terminal would: git commit in the workspace.
      execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', 'commit', '-qam', 'two more layers in block 4'], {
        cwd: vscode!.workspace,
      });
      await expectSoon(async () => assert.doesNotMatch(await lenses(page).innerText(), /vs HEAD/));
      assert.match(await lenses(page).innerText(), /DSOD300: 15\.5M params/);
      await screenshot('07-committed-no-lens');
      // "DSOD: Stop Comparing": the report is the plain report again.
      await runCommand(page, 'DSOD: Stop Comparing');
      await page
        .locator('.editor-group-container .tab', { hasText: `Report: ${DSOD300_FILE}` })
        .first()
        .click();
      const report = visibleWebview(page);
      await report.locator('#stages tbody tr[data-name="block4"]').waitFor();
      await expectSoon(async () => assert.equal(await report.locator('#compare-title').count(), 0));
    }),
  );
});
