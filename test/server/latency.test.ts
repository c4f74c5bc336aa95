// The measured latency in the language service (issue 14, item 6): handed in by the client (dsod/latency), checked
// against budget.latency_ms and shown in the totals hover beside MACs with its machine and runtime; the server's
// notification handler refuses what is not a measurement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateLatency, type LatencyMeasurement } from '../../protocol/latency';
import { validateReportHostMessage } from '../../protocol/report';
import { summaryItems } from '../../webview/report/model';
import { createLanguageService } from '../../server/service';
import { analyze, readRepoFile } from '../helpers';

const TINY = readRepoFile('examples/tiny.dsod.yaml');
const DSOD_LINE = TINY.split('\n').findIndex((l) => l.startsWith('dsod:'));
const text = `${TINY.trimEnd()}\nbudget: { latency_ms: 10 }\n`;
const doc = { uri: 'file:///w/tiny.dsod.yaml', version: 1, getText: () => text };

const measurement = (medianMs: number, macsPerImage = analyze(TINY).totals.macs): LatencyMeasurement => ({
  format: 'dsod-latency',
  version: 1,
  spec: 'tiny.dsod.yaml',
  specHash: '0123456789abcdef',
  macsPerImage,
  batch: 1,
  warmup: 3,
  runs: 20,
  medianMs,
  p90Ms: medianMs * 1.25,
  gmacsPerSecond: macsPerImage / (medianMs / 1000) / 1e9,
  runtime: { name: 'onnx', version: 'onnxruntime-node 1.30.0', device: 'cpu' },
  machine: { cpu: 'AMD EPYC', cores: 2, platform: 'linux x64' },
  measuredAt: '2026-12-01T17:30:00.000Z',
});

test('a measurement handed in is checked against budget.latency_ms and shown in the totals hover; taking it back clears both', () => {
  const service = createLanguageService();
  assert.equal(service.diagnostics(doc).filter((d) => d.code === 'budget/latency').length, 0, 'nothing measured yet');
  service.setLatency(doc.uri, measurement(20));
  const d = service.diagnostics(doc).find((x) => x.code === 'budget/latency');
  assert.ok(d);
  assert.match(String(d.message), /20\.0 ms median at batch 1 with onnxruntime-node 1\.30\.0 \(cpu\) on AMD EPYC, 2 cores/);
  const h = service.hover(doc, { line: DSOD_LINE, character: 1 });
  const value = (h?.contents as { value: string }).value;
  assert.match(
    value,
    /\| measured latency \| 20\.0 ms median · p90 25\.0 ms at batch 1 · [\d.]+ GMAC\/s · onnxruntime-node 1\.30\.0 \(cpu\) on AMD EPYC, 2 cores, 2026-12-01 17:30 \|/,
  );
  assert.ok(value.indexOf('| MACs |') < value.indexOf('| measured latency |'), 'beside MACs');
  // The report (`dsod/report`) carries the same line, and its summary shows it.
  const report = service.report(doc)!;
  assert.match(report.latency!, /^20\.0 ms median · p90 25\.0 ms at batch 1/);
  assert.ok(summaryItems(report).includes(`measured latency: ${report.latency}`));
  assert.ok(validateReportHostMessage({ type: 'report', report }).ok, 'the page accepts it');
  service.setLatency(doc.uri, measurement(5));
  assert.equal(service.diagnostics(doc).filter((x) => x.code === 'budget/latency').length, 0, 'within the limit');
  service.setLatency(doc.uri, measurement(20, 1));
  assert.match((service.hover(doc, { line: DSOD_LINE, character: 1 })?.contents as { value: string }).value, /measured on another network/);
  service.setLatency(doc.uri, null);
  assert.equal(service.report(doc)!.latency, null);
  assert.equal(service.diagnostics(doc).filter((x) => x.code === 'budget/latency').length, 0);
  assert.doesNotMatch((service.hover(doc, { line: DSOD_LINE, character: 1 })?.contents as { value: string }).value, /measured latency/);
});

test('what is not a measurement is refused with the field named', () => {
  assert.ok(validateLatency(measurement(20)).ok);
  const bad = { ...measurement(20), medianMs: -1 };
  const v = validateLatency(bad);
  assert.ok(!v.ok && /latency\.medianMs/.test(v.error));
  const other = validateLatency({ ...measurement(20), format: 'something-else' });
  assert.ok(!other.ok);
});
