// The @vscode/test-electron suite (test/vscode/) cannot download VS Code here, but its tests are plain extension tests:
// this runs them in code-server's extension host (VS Code 1.100.3), the extension loaded from the repository in
// development mode, exactly as the extension host of a downloaded VS Code would run them. So the twin suite runs in CI
// too, and cannot rot where nobody can run it.
//
// Needs mocha (a devDependency); skipped, saying so, where it is not installed. DSOD_MOCHA_PATH points at another
// mocha (the folder of its package).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { log, openVSCode, repoRoot, until } from './harness';
import { BROKEN_FILE, scenario } from './scenario';

function findMocha(): string | undefined {
  if (process.env.DSOD_MOCHA_PATH) return process.env.DSOD_MOCHA_PATH;
  try {
    return require.resolve('mocha', { paths: [repoRoot] });
  } catch {
    return undefined;
  }
}

const mocha = findMocha();
const testsPath = join(repoRoot, 'out', 'test', 'vscode', 'suite', 'index.js');

test(
  "the @vscode/test-electron suite passes in code-server's extension host",
  { timeout: 240_000, skip: mocha ? false : 'mocha is not installed (devDependency of test:vscode)' },
  async () => {
    assert.ok(existsSync(testsPath), `${testsPath} is missing: compile with \`npx tsc -p .\` first`);
    const results = join(repoRoot, 'results', 'e2e', 'test-electron-suite', 'mocha.json');
    const session = await openVSCode({
      extraFiles: { [BROKEN_FILE]: scenario(repoRoot).broken },
      resultsSubdir: 'test-electron-suite',
      development: { testsPath },
      env: { DSOD_MOCHA_PATH: mocha!, DSOD_TEST_RESULTS: results, DSOD_REPO_ROOT: repoRoot },
    });
    try {
      const report = await until('the mocha results', () => (existsSync(results) ? readFileSync(results, 'utf8') : undefined), 180_000, 250);
      await session.screenshot('after-mocha');
      const { passes, failures } = JSON.parse(report) as { passes: string[]; failures: { title: string; error: string }[] };
      for (const p of passes) log(`mocha ok: ${p}`);
      for (const f of failures) log(`mocha FAILED: ${f.title}\n${f.error}`);
      assert.deepEqual(failures, []);
      assert.ok(passes.length >= 4, `expected the 4 scenarios to pass, got:\n${passes.join('\n')}`);
    } finally {
      await session.close();
    }
  },
);
