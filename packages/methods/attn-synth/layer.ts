// The attn-synth update of one linear: ΔW synthesised from W's own windows by sliding-window
// attention (see README.md for the formula). Everything derived from W (keys, values, mask) is
// computed once on the host at attach; a forward pass only scores, normalises and mixes.
// Orientation: HF's [out, in] = [m, n] throughout; the attachment transposes for our [in, out] kernels.
import * as tf from '@tensorflow/tfjs-core';
import type { Linear } from '@peft-bench/core/model/modules';
import { hostCopy, transpose, variableOf, zeros } from '../src/tensors.ts';

/** Masked (off-grid) neighbours get this score, so softmax gives them weight 0 (not -Infinity: no NaN in gradients). */
const MASKED = -1e9;

export interface SynthShape {
  /** W is [m, n] (out, in). */
  m: number;
  n: number;
  /** Window side w and pooled key side k = ceil(w / pool). */
  w: number;
  k: number;
  /** Window grid: R = ceil(m / w) row blocks, C = ceil(n / w) column blocks. */
  R: number;
  C: number;
  /** Neighbour offsets (da, db), |da| <= min(radius, R-1), |db| <= min(radius, C-1). */
  offsets: [number, number][];
}

export function synthShape(m: number, n: number, w: number, pool: number, radius: number): SynthShape {
  const R = Math.ceil(m / w);
  const C = Math.ceil(n / w);
  const ra = Math.min(radius, R - 1);
  const rb = Math.min(radius, C - 1);
  const offsets: [number, number][] = [];
  for (let da = -ra; da <= ra; da++) for (let db = -rb; db <= rb; db++) offsets.push([da, db]);
  return { m, n, w, k: Math.ceil(w / pool), R, C, offsets };
}

/** Trainable scalars of one module: (R + C)·k² queries + 1 gate. */
export function synthParamCount(s: SynthShape): number {
  return (s.R + s.C) * s.k * s.k + 1;
}

/**
 * Host-side constants of one module: V [R·C, Nb, w²] (each position's neighbour windows of W, zero off the
 * grid), K̂ [R, C, Nb, k²] (their average-pooled keys over the RMS of all keys), mask [R, C, Nb].
 */
export function synthConstants(W: Float32Array, s: SynthShape): { V: Float32Array; K: Float32Array; mask: Float32Array } {
  const { m, n, w, k, R, C, offsets } = s;
  const Nb = offsets.length;
  // Adaptive average pooling of a w-long side into k cells: cell(t) = floor(t·k/w).
  const cell = (t: number) => Math.floor((t * k) / w);
  const cellSize = new Array<number>(k).fill(0);
  for (let t = 0; t < w; t++) cellSize[cell(t)]!++;
  const at = (i: number, j: number) => (i < m && j < n ? W[i * n + j]! : 0); // zero padding to R·w x C·w
  // Windows and pooled keys of the whole grid: win [R, C, w, w], key [R, C, k, k].
  const win = new Float32Array(R * C * w * w);
  const key = new Float64Array(R * C * k * k);
  for (let a = 0; a < R; a++) {
    for (let b = 0; b < C; b++) {
      const base = (a * C + b) * w * w;
      const kb = (a * C + b) * k * k;
      for (let i = 0; i < w; i++) {
        for (let j = 0; j < w; j++) {
          const x = at(a * w + i, b * w + j);
          win[base + i * w + j] = x;
          key[kb + cell(i) * k + cell(j)] += x / (cellSize[cell(i)]! * cellSize[cell(j)]!);
        }
      }
    }
  }
  let ss = 0;
  for (const x of key) ss += x * x;
  const rms = Math.sqrt(ss / key.length) || 1;
  const V = new Float32Array(R * C * Nb * w * w);
  const K = new Float32Array(R * C * Nb * k * k);
  const mask = new Float32Array(R * C * Nb);
  for (let a = 0; a < R; a++) {
    for (let b = 0; b < C; b++) {
      offsets.forEach(([da, db], o) => {
        const p = (a * C + b) * Nb + o;
        const a2 = a + da;
        const b2 = b + db;
        if (a2 < 0 || a2 >= R || b2 < 0 || b2 >= C) {
          mask[p] = MASKED;
          return;
        }
        const src = a2 * C + b2;
        V.set(win.subarray(src * w * w, (src + 1) * w * w), p * w * w);
        for (let e = 0; e < k * k; e++) K[p * k * k + e] = key[src * k * k + e]! / rms;
      });
    }
  }
  return { V, K, mask };
}

/** One targeted linear: its queries, gate and constants; delta() is ΔW [m, n], differentiable in them. */
export class SynthModule {
  readonly queryRows: tf.Variable; // [R, k, k]
  readonly queryCols: tf.Variable; // [C, k, k]
  readonly gate: tf.Variable; // [1]
  private readonly V: tf.Tensor3D; // [R·C, Nb, w²]
  private readonly K: tf.Tensor4D; // [R, C, Nb, k²]
  private readonly mask: tf.Tensor3D; // [R, C, Nb]

  constructor(readonly linear: Linear, readonly shape: SynthShape, readonly scales: { alpha: number; scoreScale: number }) {
    const { R, C, k, w, offsets } = shape;
    const Nb = offsets.length;
    // Our kernel is [in, out]; the synthesis works on W in [out, in].
    const W = transpose(hostCopy(linear.weight), linear.inFeatures, linear.outFeatures);
    const c = synthConstants(W, shape);
    this.V = tf.tensor3d(c.V, [R * C, Nb, w * w]);
    this.K = tf.tensor4d(c.K, [R, C, Nb, k * k]);
    this.mask = tf.tensor3d(c.mask, [R, C, Nb]);
    // Zero queries: uniform attention over each neighbourhood; zero gate: ΔW = 0 at init.
    this.queryRows = variableOf(zeros([R, k, k]), [R, k, k]);
    this.queryCols = variableOf(zeros([C, k, k]), [C, k, k]);
    this.gate = variableOf(zeros([1]), [1]);
  }

  /** Mean entropy of each position's attention over log(its number of on-grid neighbours): 1 = uniform, 0 = one window. */
  relativeEntropy(): number {
    return tf.tidy(() => {
      const a = this.attention();
      const h = a.mul(a.add(1e-12).log()).sum(-1).neg();
      const hMax = this.mask.equal(0).sum(-1).cast('float32').log(); // log(number of on-grid neighbours)
      const rel = tf.where(hMax.greater(0), h.div(hMax.maximum(1e-12)), tf.zerosLike(h));
      return rel.mean().dataSync()[0]!;
    });
  }

  /** Attention weights α [R, C, Nb] over each position's neighbour windows. */
  attention(): tf.Tensor3D {
    return tf.tidy(() => {
      const { R, C, k } = this.shape;
      // Query of window position (a, b): Q_a + Q_b, [R, C, 1, k²].
      const q = this.queryRows.reshape([R, 1, 1, k * k]).add(this.queryCols.reshape([1, C, 1, k * k]));
      // Scaled dot product with the normalised pooled keys: score_scale · <Q_ab, K̂_u>_F / sqrt(k²).
      const scores = this.K.mul(q).sum(-1).mul(this.scales.scoreScale / k).add(this.mask);
      return tf.softmax(scores) as tf.Tensor3D;
    });
  }

  /** ΔW [m, n] = alpha · gate · (attention-weighted sum of neighbour windows), tiled back into W's shape. */
  delta(): tf.Tensor2D {
    return tf.tidy(() => {
      const { R, C, w, m, n, offsets } = this.shape;
      const alpha = this.attention().reshape([R * C, 1, offsets.length]);
      const blocks = tf.matMul(alpha, this.V); // [R·C, 1, w²]
      const full = blocks.reshape([R, C, w, w]).transpose([0, 2, 1, 3]).reshape([R * w, C * w]); // [R·w, C·w]
      const cropped = R * w === m && C * w === n ? full : full.slice([0, 0], [m, n]);
      return cropped.mul(this.gate.mul(this.scales.alpha)) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const t of [this.queryRows, this.queryCols, this.gate, this.V, this.K, this.mask]) t.dispose();
  }
}
