// The threaded SIMD build of tfjs's wasm backend under Node. tfjs 4.22 turns threads off under Node
// (WASM_HAS_MULTITHREAD_SUPPORT is false there) because of three things, each handled here while the build starts:
// - its pthread worker script is handed to Emscripten as a blob: URL, which Node's Worker cannot load: the script is
//   written to a private temporary file instead (URL.createObjectURL answers that path while the module starts);
// - each worker then loads the Emscripten factory from a Blob the same way: the worker script, extended here, answers
//   the path of the factory's own file (tfjs-backend-wasm-threaded-simd.js) instead;
// - the C++ side caps the pool at emscripten_num_logical_cores() / 2 (it assumes 2 hyperthreads a core), which is
//   os.cpus().length / 2 under Node: 1 thread on 2 cores, whatever setThreadsCount asked. os.cpus answers twice the
//   threads wanted while the module starts, and the count the pool reports is checked.
// The running pthread workers are unref'd, so a process still exits when its work is done.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';

/**
 * Set to 2..8 to train on the threaded SIMD build with that many threads; unset or 1: one thread (the single-threaded
 * SIMD build). Off by default: on 2 cores it was 1.65x faster for DSOD300 and 1.06x for the tiny example on an idle
 * machine, but 0.4-0.8x as soon as other processes shared the cores (docs/engine-notes.md).
 */
export const WASM_THREADS_ENV = 'DSOD_WASM_THREADS';
/** The threaded build starts 8 pthread workers; tfjs caps its pool at 8. */
export const MAX_WASM_THREADS = 8;
/** The Emscripten script of the threaded build; its workers load it by path. */
export const THREADED_FACTORY = 'tfjs-backend-wasm-threaded-simd.js';

export interface ThreadsWanted {
  threads: number;
  /** `DSOD_WASM_THREADS=2`, or the default and how to change it. */
  why: string;
}

/** Threads to compute with: $DSOD_WASM_THREADS when set, else 1. */
export function wasmThreadsWanted(env: NodeJS.ProcessEnv = process.env, cores: number = availableParallelism()): ThreadsWanted {
  const raw = env[WASM_THREADS_ENV]?.trim();
  if (raw) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
      throw new EngineError('usage', `${WASM_THREADS_ENV}=${raw}: expected a whole number of threads from 1 to ${MAX_WASM_THREADS}`);
    }
    return { threads: n, why: `${WASM_THREADS_ENV}=${n}` };
  }
  // Not by default (issue 12, item 7): slower than 1 thread whenever the cores are shared (see WASM_THREADS_ENV).
  return { threads: 1, why: `the default; ${WASM_THREADS_ENV}=${Math.min(Math.max(cores, 2), MAX_WASM_THREADS)} for the threaded build` };
}

interface PthreadWorker {
  unref(): void;
}
interface ThreadedModule {
  PThread: { runningWorkers: PthreadWorker[] };
  tfjs: { getThreadsCount(): number };
}

type OsModule = { cpus: () => unknown[] };

/**
 * Start the threaded build with `threads` threads through tfjs's own backend factory (`original`), and return the
 * backend. Throws if it does not start or runs another number of threads.
 */
export async function startThreadedWasm(
  threads: number,
  factoryPath: string,
  original: () => Promise<tf.KernelBackend> | tf.KernelBackend,
): Promise<tf.KernelBackend> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  // The very object the Emscripten code calls require("os").cpus() on (an `import` would give a copy).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const os = require('node:os') as OsModule;
  const dir = mkdtempSync(join(tmpdir(), 'dsod-wasm-threads-'));
  const workerPath = join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  // Newlines inside the script's string literals are escaped, as tfjs does before making its blob.
  const script = `${wasmWorkerContents.replace(/\n/g, '\\n')};URL.createObjectURL=()=>${JSON.stringify(factoryPath)};URL.revokeObjectURL=()=>{};\n`;
  writeFileSync(workerPath, script, { mode: 0o600 });
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  try {
    URL.createObjectURL = () => workerPath;
    os.cpus = () => {
      const real = cpus.call(os);
      return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]);
    };
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    const backend = await original();
    const module = (backend as unknown as { wasm: ThreadedModule }).wasm;
    for (const w of module.PThread.runningWorkers) w.unref();
    const got = module.tfjs.getThreadsCount();
    if (got !== threads) {
      backend.dispose();
      throw new Error(`asked for ${threads} threads, the pool has ${got}`);
    }
    return backend;
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
    // Every pthread worker has read both scripts once the module is ready (it waits for all 8 to load).
    rmSync(dir, { recursive: true, force: true });
  }
}
