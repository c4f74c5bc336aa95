// The graph webview in headless Chromium (playwright-core, Debian's /usr/bin/chromium), as VS Code would host it: the
// page of client/graphHtml.ts with its CSP, the bundle dist/webview/graph.js, and a stand-in for VS Code's
// `acquireVsCodeApi` injected before the CSP (where VS Code injects its own). Every request is intercepted: the page
// and the bundle are served from a fake origin, anything else is recorded and refused. Shared by the tests and the
// benchmark (bench/graph.bench.ts).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { graphHtml, makeNonce } from '../../client/graphHtml';
import type { GraphResult } from '../../protocol/lsp';
import { validateWebviewMessage, type HostMessage, type WebviewMessage } from '../../protocol/webview';
import { createLanguageService } from '../../server/service';
import { DARK, type Theme } from './themes';
import { CHROMIUM_ARGS, chromiumBin } from '../chromium';

/** Compiled into out/test/webview/: the repository root is three levels up. */
export const repoRoot = resolve(__dirname, '..', '..', '..');
export const resultsDir = join(repoRoot, 'results', 'webview');
export const bundlePath = join(repoRoot, 'dist', 'webview', 'graph.js');
export const ORIGIN = 'https://graph.webview.test';


/** Why the browser tests cannot run here, or null when they can. */
export function missingPrerequisite(): string | null {
  if (!existsSync(chromiumBin)) return `no Chromium at ${chromiumBin} (apt-get install chromium, or scripts/e2e-setup.sh)`;
  if (!existsSync(bundlePath)) return `no ${bundlePath} (npm run build)`;
  return null;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumBin, headless: true, args: CHROMIUM_ARGS });
}

export interface GraphPage {
  page: Page;
  /** Every message the webview posted, already checked by the protocol validator as the host would. */
  posted: WebviewMessage[];
  /** Messages the host-side validator refused. */
  refused: string[];
  /** URLs the page tried to load from anywhere but the fake origin. */
  foreign: string[];
  /** Content-Security-Policy violations the page reported ("directive blocked-uri"). */
  violations(): Promise<string[]>;
  console: string[];
  send(message: HostMessage | unknown): Promise<void>;
  /** Send a graph and wait until the webview reports it drawn. */
  draw(result: GraphResult, title?: string): Promise<Extract<WebviewMessage, { type: 'rendered' }>>;
  /** Wait for the next posted message matching `test`, counting from `since` (an index into `posted`). */
  next<T extends WebviewMessage>(test: (m: WebviewMessage) => m is T, since?: number, timeoutMs?: number): Promise<T>;
  theme(t: Theme): Promise<void>;
  close(): Promise<void>;
}

export interface PageOptions {
  layoutCache?: 'on' | 'off';
  /** Extra markup right after the CSP (the CSP test puts hostile content there). */
  inject?: string;
  width?: number;
  height?: number;
  theme?: Theme;
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

export async function openGraphPage(browser: Browser, options: PageOptions = {}): Promise<GraphPage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1100, height: options.height ?? 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const nonce = makeNonce();
  let html = graphHtml({ scriptUri: `${ORIGIN}/dist/webview/graph.js`, nonce, layoutCache: options.layoutCache });
  // VS Code puts its own script before the page's content; so do we, with the page's nonce.
  html = html.replace('<head>', `<head>\n<script nonce="${nonce}">${API_STUB}</script>`);
  if (options.inject) html = html.replace(/(<meta http-equiv="Content-Security-Policy"[^>]*>)/, `$1\n${options.inject}`);
  const bundle = readFileSync(bundlePath);

  const foreign: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === `${ORIGIN}/index.html`) return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    if (url === `${ORIGIN}/dist/webview/graph.js`) return route.fulfill({ status: 200, contentType: 'text/javascript', body: bundle });
    foreign.push(url);
    return route.abort();
  });

  const posted: WebviewMessage[] = [];
  const refused: string[] = [];
  const waiters: (() => void)[] = [];
  await page.exposeFunction('__toHost', (raw: unknown) => {
    const checked = validateWebviewMessage(raw);
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

  const next = async <T extends WebviewMessage>(test: (m: WebviewMessage) => m is T, since = 0, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = posted.slice(since).find(test);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a webview message; got ${posted.map((m) => m.type).join(', ')}; console:\n${consoleLines.join('\n')}`);
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, left);
        waiters.push(() => {
          clearTimeout(timer);
          ok();
        });
      });
    }
  };

  const gp: GraphPage = {
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
    draw: async (result, title = 'dsod300.dsod.yaml') => {
      const since = posted.length;
      await gp.send({ type: 'graph', title, result } satisfies HostMessage);
      return next((m): m is Extract<WebviewMessage, { type: 'rendered' }> => m.type === 'rendered' && m.version === result.version && m.uri === result.uri, since);
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

  await page.goto(`${ORIGIN}/index.html`);
  await next((m): m is Extract<WebviewMessage, { type: 'ready' }> => m.type === 'ready');
  await gp.theme(options.theme ?? DARK);
  return gp;
}

/** Analyses through the language service, as the server answers `dsod/graph`. */
export function analyzer(uri = 'file:///ws/dsod300.dsod.yaml') {
  const service = createLanguageService();
  let version = 0;
  return (text: string): GraphResult => service.graph({ uri, version: ++version, getText: () => text });
}

export function screenshotPath(name: string): string {
  mkdirSync(resultsDir, { recursive: true });
  return join(resultsDir, `${name}.png`);
}
