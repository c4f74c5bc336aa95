// The @vscode/test-electron twin of the end-to-end suite: downloads VS Code (needs the network, so it cannot run on
// the offline CI machines, where test/e2e/ runs the same scenarios in code-server), opens a copy of the examples with
// the broken spec, and runs suite/*.vscode-test.js with mocha in the extension host, the extension loaded from the
// repository (extensionDevelopmentPath = repository root; `npm run build` first: package.json "main" is dist/).
//
//   npm run test:vscode          (npm run build && tsc -p . && node out/test/vscode/runTest.js)
//   VSCODE_VERSION=stable npm run test:vscode      (default: 1.100.3, the oldest VS Code that engines.vscode accepts)
//
// It needs the devDependencies @vscode/test-electron and mocha. It is typed against the small interfaces below
// instead of their packages, so that `tsc -p .` compiles it on machines where they are not installed.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BROKEN_FILE, scenario } from '../e2e/scenario';

/** The part of @vscode/test-electron's API used here (its `runTests`, 2.x). */
export interface TestElectron {
  runTests(options: {
    version?: string;
    extensionDevelopmentPath: string | string[];
    extensionTestsPath: string;
    extensionTestsEnv?: { [key: string]: string | undefined };
    launchArgs?: string[];
  }): Promise<number>;
}

/** Compiled into out/test/vscode/: the repository root is three levels up. */
const repoRoot = resolve(__dirname, '..', '..', '..');

export function prepareWorkspace(root: string): string {
  const tmp = mkdtempSync(join(tmpdir(), 'dsod-vscode-test-'));
  const workspace = join(tmp, 'workspace');
  cpSync(join(root, 'examples'), workspace, { recursive: true });
  writeFileSync(join(workspace, BROKEN_FILE), scenario(root).broken);
  mkdirSync(join(tmp, 'user-data'));
  return workspace;
}

async function main(): Promise<void> {
  let testElectron: TestElectron;
  try {
    // Optional: not a dependency here (it downloads VS Code), so loaded only if someone installed it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    testElectron = require('@vscode/test-electron') as TestElectron;
  } catch {
    console.error('@vscode/test-electron is not installed: add it and mocha to the devDependencies (see test/vscode/README.md).');
    process.exit(2);
  }
  const workspace = prepareWorkspace(repoRoot);
  const tmp = resolve(workspace, '..');
  try {
    const code = await testElectron.runTests({
      version: process.env.VSCODE_VERSION ?? '1.100.3',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(__dirname, 'suite', 'index.js'),
      extensionTestsEnv: { DSOD_TEST_WORKSPACE: workspace, DSOD_REPO_ROOT: repoRoot },
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-telemetry',
        '--user-data-dir',
        join(tmp, 'user-data'),
      ],
    });
    process.exitCode = code;
  } catch (e) {
    console.error(`VS Code tests failed: ${(e as Error).message}`);
    process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) void main();
