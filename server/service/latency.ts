// A `dsod latency` measurement's line in the totals hover.
import { formatLatency, formatMacRate, latencyIsStale, type Analysis, type MeasuredLatency } from '../../core';

/** "412 ms median · p90 430 ms at batch 1 · 36.6 GMAC/s · onnxruntime-node 1.30.0 (cpu) on AMD EPYC, 2 cores". */
export function latencyText(a: Analysis, m: MeasuredLatency): string {
  const rate = formatMacRate((m.macsPerImage * m.batch) / (m.medianMs / 1000));
  const stale = latencyIsStale(a, m) ? ' · ⚠ measured on another network (its MACs differ): run `dsod latency` again' : '';
  return `${formatLatency(m.medianMs)} median · p90 ${formatLatency(m.p90Ms)} at batch ${m.batch} · ${rate} · ${m.label}, ${m.measuredAt.slice(0, 16).replace('T', ' ')}${stale}`;
}
