// Loading tfjs's wasm backend under Node, offline: its .wasm binaries are read from disk (setWasmPaths with a
// folder path, never a URL), and our training kernels are registered before it is used. With 2 or more threads it
// loads the threaded SIMD build, which tfjs leaves off under Node (see wasm-threads.ts for why and how).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from './wasm-kernels';
import { startThreadedWasm, THREADED_FACTORY, wasmThreadsWanted, type ThreadsWanted } from './wasm-threads';

/** The binaries the backend may ask for (plain, SIMD, SIMD + threads). */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/**
 * Folders to look in, in order: $DSOD_TFJS_WASM_DIR; the installed package's dist/; next to this file
 * (a bundle that ships the .wasm files beside it, or in a `wasm/` folder beside it).
 */
export function wasmDirCandidates(): string[] {
  const out: string[] = [];
  if (process.env.DSOD_TFJS_WASM_DIR) out.push(process.env.DSOD_TFJS_WASM_DIR);
  const pkg = wasmPackageDir();
  if (pkg) out.push(join(pkg, 'dist'));
  out.push(join(__dirname, 'wasm'), __dirname);
  return out;
}

function wasmPackageDir(): string | null {
  try {
    return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  } catch {
    return null; // not installed as a package: a bundle may still carry the files
  }
}

/** The first folder that holds the plain and SIMD binaries, or null. */
export function findWasmDir(candidates: readonly string[] = wasmDirCandidates()): string | null {
  return candidates.find((d) => existsSync(join(d, WASM_FILES[0])) && existsSync(join(d, WASM_FILES[1]))) ?? null;
}

/**
 * Where the threaded build's Emscripten script is: beside the binaries (the bundle's dist/wasm/, copied by
 * esbuild.mjs) or in the package's wasm-out/. Its pthread workers load it by path.
 */
export function findThreadedFactory(dir: string): string | null {
  const pkg = wasmPackageDir();
  const candidates = [join(dir, THREADED_FACTORY), ...(pkg ? [join(pkg, 'wasm-out', THREADED_FACTORY)] : [])];
  return candidates.find((f) => existsSync(f)) ?? null;
}

export interface WasmLoad {
  dir: string;
  simd: boolean;
  /** Threads XNNPACK computes with (1: the single-threaded SIMD build). */
  threads: number;
  /** How many were asked for and why (the machine's cores, or $DSOD_WASM_THREADS). */
  wanted: ThreadsWanted;
  /** Why fewer threads than wanted run (the threaded build failed to start); null when all run. */
  threadsNote: string | null;
}

let loadedFrom: string | null = null;
let threadedFactory: (() => tf.KernelBackend) | null = null;
let threadsNote: string | null = null;

/**
 * Make the `wasm` backend available (files located, kernels registered); does not switch to it. With more than one
 * thread wanted, the threaded build is started here (so its thread count is known) and registered as `wasm`; if it
 * cannot start, the single-threaded SIMD build stays, and `threadsNote` says why.
 * Throws with the folders searched when the binaries are missing.
 */
export async function prepareWasm(options: { dir?: string } = {}): Promise<WasmLoad> {
  const candidates = options.dir ? [options.dir] : wasmDirCandidates();
  const dir = findWasmDir(candidates);
  if (!dir) throw new Error(`the tfjs wasm binaries (${WASM_FILES[0]}) are in none of: ${candidates.join(', ')}`);
  const wanted = wasmThreadsWanted();
  // Required here, not imported at the top: importing registers the backend, and only this function sets its paths.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  if (loadedFrom === null) {
    wasm.setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
    loadedFrom = dir;
    // tfjs says "no threads" under Node; the single-threaded path must not pick the threaded binary either.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  registerWasmKernels();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  if (wanted.threads > 1 && simd && threadedFactory === null && !wasmStarted()) {
    const factory = findThreadedFactory(loadedFrom);
    if (!factory) {
      threadsNote = `the threaded build's ${THREADED_FACTORY} is in none of: ${loadedFrom}, the package's wasm-out/`;
    } else {
      const original = tf.findBackendFactory('wasm');
      try {
        const backend = await startThreadedWasm(wanted.threads, factory, original as () => Promise<tf.KernelBackend>);
        threadedFactory = () => backend;
        tf.removeBackend('wasm');
        tf.registerBackend('wasm', threadedFactory, 2);
      } catch (e) {
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        threadsNote = `the threaded build did not start (${String((e as Error)?.message ?? e).split('\n')[0]}), 1 thread`;
      }
    }
  }
  return { dir: loadedFrom, simd, threads: wasmThreads(), wanted, threadsNote };
}

/** Whether a `wasm` backend instance exists already (its threads are fixed then). */
function wasmStarted(): boolean {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry.wasm !== undefined;
}

/** Threads of the registered `wasm` backend: the threaded one's count, else 1. */
export function wasmThreads(): number {
  if (threadedFactory && tf.findBackendFactory('wasm') === threadedFactory) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  }
  return 1;
}
