/// <reference lib="dom" />
// The run dashboard page: what it shows of the run model (model.ts) and how it keeps up. Host messages are applied to
// the model at once and mark the parts they changed; one animation frame later only those parts are drawn. A live
// event costs a push into the columns the charts already hold and a setData per chart, never a new chart.
import type { CheckpointFile, DashboardHostMessage, GalleryData, MetricRecordData, PrCurvesData, RunSnapshot, RunSummary } from '../../protocol/dashboard';
import { formatDuration, formatExact } from '../../core/format';
import type { MetricName } from '../../protocol/engine-events';
import type { Rgb } from '../graph/colors';
import { alignColumns } from './align';
import { LineChart, readChartTheme, readColor, type ChartSpec, type ChartTheme, type Data, type SeriesSpec } from './charts';
import { GalleryView } from './gallery';
import type { Host, SavedState } from './host';
import { Ema, METRIC_LABELS, RunModel, shownState, smooth, STATE_TEXT, type CheckpointInfo, type Liveness, type RunState } from './model';
import { classCurves, drawCurve, type CocoRow } from './prcurves';
import { apRows, sortRows, type SortKey } from './rows';

type Part = 'header' | 'loss' | 'lr' | 'speed' | 'map' | 'table' | 'pr' | 'checkpoints' | 'doctor' | 'processes' | 'gallery' | 'runs' | 'logs' | 'spec';
const ALL_PARTS: Part[] = ['header', 'loss', 'lr', 'speed', 'map', 'table', 'pr', 'checkpoints', 'doctor', 'processes', 'gallery', 'runs', 'logs', 'spec'];

export interface ViewOptions {
  /** The benchmark's peer: every chart rebuilt from scratch on every draw. */
  rebuild: boolean;
  /** report.html: no host to act, no live updates, no run list. */
  report: boolean;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string>, parent?: HTMLElement, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  parent?.append(e);
  return e;
}

const fmtNum = (v: number | null | undefined, digits = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const fmtBytes = (n: number) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`);
const baseName = (p: string) => p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '–';
  const s = (now - Date.parse(iso)) / 1000;
  return s < 1.5 ? 'just now' : `${formatDuration(s)} ago`;
}
const localTime = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '–');

/** The page's colours, read from the theme. */
interface Colors {
  theme: ChartTheme;
  total: Rgb;
  loc: Rgb;
  conf: Rgb;
  lr: Rgb;
  speed: Rgb;
  /** Overlaid runs and extra metrics, in order. */
  others: Rgb[];
  /** Classes, in order. */
  classes: Rgb[];
}

function readColors(): Colors {
  const blue = readColor('--vscode-charts-blue', [55, 148, 255]);
  const orange = readColor('--vscode-charts-orange', [209, 134, 22]);
  const green = readColor('--vscode-charts-green', [137, 209, 133]);
  const purple = readColor('--vscode-charts-purple', [177, 128, 215]);
  const yellow = readColor('--vscode-charts-yellow', [204, 167, 0]);
  const red = readColor('--vscode-charts-red', [241, 76, 76]);
  const extra: Rgb[] = [
    [0, 170, 170],
    [230, 100, 170],
    [140, 140, 255],
    [150, 200, 60],
    [255, 140, 90],
    [120, 180, 230],
  ];
  return {
    theme: readChartTheme(),
    total: blue,
    loc: orange,
    conf: green,
    lr: purple,
    speed: yellow,
    others: [purple, yellow, red, ...extra],
    classes: [blue, orange, green, purple, yellow, red, ...extra],
  };
}

interface Section {
  root: HTMLElement;
  note: HTMLElement;
  body: HTMLElement;
  extra: HTMLElement;
}

export class DashboardView {
  private model: RunModel | null = null;
  private readonly overlays = new Map<string, RunModel>();
  private readonly overlaySmooth = new Map<string, { weight: number; n: number; values: number[] }>();
  private live = false;
  /** A live process held the run's lock at the last read (engine/train/run-lock.ts). */
  private training = false;
  private readAt: string | null = null;
  private curves: PrCurvesData | null = null;
  private galleryData: GalleryData | null = null;
  private weights = false;
  private runs: RunSummary[] = [];
  private runsRoot: string | null = null;
  private spec: string | null = null;
  private skipped = 0;
  private thinned = 0;
  private statusText = '';
  private selectedClass: string | null = null;
  private readonly requested = new Set<string>();

  private readonly dirty = new Set<Part>();
  private frame = 0;
  /** Milliseconds spent applying messages not drawn yet, and how many. */
  private work = 0;
  private renders = 0;

  // The smoothed loss columns, extended as points arrive.
  private sm = { loss: [] as number[], loc: [] as number[], conf: [] as number[] };
  private ema = { loss: new Ema(0), loc: new Ema(0), conf: new Ema(0) };
  private smWeight = -1;

  private colors: Colors;
  private readonly classColor = new Map<string, Rgb>();
  private readonly charts: { loss: LineChart; lr: LineChart; speed: LineChart; map: LineChart };
  private readonly gallery: GalleryView;
  private readonly e: Record<string, HTMLElement> = {};
  private readonly sections: Record<string, Section> = {};

  constructor(
    private readonly host: Host,
    private readonly state: SavedState,
    private readonly o: ViewOptions,
  ) {
    this.colors = readColors();
    this.buildHeader();
    const main = el('main', {}, document.body);
    const sec = (id: string, title: string, wide = false): Section => {
      const root = el('section', { id: `section-${id}`, class: wide ? 'wide' : '' }, main);
      const h = el('h2', {}, root, title);
      const extra = el('span', { class: 'muted' }, h);
      const note = el('div', { class: 'empty-note' }, root);
      const body = el('div', {}, root);
      const s = { root, note, body, extra };
      this.sections[id] = s;
      return s;
    };
    const chartHost = (s: Section, id: string) => el('div', { class: 'chart', id: `chart-${id}` }, s.body);
    const theme = this.colors.theme;
    this.charts = {
      loss: new LineChart(chartHost(sec('loss', 'Loss'), 'loss'), this.lossSpec(), theme),
      lr: new LineChart(chartHost(sec('lr', 'Learning rate'), 'lr'), this.lrSpec(), theme),
      map: new LineChart(chartHost(sec('map', 'Mean average precision'), 'map'), this.mapSpec([]), theme),
      speed: new LineChart(chartHost(sec('speed', 'Throughput'), 'speed'), this.speedSpec(), theme),
    };
    const table = sec('table', 'Per-class AP');
    this.e.apTable = el('table', { id: 'ap-table' }, table.body);
    const pr = sec('pr', 'Precision-recall curves');
    this.buildPrControls(pr);
    this.e.pr = el('div', { id: 'pr-curves' }, pr.body);
    const gallery = sec('gallery', 'Detections', true);
    this.buildGalleryControls(gallery);
    this.gallery = new GalleryView(el('div', { id: 'gallery-grid' }, gallery.body));
    const cps = sec('checkpoints', 'Checkpoints');
    this.e.checkpoints = el('table', { id: 'checkpoints' }, cps.body);
    const doctor = sec('doctor', 'Backend');
    this.e.doctor = el('div', { id: 'doctor' }, doctor.body);
    const procs = sec('processes', 'Processes');
    this.e.processes = el('table', { id: 'processes' }, procs.body);
    const runs = sec('runs', 'Runs', true);
    this.buildRunsControls(runs);
    this.e.runs = el('table', { id: 'runs' }, runs.body);
    if (o.report) runs.root.hidden = true;
    const logs = sec('logs', 'Log');
    this.e.logs = el('div', { id: 'logs' }, logs.body);
    const spec = sec('spec', 'Spec as trained');
    this.e.spec = el('pre', { class: 'spec', id: 'spec' }, spec.body);

    new ResizeObserver(() => {
      for (const c of Object.values(this.charts)) c.resize();
    }).observe(main);
    // "last event 3 s ago" stays true without a message.
    setInterval(() => this.drawLiveLine(), 1000);
    for (const p of ALL_PARTS) this.dirty.add(p);
    this.schedule();
  }

  // --- skeleton -------------------------------------------------------------------------------------------------------

  private buildHeader(): void {
    const header = el('header', { id: 'run-header' }, document.body);
    // What is scrolled into view (a section, the curve of a class picked in the table) lands below the sticky header.
    new ResizeObserver(() => (document.documentElement.style.scrollPaddingTop = `${header.offsetHeight + 8}px`)).observe(header);
    const top = el('div', { class: 'row' }, header);
    this.e.name = el('span', { id: 'run-name' }, top, 'DSOD run');
    this.e.state = el('span', { id: 'run-state', class: 'badge empty' }, top, 'waiting');
    this.e.dir = el('span', { id: 'run-dir' }, top);
    const facts = el('div', { class: 'row num', id: 'run-facts' }, header);
    const fact = (id: string, label: string) => {
      const s = el('span', {}, facts, `${label} `);
      return el('b', { id }, s, '–');
    };
    this.e.step = fact('run-step', 'step');
    this.e.epoch = fact('run-epoch', 'epoch');
    this.e.loss = fact('run-loss', 'loss');
    this.e.speed = fact('run-speed', 'img/s');
    this.e.elapsed = fact('run-elapsed', 'trained');
    this.e.eta = fact('run-eta', 'ETA');
    this.e.metric = fact('run-metric', 'mAP');
    this.e.backend = fact('run-backend', 'backend');
    const bar = el('div', { class: 'toolbar' }, header);
    const label = el('label', { title: 'Exponential moving average of the loss curves; the raw curve stays drawn, faint' }, bar, 'Smoothing ');
    const slider = el('input', { type: 'range', id: 'smoothing', min: '0', max: '0.99', step: '0.01', value: String(this.state.smoothing) }, label);
    const value = el('span', { class: 'num', id: 'smoothing-value' }, label, this.state.smoothing.toFixed(2));
    slider.addEventListener('input', () => {
      this.state.smoothing = Number(slider.value);
      value.textContent = this.state.smoothing.toFixed(2);
      this.save();
      this.markAndDraw(['loss']);
    });
    this.e.overlays = el('span', { class: 'chips', id: 'overlays' }, bar);
    this.e.live = el('span', { class: 'muted', id: 'run-live' }, bar);
    this.e.status = el('span', { id: 'status' }, bar);
  }

  private buildPrControls(s: Section): void {
    const label = el('label', { id: 'pr-coco', hidden: '' }, s.extra, ' COCO IoU ');
    const select = el('select', { id: 'pr-iou' }, label);
    for (const [v, t] of [
      ['mean', '0.5:0.95'],
      ['50', '0.5'],
      ['75', '0.75'],
    ])
      el('option', { value: v }, select, t);
    select.value = this.state.cocoIou;
    select.addEventListener('change', () => {
      this.state.cocoIou = select.value as CocoRow;
      this.save();
      this.markAndDraw(['pr']);
    });
    this.e.prCoco = label;
  }

  private buildGalleryControls(s: Section): void {
    const bar = el('div', { class: 'toolbar' }, s.root);
    s.root.insertBefore(bar, s.note);
    const label = el('label', { title: 'Show predicted boxes scoring at least this' }, bar, 'Score ≥ ');
    const slider = el('input', { type: 'range', id: 'threshold', min: '0', max: '1', step: '0.01', value: '0.3' }, label);
    this.e.thresholdValue = el('span', { class: 'num', id: 'threshold-value' }, label, '0.30');
    slider.addEventListener('input', () => {
      this.state.threshold = Number(slider.value);
      this.save();
      this.applyThreshold();
    });
    this.e.threshold = slider;
    const truth = el('label', { title: 'Draw the ground truth beside each image, where the set has it' }, bar);
    const box = el('input', { type: 'checkbox', id: 'truth-toggle' }, truth);
    (box as HTMLInputElement).checked = this.state.truth;
    truth.append(' ground truth beside');
    box.addEventListener('change', () => {
      this.state.truth = (box as HTMLInputElement).checked;
      this.save();
      this.gallery.setTruth(this.state.truth);
    });
    this.e.galleryCount = el('span', { class: 'muted num', id: 'gallery-count' }, bar);
  }

  private buildRunsControls(s: Section): void {
    this.e.runsRoot = el('span', { class: 'path' }, s.extra);
    s.extra.append(' ');
    const b = el('button', { type: 'button', id: 'runs-refresh', title: 'List the runs of the run root again' }, s.extra, 'Refresh');
    b.addEventListener('click', () => this.host.post({ type: 'listRuns' }));
  }

  // --- messages -------------------------------------------------------------------------------------------------------

  /** Apply a validated host message; `t0` is when it arrived (its handling counts toward the next draw's cost). */
  apply(m: DashboardHostMessage, t0: number): void {
    switch (m.type) {
      case 'snapshot':
        if (m.role === 'main') this.setMain(m.run, m.live);
        else this.addOverlay(m.run);
        break;
      case 'events': {
        const model = this.model;
        if (!model || m.runDir !== model.runDir) break;
        const c = model.addAll(m.events);
        this.skipped += m.skipped;
        // The processes table too: its running process's "steps" column (14 → 20) follows the progress.
        if (c.progress || c.purged) this.dirty.add('loss').add('lr').add('speed').add('header').add('processes');
        if (c.processes) this.dirty.add('processes').add('doctor').add('header').add('speed');
        if (c.checkpoints) this.dirty.add('checkpoints');
        if (c.evaluations) this.dirty.add('map').add('table').add('header');
        if (c.logs) this.dirty.add('logs');
        break;
      }
      case 'artifacts':
        if (!this.model || m.runDir !== this.model.runDir) break;
        this.setArtifacts(m.metrics, m.curves, m.gallery, m.checkpoints, m.weights, m.training);
        break;
      case 'runs':
        this.runs = m.runs;
        this.runsRoot = m.root;
        this.dirty.add('runs');
        this.requestSavedOverlays();
        break;
      case 'live':
        if (this.model && m.runDir === this.model.runDir) this.live = m.live;
        this.dirty.add('header');
        break;
      case 'status':
        this.statusText = m.message;
        this.dirty.add('header');
        break;
    }
    this.work += performance.now() - t0;
    this.schedule();
  }

  private setMain(run: RunSnapshot, live: boolean): void {
    const switched = this.model?.runDir !== run.runDir;
    const model = new RunModel(run.runDir, run.name);
    model.addAll(run.events);
    this.model = model;
    this.live = live;
    this.readAt = run.readAt;
    this.spec = run.spec;
    this.skipped = run.skipped;
    this.thinned = run.thinned;
    this.smWeight = -1; // recompute the smoothed columns
    this.overlays.delete(run.runDir);
    if (switched) {
      this.state.runDir = run.runDir;
      this.selectedClass = null;
      this.save();
    }
    this.setArtifacts(run.metrics, run.curves, run.gallery, run.checkpoints, run.weights, run.training);
    for (const p of ALL_PARTS) this.dirty.add(p);
  }

  private setArtifacts(
    metrics: MetricRecordData[],
    curves: PrCurvesData | null,
    gallery: GalleryData | null,
    checkpoints: CheckpointFile[],
    weights: boolean,
    training: boolean,
  ): void {
    if (training !== this.training) this.dirty.add('processes');
    this.training = training;
    const model = this.model!;
    model.setMetricRecords(metrics);
    model.setCheckpointFiles(checkpoints);
    if (JSON.stringify(curves) !== JSON.stringify(this.curves)) this.dirty.add('pr');
    this.curves = curves;
    if ((gallery?.stamp ?? null) !== (this.galleryData?.stamp ?? null)) this.dirty.add('gallery');
    this.galleryData = gallery;
    this.weights = weights;
    this.dirty.add('checkpoints').add('map').add('table').add('header');
  }

  private addOverlay(run: RunSnapshot): void {
    if (run.runDir === this.model?.runDir) return;
    const m = new RunModel(run.runDir, run.name);
    m.addAll(run.events);
    m.setMetricRecords(run.metrics);
    this.overlays.set(run.runDir, m);
    if (!this.state.overlays.includes(run.runDir)) {
      this.state.overlays.push(run.runDir);
      this.save();
    }
    this.dirty.add('loss').add('map').add('runs').add('header');
  }

  private removeOverlay(runDir: string): void {
    this.overlays.delete(runDir);
    this.overlaySmooth.delete(runDir);
    this.requested.delete(runDir);
    this.state.overlays = this.state.overlays.filter((r) => r !== runDir);
    this.save();
    this.markAndDraw(['loss', 'map', 'runs', 'header']);
  }

  /** Overlays saved before a reload come back once the runs are listed (the host only sends runs it lists). */
  private requestSavedOverlays(): void {
    for (const r of this.state.overlays) {
      if (this.overlays.has(r) || this.requested.has(r) || r === this.model?.runDir) continue;
      if (!this.runs.some((x) => x.runDir === r)) continue;
      this.requested.add(r);
      this.host.post({ type: 'overlay', runDir: r });
    }
  }

  /** The theme changed: colours are read again and the charts rebuilt. */
  themeChanged(): void {
    this.colors = readColors();
    this.classColor.clear();
    for (const p of ALL_PARTS) this.dirty.add(p);
    this.schedule();
  }

  private save(): void {
    this.host.setState(this.state);
  }

  // --- drawing --------------------------------------------------------------------------------------------------------

  private markAndDraw(parts: Part[]): void {
    for (const p of parts) this.dirty.add(p);
    this.schedule();
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = 0;
    const t0 = performance.now();
    const parts = [...this.dirty];
    this.dirty.clear();
    for (const p of parts) {
      try {
        this.drawPart(p);
      } catch (e) {
        this.host.post({ type: 'log', level: 'error', message: `drawing ${p} failed: ${(e as Error).message}`.slice(0, 4000) });
      }
    }
    const work = this.work;
    this.work = 0;
    // uPlot draws its canvases in a microtask after setData; this one runs after them, so `ms` includes the drawing.
    queueMicrotask(() => {
      const ms = work + (performance.now() - t0);
      this.renders++;
      document.body.dataset.rendered = String(this.renders);
      document.body.dataset.events = String(this.model?.events ?? 0);
      if (this.model) this.host.post({ type: 'rendered', runDir: this.model.runDir, events: this.model.events, step: this.model.step, ms });
    });
  }

  private drawPart(p: Part): void {
    switch (p) {
      case 'header':
        return this.drawHeader();
      case 'loss':
        return this.drawLoss();
      case 'lr':
        return this.drawSimple('lr');
      case 'speed':
        return this.drawSimple('speed');
      case 'map':
        return this.drawMap();
      case 'table':
        return this.drawTable();
      case 'pr':
        return this.drawPr();
      case 'checkpoints':
        return this.drawCheckpoints();
      case 'doctor':
        return this.drawDoctor();
      case 'processes':
        return this.drawProcesses();
      case 'gallery':
        return this.drawGallery();
      case 'runs':
        return this.drawRuns();
      case 'logs':
        return this.drawLogs();
      case 'spec':
        return this.drawSpec();
    }
  }

  /** Empty sections say why; drawn ones lose the note. */
  private note(id: string, text: string | null): void {
    const s = this.sections[id];
    s.note.textContent = text ?? '';
    s.note.hidden = text === null;
    s.body.hidden = text !== null;
  }

  private liveness(): Liveness {
    return { training: this.training, following: this.live };
  }

  private displayState(): RunState {
    const m = this.model;
    if (!m) return 'empty';
    return m.shownState(this.liveness());
  }

  private drawHeader(): void {
    const m = this.model;
    this.e.name.textContent = m?.name ?? 'DSOD run';
    this.e.dir.textContent = m?.runDir ?? '';
    const state = this.displayState();
    this.e.state.className = `badge ${state}`;
    this.e.state.textContent = m ? STATE_TEXT[state] : 'waiting for the run';
    const p = m?.lastProgress ?? null;
    this.e.step.textContent = m?.step !== null && m?.step !== undefined ? `${formatExact(m.step)}${m.steps ? ` / ${formatExact(m.steps)}` : ''}` : '–';
    this.e.epoch.textContent = p ? p.epoch.toFixed(2) : '–';
    this.e.loss.textContent = p ? `${p.loss.toFixed(3)} (loc ${p.parts.loc.toFixed(3)}, conf ${p.parts.conf.toFixed(3)})` : '–';
    this.e.speed.textContent = p ? p.imgPerSec.toFixed(1) : '–';
    this.e.elapsed.textContent = p ? formatDuration(p.elapsedSec) : '–';
    const eta = state === 'running' ? (m?.etaSec ?? null) : null;
    this.e.eta.textContent = eta !== null ? formatDuration(eta) : state === 'running' ? 'measuring…' : '–';
    const latest = m?.latestEvaluation ?? null;
    this.e.metric.textContent = latest
      ? `${latest.value.toFixed(4)} (${METRIC_LABELS[latest.metric]}${latest.step !== null ? ` at step ${latest.step}` : ''})`
      : '–';
    const d = m?.doctor ?? null;
    this.e.backend.textContent = d ? d.chosen : '–';
    const problems: string[] = [];
    if (this.statusText) problems.push(this.statusText);
    const fatal = m?.errors.filter((x) => x.fatal).at(-1);
    if (fatal && state === 'failed') problems.push(`${fatal.code}: ${fatal.message}`);
    if (this.skipped) problems.push(`${this.skipped} lines of events.jsonl were not valid events and are left out`);
    this.e.status.textContent = problems.join(' · ');
    this.drawOverlayChips();
    this.drawLiveLine();
  }

  private drawLiveLine(): void {
    const m = this.model;
    if (!m) {
      this.e.live.textContent = '';
      return;
    }
    if (this.o.report) {
      this.e.live.textContent = `report written ${localTime(this.readAt)}${this.thinned ? ` · ${this.thinned} progress points thinned` : ''}`;
      return;
    }
    this.e.live.textContent = this.live ? `following · last event ${ago(m.lastEventTime)}` : 'not following';
  }

  private drawOverlayChips(): void {
    const box = this.e.overlays;
    box.replaceChildren();
    if (!this.overlays.size) return;
    el('span', { class: 'muted' }, box, 'Compared with:');
    [...this.overlays.values()].forEach((o, i) => {
      const chip = el('span', { class: 'chip', 'data-run': o.runDir, title: o.runDir }, box);
      const sw = el('span', { class: 'swatch' }, chip);
      sw.style.borderColor = `rgb(${this.colors.others[i % this.colors.others.length].join(',')})`;
      el('span', {}, chip, o.name === this.model?.name ? baseName(o.runDir) : o.name);
      const x = el('button', { type: 'button', title: 'Stop comparing', 'aria-label': `stop comparing ${o.name}` }, chip, '✕');
      x.addEventListener('click', () => this.removeOverlay(o.runDir));
    });
  }

  // --- charts ---------------------------------------------------------------------------------------------------------

  private lossSpec(): ChartSpec {
    const c = this.colors;
    const w = this.state.smoothing;
    const series: SeriesSpec[] = [];
    const parts: [string, Rgb][] = [
      ['total', c.total],
      ['loc', c.loc],
      ['conf', c.conf],
    ];
    if (w > 0) {
      for (const [n, col] of parts) series.push({ label: `${n} (raw)`, color: col, alpha: 0.35, width: 1 });
      for (const [n, col] of parts) series.push({ label: n, color: col, width: 2 });
    } else for (const [n, col] of parts) series.push({ label: n, color: col, width: 1.5 });
    [...this.overlays.values()].forEach((o, i) => {
      const col = c.others[i % c.others.length];
      const name = this.overlayName(o);
      if (w > 0) series.push({ label: `${name} (raw)`, color: col, alpha: 0.25, width: 1, dash: [5, 4] });
      series.push({ label: `${name} total`, color: col, width: 2, dash: [5, 4] });
    });
    return { y: 'loss', series, fromZero: true, height: 240, format: (v) => v.toFixed(3) };
  }

  private lrSpec(): ChartSpec {
    return { y: 'learning rate', series: [{ label: 'lr', color: this.colors.lr, width: 1.5 }], fromZero: true, height: 170, format: (v) => v.toPrecision(3) };
  }

  private speedSpec(): ChartSpec {
    return { y: 'images / s', series: [{ label: 'img/s', color: this.colors.speed, width: 1.5 }], fromZero: true, height: 170, format: (v) => v.toFixed(1) };
  }

  private mapSpec(series: SeriesSpec[]): ChartSpec {
    return { y: 'mAP', series, fromZero: true, height: 200, format: (v) => v.toFixed(4) };
  }

  private overlayName(o: RunModel): string {
    return o.name === this.model?.name ? baseName(o.runDir) : o.name;
  }

  /** Extend (or, after a purge or a new weight, recompute) the smoothed loss columns. */
  private syncSmoothed(): void {
    const s = this.model!.series;
    const w = this.state.smoothing;
    if (w !== this.smWeight || this.sm.loss.length > s.step.length) {
      this.smWeight = w;
      this.sm = { loss: [], loc: [], conf: [] };
      this.ema = { loss: new Ema(w), loc: new Ema(w), conf: new Ema(w) };
    }
    for (let i = this.sm.loss.length; i < s.step.length; i++) {
      this.sm.loss.push(this.ema.loss.push(s.loss[i]));
      this.sm.loc.push(this.ema.loc.push(s.loc[i]));
      this.sm.conf.push(this.ema.conf.push(s.conf[i]));
    }
  }

  private overlaySmoothed(o: RunModel): number[] {
    const w = this.state.smoothing;
    const cached = this.overlaySmooth.get(o.runDir);
    if (cached && cached.weight === w && cached.n === o.series.step.length) return cached.values;
    const values = smooth(o.series.loss, w);
    this.overlaySmooth.set(o.runDir, { weight: w, n: o.series.step.length, values });
    return values;
  }

  private feed(chart: LineChart, data: Data): void {
    if (this.o.rebuild) chart.rebuild(data);
    else chart.setData(data);
  }

  private drawLoss(): void {
    const m = this.model;
    const chart = this.charts.loss;
    chart.configure(this.lossSpec(), this.colors.theme);
    if (!m || (!m.series.step.length && !this.overlays.size)) {
      this.note('loss', m ? 'No training steps yet.' : 'Waiting for the run…');
      return;
    }
    this.note('loss', null);
    this.syncSmoothed();
    const s = m.series;
    const w = this.state.smoothing;
    const mainCols = w > 0 ? [s.loss, s.loc, s.conf, this.sm.loss, this.sm.loc, this.sm.conf] : [s.loss, s.loc, s.conf];
    this.sections.loss.extra.textContent = s.step.length ? `${formatExact(s.step.length)} steps${w > 0 ? ` · smoothed ${w.toFixed(2)}` : ''}` : '';
    if (!this.overlays.size) {
      // The live path: the model's own columns, grown in place.
      this.feed(chart, [s.step, ...mainCols] as Data);
      return;
    }
    const sets = [{ x: s.step, ys: mainCols }];
    for (const o of this.overlays.values()) sets.push({ x: o.series.step, ys: w > 0 ? [o.series.loss, this.overlaySmoothed(o)] : [o.series.loss] });
    const a = alignColumns(sets);
    this.feed(chart, [a.x, ...a.ys] as Data);
  }

  private drawSimple(which: 'lr' | 'speed'): void {
    const m = this.model;
    const chart = this.charts[which];
    chart.configure(which === 'lr' ? this.lrSpec() : this.speedSpec(), this.colors.theme);
    if (!m || !m.series.step.length) {
      this.note(which, m ? 'No training steps yet.' : 'Waiting for the run…');
      return;
    }
    this.note(which, null);
    const s = m.series;
    if (which === 'speed') {
      const last = s.imgPerSec[s.imgPerSec.length - 1];
      this.sections.speed.extra.textContent = `${last.toFixed(1)} images/s now${m.etaSec !== null ? ` · ETA ${formatDuration(m.etaSec)}` : ''}`;
    } else this.sections.lr.extra.textContent = `${s.lr[s.lr.length - 1].toPrecision(3)} now`;
    this.feed(chart, [s.step, which === 'lr' ? s.lr : s.imgPerSec] as Data);
  }

  private drawMap(): void {
    const m = this.model;
    const c = this.colors;
    const sets: { x: number[]; ys: number[][] }[] = [];
    const series: SeriesSpec[] = [];
    const names: MetricName[] = m?.metricNames ?? [];
    names.forEach((name, i) => {
      const ser = m!.metricSeries(name);
      if (!ser.step.length) return;
      sets.push({ x: ser.step, ys: [ser.value] });
      series.push({ label: METRIC_LABELS[name], color: i === 0 ? c.total : c.others[(i + 3) % c.others.length], width: 2, points: true });
    });
    [...this.overlays.values()].forEach((o, i) => {
      const name = o.metricNames[0];
      if (!name) return;
      const ser = o.metricSeries(name);
      if (!ser.step.length) return;
      sets.push({ x: ser.step, ys: [ser.value] });
      series.push({ label: `${this.overlayName(o)} ${name}`, color: c.others[i % c.others.length], width: 2, dash: [5, 4], points: true });
    });
    const chart = this.charts.map;
    chart.configure(this.mapSpec(series), c.theme);
    const evals = m?.evaluations.length ?? 0;
    this.sections.map.extra.textContent = evals ? `${evals} evaluation${evals === 1 ? '' : 's'}` : '';
    if (!sets.length) {
      this.note(
        'map',
        evals ? 'The evaluations have no step to draw against.' : 'No evaluation yet: the run evaluates at its checkpoints, or run DSOD: Evaluate.',
      );
      return;
    }
    this.note('map', null);
    const a = alignColumns(sets);
    this.feed(chart, [a.x, ...a.ys] as Data);
  }

  // --- tables ---------------------------------------------------------------------------------------------------------

  private drawTable(): void {
    const m = this.model;
    const latest = m?.latestEvaluation ?? null;
    const t = this.e.apTable;
    t.replaceChildren();
    if (!latest) {
      this.note('table', 'No evaluation yet.');
      this.sections.table.extra.textContent = '';
      return;
    }
    this.note('table', null);
    const prev = m!.previousEvaluation;
    this.sections.table.extra.textContent = `${METRIC_LABELS[latest.metric]} ${latest.value.toFixed(4)}${latest.step !== null ? ` · step ${latest.step}` : ''} · ${latest.images} images (${latest.split})`;
    const rows = sortRows(apRows(latest, prev, this.curves), this.state.sortKey, this.state.sortDir);
    const head = el('tr', {}, el('thead', {}, t));
    const cols: [SortKey, string, string][] = [
      ['name', 'class', ''],
      ['ap', 'AP', 'r'],
      ['delta', prev ? `Δ since step ${prev.step}` : 'Δ', 'r'],
      ['positives', 'objects', 'r'],
    ];
    for (const [key, label, cls] of cols) {
      const th = el('th', { class: cls, 'aria-sort': this.state.sortKey === key ? (this.state.sortDir === 'asc' ? 'ascending' : 'descending') : 'none' }, head);
      const b = el('button', { type: 'button', class: 'sort', 'data-key': key }, th, label);
      if (this.state.sortKey === key) b.dataset.dir = this.state.sortDir;
      b.addEventListener('click', () => {
        if (this.state.sortKey === key) this.state.sortDir = this.state.sortDir === 'asc' ? 'desc' : 'asc';
        else {
          this.state.sortKey = key;
          this.state.sortDir = key === 'name' ? 'asc' : 'desc';
        }
        this.save();
        this.markAndDraw(['table']);
      });
    }
    el('th', {}, head, '');
    const body = el('tbody', {}, t);
    const maxAp = Math.max(1e-9, ...rows.map((r) => r.ap ?? 0));
    for (const r of rows) {
      const tr = el('tr', { 'data-class': r.name, class: r.name === this.selectedClass ? 'selected' : '' }, body);
      el('td', {}, tr, r.name);
      el('td', { class: 'r num' }, tr, fmtNum(r.ap));
      const d = el('td', { class: `r num delta ${r.delta === null ? '' : r.delta > 0 ? 'up' : r.delta < 0 ? 'down' : ''}` }, tr);
      d.textContent = r.delta === null ? '–' : `${r.delta >= 0 ? '+' : ''}${r.delta.toFixed(4)}`;
      el('td', { class: 'r num' }, tr, r.positives === null ? '–' : String(r.positives));
      const barCell = el('td', {}, tr);
      const bar = el('span', { class: 'bar' }, barCell);
      bar.style.width = `${Math.round((100 * (r.ap ?? 0)) / maxAp)}px`;
      tr.addEventListener('click', () => this.selectClass(r.name));
    }
  }

  private selectClass(name: string): void {
    this.selectedClass = this.selectedClass === name ? null : name;
    this.e.apTable.querySelectorAll<HTMLElement>('tbody tr').forEach((tr) => tr.classList.toggle('selected', tr.dataset.class === this.selectedClass));
    this.e.pr.querySelectorAll<HTMLElement>('.pr').forEach((d) => d.classList.toggle('selected', d.dataset.class === this.selectedClass));
    const target = this.e.pr.querySelector<HTMLElement>(`.pr.selected`);
    target?.scrollIntoView({ block: 'nearest' });
  }

  private colorOf(name: string): Rgb {
    let c = this.classColor.get(name);
    if (!c) {
      c = this.colors.classes[this.classColor.size % this.colors.classes.length];
      this.classColor.set(name, c);
    }
    return c;
  }

  /** Classes coloured in the order of the latest evaluation (the table, the curves and the gallery agree). */
  private seedClassColors(): void {
    const names = this.model?.latestEvaluation?.perClass.map((c) => c.name) ?? [];
    for (const n of names) this.colorOf(n);
  }

  private drawPr(): void {
    this.seedClassColors();
    const metric = this.model?.latestEvaluation?.metric ?? null;
    const cc = classCurves(this.curves, metric, this.state.cocoIou);
    this.e.prCoco.hidden = !(this.curves?.coco && (metric === 'coco' || !this.curves.voc));
    this.e.pr.replaceChildren();
    if (!cc) {
      this.note('pr', 'No precision-recall curves yet (pr-curves.json is written by each evaluation).');
      this.sections.pr.extra.textContent = '';
      return;
    }
    this.note('pr', null);
    this.sections.pr.extra.textContent = `latest evaluation · ${cc.kind} · dashed: interpolated · title: AP, objects`;
    for (const c of cc.curves) {
      const box = el('div', { class: `pr${c.name === this.selectedClass ? ' selected' : ''}`, 'data-class': c.name }, this.e.pr);
      box.append(drawCurve(c, this.colorOf(c.name)));
      box.addEventListener('click', () => this.selectClass(c.name));
    }
  }

  private drawCheckpoints(): void {
    const m = this.model;
    const t = this.e.checkpoints;
    t.replaceChildren();
    const cps: CheckpointInfo[] = m?.checkpoints ?? [];
    if (!cps.length && !this.weights) {
      this.note('checkpoints', 'No checkpoint yet.');
      return;
    }
    this.note('checkpoints', null);
    const head = el('tr', {}, el('thead', {}, t));
    for (const [h, cls] of [
      ['step', 'r'],
      ['why', ''],
      ['size', 'r'],
      ['written', ''],
      ['', ''],
    ])
      el('th', { class: cls }, head, h);
    const body = el('tbody', {}, t);
    const interactive = this.host.interactive && !this.o.report;
    for (const cp of [...cps].reverse()) {
      const tr = el('tr', { 'data-step': String(cp.step), 'data-path': cp.path, 'data-engine': cp.engine ?? '' }, body);
      el('td', { class: 'r num' }, tr, formatExact(cp.step));
      el('td', {}, tr, cp.reason ?? '–');
      el('td', { class: 'r num' }, tr, fmtBytes(cp.bytes));
      const when = el('td', { class: 'muted' }, tr, cp.exists ? (cp.time ? (this.o.report ? localTime(cp.time) : ago(cp.time)) : '–') : 'removed');
      if (!cp.exists) when.title = 'The trainer keeps the last few checkpoints and removed this one';
      const actions = el('td', { class: 'actions' }, tr);
      if (!interactive) continue;
      const resume = el(
        'button',
        { type: 'button', class: 'resume', title: `Resume training from step ${cp.step} (later steps are redone)` },
        actions,
        'Resume',
      );
      const evaluate = el('button', { type: 'button', class: 'evaluate', title: `Evaluate the weights of step ${cp.step}` }, actions, 'Evaluate');
      if (!cp.exists) resume.disabled = evaluate.disabled = true;
      // dsod eval reads .dsodckpt and .dsodw; a torch checkpoint is PyTorch's own file, and each one also wrote weights.dsodw.
      if (cp.engine === 'torch') {
        evaluate.disabled = true;
        evaluate.title = "A torch engine checkpoint is PyTorch's own file: evaluate the run's latest weights.dsodw (written with each checkpoint)";
      }
      resume.addEventListener('click', () => this.host.post({ type: 'resume', runDir: m!.runDir, checkpoint: cp.path }));
      evaluate.addEventListener('click', () => this.host.post({ type: 'evaluate', runDir: m!.runDir, weights: cp.path }));
    }
    if (this.weights && m) {
      const tr = el('tr', { 'data-weights': 'latest' }, body);
      el('td', { class: 'r' }, tr, 'latest');
      el('td', {}, tr, 'weights.dsodw');
      el('td', {}, tr, '');
      el('td', {}, tr, '');
      const actions = el('td', { class: 'actions' }, tr);
      if (interactive) {
        const b = el('button', { type: 'button', class: 'evaluate primary', title: "Evaluate the run's latest weights" }, actions, 'Evaluate');
        const sep = m.runDir.includes('\\') && !m.runDir.includes('/') ? '\\' : '/';
        b.addEventListener('click', () => this.host.post({ type: 'evaluate', runDir: m.runDir, weights: `${m.runDir}${sep}weights.dsodw` }));
      }
    }
  }

  private drawDoctor(): void {
    const d = this.model?.doctor ?? null;
    const box = this.e.doctor;
    box.replaceChildren();
    if (!d) {
      this.note('doctor', 'No backend report yet.');
      return;
    }
    this.note('doctor', null);
    const torch = d.torch;
    el('div', {}, box).append(
      Object.assign(document.createElement('b'), { textContent: d.chosen }),
      torch
        ? ` (torch ${torch.version} on ${torch.device}, ${torch.precision}, ${torch.worldSize} process${torch.worldSize === 1 ? '' : 'es'}` +
            `${torch.distributed ? ` (${torch.distributed})` : ''}, CUDA ${torch.cuda ?? 'none'}, ${torch.gpus} GPU${torch.gpus === 1 ? '' : 's'}, ` +
            `${torch.threads} threads, images decoded by ${torch.imageDecoder}; ${torch.python} ${torch.pythonVersion}): ${d.reason}`
        : ` (tfjs backend ${d.tfBackend}, ${d.requested === 'auto' ? 'chosen automatically' : `requested ${d.requested}`}): ${d.reason}`,
    );
    for (const m of d.missing ?? []) el('div', { class: 'doctor-missing' }, box, `Missing: ${m.problem}. Fix: ${m.fix}`);
    const t = el('table', { id: 'doctor-attempts' }, box);
    const head = el('tr', {}, el('thead', {}, t));
    for (const h of [torch ? 'python' : 'backend', '', 'detail', 'ms']) el('th', { class: h === 'ms' ? 'r' : '' }, head, h);
    const body = el('tbody', {}, t);
    for (const a of d.attempts) {
      const tr = el('tr', {}, body);
      el('td', {}, tr, a.name);
      el('td', { class: a.ok ? 'ok' : 'bad' }, tr, a.ok ? '✓' : '✗');
      el('td', { class: 'muted' }, tr, a.detail);
      el('td', { class: 'r num' }, tr, a.ms.toFixed(0));
    }
  }

  private drawProcesses(): void {
    const m = this.model;
    const t = this.e.processes;
    t.replaceChildren();
    if (!m?.processes.length) {
      this.note('processes', 'No process has worked on this run yet.');
      return;
    }
    this.note('processes', null);
    const head = el('tr', {}, el('thead', {}, t));
    for (const h of ['command', 'steps', 'state', 'started', 'took']) el('th', {}, head, h);
    const body = el('tbody', {}, t);
    const n = m.processes.length;
    m.processes.forEach((p, i) => {
      const tr = el('tr', { 'data-command': p.command ?? 'unknown' }, body);
      el('td', {}, tr, p.command ?? '?');
      const from = p.start ? p.start.step : null;
      let steps = p.command === 'train' ? `${from ?? '?'} → ${p.lastStep ?? from ?? '?'}` : '';
      if (p.purgedFrom !== null) steps += ` (resumed from an earlier checkpoint: steps after ${from} up to ${p.purgedFrom} redone)`;
      el('td', { class: 'num' }, tr, steps);
      const state: RunState = shownState(p, i === n - 1, this.liveness());
      const st = el('td', { class: state === 'failed' ? 'bad' : state === 'interrupted' ? 'warn' : '' }, tr, STATE_TEXT[state]);
      const fatal = p.errors.find((x) => x.fatal) ?? p.errors[0];
      if (fatal) st.title = `${fatal.code}: ${fatal.message}${fatal.where ? ` (${fatal.where})` : ''}`;
      el('td', { class: 'muted' }, tr, localTime(p.startedAt));
      el('td', { class: 'num' }, tr, p.done ? formatDuration(p.done.elapsedSec) : '–');
      if (p.errors.length) {
        const er = el('tr', {}, body);
        el('td', {}, er);
        el('td', { colspan: '4', class: 'bad' }, er, p.errors.map((x) => `${x.code}: ${x.message}${x.where ? ` (${x.where})` : ''}`).join('\n'));
      }
    });
  }

  private drawLogs(): void {
    const m = this.model;
    const box = this.e.logs;
    box.replaceChildren();
    const logs = (m?.logs ?? []).filter((l) => l.level !== 'debug').slice(-60);
    if (!logs.length) {
      this.note('logs', 'Nothing logged.');
      return;
    }
    this.note('logs', null);
    for (const l of logs) el('div', { class: l.level === 'warn' ? 'warn' : '' }, box, `${l.time.slice(11, 19)} ${l.message}`);
    box.scrollTop = box.scrollHeight;
  }

  private drawSpec(): void {
    this.e.spec.textContent = this.spec ?? '';
    this.note('spec', this.spec ? null : 'No spec.dsod.yaml in the run folder.');
  }

  // --- gallery --------------------------------------------------------------------------------------------------------

  private drawGallery(): void {
    const g = this.galleryData;
    this.seedClassColors();
    if (!g) {
      this.gallery.show(null, (n) => this.colorOf(n), 0, this.state.truth);
      this.note('gallery', 'No inference yet: DSOD: Run Inference writes inference/detections.json in the run folder.');
      this.sections.gallery.extra.textContent = '';
      return;
    }
    this.note('gallery', null);
    const slider = this.e.threshold as HTMLInputElement;
    const min = Math.floor(g.threshold * 100) / 100;
    slider.min = String(min);
    const t = Math.max(min, this.state.threshold ?? Math.max(min, 0.3));
    slider.value = String(t);
    const withTruth = g.images.filter((i) => i.truth).length;
    this.sections.gallery.extra.textContent = `${g.images.length}${g.total > g.images.length ? ` of ${g.total}` : ''} images${withTruth ? ` · ground truth for ${withTruth}` : ''}${g.weights ? ` · ${baseName(g.weights)}` : ''}`;
    this.gallery.show(g, (n) => this.colorOf(n), t, this.state.truth);
    this.applyThreshold();
  }

  private applyThreshold(): void {
    const slider = this.e.threshold as HTMLInputElement;
    const t = Number(slider.value);
    this.e.thresholdValue.textContent = t.toFixed(2);
    const c = this.gallery.setThreshold(t);
    this.e.galleryCount.textContent = this.galleryData ? `${c.shown} of ${c.boxes} predicted boxes shown · ${c.truth} true objects` : '';
  }

  // --- runs -----------------------------------------------------------------------------------------------------------

  private drawRuns(): void {
    const t = this.e.runs;
    t.replaceChildren();
    if (this.o.report) return;
    if (!this.runs.length) {
      this.note('runs', this.runsRoot ? `No runs under ${this.runsRoot} yet.` : 'Open a folder to list its runs (setting dsod.runs.root).');
      return;
    }
    this.note('runs', null);
    this.e.runsRoot.textContent = this.runsRoot ?? '';
    const head = el('tr', {}, el('thead', {}, t));
    for (const [h, cls] of [
      ['run', ''],
      ['step', 'r'],
      ['mAP', 'r'],
      ['state', ''],
      ['changed', ''],
      ['', ''],
    ])
      el('th', { class: cls }, head, h);
    const body = el('tbody', {}, t);
    for (const r of this.runs) {
      const current = r.runDir === this.model?.runDir;
      const tr = el('tr', { 'data-run': r.runDir, class: current ? 'selected' : '' }, body);
      const name = el('td', { title: r.runDir }, tr, r.name);
      el('span', { class: 'muted path' }, name, ` ${baseName(r.runDir)}`);
      el('td', { class: 'r num' }, tr, r.step === null ? '–' : `${r.step}${r.steps ? ` / ${r.steps}` : ''}`);
      el('td', { class: 'r num' }, tr, r.metric ? r.metric.value.toFixed(4) : '–');
      el('td', {}, tr, r.state in STATE_TEXT ? STATE_TEXT[r.state as RunState] : r.state);
      el('td', { class: 'muted' }, tr, ago(r.modified));
      const actions = el('td', { class: 'actions' }, tr);
      const open = el('button', { type: 'button', class: 'open', title: 'Show this run' }, actions, current ? 'Shown' : 'Open');
      open.disabled = current;
      open.addEventListener('click', () => this.host.post({ type: 'open', runDir: r.runDir }));
      const on = this.overlays.has(r.runDir);
      const cmp = el(
        'button',
        { type: 'button', class: 'compare', title: on ? 'Stop comparing' : 'Overlay its loss and mAP on the charts' },
        actions,
        on ? 'Uncompare' : 'Compare',
      );
      cmp.disabled = current;
      cmp.addEventListener('click', () => {
        if (this.overlays.has(r.runDir)) this.removeOverlay(r.runDir);
        else {
          this.requested.add(r.runDir);
          this.host.post({ type: 'overlay', runDir: r.runDir });
        }
      });
    }
  }
}
