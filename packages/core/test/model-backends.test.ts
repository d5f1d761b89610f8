// The model on the accelerated backend (fused kernels, BLAS matMul) computes what it computes on
// the plain cpu backend with the reference ops: logits with padding and a KV cache, and gradients.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, type ModelConfigInput } from '../src/index.ts';
import { initBackend } from '../src/backend/index.ts';

const CONFIGS: ModelConfigInput[] = [
  { family: 'gpt2', vocabSize: 29, d: 32, nLayer: 2, nHead: 4, maxSeq: 16 },
  { family: 'llama', vocabSize: 29, d: 32, nLayer: 2, nHead: 4, nKvHead: 2, maxSeq: 16, mlpHidden: 48, tieEmbeddings: false },
];

function run(cfg: ModelConfigInput): Float32Array[] {
  const model = createModel(cfg, 3);
  const toks = tf.tensor2d([[0, 0, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6]], [2, 6], 'int32');
  const mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const out: Float32Array[] = [];
  out.push(model.forward(toks, undefined, { attentionMask: mask }).dataSync() as Float32Array);
  const cache = model.createCache(2);
  model.forward(toks.slice([0, 0], [2, 4]), cache, { attentionMask: mask.filter((_, i) => i % 6 < 4) }).dispose();
  out.push(model.forward(toks.slice([0, 4], [2, 2]), cache).dataSync() as Float32Array);
  cache.dispose();
  const params = model.params();
  const { value, grads } = tf.variableGrads(() => model.loss(toks, toks, tf.ones([2, 6]) as tf.Tensor2D), [...params.values()]);
  out.push(value.dataSync() as Float32Array);
  for (const v of params.values()) out.push(grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([toks, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('model across backends', () => {
  it.each(CONFIGS.map((c) => [c.family, c] as const))('%s: accelerated backend matches cpu (logits, cache, padding, gradients)', async (_family, cfg) => {
    await initBackend({ backend: 'cpu' });
    const reference = run(cfg);
    const info = await initBackend({ backend: 'auto' });
    const fast = run(cfg);
    expect(fast.length).toBe(reference.length);
    reference.forEach((ref, i) => {
      let scale = 0;
      let diff = 0;
      for (let j = 0; j < ref.length; j++) {
        scale = Math.max(scale, Math.abs(ref[j]!));
        diff = Math.max(diff, Math.abs(ref[j]! - fast[i]![j]!));
      }
      expect([info.name, i, diff <= 1e-4 * Math.max(scale, 1e-3)]).toEqual([info.name, i, true]);
    });
  }, 60_000);
});
