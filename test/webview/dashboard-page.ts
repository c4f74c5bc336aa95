// The run dashboard in headless Chromium, as VS Code would host it (webview-page.ts): the page of
// engine/report/html.ts with its CSP and the bundle dist/webview/dashboard.js. Shared by the tests and the benchmark
// (bench/dashboard.bench.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { dashboardHtml, makeNonce } from '../../engine/report/html';
import { validateDashboardWebviewMessage, type DashboardHostMessage, type DashboardWebviewMessage } from '../../protocol/dashboard';
import { missingPrerequisiteFor, openWebviewPage, repoRoot, type PageChoices, type WebviewPage } from './webview-page';

export { resultsDir, screenshotPath } from './webview-page';
export const dashboardBundle = join(repoRoot, 'dist', 'webview', 'dashboard.js');
export const ORIGIN = 'https://dashboard.webview.test';

export function missingDashboardPrerequisite(): string | null {
  return missingPrerequisiteFor(dashboardBundle);
}

export type Posted<T extends DashboardWebviewMessage['type']> = Extract<DashboardWebviewMessage, { type: T }>;
export const is =
  <T extends DashboardWebviewMessage['type']>(type: T, extra: (m: Posted<T>) => boolean = () => true) =>
  (m: DashboardWebviewMessage): m is Posted<T> =>
    m.type === type && extra(m as Posted<T>);

export interface DashboardPage extends WebviewPage<DashboardHostMessage, DashboardWebviewMessage> {
  /** Send and wait until the page reports the next draw. */
  sendAndDraw(message: DashboardHostMessage): Promise<Posted<'rendered'>>;
  /** Data attributes the charts leave: points and series drawn. */
  chart(id: 'loss' | 'lr' | 'speed' | 'map'): Promise<{ points: number; series: number }>;
}

export interface DashboardPageOptions extends PageChoices {
  rebuild?: boolean;
}

export async function openDashboardPage(browser: Browser, o: DashboardPageOptions = {}): Promise<DashboardPage> {
  const nonce = makeNonce();
  const bundleUrl = `${ORIGIN}/dist/webview/dashboard.js`;
  const wp = await openWebviewPage<DashboardHostMessage, DashboardWebviewMessage>(browser, {
    html: dashboardHtml({ nonce, scriptUri: bundleUrl, rebuild: o.rebuild ? 'on' : 'off', inject: o.inject }),
    nonce,
    bundleUrl,
    bundle: readFileSync(dashboardBundle),
    validate: validateDashboardWebviewMessage,
    viewport: { width: o.width ?? 1280, height: o.height ?? 900 },
    theme: o.theme,
    label: 'dashboard',
  });
  return {
    ...wp,
    sendAndDraw: async (message) => {
      const since = wp.posted.length;
      await wp.send(message);
      return wp.next(is('rendered'), since);
    },
    chart: (id) =>
      wp.page.evaluate((id) => {
        const e = document.getElementById(`chart-${id}`)!;
        return { points: Number(e.dataset.points ?? 0), series: Number(e.dataset.series ?? 0) };
      }, id),
  };
}
