// How numbers read in hovers, hints and lenses: exact where it matters, short where space is scarce.
import { formatCount } from '../../core/format';

export const exact = (n: number) => n.toLocaleString('en-US');
export const shape = (s: readonly number[]) => s.join('×');
export const share = (part: number, total: number) => (total > 0 ? `${((100 * part) / total).toFixed(1)}%` : '-');
export const short = formatCount;
export const gmacs = (macs: number) => `${(macs / 1e9).toFixed(2)} GMACs`;

export function shortMacs(macs: number): string {
  if (macs >= 1e9) return `${(macs / 1e9).toFixed(2)} GMACs`;
  if (macs >= 1e6) return `${(macs / 1e6).toFixed(1)} MMACs`;
  return `${exact(macs)} MACs`;
}
