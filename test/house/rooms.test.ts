// The rooms' import rules (eslint.config.mjs) fire on the imports they forbid and stay quiet on the ones allowed:
// linted as virtual files placed in each room.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers';

interface LintMessage {
  ruleId: string | null;
  message: string;
}
interface ESLintLike {
  lintText(code: string, options: { filePath: string }): Promise<{ messages: LintMessage[] }[]>;
}

async function eslint(): Promise<ESLintLike> {
  // eslint is ESM-first; a dynamic import keeps this CommonJS test file loadable.
  const { ESLint } = (await import('eslint')) as unknown as { ESLint: new (o: { cwd: string }) => ESLintLike };
  return new ESLint({ cwd: repoRoot });
}

async function importErrors(room: string, from: string): Promise<string[]> {
  const [result] = await (await eslint()).lintText(`import * as m from '${from}';\nexport const x = m;\n`, { filePath: join(repoRoot, room, 'probe.ts') });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const forbidden: [string, string][] = [
  ['core', 'node:fs'],
  ['core', 'vscode'],
  ['core', '../engine/model/model'],
  ['core', '../protocol/lsp'],
  ['protocol', 'vscode'],
  ['server', '../engine/cli/main'],
  ['server', 'vscode'],
  ['webview', 'node:path'],
  ['webview', '../client/extension'],
  ['engine', 'vscode'],
  ['engine', '../server/main'],
  // core's front door: no deep imports from server/, client/ or engine/ (issue 11, item 4).
  ['server', '../core/spec/validate'],
  ['client', '../core/spec/normalize'],
  ['engine', '../core/graph/build'],
  ['engine', '../core/analysis/analyze'],
];
const allowed: [string, string][] = [
  ['core', './format'],
  ['core', 'yaml'],
  ['server', '../core'],
  ['webview', '../core/format'],
  ['engine', 'node:fs'],
  ['client', 'vscode'],
  ['client', '../engine/report/html'],
  ['engine', '../core'],
  // the browser-safe leaves named in core/index.ts
  ['client', '../core/format'],
  ['client', '../core/spec/lines'],
  ['server', '../core/diagnostics'],
  ['engine', '../core/graph/types'],
];

test('each room refuses the imports its rule forbids', async () => {
  for (const [room, from] of forbidden) {
    const errors = await importErrors(room, from);
    assert.equal(errors.length, 1, `${room}/ importing ${from}: ${JSON.stringify(errors)}`);
  }
});

test('and allows what it needs', async () => {
  for (const [room, from] of allowed) assert.deepEqual(await importErrors(room, from), [], `${room}/ importing ${from}`);
});
