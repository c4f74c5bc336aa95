// Reading a run folder (engine/report/run-folder.ts), following it while it grows (engine/report/follow.ts), and
// `dsod report RUNDIR`: one offline report.html that opens in Chromium with the network cut and shows what the VS Code
// dashboard shows for the same run. The run is the recorded one of test/webview/fixtures/run-tiny.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { EventsTail, RunFollower } from '../../engine/report/follow';
import { readMetrics } from '../../engine/train/run-files';
import { REPORT_DATA_ID } from '../../engine/report/html';
import { completeLines, listRuns, parseEventLines, readArtifacts, readGallery, readRunSnapshot, thinProgress } from '../../engine/report/run-folder';
import { findDashboardBundle, writeReport } from '../../engine/report/report';
import { formatEngineEvent, makeEvent, type EngineEvent } from '../../protocol/engine-events';
import type { RunSnapshot } from '../../protocol/dashboard';
import { chromiumBin } from '../chromium';
import { copyFixtureRun, recordedEvents, repoRoot } from '../webview/dashboard-fixture';
import { missingDashboardPrerequisite, openDashboardPage, screenshotPath } from '../webview/dashboard-page';
import { launchChromium } from '../webview/page';

const tmp = () => mkdtempSync(join(tmpdir(), 'dsod-report-'));
const waitFor = async (test: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};
const log = (message: string) => makeEvent({ type: 'log', level: 'info', message }) as EngineEvent;

describe('reading a run folder', () => {
  let runDir: string;
  let snap: RunSnapshot;
  before(async () => {
    runDir = copyFixtureRun(tmp());
    snap = await readRunSnapshot(runDir);
  });

  test('every event, the evaluations, the curves, the checkpoint files, the spec', () => {
    assert.equal(snap.events.length, recordedEvents().length);
    assert.equal(snap.skipped, 0);
    assert.equal(snap.eventsBytes, statSync(join(runDir, 'events.jsonl')).size);
    assert.equal(snap.name, 'tiny DSOD (DS/16-32-8-1, 96x96)');
    assert.equal(snap.metrics.length, JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')).evaluations.length);
    assert.deepEqual(
      snap.curves!.voc!.classes.map((c) => c.name),
      ['circle', 'square', 'triangle', 'star', 'cross'],
    );
    assert.deepEqual(
      snap.checkpoints.map((c) => c.step),
      [520, 560, 600],
    );
    assert.equal(snap.weights, true);
    assert.match(snap.spec!, /^name: tiny DSOD/m);
  });

  test('the gallery: the images the inference record names, as data: URLs, with their boxes and ground truth', () => {
    const g = snap.gallery!;
    const record = JSON.parse(readFileSync(join(runDir, 'inference', 'detections.json'), 'utf8'));
    assert.equal(g.total, record.images.length);
    assert.deepEqual(
      g.images.map((i) => i.path),
      record.images.map((i: { image: string }) => i.image),
    );
    for (const [k, img] of g.images.entries()) {
      assert.equal(img.src, `data:image/jpeg;base64,${readFileSync(join(runDir, record.images[k].image)).toString('base64')}`);
      assert.equal(img.detections.length, record.images[k].detections.length);
      assert.deepEqual(img.truth, record.images[k].truth);
    }
  });

  test('gallery limits: count, bytes per image, only real images, only what the record names', async () => {
    const dir = copyFixtureRun(tmp());
    const record = JSON.parse(readFileSync(join(dir, 'inference', 'detections.json'), 'utf8'));
    record.images[1].image = 'images/fake.jpg';
    writeFileSync(join(dir, 'images', 'fake.jpg'), '<html>not an image</html>');
    record.images[2].image = '/etc/hostname';
    record.images[3].image = 'images/missing.png';
    writeFileSync(join(dir, 'inference', 'detections.json'), JSON.stringify(record));
    const g = (await readGallery(dir, { maxImages: 6, maxBytes: 1 << 20, maxTotalBytes: 1 << 24 }))!;
    assert.equal(g.images.length, 12);
    assert.deepEqual(
      g.images.map((i) => (i.src ? 'shown' : i.note)),
      [
        'shown',
        'not shown: the file is not a PNG, JPEG, GIF or WebP image',
        'not shown: no extension is not an image type a browser shows',
        'not shown: the image file is not there any more',
        ...Array(5).fill('shown'),
        ...Array(3).fill('not shown: the gallery holds 6 images'),
      ],
    );
    const small = (await readGallery(dir, { maxImages: 60, maxBytes: 100, maxTotalBytes: 1 << 24 }))!;
    assert.match(small.images[0].note!, /MiB limit per image/);
    // Boxes are kept for every image, shown or not.
    assert.equal(g.images[11].detections.length, record.images[11].detections.length);
    // A follower reads the artifacts again on every change: the images only when the record changed.
    const again = await readArtifacts(dir, {}, g);
    assert.equal(again.gallery, g);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'inference', 'detections.json'), later, later);
    const changed = await readArtifacts(dir, {}, g);
    assert.notEqual(changed.gallery, g);
    assert.notEqual(changed.gallery!.stamp, g.stamp);
  });

  test('events.jsonl: a partial last line waits, a bad line is counted and skipped', async () => {
    const dir = copyFixtureRun(tmp());
    const file = join(dir, 'events.jsonl');
    const size = statSync(file).size;
    appendFileSync(file, 'not json\n' + formatEngineEvent(log('half')).slice(0, 20));
    const s = await readRunSnapshot(dir);
    assert.equal(s.skipped, 1);
    assert.equal(s.events.length, recordedEvents().length);
    assert.equal(s.eventsBytes, size + 'not json\n'.length);
    assert.deepEqual(completeLines(Buffer.from('a\nb')), { lines: ['a'], bytes: 2 });
    assert.equal(parseEventLines(['', '{"v":1}', '[]']).skipped, 2);
  });

  test('thinning keeps every non-progress event and the progress right before each', () => {
    const events = recordedEvents();
    const t = thinProgress(events, 100);
    const progress = t.events.filter((e) => e.type === 'progress').length;
    assert.ok(progress <= 130 && progress >= 90, `${progress}`);
    assert.equal(t.events.filter((e) => e.type !== 'progress').length, events.filter((e) => e.type !== 'progress').length);
    for (let i = 1; i < events.length; i++)
      if (events[i].type !== 'progress' && events[i - 1].type === 'progress') assert.ok(t.events.includes(events[i - 1]), `the progress before event ${i}`);
    assert.equal(t.thinned, events.length - t.events.length);
  });

  test('the run root: run folders newest first, with their step, state and latest mAP', async () => {
    const root = tmp();
    const a = copyFixtureRun(root, 'a');
    const b = copyFixtureRun(root, 'b');
    writeFileSync(join(root, 'not-a-run.txt'), 'x');
    appendFileSync(join(b, 'events.jsonl'), formatEngineEvent(log('touched')) + '\n');
    const runs = await listRuns(root);
    assert.deepEqual(
      runs.map((r) => r.runDir),
      [b, a],
    );
    assert.deepEqual(
      { ...runs[1], modified: '' },
      {
        runDir: a,
        name: 'tiny DSOD (DS/16-32-8-1, 96x96)',
        step: 600,
        steps: 4000,
        metric: {
          metric: 'voc07',
          value: snap.events
            .filter((e) => e.type === 'metric')
            .map((e) => (e as { value: number }).value)
            .at(-1)!,
        },
        state: 'step-limit',
        modified: '',
      },
    );
    assert.deepEqual(await listRuns(join(root, 'missing')), []);
  });
});

describe('a training that never said done', () => {
  /** The recorded run cut right after a progress event of its last training: running, or killed. */
  const cutRun = () => {
    const dir = copyFixtureRun(tmp());
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    const lastTrain = lines.map((l) => l.includes('"type":"start"') && l.includes('"command":"train"')).lastIndexOf(true);
    const cut = lines.findIndex((l, i) => i > lastTrain && l.includes('"type":"progress"'));
    writeFileSync(join(dir, 'events.jsonl'), lines.slice(0, cut + 1).join('\n') + '\n');
    return dir;
  };
  const lock = (dir: string, pid: number) =>
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid, host: hostname(), started: new Date().toISOString() }) + '\n');

  test("is running while a live process holds the run's lock, interrupted once that process is gone", async () => {
    const dir = cutRun();
    lock(dir, process.pid);
    assert.equal((await readRunSnapshot(dir)).training, true);
    assert.equal((await listRuns(dirname(dir)))[0].state, 'running');
    // A SIGKILLed trainer leaves its lock behind: the pid no longer runs.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    lock(dir, Number(dead.stdout));
    assert.equal((await readRunSnapshot(dir)).training, false);
    assert.equal((await listRuns(dirname(dir)))[0].state, 'interrupted');
    rmSync(join(dir, '.lock'));
    assert.equal((await listRuns(dirname(dir)))[0].state, 'interrupted');
  });

  test("the follower notices the trainer's death, which changes no file", async () => {
    const dir = cutRun();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await new Promise((r) => child.once('spawn', r));
    lock(dir, child.pid!);
    let artifacts = 0;
    const f = new RunFollower(
      dir,
      statSync(join(dir, 'events.jsonl')).size,
      { events: () => undefined, artifacts: () => artifacts++, reset: () => undefined },
      { pollMs: 50, watch: false },
    );
    try {
      assert.equal((await readArtifacts(dir)).training, true);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await waitFor(() => artifacts > 0);
      assert.equal((await readArtifacts(dir)).training, false);
    } finally {
      f.dispose();
      child.kill('SIGKILL');
    }
  });
});

test('a run folder whose files are devices or FIFOs is read without hanging: events.jsonl -> /dev/zero, a FIFO lock', async () => {
  const dir = copyFixtureRun(tmp());
  rmSync(join(dir, 'events.jsonl'));
  symlinkSync('/dev/zero', join(dir, 'events.jsonl'));
  rmSync(join(dir, 'metrics.json'));
  symlinkSync('/dev/zero', join(dir, 'metrics.json'));
  spawnSync('mkfifo', [join(dir, '.lock')]);
  const snap = await readRunSnapshot(dir);
  assert.deepEqual(snap.events, []);
  assert.equal(snap.training, false);
  // The trainer's reader refuses it (a device is no metrics file) instead of reading forever or starting it afresh.
  assert.throws(() => readMetrics(dir), /metrics\.json: cannot be read: a character device, not a regular file/);
  assert.equal((await listRuns(dirname(dir)))[0].step, null);
});

describe('following a run folder', () => {
  test('the tail reads only appended bytes, waits for a newline, and survives a character split across writes', () => {
    const dir = tmp();
    const file = join(dir, 'events.jsonl');
    const tail = new EventsTail(file);
    assert.deepEqual(tail.read(), { events: [], skipped: 0, reset: false }, 'no file yet');
    const line = Buffer.from(formatEngineEvent(log('héllo ✓ wörld')) + '\n');
    const cut = line.indexOf(Buffer.from('✓')) + 1; // inside the 3-byte character
    writeFileSync(file, line.subarray(0, cut));
    assert.equal(tail.read().events.length, 0);
    appendFileSync(file, line.subarray(cut));
    const r = tail.read();
    assert.equal(r.events.length, 1);
    assert.equal((r.events[0] as { message: string }).message, 'héllo ✓ wörld');
    assert.equal(tail.position, line.length);
    appendFileSync(file, 'garbage\n');
    assert.deepEqual(tail.read(), { events: [], skipped: 1, reset: false });
    truncateSync(file, 0);
    assert.equal(tail.read().reset, true);
  });

  for (const watch of [true, false]) {
    test(`events and artifacts arrive as the folder changes (${watch ? 'fs.watch' : 'polling only'})`, async () => {
      const dir = copyFixtureRun(tmp());
      const size = statSync(join(dir, 'events.jsonl')).size;
      const got: EngineEvent[] = [];
      let artifacts = 0;
      let resets = 0;
      const f = new RunFollower(
        dir,
        size,
        { events: (e) => got.push(...e), artifacts: () => artifacts++, reset: () => resets++ },
        { pollMs: watch ? 5000 : 50, watch },
      );
      try {
        appendFileSync(join(dir, 'events.jsonl'), formatEngineEvent(log('one')) + '\n' + formatEngineEvent(log('tw')).slice(0, 30));
        await waitFor(() => got.length === 1);
        appendFileSync(join(dir, 'events.jsonl'), formatEngineEvent(log('two')).slice(30) + '\n');
        await waitFor(() => got.length === 2);
        assert.deepEqual(
          got.map((e) => (e as { message: string }).message),
          ['one', 'two'],
        );
        writeFileSync(join(dir, 'checkpoints', 'step-00000640.dsodckpt'), 'x');
        await waitFor(() => artifacts > 0);
        truncateSync(join(dir, 'events.jsonl'), 10);
        await waitFor(() => resets === 1);
        if (watch) assert.ok(f.watching && f.wakeups.watch > 0, 'woken by fs.watch, not the 5 s poll');
        else assert.ok(!f.watching && f.wakeups.poll > 0);
      } finally {
        f.dispose();
      }
    });
  }
});

describe('dsod report', () => {
  let runDir: string;
  before(() => {
    runDir = copyFixtureRun(tmp());
  });

  test('writes RUNDIR/report.html: one file, the bundle and the run inside, nothing remote', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'report', runDir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = join(runDir, 'report.html');
    assert.equal(r.stdout, `${out}\n`);
    const html = readFileSync(out, 'utf8');
    assert.match(
      html,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-[A-Za-z0-9]+'; style-src 'nonce-[A-Za-z0-9]+'; img-src data:;/,
    );
    assert.equal((html.match(/<script/g) ?? []).length, 2, 'the data block and the bundle');
    assert.doesNotMatch(html, /(src|href)=["']?(https?:|\/\/|file:)/i);
    assert.ok(html.includes(`id="${REPORT_DATA_ID}"`));
    assert.deepEqual(
      readdirSync(runDir).filter((n) => n.includes('.tmp-')),
      [],
      'written atomically: no temporary file left',
    );
    const bundle = readFileSync(findDashboardBundle(), 'utf8');
    assert.ok(html.length > bundle.length);
    // Usage errors.
    const bad = spawnSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'report', join(runDir, 'nope')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no such run folder/);
    const none = spawnSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'report'], { encoding: 'utf8' });
    assert.equal(none.status, 2);
  });

  test('a missing bundle is a clear error', async () => {
    await assert.rejects(writeReport(runDir, { bundle: join(runDir, 'missing.js') }), /ENOENT/);
    assert.throws(() => findDashboardBundle('/'), /the dashboard bundle \(dist\/webview\/dashboard\.js\) is missing: run `npm run build`/);
  });

  describe('report.html in Chromium with the network cut', { skip: missingDashboardPrerequisite() ?? false, timeout: 120_000 }, () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    /** What a reader sees: the same selectors on both pages. */
    const content = (page: Page) =>
      page.evaluate(() => {
        const t = (s: string) => document.querySelector(s)?.textContent ?? null;
        const all = (s: string) => Array.from(document.querySelectorAll(s), (e) => e.textContent);
        const chart = (id: string) => document.getElementById(`chart-${id}`)?.dataset.points;
        return {
          name: t('#run-name'),
          state: t('#run-state'),
          facts: t('#run-facts'),
          charts: ['loss', 'lr', 'speed', 'map'].map(chart),
          table: all('#ap-table tr'),
          curves: all('#pr-curves text.title'),
          gallery: t('#gallery-count'),
          images: document.querySelectorAll('#gallery-grid img').length,
          processes: all('#processes tr'),
          checkpoints: document.querySelectorAll('#checkpoints tbody tr').length,
          doctor: t('#doctor'),
        };
      });

    test('opens offline, draws everything, asks for nothing, and shows what the VS Code dashboard shows', async () => {
      const out = await writeReport(runDir);
      assert.equal(out, join(runDir, 'report.html'));
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
      const requests: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      await context.route(/^(?!file:)/, (route) => route.abort());
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.addInitScript(() => {
        const w = window as unknown as { __violations: string[] };
        w.__violations = [];
        document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.goto(`file://${out}`);
      await page.waitForFunction(() => Number(document.body.dataset.rendered) >= 1 && document.querySelectorAll('#gallery-grid img').length > 0);
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('#gallery-grid img')).every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0),
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);
      assert.deepEqual(requests, [`file://${out}`], 'one file: nothing else was requested');
      const report = await content(page);
      assert.equal(report.name, 'tiny DSOD (DS/16-32-8-1, 96x96)');
      assert.deepEqual(report.charts, ['600', '600', '600', '15']);
      assert.equal(report.table.length, 6);
      assert.equal(report.curves.length, 5);
      assert.equal(report.images, 24);
      assert.equal(await page.locator('#section-runs').isHidden(), true, 'no run list in a report');
      assert.equal(await page.locator('#checkpoints button').count(), 0, 'no buttons that would need VS Code');
      await page.screenshot({ path: screenshotPath('report-01-offline'), fullPage: true });

      // The VS Code dashboard fed the same run: the same picture (less the run list and the buttons).
      const dp = await openDashboardPage(browser);
      try {
        const snap = await readRunSnapshot(runDir);
        await dp.sendAndDraw({ type: 'snapshot', role: 'main', run: snap, live: false });
        const panel = await content(dp.page);
        assert.deepEqual({ ...report, checkpoints: 0 }, { ...panel, checkpoints: 0 });
        assert.equal(report.checkpoints, panel.checkpoints);
      } finally {
        await dp.close();
      }
      await context.close();
    });
  });
});

// So the suite says why it skips the browser part.
if (missingDashboardPrerequisite()) console.log(`# report.html in Chromium skipped: ${missingDashboardPrerequisite()} (${chromiumBin})`);
