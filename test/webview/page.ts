// The graph webview in headless Chromium, as VS Code would host it (webview-page.ts): the page of client/graphHtml.ts
// with its CSP and the bundle dist/webview/graph.js. Shared by the tests and the benchmark (bench/graph.bench.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { graphHtml, makeNonce } from '../../client/graphHtml';
import type { GraphResult } from '../../protocol/lsp';
import { validateWebviewMessage, type HostMessage, type WebviewMessage } from '../../protocol/webview';
import { createLanguageService } from '../../server/service';
import { missingPrerequisiteFor, openWebviewPage, repoRoot, type PageChoices, type WebviewPage } from './webview-page';

export { launchChromium, repoRoot, resultsDir, screenshotPath } from './webview-page';
export const bundlePath = join(repoRoot, 'dist', 'webview', 'graph.js');
export const ORIGIN = 'https://graph.webview.test';

/** Why the browser tests cannot run here, or null when they can. */
export function missingPrerequisite(): string | null {
  return missingPrerequisiteFor(bundlePath);
}

export interface GraphPage extends WebviewPage<HostMessage, WebviewMessage> {
  /** Send a graph and wait until the webview reports it drawn. */
  draw(result: GraphResult, title?: string): Promise<Extract<WebviewMessage, { type: 'rendered' }>>;
}

export interface PageOptions extends PageChoices {
  layoutCache?: 'on' | 'off';
}

export async function openGraphPage(browser: Browser, options: PageOptions = {}): Promise<GraphPage> {
  const nonce = makeNonce();
  const bundleUrl = `${ORIGIN}/dist/webview/graph.js`;
  let html = graphHtml({ scriptUri: bundleUrl, nonce, layoutCache: options.layoutCache });
  if (options.inject) html = html.replace(/(<meta http-equiv="Content-Security-Policy"[^>]*>)/, `$1\n${options.inject}`);
  const wp = await openWebviewPage<HostMessage, WebviewMessage>(browser, {
    html,
    nonce,
    bundleUrl,
    bundle: readFileSync(bundlePath),
    validate: validateWebviewMessage,
    viewport: { width: options.width ?? 1100, height: options.height ?? 900 },
    theme: options.theme,
  });
  return {
    ...wp,
    draw: async (result, title = 'dsod300.dsod.yaml') => {
      const since = wp.posted.length;
      await wp.send({ type: 'graph', title, result } satisfies HostMessage);
      return wp.next(
        (m): m is Extract<WebviewMessage, { type: 'rendered' }> => m.type === 'rendered' && m.version === result.version && m.uri === result.uri,
        since,
      );
    },
  };
}

/** Analyses through the language service, as the server answers `dsod/graph`. */
export function analyzer(uri = 'file:///ws/dsod300.dsod.yaml') {
  const service = createLanguageService();
  let version = 0;
  return (text: string): GraphResult => service.graph({ uri, version: ++version, getText: () => text });
}
