// The end-to-end scenarios of test/e2e/vscode.e2e.ts through VS Code's extension API, in the extension host of a
// downloaded VS Code (@vscode/test-electron): the broken spec's exact diagnostic, the hover of dense block 1, DSOD300's
// totals, the quick fix. The extension runs as the user gets it: its language server, over IPC, answering VS Code.
//
// What the API cannot read, the code-server suite reads on the screen: the Problems panel's row and the status bar
// item's text (an extension cannot read another's status bar items); here the totals are checked in the code lens
// and in the report that the status bar item opens (its command, dsod.showReport).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as vscode from 'vscode';
import { BROKEN_FILE, DSOD300_FILE, EXPECT, scenario, type Place } from '../../e2e/scenario';

/** mocha's tdd interface, which mocha puts on the global object before it loads this file. */
interface MochaTdd {
  suite(title: string, body: () => void): void;
  suiteSetup(body: () => Promise<void>): void;
  test(title: string, body: () => Promise<void>): void;
}
const { suite, suiteSetup, test } = globalThis as unknown as MochaTdd;

const EXTENSION_ID = 'dsod-studio.dsod-studio';
const repoRoot = process.env.DSOD_REPO_ROOT ?? resolve(__dirname, '..', '..', '..', '..');
const s = scenario(repoRoot);

function workspaceUri(file: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'VS Code was started without the examples workspace');
  return vscode.Uri.joinPath(folder.uri, file);
}

const toPosition = (p: Place) => new vscode.Position(p.line - 1, p.column - 1);

/** Poll `probe` until it returns a value (not undefined); fail with `what` after `timeoutMs`. */
async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function open(file: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(workspaceUri(file));
  return vscode.window.showTextDocument(doc, { preview: false });
}

const hoverText = (hovers: vscode.Hover[]) =>
  hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');

suite('DSOD Studio in VS Code (@vscode/test-electron)', () => {
  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded (extensionDevelopmentPath)`);
    await extension.activate();
  });

  test('a. a broken spec gets its exact diagnostic', async () => {
    const editor = await open(BROKEN_FILE);
    const uri = editor.document.uri;
    const diagnostic = await until('the growth_rat diagnostic', () => vscode.languages.getDiagnostics(uri).find((d) => d.message === EXPECT.brokenMessage));
    assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(diagnostic.source, EXPECT.brokenSource);
    assert.equal(typeof diagnostic.code === 'object' ? diagnostic.code.value : diagnostic.code, EXPECT.brokenCode);
    assert.deepEqual(
      [diagnostic.range.start.line, diagnostic.range.start.character, diagnostic.range.end.line, diagnostic.range.end.character],
      [s.typo.line - 1, s.typo.column - 1, s.typo.line - 1, s.typo.column - 1 + 'growth_rat'.length],
    );
    assert.equal(vscode.languages.getDiagnostics(uri).length, 1, 'the typo is the only problem of the broken spec');
    await vscode.commands.executeCommand('workbench.actions.view.problems');
  });

  test('b. hovering dense block 1 shows its parameter count', async () => {
    const editor = await open(DSOD300_FILE);
    const text = await until('the hover of block 1', async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, toPosition(s.block1));
      const t = hoverText(hovers ?? []);
      return t.includes(EXPECT.block1Title) ? t : undefined;
    });
    assert.match(text, /\*\*block1\*\* · block/);
    assert.match(text, new RegExp(`\\| learned params \\| ${EXPECT.block1LearnedShare.replace(/[()]/g, '\\$&')} \\|`));
    assert.match(text, /\| output \| 416×75×75 \|/);
  });

  test("c. DSOD300's totals: the code lens, and the report the status bar item opens", async () => {
    const editor = await open(DSOD300_FILE);
    const lens = await until('the totals code lens', async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri);
      return lenses?.find((l) => l.command?.title.startsWith('DSOD300:'));
    });
    assert.equal(lens.command?.title, EXPECT.codeLens);
    assert.equal(lens.command?.command, 'dsod.showReport');
    // The status bar item's command, as a click runs it: the report view (a webview panel) opens beside the spec. Its
    // tables are checked in Chromium (test/webview/report.test.ts) and in code-server (test/e2e/vscode.e2e.ts, step e).
    await vscode.commands.executeCommand('dsod.showReport');
    const tab = await until('the report view', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('dsod.report') && t.label === `Report: ${DSOD300_FILE}`),
    );
    assert.notEqual(tab.group.viewColumn, editor.viewColumn, 'beside the spec');
  });

  test('d. the quick fix corrects the typo and the error goes away', async () => {
    const editor = await open(BROKEN_FILE);
    const uri = editor.document.uri;
    const diagnostic = await until('the growth_rat diagnostic', () => vscode.languages.getDiagnostics(uri).find((d) => d.message === EXPECT.brokenMessage));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      uri,
      diagnostic.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions?.find((a) => a.title === EXPECT.fixTitle);
    assert.ok(fix?.edit, `no "${EXPECT.fixTitle}" quick fix among: ${actions?.map((a) => a.title).join(', ')}`);
    assert.equal(fix.isPreferred, true);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(editor.document.getText(), s.broken.replace('growth_rat: 48', 'growth_rate: 48'));
    await until('the diagnostic to go', () => (vscode.languages.getDiagnostics(uri).length === 0 ? true : undefined));
    assert.ok(await editor.document.save());
    assert.equal(readFileSync(uri.fsPath, 'utf8'), s.broken.replace('growth_rat: 48', 'growth_rate: 48'));
  });
});
