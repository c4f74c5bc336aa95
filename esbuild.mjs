// Bundle each runtime entry into dist/: one file per process, no node_modules needed at run time.
import { build } from 'esbuild';

const entries = [
  // The `dsod` command-line tool (package.json "bin").
  { in: 'engine/cli/main.ts', out: 'dsod', banner: '#!/usr/bin/env node' },
  // The language server: VS Code starts it over IPC, other editors with `--stdio`.
  { in: 'server/main.ts', out: 'server/main' },
  // The extension host side (package.json "main"); `vscode` is provided by the editor.
  { in: 'client/extension.ts', out: 'client/extension', external: ['vscode'] },
];

await Promise.all(
  entries.map((e) =>
    build({
      entryPoints: [e.in],
      outfile: `dist/${e.out}.js`,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: true,
      minify: false,
      banner: e.banner ? { js: e.banner } : undefined,
      external: e.external ?? [],
      // jsonc-parser's UMD build hides its requires from bundlers; its ESM build bundles cleanly.
      mainFields: ['module', 'main'],
      logLevel: 'warning',
    }),
  ),
);
