// report.html: the run dashboard outside VS Code. One self-contained offline file: the dashboard bundle
// (dist/webview/dashboard.js, uPlot and its CSS inside) and the run's data (the snapshot the VS Code panel would send)
// embedded under a CSP that allows nothing but them. Written atomically, so a browser reloading it never reads half.
import { existsSync, promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DashboardHostMessage, RunSnapshot } from '../../protocol/dashboard';
import { RUN_FILES } from '../../protocol/run-files';
import { writeFileAtomic } from '../data/files';
import { dashboardHtml, makeNonce } from './html';
import { readRunSnapshot, type GalleryLimits } from './run-folder';

export const REPORT_FILE = RUN_FILES.report;
const BUNDLE = join('webview', 'dashboard.js');

/**
 * The dashboard bundle: beside the running bundle (dist/dsod.js -> dist/webview/dashboard.js), else in a dist/
 * above this file (a checkout running the compiled out/ tree).
 */
export function findDashboardBundle(from: string = __dirname): string {
  const tried: string[] = [];
  for (let dir = from; ; dir = dirname(dir)) {
    for (const candidate of basename(dir) === 'dist' ? [join(dir, BUNDLE)] : [join(dir, BUNDLE), join(dir, 'dist', BUNDLE)]) {
      tried.push(candidate);
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(`the dashboard bundle (dist/${BUNDLE}) is missing: run \`npm run build\` (looked in ${tried.slice(0, 3).join(', ')}, ...)`);
}

/** The report's page for a snapshot. */
export function reportHtml(snapshot: RunSnapshot, bundle: string, nonce: string = makeNonce()): string {
  const data: DashboardHostMessage[] = [{ type: 'snapshot', role: 'main', run: snapshot, live: false }];
  return dashboardHtml({ nonce, title: `${snapshot.name} · DSOD run report`, scriptText: bundle, data });
}

export interface ReportOptions {
  /** The bundle's path (default: findDashboardBundle()). */
  bundle?: string;
  /** Where to write (default RUNDIR/report.html). */
  out?: string;
  gallery?: GalleryLimits;
}

/** Write RUNDIR/report.html and return its path. */
export async function writeReport(runDir: string, o: ReportOptions = {}): Promise<string> {
  const dir = resolve(runDir);
  const bundle = await fsp.readFile(o.bundle ?? findDashboardBundle(), 'utf8');
  const snapshot = await readRunSnapshot(dir, o.gallery ? { gallery: o.gallery } : {});
  const out = resolve(o.out ?? join(dir, REPORT_FILE));
  await writeFileAtomic(out, reportHtml(snapshot, bundle));
  return out;
}
