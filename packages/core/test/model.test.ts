import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createModel, resolveModelConfig, type Model, type ModelConfigInput } from '../src/index.ts';

const GPT2: ModelConfigInput = { family: 'gpt2', vocabSize: 23, d: 16, nLayer: 2, nHead: 4, maxSeq: 24 };
const LLAMA: ModelConfigInput = { family: 'llama', vocabSize: 23, d: 16, nLayer: 2, nHead: 4, nKvHead: 2, maxSeq: 24, mlpHidden: 24 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function ids(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.abs(a.sub(b)).max().dataSync()[0]!);
}

describe('model config', () => {
  it('fills defaults', () => {
    const c = resolveModelConfig(GPT2);
    expect(c.mlpHidden).toBe(64);
    expect(c.tieEmbeddings).toBe(true);
    expect(c.nKvHead).toBe(4);
  });
  it('rejects bad configs with a message naming the field and what is valid', () => {
    expect(() => resolveModelConfig({ ...GPT2, d: 250, nHead: 4 })).toThrow('d=250 is not divisible by nHead=4: choose d a multiple of nHead');
    expect(() => resolveModelConfig({ ...GPT2, family: 'bert' as 'gpt2' })).toThrow("valid families are gpt2, llama");
    expect(() => resolveModelConfig({ ...LLAMA, nKvHead: 3 })).toThrow('nHead=4 is not divisible by nKvHead=3');
    expect(() => resolveModelConfig({ ...LLAMA, mlpHidden: undefined })).toThrow('mlpHidden is required');
    expect(() => resolveModelConfig({ ...GPT2, nLayer: 0 })).toThrow('nLayer=0 is invalid');
  });
});

describe.each([
  ['gpt2', GPT2],
  ['llama', LLAMA],
] as const)('%s model', (family, cfg) => {
  let model: Model;
  beforeAll(() => {
    model = createModel(cfg, 7);
  });

  it('names its modules and parameters stably', () => {
    const names = model.modules().map((m) => m.name);
    expect(names[0]).toBe('embeddings');
    expect(names.slice(1, 7)).toEqual(['blocks.0.ln1', 'blocks.0.attn.q', 'blocks.0.attn.k', 'blocks.0.attn.v', 'blocks.0.attn.o', 'blocks.0.ln2']);
    expect(names.at(-1)).toBe('ln_f');
    expect(names.includes('blocks.1.mlp.gate')).toBe(family === 'llama');
    const params = model.params();
    expect(params.has('blocks.0.attn.q.bias')).toBe(family === 'gpt2');
    expect(params.has('embeddings.positions')).toBe(family === 'gpt2');
    expect(params.get('blocks.1.attn.k.weight')!.shape).toEqual([16, family === 'llama' ? 8 : 16]);
    expect(model.paramCount()).toBe([...params.values()].reduce((a, v) => a + v.size, 0));
    expect(() => model.module('blocks.0.attn.qq')).toThrow("unknown module 'blocks.0.attn.qq': did you mean 'blocks.0.attn.q'");
  });

  it('initialises deterministically from the seed (GPT-2 scheme)', () => {
    const again = createModel(cfg, 7);
    const other = createModel(cfg, 8);
    for (const [name, v] of model.params()) expect(maxAbsDiff(v, again.params().get(name)!)).toBe(0);
    expect(maxAbsDiff(model.params().get('blocks.0.attn.q.weight')!, other.params().get('blocks.0.attn.q.weight')!)).toBeGreaterThan(0);
    const std = (v: tf.Tensor) => tf.tidy(() => tf.moments(v).variance.sqrt().dataSync()[0]!);
    const big = createModel({ ...cfg, d: 64, nHead: 4, nLayer: 8, mlpHidden: 128 }, 1);
    expect(std(big.params().get('blocks.0.attn.q.weight')!)).toBeCloseTo(0.02, 2);
    expect(std(big.params().get('blocks.0.attn.o.weight')!)).toBeCloseTo(0.02 / 4, 3); // 1/sqrt(2L), L=8
    if (family === 'gpt2') expect(tf.tidy(() => big.params().get('blocks.0.mlp.up.bias')!.abs().sum().dataSync()[0])).toBe(0);
    for (const m of [again, other, big]) m.dispose();
  });

  it('gives [B,T,V] logits and the same last logits with a KV cache', () => {
    const toks = ids([
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9, 10, 11, 12],
    ]);
    const full = model.forward(toks);
    expect(full.shape).toEqual([2, 6, 23]);
    const cache = model.createCache(2);
    const a = model.forward(toks.slice([0, 0], [2, 4]), cache);
    const b = model.forward(toks.slice([0, 4], [2, 1]), cache);
    const c = model.forward(toks.slice([0, 5], [2, 1]), cache);
    expect(cache.length).toBe(6);
    expect(maxAbsDiff(a, full.slice([0, 0, 0], [2, 4, 23]))).toBeLessThan(1e-5);
    expect(maxAbsDiff(b, full.slice([0, 4, 0], [2, 1, 23]))).toBeLessThan(1e-5);
    expect(maxAbsDiff(c, full.slice([0, 5, 0], [2, 1, 23]))).toBeLessThan(1e-5);
    cache.dispose();
    tf.dispose([toks, full, a, b, c]);
  });

  it('is causal: later tokens do not change earlier logits', () => {
    const x = model.forward(ids([[1, 2, 3, 4]]));
    const y = model.forward(ids([[1, 2, 3, 9]]));
    expect(maxAbsDiff(x.slice([0, 0, 0], [1, 3, 23]), y.slice([0, 0, 0], [1, 3, 23]))).toBeLessThan(1e-6);
    expect(maxAbsDiff(x.slice([0, 3, 0], [1, 1, 23]), y.slice([0, 3, 0], [1, 1, 23]))).toBeGreaterThan(1e-4);
    tf.dispose([x, y]);
  });

  it('computes a padded row like the unpadded row (left and right padding)', () => {
    const alone = model.forward(ids([[5, 6, 7]]));
    const left = model.forward(ids([[0, 0, 5, 6, 7]]), undefined, { attentionMask: [0, 0, 1, 1, 1] });
    const right = model.forward(ids([[5, 6, 7, 0, 0]]), undefined, { attentionMask: [1, 1, 1, 0, 0] });
    expect(maxAbsDiff(alone, left.slice([0, 2, 0], [1, 3, 23]))).toBeLessThan(1e-5);
    expect(maxAbsDiff(alone, right.slice([0, 0, 0], [1, 3, 23]))).toBeLessThan(1e-5);
    tf.dispose([alone, left, right]);
  });

  it('honours the Linear, Norm and prefix hooks', () => {
    const toks = ids([[3, 4, 5]]);
    const base = model.forward(toks);
    const q = model.module('blocks.0.attn.q') as import('../src/index.ts').Linear;
    q.hook = (x, lin) => lin(x);
    expect(maxAbsDiff(base, model.forward(toks))).toBeLessThan(1e-6);
    q.hook = null;
    const o = model.module('blocks.0.attn.o') as import('../src/index.ts').Linear;
    o.hook = (x, lin) => lin(x).add(tf.linspace(-1, 1, 16)); // not a constant: LayerNorm would remove that
    expect(maxAbsDiff(base, model.forward(toks))).toBeGreaterThan(1e-3);
    o.hook = null;
    const ln = model.module('ln_f') as import('../src/index.ts').Norm;
    ln.hook = (w, b) => ({ weight: w.mul(2), bias: b ? b.mul(2) : null });
    const doubled = model.forward(toks);
    ln.hook = null;
    // ln_f feeds only the (linear) head and its bias is zero at init: logits double exactly.
    expect(maxAbsDiff(doubled, base.mul(2))).toBeLessThan(1e-5);
    const P = 2;
    const prefixVec = tf.randomNormal([1, P, 16], 0, 0.5, 'float32', 3);
    model.embeddings.prefix = { length: P, embed: (x) => tf.concat([prefixVec.tile([x.shape[0]!, 1, 1]), x], 1) };
    const withPrefix = model.forward(toks);
    expect(withPrefix.shape).toEqual([1, 3, 23]);
    expect(maxAbsDiff(base, withPrefix)).toBeGreaterThan(1e-4);
    // The prefix also works through a cache: the first call adds it, later calls continue after it.
    const cache = model.createCache(1);
    model.forward(toks.slice([0, 0], [1, 2]), cache).dispose();
    const last = model.forward(toks.slice([0, 2], [1, 1]), cache);
    expect(cache.length).toBe(P + 3);
    expect(maxAbsDiff(last, withPrefix.slice([0, 2, 0], [1, 1, 23]))).toBeLessThan(1e-5);
    model.embeddings.prefix = null;
    cache.dispose();
    tf.dispose([toks, base, doubled, withPrefix, last, prefixVec]);
  });

  it('has gradients that match finite differences', () => {
    const toks = ids([[1, 5, 9, 2, 7]]);
    const tgt = ids([[5, 9, 2, 7, 1]]);
    const w = tf.ones([1, 5]) as tf.Tensor2D;
    const names = ['blocks.0.attn.q.weight', 'blocks.1.mlp.down.weight', 'blocks.0.ln1.weight', 'embeddings.tokens'];
    const vars = names.map((n) => model.params().get(n)!);
    const { grads } = tf.variableGrads(() => model.loss(toks, tgt, w), vars);
    for (const v of vars) {
      const g = grads[v.name]!.dataSync();
      // the largest-gradient entry of each tensor, central difference in float32
      let k = 0;
      for (let i = 0; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[k]!)) k = i;
      const orig = v.dataSync().slice();
      const lossAt = (delta: number) => {
        const data = orig.slice();
        data[k]! += delta;
        v.assign(tf.tensor(data, v.shape));
        return tf.tidy(() => model.loss(toks, tgt, w).dataSync()[0]!);
      };
      const h = 1e-2;
      const numeric = (lossAt(h) - lossAt(-h)) / (2 * h);
      v.assign(tf.tensor(orig, v.shape));
      expect(Math.abs(numeric - g[k]!)).toBeLessThan(0.03 * Math.abs(g[k]!) + 1e-4);
    }
    tf.dispose([toks, tgt, w, ...Object.values(grads)]);
  });

  it('computes the loss and its gradients from the weighted positions alone, as over all logits', () => {
    const toks = ids([[1, 5, 9, 2, 7], [3, 3, 8, 1, 0]]);
    const tgt = ids([[5, 9, 2, 7, 1], [3, 8, 1, 4, 0]]);
    const w = tf.tensor2d([[0, 0, 1, 1, 1], [0, 1, 0.5, 0, 0]], [2, 5]);
    const names = ['blocks.0.attn.q.weight', 'ln_f.weight', 'embeddings.tokens'];
    const vars = names.map((n) => model.params().get(n)!);
    // The reference: logits at every position, cross-entropy weighted by w.
    const everywhere = () => {
      const logp = tf.logSoftmax(model.forward(toks).reshape([10, 23]));
      const picked = logp.mul(tf.oneHot(tgt.reshape([10]) as tf.Tensor1D, 23)).sum(-1);
      return picked.mul(w.reshape([10])).sum().neg().div(w.sum()) as tf.Scalar;
    };
    const a = tf.variableGrads(() => model.loss(toks, tgt, w), vars);
    const b = tf.variableGrads(everywhere, vars);
    expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0]!, 5);
    for (const v of vars) expect(maxAbsDiff(a.grads[v.name]!, b.grads[v.name]!)).toBeLessThan(1e-5);
    tf.dispose([toks, tgt, w, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
  });

  it('rejects too long inputs and wrong dtypes clearly', () => {
    expect(() => model.forward(tf.zeros([1, 25], 'int32') as tf.Tensor2D)).toThrow('25 positions (0 cached + 0 prefix + 25 new) exceed maxSeq=24');
    expect(() => model.forward(tf.zeros([1, 3]) as tf.Tensor2D)).toThrow('tokens must be an int32 tensor');
  });
});
