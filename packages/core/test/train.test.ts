import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  createModel, estimateStepBytes, learningRateAt, microBatches, resolveModelConfig, train, uniformStream,
  type Batch, type ModelConfigInput,
} from '../src/index.ts';
import { initBackend } from '../src/backend/index.ts';

beforeAll(async () => {
  // The fastest backend available (wasm-blas with the native addon, else wasm): training runs
  // through the fused ops as in real runs; the cpu reference is covered by the model tests.
  await initBackend({ backend: 'auto' });
});

/** Copy (or reverse) task: `n` random symbols, a separator, then the symbols again; loss on the second half. */
function copyTask(seed: number, B: number, n: number, V: number, reverse: boolean): (step: number) => Batch {
  const rnd = uniformStream(seed);
  return () => {
    const T = 2 * n;
    const tokens = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    const weights = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      const sym = Array.from({ length: n }, () => 2 + Math.floor(rnd() * (V - 2)));
      const seq = [...sym, 1, ...(reverse ? [...sym].reverse() : sym)];
      for (let t = 0; t < T; t++) {
        tokens[b * T + t] = seq[t]!;
        targets[b * T + t] = seq[t + 1]!;
        weights[b * T + t] = t >= n ? 1 : 0;
      }
    }
    return { tokens, targets, weights, B, T };
  };
}

const TINY: ModelConfigInput = { family: 'gpt2', vocabSize: 8, d: 8, nLayer: 1, nHead: 2, maxSeq: 8 };

describe('train', () => {
  it.each([
    ['gpt2', 'reverse'],
    ['llama', 'copy'],
  ] as const)('a tiny %s model learns the %s task to near-zero loss', async (family, task) => {
    const model = createModel({ family, vocabSize: 10, d: 32, nLayer: 2, nHead: 2, maxSeq: 16, mlpHidden: 64 }, 1);
    const result = await train({
      model, trainable: model.params(), data: copyTask(1, 16, 4, 10, task === 'reverse'), steps: 150, lr: 1e-2, warmupSteps: 20,
    });
    expect(result.status).toBe('ok');
    expect(result.losses[0]).toBeGreaterThan(1.5);
    expect(result.losses.at(-1)).toBeLessThan(0.05);
    expect(result.tokensPerS).toBeGreaterThan(0);
    expect(result.peakBytes).toBeGreaterThan(0);
    model.dispose();
  }, 120_000);

  it('gives identical losses for the same seed', async () => {
    const run = async () => {
      const model = createModel({ ...TINY, family: 'llama', mlpHidden: 16 }, 3);
      const r = await train({ model, trainable: model.params(), data: copyTask(5, 4, 3, 8, false), steps: 6, lr: 1e-2 });
      model.dispose();
      return r.losses;
    };
    const a = await run();
    expect(a).toHaveLength(6);
    expect(await run()).toEqual(a);
  });

  it('accumulates micro-batches into exactly the full-batch step', async () => {
    const run = async (microBatch: number) => {
      const model = createModel(TINY, 2);
      // uneven target counts per row, so the micro-losses must be weighted by their share
      const data = copyTask(9, 4, 3, 8, false);
      const batches = [data(0), data(1)];
      batches.forEach((b) => b.weights.fill(0, 0, 4));
      const r = await train({ model, trainable: model.params(), data: (s) => batches[s]!, steps: 2, lr: 1e-2, microBatch });
      const after = model.params().get('blocks.0.attn.q.weight')!.dataSync().slice();
      model.dispose();
      return { losses: r.losses, after };
    };
    const full = await run(4);
    const micro = await run(1);
    expect(micro.losses[0]).toBeCloseTo(full.losses[0]!, 5);
    expect(micro.losses[1]).toBeCloseTo(full.losses[1]!, 5);
    let maxDiff = 0;
    for (let i = 0; i < full.after.length; i++) maxDiff = Math.max(maxDiff, Math.abs(full.after[i]! - micro.after[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('groups rows of different lengths into micro-batches cut after their longest row, with the full-batch step', async () => {
    // Rows whose targets end at different positions (the rest is padding with weight 0).
    const B = 6;
    const T = 8;
    const ends = [8, 5, 7, 6, 8, 5]; // targets start at position 4
    const make = (seed: number): Batch => {
      const b = copyTask(seed, B, 4, 8, false)(0);
      ends.forEach((end, r) => b.weights.fill(0, r * T + end, (r + 1) * T));
      return b;
    };
    const parts = microBatches(make(3), 2);
    expect(parts.map((p) => [p.rows, p.T])).toEqual([[2, 5], [2, 7], [2, 8]]);
    expect(microBatches(make(3), 6)).toHaveLength(1);
    const run = async (microBatch: number) => {
      const model = createModel(TINY, 5);
      const batches = [make(11), make(12)];
      const r = await train({ model, trainable: model.params(), data: (s) => batches[s]!, steps: 2, lr: 1e-2, microBatch });
      const after = model.params().get('blocks.0.mlp.up.weight')!.dataSync().slice();
      model.dispose();
      return { losses: r.losses, after };
    };
    const full = await run(6);
    const micro = await run(2);
    expect(micro.losses[0]).toBeCloseTo(full.losses[0]!, 5);
    expect(micro.losses[1]).toBeCloseTo(full.losses[1]!, 5);
    let maxDiff = 0;
    for (let i = 0; i < full.after.length; i++) maxDiff = Math.max(maxDiff, Math.abs(full.after[i]! - micro.after[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('updates only the trainable variables', async () => {
    const model = createModel(TINY, 4);
    const before = new Map([...model.params()].map(([n, v]) => [n, v.dataSync().slice()]));
    const trainable = new Map([...model.params()].filter(([n]) => n.startsWith('ln_f')));
    await train({ model, trainable, data: copyTask(1, 2, 3, 8, false), steps: 3, lr: 1e-1 });
    for (const [name, v] of model.params()) {
      const same = v.dataSync().every((x, i) => x === before.get(name)![i]);
      expect([name, same]).toEqual([name, !name.startsWith('ln_f')]);
    }
    model.dispose();
  });

  describe('early stopping', () => {
    /** An onEval that returns scripted validation losses and copies the weights at each evaluation. */
    function scripted(model: ReturnType<typeof createModel>, values: number[]) {
      const weightsAt = new Map<number, Float32Array>();
      let i = 0;
      const onEval = (step: number) => {
        weightsAt.set(step, model.params().get([...model.params().keys()][0]!)!.dataSync().slice() as Float32Array);
        return values[Math.min(i++, values.length - 1)]!;
      };
      return { onEval, weightsAt };
    }

    it('stops after `patience` evaluations without improvement and restores the best weights', async () => {
      const model = createModel(TINY, 1);
      const start = tf.memory().numTensors;
      // Evaluations at steps 2, 4, 6, 8, 10: the best is step 4 (2.0); 1.999 is not 0.1% better.
      const { onEval, weightsAt } = scripted(model, [3, 2, 1.999, 2.5, 2.2, 1]);
      const result = await train({
        model, trainable: model.params(), data: copyTask(2, 2, 3, 8, false), steps: 40, lr: 1e-2, schedule: 'constant',
        evalEvery: 2, onEval, earlyStopping: { patience: 3, minRelImprovement: 1e-3 },
      });
      expect(result.stopReason).toBe('plateau');
      expect(result.steps).toBe(10);
      expect(result.bestStep).toBe(4);
      expect(result.bestValue).toBe(2);
      const first = model.params().get([...model.params().keys()][0]!)!.dataSync();
      expect([...first]).toEqual([...weightsAt.get(4)!]);
      expect([...first]).not.toEqual([...weightsAt.get(10)!]);
      expect(tf.memory().numTensors).toBe(start);
      model.dispose();
    });

    it('runs to the maximum while the validation loss keeps improving', async () => {
      const model = createModel(TINY, 1);
      const { onEval, weightsAt } = scripted(model, [5, 4, 3, 2, 1]);
      const result = await train({
        model, trainable: model.params(), data: copyTask(2, 2, 3, 8, false), steps: 10, lr: 1e-2,
        evalEvery: 2, onEval, earlyStopping: { patience: 1, minRelImprovement: 1e-3 },
      });
      expect([result.stopReason, result.steps, result.bestStep]).toEqual(['max_steps', 10, 10]);
      expect([...model.params().get([...model.params().keys()][0]!)!.dataSync()]).toEqual([...weightsAt.get(10)!]);
      model.dispose();
    });

    it('reports a diverged run as stopped by divergence, judged on the steps it took', async () => {
      const model = createModel(TINY, 1);
      const result = await train({
        model, trainable: model.params(), data: copyTask(2, 2, 3, 8, false), steps: 40, lr: 1e9,
        evalEvery: 2, onEval: () => 1, earlyStopping: { patience: 5, minRelImprovement: 1e-3 },
      });
      expect(result.status).toBe('diverged');
      expect(result.stopReason).toBe('diverged');
      expect(result.bestStep).toBeNull();
      model.dispose();
    });

    it('rejects early stopping without an evaluation', async () => {
      const model = createModel(TINY, 1);
      await expect(train({ model, trainable: model.params(), data: copyTask(2, 2, 3, 8, false), steps: 4, lr: 1e-2, earlyStopping: { patience: 2, minRelImprovement: 0 } }))
        .rejects.toThrow(/evalEvery/);
      model.dispose();
    });
  });

  it('keeps the tensor count constant over hundreds of steps and frees its state', async () => {
    const model = createModel(TINY, 1);
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    const result = await train({
      model, trainable: model.params(), data: copyTask(2, 2, 3, 8, false), steps: 300, lr: 1e-3, microBatch: 1, warmupSteps: 10,
      evalEvery: 100, onEval: () => tf.tidy(() => model.loss(tf.zeros([1, 4], 'int32') as tf.Tensor2D, tf.zeros([1, 4], 'int32') as tf.Tensor2D, tf.ones([1, 4]) as tf.Tensor2D).dataSync()[0]!),
      onStep: () => counts.push(tf.memory().numTensors),
    });
    expect(result.steps).toBe(300);
    expect(result.evals.map((e) => e.step)).toEqual([100, 200, 300]);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  }, 60_000);

  it('stops with status diverged, naming the step, when the loss is not finite', async () => {
    const model = createModel(TINY, 1);
    let calls = 0;
    const result = await train({
      model, trainable: model.params(), data: copyTask(2, 2, 3, 8, false), steps: 10, lr: 1e-2,
      lossFn: (a, b, c) => tf.tidy(() => model.loss(a, b, c).mul(++calls >= 3 ? NaN : 1)),
    });
    expect(result.status).toBe('diverged');
    expect(result.reason).toBe('non-finite: loss is NaN at step 3');
    expect(result.divergence).toEqual({ rule: 'non-finite', step: 3 });
    expect(result.steps).toBe(2);
    expect(result.losses).toHaveLength(3);
    model.dispose();
  });

  it('rejects a micro-batch that would not fit before any work, naming one that fits', async () => {
    const model = createModel(TINY, 1);
    const before = model.params().get('ln_f.weight')!.dataSync().slice();
    const cfg = resolveModelConfig(TINY);
    const limit = estimateStepBytes(cfg, 5, 6);
    await expect(
      train({ model, trainable: model.params(), data: copyTask(1, 8, 3, 8, false), steps: 2, lr: 1e-2, memoryLimitBytes: limit }),
    ).rejects.toThrow(/a micro-batch of 8 x 6 tokens needs about .* use a micro-batch of 5 \(gradient accumulation/);
    expect(model.params().get('ln_f.weight')!.dataSync()).toEqual(before);
    model.dispose();
  });

  it('estimates at least the measured peak memory of a step, without gross overestimation', async () => {
    const cfg = { family: 'gpt2', vocabSize: 64, d: 32, nLayer: 2, nHead: 4, maxSeq: 32 } as const;
    const model = createModel(cfg, 1);
    const rnd = uniformStream(1);
    const tokens = Int32Array.from({ length: 4 * 32 }, () => Math.floor(rnd() * 64));
    const r = await train({
      model, trainable: model.params(), steps: 1, lr: 1e-3,
      data: () => ({ tokens, targets: tokens, weights: new Float32Array(tokens.length).fill(1), B: 4, T: 32 }),
    });
    const estimate = estimateStepBytes(resolveModelConfig(cfg), 4, 32);
    expect(estimate).toBeGreaterThanOrEqual(r.peakBytes);
    expect(estimate).toBeLessThan(6 * r.peakBytes);
    model.dispose();
  });

  it('adds AdamW state for variables a beforeStep hook adds, keeping the existing moments', async () => {
    const k = 3;
    const steps = 6;
    const lr = 1e-2;
    // `extra` is in the loss from the start but trainable only from step k. Without clipping its
    // term does not touch ln_f's gradient, so ln_f must follow exactly the path of a run without it.
    const run = async (grow: boolean) => {
      const model = createModel(TINY, 4);
      const extra = tf.variable(tf.zeros([5]), true, 'test.extra');
      const trainable = new Map([...model.params()].filter(([n]) => n.startsWith('ln_f')));
      const calls: number[] = [];
      const extraAt: number[][] = [];
      const start = tf.memory().numTensors;
      const result = await train({
        model, trainable, data: copyTask(3, 2, 3, 8, false), steps, lr, gradClip: null, warmupSteps: 0, schedule: 'constant',
        lossFn: (a, b, c) => tf.tidy(() => model.loss(a, b, c).add(extra.sub(1).square().sum())),
        beforeStep: (step) => {
          calls.push(step);
          extraAt.push(Array.from(extra.dataSync()));
          if (grow && step === k) {
            trainable.set('extra', extra);
            return { trainableChanged: true };
          }
        },
      });
      const tensorsLeft = tf.memory().numTensors - start;
      const lnf = Array.from(model.params().get('ln_f.weight')!.dataSync());
      const extraEnd = Array.from(extra.dataSync());
      extra.dispose();
      model.dispose();
      return { result, calls, extraAt, extraEnd, lnf, tensorsLeft };
    };
    const plain = await run(false);
    const grown = await run(true);
    expect(grown.calls).toEqual([0, 1, 2, 3, 4, 5]);
    expect(grown.result.status).toBe('ok');
    // untouched until it joins at step k
    for (let s = 0; s <= k; s++) expect(grown.extraAt[s]).toEqual([0, 0, 0, 0, 0]);
    // its first update is Adam's first step from fresh state: exactly lr against the gradient's sign
    for (const x of grown.extraAt[k + 1]!) expect(x).toBeCloseTo(lr, 6);
    expect(grown.extraEnd[0]).toBeGreaterThan(grown.extraAt[k + 1]![0]!);
    expect(plain.extraEnd).toEqual([0, 0, 0, 0, 0]);
    expect(grown.lnf).toEqual(plain.lnf);
    expect(grown.result.losses.slice(0, k + 1)).toEqual(plain.result.losses.slice(0, k + 1));
    expect(grown.result.optimizerStateBytes).toBe(plain.result.optimizerStateBytes + 8 * 5);
    expect(grown.tensorsLeft).toBe(0);
  });

  it('rejects a variable added mid-run that is marked trainable=false', async () => {
    const model = createModel(TINY, 1);
    const trainable = new Map([...model.params()].filter(([n]) => n.startsWith('ln_f')));
    const frozen = tf.variable(tf.zeros([2]), false, 'test.frozen');
    const start = tf.memory().numTensors;
    await expect(
      train({
        model, trainable, data: copyTask(1, 2, 3, 8, false), steps: 3, lr: 1e-2,
        beforeStep: (step) => (step === 1 ? (trainable.set('frozen', frozen), { trainableChanged: true }) : undefined),
      }),
    ).rejects.toThrow('train: after beforeStep(1): variables marked trainable=false cannot be trained: frozen');
    expect(tf.memory().numTensors).toBe(start);
    frozen.dispose();
    model.dispose();
  });

  it('validates batches and options with clear messages', async () => {
    const model = createModel(TINY, 1);
    const bad = { tokens: new Int32Array([1, 2, 99]), targets: new Int32Array(3), weights: new Float32Array(3), B: 1, T: 3 };
    await expect(train({ model, trainable: model.params(), data: () => bad, steps: 1, lr: 1 })).rejects.toThrow('token id at 2 is outside the vocabulary [0, 8)');
    await expect(train({ model, trainable: model.params(), data: () => bad, steps: 1, lr: 0 })).rejects.toThrow('lr=0 must be positive');
    await expect(train({ model, trainable: new Map(), data: () => bad, steps: 1, lr: 1 })).rejects.toThrow('no trainable variables');
    model.dispose();
  });
});

describe('learning-rate schedule', () => {
  const base = { lr: 1, steps: 11, warmupSteps: 2, minLrRatio: 0.1 };
  it('warms up linearly, then decays to the floor', () => {
    expect(learningRateAt(0, { ...base, schedule: 'cosine' })).toBeCloseTo(0.5);
    expect(learningRateAt(2, { ...base, schedule: 'cosine' })).toBeCloseTo(1);
    expect(learningRateAt(10, { ...base, schedule: 'cosine' })).toBeCloseTo(0.1);
    expect(learningRateAt(6, { ...base, schedule: 'linear' })).toBeCloseTo(0.55);
    expect(learningRateAt(6, { ...base, schedule: 'cosine' })).toBeCloseTo(0.55);
    expect(learningRateAt(9, { ...base, schedule: 'constant' })).toBe(1);
    expect(() => learningRateAt(0, { ...base, schedule: 'step' as 'linear' })).toThrow('valid schedules are cosine, linear, constant');
  });
});
