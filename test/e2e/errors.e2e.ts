// End to end in a real VS Code (code-server 4.100.3, the installed .vsix): one error does not wipe out the editor's
// numbers (issue 10, item 2). p. DSOD300 with the typo `growth_rat: 48`: the status bar shows the error count AND the
// totals, the code lens says the analysis is partial, the inlay hints are all there; q. DSOD300 made invalid while open
// (`input: { size: big }`): the last valid numbers stay, said so (status bar, lens) and marked stale (⟲ hints).
// Run: `npm run build && npx tsc -p . && node --test --test-concurrency=1 out/test/e2e/errors.e2e.js`.
// Screenshots: results/e2e/errors/01-editor-one-error.png, 02-editor-last-valid.png; logs: results/e2e/errors/code-server.log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { expectSoon, goTo, log, openFile, openVSCode, repoRoot, statusBarEntry, stepRunner, type Session } from './harness';
import { BROKEN_FILE, DSOD300_FILE, EXPECT_ERRORS as E, scenario } from './scenario';

const s = scenario(repoRoot);
/** The extension's status bar item (client/statusBar.ts: createStatusBarItem('dsod.totals')). */
const totals = (page: Page) => statusBarEntry(page, 'dsod-studio.dsod-studio.dsod.totals');
/** The code lenses above the spec's first line (one decoration holds every lens of a line). */
const lens = (page: Page, hasText: string) => page.locator('.editor-group-container.active .codelens-decoration', { hasText });
/** A rendered line of the active editor (inlay hints are drawn inside the line, as injected text). */
const line = (page: Page, hasText: string) => page.locator('.editor-group-container.active .view-line', { hasText });
let vscode: Session | undefined;

const { step } = stepRunner(() => vscode, { escapeFirst: true });

/** The text of the status bar item, its icon left out. */
const statusText = async (page: Page) => (await totals(page).innerText()).replace(/\s+/g, ' ').trim();

describe('DSOD Studio in VS Code: the numbers through errors', { timeout: 240_000 }, () => {
  before(
    async () => {
      vscode = await openVSCode({ extraFiles: { [BROKEN_FILE]: s.broken }, resultsSubdir: 'errors' });
      vscode.page.setDefaultTimeout(30_000);
    },
    { timeout: 240_000 },
  );

  after(async () => {
    await vscode?.close();
  });

  test('p. one key typo: the error count and the totals, a partial lens, every inlay hint', { timeout: 90_000 }, () =>
    step('p-one-error', async ({ page, screenshot }) => {
      await openFile(page, BROKEN_FILE);
      await totals(page).filter({ hasText: E.partialStatusBar }).waitFor({ timeout: 60_000 });
      assert.equal(await statusText(page), E.partialStatusBar);
      await page.locator('.editor-group-container.active .squiggly-error').first().waitFor();
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+Home');
      await lens(page, E.partialCodeLens).waitFor();
      // Dense block 1's hint on the blocks line, current (not stale).
      const blocks = line(page, 'blocks: [6');
      await blocks.filter({ hasText: E.block1Hint }).waitFor();
      const text = await blocks.innerText();
      assert.ok(!text.includes(E.staleMark.trim()), `a partial analysis is current, not stale: ${text}`);
      log(`blocks line: ${text}`);
      await screenshot('01-editor-one-error');
    }),
  );

  test('q. an error that leaves no analysis: the last valid numbers stay, marked stale', { timeout: 90_000 }, () =>
    step('q-last-valid', async ({ page, screenshot }) => {
      await openFile(page, DSOD300_FILE);
      await line(page, 'blocks: [6').filter({ hasText: E.block1Hint }).waitFor({ timeout: 60_000 });
      // Select `[300, 300]` on the input line and type `big` over it.
      const inputLine = s.dsod300.split('\n').findIndex((l) => l.startsWith('input:'));
      const column = s.dsod300.split('\n')[inputLine].indexOf(E.inputSize) + 1;
      await goTo(page, inputLine + 1, column);
      for (let i = 0; i < E.inputSize.length; i++) await page.keyboard.press('Shift+ArrowRight');
      await page.keyboard.type(E.badInputSize);
      await totals(page).filter({ hasText: E.staleStatusBar }).waitFor();
      assert.equal(await statusText(page), E.staleStatusBar);
      await line(page, 'blocks: [6')
        .filter({ hasText: E.staleMark + E.block1Hint })
        .waitFor();
      await page.keyboard.press('Control+Home');
      await lens(page, E.staleCodeLens).waitFor();
      await screenshot('02-editor-last-valid');
      // Undone, the numbers are current again.
      await page.keyboard.press('Control+Z');
      await totals(page).filter({ hasText: '14.7M params' }).filter({ hasNotText: 'error' }).waitFor();
      // The hints are asked for again after the status bar's notification: wait for them rather than read them at once.
      await expectSoon(async () => assert.ok(!(await line(page, 'blocks: [6').innerText()).includes(E.staleMark.trim())));
    }),
  );
});
