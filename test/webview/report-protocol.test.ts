// The report view's messages (protocol/report.ts) and its host's handling (client/reportMessages.ts): a real report
// passes; malformed or hostile messages are refused with the path of the bad value; a reveal of another document is
// refused; the page's HTML allows nothing but its own bundle and styles.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handleReportMessage, type ReportHost } from '../../client/reportMessages';
import type { ReportData } from '../../protocol/lsp';
import { validateReportHostMessage, validateReportWebviewMessage } from '../../protocol/report';
import { createLanguageService } from '../../server/service';
import { makeNonce, reportHtml } from '../../webview/report/html';
import { DSOD300_YAML } from '../helpers';

const URI = 'file:///ws/dsod300.dsod.yaml';
const report = (): ReportData => createLanguageService().report({ uri: URI, version: 3, getText: () => DSOD300_YAML })!;
const range = { start: { line: 11, character: 11 }, end: { line: 11, character: 12 } };

test('a real report and the status message pass the page-side validator', () => {
  const r = report();
  assert.deepEqual(validateReportHostMessage({ type: 'report', report: r }), { ok: true, message: { type: 'report', report: r } });
  assert.equal(validateReportHostMessage({ type: 'status', message: 'This spec has errors' }).ok, true);
});

test('malformed host messages are refused with the path of the bad value', () => {
  const bad = (mutate: (r: ReportData & Record<string, unknown>) => void) => {
    const r = report() as ReportData & Record<string, unknown>;
    mutate(r);
    const v = validateReportHostMessage({ type: 'report', report: r });
    assert.equal(v.ok, false);
    return (v as { error: string }).error;
  };
  assert.equal(
    bad((r) => (r.stages[0].paramsShare = 1.5)),
    'report.report.stages[0].paramsShare must be a number from 0 to 1',
  );
  assert.equal(
    bad((r) => (r.stages[1].macs = -1)),
    'report.report.stages[1].macs must be a non-negative integer',
  );
  assert.equal(
    bad((r) => ((r.stages[14] as unknown as Record<string, unknown>).head = { loc: [1, 2], conf: [1, 2, 3] })),
    'report.report.stages[14].head.loc must be an array of 3',
  );
  assert.equal(
    bad((r) => ((r.stages[0] as unknown as Record<string, unknown>).kind = 'input')),
    'report.report.stages[0].kind must be one of stem, block, transition, scale, head',
  );
  assert.equal(
    bad((r) => (r.scales[0].source.range.start.line = -3)),
    'report.report.scales[0].source.range.start.line must be a non-negative integer',
  );
  assert.equal(
    bad((r) => (r.name = 'x'.repeat(5000))),
    'report.report.name is longer than 4096 characters',
  );
  assert.equal(
    bad((r) => delete (r as Record<string, unknown>).totals),
    'report.report.totals must be an object',
  );
  assert.equal(validateReportHostMessage({ type: 'graph' }).ok, false);
  assert.deepEqual(validateReportHostMessage('report'), { ok: false, error: 'host message must be an object' });
});

test('page messages: the four kinds pass, anything else is refused', () => {
  for (const m of [
    { type: 'ready', protocol: 1 },
    { type: 'reveal', uri: URI, range },
    { type: 'rendered', uri: URI, version: 3, stages: 20, scales: 6 },
    { type: 'log', level: 'warn', message: 'x' },
  ])
    assert.equal(validateReportWebviewMessage(m).ok, true, m.type);
  assert.deepEqual(validateReportWebviewMessage({ type: 'reveal', uri: URI, range: { start: { line: 1 } } }), {
    ok: false,
    error: 'reveal.range.start.character must be a non-negative integer',
  });
  assert.deepEqual(validateReportWebviewMessage({ type: 'export', data: '' }), { ok: false, error: 'unknown report message type "export"' });
  assert.equal(validateReportWebviewMessage({ type: 'log', level: 'debug', message: 'x' }).ok, false);
});

test('the host reveals only the spec it reports on, and acts on nothing malformed', async () => {
  const did: string[] = [];
  const host: ReportHost = {
    currentUri: () => URI,
    ready: () => did.push('ready'),
    reveal: (uri, r) => void did.push(`reveal ${uri} ${r.start.line}:${r.start.character}`),
    rendered: (m) => did.push(`rendered ${m.version}`),
    log: (level, message) => did.push(`${level}: ${message}`),
  };
  assert.equal(await handleReportMessage({ type: 'ready', protocol: 1 }, host), true);
  assert.equal(await handleReportMessage({ type: 'reveal', uri: URI, range }, host), true);
  assert.equal(await handleReportMessage({ type: 'reveal', uri: 'file:///etc/passwd', range }, host), false);
  assert.equal(await handleReportMessage({ type: 'reveal', uri: URI }, host), false);
  assert.equal(await handleReportMessage({ type: 'rendered', uri: URI, version: 3, stages: 20, scales: 6 }, host), true);
  assert.equal(await handleReportMessage({ type: 'ready', protocol: 0 }, host), false);
  assert.deepEqual(did, [
    'ready',
    `reveal ${URI} 11:11`,
    'warn: report view: refused to reveal file:///etc/passwd, which is not the spec reported',
    'warn: report view: refused a malformed message (reveal.range must be an object)',
    'rendered 3',
    'error: report view: this report page speaks protocol 0, the extension 1: reload the window (Developer: Reload Window)',
  ]);
});

test("the page's HTML: one nonce'd script, a strict CSP, no remote source", () => {
  const nonce = makeNonce();
  const html = reportHtml({ scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/report.js', nonce });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'(;|$)`));
  assert.match(csp, new RegExp(`style-src 'nonce-${nonce}'(;|$)`));
  assert.doesNotMatch(csp, /unsafe|https?:|\*/);
  assert.deepEqual(html.match(/<script[^>]*>/g), [`<script nonce="${nonce}" src="https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/report.js">`]);
  assert.doesNotMatch(html, /<link|<style|<img/);
});
