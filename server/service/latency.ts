// A `dsod latency` measurement (protocol/latency.ts) as core's MeasuredLatency, and its line in the totals hover.
import { formatLatency, formatMacRate, latencyIsStale, type Analysis, type MeasuredLatency } from '../../core';
import type { LatencyMeasurement } from '../../protocol/latency';

export function measuredLatency(m: LatencyMeasurement): MeasuredLatency {
  return {
    medianMs: m.medianMs,
    p90Ms: m.p90Ms,
    batch: m.batch,
    label: `${m.runtime.version} (${m.runtime.device}) on ${m.machine.cpu}, ${m.machine.cores} cores`,
    measuredAt: m.measuredAt,
    macsPerImage: m.macsPerImage,
  };
}

/** "412 ms median · p90 430 ms at batch 1 · 36.6 GMAC/s · onnxruntime-node 1.30.0 (cpu) on AMD EPYC, 2 cores". */
export function latencyText(a: Analysis, m: MeasuredLatency): string {
  const rate = formatMacRate((m.macsPerImage * m.batch) / (m.medianMs / 1000));
  const stale = latencyIsStale(a, m) ? ' · ⚠ measured on another network (its MACs differ): run `dsod latency` again' : '';
  return `${formatLatency(m.medianMs)} median · p90 ${formatLatency(m.p90Ms)} at batch ${m.batch} · ${rate} · ${m.label}, ${m.measuredAt.slice(0, 16).replace('T', ' ')}${stale}`;
}
