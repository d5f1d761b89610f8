// Loads the native addon (packages/core/native/build/peft_native.node) if it was built.
// Every kernel takes the wasm heap ArrayBuffer plus byte offsets into it and works in place.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Elementwise and row-wise kernels, implemented by the addon and (same signatures) in JS. */
export interface KernelMath {
  gatherRows(heap: ArrayBuffer, x: number, idx: number, out: number, nIdx: number, rowLen: number, nRows: number): number;
  segmentSum(heap: ArrayBuffer, data: number, ids: number, out: number, nRows: number, rowLen: number, numSegments: number): void;
  sumLeading(heap: ArrayBuffer, x: number, out: number, outer: number, inner: number): void;
  /** [A, B, C, D] -> [A, C, B, D]. */
  swapMiddle(heap: ArrayBuffer, x: number, out: number, A: number, B: number, C: number, D: number): void;
  layerNorm(heap: ArrayBuffer, x: number, g: number, b: number, y: number, rows: number, dim: number, eps: number): void;
  layerNormGrad(heap: ArrayBuffer, x: number, g: number, dy: number, dx: number, dg: number, db: number, rows: number, dim: number, eps: number): void;
  rmsNorm(heap: ArrayBuffer, x: number, g: number, y: number, rows: number, dim: number, eps: number): void;
  rmsNormGrad(heap: ArrayBuffer, x: number, g: number, dy: number, dx: number, dg: number, rows: number, dim: number, eps: number): void;
  gelu(heap: ArrayBuffer, x: number, y: number, n: number): void;
  geluGrad(heap: ArrayBuffer, x: number, dy: number, dx: number, n: number): void;
  swiglu(heap: ArrayBuffer, a: number, b: number, y: number, n: number): void;
  swigluGrad(heap: ArrayBuffer, a: number, b: number, dy: number, da: number, db: number, n: number): void;
  causalSoftmax(heap: ArrayBuffer, x: number, y: number, batch: number, T: number, S: number, scale: number): void;
  causalSoftmaxGrad(heap: ArrayBuffer, y: number, dy: number, dx: number, batch: number, T: number, S: number, scale: number): void;
  crossEntropy(heap: ArrayBuffer, logits: number, targets: number, weights: number, loss: number, N: number, V: number): void;
  crossEntropyGrad(heap: ArrayBuffer, logits: number, targets: number, weights: number, dy: number, dlogits: number, N: number, V: number): void;
  adamw(
    heap: ArrayBuffer, p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number,
  ): void;
}

export interface NativeAddon extends KernelMath {
  setThreads(n: number): number;
  getThreads(): number;
  /** The OpenBLAS kernel set in use (e.g. 'SkylakeX', 'Haswell'). */
  coreName(): string;
  /** Batched sgemm with strides (0 = broadcast); bias/prelu offsets -1 when absent. */
  gemm(
    heap: ArrayBuffer, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    a: number, aStride: number, b: number, bStride: number, c: number, cStride: number,
    bias: number, biasLen: number, act: number, alpha: number, prelu: number, preluLen: number,
  ): void;
}

export const NATIVE_ADDON_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'peft_native.node');

let cached: { addon: NativeAddon | null; reason: string } | null = null;

/**
 * OpenBLAS 0.3.21 (Debian 12) does not know AMD Zen 4 and falls back to its AVX2 (Haswell)
 * kernels; its AVX-512 (SkylakeX) sgemm runs about twice as fast there. OpenBLAS reads
 * OPENBLAS_CORETYPE when it is loaded, so it is set (unless the user set it) before the addon
 * loads, on CPUs that have every AVX-512 subset the SkylakeX kernels use.
 */
function chooseBlasCore(): void {
  if (process.env.OPENBLAS_CORETYPE || process.env.PEFT_BENCH_BLAS_AUTOCORE === '0') return;
  try {
    const flags = new Set((/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/));
    if (['avx512f', 'avx512dq', 'avx512bw', 'avx512vl', 'avx512cd'].every((f) => flags.has(f))) {
      process.env.OPENBLAS_CORETYPE = 'SkylakeX';
    }
  } catch {
    // no /proc/cpuinfo: leave OpenBLAS's own detection
  }
}

/** The addon, or null with the reason it is unavailable (one sentence). */
export function loadNative(): { addon: NativeAddon | null; reason: string } {
  if (cached) return cached;
  if (process.env.PEFT_BENCH_DISABLE_NATIVE === '1') {
    cached = { addon: null, reason: 'native addon disabled by PEFT_BENCH_DISABLE_NATIVE=1' };
  } else if (!existsSync(NATIVE_ADDON_PATH)) {
    cached = { addon: null, reason: 'native addon not built (cc/libopenblas-dev missing at install; run `node packages/core/native/build.mjs`)' };
  } else {
    try {
      chooseBlasCore();
      const addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
      cached = { addon, reason: 'native addon loaded' };
    } catch (err) {
      cached = { addon: null, reason: `native addon failed to load: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  return cached;
}
