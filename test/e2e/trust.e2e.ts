// End to end in a real VS Code: the installed .vsix in a folder that is NOT trusted (code-server 4.100.3 with workspace
// trust on, the start-up prompt answered "No, I don't trust the authors": Restricted Mode). package.json declares
// `capabilities.untrustedWorkspaces: limited`: the language features keep working, the run commands refuse and say why
// (client/runs/runManager.ts: TRUST_MESSAGE), their buttons and lenses are hidden (`isWorkspaceTrusted` in the menus'
// `when`). The workspace is the tiny spec alone; the steps depend on each other (u and v in Restricted Mode, w trusts).
// Run: `npm run build && npx tsc -p . && node --test --test-concurrency=1 out/test/e2e/trust.e2e.js` (or `npm run
// test:e2e`). Screenshots: results/e2e/trust/*.png (trust-prompt.png is the prompt as it opened); logs: results/e2e/trust/code-server.log.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { formatBoxes, formatCount, formatMacs } from '../../core/format';
import {
  activeTab,
  build,
  goTo,
  log,
  openFile,
  openVSCode,
  problems,
  repoRoot,
  runCommand,
  showProblems,
  showHover,
  statusBarEntry,
  stepRunner,
  type Session,
} from './harness';

const SPEC = 'tiny.dsod.yaml';
/** The message "DSOD: Train" shows in Restricted Mode (client/runs/runManager.ts: TRUST_MESSAGE), its start. */
const TRUST_MESSAGE_START = 'DSOD: runs are disabled in Restricted Mode. Training, evaluation and inference execute the engine on this folder';

/** The language server's totals item (client/statusBar.ts: createStatusBarItem('dsod.totals')). */
const totalsItem = (page: Page) => statusBarEntry(page, 'dsod-studio.dsod-studio.dsod.totals');
/** VS Code's own "Restricted Mode" status bar entry. */
const restrictedItem = (page: Page) => statusBarEntry(page, 'status.workspaceTrust');
const toast = (page: Page, text: string) => page.locator('.notifications-toasts .notification-list-item', { hasText: text });
/** The action buttons in the title of the active editor, by their label (a command's title, its keybinding after it). */
const titleAction = (page: Page, title: string) => page.locator(`.editor-group-container.active .editor-actions .action-label[aria-label^="${title}"]`);
/** The code lenses above the spec's first line (one decoration holds every lens of a line). */
const lens = (page: Page, hasText: string | RegExp) => page.locator('.editor-group-container.active .codelens-decoration', { hasText });

/** What the spec's analysis says, from the CLI the extension bundles: the texts the editor must show. */
interface Expected {
  statusBar: string;
  hint: { message: string; line: number; column: number };
  block1: { line: number; column: number; learned: string; output: string };
}
function expected(): Expected {
  const a = JSON.parse(
    execFileSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'analyze', '--json', join(repoRoot, 'examples', SPEC)], { encoding: 'utf8' }),
  ) as {
    params: { learned: number };
    macs: number;
    defaultBoxes: number;
    stages: { name: string; shape: number[]; paramsLearned: number }[];
    diagnostics: { line: number; column: number; code: string; message: string }[];
  };
  const hint = a.diagnostics.find((d) => d.code === 'principle/growth-rate');
  assert.ok(hint, 'the tiny spec has no growth-rate hint');
  const block1 = a.stages.find((s) => s.name === 'block1');
  assert.ok(block1, 'the tiny spec has no block1');
  const lines = readFileSync(join(repoRoot, 'examples', SPEC), 'utf8').split('\n');
  const at = lines.findIndex((l) => /^ {2}blocks: \[/.test(l));
  return {
    // client/statusBar.ts's text (no budget in the tiny spec)
    statusBar: `${formatCount(a.params.learned)} params · ${formatMacs(a.macs)} · ${formatBoxes(a.defaultBoxes)}`,
    hint: { message: hint.message, line: hint.line, column: hint.column },
    block1: {
      line: at + 1,
      column: lines[at].indexOf('[') + 2,
      learned: `${block1.paramsLearned.toLocaleString('en-US')} (${((100 * block1.paramsLearned) / a.params.learned).toFixed(1)}%)`,
      output: block1.shape.join('×'),
    },
  };
}

const started = Date.now();
let vscode: Session | undefined;
let sourceDir: string | undefined;
let expect: Expected;

const { step, timings } = stepRunner(() => vscode, { escapeFirst: false });

/** The run root a run would use (`dsod.runs.root`'s default: <workspace>/runs) and anything in it. */
function runFolders(): string[] {
  const root = join(vscode!.workspace, 'runs');
  return existsSync(root) ? readdirSync(root) : [];
}

describe('DSOD Studio in a workspace that is not trusted (code-server, Restricted Mode)', { timeout: 600_000 }, () => {
  before(
    async () => {
      await build();
      expect = expected();
      sourceDir = mkdtempSync(join(tmpdir(), 'dsod-e2e-trust-ws-'));
      copyFileSync(join(repoRoot, 'examples', SPEC), join(sourceDir, SPEC));
      vscode = await openVSCode({ workspaceFrom: sourceDir, resultsSubdir: 'trust', trust: 'restricted' });
      vscode.page.setDefaultTimeout(30_000);
      log(`workbench up, in Restricted Mode, in ${Date.now() - started} ms`);
    },
    { timeout: 300_000 },
  );

  after(async () => {
    await vscode?.close();
    if (sourceDir) rmSync(sourceDir, { recursive: true, force: true });
    log(`trust suite done in ${Date.now() - started} ms\n  ${timings.join('\n  ')}`);
  });

  test('u. Restricted Mode: the totals, the design hint in Problems, the hover of dense block 1 and the graph still work', { timeout: 120_000 }, () =>
    step('u-language-features', async ({ page, screenshot }) => {
      await restrictedItem(page).filter({ hasText: 'Restricted Mode' }).waitFor();
      await openFile(page, SPEC);
      const item = totalsItem(page);
      await item.filter({ hasText: expect.statusBar }).waitFor({ timeout: 60_000 });
      assert.equal((await item.innerText()).trim(), expect.statusBar);
      // The design hint (an information diagnostic) in the Problems panel, at its place.
      await showProblems(page);
      const row = page.locator('.markers-panel .monaco-list-row', { hasText: expect.hint.message });
      await row.waitFor({ timeout: 60_000 });
      assert.equal(await row.locator('.marker-message').innerText(), expect.hint.message);
      assert.equal(await row.locator('.marker-line').innerText(), `[Ln ${expect.hint.line}, Col ${expect.hint.column}]`);
      assert.equal(await row.locator('.marker-icon.info').count(), 1);
      log(`problems: ${(await problems(page)).join(' | ')}`);
      // The hover of dense block 1: its learned parameters and output shape.
      await activeTab(page, SPEC).click();
      await goTo(page, expect.block1.line, expect.block1.column);
      const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'block1' });
      await showHover(page, hover);
      const text = await hover.first().innerText();
      assert.match(text, /^block1 · block/);
      assert.match(text, new RegExp(`learned params\\s+${expect.block1.learned.replace(/[().]/g, '\\$&')}`));
      assert.match(text, new RegExp(`output\\s+${expect.block1.output}`));
      await screenshot('01-restricted-language-features');
      await page.keyboard.press('Escape');
      await hover.first().waitFor({ state: 'hidden' });
      // The graph (a webview) from the status bar item, as the refusal message promises.
      await item.click();
      const graph = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
      await graph.locator('body[data-version]').waitFor({ timeout: 60_000 });
      await graph.locator('g.node[data-id="block1"]').waitFor();
      for (let k = 1; k <= 4; k++) await graph.locator(`g.node[data-id="head${k}/conf"]`).waitFor();
      await screenshot('02-restricted-graph');
      await runCommand(page, 'View: Close All Editors');
      await page.locator('.editor-group-container .tab').first().waitFor({ state: 'detached' });
    }),
  );

  test('v. Restricted Mode: "DSOD: Train" says why it is disabled, starts nothing, and has no button', { timeout: 120_000 }, () =>
    step('v-train-refused', async ({ page, screenshot }) => {
      await openFile(page, SPEC);
      // The editor's title has the graph button (no trust needed) and no Train button; no Train lens above line 1.
      await titleAction(page, 'Show Architecture Graph').waitFor();
      assert.equal(await titleAction(page, 'Train').count(), 0, 'the editor title shows a Train button in Restricted Mode');
      assert.equal(await lens(page, 'Train').count(), 0, 'a Train code lens in Restricted Mode');
      await runCommand(page, 'DSOD: Train');
      const note = toast(page, TRUST_MESSAGE_START).first();
      await note.waitFor();
      const message = (await note.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ').trim();
      log(`message: ${message}`);
      assert.match(message, /Restricted Mode/);
      assert.match(message, /execute the engine on this folder's specs and data/);
      assert.match(message, /trust the workspace/);
      assert.equal(await note.locator('.codicon-warning').count(), 1, 'a warning');
      await note.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).waitFor();
      // Nothing ran: no run folder, no progress notification.
      assert.deepEqual(runFolders(), []);
      assert.equal(await toast(page, 'DSOD: Training').count(), 0);
      await screenshot('03-train-refused');
    }),
  );

  test("w. trusted from the message's button: the Train button and lens appear, Restricted Mode is gone", { timeout: 120_000 }, () =>
    step('w-trusted', async ({ page, screenshot }) => {
      const note = toast(page, TRUST_MESSAGE_START).first();
      await note.hover();
      await note.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).click();
      // The Workspace Trust editor: "Trust" (the folder), as a user does.
      const trustEditor = page.locator('.workspace-trust-editor');
      const trustButton = trustEditor.locator('.monaco-button', { hasText: /^Trust$/ }).first();
      await trustButton.waitFor();
      log(`trust editor: ${(await trustEditor.innerText()).replace(/\s+/g, ' ').trim().slice(0, 400)}`);
      await screenshot('04-workspace-trust-editor');
      await trustButton.click();
      await restrictedItem(page).waitFor({ state: 'detached' });
      // Back on the spec: its Train button in the title, the Train lens above line 1.
      await page.locator('.editor-group-container .tab', { hasText: SPEC }).first().click();
      await activeTab(page, SPEC).waitFor();
      await titleAction(page, 'Train').waitFor();
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+Home');
      await lens(page, 'Train').waitFor();
      // Still nothing ran.
      assert.deepEqual(runFolders(), []);
      // Its tooltip names it.
      await titleAction(page, 'Train').hover();
      await page.locator('.monaco-hover:not(.hidden), .workbench-hover', { hasText: 'Train' }).first().waitFor();
      log(`Train button: ${await titleAction(page, 'Train').getAttribute('aria-label')}`);
      await screenshot('05-trusted-train-button');
    }),
  );
});
