// The pure-JS versions of the native kernels (same signatures, same formulas), used on the
// `wasm` backend when the addon is not available. They work on typed-array views of the heap.
import type { KernelMath } from './native.ts';

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_K = 0.044715;

let viewsOf: ArrayBuffer | null = null;
let f32 = new Float32Array(0);
let i32 = new Int32Array(0);

/** Float32/Int32 views of the heap; rebuilt only when the heap grew (new buffer). */
function views(heap: ArrayBuffer): { f: Float32Array; i: Int32Array } {
  if (heap !== viewsOf || f32.buffer !== heap) {
    f32 = new Float32Array(heap);
    i32 = new Int32Array(heap);
    viewsOf = heap;
  }
  return { f: f32, i: i32 };
}

function rowLse(f: Float32Array, off: number, V: number): number {
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, f[off + j]!);
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(f[off + j]! - mx);
  return mx + Math.log(sum);
}

export const jsMath: KernelMath = {
  gatherRows(heap, x, idx, out, nIdx, rowLen, nRows) {
    const { f, i } = views(heap);
    const xo = x >> 2, io = idx >> 2, oo = out >> 2;
    for (let r = 0; r < nIdx; r++) {
      const src = i[io + r]!;
      if (src < 0 || src >= nRows) return r;
      f.copyWithin(oo + r * rowLen, xo + src * rowLen, xo + (src + 1) * rowLen);
    }
    return -1;
  },
  segmentSum(heap, data, ids, out, nRows, rowLen, numSegments) {
    const { f, i } = views(heap);
    const d0 = data >> 2, s0 = ids >> 2, o0 = out >> 2;
    f.fill(0, o0, o0 + numSegments * rowLen);
    for (let r = 0; r < nRows; r++) {
      const s = i[s0 + r]!;
      if (s < 0 || s >= numSegments) continue;
      const o = o0 + s * rowLen, d = d0 + r * rowLen;
      for (let j = 0; j < rowLen; j++) f[o + j] += f[d + j]!;
    }
  },
  sumLeading(heap, x, out, outer, inner) {
    const { f } = views(heap);
    const x0 = x >> 2, o0 = out >> 2;
    f.fill(0, o0, o0 + inner);
    for (let r = 0; r < outer; r++) {
      const xr = x0 + r * inner;
      for (let j = 0; j < inner; j++) f[o0 + j] += f[xr + j]!;
    }
  },
  swapMiddle(heap, x, out, A, B, C, D) {
    const { f } = views(heap);
    const x0 = x >> 2, o0 = out >> 2;
    for (let i = 0; i < A; i++) {
      for (let j = 0; j < B; j++) {
        for (let k = 0; k < C; k++) {
          const src = x0 + ((i * B + j) * C + k) * D;
          f.copyWithin(o0 + ((i * C + k) * B + j) * D, src, src + D);
        }
      }
    }
  },
  layerNorm(heap, x, g, b, y, rows, dim, eps) {
    const { f } = views(heap);
    const g0 = g >> 2, b0 = b >> 2;
    for (let r = 0; r < rows; r++) {
      const xr = (x >> 2) + r * dim, yr = (y >> 2) + r * dim;
      let s = 0;
      for (let i = 0; i < dim; i++) s += f[xr + i]!;
      const mean = s / dim;
      let v = 0;
      for (let i = 0; i < dim; i++) v += (f[xr + i]! - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / dim + eps);
      for (let i = 0; i < dim; i++) f[yr + i] = (f[xr + i]! - mean) * rstd * f[g0 + i]! + f[b0 + i]!;
    }
  },
  layerNormGrad(heap, x, g, dy, dx, dg, db, rows, dim, eps) {
    const { f } = views(heap);
    const g0 = g >> 2, dg0 = dg >> 2, db0 = db >> 2;
    f.fill(0, dg0, dg0 + dim);
    f.fill(0, db0, db0 + dim);
    for (let r = 0; r < rows; r++) {
      const xr = (x >> 2) + r * dim, dyr = (dy >> 2) + r * dim, dxr = (dx >> 2) + r * dim;
      let s = 0;
      for (let i = 0; i < dim; i++) s += f[xr + i]!;
      const mean = s / dim;
      let v = 0;
      for (let i = 0; i < dim; i++) v += (f[xr + i]! - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / dim + eps);
      let sumDyg = 0, sumDygXhat = 0;
      for (let i = 0; i < dim; i++) {
        const xhat = (f[xr + i]! - mean) * rstd;
        const d = f[dyr + i]!;
        const dyg = d * f[g0 + i]!;
        sumDyg += dyg;
        sumDygXhat += dyg * xhat;
        f[dg0 + i] += d * xhat;
        f[db0 + i] += d;
      }
      const m1 = sumDyg / dim, m2 = sumDygXhat / dim;
      for (let i = 0; i < dim; i++) {
        const xhat = (f[xr + i]! - mean) * rstd;
        f[dxr + i] = rstd * (f[dyr + i]! * f[g0 + i]! - m1 - xhat * m2);
      }
    }
  },
  rmsNorm(heap, x, g, y, rows, dim, eps) {
    const { f } = views(heap);
    const g0 = g >> 2;
    for (let r = 0; r < rows; r++) {
      const xr = (x >> 2) + r * dim, yr = (y >> 2) + r * dim;
      let ss = 0;
      for (let i = 0; i < dim; i++) ss += f[xr + i]! * f[xr + i]!;
      const rr = 1 / Math.sqrt(ss / dim + eps);
      for (let i = 0; i < dim; i++) f[yr + i] = f[xr + i]! * rr * f[g0 + i]!;
    }
  },
  rmsNormGrad(heap, x, g, dy, dx, dg, rows, dim, eps) {
    const { f } = views(heap);
    const g0 = g >> 2, dg0 = dg >> 2;
    f.fill(0, dg0, dg0 + dim);
    for (let r = 0; r < rows; r++) {
      const xr = (x >> 2) + r * dim, dyr = (dy >> 2) + r * dim, dxr = (dx >> 2) + r * dim;
      let ss = 0;
      for (let i = 0; i < dim; i++) ss += f[xr + i]! * f[xr + i]!;
      const rr = 1 / Math.sqrt(ss / dim + eps);
      let dot = 0;
      for (let i = 0; i < dim; i++) {
        dot += f[dyr + i]! * f[g0 + i]! * f[xr + i]!;
        f[dg0 + i] += f[dyr + i]! * f[xr + i]! * rr;
      }
      const k = (dot * rr * rr * rr) / dim;
      for (let i = 0; i < dim; i++) f[dxr + i] = f[dyr + i]! * f[g0 + i]! * rr - f[xr + i]! * k;
    }
  },
  gelu(heap, x, y, n) {
    const { f } = views(heap);
    const x0 = x >> 2, y0 = y >> 2;
    // 0.5·v·(1 + tanh(u)) = v - v / (exp(2u) + 1): Math.exp is about twice as fast as Math.tanh
    for (let i = 0; i < n; i++) {
      const v = f[x0 + i]!;
      f[y0 + i] = v - v / (Math.exp(2 * GELU_C * (v + GELU_K * v * v * v)) + 1);
    }
  },
  geluGrad(heap, x, dy, dx, n) {
    const { f } = views(heap);
    const x0 = x >> 2, dy0 = dy >> 2, dx0 = dx >> 2;
    for (let i = 0; i < n; i++) {
      const v = f[x0 + i]!;
      // s = 1 / (exp(2u) + 1): tanh(u) = 1 - 2s and 1 - tanh(u)^2 = 4s(1 - s), finite for any u
      const s = 1 / (Math.exp(2 * GELU_C * (v + GELU_K * v * v * v)) + 1);
      const dinner = GELU_C * (1 + 3 * GELU_K * v * v);
      f[dx0 + i] = f[dy0 + i]! * (1 - s + 2 * v * s * (1 - s) * dinner);
    }
  },
  swiglu(heap, a, b, y, n) {
    const { f } = views(heap);
    const a0 = a >> 2, b0 = b >> 2, y0 = y >> 2;
    for (let i = 0; i < n; i++) {
      const v = f[a0 + i]!;
      f[y0 + i] = (v / (1 + Math.exp(-v))) * f[b0 + i]!;
    }
  },
  swigluGrad(heap, a, b, dy, da, db, n) {
    const { f } = views(heap);
    const a0 = a >> 2, b0 = b >> 2, dy0 = dy >> 2, da0 = da >> 2, db0 = db >> 2;
    for (let i = 0; i < n; i++) {
      const v = f[a0 + i]!;
      const s = 1 / (1 + Math.exp(-v));
      const silu = v * s;
      const d = f[dy0 + i]!;
      f[db0 + i] = d * silu;
      f[da0 + i] = d * f[b0 + i]! * (s + silu * (1 - s));
    }
  },
  causalSoftmax(heap, x, y, batch, T, S, scale) {
    const { f } = views(heap);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < T; t++) {
        const xr = (x >> 2) + (b * T + t) * S, yr = (y >> 2) + (b * T + t) * S;
        const visible = Math.min(S, t + (S - T) + 1);
        if (visible <= 0) {
          f.fill(1 / S, yr, yr + S);
          continue;
        }
        let mx = -Infinity;
        for (let s = 0; s < visible; s++) mx = Math.max(mx, f[xr + s]! * scale);
        let sum = 0;
        for (let s = 0; s < visible; s++) {
          const e = Math.exp(f[xr + s]! * scale - mx);
          f[yr + s] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let s = 0; s < visible; s++) f[yr + s] *= inv;
        f.fill(0, yr + visible, yr + S);
      }
    }
  },
  causalSoftmaxGrad(heap, y, dy, dx, batch, T, S, scale) {
    const { f } = views(heap);
    const rows = batch * T;
    for (let r = 0; r < rows; r++) {
      const yr = (y >> 2) + r * S, dyr = (dy >> 2) + r * S, dxr = (dx >> 2) + r * S;
      let dot = 0;
      for (let s = 0; s < S; s++) dot += f[dyr + s]! * f[yr + s]!;
      for (let s = 0; s < S; s++) f[dxr + s] = scale * f[yr + s]! * (f[dyr + s]! - dot);
    }
  },
  crossEntropy(heap, logits, targets, weights, loss, N, V) {
    const { f, i } = views(heap);
    let total = 0, wsum = 0;
    for (let r = 0; r < N; r++) {
      const w = f[(weights >> 2) + r]!;
      wsum += w;
      const t = i[(targets >> 2) + r]!;
      if (t < 0 || t >= V || w === 0) continue;
      const xr = (logits >> 2) + r * V;
      total += w * (rowLse(f, xr, V) - f[xr + t]!);
    }
    f[loss >> 2] = total / Math.max(wsum, 1e-12);
  },
  crossEntropyGrad(heap, logits, targets, weights, dy, dlogits, N, V) {
    const { f, i } = views(heap);
    let wsum = 0;
    for (let r = 0; r < N; r++) wsum += f[(weights >> 2) + r]!;
    const coef = f[dy >> 2]! / Math.max(wsum, 1e-12);
    for (let r = 0; r < N; r++) {
      const xr = (logits >> 2) + r * V, dr = (dlogits >> 2) + r * V;
      const t = i[(targets >> 2) + r]!;
      const w = f[(weights >> 2) + r]! * coef;
      if (t < 0 || t >= V || w === 0) {
        f.fill(0, dr, dr + V);
        continue;
      }
      const lse = rowLse(f, xr, V);
      for (let j = 0; j < V; j++) f[dr + j] = w * Math.exp(f[xr + j]! - lse);
      f[dr + t] -= w;
    }
  },
  adamw(heap, p, g, m, v, pOut, mOut, vOut, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2) {
    const { f } = views(heap);
    const p0 = p >> 2, g0 = g >> 2, m0 = m >> 2, v0 = v >> 2, po = pOut >> 2, mo = mOut >> 2, vo = vOut >> 2;
    const decay = 1 - lr * weightDecay;
    for (let i = 0; i < n; i++) {
      const gi = f[g0 + i]!;
      const m1 = f[m0 + i]! * beta1 + gi * (1 - beta1);
      const v1 = f[v0 + i]! * beta2 + gi * gi * (1 - beta2);
      const upd = m1 / bc1 / (Math.sqrt(v1 / bc2) + eps);
      f[mo + i] = m1;
      f[vo + i] = v1;
      f[po + i] = (weightDecay !== 0 ? f[p0 + i]! * decay : f[p0 + i]!) - upd * lr;
    }
  },
};
