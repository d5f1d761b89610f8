// The named modules of a model: the contract between the model (packages/core) and the
// methods (packages/methods). Methods find modules by name pattern (HF PEFT's target_modules)
// and change them only through the hooks below, so the model code never knows about methods.
import type * as tf from '@tensorflow/tfjs-core';

/** y = x·W + b, W stored [in, out] (TF.js dense layout; HF stores [out, in]). */
export interface Linear {
  readonly kind: 'linear';
  /** Stable name, e.g. `blocks.0.attn.q`, `blocks.3.mlp.down`. */
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: tf.Variable; // [in, out]
  bias: tf.Variable | null; // [out]
  /**
   * Set by a method to change the forward pass. `base(x)` computes x·W + b with the current
   * weights; the hook returns the module's output. null = plain linear.
   */
  hook: ((x: tf.Tensor, base: (x: tf.Tensor) => tf.Tensor) => tf.Tensor) | null;
}

/** LayerNorm (gain + bias) or RMSNorm (gain only). */
export interface Norm {
  readonly kind: 'layernorm' | 'rmsnorm';
  /** `blocks.{i}.ln1`, `blocks.{i}.ln2`, `ln_f`. */
  readonly name: string;
  readonly dim: number;
  weight: tf.Variable; // [dim]
  bias: tf.Variable | null; // [dim], null for RMSNorm
  /**
   * Set by a method to change the effective parameters (e.g. base gain + a sparse trainable delta).
   * Called inside the forward pass, so gradients flow to whatever it reads.
   */
  hook: ((weight: tf.Tensor, bias: tf.Tensor | null) => { weight: tf.Tensor; bias: tf.Tensor | null }) | null;
}

/** Token embeddings (tied with the output head) and, for GPT-2 style, learned positions. */
export interface Embeddings {
  readonly kind: 'embeddings';
  readonly name: 'embeddings';
  tokens: tf.Variable; // [vocab, d]
  positions: tf.Variable | null; // [maxSeq, d]; null with RoPE
  /**
   * Set by a method to prepend trainable vectors (prompt tuning): receives the token embeddings
   * [B, T, d] and returns [B, P + T, d]. The model drops the first P positions of the output.
   */
  prefix: { length: number; embed: (x: tf.Tensor) => tf.Tensor } | null;
}

export type Module = Linear | Norm | Embeddings;
