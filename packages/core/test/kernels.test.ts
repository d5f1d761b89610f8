// Every accelerated kernel and fused op against the plain cpu backend (values and gradients),
// on the native (OpenBLAS) path and on the pure-wasm fallback, plus memory stability.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, linear } from '../src/backend/index.ts';
import { loadNative } from '../src/backend/native.ts';
import { ops, referenceOps } from '../src/ops.ts';
import { compareWithCpu, input, intInput, withGrads, type Arrays } from './kernels_helpers.ts';

const TOL = 1e-5;
const hasNative = loadNative().addon != null;
const modes = [
  { name: 'native (wasm-blas)', backend: 'wasm-blas', ops: 'fused-native', skip: !hasNative },
  { name: 'pure-wasm fallback', backend: 'wasm', ops: 'fused-js', skip: false },
];

// matMul shape cases: [aShape, bShape] before transposes are applied (M=5, K=7, N=6).
function matShapes(batchA: number[], batchB: number[], tA: boolean, tB: boolean): [number[], number[]] {
  const [M, K, N] = [5, 7, 6];
  return [[...batchA, ...(tA ? [K, M] : [M, K])], [...batchB, ...(tB ? [N, K] : [K, N])]];
}
const BATCH_CASES: Array<[string, number[], number[]]> = [
  ['rank 2 x rank 2', [], []],
  ['rank 3 x rank 3 (batch 3)', [3], [3]],
  ['rank 3 x rank 2 (b broadcast)', [3], []],
  ['rank 2 x rank 3 (a broadcast)', [], [3]],
  ['batch 1 x batch 3', [1], [3]],
  ['batch 3 x batch 1', [3], [1]],
  ['rank 4 x rank 4', [2, 3], [2, 3]],
  ['rank 4 general broadcast [2,1] x [1,3]', [2, 1], [1, 3]],
  ['rank 4 x rank 2', [2, 3], []],
];
const TRANSPOSES: Array<[boolean, boolean]> = [[false, false], [true, false], [false, true], [true, true]];

describe.each(modes)('wasm kernels: $name', (mode) => {
  beforeAll(async () => {
    if (mode.skip) return;
    const info = await initBackend({ backend: mode.backend });
    expect(info.fusedOps).toBe(mode.ops);
  });

  it.skipIf(mode.skip)('matMul: values and gradients for every transpose and broadcast case', async () => {
    for (const [label, ba, bb] of BATCH_CASES) {
      for (const [tA, tB] of TRANSPOSES) {
        const [sa, sb] = matShapes(ba, bb, tA, tB);
        // The reference broadcasts explicitly: the cpu kernel cannot broadcast [2,1] against [1,3].
        const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(ba, bb);
        const expand = (x: tf.Tensor) => tf.broadcastTo(x, [...outBatch, ...x.shape.slice(-2)]);
        const err = await compareWithCpu('wasm', [input(sa), input(sb)],
          withGrads((a, b) => tf.matMul(a!, b!, tA, tB), [0, 1]),
          withGrads((a, b) => tf.matMul(expand(a!), expand(b!), tA, tB), [0, 1]));
        expect(err, `${label} transposeA=${tA} transposeB=${tB}`).toBeLessThanOrEqual(TOL);
      }
    }
  });

  it.skipIf(mode.skip)('fused matMul with bias: values for every case, gradients where tfjs supports them', async () => {
    // tfjs's fused matMul op itself rejects the general [2,1] x [1,3] broadcast.
    for (const [label, ba, bb] of BATCH_CASES.filter(([l]) => !l.includes('general'))) {
      // tfjs-core's fused matMul gradient cannot reduce a broadcast batch: values only there.
      const sameBatch = ba.join() === bb.join();
      for (const [tA, tB] of TRANSPOSES) {
        const [sa, sb] = matShapes(ba, bb, tA, tB);
        const f = (a?: tf.Tensor, b?: tf.Tensor, bias?: tf.Tensor) => tf.fused.matMul({ a: a!, b: b!, bias, transposeA: tA, transposeB: tB });
        const err = await compareWithCpu('wasm', [input(sa), input(sb), input([6])], sameBatch ? withGrads(f, [0, 1, 2]) : f);
        expect(err, `${label} transposeA=${tA} transposeB=${tB}`).toBeLessThanOrEqual(TOL);
      }
    }
  });

  it.skipIf(mode.skip)('linear (x·W + b, any rank of x): values and gradients, with and without bias', async () => {
    for (const xs of [[6, 7], [2, 3, 7]]) {
      const err = await compareWithCpu('wasm', [input(xs), input([7, 5]), input([5])], withGrads((x, w, b) => linear(x!, w!, b!), [0, 1, 2]));
      expect(err, `x [${xs}] with bias`).toBeLessThanOrEqual(TOL);
      const err2 = await compareWithCpu('wasm', [input(xs), input([7, 5])], withGrads((x, w) => linear(x!, w!), [0, 1]));
      expect(err2, `x [${xs}] without bias`).toBeLessThanOrEqual(TOL);
    }
    expect(() => linear(tf.ones([2, 3]), tf.ones([4, 5]))).toThrow(/x \[2,3\] and W \[4,5\] do not fit/);
  });

  it.skipIf(mode.skip)('broadcast matMul gradient equals the gradient through an explicit tile', async () => {
    await tf.setBackend('wasm');
    const [a, b] = [tf.tensor(input([4, 5, 7]).data, [4, 5, 7]), tf.tensor(input([7, 6]).data, [7, 6])];
    const w = tf.tensor(input([4, 5, 6]).data, [4, 5, 6]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).mul(w).sum())([a, b]);
    const [ta, tb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, tf.tile(y.reshape([1, 7, 6]), [4, 1, 1])).mul(w).sum())([a, b]);
    const { relErr } = await import('./kernels_helpers.ts');
    expect(gb!.shape).toEqual([7, 6]);
    expect(relErr(ga!.dataSync(), ta!.dataSync())).toBeLessThanOrEqual(TOL);
    expect(relErr(gb!.dataSync(), tb!.dataSync())).toBeLessThanOrEqual(TOL);
    tf.dispose([a, b, w, ga!, gb!, ta!, tb!]);
  });

  it.skipIf(mode.skip)('fused matMul: bias + every activation (forward), batched and transposed', async () => {
    const acts = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const;
    for (const activation of acts) {
      for (const [tA, tB] of TRANSPOSES) {
        const [sa, sb] = matShapes([3], [3], tA, tB);
        const err = await compareWithCpu('wasm', [input(sa), input(sb), input([6]), input([6])], (a, b, bias, alpha) =>
          tf.fused.matMul({ a: a!, b: b!, bias, transposeA: tA, transposeB: tB, activation,
            preluActivationWeights: activation === 'prelu' ? alpha : undefined, leakyreluAlpha: 0.3 }));
        expect(err, `${activation} transposeA=${tA} transposeB=${tB}`).toBeLessThanOrEqual(TOL);
      }
    }
  });

  it.skipIf(mode.skip)('gather on axis 0 and its gradient (UnsortedSegmentSum)', async () => {
    const idx = intInput([3, 0, 3, 9, 1, 1, 3], [7]);
    const err = await compareWithCpu('wasm', [input([10, 4]), idx], withGrads((x, i) => tf.gather(x!, i!), [0]));
    expect(err).toBeLessThanOrEqual(TOL);
    const err2 = await compareWithCpu('wasm', [input([10, 2, 3]), intInput([1, 2, 3, 4, 5, 6], [2, 3])], withGrads((x, i) => tf.gather(x!, i!), [0]));
    expect(err2).toBeLessThanOrEqual(TOL);
    // segment ids outside [0, numSegments) are dropped, as on the cpu backend
    const err3 = await compareWithCpu('wasm', [input([5, 3]), intInput([0, 4, -1, 2, 7])], (x, s) => tf.unsortedSegmentSum(x!, s as tf.Tensor1D, 5));
    expect(err3).toBeLessThanOrEqual(TOL);
  });

  it.skipIf(mode.skip)('gather with an index out of range fails with a clear message', () => {
    const x = tf.ones([4, 2]);
    expect(() => tf.gather(x, tf.tensor1d([1, 4], 'int32'))).toThrow(/index value 4 .*not in \[0, 3\]/);
    x.dispose();
  });

  it.skipIf(mode.skip)('sum over leading axes (and delegated other axes)', async () => {
    for (const [axis, keepDims] of [[0, false], [[0, 1], false], [[0, 1], true], [2, false], [[1], true], [null, false]] as const) {
      const err = await compareWithCpu('wasm', [input([3, 4, 5])], (x) => tf.sum(x!, axis as number | number[] | undefined ?? undefined, keepDims));
      expect(err, `axis ${axis} keepDims ${keepDims}`).toBeLessThanOrEqual(TOL);
    }
  });

  it.skipIf(mode.skip)('transpose: head split/merge row copies and other perms (delegated)', async () => {
    for (const [shape, perm] of [[[2, 3, 4, 5], [0, 2, 1, 3]], [[3, 4, 5], [1, 0, 2]], [[2, 2, 3, 4, 5], [0, 1, 3, 2, 4]], [[2, 3, 4, 5], [0, 1, 3, 2]], [[4, 6], [1, 0]]] as const) {
      const err = await compareWithCpu('wasm', [input([...shape])], withGrads((x) => tf.transpose(x!, [...perm]), [0]));
      expect(err, `shape [${shape}] perm [${perm}]`).toBeLessThanOrEqual(TOL);
    }
  });

  it.skipIf(mode.skip)('identity shares the buffer but keeps values (clone, kept tensors)', async () => {
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
  });

  it.skipIf(mode.skip)('fused ops match the reference ops on cpu: values and gradients', async () => {
    expect(ops()).not.toBe(referenceOps);
    const cases: Array<[string, Arrays, (f: typeof referenceOps) => (...xs: tf.Tensor[]) => tf.Tensor, number[]]> = [
      ['layerNorm', [input([2, 3, 16], 3), input([16]), input([16])], (o) => (x, g, b) => o.layerNorm(x!, g!, b!, 1e-5), [0, 1, 2]],
      ['rmsNorm', [input([6, 16], 3), input([16])], (o) => (x, g) => o.rmsNorm(x!, g!, 1e-6), [0, 1]],
      ['gelu', [input([4, 33], 4)], (o) => (x) => o.gelu(x!), [0]],
      ['swiglu', [input([4, 17], 4), input([4, 17])], (o) => (a, b) => o.swiglu(a!, b!), [0, 1]],
      ['causalSoftmax S=T', [input([2, 2, 5, 5], 3)], (o) => (s) => o.causalSoftmax(s!, 0.5), [0]],
      ['causalSoftmax S>T (KV cache)', [input([1, 2, 3, 7], 3)], (o) => (s) => o.causalSoftmax(s!, 0.7), [0]],
      ['crossEntropy (weights, a masked row)', [input([6, 11], 3), intInput([1, 0, 10, 4, 4, 7]), { data: Float32Array.from([1, 0.5, 0, 2, 1, 1]), shape: [6], dtype: 'float32' }],
        (o) => (l, t, w) => o.crossEntropy(l as tf.Tensor2D, t as tf.Tensor1D, w as tf.Tensor1D), [0]],
    ];
    for (const [name, inputs, make, gradArgs] of cases) {
      const fusedF = withGrads(make(ops()), gradArgs);
      const refF = withGrads(make(referenceOps), gradArgs);
      const { runOn, relErr } = await import('./kernels_helpers.ts');
      const got = await runOn('wasm', inputs, fusedF);
      const want = await runOn('cpu', inputs, refF);
      await tf.setBackend('wasm');
      const err = Math.max(...got.map((g, i) => relErr(g, want[i]!)));
      expect(err, name).toBeLessThanOrEqual(TOL);
    }
  });

  it.skipIf(mode.skip)('fused AdamW matches the reference after 3 steps (with weight decay)', async () => {
    const shape = [7, 5];
    const p0 = input(shape), grads = [input(shape), input(shape), input(shape)];
    const run = async (backend: string, o: typeof referenceOps) => {
      await tf.setBackend(backend);
      const p = tf.variable(tf.tensor(p0.data, shape)), m = tf.variable(tf.zeros(shape)), v = tf.variable(tf.zeros(shape));
      for (let s = 1; s <= 3; s++) {
        tf.tidy(() => o.adamw([p], [tf.tensor(grads[s - 1]!.data, shape)], [m], [v], { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: s }));
      }
      const out = [p, m, v].map((t) => Float32Array.from(t.dataSync()));
      tf.dispose([p, m, v]);
      return out;
    };
    const got = await run('wasm', ops());
    const want = await run('cpu', referenceOps);
    await tf.setBackend('wasm');
    const { relErr } = await import('./kernels_helpers.ts');
    got.forEach((g, i) => expect(relErr(g, want[i]!), ['param', 'm', 'v'][i]).toBeLessThanOrEqual(TOL));
  });

  it.skipIf(mode.skip)('no tensor or wasm-heap growth over hundreds of training-like steps', async () => {
    await tf.setBackend('wasm');
    const o = ops();
    const [V, d, N] = [32, 16, 24];
    const emb = tf.variable(tf.randomNormal([V, d], 0, 0.1, 'float32', 1));
    const w = tf.variable(tf.randomNormal([d, 4 * d], 0, 0.1, 'float32', 2));
    const w2 = tf.variable(tf.randomNormal([4 * d, d], 0, 0.1, 'float32', 3));
    const g = tf.variable(tf.ones([d])), b = tf.variable(tf.zeros([d]));
    const params = [emb, w, w2, g, b];
    const m = params.map((p) => tf.variable(tf.zerosLike(p), false));
    const v = params.map((p) => tf.variable(tf.zerosLike(p), false));
    const ids = tf.tensor1d(Array.from({ length: N }, (_, i) => (i * 5) % V), 'int32');
    const tg = tf.tensor1d(Array.from({ length: N }, (_, i) => (i * 3 + 1) % V), 'int32');
    const wts = tf.ones([N]);
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const step = (s: number) => tf.tidy(() => {
      const { grads, value } = tf.variableGrads(() => {
        const x = o.layerNorm(tf.gather(emb, ids), g, b, 1e-5);
        const h = tf.matMul(o.gelu(tf.fused.matMul({ a: x as tf.Tensor2D, b: w })), w2).reshape([2, 12, d]);
        const att = o.causalSoftmax(tf.matMul(h, h, false, true).reshape([2, 1, 12, 12]), 0.25).reshape([2, 12, 12]);
        const y = tf.matMul(att, h).reshape([N, d]);
        return o.crossEntropy(tf.matMul(y, emb, false, true) as tf.Tensor2D, tg, wts as tf.Tensor1D);
      }, params);
      o.adamw(params, params.map((p) => grads[p.name]!), m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: s });
      return value.dataSync()[0]!;
    });
    const first = step(1);
    for (let s = 2; s <= 20; s++) step(s);
    const tensors = tf.memory().numTensors, bytes = heap();
    let last = first;
    for (let s = 21; s <= 300; s++) last = step(s);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(heap()).toBe(bytes);
    expect(last).toBeLessThan(first); // it trains
    tf.dispose([...params, ...m, ...v, ids, tg, wts]);
  });
});

describe.skipIf(!hasNative)('native kernels on two threads (parallel paths)', () => {
  beforeAll(async () => {
    expect((await initBackend({ backend: 'wasm-blas', threads: 2 })).threads).toBe(2);
  });

  it('large fused ops, AdamW and batched small matMuls match the cpu backend', async () => {
    const big: Array<[string, Arrays, (f: typeof referenceOps) => (...xs: tf.Tensor[]) => tf.Tensor, number[]]> = [
      ['layerNorm', [input([600, 256], 3), input([256]), input([256])], (o) => (x, g, b) => o.layerNorm(x!, g!, b!, 1e-5), [0, 1, 2]],
      ['gelu', [input([300, 512], 4)], (o) => (x) => o.gelu(x!), [0]],
      ['causalSoftmax', [input([3, 4, 128, 128], 3)], (o) => (s) => o.causalSoftmax(s!, 0.125), [0]],
    ];
    const { runOn, relErr } = await import('./kernels_helpers.ts');
    for (const [name, inputs, make, gradArgs] of big) {
      const got = await runOn('wasm', inputs, withGrads(make(ops()), gradArgs));
      const want = await runOn('cpu', inputs, withGrads(make(referenceOps), gradArgs));
      await tf.setBackend('wasm');
      expect(Math.max(...got.map((g, i) => relErr(g, want[i]!))), name).toBeLessThanOrEqual(TOL);
    }
    const err = await compareWithCpu('wasm', [input([64, 32, 16]), input([64, 24, 16])], withGrads((a, b) => tf.matMul(a!, b!, false, true), [0, 1]));
    expect(err, 'batched matMul split over threads').toBeLessThanOrEqual(TOL);
    const shape = [300, 512];
    const [p0, g0] = [input(shape), input(shape)];
    const step = async (backend: string, o: typeof referenceOps) => {
      await tf.setBackend(backend);
      const p = tf.variable(tf.tensor(p0.data, shape)), m = tf.variable(tf.zeros(shape)), v = tf.variable(tf.zeros(shape));
      tf.tidy(() => o.adamw([p], [tf.tensor(g0.data, shape)], [m], [v], { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 1 }));
      const out = Float32Array.from(p.dataSync());
      tf.dispose([p, m, v]);
      return out;
    };
    expect(relErr(await step('wasm', ops()), await step('cpu', referenceOps)), 'adamw').toBeLessThanOrEqual(TOL);
    await tf.setBackend('wasm');
  }, 60_000);
});
