// An attachment for methods whose change is a dense weight update ΔW per targeted linear, built
// from their own factors (LoHa's Hadamard product, LoKr's Kronecker product, VeRA's scaled shared
// projections): y = x·W + b + x·ΔWᵀ with ΔW in HF orientation [out, in]. Handles hooks,
// merge/unmerge, deltas() and analysis; the method supplies factors, save and load.
import * as tf from '@tensorflow/tfjs-core';
import type { Linear } from '@peft-bench/core/model/modules';
import type { Attachment, Model } from './types.ts';
import { Hooks, assignFrom, hostCopy, sizeOf } from './tensors.ts';
import { lowRankAnalysis } from './analysis.ts';

export interface DeltaModule {
  linear: Linear;
  /** ΔW [out, in] (HF orientation), differentiable in the method's variables. */
  delta(): tf.Tensor2D;
  /** x [N, in] -> x·ΔWᵀ [N, out]; defaults to materialising ΔW. */
  apply?(x: tf.Tensor2D): tf.Tensor2D;
}

export interface DeltaAttachmentOptions {
  methodId: string;
  model: Model;
  modules: DeltaModule[];
  trainable: Map<string, tf.Variable>;
  /** Rank reported to the analysis (top-r directions), if the method has one. */
  rank?: number;
  save(dir: string): Promise<void>;
  load(dir: string): Promise<void>;
  /** Disposes the method's own tensors (trainable and frozen). */
  dispose(): void;
}

export function deltaAttachment(opts: DeltaAttachmentOptions): Attachment {
  const hooks = new Hooks();
  const install = () => {
    for (const m of opts.modules) {
      hooks.linear(m.linear, (x, base) =>
        tf.tidy(() => base(x).add(m.apply ? m.apply(x as tf.Tensor2D) : tf.matMul(x as tf.Tensor2D, m.delta(), false, true))),
      );
    }
  };
  install();
  let snapshot: Map<Linear, Float32Array> | null = null;
  const deltas = () => new Map(opts.modules.map((m) => [m.linear.name, tf.tidy(() => m.delta().transpose() as tf.Tensor2D)]));
  return {
    trainable: opts.trainable,
    trainableCount: () => sizeOf(opts.trainable.values()),
    merge() {
      if (snapshot) throw new Error(`${opts.methodId}: already merged`);
      snapshot = new Map();
      for (const m of opts.modules) {
        snapshot.set(m.linear, hostCopy(m.linear.weight));
        assignFrom(m.linear.weight, tf.tidy(() => m.linear.weight.add(m.delta().transpose())));
      }
      hooks.removeAll();
    },
    unmerge() {
      if (!snapshot) throw new Error(`${opts.methodId}: not merged`);
      for (const [lin, w] of snapshot) assignFrom(lin.weight, w);
      snapshot = null;
      install();
    },
    deltas,
    analysis: () => lowRankAnalysis(opts.model, deltas(), opts.rank),
    save: opts.save,
    load: opts.load,
    detach() {
      if (snapshot) this.unmerge!();
      hooks.removeAll();
      opts.dispose();
      opts.trainable.clear();
    },
  };
}
