// Backend selection for training: TensorFlow (tfjs-node / tfjs-node-gpu) when installed, else the
// wasm backend with OpenBLAS kernels from the native addon, else the wasm backend with pure-JS
// kernels (same numerics), else the plain cpu backend. The chosen backend goes into every record.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { opsName, setOps } from '../ops.ts';
import { fusedOps, installFusedKernels } from './fused.ts';
import { registerMatMulGradient } from './gradients.ts';
import { installWasmKernels } from './kernels.ts';
import { loadNative } from './native.ts';
import { usePureWasmKernels } from './pure_wasm.ts';
import { ensureTfjsExtras } from './tfjs_extras.ts';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm-blas' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** What actually runs; goes into every record. */
  name: 'tensorflow' | 'wasm-blas' | 'wasm' | 'cpu';
  /** BLAS / worker threads in use. */
  threads: number;
  /** Native addon loaded. */
  native: boolean;
  /** opsName() after init. */
  fusedOps: string;
  /** One human sentence describing the setup. */
  note: string;
}

export { linear } from './linear.ts';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm-blas', 'wasm', 'cpu'];

const require = createRequire(import.meta.url);
let current: BackendInfo | null = null;

// Gradients and chained tensor methods are needed on every backend (tfjs-core alone lacks them).
ensureTfjsExtras();
registerMatMulGradient();

function validChoices(): string {
  return BACKEND_CHOICES.join(', ');
}

/** Parses a backend name; throws, listing the valid choices, before any work is done. */
export function parseBackendChoice(value: string | undefined): BackendChoice {
  const v = (value ?? 'auto').trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new Error(`Unknown backend "${value}". Valid choices: ${validChoices()}.`);
}

function parseThreads(value: number | string | undefined): number {
  if (value == null || value === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new Error(`Invalid thread count "${value}": expected an integer from 1 to 64 (PEFT_BENCH_THREADS or the threads option).`);
  }
  return n;
}

let tensorflowProbe: { ok: true; pkg: string } | { ok: false; reason: string } | null = null;

/** Loads tfjs-node-gpu or tfjs-node if installed (they register the 'tensorflow' backend). Probed once. */
function tryTensorflow(): { ok: true; pkg: string } | { ok: false; reason: string } {
  tensorflowProbe ??= probeTensorflow();
  // Loading them also loads the @tensorflow/tfjs bundle, whose gradients replace ours: restore.
  registerMatMulGradient();
  return tensorflowProbe;
}

function probeTensorflow(): { ok: true; pkg: string } | { ok: false; reason: string } {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require(pkg);
      if (tf.findBackend('tensorflow') != null || tf.engine().registryFactory['tensorflow'] != null) return { ok: true, pkg };
      reasons.push(`${pkg} loaded but registered no 'tensorflow' backend`);
    } catch (err) {
      reasons.push(`${pkg}: ${String((err as Error).message).split('\n')[0]}`);
    }
  }
  return { ok: false, reason: reasons.join('; ') };
}

let wasmPathsSet = false;

async function startWasm(): Promise<void> {
  try {
    await startWasmOnce();
  } catch (err) {
    throw new Error(`the wasm backend failed to start (${(err as Error).message}). Valid choices: ${validChoices()}.`);
  }
}

async function startWasmOnce(): Promise<void> {
  if (!wasmPathsSet) {
    // Node has no fetch for file paths: point the loader at the installed .wasm files. Threads do
    // not work in Node's wasm, so the SIMD build is used.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
    setWasmPaths(dist);
    wasmPathsSet = true;
  }
  const ok = await tf.setBackend('wasm');
  if (!ok || tf.getBackend() !== 'wasm') throw new Error('tf.setBackend("wasm") returned false');
}

async function selectTensorflow(): Promise<BackendInfo> {
  const r = tryTensorflow();
  if (!r.ok) throw new Error(`backend "tensorflow" is not available (${r.reason}). Valid choices: ${validChoices()}.`);
  const ok = await tf.setBackend('tensorflow');
  if (!ok) throw new Error(`backend "tensorflow" failed to initialise. Valid choices: ${validChoices()}.`);
  setOps('reference', {});
  // threads: 0 = TensorFlow manages its own thread pools.
  return { name: 'tensorflow', threads: 0, native: false, fusedOps: opsName(), note: `TensorFlow C library via ${r.pkg}, reference ops` };
}

async function selectWasmBlas(threads: number): Promise<BackendInfo> {
  const { addon, reason } = loadNative();
  if (!addon) throw new Error(`backend "wasm-blas" is not available: ${reason}. Valid choices: ${validChoices()}.`);
  await startWasm();
  const actual = addon.setThreads(threads);
  installWasmKernels('native', addon);
  installFusedKernels(addon);
  setOps('fused-native', fusedOps);
  return {
    name: 'wasm-blas', threads: actual, native: true, fusedOps: opsName(),
    note: `wasm + OpenBLAS sgemm (${addon.coreName()} kernels) and fused C kernels (native addon), ${actual} thread${actual === 1 ? '' : 's'}`,
  };
}

async function selectWasm(why: string): Promise<BackendInfo> {
  await startWasm();
  usePureWasmKernels();
  return { name: 'wasm', threads: 1, native: false, fusedOps: opsName(), note: `${why}: pure-wasm kernels (XNNPACK matMul + fused JS ops), same numerics, 1 thread` };
}

async function selectCpu(): Promise<BackendInfo> {
  const ok = await tf.setBackend('cpu');
  if (!ok) throw new Error(`backend "cpu" failed to initialise. Valid choices: ${validChoices()}.`);
  setOps('reference', {});
  return { name: 'cpu', threads: 1, native: false, fusedOps: opsName(), note: 'plain tfjs cpu backend (slow; for reference checks)' };
}

/**
 * Selects and initialises the backend. `auto`: tensorflow if tfjs-node(-gpu) loads, else wasm-blas
 * if the native addon loads, else wasm, else cpu. An explicit choice that cannot be honoured throws.
 * `threads` (default 1, or PEFT_BENCH_THREADS) sets the OpenBLAS threads of wasm-blas. Without
 * `backend`, PEFT_BENCH_BACKEND is read, then `auto`.
 */
export async function initBackend(opts: { backend?: BackendChoice | string; threads?: number } = {}): Promise<BackendInfo> {
  const choice = parseBackendChoice(opts.backend ?? process.env.PEFT_BENCH_BACKEND);
  const threads = parseThreads(opts.threads ?? process.env.PEFT_BENCH_THREADS);
  ensureTfjsExtras();
  let info: BackendInfo;
  switch (choice) {
    case 'tensorflow':
      info = await selectTensorflow();
      break;
    case 'wasm-blas':
      info = await selectWasmBlas(threads);
      break;
    case 'wasm':
      info = await selectWasm('wasm chosen explicitly');
      break;
    case 'cpu':
      info = await selectCpu();
      break;
    case 'auto': {
      if (tryTensorflow().ok) {
        info = await selectTensorflow();
        break;
      }
      const native = loadNative();
      if (native.addon) {
        info = await selectWasmBlas(threads);
        break;
      }
      try {
        info = await selectWasm(native.reason);
      } catch (err) {
        info = await selectCpu();
        info.note = `wasm failed to start (${(err as Error).message}): ${info.note}`;
      }
      break;
    }
  }
  current = info;
  return info;
}

/** The backend chosen by the last initBackend, or null before it. */
export function backendInfo(): BackendInfo | null {
  return current;
}
