// The host <-> webview protocol: every malformed message is refused with a reason and logged, never acted on; the
// page's Content-Security-Policy allows nothing but the nonce'd bundle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { graphCsp, graphHtml, makeNonce } from '../../client/graphHtml';
import { handleWebviewMessage, type GraphHost } from '../../client/graphMessages';
import { count, shapeOf } from '../../protocol/checks';
import { validateHostMessage, validateWebviewMessage } from '../../protocol/webview';
import { createLanguageService } from '../../server/service';
import { DSOD300_YAML } from '../helpers';

const URI = 'file:///ws/dsod300.dsod.yaml';
const result = createLanguageService().graph({ uri: URI, version: 3, getText: () => DSOD300_YAML });
const range = { start: { line: 11, character: 11 }, end: { line: 11, character: 12 } };
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

test("the host's graph message for DSOD300 is valid, and each kind of damage is refused with where it is", () => {
  assert.equal(validateHostMessage({ type: 'graph', title: 'dsod300.dsod.yaml', result }).ok, true);
  assert.equal(validateHostMessage({ type: 'status', message: 'waiting' }).ok, true);
  const damaged = (mutate: (r: typeof result) => void) => {
    const r = clone(result);
    mutate(r);
    const v = validateHostMessage({ type: 'graph', title: 't', result: r });
    return v.ok ? 'accepted' : v.error;
  };
  assert.equal(
    damaged((r) => (r.graph!.nodes[5].shape = [1, 2] as never)),
    'graph.result.graph.nodes[5].shape must be an array of 3',
  );
  assert.equal(
    damaged((r) => (r.graph!.nodes[7].paramsLearned = -1)),
    'graph.result.graph.nodes[7].paramsLearned must be a non-negative integer',
  );
  assert.equal(
    damaged((r) => (r.graph!.nodes[9].inputs = [300])),
    'graph.result.graph.nodes[9].inputs must name earlier nodes',
  );
  assert.equal(
    damaged((r) => (r.graph!.nodes[2].id = 3)),
    'graph.result.graph.nodes[2].id must be 2',
  );
  assert.equal(
    damaged((r) => (r.graph!.scales[0].loc = 9999)),
    'graph.result.graph.scales[0] names a node that does not exist',
  );
  assert.equal(
    damaged((r) => (r.summary.withinBudget = 'yes' as never)),
    'graph.result.summary.withinBudget must be a boolean',
  );
  // A layer's place is typed data, checked against core's unions.
  assert.equal(
    damaged((r) => (r.graph!.nodes[3].kind = 'lstm' as never)),
    'graph.result.graph.nodes[3].kind must be one of input, conv, bn, relu, pool, concat, l2norm',
  );
  const head = result.graph!.nodes.findIndex((n) => n.stageKind === 'head');
  assert.equal(
    damaged((r) => (r.graph!.nodes[head].headRole = 'box' as never)),
    `graph.result.graph.nodes[${head}].headRole must be one of l2norm, loc, conf`,
  );
  assert.equal(
    damaged((r) => delete (r.graph!.nodes[4] as Partial<(typeof r.graph & {})['nodes'][number]>).half),
    'graph.result.graph.nodes[4].half must be one of reused, learned',
  );
  assert.equal(
    damaged((r) => (r.summary.analysis = 'some' as never)),
    'graph.result.summary.analysis must be one of full, partial, none',
  );
  assert.equal(
    damaged((r) => (r.version = Number.NaN)),
    'graph.result.version must be a finite number',
  );
  assert.equal(
    damaged((r) => (r.diagnostics = [{ severity: 'fatal', message: 'x', range }] as never)),
    'graph.result.diagnostics[0].severity must be one of error, warning, information, hint',
  );
  assert.equal(
    damaged((r) => (r.graph!.nodes[0].name = 'x'.repeat(5000))),
    'graph.result.graph.nodes[0].name is longer than 4096 characters',
  );
  // A null graph (a spec with errors) is a valid message.
  assert.equal(
    damaged((r) => (r.graph = null)),
    'accepted',
  );
});

test('messages of no known type, or no object at all, are refused', () => {
  for (const raw of [null, undefined, 42, 'graph', [], { type: 'toString' }, { type: '__proto__' }, { type: 'eval', code: 'alert(1)' }, { kind: 'graph' }]) {
    const h = validateHostMessage(raw);
    const w = validateWebviewMessage(raw);
    assert.equal(h.ok, false, JSON.stringify(raw));
    assert.equal(w.ok, false, JSON.stringify(raw));
  }
  assert.deepEqual(validateWebviewMessage({ type: 'eval', code: 'alert(1)' }), { ok: false, error: 'unknown webview message type "eval"' });
});

test('webview messages: each type accepted when well formed, refused otherwise', () => {
  const ok = (m: unknown) => validateWebviewMessage(m).ok;
  const why = (m: unknown) => {
    const v = validateWebviewMessage(m);
    return v.ok ? 'accepted' : v.error;
  };
  assert.ok(ok({ type: 'ready', protocol: 1 }));
  assert.ok(ok({ type: 'reveal', uri: URI, range }));
  assert.ok(ok({ type: 'export', format: 'svg', name: 'DSOD300-graph.svg', data: '<svg xmlns="http://www.w3.org/2000/svg"></svg>' }));
  assert.ok(ok({ type: 'export', format: 'png', name: 'DSOD300-graph.png', data: 'iVBORw0KGgo=' }));
  assert.ok(ok({ type: 'rendered', uri: URI, version: 3, nodes: 48, edges: 58, layout: 'cached', ms: 2.5 }));
  assert.ok(ok({ type: 'log', level: 'warn', message: 'x' }));
  assert.equal(
    why({ type: 'reveal', uri: URI, range: { start: { line: -1, character: 0 }, end: range.end } }),
    'reveal.range.start.line must be a non-negative integer',
  );
  assert.equal(why({ type: 'reveal', uri: 7, range }), 'reveal.uri must be a string');
  assert.equal(why({ type: 'export', format: 'svg', name: '../../.bashrc', data: '<svg/>' }), 'export.name must be a plain file name');
  assert.equal(why({ type: 'export', format: 'gif', name: 'a.gif', data: '' }), 'export.format must be one of svg, png');
  assert.equal(why({ type: 'export', format: 'svg', name: 'a.svg', data: '<html><script>alert(1)</script>' }), 'export.data must be an SVG document');
  assert.equal(why({ type: 'export', format: 'png', name: 'a.png', data: 'not base64!' }), 'export.data must be base64');
  assert.equal(
    why({ type: 'rendered', uri: URI, version: 3, nodes: 48, edges: 58, layout: 'guessed', ms: 1 }),
    'rendered.layout must be one of cached, computed',
  );
  assert.equal(why({ type: 'log', level: 'debug', message: 'x' }), 'log.level must be one of info, warn, error');
});

/** A host that records what it was asked to do. */
function recordingHost(current = URI) {
  const calls: string[] = [];
  const logs: string[] = [];
  const host: GraphHost = {
    currentUri: () => current,
    ready: () => void calls.push('ready'),
    reveal: (uri, r) => void calls.push(`reveal ${uri} ${r.start.line}:${r.start.character}`),
    save: (format, name, data) => void calls.push(`save ${format} ${name} ${data.length}`),
    rendered: (m) => void calls.push(`rendered v${m.version}`),
    log: (level, message) => void logs.push(`${level}: ${message}`),
  };
  return { host, calls, logs };
}

test('the host refuses and logs malformed webview messages, and does nothing they ask', async () => {
  const { host, calls, logs } = recordingHost();
  const hostile: unknown[] = [
    { type: 'reveal', uri: URI, range: { start: { line: '11' }, end: range.end } },
    { type: 'export', format: 'svg', name: '/etc/passwd', data: '<svg/>' },
    { type: 'save', path: '/tmp/x', data: 'x' },
    { type: 'ready' },
    'ready',
    null,
  ];
  for (const m of hostile) assert.equal(await handleWebviewMessage(m, host), false, JSON.stringify(m));
  assert.deepEqual(calls, []);
  assert.equal(logs.length, hostile.length);
  assert.match(logs[0], /^warn: graph view: refused a malformed message \(reveal\.range\.start\.line must be a non-negative integer\)$/);
  assert.match(logs[2], /unknown webview message type "save"/);
});

test('a page of another protocol version is told to reload, not served', async () => {
  const { host, calls, logs } = recordingHost();
  assert.equal(await handleWebviewMessage({ type: 'ready', protocol: 2 }, host), false);
  assert.deepEqual(calls, []);
  assert.deepEqual(logs, ['error: graph view: this graph page speaks protocol 2, the extension 1: reload the window (Developer: Reload Window)']);
});

test('a reveal must name the document the panel shows', async () => {
  const { host, calls, logs } = recordingHost();
  assert.equal(await handleWebviewMessage({ type: 'reveal', uri: 'file:///etc/passwd', range }, host), false);
  assert.equal(await handleWebviewMessage({ type: 'reveal', uri: 'command:workbench.action.terminal.new', range }, host), false);
  assert.deepEqual(calls, []);
  assert.equal(logs.length, 2);
  assert.equal(await handleWebviewMessage({ type: 'reveal', uri: URI, range }, host), true);
  assert.equal(await handleWebviewMessage({ type: 'ready', protocol: 1 }, host), true);
  assert.equal(await handleWebviewMessage({ type: 'export', format: 'png', name: 'DSOD300-graph.png', data: 'iVBORw0KGgo=' }, host), true);
  assert.equal(await handleWebviewMessage({ type: 'log', level: 'info', message: 'hello' }, host), true);
  assert.deepEqual(calls, [`reveal ${URI} 11:11`, 'ready', 'save png DSOD300-graph.png 12']);
  assert.equal(logs[2], 'info: graph view: hello');
});

test("the page allows only its nonce'd bundle: no inline code, no eval, no remote host", () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{20,}$/);
  assert.notEqual(makeNonce(), nonce);
  const csp = graphCsp(nonce);
  assert.equal(
    csp,
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src blob:; connect-src 'none'; font-src 'none'; frame-src 'none'; worker-src 'none'; object-src 'none'; media-src 'none'; base-uri 'none'; form-action 'none'`,
  );
  assert.doesNotMatch(csp, /unsafe|https?:|\*/);
  const html = graphHtml({ scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/graph.js', nonce });
  assert.match(html, new RegExp(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}';`));
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  assert.deepEqual(scripts, [`<script nonce="${nonce}" src="https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/graph.js">`]);
  assert.doesNotMatch(html, /<style|\sstyle=|\son\w+=/);
  assert.match(graphHtml({ scriptUri: 'x" onload="alert(1)', nonce }), /src="x&quot; onload=&quot;alert\(1\)"/);
});

test('a checker is tied to its type: a field left out of it, or one the type lacks, does not compile', () => {
  interface Point {
    x: number;
    y: number;
  }
  // @ts-expect-error `y` has no checker
  shapeOf<Point>()({ x: count });
  // @ts-expect-error `z` is no field of Point
  shapeOf<Point>()({ x: count, y: count, z: count });
  const point = shapeOf<Point>()({ x: count, y: count });
  assert.equal(point({ x: 1, y: 'a' }, 'p'), 'p.y must be a non-negative integer');
  assert.equal(point({ x: 1, y: 2 }, 'p'), null);
});
