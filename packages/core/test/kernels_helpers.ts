// Shared helpers for the kernel tests: run the same computation on the plain cpu backend and on
// the accelerated wasm backend, and compare with a norm-wise relative error.
import * as tf from '@tensorflow/tfjs-core';

export type Arrays = { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' }[];

let seed = 12345;
/** Deterministic pseudo-random floats in [-1, 1). */
export function randomArray(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = (seed / 2 ** 32) * 2 - 1;
  }
  return out;
}

export function input(shape: number[], scale = 1): Arrays[number] {
  const n = shape.reduce((p, q) => p * q, 1);
  return { data: randomArray(n).map((v) => v * scale), shape, dtype: 'float32' };
}

export function intInput(values: number[], shape = [values.length]): Arrays[number] {
  return { data: Int32Array.from(values), shape, dtype: 'int32' };
}

/** Runs f on tensors built from `inputs` on `backend`; returns every output as arrays. */
export async function runOn(backend: string, inputs: Arrays, f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = inputs.map((i) => tf.tensor(i.data, i.shape, i.dtype));
  const outs = tf.tidy(() => {
    const r = f(...xs);
    return Array.isArray(r) ? r : [r];
  });
  const arrays = outs.map((o) => Float32Array.from(o.dataSync()));
  tf.dispose([...outs, ...xs]);
  return arrays;
}

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  if (!Number.isFinite(num)) return Infinity;
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

/** Largest relative error over all outputs of f on `backend` against the cpu backend. */
export async function compareWithCpu(
  backend: string, inputs: Arrays, f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], ref = f,
): Promise<number> {
  const got = await runOn(backend, inputs, f);
  const want = await runOn('cpu', inputs, ref);
  await tf.setBackend(backend);
  if (got.length !== want.length) return Infinity;
  return Math.max(...got.map((g, i) => relErr(g, want[i]!)));
}

/** Value and gradients (w.r.t. the float inputs) of sum(f(...) * fixed weights). */
export function withGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, gradArgs: number[]) {
  return (...xs: tf.Tensor[]): tf.Tensor[] => {
    const y = f(...xs);
    const w = tf.tensor(randomArrayFixed(y.size), y.shape);
    const loss = (...args: tf.Tensor[]) => {
      const all = xs.slice();
      gradArgs.forEach((k, i) => (all[k] = args[i]!));
      return f(...all).mul(w).sum();
    };
    const grads = tf.grads(loss)(gradArgs.map((k) => xs[k]!));
    return [y, ...grads];
  };
}

// Fixed upstream weights (the same on both backends).
function randomArrayFixed(n: number): Float32Array {
  const out = new Float32Array(n);
  let s = 777;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}
