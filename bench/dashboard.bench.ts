// The run dashboard's cost per live event in Chromium, at 10 events/s (a progress event per optimizer step of a fast
// run), and report.html's size. Each event is one `events` message, as the panel's follower posts them; the cost is
// what the page itself spends on it (the `ms` of its `rendered` message: validate, fold into the model, extend the
// smoothed curve, and draw the changed parts in the next animation frame), not the test harness's transport.
// The peer, measured in the same run and interleaved with it: the same page with `data-rebuild="on"`, where every
// draw destroys the three step charts and builds them again from copies of the data (what a page that re-renders
// per event does). Histories: the recorded run of test/webview/fixtures/run-tiny (600 steps), and the tiny spec's
// whole schedule (4,000 steps) and the snapshot's cap (20,000 steps), both made of the recorded steps repeated.
// Machines are shared and noisy: read the ratios. Run: npm run bench:dashboard
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { readRunSnapshot } from '../engine/report/run-folder';
import { findDashboardBundle, reportHtml, writeReport } from '../engine/report/report';
import type { RunSnapshot } from '../protocol/dashboard';
import { makeEvent, type EngineEvent, type ProgressEvent } from '../protocol/engine-events';
import { copyFixtureRun } from '../test/webview/dashboard-fixture';
import { missingDashboardPrerequisite, openDashboardPage, type DashboardPage } from '../test/webview/dashboard-page';
import { exitIfMissing, median, medianP90, publish, runBench, withChromium } from './webview-bench';

const RATE = 10; // events per second
const EVENTS = Number(process.env.EVENTS ?? 100);
const WARMUP = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** A run of `steps` steps: the recording's events up to its first train start, then its progress values repeated. */
function history(recorded: RunSnapshot, steps: number): { snapshot: RunSnapshot; next: (i: number) => EngineEvent } {
  const progress = recorded.events.filter((e): e is ProgressEvent => e.type === 'progress');
  const head = recorded.events.slice(0, recorded.events.findIndex((e) => e.type === 'start') + 1);
  const at = (step: number): ProgressEvent => {
    const p = progress[(step - 1) % progress.length];
    return {
      ...p,
      ...makeEvent({
        type: 'progress',
        epoch: step / 30,
        step,
        steps: Math.max(4000, steps + 10_000),
        loss: p.loss,
        parts: p.parts,
        lr: p.lr,
        imgPerSec: p.imgPerSec,
        etaSec: 100,
        elapsedSec: step / 3,
      }),
    };
  };
  const events: EngineEvent[] = [...head];
  for (let s = 1; s <= steps; s++) events.push(at(s));
  return {
    snapshot: { ...recorded, events, gallery: null, eventsBytes: 0 },
    next: (i) => at(steps + 1 + i),
  };
}

interface Row {
  history: string;
  steps: number;
  ours: number[];
  peer: number[];
  oursWall: number[];
  /** Renderer main-thread task time per event over the paced window (CDP TaskDuration: script, style, layout, paint, GC). */
  task: { ours: number; peer: number };
  /** The same for a message that only redraws the header: the harness and the frame, the floor under both sides. */
  floor: number;
}

async function scenario(browser: Browser, name: string, recorded: RunSnapshot, steps: number): Promise<Row> {
  const { snapshot, next } = history(recorded, steps);
  const pages: Record<'ours' | 'peer', DashboardPage> = { ours: await openDashboardPage(browser), peer: await openDashboardPage(browser, { rebuild: true }) };
  const runDir = snapshot.runDir;
  for (const dp of Object.values(pages)) await dp.sendAndDraw({ type: 'snapshot', role: 'main', run: snapshot, live: true });
  const row: Row = { history: name, steps, ours: [], peer: [], oursWall: [], task: { ours: 0, peer: 0 }, floor: 0 };
  const cdp = {
    ours: await pages.ours.page.context().newCDPSession(pages.ours.page),
    peer: await pages.peer.page.context().newCDPSession(pages.peer.page),
  };
  const metrics = async (side: 'ours' | 'peer') => {
    const r = (await cdp[side].send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
    return Object.fromEntries(r.metrics.map((m) => [m.name, m.value]));
  };
  const first: Record<string, Record<string, number>> = {};
  const taskSeconds = async (side: 'ours' | 'peer') => {
    const m = await metrics(side);
    if (process.env.BREAKDOWN) {
      if (!first[side]) first[side] = m;
      else
        console.error(
          side,
          Object.fromEntries(
            ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'TaskOtherDuration', 'LayoutCount', 'RecalcStyleCount'].map((k) => [
              k,
              (((m[k] ?? 0) - (first[side][k] ?? 0)) * (k.endsWith('Count') ? 1 : 1000)) / EVENTS,
            ]),
          ),
        );
    }
    return m.TaskDuration;
  };
  for (const side of ['ours', 'peer'] as const) await cdp[side].send('Performance.enable');
  const before = { ours: 0, peer: 0 };
  const t0 = performance.now();
  for (let i = 0; i < WARMUP + EVENTS; i++) {
    if (i === WARMUP) for (const side of ['ours', 'peer'] as const) before[side] = await taskSeconds(side);
    // Paced: event i of each page goes out at i / RATE seconds.
    await sleep(t0 + (1000 * i) / RATE - performance.now());
    const event = next(i);
    for (const side of ['ours', 'peer'] as const) {
      const sent = performance.now();
      const drawn = await pages[side].sendAndDraw({ type: 'events', runDir, events: [event], skipped: 0 });
      if (i < WARMUP) continue;
      row[side].push(drawn.ms);
      if (side === 'ours') row.oursWall.push(performance.now() - sent);
    }
  }
  for (const side of ['ours', 'peer'] as const) row.task[side] = (((await taskSeconds(side)) - before[side]) * 1000) / EVENTS;
  // The floor: the same pacing with a message that redraws only the header (the harness's own transport, the frame).
  const floor0 = await taskSeconds('ours');
  const t1 = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    await sleep(t1 + (1000 * i) / RATE - performance.now());
    await pages.ours.sendAndDraw({ type: 'status', message: '' });
  }
  row.floor = (((await taskSeconds('ours')) - floor0) * 1000) / EVENTS;
  for (const side of ['ours', 'peer'] as const) {
    const points = (await pages[side].chart('loss')).points;
    if (points !== steps + WARMUP + EVENTS) throw new Error(`${side}: ${points} points drawn, expected ${steps + WARMUP + EVENTS}`);
    await pages[side].close();
  }
  return row;
}

async function main(): Promise<void> {
  exitIfMissing('bench:dashboard', missingDashboardPrerequisite());
  const runDir = copyFixtureRun(mkdtempSync(join(tmpdir(), 'dsod-bench-')));
  const recorded = await readRunSnapshot(runDir);
  const rows: Row[] = [];
  const version = await withChromium(async (browser) => {
    for (const [name, steps] of [
      ['the recorded run', 600],
      ['the tiny schedule', 4000],
      ['the snapshot cap', 20_000],
    ] as const) {
      rows.push(await scenario(browser, name, recorded, steps));
      process.stderr.write(`  ${name} (${steps} steps): done\n`);
    }
    return browser.version();
  });

  // report.html: the recorded run as `dsod report` writes it, and the parts of its size.
  const report = await writeReport(runDir);
  const size = statSync(report).size;
  const bundle = statSync(findDashboardBundle()).size;
  const without = (s: RunSnapshot) => Buffer.byteLength(reportHtml(s, ''));
  const imageBytes = recorded.gallery!.images.reduce((n, i) => n + (i.src?.length ?? 0), 0);
  const eventsBytes = without(recorded) - without({ ...recorded, events: [] });
  const curvesBytes = without(recorded) - without({ ...recorded, curves: null });
  const long = history(recorded, 4000).snapshot;
  const longSize = Buffer.byteLength(reportHtml({ ...long, gallery: recorded.gallery }, '')) + bundle;

  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const cell = (xs: number[]) => medianP90(xs, 2);
  const lines = [
    `run dashboard: cost of one live event in the page at ${RATE} events/s, Chromium ${version} headless; median (p90) ms over ${EVENTS} events after ${WARMUP} of warm-up`,
    '',
    "page: the page's own work per event (message in -> parts drawn, its `rendered` ms); renderer: main-thread task time per event (CDP TaskDuration over the paced window: script, style, layout, paint, GC, the page's timers)",
    '',
    "floor: renderer task time per message for a message that redraws only the header (the test harness's DevTools transport, the frame), paid by both sides",
    '',
    '| history | steps drawn | ours: page | ours: renderer | peer (charts rebuilt per event): page | peer: renderer | floor | peer / ours (page) | peer / ours (renderer above the floor) | ours: one core busy at 10 events/s (renderer) | ours: message -> drawn through the harness |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.history} | ${(r.steps + WARMUP + EVENTS).toLocaleString('en-US')} | ${cell(r.ours)} | ${r.task.ours.toFixed(1)} | ${cell(r.peer)} | ${r.task.peer.toFixed(1)} | ${r.floor.toFixed(1)} | ${(median(r.peer) / median(r.ours)).toFixed(1)}x | ${((r.task.peer - r.floor) / Math.max(0.01, r.task.ours - r.floor)).toFixed(1)}x | ${((r.task.ours * RATE) / 10).toFixed(1)}% | ${cell(r.oursWall)} |`,
    ),
    '',
    `report.html of the recorded run (600 steps, 675 events, 5 classes, 12 images): ${kib(size)} = bundle ${kib(bundle)} + events ${kib(eventsBytes)} + PR curves ${kib(curvesBytes)} + images ${kib(imageBytes)} + the rest`,
    `report.html of a 4,000-step run with the same curves and images: ${kib(longSize)}`,
  ];
  publish('bench-dashboard.md', lines);
}

runBench(main);
