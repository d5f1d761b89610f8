// Norm-weight tuning: whole gains and biases (LN tuning), or a sparse trainable delta on chosen
// indices of each gain (outlier / random selections). The base norms stay frozen: a Norm.hook
// substitutes the tuned values, so detach is just removing the hook.
import * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '@peft-bench/core/model/modules';
import type { Attachment, AttachContext, Model } from '../src/types.ts';
import { Hooks, assignFrom, hostCopy, sizeOf, variableOf } from '../src/tensors.ts';
import { baseAdapterConfig, readAdapter, take, writeAdapter, PREFIX } from '../src/hf/adapter.ts';
import { hfNorm } from '../src/hf/names.ts';
import { normAnalysis } from '../src/analysis.ts';
import type { HostTensor } from '../src/hf/adapter.ts';

interface Tuned {
  norm: Norm;
  /** Whole tuned gain/bias copies (LN tuning), or null. */
  weight: tf.Variable | null;
  bias: tf.Variable | null;
  /** Sparse: delta on `indices` of the gain, gathered into a full-width update. */
  delta: tf.Variable | null;
  indices: number[] | null;
  /** Position -> slot in [delta, 0] (n = not selected, reads the trailing zero). */
  gatherMap: tf.Tensor1D | null;
}

export interface NormTuningOptions {
  methodId: string;
  model: Model;
  ctx: AttachContext;
  norms: Norm[];
  /** null: tune whole gains and biases; otherwise the gain indices to tune, per norm name. */
  selection: Map<string, number[]> | null;
  /** Extra adapter_config.json fields. */
  extraConfig: Record<string, unknown>;
}

export function normTuning(opts: NormTuningOptions): Attachment {
  const { model, ctx, norms, selection } = opts;
  const hooks = new Hooks();
  const trainable = new Map<string, tf.Variable>();
  const tuned: Tuned[] = [];
  const fam = model.config.family;

  for (const norm of norms) {
    const t: Tuned = { norm, weight: null, bias: null, delta: null, indices: null, gatherMap: null };
    const indices = selection?.get(norm.name);
    if (selection && indices) {
      t.indices = indices;
      t.delta = variableOf(new Float32Array(indices.length), [indices.length]);
      const map = new Int32Array(norm.dim).fill(indices.length);
      indices.forEach((pos, slot) => (map[pos] = slot));
      t.gatherMap = tf.tensor1d(map, 'int32');
      trainable.set(`${norm.name}.weight_delta`, t.delta);
    } else {
      const w = tf.clone(norm.weight);
      t.weight = tf.variable(w, true);
      w.dispose();
      trainable.set(`${norm.name}.weight`, t.weight);
      if (norm.bias) {
        const b = tf.clone(norm.bias);
        t.bias = tf.variable(b, true);
        b.dispose();
        trainable.set(`${norm.name}.bias`, t.bias);
      }
    }
    tuned.push(t);
  }

  const effectiveWeight = (t: Tuned, weight: tf.Tensor): tf.Tensor =>
    t.weight ?? weight.add(tf.gather(tf.concat([t.delta!, tf.zeros([1])]), t.gatherMap!));
  const install = () => {
    for (const t of tuned) hooks.norm(t.norm, (weight, bias) => ({ weight: effectiveWeight(t, weight), bias: t.bias ?? bias }));
  };
  install();

  let snapshot: Map<Tuned, { w: Float32Array; b: Float32Array | null }> | null = null;
  const baseWeights = new Map(tuned.map((t) => [t.norm.name, hostCopy(t.norm.weight)]));
  const currentWeight = (t: Tuned): Float32Array => tf.tidy(() => hostCopy(effectiveWeight(t, t.norm.weight)));
  const key = (t: Tuned, leaf: 'weight' | 'bias') => `${PREFIX}${hfNorm(model.config, t.norm.name)}.ln_tuning_layers.${leaf}`;

  return {
    trainable,
    trainableCount: () => sizeOf(trainable.values()),
    merge() {
      if (snapshot) throw new Error(`${opts.methodId}: already merged`);
      snapshot = new Map();
      for (const t of tuned) {
        snapshot.set(t, { w: hostCopy(t.norm.weight), b: t.norm.bias ? hostCopy(t.norm.bias) : null });
        assignFrom(t.norm.weight, currentWeight(t));
        if (t.bias && t.norm.bias) assignFrom(t.norm.bias, hostCopy(t.bias));
      }
      hooks.removeAll();
    },
    unmerge() {
      if (!snapshot) throw new Error(`${opts.methodId}: not merged`);
      for (const [t, s] of snapshot) {
        assignFrom(t.norm.weight, s.w);
        if (t.norm.bias && s.b) assignFrom(t.norm.bias, s.b);
      }
      snapshot = null;
      install();
    },
    // HF PEFT LN_TUNING layout: the whole tuned norm (weight, and bias where the norm has one).
    async save(dir) {
      const tensors = new Map<string, HostTensor>();
      for (const t of tuned) {
        tensors.set(key(t, 'weight'), { shape: [t.norm.dim], data: currentWeight(t) });
        const bias = t.bias ?? t.norm.bias;
        if (bias) tensors.set(key(t, 'bias'), { shape: [t.norm.dim], data: hostCopy(bias) });
      }
      await writeAdapter(
        dir,
        {
          ...baseAdapterConfig('LN_TUNING', model, ctx),
          modules_to_save: null,
          target_modules: [...new Set(tuned.map((t) => hfNorm(model.config, t.norm.name).split('.').pop()!))].sort(),
          ...opts.extraConfig,
        },
        tensors,
      );
    },
    async load(dir) {
      const { tensors } = await readAdapter(dir, 'LN_TUNING');
      for (const t of tuned) {
        const w = take(tensors, key(t, 'weight'), [t.norm.dim]);
        if (t.weight) assignFrom(t.weight, w);
        if (t.bias) assignFrom(t.bias, take(tensors, key(t, 'bias'), [t.norm.dim]));
        if (t.delta) {
          // Only the selected indices may differ from the base gain.
          const base = hostCopy(t.norm.weight);
          const selected = new Set(t.indices!);
          for (let i = 0; i < base.length; i++) {
            if (!selected.has(i) && w[i] !== base[i]) {
              throw new Error(`${dir}: ${t.norm.name} weight differs from the base at index ${i}, which ${opts.methodId} does not tune; the file was written for another selection or base model`);
            }
          }
          assignFrom(t.delta, Float32Array.from(t.indices!, (i) => w[i]! - base[i]!));
        }
      }
    },
    analysis() {
      return normAnalysis(tuned.map((t) => ({ name: t.norm.name, base: baseWeights.get(t.norm.name)!, trained: currentWeight(t), ...(t.indices ? { tuned: t.indices } : {}) })));
    },
    detach() {
      if (snapshot) (this as Attachment).unmerge!();
      hooks.removeAll();
      for (const t of tuned) {
        t.weight?.dispose();
        t.bias?.dispose();
        t.delta?.dispose();
        t.gatherMap?.dispose();
      }
      tuned.length = 0;
      trainable.clear();
    },
  };
}
