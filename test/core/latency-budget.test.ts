// budget.latency_ms (issue 14, item 6): checked against the latest measured latency that whoever reads files hands
// to core (the CLI, the editor through the language server); nothing to check without a measurement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetChecks, checkSpec, formatLatency, formatMacRate, type MeasuredLatency } from '../../core';
import { readRepoFile } from '../helpers';

const TINY = readRepoFile('examples/tiny.dsod.yaml');
const withLimit = (ms: number) => `${TINY.trimEnd()}\nbudget: { latency_ms: ${ms} }\n`;
const TINY_MACS = checkSpec(TINY, 'yaml').analysis!.totals.macs;
const measured = (medianMs: number, stale = false): MeasuredLatency => ({
  medianMs,
  p90Ms: medianMs * 1.2,
  batch: 1,
  label: 'onnxruntime-node 1.30.0 (cpu) on AMD EPYC, 2 cores',
  measuredAt: '2026-12-01T17:00:00.000Z',
  macsPerImage: stale ? TINY_MACS + 1 : TINY_MACS,
});

test('a measured latency over budget.latency_ms is an error at the limit, naming the machine and runtime', () => {
  const text = withLimit(10);
  const r = checkSpec(text, 'yaml', { latency: measured(25.5) });
  const d = r.diagnostics.find((x) => x.code === 'budget/latency');
  assert.ok(d, r.diagnostics.map((x) => x.code).join(', '));
  assert.equal(d.severity, 'error');
  assert.match(
    d.message,
    /25\.5 ms median at batch 1 with onnxruntime-node 1\.30\.0 \(cpu\) on AMD EPYC, 2 cores, exceeds the limit of 10\.0 ms by 155\.0% \(15\.5 ms\)\.$/,
  );
  const line = text.split('\n')[d.range.start.line];
  assert.match(line.slice(0, d.range.start.character), /latency_ms: $/, "at the limit's value");
  assert.deepEqual(
    budgetChecks(r.analysis!, measured(25.5))!.map((c) => [c.quantity, c.over]),
    [['latency', true]],
  );
});

test('within the limit, or not measured yet: no finding; the schema refuses a limit of 0', () => {
  assert.equal(checkSpec(withLimit(30), 'yaml', { latency: measured(25.5) }).diagnostics.filter((d) => d.code === 'budget/latency').length, 0);
  const unmeasured = checkSpec(withLimit(1), 'yaml');
  assert.equal(unmeasured.diagnostics.filter((d) => d.code === 'budget/latency').length, 0);
  assert.deepEqual(budgetChecks(unmeasured.analysis!), []);
  assert.ok(checkSpec(withLimit(0), 'yaml').diagnostics.some((d) => d.code === 'schema/range'));
});

test('a measurement of another network (other MACs) says so', () => {
  const d = checkSpec(withLimit(10), 'yaml', { latency: measured(25.5, true) }).diagnostics.find((x) => x.code === 'budget/latency');
  assert.match(d!.message, /measured on another network: its MACs differ; run `dsod latency` again/);
});

test('latencies and MAC rates print through core/format', () => {
  assert.equal(formatLatency(0.8412), '0.84 ms');
  assert.equal(formatLatency(12.34), '12.3 ms');
  assert.equal(formatLatency(412.4), '412 ms');
  assert.equal(formatLatency(2414), '2.41 s');
  assert.equal(formatMacRate(38.2e9), '38.2 GMAC/s');
});
