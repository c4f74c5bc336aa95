// The dashboard's messages: what each side accepts and refuses, and what the host does with the page's requests
// (client/dashboardMessages.ts, without VS Code): only the run shown, only its own checkpoints and weights, only runs
// it listed.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { checkpointProblem, handleDashboardMessage, isInside, type DashboardHost } from '../../client/dashboardMessages';
import { readRunSnapshot } from '../../engine/report/run-folder';
import { DASHBOARD_PROTOCOL_VERSION, validateDashboardHostMessage, validateDashboardWebviewMessage, type RunSnapshot } from '../../protocol/dashboard';
import { copyFixtureRun } from './dashboard-fixture';

let runDir: string;
let snap: RunSnapshot;
before(async () => {
  runDir = copyFixtureRun(mkdtempSync(join(tmpdir(), 'dsod-proto-')));
  snap = await readRunSnapshot(runDir);
});

const hostError = (m: unknown) => {
  const r = validateDashboardHostMessage(m);
  return r.ok ? null : r.error;
};

describe('host -> page', () => {
  test('a real snapshot, an event batch, artifacts, runs and status are accepted', () => {
    assert.equal(hostError({ type: 'snapshot', role: 'main', run: snap, live: true }), null);
    assert.equal(hostError({ type: 'events', runDir, events: snap.events.slice(0, 50), skipped: 0 }), null);
    assert.equal(
      hostError({
        type: 'artifacts',
        runDir,
        metrics: snap.metrics,
        curves: snap.curves,
        gallery: snap.gallery,
        checkpoints: snap.checkpoints,
        weights: true,
        training: true,
      }),
      null,
    );
    assert.equal(hostError({ type: 'runs', root: null, runs: [] }), null);
    assert.equal(hostError({ type: 'live', runDir, live: false }), null);
    assert.equal(hostError({ type: 'status', message: 'x' }), null);
  });

  test('refused: invalid events, foreign images, impossible curves, unknown types', () => {
    const img = snap.gallery!.images[0];
    const withImage = (src: string) => ({
      type: 'snapshot',
      role: 'main',
      live: false,
      run: { ...snap, gallery: { ...snap.gallery!, images: [{ ...img, src }] } },
    });
    for (const src of [
      'data:text/html;base64,PHNjcmlwdD4=',
      'https://evil.example/x.png',
      'javascript:alert(1)',
      'data:image/svg+xml;base64,PHN2Zz4=',
      'data:image/png;base64,<script>',
    ])
      assert.match(hostError(withImage(src))!, /data: URL of a PNG, JPEG, GIF or WebP/, src);
    assert.match(hostError({ type: 'events', runDir, events: [{ ...snap.events[3], v: 9 }], skipped: 0 })!, /^events\.events\[0\]: event version 9/);
    assert.match(hostError({ type: 'events', runDir, events: [{ ...snap.events[3], type: 'hack' }], skipped: 0 })!, /unknown event type/);
    const voc = snap.curves!.voc!;
    const curve = voc.classes[0].curve;
    const bad = { ...voc, classes: [{ ...voc.classes[0], curve: { ...curve, precision: curve.precision.slice(1) } }] };
    assert.match(
      hostError({ type: 'artifacts', runDir, metrics: [], curves: { version: 1, voc: bad }, gallery: null, checkpoints: [], weights: false, training: false })!,
      /equal lengths/,
    );
    assert.match(
      hostError({
        type: 'artifacts',
        runDir,
        metrics: [{ ...snap.metrics[0], value: Infinity }],
        curves: null,
        gallery: null,
        checkpoints: [],
        weights: false,
        training: false,
      })!,
      /value must be a finite number/,
    );
    assert.match(hostError({ type: 'snapshot', role: 'boss', run: snap, live: true })!, /role must be one of main, overlay/);
    assert.match(hostError({ type: 'graph' })!, /unknown host message type "graph"/);
    assert.match(hostError(null)!, /must be an object/);
    assert.match(hostError({ type: 'status', message: 'x'.repeat(20_000) })!, /longer than/);
  });
});

describe('page -> host', () => {
  test('the validator', () => {
    const ok = (m: unknown) => validateDashboardWebviewMessage(m).ok;
    assert.ok(ok({ type: 'ready', protocol: DASHBOARD_PROTOCOL_VERSION }));
    assert.ok(ok({ type: 'resume', runDir, checkpoint: '/x' }));
    assert.ok(ok({ type: 'listRuns' }));
    assert.ok(ok({ type: 'rendered', runDir, events: 3, step: null, ms: 0.5 }));
    assert.ok(!ok({ type: 'rendered', runDir, events: 3, step: null, ms: -1 }));
    assert.ok(!ok({ type: 'resume', runDir }));
    assert.ok(!ok({ type: 'exec', command: 'rm' }));
  });

  const host = (known: string[] = []) => {
    const calls: unknown[][] = [];
    const logs: string[] = [];
    const h: DashboardHost = {
      currentRun: () => runDir,
      knownRuns: () => known,
      ready: () => calls.push(['ready']),
      resume: (r, c) => void calls.push(['resume', r, c]),
      evaluate: (r, w) => void calls.push(['evaluate', r, w]),
      open: (r) => void calls.push(['open', r]),
      overlay: (r) => void calls.push(['overlay', r]),
      listRuns: () => void calls.push(['listRuns']),
      rendered: () => calls.push(['rendered']),
      log: (level, message) => logs.push(`${level}: ${message}`),
    };
    return { h, calls, logs };
  };
  const ckpt = (step: number) => join(runDir, 'checkpoints', `step-${String(step).padStart(8, '0')}.dsodckpt`);

  test('a page of another protocol version is told to reload, not served', async () => {
    const { h, calls, logs } = host();
    assert.equal(await handleDashboardMessage({ type: 'ready', protocol: DASHBOARD_PROTOCOL_VERSION + 1 }, h), false);
    assert.deepEqual(calls, []);
    assert.deepEqual(logs, [
      `error: run dashboard: this dashboard page speaks protocol ${DASHBOARD_PROTOCOL_VERSION + 1}, the extension ${DASHBOARD_PROTOCOL_VERSION}: reload the window (Developer: Reload Window)`,
    ]);
    assert.ok(await handleDashboardMessage({ type: 'ready', protocol: DASHBOARD_PROTOCOL_VERSION }, h));
    assert.deepEqual(calls, [['ready']]);
  });

  test('resume and evaluate: only the run shown, only its own checkpoints that exist, or its weights', async () => {
    const { h, calls, logs } = host();
    assert.ok(await handleDashboardMessage({ type: 'resume', runDir, checkpoint: ckpt(560) }, h));
    assert.ok(await handleDashboardMessage({ type: 'evaluate', runDir, weights: ckpt(520) }, h));
    assert.ok(await handleDashboardMessage({ type: 'evaluate', runDir, weights: join(runDir, 'weights.dsodw') }, h));
    assert.deepEqual(calls, [
      ['resume', runDir, ckpt(560)],
      ['evaluate', runDir, ckpt(520)],
      ['evaluate', runDir, join(runDir, 'weights.dsodw')],
    ]);
    const refused: [unknown, RegExp][] = [
      [{ type: 'resume', runDir, checkpoint: ckpt(40) }, /not there any more/],
      [{ type: 'resume', runDir, checkpoint: join(runDir, 'checkpoints', '..', 'checkpoints', '..', 'spec.dsod.yaml') }, /not in the run's checkpoints folder/],
      [{ type: 'resume', runDir, checkpoint: join(runDir, 'checkpoints', 'evil.dsodckpt') }, /not a checkpoint/],
      [{ type: 'resume', runDir, checkpoint: '/etc/passwd' }, /not in the run's checkpoints folder/],
      [{ type: 'resume', runDir, checkpoint: 'checkpoints/step-00000560.dsodckpt' }, /not absolute/],
      [{ type: 'resume', runDir: '/other/run', checkpoint: ckpt(560) }, /is not the run shown/],
      [{ type: 'evaluate', runDir, weights: join(runDir, 'events.jsonl') }, /not in the run's checkpoints folder/],
      [{ type: 'evaluate', runDir }, /malformed/],
    ];
    for (const [m, why] of refused) {
      assert.equal(await handleDashboardMessage(m, h), false);
      assert.match(logs.at(-1)!, why);
    }
    assert.equal(calls.length, 3, 'nothing refused was acted on');
  });

  test('open and overlay: only runs the host listed', async () => {
    const other = copyFixtureRun(join(runDir, '..'), 'other');
    const { h, calls, logs } = host([runDir, other]);
    assert.ok(await handleDashboardMessage({ type: 'overlay', runDir: other }, h));
    assert.ok(await handleDashboardMessage({ type: 'open', runDir: other }, h));
    assert.equal(await handleDashboardMessage({ type: 'open', runDir: '/etc' }, h), false);
    assert.match(logs.at(-1)!, /not a run of the list/);
    assert.deepEqual(calls, [
      ['overlay', other],
      ['open', other],
    ]);
  });

  test('path containment', () => {
    assert.ok(isInside('/a/b/c', '/a/b'));
    assert.ok(isInside('/a/b', '/a/b'));
    assert.ok(!isInside('/a/bc', '/a/b'));
    assert.ok(!isInside('/a/b/../c', '/a/b'));
    assert.equal(checkpointProblem(runDir, ckpt(600)), null);
  });
});
