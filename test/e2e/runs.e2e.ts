// End to end in a real VS Code: training, stopping, resuming, evaluating and running inference on the tiny example from
// the installed .vsix (code-server 4.100.3, driven through Chromium like a user). The workspace is made for it: the
// spec at examples/tiny.dsod.yaml and a small synthetic set at data/synth (`dsod synth --count 200`), so the spec's
// `data.root: ../data/synth` resolves inside the workspace and runs go to <workspace>/runs. The steps depend on each
// other (g trains the run that h stops, i resumes, j evaluates and k runs inference with).
// Run: `npm run build && npx tsc -p . && node --test --test-concurrency=1 out/test/e2e/runs.e2e.js` (or `npm run
// test:e2e`). Screenshots: results/e2e/runs/*.png; logs (code-server, extension host, "DSOD Runs"): results/e2e/runs/code-server.log.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { activeTab, build, log, openFile, openVSCode, repoRoot, runCommand, statusBarEntry, until, type Session } from './harness';

const SPEC = 'examples/tiny.dsod.yaml';
const SPEC_NAME = 'tiny DSOD (DS/16-32-8-1, 96x96)';
const CLASSES = ['circle', 'square', 'triangle', 'star', 'cross'];
/** `dsod synth --count 200`: 160 trainval and 40 test images. */
const SYNTH_COUNT = 200;
const TEST_IMAGES = 40;
/** Steps trained before each stop: enough for a chart that visibly grows, short on 2 shared cores. */
const TRAIN_STEPS = 12;
const RESUME_STEPS = 6;

/** The run manager's status bar item (client/runs/runManager.ts: createStatusBarItem('dsod.run')). */
const runItem = (page: Page) => statusBarEntry(page, 'dsod-studio.dsod-studio.dsod.run');
/** The language server's totals item: the extension is active and has analysed the spec. */
const totalsItem = (page: Page) => statusBarEntry(page, 'dsod-studio.dsod-studio.dsod.totals');
/** A notification toast (a progress notification with Cancel, while a run runs). */
const toast = (page: Page, title: string) => page.locator('.notifications-toasts .notification-list-item', { hasText: title });

const started = Date.now();
let vscode: Session | undefined;
let sourceDir: string | undefined;
/** What the steps learn and the later ones use. */
const run = { dir: '', name: '', stoppedAt: 0, resumedStoppedAt: 0, pointsAtStop: 0 };
const timings: string[] = [];

/** Run a step; on failure, keep a screenshot and the tail of the logs before failing. No Escape first: it hides toasts. */
async function step(name: string, body: (session: Session) => Promise<void>): Promise<void> {
  if (!vscode) throw new Error('VS Code did not start (see the first failure)');
  const t0 = Date.now();
  try {
    await body(vscode);
    const line = `${name}: ok in ${Date.now() - t0} ms`;
    timings.push(line);
    log(line);
  } catch (e) {
    await vscode.screenshot(`FAILED-${name}`).catch(() => undefined);
    log(`${name} failed; last logs:\n${vscode.logs().slice(-6000)}`);
    throw e;
  }
}

/**
 * The run dashboard's page: the webview frame that holds `#run-header` (the graph's webview, when open, does not).
 * Looked up again on every call: VS Code drops a hidden webview and makes a new frame when it is shown again.
 */
async function dashboard(page: Page): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    if (f.isDetached()) continue;
    try {
      if ((await f.locator('#run-header').count()) > 0) return f;
    } catch {
      // detached meanwhile
    }
  }
  return undefined;
}

/** Poll the dashboard until `probe` returns a value. */
function onDashboard<T>(page: Page, what: string, probe: (f: Frame) => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  return until(
    `the run dashboard: ${what}`,
    async () => {
      const f = await dashboard(page);
      return f ? probe(f) : undefined;
    },
    timeoutMs,
    200,
  );
}

const text = async (f: Frame, selector: string) => ((await f.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const lossPoints = async (f: Frame) => Number((await f.locator('#chart-loss').getAttribute('data-points')) ?? '0');

/** The run folders under <workspace>/runs. */
function runFolders(): string[] {
  const root = join(vscode!.workspace, 'runs');
  return existsSync(root) ? readdirSync(root).map((n) => join(root, n)) : [];
}

/** Steps of the checkpoint files of the run, ascending. */
function checkpointSteps(dir: string): number[] {
  const c = join(dir, 'checkpoints');
  if (!existsSync(c)) return [];
  return readdirSync(c)
    .map((f) => /^step-(\d+)\.dsodckpt$/.exec(f))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

interface Ev {
  type: string;
  [k: string]: unknown;
}
function events(dir: string): Ev[] {
  const p = join(dir, 'events.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Ev];
      } catch {
        return [];
      }
    });
}

/** Live processes whose command line names the run folder (the engine: `<runtime> dist/dsod.js <command> ... RUNDIR`). */
function engineProcesses(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmd.includes('dsod.js') && cmd.includes(dir)) found.push(`${pid}: ${cmd}`);
  }
  return found;
}

async function noEngineLeft(dir: string): Promise<void> {
  await until('no engine process of the run left', () => (engineProcesses(dir).length === 0 ? true : undefined), 30_000, 200).catch((e: Error) => {
    throw new Error(`${e.message}\n${engineProcesses(dir).join('\n')}`);
  });
}

/** Cancel on a progress toast: its button shows on hover. */
async function clickCancel(page: Page, title: string): Promise<void> {
  const t = toast(page, title).first();
  await t.hover();
  await t.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
}

/**
 * The spec's editor, active: a click on its tab where it is open (the dashboard opens beside it; Quick Open would open
 * a second copy in the dashboard's group when that group has the focus), else Quick Open.
 */
async function focusSpec(page: Page): Promise<void> {
  const name = SPEC.split('/').pop()!;
  const tab = page.locator('.editor-group-container .tab', { hasText: name });
  if ((await tab.count()) > 0) {
    await tab.first().click();
    await activeTab(page, name).waitFor({ state: 'visible' });
  } else {
    await openFile(page, SPEC);
  }
}

/** Scroll the dashboard so that a section's top is in view (below the sticky header), as a user does with the wheel. */
async function scrollTo(f: Frame, selector: string): Promise<void> {
  await f.locator(selector).evaluate((e) => e.scrollIntoView({ block: 'start' }));
}

/** The code lenses above the spec's first line (one decoration holds every lens of a line, " | " between them). */
const specLens = (page: Page, hasText: string | RegExp) => page.locator('.editor-group-container .codelens-decoration', { hasText });

describe('DSOD Studio runs in VS Code (code-server)', { timeout: 900_000 }, () => {
  before(
    async () => {
      // The workspace: the tiny spec under examples/ and its synthetic set under data/synth, made by the engine (bundled first).
      await build();
      sourceDir = mkdtempSync(join(tmpdir(), 'dsod-e2e-runs-ws-'));
      mkdirSync(join(sourceDir, 'examples'));
      copyFileSync(join(repoRoot, SPEC), join(sourceDir, SPEC));
      execFileSync(process.execPath, [join(repoRoot, 'dist', 'dsod.js'), 'synth', '--out', join(sourceDir, 'data', 'synth'), '--count', String(SYNTH_COUNT)], {
        stdio: 'ignore',
      });
      vscode = await openVSCode({ workspaceFrom: sourceDir, resultsSubdir: 'runs' });
      vscode.page.setDefaultTimeout(30_000);
      log(`workbench up in ${Date.now() - started} ms`);
    },
    { timeout: 300_000 },
  );

  after(async () => {
    // A run a failed step left running is stopped with its window; what is left is reported.
    const left = run.dir ? engineProcesses(run.dir) : [];
    await vscode?.close();
    if (sourceDir) rmSync(sourceDir, { recursive: true, force: true });
    log(`runs suite done in ${Date.now() - started} ms\n  ${timings.join('\n  ')}`);
    if (left.length) log(`engine processes still running before the window closed:\n${left.join('\n')}`);
  });

  test('g. "DSOD: Train" from the palette: the cost, the status bar and the dashboard\'s loss chart growing', { timeout: 240_000 }, () =>
    step('g-train', async ({ page, screenshot }) => {
      await focusSpec(page);
      await totalsItem(page).filter({ hasText: 'params' }).waitFor({ timeout: 60_000 });
      await runCommand(page, 'DSOD: Train');

      // The progress notification: first what is known (steps, images), then the cost measured in the first steps.
      const note = toast(page, 'DSOD: Training').first();
      await note.waitFor({ timeout: 60_000 });
      const cost = await until(
        'the notification to state the cost',
        async () => {
          const t = (await note.innerText()).replace(/\s+/g, ' ');
          return /measured over steps/.test(t) ? t : undefined;
        },
        180_000,
        100,
      );
      log(`cost: ${cost}`);
      const m = /([\d,]+) steps × batch (\d+) = ([\d,]+) images; ([\d.]+) img\/s measured over steps (\d+)-(\d+); about (\S+) to the end/.exec(cost);
      assert.ok(m, `the notification does not state steps, img/s and the time to the end: ${cost}`);
      assert.equal(m[1], '4,000');
      assert.equal(m[2], '8');
      assert.equal(m[3], '32,000');
      assert.ok(Number(m[4]) > 0, `img/s ${m[4]}`);

      // The run folder on disk, named after the spec.
      const dir = await until('the run folder under <workspace>/runs', () => runFolders().find((d) => existsSync(join(d, 'events.jsonl'))));
      run.dir = dir;
      run.name = dir.split('/').pop()!;
      assert.match(run.name, /^tiny-\d{8}-\d{6}$/);
      assert.match(await note.innerText(), new RegExp(`DSOD: Training ${run.name}`));

      // The status bar: step / loss / ETA.
      const item = runItem(page);
      const status = await until('the status bar run item', async () => {
        const t = (await item.innerText().catch(() => '')).trim();
        return /DSOD [\d,]+\/4,000 · loss \d+\.\d{3} · ETA \S+/.test(t) ? t : undefined;
      });
      log(`status bar: ${status}`);

      // The dashboard opened beside, on this run, running; its loss chart grows.
      await onDashboard(page, 'shows the run, running', async (f) => ((await text(f, '#run-state')) === 'running' && (await text(f, '#run-dir')) === dir ? true : undefined));
      assert.equal(await text(await dashboard(page).then((f) => f!), '#run-name'), SPEC_NAME);
      const first = await onDashboard(page, 'the loss chart has points', async (f) => {
        const n = await lossPoints(f);
        return n >= 3 ? n : undefined;
      });
      const grown = await onDashboard(
        page,
        `the loss chart grows past ${first} points (to ${TRAIN_STEPS})`,
        async (f) => {
          const n = await lossPoints(f);
          return n >= Math.max(first + 3, TRAIN_STEPS) ? n : undefined;
        },
        180_000,
      );
      const f = (await dashboard(page))!;
      const header = await text(f, '#run-step');
      log(`loss chart ${first} -> ${grown} points; dashboard step ${header}; loss ${await text(f, '#run-loss')}`);
      assert.match(header, /^[\d,]+ \/ 4,000$/);
      assert.equal(await f.locator('#chart-loss canvas').count() > 0, true, 'the loss chart is drawn on a canvas');
      // The status bar follows too.
      assert.match((await item.innerText()).trim(), /DSOD [\d,]+\/4,000 · loss \d+\.\d{3}/);
      await screenshot('01-train-progress');
    }));

  test('h. Cancel on the notification: a checkpoint in the run folder, the dashboard shows the run stopped', { timeout: 180_000 }, () =>
    step('h-cancel', async ({ page, screenshot }) => {
      assert.ok(run.dir, 'step g made a run');
      await clickCancel(page, 'DSOD: Training');
      // The notification says it is writing the checkpoint, then goes; the file is on disk.
      const steps = await until('a checkpoint file in the run folder', () => {
        const s = checkpointSteps(run.dir);
        return s.length ? s : undefined;
      }, 60_000, 200);
      run.stoppedAt = steps[steps.length - 1];
      assert.ok(run.stoppedAt >= TRAIN_STEPS, `checkpoint at step ${run.stoppedAt}`);
      await toast(page, 'DSOD: Training').first().waitFor({ state: 'detached', timeout: 60_000 });
      await runItem(page).waitFor({ state: 'hidden' });
      // events.jsonl: a checkpoint for the signal and a done 'stopped' at the same step.
      const ev = events(run.dir);
      const cp = ev.filter((e) => e.type === 'checkpoint').at(-1);
      assert.equal(cp?.reason, 'signal');
      assert.equal(cp?.step, run.stoppedAt);
      const done = ev.filter((e) => e.type === 'done').at(-1);
      assert.equal(done?.reason, 'stopped');
      await noEngineLeft(run.dir);
      // The code lens offers Train again and says where the run stopped.
      await specLens(page, `last run: stopped at step ${run.stoppedAt}`).waitFor({ timeout: 10_000 });

      await onDashboard(page, 'shows the run stopped with its checkpoint', async (f) =>
        (await text(f, '#run-state')) === 'stopped' && (await f.locator(`#checkpoints tr[data-step="${run.stoppedAt}"]`).count()) === 1 ? true : undefined,
      );
      const f = (await dashboard(page))!;
      run.pointsAtStop = await lossPoints(f);
      assert.equal(await text(f, '#run-step'), `${run.stoppedAt} / 4,000`);
      assert.equal(run.pointsAtStop, run.stoppedAt, 'one loss point per step');
      assert.equal(await text(f, '#run-eta'), '–', 'no ETA for a stopped run');
      log(`stopped at step ${run.stoppedAt}; ${run.pointsAtStop} loss points`);
      await scrollTo(f, '#section-checkpoints');
      await screenshot('02-cancelled-checkpoint');
    }));

  test('i. "DSOD: Resume Run" continues from the checkpoint\'s step; "DSOD: Stop Run" stops it again', { timeout: 240_000 }, () =>
    step('i-resume', async ({ page, screenshot }) => {
      assert.ok(run.stoppedAt > 0, 'step h stopped the run with a checkpoint');
      await focusSpec(page);
      await runCommand(page, 'DSOD: Resume Run');
      const note = toast(page, 'DSOD: Training').first();
      await note.waitFor({ timeout: 60_000 });
      assert.match(await note.innerText(), new RegExp(`DSOD: Training ${run.name}`), 'the same run folder');
      // Progress resumes above the checkpoint: the status bar, the dashboard, and the events on disk.
      const target = run.stoppedAt + RESUME_STEPS;
      await until(`the status bar past step ${target}`, async () => {
        const m = /DSOD ([\d,]+)\/4,000/.exec(await runItem(page).innerText().catch(() => ''));
        return m && Number(m[1].replace(/,/g, '')) >= target ? true : undefined;
      }, 180_000, 200);
      const points = await onDashboard(page, `running again, its loss chart past ${run.pointsAtStop} points`, async (f) => {
        const n = await lossPoints(f);
        return (await text(f, '#run-state')) === 'running' && n > run.pointsAtStop ? n : undefined;
      });
      const ev = events(run.dir);
      const starts = ev.filter((e) => e.type === 'start' && e.command === 'train');
      assert.equal(starts.length, 2);
      assert.equal(starts[1].step, run.stoppedAt, 'the second process starts at the checkpoint\'s step');
      assert.equal(starts[1].resumed, true);
      const afterResume = ev.slice(ev.indexOf(starts[1])).filter((e) => e.type === 'progress');
      assert.equal(afterResume[0]?.step, run.stoppedAt + 1, 'the first step after the resume is the next one: none skipped, none redone');
      log(`resumed at ${run.stoppedAt}; first progress step ${String(afterResume[0]?.step)}; ${points} loss points`);
      // The dashboard back at its top (the loss chart), as a user would look at it.
      await scrollTo((await dashboard(page))!, 'body');
      // The code lens says it trains, with a Stop.
      await specLens(page, /training: step [\d,]+\/4,000 · loss/).waitFor({ timeout: 30_000 });
      assert.match((await specLens(page, 'training: step').first().innerText()).replace(/\s+/g, ' '), /^Stop \| Evaluate \| training: step [\d,]+\/4,000 · loss \d+\.\d{3} \| tiny DSOD/);
      await screenshot('03-resumed');

      await runCommand(page, 'DSOD: Stop Run');
      const steps = await until('a second checkpoint, later than the first', () => {
        const s = checkpointSteps(run.dir);
        return s.length && s[s.length - 1] > run.stoppedAt ? s : undefined;
      }, 60_000, 200);
      run.resumedStoppedAt = steps[steps.length - 1];
      await note.waitFor({ state: 'detached', timeout: 60_000 });
      await noEngineLeft(run.dir);
      await onDashboard(page, `stopped at step ${run.resumedStoppedAt}`, async (f) =>
        (await text(f, '#run-state')) === 'stopped' && (await text(f, '#run-step')) === `${run.resumedStoppedAt} / 4,000` ? true : undefined,
      );
      log(`stopped again at step ${run.resumedStoppedAt}`);
    }));

  test('j. "DSOD: Evaluate": the dashboard shows the mAP and the per-class AP table', { timeout: 240_000 }, () =>
    step('j-evaluate', async ({ page, screenshot }) => {
      assert.ok(run.resumedStoppedAt > 0, 'step i left weights to evaluate');
      await focusSpec(page);
      await runCommand(page, 'DSOD: Evaluate');
      // Evaluating: the notification, then the metric on disk (metrics.json) and in the dashboard.
      await toast(page, 'DSOD: Evaluating').first().waitFor({ timeout: 60_000 });
      const record = await until('metrics.json with the evaluation', () => {
        try {
          const m = JSON.parse(readFileSync(join(run.dir, 'metrics.json'), 'utf8')) as { evaluations: { metric: string; value: number; step: number | null; perClass: { name: string; ap: number | null }[] }[] };
          return m.evaluations.find((e) => e.step === run.resumedStoppedAt);
        } catch {
          return undefined;
        }
      }, 180_000, 250);
      await toast(page, 'DSOD: Evaluating').first().waitFor({ state: 'detached', timeout: 60_000 });
      await noEngineLeft(run.dir);
      const expected = `${record.value.toFixed(4)} (VOC07 mAP (11-point) at step ${run.resumedStoppedAt})`;
      await onDashboard(page, `the mAP ${expected} and 5 rows in the AP table`, async (f) =>
        (await text(f, '#run-metric')) === expected && (await f.locator('#ap-table tbody tr').count()) === CLASSES.length ? true : undefined,
      );
      const f = (await dashboard(page))!;
      // Each class with the AP of the evaluation, to 4 decimals.
      const rows = await f.locator('#ap-table tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [tr.getAttribute('data-class'), ...Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())]),
      );
      assert.deepEqual(rows.map((r) => r[0]).sort(), [...CLASSES].sort());
      for (const r of rows) {
        const ap = record.perClass.find((c) => c.name === r[0])?.ap;
        assert.equal(r[2], ap === null || ap === undefined ? '–' : ap.toFixed(4), `AP of ${r[0]}`);
      }
      const title = await text(f, '#section-table h2');
      assert.ok(title.includes(`VOC07 mAP (11-point) ${record.value.toFixed(4)} · step ${run.resumedStoppedAt} · ${TEST_IMAGES} images (test)`), title);
      log(`mAP ${record.value.toFixed(4)}: ${rows.map((r) => `${r[0]} ${r[2]}`).join(', ')}`);
      // The run is still the stopped training (an evaluation does not complete it).
      assert.equal(await text(f, '#run-state'), 'stopped');
      assert.equal(await text(f, '#run-step'), `${run.resumedStoppedAt} / 4,000`);
      // The code lens has the new number too.
      await specLens(page, `last run: ${record.value.toFixed(3)} mAP`).waitFor({ timeout: 10_000 });
      // A user scrolls to the table.
      await scrollTo(f, '#section-table');
      await screenshot('04-evaluated');
    }));

  test('k. "DSOD: Run Inference" on the spec: the dashboard\'s gallery shows the images with boxes', { timeout: 240_000 }, () =>
    step('k-inference', async ({ page, screenshot }) => {
      await focusSpec(page);
      await runCommand(page, 'DSOD: Run Inference');
      await toast(page, 'DSOD: Running inference').first().waitFor({ timeout: 60_000 });
      await until('inference/detections.json', () => (existsSync(join(run.dir, 'inference', 'detections.json')) ? true : undefined), 180_000, 250);
      await toast(page, 'DSOD: Running inference').first().waitFor({ state: 'detached', timeout: 60_000 });
      await noEngineLeft(run.dir);
      const cards = await onDashboard(page, `a gallery of ${TEST_IMAGES} images`, async (f) => {
        const n = await f.locator('#gallery-grid figure.card').count();
        return n === TEST_IMAGES ? n : undefined;
      });
      const f = (await dashboard(page))!;
      const boxes = await f.locator('#gallery-grid .box.pred').count();
      const truth = await f.locator('#gallery-grid .box.truth').count();
      const images = await f.locator('#gallery-grid img').evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0).length);
      log(`gallery: ${cards} images, ${boxes} predicted boxes, ${truth} true boxes, ${images} images decoded; ${await text(f, '#gallery-count')}`);
      assert.ok(boxes > 0, 'predicted boxes in the gallery');
      assert.ok(truth > 0, 'the ground truth beside');
      assert.ok(images >= TEST_IMAGES, `the images are shown (${images} decoded)`);
      // The code lens is back to "last run" (before the slider takes the focus: VS Code drops a code lens update that is
      // pending when its editor loses the focus, and makes it when the editor gets it back).
      await specLens(page, 'last run:').waitFor({ timeout: 10_000 });
      // The score slider: at its lowest, every predicted box shows.
      const slider = f.locator('#threshold');
      await slider.fill(await slider.getAttribute('min') ?? '0');
      await until('every predicted box shown at the lowest threshold', async () => {
        const m = /^(\d+) of (\d+) predicted boxes shown/.exec(await text(f, '#gallery-count'));
        return m && m[1] === m[2] ? true : undefined;
      });
      assert.equal(await text(f, '#run-state'), 'stopped');
      // A user scrolls to the gallery.
      await scrollTo(f, '#section-gallery');
      await screenshot('05-inference-gallery');
    }));

  test('l. the code lens on the spec\'s first line shows the last run', { timeout: 120_000 }, () =>
    step('l-code-lens', async ({ page, screenshot }) => {
      await focusSpec(page);
      await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+Home');
      const record = JSON.parse(readFileSync(join(run.dir, 'metrics.json'), 'utf8')) as { evaluations: { value: number }[] };
      const expected = `last run: ${record.evaluations.at(-1)!.value.toFixed(3)} mAP`;
      const lens = specLens(page, expected);
      await lens.waitFor({ timeout: 30_000 }).catch((e: Error) => {
        throw new Error(`the code lens "${expected}" did not appear above the spec: ${e.message}`);
      });
      const all = (await lens.first().innerText()).replace(/\s+/g, ' ').trim();
      log(`code lens: ${all}`);
      // Train and Evaluate first, then the language server's totals on the same line.
      assert.match(all, new RegExp(`^Train \\| Evaluate \\| ${expected.replace(/\./g, '\\.')} \\| tiny DSOD \\(DS/16-32-8-1, 96x96\\): [\\d.]+k params`));
      // In sight: the run lens ends inside the editor (beside the dashboard it has half the window).
      const editor = await page.locator('.editor-group-container.active .monaco-editor').first().boundingBox();
      const last = await lens.first().locator('a', { hasText: 'last run:' }).boundingBox();
      assert.ok(editor && last && last.x + last.width <= editor.x + editor.width, `the "last run" lens is cut off: ${JSON.stringify({ editor, last })}`);
      await screenshot('06-code-lens');
    }));
});
