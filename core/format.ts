// How every number the product shows reads: the editor (hints, hovers, lens, status bar), the graph, the run dashboard,
// the report and the CLI all print through these, so one count never reads two ways. No dependencies: safe in any bundle.

/** Exact, grouped: 14,720,441. For the numbers core computed exactly (tooltips, tables, the summary line). */
export function formatExact(n: number): string {
  return n.toLocaleString('en-US');
}

const PREFIXES = ['', 'k', 'M', 'G', 'T'] as const;

/** Three significant digits and the prefix the magnitude calls for (never a lost integer digit): 800, 52.7k, 105M, 14.7M. */
function scaled(n: number): { value: string; prefix: string } {
  let i = 0;
  let v = Math.abs(n);
  while (v >= 999.5 && i < PREFIXES.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v >= 99.95 ? 0 : v >= 9.995 ? 1 : 2;
  const text = i === 0 && Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return { value: `${n < 0 ? '-' : ''}${text}`, prefix: PREFIXES[i] };
}

/** A short count: 800, 52.7k, 1.57M, 14.7M (exact below 1,000 when integral). */
export function formatCount(n: number): string {
  const s = scaled(n);
  return `${s.value}${s.prefix}`;
}

/** Learned parameters, short: "228k params", "800 params". */
export function formatParams(n: number): string {
  return `${formatCount(n)} params`;
}

/** Multiply-accumulates with the unit chosen by magnitude: "52.7 MMACs", "15.1 GMACs", "800 MACs". */
export function formatMacs(macs: number): string {
  const s = scaled(macs);
  return `${s.value} ${s.prefix}MACs`;
}

/** FLOPs (2 × MACs, the DSOD paper's convention) from MACs: "105 MFLOPs". */
export function formatFlops(macs: number): string {
  const s = scaled(2 * macs);
  return `${s.value} ${s.prefix}FLOPs`;
}

/** A length in input pixels, to 2 decimals where it has them: "300", "33.33". */
export function formatPixels(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** Default boxes are few enough to read exactly: "8,744 boxes". */
export function formatBoxes(n: number): string {
  return `${formatExact(n)} box${n === 1 ? '' : 'es'}`;
}

/** A change, signed: "+1.23M", "−340k", "0" (a true minus sign, so that a column of changes reads at a glance). */
export function formatSigned(n: number, unit: (n: number) => string = formatCount): string {
  if (n === 0) return '0';
  return n > 0 ? `+${unit(n)}` : `−${unit(-n)}`;
}

/** A part of a whole: "29.2%"; an en dash when there is no whole to be part of. */
export function formatShare(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '–';
}

/** By how much `value` exceeds `limit`: "12.4% (1.82M)" over a limit of 14.7M. */
export function formatExcess(value: number, limit: number, unit: (n: number) => string = formatCount): string {
  return `${formatShare(value - limit, limit)} (${unit(value - limit)})`;
}

/** A tensor shape (channels × height × width): "800×38×38". `ascii` for plain-text tables: "800x38x38". */
export function formatShape(shape: readonly number[], ascii = false): string {
  return shape.join(ascii ? 'x' : '×');
}

/** Bytes in binary units: "1.50 GiB", "12.3 MiB", "4.0 KiB", "17 B". */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/** A duration, compact: "42s", "14m05s", "3h07m"; an en dash for what is not a duration. */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '–';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A measured latency in milliseconds: "0.84 ms", "12.3 ms", "412 ms", "2.41 s". */
export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)} ms`;
}

/** Achieved multiply-accumulates per second: "38.2 GMAC/s". */
export function formatMacRate(macsPerSecond: number): string {
  const s = scaled(macsPerSecond);
  return `${s.value} ${s.prefix}MAC/s`;
}
