// The analysis report webview in headless Chromium, as VS Code would host it (webview-page.ts): the page of
// webview/report/html.ts with its CSP and the bundle dist/webview/report.js.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { ReportData } from '../../protocol/lsp';
import { validateReportWebviewMessage, type ReportHostMessage, type ReportWebviewMessage } from '../../protocol/report';
import { createLanguageService } from '../../server/service';
import { makeNonce, reportHtml } from '../../webview/report/html';
import { missingPrerequisiteFor, openWebviewPage, repoRoot, type PageChoices, type WebviewPage } from './webview-page';

export { launchChromium, screenshotPath } from './webview-page';
export const reportBundle = join(repoRoot, 'dist', 'webview', 'report.js');
export const ORIGIN = 'https://report.webview.test';

export function missingReportPrerequisite(): string | null {
  return missingPrerequisiteFor(reportBundle);
}

export type Posted<T extends ReportWebviewMessage['type']> = Extract<ReportWebviewMessage, { type: T }>;
export const is =
  <T extends ReportWebviewMessage['type']>(type: T, extra: (m: Posted<T>) => boolean = () => true) =>
  (m: ReportWebviewMessage): m is Posted<T> =>
    m.type === type && extra(m as Posted<T>);

export interface ReportPage extends WebviewPage<ReportHostMessage, ReportWebviewMessage> {
  /** Send a report and wait until the page reports it drawn. */
  draw(report: ReportData): Promise<Posted<'rendered'>>;
}

export async function openReportPage(browser: Browser, o: PageChoices = {}): Promise<ReportPage> {
  const nonce = makeNonce();
  const bundleUrl = `${ORIGIN}/dist/webview/report.js`;
  let html = reportHtml({ scriptUri: bundleUrl, nonce });
  if (o.inject) html = html.replace(/(<meta http-equiv="Content-Security-Policy"[^>]*>)/, `$1\n${o.inject}`);
  const wp = await openWebviewPage<ReportHostMessage, ReportWebviewMessage>(browser, {
    html,
    nonce,
    bundleUrl,
    bundle: readFileSync(reportBundle),
    validate: validateReportWebviewMessage,
    viewport: { width: o.width ?? 900, height: o.height ?? 900 },
    theme: o.theme,
    label: 'report',
  });
  return {
    ...wp,
    draw: async (report) => {
      const since = wp.posted.length;
      await wp.send({ type: 'report', report } satisfies ReportHostMessage);
      return wp.next(
        is('rendered', (m) => m.uri === report.uri && m.version === report.version),
        since,
      );
    },
  };
}

/** Reports through the language service, as the server answers `dsod/report`. */
export function reporter(uri = 'file:///ws/dsod300.dsod.yaml') {
  const service = createLanguageService();
  let version = 0;
  return (text: string): ReportData => service.report({ uri, version: ++version, getText: () => text })!;
}
