// The hot elementwise work of a training step, behind one table so that the backend layer can
// swap in fused kernels (with their own gradients) without the model or trainer changing.
// The reference implementations below are plain TF.js ops: they define the numerics that every
// accelerated version must match (tested against the `cpu` backend).
import * as tf from '@tensorflow/tfjs-core';

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

export interface HotOps {
  /** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * gain + bias. */
  layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor;
  /** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * gain. */
  rmsNorm(x: tf.Tensor, gain: tf.Tensor, eps: number): tf.Tensor;
  /** GELU, tanh approximation (GPT-2's). */
  gelu(x: tf.Tensor): tf.Tensor;
  /** SiLU(a) * b (Llama's SwiGLU MLP). */
  swiglu(a: tf.Tensor, b: tf.Tensor): tf.Tensor;
  /**
   * softmax(scores * scale) over the last axis with a causal mask. scores [B, H, T, S]; query t
   * (0-based) sees keys s <= t + (S - T), so S > T covers a KV cache.
   */
  causalSoftmax(scores: tf.Tensor, scale: number): tf.Tensor;
  /**
   * Weighted mean softmax cross-entropy: sum_i w_i * CE(logits_i, target_i) / sum_i w_i.
   * logits [N, V] float32, targets [N] int32, weights [N] float32 (0 masks a position).
   */
  crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar;
  /**
   * One AdamW step (decoupled weight decay) on each variable, in place. m and v are the
   * optimizer's moment variables, same shapes as params.
   */
  adamw(params: tf.Variable[], grads: tf.Tensor[], m: tf.Variable[], v: tf.Variable[], hp: AdamWHyper): void;
}

export const referenceOps: HotOps = {
  layerNorm(x, gain, bias, eps) {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(gain).add(bias);
    });
  },
  rmsNorm(x, gain, eps) {
    return tf.tidy(() => x.mul(tf.rsqrt(x.square().mean(-1, true).add(eps))).mul(gain));
  },
  gelu(x) {
    return tf.tidy(() => {
      const c = Math.sqrt(2 / Math.PI);
      const inner = x.add(x.pow(3).mul(0.044715)).mul(c);
      return x.mul(0.5).mul(tf.tanh(inner).add(1));
    });
  },
  swiglu(a, b) {
    return tf.tidy(() => a.mul(tf.sigmoid(a)).mul(b));
  },
  causalSoftmax(scores, scale) {
    return tf.tidy(() => {
      const T = scores.shape[scores.rank - 2]!;
      const S = scores.shape[scores.rank - 1]!;
      const row = tf.range(0, T, 1, 'int32').reshape([T, 1]).add(S - T);
      const col = tf.range(0, S, 1, 'int32').reshape([1, S]);
      const mask = tf.where(tf.lessEqual(col, row), tf.zeros([T, S]), tf.fill([T, S], -1e9));
      return tf.softmax(scores.mul(scale).add(mask));
    });
  },
  crossEntropy(logits, targets, weights) {
    return tf.tidy(() => {
      const logp = tf.logSoftmax(logits);
      const picked = logp.mul(tf.oneHot(targets, logits.shape[1])).sum(-1);
      return picked.mul(weights).sum().neg().div(weights.sum().maximum(1e-12)) as tf.Scalar;
    });
  },
  adamw(params, grads, m, v, hp) {
    const bc1 = 1 - Math.pow(hp.beta1, hp.step);
    const bc2 = 1 - Math.pow(hp.beta2, hp.step);
    for (let i = 0; i < params.length; i++) {
      tf.tidy(() => {
        const g = grads[i]!;
        const m1 = m[i]!.mul(hp.beta1).add(g.mul(1 - hp.beta1));
        const v1 = v[i]!.mul(hp.beta2).add(g.square().mul(1 - hp.beta2));
        const update = m1.div(bc1).div(v1.div(bc2).sqrt().add(hp.eps));
        const p = params[i]!;
        const decayed = hp.weightDecay ? p.mul(1 - hp.lr * hp.weightDecay) : p;
        m[i]!.assign(m1);
        v[i]!.assign(v1);
        p.assign(decayed.sub(update.mul(hp.lr)));
      });
    }
  },
};

let active: HotOps = referenceOps;
let activeName = 'reference';

/** The ops the model and trainer call. */
export function ops(): HotOps {
  return active;
}

/** Which implementation is active ('reference', 'fused-js', 'fused-native', ...). */
export function opsName(): string {
  return activeName;
}

/** Installed by the backend layer after it selects a backend. Missing entries keep the reference. */
export function setOps(name: string, impl: Partial<HotOps>): void {
  active = { ...referenceOps, ...impl };
  activeName = name;
}
