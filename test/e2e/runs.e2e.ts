// End to end in a real VS Code: training, stopping, resuming, evaluating and running inference on the tiny example from
// the installed .vsix (code-server 4.100.3, driven through Chromium like a user). The workspace is made for it: the
// spec at examples/tiny.dsod.yaml and a small synthetic set at data/synth (`dsod synth --count 200`), so the spec's
// `data.root: ../data/synth` resolves inside the workspace and runs go to <workspace>/runs. The steps depend on each
// other (g trains the run that h stops, i resumes, j evaluates and k runs inference with; m trains a second run, closes
// and reopens its dashboard mid-run, n resumes it and reloads the window under it; o, the task provider, stands alone:
// .vscode/tasks.json holds its 3-step train task, and it writes the broken spec itself).
// Run: `npm run build && npx tsc -p . && node --test --test-concurrency=1 out/test/e2e/runs.e2e.js` (or `npm run
// test:e2e`). Screenshots: results/e2e/runs/*.png; logs (code-server, extension host, "DSOD Runs"): results/e2e/runs/code-server.log.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import {
  activeTab,
  build,
  dashboard,
  log,
  openFile,
  openVSCode,
  problems,
  repoRoot,
  runCommand,
  showProblems,
  statusBarEntry,
  stepRunner,
  until,
  type Session,
} from './harness';

const SPEC = 'examples/tiny.dsod.yaml';
const SPEC_NAME = 'tiny DSOD (DS/16-32-8-1, 96x96)';
const CLASSES = ['circle', 'square', 'triangle', 'star', 'cross'];
/** `dsod synth --count 200`: 160 trainval and 40 test images. */
const SYNTH_COUNT = 200;
const TEST_IMAGES = 40;
/** Steps trained before each stop: enough for a chart that visibly grows, short on 2 shared cores. */
const TRAIN_STEPS = 12;
const RESUME_STEPS = 6;
/** Steps the training of m runs before its dashboard is closed, and at least how many more before it is reopened. */
const BEFORE_CLOSE_STEPS = 5;
const WHILE_CLOSED_STEPS = 5;
/** The configured task of o (.vscode/tasks.json): a train task limited to a few steps, matched by $dsod. */
const TASK_LABEL = 'train tiny (3 steps)';
const TASK_STEPS = 3;
/** The broken spec o writes: tiny with the typo `growth_rat: 48` after the notation line (line 15, column 3). */
const BROKEN_SPEC = 'examples/broken.dsod.yaml';
const BROKEN_MESSAGE = 'Unknown property "growth_rat" in backbone. Did you mean "growth_rate"?';

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
/** The run m trains (its dashboard closed and reopened mid-run) and n resumes across a window reload. */
const second = { dir: '', name: '', stoppedAt: 0, reloadStoppedAt: 0 };

const { step, timings } = stepRunner(() => vscode, { escapeFirst: false });

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

/** The dashboard frame that shows the run folder `dir` (other dashboards, of other runs, may be open beside it). */
async function dashboardOf(page: Page, dir: string): Promise<Frame | undefined> {
  for (const f of page.frames()) {
    if (f.isDetached()) continue;
    try {
      if ((await f.locator('#run-dir').count()) > 0 && (await text(f, '#run-dir')) === dir) return f;
    } catch {
      // detached meanwhile
    }
  }
  return undefined;
}

function onDashboardOf<T>(page: Page, dir: string, what: string, probe: (f: Frame) => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  return until(
    `the dashboard of ${dir.split('/').pop()}: ${what}`,
    async () => {
      const f = await dashboardOf(page, dir);
      return f ? probe(f) : undefined;
    },
    timeoutMs,
    100,
  );
}

/** The last optimizer step in the run's events.jsonl (0 before the first). */
function latestStep(dir: string): number {
  let step = 0;
  for (const e of events(dir)) if (e.type === 'progress' && typeof e.step === 'number') step = e.step;
  return step;
}

/** The editor group that holds the run dashboards (the tabs titled "Run: ..."), and its active tab. */
const dashboardGroup = (page: Page) => page.locator('.editor-group-container').filter({ has: page.locator('.tab', { hasText: 'Run: ' }) });

/** Close a tab as a user does: hover it, click its close button (×). */
async function closeActiveDashboardTab(page: Page): Promise<void> {
  const tab = dashboardGroup(page).locator('.tab.active').first();
  await tab.hover();
  await tab.locator('.tab-actions .action-label').first().click();
}

/** The workbench is up again after a reload: its parts, and the Explorer listing the workspace. */
async function workbenchBack(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 120_000 });
}

/** The text of the terminals in the panel (xterm's DOM renderer: .vscode/settings.json turns GPU acceleration off). */
async function terminalText(page: Page): Promise<string> {
  const rows = page.locator('.terminal-wrapper .xterm-rows');
  const all = await rows.allInnerTexts().catch(() => [] as string[]);
  return all.join('\n').replace(/\u00a0/g, ' ');
}

/** Like runCommand, but the command opens a quick pick of its own: wait for the palette's input to be replaced. */
async function runCommandKeepOpen(page: Page, label: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${label}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
  // The command's own picker: the input no longer holds the palette's ">" text.
  await until(`the quick pick of "${label}"`, async () => {
    const v = await input.inputValue().catch(() => '>');
    return (await input.isVisible()) && !v.startsWith('>') ? true : undefined;
  });
}

const quickRows = (page: Page) => page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
/** The quick pick row whose label is exactly `label` (a row's text also holds its description and actions). */
const quickRow = (page: Page, label: string) =>
  quickRows(page)
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) }) })
    .first();
async function quickRowTexts(page: Page): Promise<string[]> {
  return (await quickRows(page).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
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
      // Step o: a train task in tasks.json (a few steps), and the terminal drawn in the DOM so that its text can be read.
      mkdirSync(join(sourceDir, '.vscode'));
      const task = { label: TASK_LABEL, type: 'dsod', command: 'train', spec: SPEC, args: ['--steps', String(TASK_STEPS)], problemMatcher: '$dsod' };
      writeFileSync(join(sourceDir, '.vscode', 'tasks.json'), JSON.stringify({ version: '2.0.0', tasks: [task] }, null, 2));
      writeFileSync(join(sourceDir, '.vscode', 'settings.json'), JSON.stringify({ 'terminal.integrated.gpuAcceleration': 'off' }, null, 2));
      vscode = await openVSCode({ workspaceFrom: sourceDir, resultsSubdir: 'runs' });
      vscode.page.setDefaultTimeout(30_000);
      log(`workbench up in ${Date.now() - started} ms`);
    },
    { timeout: 300_000 },
  );

  after(async () => {
    // A run a failed step left running is stopped with its window; what is left is reported.
    const left = vscode ? engineProcesses(join(vscode.workspace, 'runs')) : [];
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
      await onDashboard(page, 'shows the run, running', async (f) =>
        (await text(f, '#run-state')) === 'running' && (await text(f, '#run-dir')) === dir ? true : undefined,
      );
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
      assert.equal((await f.locator('#chart-loss canvas').count()) > 0, true, 'the loss chart is drawn on a canvas');
      // The status bar follows too.
      assert.match((await item.innerText()).trim(), /DSOD [\d,]+\/4,000 · loss \d+\.\d{3}/);
      await screenshot('01-train-progress');
    }),
  );

  test('h. Cancel on the notification: a checkpoint in the run folder, the dashboard shows the run stopped', { timeout: 180_000 }, () =>
    step('h-cancel', async ({ page, screenshot }) => {
      assert.ok(run.dir, 'step g made a run');
      await clickCancel(page, 'DSOD: Training');
      // The notification says it is writing the checkpoint, then goes; the file is on disk.
      const steps = await until(
        'a checkpoint file in the run folder',
        () => {
          const s = checkpointSteps(run.dir);
          return s.length ? s : undefined;
        },
        60_000,
        200,
      );
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
    }),
  );

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
      await until(
        `the status bar past step ${target}`,
        async () => {
          const m = /DSOD ([\d,]+)\/4,000/.exec(
            await runItem(page)
              .innerText()
              .catch(() => ''),
          );
          return m && Number(m[1].replace(/,/g, '')) >= target ? true : undefined;
        },
        180_000,
        200,
      );
      const points = await onDashboard(page, `running again, its loss chart past ${run.pointsAtStop} points`, async (f) => {
        const n = await lossPoints(f);
        return (await text(f, '#run-state')) === 'running' && n > run.pointsAtStop ? n : undefined;
      });
      const ev = events(run.dir);
      const starts = ev.filter((e) => e.type === 'start' && e.command === 'train');
      assert.equal(starts.length, 2);
      assert.equal(starts[1].step, run.stoppedAt, "the second process starts at the checkpoint's step");
      assert.equal(starts[1].resumed, true);
      const afterResume = ev.slice(ev.indexOf(starts[1])).filter((e) => e.type === 'progress');
      assert.equal(afterResume[0]?.step, run.stoppedAt + 1, 'the first step after the resume is the next one: none skipped, none redone');
      log(`resumed at ${run.stoppedAt}; first progress step ${String(afterResume[0]?.step)}; ${points} loss points`);
      // The dashboard back at its top (the loss chart), as a user would look at it.
      await scrollTo((await dashboard(page))!, 'body');
      // The code lens says it trains, with a Stop.
      await specLens(page, /training: step [\d,]+\/4,000 · loss/).waitFor({ timeout: 30_000 });
      assert.match(
        (await specLens(page, 'training: step').first().innerText()).replace(/\s+/g, ' '),
        /^Stop \| Evaluate \| training: step [\d,]+\/4,000 · loss \d+\.\d{3} \| tiny DSOD/,
      );
      await screenshot('03-resumed');

      await runCommand(page, 'DSOD: Stop Run');
      const steps = await until(
        'a second checkpoint, later than the first',
        () => {
          const s = checkpointSteps(run.dir);
          return s.length && s[s.length - 1] > run.stoppedAt ? s : undefined;
        },
        60_000,
        200,
      );
      run.resumedStoppedAt = steps[steps.length - 1];
      await note.waitFor({ state: 'detached', timeout: 60_000 });
      await noEngineLeft(run.dir);
      await onDashboard(page, `stopped at step ${run.resumedStoppedAt}`, async (f) =>
        (await text(f, '#run-state')) === 'stopped' && (await text(f, '#run-step')) === `${run.resumedStoppedAt} / 4,000` ? true : undefined,
      );
      log(`stopped again at step ${run.resumedStoppedAt}`);
    }),
  );

  test('j. "DSOD: Evaluate": the dashboard shows the mAP and the per-class AP table', { timeout: 240_000 }, () =>
    step('j-evaluate', async ({ page, screenshot }) => {
      assert.ok(run.resumedStoppedAt > 0, 'step i left weights to evaluate');
      await focusSpec(page);
      await runCommand(page, 'DSOD: Evaluate');
      // Evaluating: the notification, then the metric on disk (metrics.json) and in the dashboard.
      await toast(page, 'DSOD: Evaluating').first().waitFor({ timeout: 60_000 });
      const record = await until(
        'metrics.json with the evaluation',
        () => {
          try {
            const m = JSON.parse(readFileSync(join(run.dir, 'metrics.json'), 'utf8')) as {
              evaluations: { metric: string; value: number; step: number | null; perClass: { name: string; ap: number | null }[] }[];
            };
            return m.evaluations.find((e) => e.step === run.resumedStoppedAt);
          } catch {
            return undefined;
          }
        },
        180_000,
        250,
      );
      await toast(page, 'DSOD: Evaluating').first().waitFor({ state: 'detached', timeout: 60_000 });
      await noEngineLeft(run.dir);
      const expected = `${record.value.toFixed(4)} (VOC07 mAP (11-point) at step ${run.resumedStoppedAt})`;
      await onDashboard(page, `the mAP ${expected} and 5 rows in the AP table`, async (f) =>
        (await text(f, '#run-metric')) === expected && (await f.locator('#ap-table tbody tr').count()) === CLASSES.length ? true : undefined,
      );
      const f = (await dashboard(page))!;
      // Each class with the AP of the evaluation, to 4 decimals.
      const rows = await f
        .locator('#ap-table tbody tr')
        .evaluateAll((trs) =>
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
    }),
  );

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
      const images = await f
        .locator('#gallery-grid img')
        .evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0).length);
      log(`gallery: ${cards} images, ${boxes} predicted boxes, ${truth} true boxes, ${images} images decoded; ${await text(f, '#gallery-count')}`);
      assert.ok(boxes > 0, 'predicted boxes in the gallery');
      assert.ok(truth > 0, 'the ground truth beside');
      assert.ok(images >= TEST_IMAGES, `the images are shown (${images} decoded)`);
      // The code lens is back to "last run" (before the slider takes the focus: VS Code drops a code lens update that is
      // pending when its editor loses the focus, and makes it when the editor gets it back).
      await specLens(page, 'last run:').waitFor({ timeout: 10_000 });
      // The score slider: at its lowest, every predicted box shows.
      const slider = f.locator('#threshold');
      await slider.fill((await slider.getAttribute('min')) ?? '0');
      await until('every predicted box shown at the lowest threshold', async () => {
        const m = /^(\d+) of (\d+) predicted boxes shown/.exec(await text(f, '#gallery-count'));
        return m && m[1] === m[2] ? true : undefined;
      });
      assert.equal(await text(f, '#run-state'), 'stopped');
      // A user scrolls to the gallery.
      await scrollTo(f, '#section-gallery');
      await screenshot('05-inference-gallery');
    }),
  );

  test("l. the code lens on the spec's first line shows the last run", { timeout: 120_000 }, () =>
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
    }),
  );
  test('m. the dashboard closed and reopened mid-run ("DSOD: Open Run...") shows every step so far and keeps growing', { timeout: 300_000 }, () =>
    step('m-reopen', async ({ page, screenshot }) => {
      await focusSpec(page);
      const before = new Set(runFolders());
      await runCommand(page, 'DSOD: Train');
      const dir = await until(
        'a second run folder under <workspace>/runs',
        () => runFolders().find((d) => !before.has(d) && existsSync(join(d, 'events.jsonl'))),
        60_000,
      );
      second.dir = dir;
      second.name = dir.split('/').pop()!;
      // Its dashboard opened beside (a new tab in the dashboards' group), running, its chart growing.
      await onDashboardOf(
        page,
        dir,
        `running, ${BEFORE_CLOSE_STEPS} steps on the loss chart`,
        async (f) => ((await text(f, '#run-state')) === 'running' && (await lossPoints(f)) >= BEFORE_CLOSE_STEPS ? true : undefined),
        180_000,
      );
      // The user closes the dashboard's tab (the active one of its group: this run's) while the run trains on.
      await closeActiveDashboardTab(page);
      await until('the dashboard of the run gone', async () => ((await dashboardOf(page, dir)) ? undefined : true), 30_000);
      const closedAt = latestStep(dir);
      assert.ok(engineProcesses(dir).length > 0, 'the training runs on without its dashboard');
      log(`dashboard closed at step ${closedAt}`);
      // Training goes on with nobody watching: the steps land in events.jsonl.
      await until(
        `step ${closedAt + WHILE_CLOSED_STEPS} in events.jsonl`,
        () => (latestStep(dir) >= closedAt + WHILE_CLOSED_STEPS ? true : undefined),
        120_000,
        200,
      );

      // "DSOD: Open Run...": the runs under the run root, newest first (this one, then the run of g-l), and "Browse...".
      await focusSpec(page);
      await runCommandKeepOpen(page, 'DSOD: Open Run...');
      await quickRows(page).filter({ hasText: run.name }).first().waitFor();
      const rows = await quickRowTexts(page);
      log(`Open Run picker: ${rows.join(' | ')}`);
      const mine = rows.findIndex((r) => r.includes(second.name));
      const older = rows.findIndex((r) => r.includes(run.name));
      assert.equal(mine, 0, `the newest run first: ${rows.join(' | ')}`);
      assert.ok(older > mine, `the older run after it: ${rows.join(' | ')}`);
      assert.match(rows[mine], /running/, 'the run is listed as running');
      assert.match(rows.at(-1)!, /Browse\.\.\./);
      await screenshot('07-open-run-picker');
      await quickRows(page).filter({ hasText: second.name }).first().click();
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });

      // The reopened dashboard: every step so far (rebuilt from the folder), i.e. as many loss points as the latest
      // progress step on disk (read before and after the chart, which follows the file a moment behind), still running.
      const seen = await onDashboardOf(
        page,
        dir,
        'as many loss points as the latest step in events.jsonl',
        async (f) => {
          const lo = latestStep(dir);
          const n = await lossPoints(f);
          const header = await text(f, '#run-step');
          const hi = latestStep(dir);
          return (await text(f, '#run-state')) === 'running' && n > closedAt && n >= lo && n <= hi && header === `${n} / 4,000` ? { n, lo, hi } : undefined;
        },
        60_000,
      );
      log(`reopened: ${seen.n} loss points, events.jsonl at step ${seen.lo}-${seen.hi} (closed at ${closedAt})`);
      // It keeps growing, live.
      const grown = await onDashboardOf(
        page,
        dir,
        `the loss chart grows past ${seen.n + 3} points`,
        async (f) => {
          const n = await lossPoints(f);
          return n >= seen.n + 3 ? n : undefined;
        },
        120_000,
      );
      log(`and grows: ${grown} points`);
      await scrollTo((await dashboardOf(page, dir))!, 'body');
      await screenshot('08-reopened-mid-run');

      // Stop it: a checkpoint, and then the chart holds exactly the steps on disk.
      await runCommand(page, 'DSOD: Stop Run');
      const steps = await until(
        'a checkpoint of the second run',
        () => {
          const s = checkpointSteps(dir);
          return s.length ? s : undefined;
        },
        60_000,
        200,
      );
      second.stoppedAt = steps[steps.length - 1];
      await toast(page, 'DSOD: Training').first().waitFor({ state: 'detached', timeout: 60_000 });
      await noEngineLeft(dir);
      const last = latestStep(dir);
      assert.equal(last, second.stoppedAt, 'the checkpoint is at the last step trained');
      await onDashboardOf(page, dir, `stopped with ${last} loss points`, async (f) =>
        (await text(f, '#run-state')) === 'stopped' && (await lossPoints(f)) === last ? true : undefined,
      );
      log(`second run stopped at step ${second.stoppedAt}`);
    }),
  );

  test('n. "Developer: Reload Window" mid-run: the engine stops gracefully (checkpoint), no process left, the dashboard comes back', { timeout: 300_000 }, () =>
    step('n-reload', async ({ page, screenshot }) => {
      assert.ok(second.stoppedAt > 0, 'step m stopped its run with a checkpoint');
      const dir = second.dir;
      await focusSpec(page);
      // Resume Run on the spec: its newest run, the one of m.
      await runCommand(page, 'DSOD: Resume Run');
      await toast(page, 'DSOD: Training').first().waitFor({ timeout: 60_000 });
      assert.match(await toast(page, 'DSOD: Training').first().innerText(), new RegExp(`DSOD: Training ${second.name}`));
      const target = second.stoppedAt + 3;
      await onDashboardOf(
        page,
        dir,
        `running again, past step ${target}`,
        async (f) => ((await text(f, '#run-state')) === 'running' && (await lossPoints(f)) >= target ? true : undefined),
        180_000,
      );
      const pids = engineProcesses(dir);
      assert.equal(pids.length, 1, `one engine process trains the run: ${pids.join('\n')}`);
      const startsBefore = events(dir).filter((e) => e.type === 'start').length;
      const t0 = Date.now();
      log(`reloading the window at step ${latestStep(dir)}; engine ${pids[0].split(':')[0]}`);

      // The reload: VS Code deactivates the extension, whose deactivate() stops the run (SIGINT: checkpoint, then exit).
      await runCommand(page, 'Developer: Reload Window');
      const cp = await until(
        'a checkpoint for the signal in events.jsonl',
        () => {
          const ev = events(dir);
          const lastStart = ev.map((e) => e.type === 'start').lastIndexOf(true);
          return ev.slice(lastStart).find((e) => e.type === 'checkpoint' && e.reason === 'signal');
        },
        60_000,
        200,
      );
      second.reloadStoppedAt = cp.step as number;
      assert.ok(second.reloadStoppedAt >= target, `the checkpoint (step ${second.reloadStoppedAt}) is past step ${target}`);
      assert.ok(checkpointSteps(dir).includes(second.reloadStoppedAt), `checkpoints/step-${second.reloadStoppedAt} on disk`);
      // The resumed process's own done (the one of m's process, before it, says stopped too).
      const done = await until(
        'a done event of the resumed process',
        () => {
          const ev = events(dir);
          const lastStart = ev.map((e) => e.type === 'start').lastIndexOf(true);
          return ev.slice(lastStart).find((e) => e.type === 'done');
        },
        30_000,
        200,
      );
      assert.equal(done.reason, 'stopped', `done: ${JSON.stringify(done)}`);
      assert.equal(done.step, second.reloadStoppedAt, `done at the checkpoint's step: ${JSON.stringify(done)}`);
      assert.equal(latestStep(dir), second.reloadStoppedAt, 'no step after the checkpoint');
      await noEngineLeft(dir);
      log(`engine stopped by the reload in ${Date.now() - t0} ms: checkpoint at step ${second.reloadStoppedAt}, done ${String(done.reason)}`);

      // After the reload: the dashboard panel is back (its serializer), showing the run stopped with its whole history.
      await workbenchBack(page);
      await onDashboardOf(
        page,
        dir,
        `back, stopped at step ${second.reloadStoppedAt} with every loss point`,
        async (f) =>
          (await text(f, '#run-state')) === 'stopped' &&
          (await lossPoints(f)) === second.reloadStoppedAt &&
          (await text(f, '#run-step')) === `${second.reloadStoppedAt} / 4,000`
            ? true
            : undefined,
        120_000,
      );
      assert.equal(events(dir).filter((e) => e.type === 'start').length, startsBefore, 'the reloaded window started nothing');
      assert.equal(engineProcesses(dir).length, 0);
      // The extension is back too: the spec's code lens says where the run stopped.
      await focusSpec(page);
      await specLens(page, `last run: stopped at step ${second.reloadStoppedAt}`).waitFor({ timeout: 60_000 });
      await scrollTo((await dashboardOf(page, dir))!, 'body');
      await screenshot('09-reloaded-stopped');
    }),
  );

  test(
    'o. the dsod task type: tasks for the spec in "Tasks: Run Task", a train task finishing in the terminal, a broken spec in Problems through $dsod',
    { timeout: 300_000 },
    () =>
      step('o-tasks', async ({ page, screenshot }) => {
        // "Tasks: Run Task" -> dsod: the provider's train and eval tasks for the workspace's spec.
        await runCommandKeepOpen(page, 'Tasks: Run Task');
        const typeRow = quickRow(page, 'dsod');
        await typeRow.waitFor({ timeout: 60_000 });
        const top = await quickRowTexts(page);
        log(`Run Task: ${top.join(' | ')}`);
        assert.ok(
          top.some((r) => r.includes(TASK_LABEL)),
          `the tasks.json task is offered: ${top.join(' | ')}`,
        );
        await typeRow.click();
        await quickRows(page).filter({ hasText: 'eval tiny.dsod.yaml' }).first().waitFor({ timeout: 60_000 });
        const provided = await quickRowTexts(page);
        log(`dsod tasks: ${provided.join(' | ')}`);
        assert.ok(
          provided.some((r) => /train tiny\.dsod\.yaml/.test(r)),
          provided.join(' | '),
        );
        assert.ok(
          provided.some((r) => /eval tiny\.dsod\.yaml/.test(r)),
          provided.join(' | '),
        );
        await screenshot('10-task-list');
        await page.keyboard.press('Escape');
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });

        // The tasks.json task: dsod train --steps 3 in runs/tiny, in the terminal, to its end.
        const taskRun = join(vscode!.workspace, 'runs', 'tiny');
        await runCommandKeepOpen(page, 'Tasks: Run Task');
        await quickRows(page).filter({ hasText: TASK_LABEL }).first().click();
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
        const finished = await until(
          'the task to finish in the terminal',
          async () => {
            const t = await terminalText(page);
            return /done \(step-limit\) at step 3/.test(t) && /Terminal will be reused by tasks/.test(t) ? t : undefined;
          },
          180_000,
          250,
        );
        log(
          `terminal:\n${finished
            .split('\n')
            .filter((l) => l.trim())
            .slice(-8)
            .join('\n')}`,
        );
        assert.match(finished, /report: .*runs\/tiny\/report\.html/);
        const done = events(taskRun)
          .filter((e) => e.type === 'done')
          .at(-1);
        assert.equal(done?.reason, 'step-limit');
        assert.deepEqual(checkpointSteps(taskRun), [TASK_STEPS]);
        await noEngineLeft(taskRun);
        await screenshot('11-task-finished');

        // A broken spec (the typo `growth_rat: 48`, never opened in an editor, so the language server says nothing of it):
        // the provider's train task for it fails, and $dsod puts the engine's error into Problems at its file, line and column.
        const tiny = readFileSync(join(vscode!.workspace, SPEC), 'utf8');
        const broken = tiny.replace(/^( {2}notation: .*\n)/m, '$1  growth_rat: 48\n');
        assert.notEqual(broken, tiny);
        writeFileSync(join(vscode!.workspace, BROKEN_SPEC), broken);
        const line = broken.split('\n').findIndex((l) => l.startsWith('  growth_rat:')) + 1;
        await runCommandKeepOpen(page, 'Tasks: Run Task');
        await quickRow(page, 'dsod').click();
        const brokenTask = quickRows(page).filter({ hasText: 'train broken.dsod.yaml' }).first();
        await brokenTask.waitFor({ timeout: 60_000 });
        await brokenTask.click();
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
        await until('the task to fail in the terminal', async () => (/done \(failed\)/.test(await terminalText(page)) ? true : undefined), 120_000, 250);
        await showProblems(page);
        const row = page.locator('.markers-panel .monaco-list-row', { hasText: BROKEN_MESSAGE });
        await row.waitFor({ timeout: 30_000 });
        assert.equal(await row.locator('.marker-message').innerText(), BROKEN_MESSAGE);
        assert.equal(await row.locator('.marker-line').innerText(), `[Ln ${line}, Col 3]`);
        assert.match(await row.locator('.marker-code').innerText(), /schema\/unknown-key/);
        assert.equal(await row.locator('.marker-source').innerText(), 'dsod');
        assert.equal(await row.locator('.marker-icon.error').count(), 1);
        const all = await problems(page);
        log(`Problems: ${all.join(' | ')}`);
        // The file's row: its name, its folder (examples) and one problem.
        assert.ok(
          all.some((r) => /^broken\.dsod\.yaml\s*examples 1$/.test(r)),
          `the file's row in Problems: ${all.join(' | ')}`,
        );
        await screenshot('12-task-problem');
        // The row leads to the place: the broken spec opens with the cursor on the typo.
        await row.dblclick();
        await activeTab(page, 'broken.dsod.yaml').waitFor();
        await page.locator('#status\\.editor\\.selection', { hasText: `Ln ${line}, Col 3` }).waitFor();
      }),
  );
});
