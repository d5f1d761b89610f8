// A tiny model of each family with "pretrained-looking" weights (norm gains and biases perturbed
// away from their 1/0 initial values), a fixed batch, and a real AdamW step over a trainable map.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createModel, type Model } from '@peft-bench/core/model/model';
import type { ModelFamily } from '@peft-bench/core/model/config';
import { normalArray } from '@peft-bench/core/model/rng';
import { ops } from '@peft-bench/core/ops';

export const FAMILIES: ModelFamily[] = ['gpt2', 'llama'];

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export function tinyModel(family: ModelFamily, seed = 7): Model {
  const model = createModel({ family, vocabSize: 48, d: 32, nLayer: 2, nHead: 4, maxSeq: 16, mlpHidden: 64 }, seed);
  // Perturb norms and biases so that they carry information (outliers, non-zero biases), as a pretrained model's do.
  let k = 0;
  for (const [name, v] of model.params()) {
    k++;
    if (name.endsWith('.bias')) v.assign(tf.tensor(normalArray(v.size, 0.05, seed * 1000 + k), v.shape));
    else if (name.startsWith('ln') || /\.ln\d\.weight$/.test(name)) {
      const noise = normalArray(v.size, 0.1, seed * 1000 + k);
      noise[3] = 2.5; // one clear outlier per norm layer
      v.assign(tf.tensor(noise.map((x) => 1 + x), v.shape));
    }
  }
  return model;
}

export interface Batch {
  tokens: tf.Tensor2D;
  targets: tf.Tensor2D;
  weights: tf.Tensor2D;
}

export function fixedBatch(vocab = 48, B = 2, T = 12): Batch {
  const ids = Int32Array.from({ length: B * (T + 1) }, (_, i) => (i * 7 + 3) % vocab);
  const seq = tf.tensor2d(ids, [B, T + 1], 'int32');
  return {
    tokens: seq.slice([0, 0], [B, T]) as tf.Tensor2D,
    targets: seq.slice([0, 1], [B, T]) as tf.Tensor2D,
    weights: tf.ones([B, T]) as tf.Tensor2D,
  };
}

/** AdamW over the given variables (weight decay 0: a scalar changes only if its gradient is non-zero). */
export class Trainer {
  private m = new Map<tf.Variable, tf.Variable>();
  private v = new Map<tf.Variable, tf.Variable>();
  private step = 0;
  constructor(private readonly lr = 3e-2) {}

  train(model: Model, trainable: Map<string, tf.Variable>, batch: Batch): number {
    const vars = [...trainable.values()];
    const { value, grads } = tf.variableGrads(() => model.loss(batch.tokens, batch.targets, batch.weights), vars);
    const loss = value.dataSync()[0]!;
    value.dispose();
    const params: tf.Variable[] = [];
    const gs: tf.Tensor[] = [];
    for (const p of vars) {
      const g = grads[p.name];
      if (!g) continue;
      if (!this.m.has(p)) {
        this.m.set(p, tf.variable(tf.zerosLike(p), false));
        this.v.set(p, tf.variable(tf.zerosLike(p), false));
      }
      params.push(p);
      gs.push(g);
    }
    this.step++;
    ops().adamw(params, gs, params.map((p) => this.m.get(p)!), params.map((p) => this.v.get(p)!), {
      lr: this.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: this.step,
    });
    for (const g of Object.values(grads)) g.dispose();
    return loss;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

export function logits(model: Model, batch: Batch): Float32Array {
  return tf.tidy(() => Float32Array.from(model.forward(batch.tokens).dataSync() as Float32Array));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function snapshot(vars: Map<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...vars].map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));
}
