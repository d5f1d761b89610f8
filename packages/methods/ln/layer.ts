// Norm-weight tuning: whole gains and biases (LN tuning), or sparse trainable deltas on chosen
// entries of each norm's gain and bias (outlier / random selections). The base norms stay frozen:
// a Norm.hook substitutes the tuned values, so detach is just removing the hook.
import * as tf from '@tensorflow/tfjs-core';
import type { Norm } from '@peft-bench/core/model/modules';
import type { Attachment, AttachContext, Model } from '../src/types.ts';
import { Hooks, assignFrom, hostCopy, sizeOf, variableOf } from '../src/tensors.ts';
import { baseAdapterConfig, readAdapter, take, writeAdapter, PREFIX } from '../src/hf/adapter.ts';
import { hfNorm } from '../src/hf/names.ts';
import { normAnalysis } from '../src/analysis.ts';
import type { HostTensor } from '../src/hf/adapter.ts';

/** The entries of one norm layer a sparse method tunes: indices into its gain and into its bias. */
export interface NormSelection {
  weight: number[];
  bias: number[];
}

/** A trainable delta on some entries of a [dim] vector, scattered into a full-width update. */
interface SparseDelta {
  indices: number[];
  delta: tf.Variable;
  /** Position -> slot in [delta, 0] (an unselected position reads the trailing zero). */
  gatherMap: tf.Tensor1D;
}

interface Tuned {
  norm: Norm;
  /** Whole tuned gain/bias copies (LN tuning), or null. */
  weight: tf.Variable | null;
  bias: tf.Variable | null;
  /** Sparse selections; null when nothing of that vector is tuned. */
  sparseWeight: SparseDelta | null;
  sparseBias: SparseDelta | null;
  /** Tuned through a selection (loading checks that nothing outside it changed). */
  sparse: boolean;
}

export interface NormTuningOptions {
  methodId: string;
  model: Model;
  ctx: AttachContext;
  norms: Norm[];
  /** null: tune whole gains and biases; otherwise the entries to tune, per norm name. */
  selection: Map<string, NormSelection> | null;
  /** Extra adapter_config.json fields. */
  extraConfig: Record<string, unknown>;
}

/** Tunable scalars of a norm layer: gain and bias entries (2·dim for LayerNorm, dim for RMSNorm). */
export function normWeightCount(norm: Norm): number {
  return norm.bias ? 2 * norm.dim : norm.dim;
}

/** Throws when a layer has fewer than n gain and bias entries, naming the layer and its size. */
export function checkNormCapacity(methodId: string, norm: Norm, n: number): void {
  const total = normWeightCount(norm);
  if (n <= total) return;
  const parts = norm.bias ? `${norm.dim} gains + ${norm.dim} biases` : `${norm.dim} gains, no bias`;
  throw new Error(`method '${methodId}': n=${n} exceeds the ${total} weights of ${norm.name} (${norm.kind}: ${parts}); choose n <= ${total}`);
}

/** Splits entry indices over [gain (0..dim-1), bias (dim..2·dim-1)] into per-vector indices, sorted. */
export function splitEntries(entries: number[], dim: number): NormSelection {
  const weight = entries.filter((i) => i < dim).sort((a, b) => a - b);
  const bias = entries.filter((i) => i >= dim).map((i) => i - dim).sort((a, b) => a - b);
  return { weight, bias };
}

function sparseDelta(indices: number[], dim: number): SparseDelta | null {
  if (indices.length === 0) return null;
  const map = new Int32Array(dim).fill(indices.length);
  indices.forEach((pos, slot) => (map[pos] = slot));
  return { indices, delta: variableOf(new Float32Array(indices.length), [indices.length]), gatherMap: tf.tensor1d(map, 'int32') };
}

const scatter = (s: SparseDelta): tf.Tensor => tf.gather(tf.concat([s.delta, tf.zeros([1])]), s.gatherMap);

export function normTuning(opts: NormTuningOptions): Attachment {
  const { model, ctx, norms, selection } = opts;
  const hooks = new Hooks();
  const trainable = new Map<string, tf.Variable>();
  const tuned: Tuned[] = [];

  for (const norm of norms) {
    const t: Tuned = { norm, weight: null, bias: null, sparseWeight: null, sparseBias: null, sparse: selection !== null };
    if (selection) {
      const chosen = selection.get(norm.name);
      if (!chosen) throw new Error(`${opts.methodId}: no selection was made for ${norm.name}`);
      if (chosen.bias.length && !norm.bias) throw new Error(`${opts.methodId}: ${norm.name} has no bias, but bias entries were selected`);
      t.sparseWeight = sparseDelta(chosen.weight, norm.dim);
      t.sparseBias = sparseDelta(chosen.bias, norm.dim);
      if (t.sparseWeight) trainable.set(`${norm.name}.weight_delta`, t.sparseWeight.delta);
      if (t.sparseBias) trainable.set(`${norm.name}.bias_delta`, t.sparseBias.delta);
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
    t.weight ?? (t.sparseWeight ? weight.add(scatter(t.sparseWeight)) : weight);
  const effectiveBias = (t: Tuned, bias: tf.Tensor | null): tf.Tensor | null =>
    t.bias ?? (t.sparseBias && bias ? bias.add(scatter(t.sparseBias)) : bias);
  const install = () => {
    for (const t of tuned) hooks.norm(t.norm, (weight, bias) => ({ weight: effectiveWeight(t, weight), bias: effectiveBias(t, bias) }));
  };
  install();

  let snapshot: Map<Tuned, { w: Float32Array; b: Float32Array | null }> | null = null;
  const baseWeights = new Map(tuned.map((t) => [t.norm.name, hostCopy(t.norm.weight)]));
  const baseBiases = new Map(tuned.map((t) => [t.norm.name, t.norm.bias ? hostCopy(t.norm.bias) : null]));
  const currentWeight = (t: Tuned): Float32Array => tf.tidy(() => hostCopy(effectiveWeight(t, t.norm.weight)));
  const currentBias = (t: Tuned): Float32Array | null => (t.norm.bias ? tf.tidy(() => hostCopy(effectiveBias(t, t.norm.bias)!)) : null);
  const key = (t: Tuned, leaf: 'weight' | 'bias') => `${PREFIX}${hfNorm(model.config, t.norm.name)}.ln_tuning_layers.${leaf}`;

  return {
    trainable,
    trainableCount: () => sizeOf(trainable.values()),
    merge() {
      if (snapshot) throw new Error(`${opts.methodId}: already merged`);
      snapshot = new Map();
      for (const t of tuned) {
        snapshot.set(t, { w: hostCopy(t.norm.weight), b: t.norm.bias ? hostCopy(t.norm.bias) : null });
        const bias = currentBias(t);
        assignFrom(t.norm.weight, currentWeight(t));
        if (bias && t.norm.bias) assignFrom(t.norm.bias, bias);
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
        const bias = currentBias(t);
        if (bias) tensors.set(key(t, 'bias'), { shape: [t.norm.dim], data: bias });
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
        const b = t.norm.bias ? take(tensors, key(t, 'bias'), [t.norm.dim]) : null;
        if (t.weight) assignFrom(t.weight, w);
        if (t.bias) assignFrom(t.bias, b!);
        if (t.sparse) {
          loadSparse(t.sparseWeight, w, hostCopy(t.norm.weight), `${t.norm.name} weight`, dir);
          if (b) loadSparse(t.sparseBias, b, hostCopy(t.norm.bias!), `${t.norm.name} bias`, dir);
        }
      }
    },
    analysis() {
      return normAnalysis(
        tuned.flatMap((t) => {
          const name = t.norm.name;
          const weight = { name: `${name}.weight`, base: baseWeights.get(name)!, trained: currentWeight(t), ...(t.sparse ? { tuned: t.sparseWeight?.indices ?? [] } : {}) };
          const baseBias = baseBiases.get(name);
          if (!baseBias) return [weight];
          return [weight, { name: `${name}.bias`, base: baseBias, trained: currentBias(t)!, ...(t.sparse ? { tuned: t.sparseBias?.indices ?? [] } : {}) }];
        }),
      );
    },
    detach() {
      if (snapshot) (this as Attachment).unmerge!();
      hooks.removeAll();
      for (const t of tuned) {
        t.weight?.dispose();
        t.bias?.dispose();
        for (const sp of [t.sparseWeight, t.sparseBias]) if (sp) (sp.delta.dispose(), sp.gatherMap.dispose());
      }
      tuned.length = 0;
      trainable.clear();
    },
  };
}

/** Sets a sparse delta from a whole saved vector; every entry outside the selection must equal the base. */
function loadSparse(sp: SparseDelta | null, saved: Float32Array, base: Float32Array, what: string, dir: string): void {
  const selected = new Set(sp?.indices ?? []);
  for (let i = 0; i < base.length; i++) {
    if (!selected.has(i) && saved[i] !== base[i]) {
      throw new Error(`${dir}: ${what} differs from the base at index ${i}, which is not among the tuned entries; the file was written for another selection or base model`);
    }
  }
  if (sp) assignFrom(sp.delta, Float32Array.from(sp.indices, (i) => saved[i]! - base[i]!));
}
