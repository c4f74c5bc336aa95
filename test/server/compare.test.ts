// What an edit costs, in the editor (issue 13, item 4): the other side of a comparison comes from the client
// (`dsod/baseline`); the service answers the lens "+1.2M params vs HEAD", the report's deltas and the graph's colouring by
// change from core's diff. Also over a real LSP connection to the built server (dist/server/main.js).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CodeLensRequest, DidOpenTextDocumentNotification } from 'vscode-languageserver-protocol/node';
import { diffAnalyses, diffLayers } from '../../core';
import { formatMacs, formatSigned } from '../../core/format';
import { BaselineNotification, GraphRequest, ReportRequest, type BaselineParams } from '../../protocol/lsp';
import { validateReportHostMessage } from '../../protocol/report';
import { validateHostMessage } from '../../protocol/webview';
import { createLanguageService } from '../../server/service';
import { headLensTitle } from '../../server/service/compare';
import { analyze, check, DSOD300_YAML, edit, repoRoot } from '../helpers';
import { startServer, type LspServer } from './lsp-harness';

const URI = 'file:///ws/dsod300.dsod.yaml';
let version = 0;
const doc = (text: string, uri = URI) => ({ uri, version: ++version, getText: () => text });
const base = (text: string | null, role: BaselineParams['role'] = 'head', label = 'HEAD'): BaselineParams => ({
  uri: URI,
  role,
  label,
  text,
  fileName: '/ws/dsod300.dsod.yaml',
});

const WIDER = edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 10]');
const MORE_RATIOS = edit(DSOD300_YAML, 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]]', 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2, 3]]');
const titles = (lenses: { command?: { title: string } }[]) => lenses.map((l) => l.command!.title);

test('the lens says what the edits since HEAD cost: params, signed, and the MACs where they changed', () => {
  const service = createLanguageService();
  const a = analyze(DSOD300_YAML);
  const b = analyze(WIDER);
  const params = b.totals.paramsLearned - a.totals.paramsLearned;
  const macs = b.totals.macs - a.totals.macs;
  assert.ok(params > 0 && macs > 0);
  const expected = `${formatSigned(params)} params · ${formatSigned(macs, formatMacs)} vs HEAD`;
  assert.match(expected, /^\+\d.*params · \+.*MACs vs HEAD$/);

  // Without HEAD's text (not in git, not yet read): the totals lens alone.
  assert.equal(service.codeLenses(doc(WIDER)).length, 1);
  service.setBaseline(base(DSOD300_YAML));
  const lenses = service.codeLenses(doc(WIDER));
  assert.equal(lenses.length, 2);
  assert.equal(lenses[1].command!.title, expected);
  assert.equal(lenses[1].command!.command, 'dsod.compareWithHead');
  assert.deepEqual(lenses[1].command!.arguments, [URI]);
  // Back to HEAD's text: the same costs everywhere, no lens.
  assert.equal(service.codeLenses(doc(DSOD300_YAML)).length, 1);
  // A spec that is smaller than HEAD: a true minus sign.
  assert.match(titles(service.codeLenses(doc(edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 6]'))))[1], /^−\d.* params · −.* vs HEAD$/);
  // More aspect ratios at scale 6: head 6 grows.
  assert.match(titles(service.codeLenses(doc(MORE_RATIOS)))[1], /^\+.* params · \+.* vs HEAD$/);
  // The client clears it (the file left git): no lens; the document closed: forgotten.
  service.setBaseline(base(null));
  assert.equal(service.codeLenses(doc(WIDER)).length, 1);
  service.setBaseline(base(DSOD300_YAML));
  service.forget(URI);
  assert.equal(service.codeLenses(doc(WIDER)).length, 1);
  // Lenses turned off: none at all.
  const off = createLanguageService({ inlayHints: { enabled: true, params: 'learned' }, designHints: true, codeLens: false });
  off.setBaseline(base(DSOD300_YAML));
  assert.equal(off.codeLenses(doc(WIDER)).length, 0);
});

test('no lens when either side does not analyse fully, nor when only what costs nothing changed', () => {
  const head = { label: 'HEAD', check: check(DSOD300_YAML) };
  assert.equal(headLensTitle(check(edit(DSOD300_YAML, 'lr: 0.1', 'lr: 0.05')), head), null);
  assert.equal(headLensTitle(check(edit(DSOD300_YAML, '  blocks: [6, 8, 8, 8]', '  growth_rat: 48\n  blocks: [6, 8, 8, 8]')), head), null);
  assert.equal(headLensTitle(check(WIDER), { label: 'HEAD', check: check(edit(DSOD300_YAML, 'size: [300, 300]', 'size: big')) }), null);
  assert.notEqual(headLensTitle(check(WIDER), head), null);
});

test("the report's comparison: totals of both sides and the change per stage and per scale, as core's diff", () => {
  const service = createLanguageService();
  assert.equal(service.report(doc(WIDER))!.compare, null, 'no comparison until one is asked for');
  // A HEAD baseline is the lens's only: the report compares with what "Compare with..." chose.
  service.setBaseline(base(DSOD300_YAML, 'head'));
  assert.equal(service.report(doc(WIDER))!.compare, null);
  service.setBaseline(base(DSOD300_YAML, 'compare', 'HEAD~1'));
  const c = service.report(doc(WIDER))!.compare!;
  const d = diffAnalyses(analyze(DSOD300_YAML), analyze(WIDER));
  assert.equal(c.label, 'HEAD~1');
  assert.equal(c.name, 'DSOD300');
  assert.equal(c.error, null);
  assert.equal(c.unchanged, false);
  assert.deepEqual(c.totals, { a: d.totals.a, b: d.totals.b, delta: d.totals.delta });
  assert.deepEqual(
    c.stages.map((s) => [s.name, s.change, s.delta.paramsLearned, s.delta.macs, s.delta.activationBytes]),
    d.stages.filter((s) => s.kind !== 'input').map((s) => [s.name, s.change, s.delta.paramsLearned, s.delta.macs, s.delta.activationBytes]),
  );
  const block4 = c.stages.find((s) => s.name === 'block4')!;
  assert.ok(block4.delta.paramsLearned > 0);
  assert.deepEqual(c.stages.find((s) => s.name === 'block1')!.delta, { paramsLearned: 0, macs: 0, activationBytes: 0, boxes: 0 });
  assert.deepEqual(
    c.scales.map((s) => [s.index, s.change, s.delta.boxes]),
    d.scales.map((s) => [s.index, s.change, s.delta.boxes]),
  );
  // What the page receives passes its validator.
  assert.ok(validateReportHostMessage({ type: 'report', report: service.report(doc(WIDER)) }).ok);
  // The same text: unchanged.
  assert.equal(service.report(doc(DSOD300_YAML))!.compare!.unchanged, true);
  // The other side has an error: said with its line, and no numbers.
  service.setBaseline(base(edit(DSOD300_YAML, 'size: [300, 300]', 'size: big'), 'compare', 'HEAD~1'));
  const broken = service.report(doc(WIDER))!.compare!;
  assert.match(broken.error!, /^HEAD~1 has errors: line 6: /);
  assert.equal(broken.totals, null);
  assert.deepEqual(broken.stages, []);
  service.setBaseline(base(null, 'compare'));
  assert.equal(service.report(doc(WIDER))!.compare, null);
});

test("the graph's colouring: each node's change from core's diffLayers, each scale's boxes, the stages only the other side has", () => {
  const service = createLanguageService();
  assert.equal(service.graph(doc(MORE_RATIOS)).compare, null);
  service.setBaseline(base(DSOD300_YAML, 'compare'));
  const g = service.graph(doc(MORE_RATIOS));
  const c = g.compare!;
  assert.equal(c.error, null);
  assert.deepEqual(c.layers, diffLayers(analyze(DSOD300_YAML), analyze(MORE_RATIOS)).layers);
  assert.equal(c.layers.length, g.graph!.nodes.length);
  const changed = g.graph!.nodes.filter((n) => c.layers[n.id] !== 'same');
  assert.ok(changed.length > 0 && changed.every((n) => n.stageKind === 'head' && n.stageIndex === 6));
  // Scale 6 predicts more boxes; the other scales as many as before.
  assert.deepEqual(c.boxes, ['same', 'same', 'same', 'same', 'same', 'changed']);
  assert.deepEqual(c.removedStages, []);
  assert.ok(validateHostMessage({ type: 'graph', title: 'dsod300.dsod.yaml', result: g }).ok);
  // The page refuses changes that do not name every node, or every scale's boxes.
  const short = { ...g, compare: { ...c, layers: c.layers.slice(1) } };
  assert.match((validateHostMessage({ type: 'graph', title: 't', result: short }) as { error: string }).error, /compare\.layers must have one change per node/);
  const boxes = { ...g, compare: { ...c, boxes: [] } };
  assert.match((validateHostMessage({ type: 'graph', title: 't', result: boxes }) as { error: string }).error, /compare\.boxes must have one change per scale/);
  // Fewer scales than the other side: the missing scale's stages are named as removed.
  const five = edit(
    edit(
      edit(edit(DSOD300_YAML, 'scales: 6', 'scales: 5'), 'channels: [800, 512, 512, 256, 256, 256]', 'channels: [800, 512, 512, 256, 256]'),
      'min_sizes: [30, 60, 111, 162, 213, 264]',
      'min_sizes: [30, 60, 111, 162, 213]',
    ),
    'max_sizes: [60, 111, 162, 213, 264, 315]',
    'max_sizes: [60, 111, 162, 213, 264]',
  );
  const fewer = edit(
    edit(five, 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]]', 'aspect_ratios: [[2], [2, 3], [2, 3], [2, 3], [2]]'),
    'steps: [8, 16, 32, 64, 100, 300]',
    'steps: [8, 16, 32, 64, 100]',
  );
  const gf = service.graph(doc(fewer));
  assert.ok(gf.graph, JSON.stringify(gf.diagnostics.map((x) => x.message)));
  assert.deepEqual(gf.compare!.removedStages, ['scale6', 'head6']);
});

// Over the wire: the built server takes `dsod/baseline` and its lenses, report and graph follow.
let server: LspServer | undefined;
const built = join(repoRoot, 'dist', 'server', 'main.js');
before(async () => {
  if (existsSync(built)) server = await startServer(built);
});
after(async () => server?.stop());

test(
  'over LSP: dsod/baseline sets HEAD for the lens and the compared side for the report and the graph',
  { skip: !existsSync(built) && 'dist/ is not built (npm run build)' },
  async () => {
    const s = server!;
    const uri = 'file:///ws/wire.dsod.yaml';
    await s.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'dsod', version: 1, text: WIDER } });
    await s.diagnosticsFor(uri, 1);
    const lenses = async () => titles((await s.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? []);
    assert.equal((await lenses()).length, 1);
    await s.connection.sendNotification(BaselineNotification, { uri, role: 'head', label: 'HEAD', text: DSOD300_YAML, fileName: '/ws/wire.dsod.yaml' });
    // Messages are handled in order: the lens request sees the notification's baseline.
    const withHead = await lenses();
    assert.equal(withHead.length, 2);
    assert.match(withHead[1], /^\+.* params · \+.* vs HEAD$/);
    await s.connection.sendNotification(BaselineNotification, {
      uri,
      role: 'compare',
      label: 'other.dsod.yaml',
      text: DSOD300_YAML,
      fileName: '/ws/other.dsod.yaml',
    });
    const report = await s.connection.sendRequest(ReportRequest, { uri });
    assert.equal(report!.compare!.label, 'other.dsod.yaml');
    assert.ok(report!.compare!.totals!.delta.paramsLearned > 0);
    const graph = await s.connection.sendRequest(GraphRequest, { uri });
    assert.ok(graph!.compare!.layers.includes('added'));
    assert.deepEqual(s.errorLines(), []);
  },
);
