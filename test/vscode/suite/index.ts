// The extension tests' entry point (extensionTestsPath): VS Code's extension host calls run(), which runs every
// *.vscode-test.js beside this file with mocha (tdd interface). mocha is typed by the small interfaces below, not by
// @types/mocha, so that the repository compiles where mocha is not installed.
//
// Environment (optional): DSOD_MOCHA_PATH, where to load mocha from when it is not in the repository's node_modules;
// DSOD_TEST_RESULTS, a file to write the results to as JSON ({ passes, failures: [{ title, error }] }): the code-server
// suite (test/e2e/mocha-suite.e2e.ts) reads it, since a browser workbench does not hand the exit code back.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface MochaTest {
  fullTitle(): string;
}
interface MochaRunner {
  on(event: 'pass', listener: (test: MochaTest) => void): MochaRunner;
  on(event: 'fail', listener: (test: MochaTest, error: Error) => void): MochaRunner;
}
interface MochaInstance {
  addFile(file: string): void;
  run(done: (failures: number) => void): MochaRunner;
}
type MochaConstructor = new (options: { ui: 'tdd'; color?: boolean; timeout?: number; reporter?: string }) => MochaInstance;

export function run(): Promise<void> {
  // mocha is optional (and may live outside node_modules): resolved at run time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mocha = require(process.env.DSOD_MOCHA_PATH ?? 'mocha') as MochaConstructor;
  const mocha = new Mocha({ ui: 'tdd', color: !process.env.DSOD_TEST_RESULTS, timeout: 60_000, reporter: 'spec' });
  for (const file of readdirSync(__dirname)
    .filter((f) => f.endsWith('.vscode-test.js'))
    .sort())
    mocha.addFile(join(__dirname, file));
  const passes: string[] = [];
  const failures: { title: string; error: string }[] = [];
  return new Promise((ok, fail) => {
    const runner = mocha.run((failed) => {
      const out = process.env.DSOD_TEST_RESULTS;
      if (out) writeFileSync(out, JSON.stringify({ passes, failures }, null, 2));
      if (failed > 0) fail(new Error(`${failed} VS Code test(s) failed`));
      else ok();
    });
    runner.on('pass', (t) => passes.push(t.fullTitle()));
    runner.on('fail', (t, e) => failures.push({ title: t.fullTitle(), error: e.stack ?? String(e) }));
  });
}
