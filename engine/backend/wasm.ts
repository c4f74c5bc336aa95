// Loading tfjs's wasm backend under Node, offline: its .wasm binaries are read from disk (setWasmPaths with a
// folder path, never a URL), and our training kernels are registered before it is used.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from './wasm-kernels';

/** The binaries the backend may ask for (plain, SIMD, SIMD + threads). */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/**
 * Folders to look in, in order: $DSOD_TFJS_WASM_DIR; the installed package's dist/; next to this file
 * (a bundle that ships the .wasm files beside it, or in a `wasm/` folder beside it).
 */
export function wasmDirCandidates(): string[] {
  const out: string[] = [];
  if (process.env.DSOD_TFJS_WASM_DIR) out.push(process.env.DSOD_TFJS_WASM_DIR);
  try {
    out.push(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    // not installed as a package: a bundle may still carry the files
  }
  out.push(join(__dirname, 'wasm'), __dirname);
  return out;
}

/** The first folder that holds the plain and SIMD binaries, or null. */
export function findWasmDir(candidates: readonly string[] = wasmDirCandidates()): string | null {
  return candidates.find((d) => existsSync(join(d, WASM_FILES[0])) && existsSync(join(d, WASM_FILES[1]))) ?? null;
}

export interface WasmLoad {
  dir: string;
  simd: boolean;
  threads: boolean;
}

let loadedFrom: string | null = null;

/**
 * Make the `wasm` backend available (files located, kernels registered); does not switch to it.
 * Throws with the folders searched when the binaries are missing.
 */
export async function prepareWasm(options: { dir?: string } = {}): Promise<WasmLoad> {
  const candidates = options.dir ? [options.dir] : wasmDirCandidates();
  const dir = findWasmDir(candidates);
  if (!dir) throw new Error(`the tfjs wasm binaries (${WASM_FILES[0]}) are in none of: ${candidates.join(', ')}`);
  // Required here, not imported at the top: importing registers the backend, and only this function sets its paths.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  if (loadedFrom === null) {
    wasm.setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
    loadedFrom = dir;
  }
  registerWasmKernels();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return { dir: loadedFrom, simd, threads };
}
