// The run dashboard in headless Chromium, fed the recorded run of test/webview/fixtures/run-tiny (a real tiny
// training killed at step 100 and resumed from its step-80 checkpoint, two evaluations, an inference): charts grow as
// events arrive and drop the redone steps on the resume, mAP over steps, the per-class AP table sorts, PR curves per
// class, the gallery draws boxes and the slider filters them, checkpoints ask the host to resume or evaluate, runs are
// listed, reopened and overlaid. Any CSP violation fails a test. Screenshots: results/webview/dashboard-*.png.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { listRuns, readRunSnapshot } from '../../engine/report/run-folder';
import type { RunSnapshot } from '../../protocol/dashboard';
import type { EngineEvent } from '../../protocol/engine-events';
import { launchChromium } from './page';
import { RunFollower } from '../../engine/report/follow';
import { copyFixtureRun, copySecondRun, KEPT_CHECKPOINTS, recordedEvents } from './dashboard-fixture';
import { is, missingDashboardPrerequisite, openDashboardPage, screenshotPath, type DashboardPage } from './dashboard-page';
import { HIGH_CONTRAST, LIGHT } from './themes';

/** A snapshot with the events and files of a run not there yet: what the panel sends when a run starts. */
const emptyOf = (s: RunSnapshot): RunSnapshot => ({
  ...s,
  events: [],
  metrics: [],
  curves: null,
  gallery: null,
  checkpoints: [],
  weights: false,
  eventsBytes: 0,
});

const texts = (dp: DashboardPage, selector: string) => dp.page.locator(selector).allTextContents();

describe('the run dashboard in Chromium', { skip: missingDashboardPrerequisite() ?? false, timeout: 300_000 }, () => {
  let browser: Browser;
  let dp: DashboardPage | undefined;
  let parent: string;
  let runDir: string;
  let snap: RunSnapshot;
  let expectViolations = false;

  before(async () => {
    browser = await launchChromium();
    parent = mkdtempSync(join(tmpdir(), 'dsod-dash-'));
    runDir = copyFixtureRun(parent, 'tiny');
    snap = await readRunSnapshot(runDir);
  });
  afterEach(async () => {
    if (dp) {
      if (!expectViolations) assert.deepEqual(await dp.violations(), [], 'CSP violations');
      assert.deepEqual(dp.foreign, [], 'requests outside the page');
      assert.deepEqual(dp.refused, [], 'messages the host would refuse');
      assert.ok(!dp.console.some((l) => l.startsWith('pageerror')), dp.console.join('\n'));
      await dp.close();
      dp = undefined;
    }
    expectViolations = false;
  });
  after(async () => {
    await browser?.close();
  });

  const open = async (o: Parameters<typeof openDashboardPage>[1] = {}) => (dp = await openDashboardPage(browser, o));

  test('live: the charts grow as events arrive; the resume from an earlier checkpoint drops the redone steps', async () => {
    const d = await open();
    // A run starting: a live trainer holds its lock (engine/train/run-lock.ts) while the events come in.
    await d.sendAndDraw({ type: 'snapshot', role: 'main', run: { ...emptyOf(snap), training: true }, live: true });
    assert.equal(await d.page.locator('#run-state').textContent(), 'no events yet');
    const events = snap.events;
    // The first process's last step and the resume's start, from the recording itself.
    const resumeAt = events.findIndex((e, i) => e.type === 'start' && i > 0 && e.resumed);
    const resume = events[resumeAt] as Extract<EngineEvent, { type: 'start' }>;
    const killedAt = [...events.slice(0, resumeAt)].reverse().find((e) => e.type === 'progress') as Extract<EngineEvent, { type: 'progress' }>;
    assert.ok(killedAt.step > resume.step, 'the recording resumes from a checkpoint before its last step');

    // One event per message, as a live run at 10 events/s sends them: every progress event adds one point.
    let points = 0;
    for (let i = 0; i < 40; i++) {
      await d.sendAndDraw({ type: 'events', runDir, events: [events[i]], skipped: 0 });
      const now = (await d.chart('loss')).points;
      if (events[i].type === 'progress') assert.equal(now, ++points, `event ${i}`);
      else assert.equal(now, points);
    }
    assert.equal((await d.chart('lr')).points, points);
    assert.equal((await d.chart('speed')).points, points);
    // Then in batches up to the kill.
    for (let i = 40; i < resumeAt; i += 25) await d.sendAndDraw({ type: 'events', runDir, events: events.slice(i, Math.min(i + 25, resumeAt)), skipped: 0 });
    assert.equal((await d.chart('loss')).points, killedAt.step);
    assert.equal(await d.page.locator('#run-state').textContent(), 'running');
    await d.page.screenshot({ path: screenshotPath('dashboard-01-live-before-kill'), fullPage: false });
    // SIGKILL: no done event, no file changes but the lock's process is gone; the host's next read says so.
    const idle = { type: 'artifacts' as const, runDir, metrics: [], curves: null, gallery: null, checkpoints: [], weights: false };
    await d.sendAndDraw({ ...idle, training: false });
    assert.equal(await d.page.locator('#run-state').textContent(), 'interrupted (ended without a done event)');
    await d.sendAndDraw({ ...idle, training: true }); // the resume takes the lock
    // The resumed process starts at step 80: the killed process's steps 81..100 disappear.
    await d.sendAndDraw({ type: 'events', runDir, events: [resume], skipped: 0 });
    assert.equal((await d.chart('loss')).points, resume.step);
    assert.deepEqual(await texts(d, '#processes tbody tr[data-command] td:nth-child(3)'), ['interrupted (ended without a done event)', 'running']);
    for (let i = resumeAt + 1; i < events.length; i += 50) await d.sendAndDraw({ type: 'events', runDir, events: events.slice(i, i + 50), skipped: 0 });

    const lastStep = (events.filter((e) => e.type === 'progress').at(-1) as Extract<EngineEvent, { type: 'progress' }>).step;
    assert.equal((await d.chart('loss')).points, lastStep, 'one point per step: no duplicate from the redone steps');
    assert.equal((await d.chart('loss')).series, 6, 'raw (faint) and smoothed total, loc and conf');
    assert.equal((await d.chart('map')).points, 15, 'one mAP point per evaluated step (40..600)');
    assert.equal(await d.page.locator('#run-step').textContent(), '600 / 4,000');
    assert.equal(await d.page.locator('#run-backend').textContent(), 'wasm');
    assert.deepEqual(await texts(d, '#processes tbody tr[data-command] td:first-child'), ['train', 'train', 'train', 'eval', 'eval', 'infer']);
    // The last training stopped at its step limit (--steps 600); the evaluations and the inference after it leave it so.
    assert.equal(await d.page.locator('#run-state').textContent(), 'stopped at its step limit');
    // Checkpoints announced by events: 40 and 80 of the first process, then 120..600; the redone ones are not doubled.
    const steps = (await d.page.locator('#checkpoints tbody tr[data-step]').evaluateAll((rs) => rs.map((r) => Number((r as HTMLElement).dataset.step)))).sort(
      (a, b) => a - b,
    );
    assert.deepEqual(
      steps,
      Array.from({ length: 15 }, (_, i) => 40 * (i + 1)),
    );
    await d.page.screenshot({ path: screenshotPath('dashboard-02-live-finished'), fullPage: true });
  });

  test('following a folder as the engine writes it: the snapshot, then appended bytes in torn chunks, end in the same picture', async () => {
    // The panel's pipeline without VS Code: read the folder, post the snapshot, follow events.jsonl, post each batch.
    const dir = copyFixtureRun(mkdtempSync(join(tmpdir(), 'dsod-follow-')));
    const file = join(dir, 'events.jsonl');
    const all = readFileSync(file);
    const cut = Math.floor(all.length * 0.3) + 7; // mid-line
    writeFileSync(file, all.subarray(0, cut));
    const first = await readRunSnapshot(dir);
    assert.ok(first.eventsBytes < cut, 'the partial line is left for the follower');
    const d = await open();
    await d.sendAndDraw({ type: 'snapshot', role: 'main', run: first, live: true });
    const before = (await d.chart('loss')).points;
    const batches: number[] = [];
    const follower = new RunFollower(
      dir,
      first.eventsBytes,
      {
        events: (events, skipped) => {
          batches.push(events.length);
          void d.send({ type: 'events', runDir: dir, events, skipped });
        },
        artifacts: () => undefined,
        reset: () => assert.fail('no reset expected'),
      },
      { pollMs: 200 },
    );
    try {
      // The engine's appends, torn at arbitrary bytes (a reader may see any prefix).
      for (let at = cut; at < all.length;) {
        const n = 1 + ((at * 7919) % 9000);
        appendFileSync(file, all.subarray(at, at + n));
        at += n;
        await new Promise((r) => setTimeout(r, 15));
      }
      await d.page.waitForFunction(
        () =>
          document.getElementById('chart-loss')?.dataset.points === '600' && document.getElementById('run-state')?.textContent === 'stopped at its step limit',
        null,
        { timeout: 20_000 },
      );
    } finally {
      follower.dispose();
    }
    assert.ok(before > 0 && before < 600);
    assert.ok(batches.length > 3, `${batches.length} batches`);
    assert.equal(batches.reduce((a, b) => a + b, 0) + first.events.length, recordedEvents().length, 'every event once');
    assert.equal(await d.page.locator('#processes tbody tr[data-command]').count(), 6);
  });

  test('evaluations: mAP over steps, the per-class AP table sorts, a precision-recall curve per class', async () => {
    const d = await open();
    await d.sendAndDraw({ type: 'snapshot', role: 'main', run: snap, live: false });
    const latest = snap.events.filter((e) => e.type === 'metric').at(-1) as Extract<EngineEvent, { type: 'metric' }>;
    assert.match((await d.page.locator('#run-metric').textContent())!, new RegExp(`^${latest.value.toFixed(4)} \\(VOC07`));
    const rows = () =>
      d.page
        .locator('#ap-table tbody tr')
        .evaluateAll((rs) => rs.map((r) => [r.children[0].textContent, Number(r.children[1].textContent)] as [string, number]));
    const byAp = [...latest.perClass].sort((a, b) => (b.ap ?? -1) - (a.ap ?? -1)).map((c) => [c.name, Number(c.ap!.toFixed(4))]);
    assert.deepEqual(await rows(), byAp, 'AP, best first (the default)');
    await d.page.click('#ap-table th button[data-key="ap"]');
    await d.page.waitForFunction(() => document.querySelector('#ap-table th button[data-key="ap"]')?.getAttribute('data-dir') === 'asc');
    assert.deepEqual(await rows(), [...byAp].reverse(), 'AP, worst first');
    await d.page.click('#ap-table th button[data-key="name"]');
    await d.page.waitForFunction(() => document.querySelector('#ap-table th button[data-key="name"]')?.getAttribute('data-dir') === 'asc');
    assert.deepEqual(
      (await rows()).map((r) => r[0]),
      latest.perClass.map((c) => c.name).sort(),
    );
    // The change since the previous evaluation (step 560) and the object counts of the curves.
    assert.match((await d.page.locator('#ap-table th button[data-key="delta"]').textContent())!, /since step 560/);
    assert.deepEqual(
      await texts(d, '#ap-table tbody td:nth-child(4)'),
      snap
        .curves!.voc!.classes.map((c) => [c.name, c.positives] as const)
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map((c) => String(c[1])),
    );

    const curves = d.page.locator('#pr-curves .pr');
    assert.equal(await curves.count(), 5);
    const drawn = await d.page.locator('#pr-curves path.curve').evaluateAll((ps) => ps.map((p) => Number(p.getAttribute('data-points'))));
    assert.deepEqual(
      drawn,
      snap.curves!.voc!.classes.map((c) => c.curve.recall.length),
    );
    for (const d1 of await d.page.locator('#pr-curves path.curve').evaluateAll((ps) => ps.map((p) => p.getAttribute('d') ?? '')))
      assert.match(d1, /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+$/);
    assert.equal((await d.chart('map')).points, 15);
    // A click on a class selects its row and its curve.
    await d.page.click('#ap-table tbody tr[data-class="square"]');
    assert.equal(await d.page.locator('#pr-curves .pr.selected').getAttribute('data-class'), 'square');
    await d.page.locator('#section-table').scrollIntoViewIfNeeded();
    await d.page.screenshot({ path: screenshotPath('dashboard-03-evaluation'), fullPage: false });
  });

  test('gallery: predicted boxes with labels, the score slider filters them, ground truth beside', async () => {
    const d = await open();
    await d.sendAndDraw({ type: 'snapshot', role: 'main', run: snap, live: false });
    const g = snap.gallery!;
    const all = g.images.flatMap((i) => i.detections);
    const truth = g.images.flatMap((i) => i.truth ?? []);
    assert.equal(g.images.length, 12);
    assert.ok(g.images.every((i) => i.src?.startsWith('data:image/jpeg;base64,')));
    assert.equal(await d.page.locator('#gallery-grid .card').count(), 12);
    assert.equal(await d.page.locator('#gallery-grid img').count(), 24, 'each image twice: predicted and ground truth');
    assert.equal(await d.page.locator('.box.pred').count(), all.length);
    assert.equal(await d.page.locator('.box.truth').count(), truth.length);
    const visible = () => d.page.locator('.box.pred:not([hidden])').count();
    assert.equal(await visible(), all.filter((x) => x.score >= 0.3).length, 'default threshold 0.3');
    const slide = async (v: number) => {
      await d.page.locator('#threshold').evaluate((e, v) => {
        (e as HTMLInputElement).value = String(v);
        e.dispatchEvent(new Event('input', { bubbles: true }));
      }, v);
    };
    await slide(0.5);
    assert.equal(await visible(), all.filter((x) => x.score >= 0.5).length);
    assert.equal(await d.page.locator('#threshold-value').textContent(), '0.50');
    await slide(0.1);
    assert.equal(await visible(), all.length);
    await slide(0.4);
    // Labels: class and score on each box.
    const first = g.images[0].detections[0];
    assert.equal(await d.page.locator('.card').first().locator('.box.pred .tag').first().textContent(), `${first.name} ${first.score.toFixed(2)}`);
    // Boxes sit where the detections are: percent of the image.
    const left = await d.page
      .locator('.card')
      .first()
      .locator('.box.pred')
      .first()
      .evaluate((e) => (e as HTMLElement).style.left);
    assert.equal(left, `${((100 * first.box[0]) / g.images[0].width).toFixed(3)}%`);
    // The sticky header would cover the top of an element screenshot.
    await d.page.evaluate(() => (document.getElementById('run-header')!.style.position = 'static'));
    await d.page.locator('#section-gallery').screenshot({ path: screenshotPath('dashboard-04-gallery') });
    await d.page.click('#truth-toggle');
    assert.equal(await d.page.locator('.box.truth:visible').count(), 0);
    assert.equal(await d.page.locator('.box.pred:visible').count(), all.filter((x) => x.score >= 0.4).length);
  });

  test('checkpoints: "Resume from here" and "Evaluate" ask the host for dsod.resumeRun and dsod.evaluate', async () => {
    const d = await open();
    await d.sendAndDraw({ type: 'snapshot', role: 'main', run: snap, live: false });
    // Checkpoints the trainer removed are listed but cannot be used.
    assert.equal(await d.page.locator('#checkpoints tr[data-step="40"] button.resume').isDisabled(), true);
    for (const s of KEPT_CHECKPOINTS) assert.equal(await d.page.locator(`#checkpoints tr[data-step="${s}"] button.resume`).isEnabled(), true);
    let since = d.posted.length;
    await d.page.click('#checkpoints tr[data-step="560"] button.resume');
    assert.deepEqual(await d.next(is('resume'), since), { type: 'resume', runDir, checkpoint: join(runDir, 'checkpoints', 'step-00000560.dsodckpt') });
    since = d.posted.length;
    await d.page.click('#checkpoints tr[data-step="520"] button.evaluate');
    assert.deepEqual(await d.next(is('evaluate'), since), { type: 'evaluate', runDir, weights: join(runDir, 'checkpoints', 'step-00000520.dsodckpt') });
    since = d.posted.length;
    await d.page.click('#checkpoints tr[data-weights] button.evaluate');
    assert.deepEqual(await d.next(is('evaluate'), since), { type: 'evaluate', runDir, weights: join(runDir, 'weights.dsodw') });
    assert.match((await d.page.locator('#doctor').textContent())!, /wasm \(tfjs backend wasm, chosen automatically\)/);
    const doctor = snap.events.filter((e) => e.type === 'doctor').at(-1) as Extract<EngineEvent, { type: 'doctor' }>;
    assert.equal(await d.page.locator('#doctor-attempts tbody tr').count(), doctor.attempts.length);
  });

  test('past runs are listed, reopened, and two runs overlaid on one chart', async () => {
    // A second real run of the same spec at a lower learning rate, 200 steps; the newest.
    const other = copySecondRun(parent);
    const later = new Date(Date.now() + 1000);
    utimesSync(join(other, 'events.jsonl'), later, later);
    const runs = await listRuns(parent);
    assert.deepEqual(
      runs.map((r) => [r.runDir, r.step, r.state]),
      [
        [other, 200, 'step-limit'],
        [runDir, 600, 'step-limit'],
      ],
    );
    const d = await open();
    await d.sendAndDraw({ type: 'snapshot', role: 'main', run: snap, live: true });
    await d.sendAndDraw({ type: 'runs', root: parent, runs });
    assert.equal(await d.page.locator('#runs tbody tr').count(), 2);
    assert.equal(await d.page.locator(`#runs tr[data-run="${runDir}"] button.open`).isDisabled(), true, 'the run shown');
    let since = d.posted.length;
    await d.page.click(`#runs tr[data-run="${other}"] button.open`);
    assert.deepEqual(await d.next(is('open'), since), { type: 'open', runDir: other });
    since = d.posted.length;
    await d.page.click(`#runs tr[data-run="${other}"] button.compare`);
    assert.deepEqual(await d.next(is('overlay'), since), { type: 'overlay', runDir: other });
    await d.sendAndDraw({ type: 'snapshot', role: 'overlay', run: await readRunSnapshot(other), live: false });
    assert.deepEqual(await d.chart('loss'), { points: 600, series: 8 }, 'the shown run (6) + the other run raw and smoothed');
    assert.deepEqual(await d.chart('map'), { points: 18, series: 2 }, 'steps 40, 80, ..., 600 and 50, 100, 150, 200: 18 distinct');
    assert.equal(await d.page.locator('#overlays .chip').count(), 1);
    await d.page.evaluate(() => window.scrollTo(0, 0));
    await d.page.screenshot({ path: screenshotPath('dashboard-05-overlay'), fullPage: false });
    // Live events still extend the shown run while the other is overlaid.
    await d.page.click('#overlays .chip button');
    await d.page.waitForFunction(() => document.getElementById('chart-loss')?.dataset.series === '6');
  });

  test('smoothing never hides the raw curve: off draws the raw alone, on draws it faint under the smoothed one', async () => {
    const d = await open();
    await d.sendAndDraw({ type: 'snapshot', role: 'main', run: snap, live: false });
    const set = async (v: number) => {
      const since = d.posted.length;
      await d.page.locator('#smoothing').evaluate((e, v) => {
        (e as HTMLInputElement).value = String(v);
        e.dispatchEvent(new Event('input', { bubbles: true }));
      }, v);
      await d.next(is('rendered'), since);
      return d.chart('loss');
    };
    assert.deepEqual(await set(0), { points: 600, series: 3 });
    assert.deepEqual(await set(0.95), { points: 600, series: 6 });
    const labels = await texts(d, '#chart-loss .u-legend .u-series th');
    assert.deepEqual(labels.slice(1), ['total (raw)', 'loc (raw)', 'conf (raw)', 'total', 'loc', 'conf']);
  });

  test('themes: light and high contrast', async () => {
    for (const theme of [LIGHT, HIGH_CONTRAST]) {
      const d = await open({ theme });
      await d.sendAndDraw({ type: 'snapshot', role: 'main', run: snap, live: false });
      const bg = await d.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, theme === LIGHT ? 'rgb(255, 255, 255)' : 'rgb(0, 0, 0)');
      await d.page.screenshot({ path: screenshotPath(`dashboard-06-${theme.name}`), fullPage: false });
      assert.deepEqual(await d.violations(), []);
      await d.close();
      dp = undefined;
    }
  });

  test('the CSP blocks what the page did not bring; malformed host messages are refused and change nothing', async () => {
    expectViolations = true;
    const hostile =
      '<img src="https://evil.example/x.png"><img src="file:///etc/hostname"><script>window.__pwned = 1</script>' +
      '<link rel="stylesheet" href="https://evil.example/x.css"><div id="styled" style="color: rgb(255, 0, 0)">x</div>';
    const d = await open({ inject: hostile });
    const v = await d.violations();
    for (const directive of ['img-src', 'script-src-elem', 'style-src-elem', 'style-src-attr'])
      assert.ok(
        v.some((x) => x.startsWith(directive)),
        `${directive} in ${v.join(', ')}`,
      );
    assert.equal(await d.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(d.foreign, [], 'blocked before any request');
    await d.sendAndDraw({ type: 'snapshot', role: 'main', run: snap, live: false });

    const since = d.posted.length;
    const bad: unknown[] = [
      {
        type: 'snapshot',
        role: 'main',
        run: { ...snap, name: 'evil', gallery: { ...snap.gallery!, images: [{ ...snap.gallery!.images[0], src: 'data:text/html;base64,PHNjcmlwdD4=' }] } },
        live: false,
      },
      {
        type: 'snapshot',
        role: 'main',
        run: { ...snap, name: 'evil', gallery: { ...snap.gallery!, images: [{ ...snap.gallery!.images[0], src: 'https://evil.example/x.png' }] } },
        live: false,
      },
      { type: 'events', runDir, events: [{ v: 1, type: 'progress', time: 'x' }], skipped: 0 },
      { type: 'events', runDir, events: [{ ...snap.events[5], v: 2 }], skipped: 0 },
      {
        type: 'artifacts',
        runDir,
        metrics: [],
        curves: { version: 1, voc: { ...snap.curves!.voc!, map11: 7 } },
        gallery: null,
        checkpoints: [],
        weights: true,
      },
      { type: 'nope' },
      'a string',
    ];
    for (const m of bad) await d.send(m);
    for (let k = 0; k < bad.length; k++)
      await d.next(
        is('log', (m) => m.message.startsWith('rejected a message')),
        since + k,
      );
    const rejected = d.posted.slice(since).filter((m) => m.type === 'log');
    assert.equal(rejected.length, bad.length);
    assert.match((rejected[0] as { message: string }).message, /data: URL of a PNG, JPEG, GIF or WebP/);
    assert.match((rejected[2] as { message: string }).message, /events\[0\]/);
    assert.equal(await d.page.locator('#run-name').textContent(), snap.name, 'nothing applied');
    assert.equal((await d.chart('loss')).points, 600);
    assert.equal(await d.page.locator('.box.pred').count(), snap.gallery!.images.flatMap((i) => i.detections).length);
  });
});
