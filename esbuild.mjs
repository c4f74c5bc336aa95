// Bundle each runtime entry into dist/: one file per process, no node_modules needed at run time.
import { chmodSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { build } from 'esbuild';

const entries = [
  // The `dsod` command-line tool (package.json "bin"). sharp stays external: its native addon and libvips are
  // loaded from node_modules at run time (bundled, it crashes). So does onnxruntime-node (its native binding and
  // libonnxruntime). The tfjs wasm binaries and onnx.proto are copied below.
  { in: 'engine/cli/main.ts', out: 'dsod', banner: '#!/usr/bin/env node', external: ['sharp', 'onnxruntime-node'] },
  // The language server: VS Code starts it over IPC, other editors with `--stdio`.
  { in: 'server/main.ts', out: 'server/main' },
  // The extension host side (package.json "main"); `vscode` is provided by the editor.
  { in: 'client/extension.ts', out: 'client/extension', external: ['vscode'] },
  // The architecture graph webview: browser code, one self-contained script the CSP allows by nonce.
  { in: 'webview/graph/main.ts', out: 'webview/graph', platform: 'browser', format: 'iife', target: 'chrome120', minify: true },
  // The run dashboard webview (and report.html, which inlines it): uPlot bundled, its stylesheet imported as text and
  // added under the page's nonce.
  {
    in: 'webview/dashboard/main.ts',
    out: 'webview/dashboard',
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    minify: true,
    loader: { '.css': 'text' },
  },
  // The analysis report webview (`DSOD: Show Analysis Report`): its tables, sorting and row reveal, no dependencies.
  { in: 'webview/report/main.ts', out: 'webview/report', platform: 'browser', format: 'iife', target: 'chrome120', minify: true },
  // The default-box view (`DSOD: Show Default Boxes`): an image with default boxes and a size scatter, SVG, no dependencies.
  { in: 'webview/priors/main.ts', out: 'webview/priors', platform: 'browser', format: 'iife', target: 'chrome120', minify: true },
];

await Promise.all(
  entries.map((e) =>
    build({
      entryPoints: [e.in],
      outfile: `dist/${e.out}.js`,
      bundle: true,
      platform: e.platform ?? 'node',
      target: e.target ?? 'node20',
      format: e.format ?? 'cjs',
      sourcemap: true,
      minify: e.minify ?? false,
      banner: e.banner ? { js: e.banner } : undefined,
      external: e.external ?? [],
      loader: e.loader,
      // jsonc-parser's UMD build hides its requires from bundlers; its ESM build bundles cleanly.
      mainFields: ['module', 'main'],
      logLevel: 'warning',
    }),
  ),
);

// The wasm backend's binaries beside the bundle (engine/backend/wasm.ts looks in dist/wasm/), so `dsod` finds them
// wherever dist/ goes.
const wasmSrc = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
mkdirSync('dist/wasm', { recursive: true });
for (const f of readdirSync(wasmSrc).filter((n) => n.endsWith('.wasm'))) copyFileSync(`${wasmSrc}/${f}`, `dist/wasm/${f}`);
// The threaded build's Emscripten script beside them: its pthread workers load it by path (engine/backend/wasm-threads.ts).
copyFileSync('node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js', 'dist/wasm/tfjs-backend-wasm-threaded-simd.js');

// The published ONNX schema beside the bundle: engine/onnx/proto.ts reads it with protobufjs.
copyFileSync('engine/onnx/onnx.proto', 'dist/onnx.proto');

// The torch engine's Python package beside the bundle (engine/torch/python.ts torchPackageRoot looks in dist/ first),
// so `dsod ... --engine torch` and the extension's runs find it wherever dist/ goes (the .vsix keeps dist/dsod_torch).
mkdirSync('dist/dsod_torch', { recursive: true });
for (const f of readdirSync('engine/torch/dsod_torch').filter((n) => n.endsWith('.py'))) copyFileSync(`engine/torch/dsod_torch/${f}`, `dist/dsod_torch/${f}`);

// The `dsod` bin must be executable: npx runs it through its shebang (git and esbuild keep no mode bits for it).
chmodSync('dist/dsod.js', 0o755);
