#!/usr/bin/env node
// Package the extension as a platform-specific .vsix that carries everything a run needs:
//   dist/**/*.js            the bundles (client, language server, webviews, the `dsod` engine)
//   dist/wasm/*.wasm        the tfjs wasm backend's binaries (engine/backend/wasm.ts looks beside the bundle)
//   dist/node_modules/      sharp (external to the bundle: a native addon) with its JS dependencies and the native
//                           packages of the target: @img/sharp-<target> and @img/sharp-libvips-<target>
//   dist/node_modules/webgpu  Dawn for the tfjs WebGPU backend (an optional dependency): its JavaScript and the target's
//                           dawn.node only, when installed (@tensorflow/tfjs-backend-webgpu is inside the bundle)
//   examples/tiny.dsod.yaml what `dsod demo` trains
// The package is assembled in a temporary folder (the working tree is left as it is) and packed there with
// `vsce package --no-dependencies --target <target>`. `npm run build` first (dist/ must be current).
//
//   node scripts/package-vsix.mjs [--target linux-x64] [--out dsod-studio-linux-x64.vsix]
//
// The target defaults to this machine's. For another one, install sharp's native packages of that platform first
// (sharp documents this: https://sharp.pixelplumbing.com/install#cross-platform), e.g. for an Apple silicon Mac:
//   npm install --no-save --os=darwin --cpu=arm64 sharp@<the pinned version>
//   node scripts/package-vsix.mjs --target darwin-arm64
// and the script copies @img/sharp-darwin-arm64 and @img/sharp-libvips-darwin-arm64 instead.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** VS Code's platform targets -> sharp's native package suffix (@img/sharp-<suffix>, @img/sharp-libvips-<suffix>). */
export const SHARP_PLATFORMS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-armhf': 'linux-arm',
  'alpine-x64': 'linuxmusl-x64',
  'alpine-arm64': 'linuxmusl-arm64',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};

/** VS Code's platform targets -> the folder of webgpu's dist/ holding that platform's dawn.node (none: no WebGPU). */
export const DAWN_PLATFORMS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-universal',
  'darwin-arm64': 'darwin-universal',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};

/** This machine's VS Code target. */
export function hostTarget() {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  if (process.platform === 'linux') {
    const musl = !process.report?.getReport?.().header?.glibcVersionRuntime;
    return `${musl ? 'alpine' : 'linux'}-${arch}`;
  }
  return `${process.platform}-${arch}`;
}

/** Files of the extension root that ship (besides dist/, handled below), relative to the repository. */
const ROOT_FILES = [
  'package.json',
  'README.md',
  'LICENSE',
  'LICENSE.md',
  'CHANGELOG.md',
  '.vscodeignore',
  'language-configuration.json',
  'examples/tiny.dsod.yaml',
];
const ROOT_DIRS = ['syntaxes', 'schemas'];
/** Not needed at run time inside node_modules packages. */
const SKIP_IN_PACKAGES = /(\.d\.[cm]?ts|\.map|\.md|\.gyp|\.cc|\.h)$/i;

function packageDir(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** sharp, its dependencies (transitively) and the target's native packages: name -> folder. */
export function runtimePackages(target) {
  const suffix = SHARP_PLATFORMS[target];
  if (!suffix) throw new Error(`no sharp binaries for the target "${target}" (known: ${Object.keys(SHARP_PLATFORMS).join(', ')})`);
  const found = new Map();
  const visit = (name, from, why) => {
    if (found.has(name)) return;
    const dir = packageDir(name, from);
    if (!dir) throw new Error(`${name} (${why}) is not installed`);
    found.set(name, dir);
    for (const dep of Object.keys(readJson(join(dir, 'package.json')).dependencies ?? {})) visit(dep, dir, `a dependency of ${name}`);
  };
  visit('sharp', repo, 'the engine loads it at run time');
  const sharpDir = found.get('sharp');
  const native = `@img/sharp-${suffix}`;
  const nativeDir = packageDir(native, sharpDir);
  if (!nativeDir) {
    const version = readJson(join(sharpDir, 'package.json')).version;
    const [os, cpu] = target
      .replace(/^alpine/, 'linux')
      .replace('armhf', 'arm')
      .split('-');
    throw new Error(
      `${native} is not installed, so a ${target} package would have no image decoder. Install it first:\n` +
        `  npm install --no-save --os=${os} --cpu=${cpu}${target.startsWith('alpine') ? ' --libc=musl' : ''} sharp@${version}`,
    );
  }
  found.set(native, nativeDir);
  // libvips: a separate package on Linux and macOS (an optional dependency of the native one); inside it on Windows.
  for (const dep of Object.keys(readJson(join(nativeDir, 'package.json')).optionalDependencies ?? {})) {
    const dir = packageDir(dep, nativeDir);
    if (!dir) throw new Error(`${dep} (libvips for ${native}) is not installed`);
    found.set(dep, dir);
  }
  return found;
}

function copyTree(from, to, filter = () => true) {
  cpSync(from, to, { recursive: true, dereference: true, filter: (src) => statSync(src).isDirectory() || filter(src) });
}

/** webgpu's JavaScript and the target's dawn.node (not the other platforms' 100 MB); the folder staged, or null. */
function stageDawn(target, to) {
  const dir = packageDir('webgpu', repo);
  const platform = DAWN_PLATFORMS[target];
  if (!dir || !platform || !existsSync(join(dir, 'dist', platform))) return null;
  for (const f of ['package.json', 'index.js', 'LICENSE.md']) if (existsSync(join(dir, f))) copyTree(join(dir, f), join(to, f));
  copyTree(join(dir, 'dist', platform), join(to, 'dist', platform));
  return `dist/${platform}`;
}

export function packageVsix({ target = hostTarget(), out, log = (m) => process.stderr.write(`[package] ${m}\n`) } = {}) {
  for (const f of [
    'dist/dsod.js',
    'dist/client/extension.js',
    'dist/server/main.js',
    'dist/webview/graph.js',
    'dist/webview/dashboard.js',
    'dist/webview/report.js',
  ]) {
    if (!existsSync(join(repo, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }
  const wasm = existsSync(join(repo, 'dist', 'wasm')) ? readdirSync(join(repo, 'dist', 'wasm')).filter((f) => f.endsWith('.wasm')) : [];
  if (wasm.length < 3) throw new Error('dist/wasm/*.wasm are missing: run `npm run build` first');
  const packages = runtimePackages(target);
  const stage = mkdtempSync(join(tmpdir(), 'dsod-vsix-'));
  try {
    for (const f of ROOT_FILES) if (existsSync(join(repo, f))) copyTree(join(repo, f), join(stage, f));
    for (const d of ROOT_DIRS) copyTree(join(repo, d), join(stage, d));
    copyTree(join(repo, 'dist'), join(stage, 'dist'), (src) => !src.endsWith('.map') && !relative(join(repo, 'dist'), src).startsWith('node_modules'));
    for (const [name, dir] of packages)
      copyTree(dir, join(stage, 'dist', 'node_modules', name), (src) => !SKIP_IN_PACKAGES.test(src) && !relative(dir, src).includes('node_modules'));
    log(`staged ${packages.size} runtime packages for ${target}: ${[...packages.keys()].join(', ')}`);
    const dawn = stageDawn(target, join(stage, 'dist', 'node_modules', 'webgpu'));
    log(dawn ? `staged webgpu (Dawn, ${dawn})` : `no webgpu (Dawn) for ${target}: the tfjs engine runs without WebGPU there`);
    const vsix = resolve(out ?? join(repo, `dsod-studio-${target}.vsix`));
    mkdirSync(dirname(vsix), { recursive: true });
    const vsce = join(repo, 'node_modules', '@vscode', 'vsce', 'vsce');
    // --allow-missing-repository / --skip-license: package.json has no "repository" and no license file is required;
    // without the flags vsce asks on the terminal.
    execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--target', target, '--allow-missing-repository', '--skip-license', '-o', vsix], {
      cwd: stage,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
    if (!existsSync(vsix)) throw new Error(`vsce did not write ${vsix}`);
    log(`${vsix}: ${(statSync(vsix).size / 2 ** 20).toFixed(1)} MiB`);
    return vsix;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { target: { type: 'string' }, out: { type: 'string' } } });
  try {
    const vsix = packageVsix({ target: values.target, out: values.out });
    process.stdout.write(`${vsix}\n`);
  } catch (e) {
    process.stderr.write(`package-vsix: ${e.stderr ? `${e.message}\n${e.stdout}\n${e.stderr}` : e.message}\n`);
    process.exit(1);
  }
}
