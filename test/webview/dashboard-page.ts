// The run dashboard in headless Chromium (playwright-core, Debian's /usr/bin/chromium), as VS Code would host it: the
// page of engine/report/html.ts with its CSP, the bundle dist/webview/dashboard.js, and a stand-in for VS Code's
// `acquireVsCodeApi` injected before the CSP (where VS Code injects its own). Every request is intercepted: the page
// and the bundle are served from a fake origin, anything else is recorded and refused. Shared by the tests and the
// benchmark (bench/dashboard.bench.ts).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { dashboardHtml, makeNonce } from '../../engine/report/html';
import { validateDashboardWebviewMessage, type DashboardHostMessage, type DashboardWebviewMessage } from '../../protocol/dashboard';
import { chromiumBin } from '../chromium';
import { repoRoot } from './dashboard-fixture';
import { DARK, type Theme } from './themes';

export const dashboardBundle = join(repoRoot, 'dist', 'webview', 'dashboard.js');
export const resultsDir = join(repoRoot, 'results', 'webview');
export const ORIGIN = 'https://dashboard.webview.test';

export function missingDashboardPrerequisite(): string | null {
  if (!existsSync(chromiumBin)) return `no Chromium at ${chromiumBin} (apt-get install chromium, or scripts/e2e-setup.sh)`;
  if (!existsSync(dashboardBundle)) return `no ${dashboardBundle} (npm run build)`;
  return null;
}

export type Posted<T extends DashboardWebviewMessage['type']> = Extract<DashboardWebviewMessage, { type: T }>;
export const is =
  <T extends DashboardWebviewMessage['type']>(type: T, extra: (m: Posted<T>) => boolean = () => true) =>
  (m: DashboardWebviewMessage): m is Posted<T> =>
    m.type === type && extra(m as Posted<T>);

export interface DashboardPage {
  page: Page;
  posted: DashboardWebviewMessage[];
  refused: string[];
  foreign: string[];
  console: string[];
  violations(): Promise<string[]>;
  send(message: DashboardHostMessage | unknown): Promise<void>;
  /** Send and wait until the page reports the next draw. */
  sendAndDraw(message: DashboardHostMessage): Promise<Posted<'rendered'>>;
  next<T extends DashboardWebviewMessage>(test: (m: DashboardWebviewMessage) => m is T, since?: number, timeoutMs?: number): Promise<T>;
  theme(t: Theme): Promise<void>;
  /** Data attributes the charts leave: points and series drawn. */
  chart(id: 'loss' | 'lr' | 'speed' | 'map'): Promise<{ points: number; series: number }>;
  close(): Promise<void>;
}

export interface DashboardPageOptions {
  rebuild?: boolean;
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

export async function openDashboardPage(browser: Browser, o: DashboardPageOptions = {}): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const nonce = makeNonce();
  let html = dashboardHtml({ nonce, scriptUri: `${ORIGIN}/dist/webview/dashboard.js`, rebuild: o.rebuild ? 'on' : 'off', inject: o.inject });
  html = html.replace('<head>', `<head>\n<script nonce="${nonce}">${API_STUB}</script>`);
  const bundle = readFileSync(dashboardBundle);
  const foreign: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === `${ORIGIN}/index.html`) return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    if (url === `${ORIGIN}/dist/webview/dashboard.js`) return route.fulfill({ status: 200, contentType: 'text/javascript', body: bundle });
    foreign.push(url);
    return route.abort();
  });
  const posted: DashboardWebviewMessage[] = [];
  const refused: string[] = [];
  const waiters: (() => void)[] = [];
  await page.exposeFunction('__toHost', (raw: unknown) => {
    const checked = validateDashboardWebviewMessage(raw);
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

  const next = async <T extends DashboardWebviewMessage>(test: (m: DashboardWebviewMessage) => m is T, since = 0, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = posted.slice(since).find(test);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a dashboard message; got ${posted.map((m) => m.type).join(', ')}; console:\n${consoleLines.join('\n')}`);
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, left);
        waiters.push(() => {
          clearTimeout(timer);
          ok();
        });
      });
    }
  };
  const send = async (message: unknown) => {
    // As a string: Playwright's own serialization of a large object costs far more than VS Code's postMessage.
    await page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(message));
  };
  const dp: DashboardPage = {
    page,
    posted,
    refused,
    foreign,
    console: consoleLines,
    violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
    send,
    sendAndDraw: async (message) => {
      const since = posted.length;
      await send(message);
      return next(is('rendered'), since);
    },
    next,
    theme: async (t) => {
      await page.evaluate((theme) => {
        for (const [k, v] of Object.entries(theme.vars)) document.documentElement.style.setProperty(k, v);
        document.body.className = theme.bodyClass;
      }, t);
    },
    chart: (id) =>
      page.evaluate((id) => {
        const e = document.getElementById(`chart-${id}`)!;
        return { points: Number(e.dataset.points ?? 0), series: Number(e.dataset.series ?? 0) };
      }, id),
    close: () => context.close(),
  };
  await page.goto(`${ORIGIN}/index.html`);
  await next(is('ready'));
  await dp.theme(o.theme ?? DARK);
  return dp;
}

export function screenshotPath(name: string): string {
  mkdirSync(resultsDir, { recursive: true });
  return join(resultsDir, `${name}.png`);
}
