// The end-to-end harness: the packaged extension in a real VS Code (code-server 4.100.3, VS Code 1.100.3), driven by
// playwright-core with Debian's Chromium, offline. What it does and why: docs/vscode-e2e.md (what was
// found to work offline), scripts/e2e-setup.sh (installs code-server and Chromium). Nothing here knows about DSOD: the scenario is in
// vscode.e2e.ts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserServer, type Frame, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumBin } from '../chromium';

const run = promisify(execFile);

/** Compiled into out/test/e2e/: the repository root is three levels up. */
export const repoRoot = resolve(__dirname, '..', '..', '..');
/** Screenshots and logs, repository-relative (results/ is git-ignored). */
export const resultsDir = join(repoRoot, 'results', 'e2e');

export const CODE_SERVER_VERSION = '4.100.3';
const cacheDir = process.env.DSOD_E2E_CACHE ?? join(homedir(), '.cache', 'dsod-e2e');
export const codeServerBin = process.env.CODE_SERVER_BIN ?? join(cacheDir, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', '.bin', 'code-server');

/** User settings: nothing that pops up, downloads or moves the layout between runs. */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
  'editor.minimap.enabled': false,
  'editor.hover.delay': 300,
  'files.autoSave': 'off',
  'window.restoreWindows': 'none',
  'workbench.editor.enablePreview': false,
};

/** With `trust: 'restricted'`: trust on, its start-up prompt shown for a folder not yet decided on (VS Code's defaults). */
const RESTRICTED_SETTINGS = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'once',
};

/**
 * The start-up trust prompt (a modal dialog once the workbench has the focus) answered "No, I don't trust the authors";
 * the window is then in Restricted Mode: its status bar entry says so.
 */
async function answerTrustPrompt(page: Page, screenshotPath: string): Promise<void> {
  const dialog = page.locator('.monaco-dialog-box', { hasText: /trust the authors/i });
  await dialog.waitFor({ timeout: 60_000 });
  await page.screenshot({ path: screenshotPath, animations: 'disabled' });
  log(`trust prompt: ${(await dialog.innerText()).replace(/\s+/g, ' ').trim()}`);
  await dialog.locator('.monaco-button', { hasText: /^No, I don.t trust/i }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('#workbench\\.parts\\.statusbar .statusbar-item[id="status.workspaceTrust"]', { hasText: 'Restricted Mode' }).waitFor();
}

export function log(message: string): void {
  process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/** Poll `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `npm run build`: the esbuild bundles in dist/ (DSOD_E2E_SKIP_BUILD=1 when the caller just built them). */
export async function build(): Promise<void> {
  if (process.env.DSOD_E2E_SKIP_BUILD === '1') return;
  log('bundling (node esbuild.mjs)');
  await run(process.execPath, ['esbuild.mjs'], { cwd: repoRoot });
}

/**
 * `npm run build`, then the platform .vsix into `outDir` with scripts/package-vsix.mjs (`npm run package`): the bundles,
 * the tfjs wasm binaries, sharp with its native binary and libvips, and the demo spec, so that runs work installed.
 */
export async function packageExtension(outDir: string): Promise<string> {
  await build();
  const vsix = join(outDir, 'dsod-studio.vsix');
  log('packaging the .vsix (scripts/package-vsix.mjs: vsce package --no-dependencies --target <this platform>)');
  await run(process.execPath, [join(repoRoot, 'scripts', 'package-vsix.mjs'), '--out', vsix], {
    cwd: repoRoot,
    maxBuffer: 16 << 20,
  });
  if (!existsSync(vsix)) throw new Error(`the packaging script did not write ${vsix}`);
  return vsix;
}

export interface Session {
  page: Page;
  workspace: string;
  /** Everything code-server and the extension host logged. */
  logs(): string;
  /** Screenshots and logs of this session. */
  resultsDir: string;
  /** Screenshot of the whole window into <resultsDir>/<name>.png; returns the path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** Files written into the workspace copy, relative path -> text. */
  extraFiles?: Record<string, string>;
  /** Folder copied as the workspace (default: the repository's examples/). */
  workspaceFrom?: string;
  /** Subfolder of results/e2e/ for this session's screenshots and logs (default: results/e2e/ itself). */
  resultsSubdir?: string;
  /**
   * Load the extension from the repository in development mode (as @vscode/test-electron does) instead of installing
   * the packaged .vsix; with `testsPath`, VS Code runs those extension tests in its extension host.
   */
  development?: { testsPath?: string };
  /** More environment for code-server and its extension host. */
  env?: Record<string, string>;
  /**
   * Workspace trust. Default: off (`--disable-workspace-trust`, `security.workspace.trust.enabled: false`), every folder
   * trusted. `'restricted'`: trust on, and the folder opened in Restricted Mode the way a user does it: the start-up
   * prompt "Do you trust the authors of the files in this folder?" answered "No, I don't trust the authors" (a
   * screenshot of it is saved as `trust-prompt.png`), then the "Restricted Mode" status bar entry waited for.
   */
  trust?: 'restricted';
}

/**
 * Package and install the extension into a fresh code-server, open a copy of the examples in Chromium and wait for
 * the workbench. Everything lives in one temporary folder; close() stops Chromium and code-server (their whole process
 * groups) and removes it, also when a step failed.
 */
export async function openVSCode(options: SessionOptions = {}): Promise<Session> {
  for (const [what, bin] of [
    ['code-server', codeServerBin],
    ['Chromium', chromiumBin],
  ]) {
    if (!existsSync(bin)) throw new Error(`${what} not found at ${bin}: run \`bash scripts/e2e-setup.sh\` first`);
  }
  // A fresh results folder: no screenshot of an earlier run is taken for this one's (other sessions' subfolders stay).
  const results = options.resultsSubdir ? join(resultsDir, options.resultsSubdir) : resultsDir;
  mkdirSync(results, { recursive: true });
  for (const e of readdirSync(results, { withFileTypes: true })) if (e.isFile()) rmSync(join(results, e.name));
  const tmp = mkdtempSync(join(tmpdir(), 'dsod-e2e-'));
  liveDirs.add(tmp);
  const cleanups: (() => Promise<void> | void)[] = [
    () => {
      rmSync(tmp, { recursive: true, force: true });
      liveDirs.delete(tmp);
    },
  ];
  const close = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log(`cleanup: ${(e as Error).message}`);
      }
    }
  };
  const logFile = join(tmp, 'code-server.log');
  const logs = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') + extensionHostLogs(join(tmp, 'ud'));
  try {
    const workspace = join(tmp, 'workspace');
    cpSync(options.workspaceFrom ?? join(repoRoot, 'examples'), workspace, { recursive: true });
    for (const [rel, text] of Object.entries(options.extraFiles ?? {})) writeFileSync(join(workspace, rel), text);

    const userData = join(tmp, 'ud');
    const extensions = join(tmp, 'exts');
    mkdirSync(join(userData, 'User'), { recursive: true });
    const settings = options.trust === 'restricted' ? { ...USER_SETTINGS, ...RESTRICTED_SETTINGS } : USER_SETTINGS;
    writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_CONFIG_HOME: join(tmp, 'xdg', 'config'),
      XDG_DATA_HOME: join(tmp, 'xdg', 'data'),
      XDG_CACHE_HOME: join(tmp, 'xdg', 'cache'),
      ...options.env,
    };
    // The parent's code-server/VS Code variables would point this instance at another one.
    for (const k of Object.keys(env)) if (/^(VSCODE_|CODE_SERVER_|ELECTRON_RUN_AS_NODE)/.test(k)) delete env[k];
    const common = ['--user-data-dir', userData, '--extensions-dir', extensions];

    if (options.development) {
      await build();
    } else {
      const vsix = await packageExtension(tmp);
      log('installing the .vsix into code-server');
      const installed = await run(codeServerBin, [...common, '--install-extension', vsix], { env, timeout: 120_000 });
      if (!/successfully installed/i.test(installed.stdout + installed.stderr)) {
        throw new Error(`--install-extension did not report success:\n${installed.stdout}\n${installed.stderr}`);
      }
    }

    const port = await freePort();
    const logFd = openSync(logFile, 'a');
    log(`starting code-server on 127.0.0.1:${port}`);
    const server = spawn(
      codeServerBin,
      [
        ...common,
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        '--config',
        '/dev/null',
        '--disable-telemetry',
        '--disable-update-check',
        ...(options.trust === 'restricted' ? [] : ['--disable-workspace-trust']),
        '--disable-getting-started-override',
      ],
      { env, detached: true, stdio: ['ignore', logFd, logFd] },
    );
    closeSync(logFd);
    if (server.pid !== undefined) liveGroups.add(server.pid);
    cleanups.push(async () => {
      await killGroup(server, 'code-server');
      if (server.pid !== undefined) liveGroups.delete(server.pid);
    });
    const exited = new Promise<never>((_, fail) => server.once('exit', (code) => fail(new Error(`code-server exited (${code}):\n${logs()}`))));
    exited.catch(() => undefined);
    await Promise.race([
      exited,
      until('code-server /healthz', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined), 60_000, 200),
    ]);

    log('launching Chromium');
    // Chromium's own files (crash reports) go to the temporary XDG folders too, not to the home folder.
    const browserServer: BrowserServer = await chromium.launchServer({ executablePath: chromiumBin, headless: true, args: CHROMIUM_ARGS, env });
    const chromiumPid = browserServer.process().pid;
    cleanups.push(async () => {
      await Promise.race([browserServer.close(), delay(10_000)]);
      if (chromiumPid !== undefined) killQuietly(chromiumPid, 'SIGKILL');
    });
    const browser: Browser = await chromium.connect(browserServer.wsEndpoint());
    cleanups.push(() => Promise.race([browser.close(), delay(5_000)]));
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`page error: ${e.message}`));

    log('opening the workbench');
    let url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
    if (options.development) {
      // The web workbench's payload: paths on the server side, as vscode-remote URIs.
      const remote = (path: string) => `vscode-remote://127.0.0.1:${port}${path}`;
      const payload: [string, string][] = [['extensionDevelopmentPath', remote(repoRoot)]];
      if (options.development.testsPath) payload.push(['extensionTestsPath', remote(options.development.testsPath)]);
      url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    }
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    if (options.trust === 'restricted') await answerTrustPrompt(page, join(results, 'trust-prompt.png'));
    // The explorer lists the workspace once the remote file system answers.
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });

    const session: Session = {
      page,
      workspace,
      logs,
      resultsDir: results,
      async screenshot(name) {
        const path = join(results, `${name}.png`);
        // Hovers and menus fade in: finish the animations so that the picture shows them as they settle.
        await page.screenshot({ path, animations: 'disabled' });
        log(`screenshot ${path}`);
        return path;
      },
      close: async () => {
        // Keep the logs next to the screenshots: they are the evidence when a step failed.
        try {
          writeFileSync(join(results, 'code-server.log'), logs());
        } catch {
          /* the results folder is best effort */
        }
        await close();
      },
    };
    return session;
  } catch (e) {
    try {
      writeFileSync(join(results, 'code-server.log'), logs());
    } catch {
      /* best effort */
    }
    await close();
    throw e;
  }
}

/** The extension host's and the DSOD output channels' (DSOD Studio, DSOD Runs) logs under the user-data folder. */
function extensionHostLogs(userData: string): string {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/exthost\.log$|DSOD Studio\.log$|DSOD Runs\.log$|remoteagent\.log$/.test(e.name)) found.push(p);
    }
  };
  walk(join(userData, 'logs'));
  return found.map((p) => `\n===== ${p}\n${readFileSync(p, 'utf8')}`).join('');
}

/**
 * code-server runs in its own process group (so that its children go with it); were this process to end without
 * close() (a signal, an uncaught error), the groups still alive are killed on the way out.
 */
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
process.on('exit', () => {
  for (const pid of liveGroups) killQuietly(-pid, 'SIGKILL');
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    for (const pid of liveGroups) killQuietly(-pid, 'SIGKILL');
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

/** A timer that does not keep the test process alive once everything else is done. */
function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** SIGTERM the process group (code-server forks its own children), SIGKILL what is left after 5 s. */
async function killGroup(child: ChildProcess, name: string): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  killQuietly(-pid, 'SIGTERM');
  const timedOut = await Promise.race([gone.then(() => false), delay(5_000).then(() => true)]);
  if (timedOut) log(`${name} did not stop on SIGTERM; SIGKILL`);
  killQuietly(-pid, 'SIGKILL');
}

// ---------------------------------------------------------------------------------------------------------------
// Driving the workbench. Every helper waits on what the user would see, never on a fixed delay.

/** The modifier VS Code binds its Ctrl shortcuts to in a browser on Linux. */
const CTRL = 'Control';

/** Run a command from the Command Palette (F1) by its label. */
export async function runCommand(page: Page, label: string): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  // The palette closes when something takes the focus while it opens (a webview panel revealed by a run that just
  // ended): open it again, up to three times. Only the steps before the click are repeated: a command never runs twice.
  for (let attempt = 1; ; attempt++) {
    try {
      // Keys typed while a webview's frame has the focus go to its page; the workbench takes them from the document.
      await page.evaluate(() => (document.activeElement instanceof HTMLIFrameElement ? document.activeElement.blur() : undefined));
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${label}`, { timeout: 10_000 });
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      break;
    } catch (e) {
      if (attempt === 3) throw e;
      log(`the Command Palette closed before "${label}" could be chosen (attempt ${attempt}): opening it again`);
      await page.keyboard.press('Escape');
    }
  }
  await row.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/**
 * Open a workspace file and wait for its editor to be active: a click on its row in the Explorer when it is at the top
 * of the workspace (what a user does; needs no search index), Quick Open (Ctrl+P) otherwise.
 */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  const name = relativePath.split('/').pop()!;
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);
  if (!relativePath.includes('/') && (await row.count()) === 1) {
    await row.click();
  } else {
    await quickOpen(page, relativePath);
  }
  await activeTab(page, name).waitFor({ state: 'visible' });
  // The editor has its text (the first line is rendered).
  await page.locator('.editor-group-container.active .monaco-editor .view-lines .view-line').first().waitFor();
}

async function quickOpen(page: Page, relativePath: string): Promise<void> {
  const name = relativePath.split('/').pop()!;
  await page.keyboard.press(`${CTRL}+P`);
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(relativePath);
  // Enter opens the focused row: wait until the list, filtered by the typed path, focuses the file (before that it
  // can still show the recently opened files, with another one focused).
  const focused = page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name });
  await focused.waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

export function activeTab(page: Page, name: string): Locator {
  return page.locator('.editor-group-container.active .tab.active', { hasText: name });
}

/** Put the cursor at a 1-based line and column with Go to Line (Ctrl+G), and wait until the status bar says so. */
export async function goTo(page: Page, line: number, column: number): Promise<void> {
  await page.keyboard.press(`${CTRL}+G`);
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  await page.locator('#status\\.editor\\.selection', { hasText: `Ln ${line}, Col ${column}` }).waitFor();
}

/** The rows of the Problems panel (opened if needed): their visible text, one line each. */
export async function problems(page: Page): Promise<string[]> {
  const rows = page.locator('.markers-panel .monaco-list-row');
  return (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
}

export async function showProblems(page: Page): Promise<void> {
  if (!(await page.locator('.markers-panel').isVisible())) await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  await page.locator('.markers-panel').waitFor({ state: 'visible' });
}

/**
 * A status bar entry by its id: `<publisher>.<name>.<id of createStatusBarItem>` for an extension's item (VS Code
 * 1.100 puts it on the element's id attribute).
 */
export function statusBarEntry(page: Page, id: string): Locator {
  return page.locator(`#workbench\\.parts\\.statusbar .statusbar-item[id="${id}"]`);
}

/** Retry `probe` (which throws while not yet true) until it passes or `timeoutMs` is over. */
export async function expectSoon(probe: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export interface StepOptions {
  /**
   * Press Escape twice first, so that whatever an earlier failed step left open (a menu, a hover, a picker) goes away.
   * Off where a step relies on a notification the Escape would hide (a run's progress).
   */
  escapeFirst: boolean;
}

/**
 * A suite's step runner: each step timed and logged (`timings` for the suite's summary); on failure a FAILED-<name>
 * screenshot and the tail of the logs before the error goes on.
 */
export function stepRunner(session: () => Session | undefined, o: StepOptions) {
  const timings: string[] = [];
  const step = async (name: string, body: (s: Session) => Promise<void>): Promise<void> => {
    const s = session();
    if (!s) throw new Error('VS Code did not start (see the first failure)');
    const t0 = Date.now();
    try {
      if (o.escapeFirst) {
        await s.page.keyboard.press('Escape');
        await s.page.keyboard.press('Escape');
      }
      await body(s);
      const line = `${name}: ok in ${Date.now() - t0} ms`;
      timings.push(line);
      log(line);
    } catch (e) {
      await s.screenshot(`FAILED-${name}`).catch(() => undefined);
      log(`${name} failed; last logs:\n${s.logs().slice(-6000)}`);
      throw e;
    }
  };
  return { step, timings };
}

/**
 * Show the hover at the cursor (editor.action.showHover: Ctrl+K Ctrl+I) and wait for `hover` to be visible; retried,
 * because the first request can come before the server's analysis.
 */
export async function showHover(page: Page, hover: Locator): Promise<void> {
  await expectSoon(async () => {
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    await hover.first().waitFor({ state: 'visible', timeout: 3_000 });
  });
}

/**
 * The run dashboard's page: the webview frame that holds `#run-header` (the graph's webview, when open, does not).
 * Looked up again on every call: VS Code drops a hidden webview and makes a new frame when it is shown again.
 */
export async function dashboard(page: Page): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    if (f.isDetached()) continue;
    try {
      if ((await f.locator('#run-header').count()) > 0) return f;
    } catch {
      // detached meanwhile
    }
  }
  return undefined;
}
