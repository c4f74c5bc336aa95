/// <reference lib="dom" />
// Line charts on uPlot (bundled, canvas: nothing for the CSP to allow). A chart is made once and then fed: a live
// update appends to the columns it already holds and calls setData, which redraws without building anything. It is
// rebuilt only when its set of series changes (smoothing switched on or off, a run overlaid) or the theme does.
import uPlot from 'uplot';
import { parseColor, type Rgb } from '../graph/colors';

export interface SeriesSpec {
  label: string;
  color: Rgb;
  /** 0..1 (a raw curve under its smoothed one is drawn faint). */
  alpha?: number;
  width?: number;
  dash?: number[];
  points?: boolean;
}

export interface ChartSpec {
  /** Units or what the y axis shows. */
  y: string;
  series: SeriesSpec[];
  /** y from 0 (counts, rates) instead of the data's minimum. */
  fromZero?: boolean;
  /** Logarithmic y (the loss over a long run). */
  log?: boolean;
  height?: number;
  /** How a y value reads in the legend. */
  format?: (v: number) => string;
}

export interface ChartTheme {
  foreground: string;
  grid: string;
}

export type Data = uPlot.AlignedData;

const rgba = (c: Rgb, a = 1) => (a >= 1 ? `rgb(${c.join(',')})` : `rgba(${c.join(',')},${a})`);

/** The theme's colours for the charts, read from the page (VS Code sets them on <html>; report.html on <body>). */
export function readChartTheme(): ChartTheme {
  const style = getComputedStyle(document.body);
  const fg = parseColor(style.getPropertyValue('--vscode-foreground')) ?? [204, 204, 204];
  return { foreground: rgba(fg, 0.85), grid: rgba(fg, 0.12) };
}

export function readColor(name: string, fallback: Rgb): Rgb {
  return parseColor(getComputedStyle(document.body).getPropertyValue(name)) ?? fallback;
}

/** Tick spacings of the step axis: 1, 2, 5, 10, 20, 50, ... 5e7. */
const STEP_INCREMENTS = Array.from({ length: 24 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

const key = (s: ChartSpec) => JSON.stringify([s.y, s.log, s.fromZero, s.series.map((x) => [x.label, x.color, x.alpha, x.width, x.dash, x.points])]);

export class LineChart {
  private u: uPlot | null = null;
  private specKey = '';
  private width = 0;
  /** Charts built so far (the benchmark's peer builds one per event). */
  builds = 0;

  constructor(
    readonly root: HTMLElement,
    private spec: ChartSpec,
    private theme: ChartTheme,
  ) {}

  get plot(): uPlot | null {
    return this.u;
  }

  /** Change the series or the theme: the chart is rebuilt on the next setData. */
  configure(spec: ChartSpec, theme: ChartTheme = this.theme): void {
    if (key(spec) !== this.specKey || theme !== this.theme) {
      this.spec = spec;
      this.theme = theme;
      this.destroy();
    }
  }

  /** Draw these columns (x first). The same arrays may be passed again after they grew: that is the live path. */
  setData(data: Data): void {
    this.mark(data);
    const width = this.root.clientWidth || 400;
    if (!this.u) {
      this.build(data, width);
      return;
    }
    if (width !== this.width) {
      this.width = width;
      this.u.setSize({ width, height: this.spec.height ?? 200 });
    }
    this.u.setData(data);
  }

  /** The peer of the live path: a new chart from scratch (what a naive page does per event). */
  rebuild(data: Data): void {
    this.mark(data);
    this.destroy();
    this.build(data.map((c) => Array.from(c as ArrayLike<number | null>)) as unknown as Data, this.root.clientWidth || 400);
  }

  /** What is drawn, on the element (tests and the benchmark read it; two attributes per draw cost nothing). */
  private mark(data: Data): void {
    this.root.dataset.points = String(data[0].length);
    this.root.dataset.series = String(data.length - 1);
  }

  resize(): void {
    const width = this.root.clientWidth;
    if (this.u && width && width !== this.width) {
      this.width = width;
      this.u.setSize({ width, height: this.spec.height ?? 200 });
    }
  }

  private build(data: Data, width: number): void {
    const s = this.spec;
    const t = this.theme;
    const axis = (label: string): uPlot.Axis => ({
      stroke: t.foreground,
      grid: { stroke: t.grid, width: 1 },
      ticks: { stroke: t.grid, width: 1 },
      label,
      labelSize: 18,
      font: '11px system-ui, sans-serif',
      labelFont: '11px system-ui, sans-serif',
    });
    const fmt = s.format ?? ((v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3)));
    const opts: uPlot.Options = {
      width,
      height: s.height ?? 200,
      scales: {
        x: { time: false },
        y: s.log ? { distr: 3 } : s.fromZero ? { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } : {},
      },
      // Steps are whole numbers: ticks at 1, 2, 5, 10, 20, 50... (uPlot's default steps would give 2.5, 7.5 on a short run).
      axes: [
        { ...axis('step'), incrs: STEP_INCREMENTS },
        { ...axis(s.y), size: 56 },
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 5 } },
      series: [
        { label: 'step', value: (_u, v) => (v === null || v === undefined ? '–' : String(v)) },
        ...s.series.map((x): uPlot.Series => ({
          label: x.label,
          stroke: rgba(x.color, x.alpha ?? 1),
          width: x.width ?? 1.5,
          dash: x.dash,
          spanGaps: true,
          points: { show: x.points ?? false, size: 5, fill: rgba(x.color, x.alpha ?? 1) },
          value: (_u, v) => (v === null || v === undefined ? '–' : fmt(v)),
        })),
      ],
    };
    this.root.replaceChildren();
    this.u = new uPlot(opts, data, this.root);
    this.specKey = key(s);
    this.width = width;
    this.builds++;
  }

  destroy(): void {
    this.u?.destroy();
    this.u = null;
    this.specKey = '';
  }
}
