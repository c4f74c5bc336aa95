// Shared by the browser benchmarks (graph.bench.ts, dashboard.bench.ts): the statistics they report, Chromium for
// the run, and where the table goes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, resultsDir } from '../test/webview/webview-page';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
export const p90 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(0.9 * s.length))] : NaN;
};
/** A table cell: "median (p90)". */
export const medianP90 = (xs: number[], digits: number): string => `${median(xs).toFixed(digits)} (${p90(xs).toFixed(digits)})`;

/** Ends the process with the reason when a page's prerequisite check (`missing`) failed. */
export function exitIfMissing(bench: string, missing: string | null): void {
  if (!missing) return;
  console.error(`${bench} needs Chromium and the bundle: ${missing}`);
  process.exit(1);
}

/** `work` with a headless Chromium, closed after it. */
export async function withChromium<T>(work: (browser: Browser) => Promise<T>): Promise<T> {
  const browser = await launchChromium();
  try {
    return await work(browser);
  } finally {
    await browser.close();
  }
}

/** Print the report and keep it as results/webview/`file`. */
export function publish(file: string, lines: string[]): void {
  console.log(lines.join('\n'));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, file), `${lines.join('\n')}\n`);
}

/** A benchmark's entry point: an error is printed and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
