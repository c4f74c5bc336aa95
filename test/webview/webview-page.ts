// A DSOD webview page in headless Chromium (playwright-core, Debian's /usr/bin/chromium), as VS Code would host it:
// the page's HTML with its CSP, its one bundle, and a stand-in for VS Code's `acquireVsCodeApi` injected before the
// CSP (where VS Code injects its own). Every request is intercepted: the page and the bundle are served from a fake
// origin, anything else is recorded and refused. What the graph page (page.ts) and the run dashboard page
// (dashboard-page.ts) share; each adds its own messages on top.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Validation } from '../../protocol/checks';
import { CHROMIUM_ARGS, chromiumBin } from '../chromium';
import { DARK, type Theme } from './themes';

/** Compiled into out/test/webview/: the repository root is three levels up. */
export const repoRoot = resolve(__dirname, '..', '..', '..');
export const resultsDir = join(repoRoot, 'results', 'webview');

/** Why a page with this bundle cannot run here, or null when it can. */
export function missingPrerequisiteFor(bundlePath: string): string | null {
  if (!existsSync(chromiumBin)) return `no Chromium at ${chromiumBin} (apt-get install chromium, or scripts/e2e-setup.sh)`;
  if (!existsSync(bundlePath)) return `no ${bundlePath} (npm run build)`;
  return null;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumBin, headless: true, args: CHROMIUM_ARGS });
}

export function screenshotPath(name: string): string {
  mkdirSync(resultsDir, { recursive: true });
  return join(resultsDir, `${name}.png`);
}

export interface WebviewPage<Host, Posted extends { type: string }> {
  page: Page;
  /** Every message the page posted, already checked by the protocol validator as the host would. */
  posted: Posted[];
  /** Messages the host-side validator refused. */
  refused: string[];
  /** URLs the page tried to load from anywhere but the fake origin. */
  foreign: string[];
  /** Content-Security-Policy violations the page reported ("directive blocked-uri"). */
  violations(): Promise<string[]>;
  console: string[];
  send(message: Host | unknown): Promise<void>;
  /** Wait for the next posted message matching `test`, counting from `since` (an index into `posted`). */
  next<T extends Posted>(test: (m: Posted) => m is T, since?: number, timeoutMs?: number): Promise<T>;
  theme(t: Theme): Promise<void>;
  close(): Promise<void>;
}

/** What a test may choose of every page. */
export interface PageChoices {
  /** Extra markup right after the CSP (the CSP tests put hostile content there). */
  inject?: string;
  width?: number;
  height?: number;
  theme?: Theme;
}

export interface WebviewPageOptions<Posted> {
  /** The page's HTML, its script and styles allowed by `nonce`. */
  html: string;
  nonce: string;
  /** Where the HTML loads its bundle from; the page itself is served at this URL's origin, /index.html. */
  bundleUrl: string;
  /** The bundle's contents. */
  bundle: Buffer | string;
  /** The host's validator for what the page posts. */
  validate(raw: unknown): Validation<Posted>;
  viewport: { width: number; height: number };
  /** Applied once the page is ready (default: dark). */
  theme?: Theme;
  /** Names the messages in a timeout's error ("a webview message"). */
  label?: string;
}

/** The stand-in for VS Code's webview API: messages go to the test through an exposed binding. */
const API_STUB = `
  window.acquireVsCodeApi = (() => {
    let acquired = false;
    let state;
    return () => {
      if (acquired) throw new Error('acquireVsCodeApi can be called once');
      acquired = true;
      return {
        postMessage: (m) => window.__toHost(JSON.parse(JSON.stringify(m))),
        getState: () => state,
        setState: (s) => { state = s; },
      };
    };
  })();
`;

/** Open the page, wait for its `ready` message and apply the theme. */
export async function openWebviewPage<Host, Posted extends { type: string }>(
  browser: Browser,
  o: WebviewPageOptions<Posted>,
): Promise<WebviewPage<Host, Posted>> {
  const context = await browser.newContext({ viewport: o.viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  // VS Code puts its own script before the page's content; so do we, with the page's nonce.
  const html = o.html.replace('<head>', `<head>\n<script nonce="${o.nonce}">${API_STUB}</script>`);
  const index = `${new URL(o.bundleUrl).origin}/index.html`;

  const foreign: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === index) return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    if (url === o.bundleUrl) return route.fulfill({ status: 200, contentType: 'text/javascript', body: o.bundle });
    foreign.push(url);
    return route.abort();
  });

  const posted: Posted[] = [];
  const refused: string[] = [];
  const waiters: (() => void)[] = [];
  await page.exposeFunction('__toHost', (raw: unknown) => {
    const checked = o.validate(raw);
    if (checked.ok) posted.push(checked.message);
    else refused.push(checked.error);
    for (const w of waiters.splice(0)) w();
  });
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  const label = o.label ?? 'webview';
  const next = async <T extends Posted>(test: (m: Posted) => m is T, since = 0, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = posted.slice(since).find(test);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for a ${label} message; got ${posted.map((m) => m.type).join(', ')}; console:\n${consoleLines.join('\n')}`);
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, left);
        waiters.push(() => {
          clearTimeout(timer);
          ok();
        });
      });
    }
  };

  const wp: WebviewPage<Host, Posted> = {
    page,
    posted,
    refused,
    foreign,
    violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
    console: consoleLines,
    send: async (message) => {
      // As a string: Playwright's own serialization of a large object costs far more than VS Code's postMessage.
      await page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(message));
    },
    next,
    theme: async (t) => {
      await page.evaluate((theme) => {
        for (const [k, v] of Object.entries(theme.vars)) document.documentElement.style.setProperty(k, v);
        document.body.className = theme.bodyClass;
      }, t);
    },
    close: () => context.close(),
  };

  await page.goto(index);
  await next((m): m is Posted => m.type === 'ready');
  await wp.theme(o.theme ?? DARK);
  return wp;
}
