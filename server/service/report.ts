// The analysis report as data (`dsod/report`): the rows `dsod analyze` prints (core/report.ts), with exact numbers,
// shares of the totals, both outputs of every head and the spec range each row came from. The view formats and sorts;
// everything it shows is computed here.
import type { MeasuredLatency, SpecCheck } from '../../core';
import type { Path } from '../../core/diagnostics';
import { PROTOCOL_VERSION, type ReportData, type ReportSource } from '../../protocol/lsp';
import { setAsideText } from './inlay';
import { latencyText } from './latency';

const share = (part: number, whole: number): number => (whole > 0 ? part / whole : 0);

/** The report of a checked spec, or null when it could not be analysed (it has errors). */
export function reportData(c: SpecCheck, uri: string, version: number, batch = 1, latency: MeasuredLatency | null = null): ReportData | null {
  const a = c.analysis;
  if (!a) return null;
  const t = a.totals;
  const source = (path: Path): ReportSource => ({ path, range: c.document.rangeOf(path) });
  const nodes = a.graph.nodes;
  const heads = new Map(a.graph.scales.map((s) => [s.index, { loc: nodes[s.loc].shape, conf: nodes[s.conf].shape }]));
  return {
    protocol: PROTOCOL_VERSION,
    uri,
    version,
    // The file name: the whole URI says nothing more and crowds the header.
    file: decodeURIComponent(uri.replace(/^.*\//, '')),
    partial: c.analysisFrom === 'partial' ? setAsideText(c) : null,
    name: a.spec.name,
    input: { channels: a.spec.input.channels, height: a.spec.input.height, width: a.spec.input.width },
    classes: a.spec.classes.count,
    stages: a.stages
      .filter((s) => s.kind !== 'input')
      .map((s) => ({
        name: s.name,
        kind: s.kind,
        shape: s.shape,
        head: s.kind === 'head' && s.index !== null ? (heads.get(s.index) ?? null) : null,
        paramsLearned: s.paramsLearned,
        paramsShare: share(s.paramsLearned, t.paramsLearned),
        macs: s.macs,
        macsShare: share(s.macs, t.macs),
        receptiveField: s.receptiveField,
        source: source(s.source),
      })),
    scales: a.scales.map((s, i) => {
      const g = a.graph.scales[i];
      return {
        name: s.name,
        shape: s.shape,
        priorsPerLocation: s.priorsPerLocation,
        boxes: s.boxes,
        boxesShare: share(s.boxes, t.defaultBoxes),
        minSize: s.minSize,
        maxSize: s.maxSize,
        aspectRatios: s.aspectRatios,
        step: s.step,
        receptiveField: s.receptiveField,
        boxSides: s.boxSides,
        loc: nodes[g.loc].shape,
        conf: nodes[g.conf].shape,
        source: source(s.source),
      };
    }),
    totals: {
      layers: a.layers.length - 1,
      convLayers: t.convLayers,
      bnLayers: t.bnLayers,
      paramsLearned: t.paramsLearned,
      paramsStored: t.paramsStored,
      bnStatistics: t.bnStatistics,
      macs: t.macs,
      flops: t.flops,
      defaultBoxes: t.defaultBoxes,
      batch,
      activationBytes: t.activationBytesPerImage * batch,
    },
    compare: null,
    latency: latency ? latencyText(a, latency) : null,
  };
}
