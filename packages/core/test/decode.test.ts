import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createModel, greedyDecode, scoreContinuations, type Model } from '../src/index.ts';

let models: Record<'gpt2' | 'llama', Model>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  // Larger init than the default so that greedy choices vary with the context.
  const scaled = (m: Model) => {
    for (const [name, v] of m.params()) if (name.endsWith('.weight') && v.shape.length === 2) v.assign(v.mul(8));
    m.embeddings.tokens.assign(m.embeddings.tokens.mul(8));
    return m;
  };
  models = {
    gpt2: scaled(createModel({ family: 'gpt2', vocabSize: 17, d: 16, nLayer: 2, nHead: 2, maxSeq: 20 }, 11)),
    llama: scaled(createModel({ family: 'llama', vocabSize: 17, d: 16, nLayer: 2, nHead: 4, nKvHead: 2, maxSeq: 20, mlpHidden: 32 }, 12)),
  };
});

const PROMPTS = [[3, 4, 5], [7], [9, 10, 11, 12, 13], [2, 2]];

describe.each(['gpt2', 'llama'] as const)('%s decoding', (family) => {
  it('cached greedy output equals uncached recomputation', () => {
    const model = models[family];
    const reference = greedyDecode(model, PROMPTS, { maxNewTokens: 6, useCache: false });
    expect(reference.tokens.every((t) => t.length === 6)).toBe(true);
    expect(new Set(reference.tokens.flat()).size).toBeGreaterThan(2); // not a degenerate constant output
    for (const padding of ['left', 'right'] as const) {
      const batched = greedyDecode(model, PROMPTS, { maxNewTokens: 6, padding });
      expect(batched).toEqual(reference);
    }
  });

  it('batched decoding equals decoding each prompt alone', () => {
    const model = models[family];
    const batched = greedyDecode(model, PROMPTS, { maxNewTokens: 5, padding: 'left' });
    PROMPTS.forEach((p, i) => {
      const alone = greedyDecode(model, [p], { maxNewTokens: 5 });
      expect(alone.tokens[0]).toEqual(batched.tokens[i]);
    });
  });

  it('stops a row at EOS and at the model length', () => {
    const model = models[family];
    const free = greedyDecode(model, PROMPTS, { maxNewTokens: 6 });
    const eos = free.tokens[0]![2]!; // the third token row 0 would produce
    const stopped = greedyDecode(model, PROMPTS, { maxNewTokens: 6, eosId: eos });
    expect(stopped.finish[0]).toBe('eos');
    expect(stopped.tokens[0]).toEqual(free.tokens[0]!.slice(0, free.tokens[0]!.indexOf(eos)));
    PROMPTS.forEach((_, i) => {
      const cut = free.tokens[i]!.indexOf(eos);
      expect(stopped.tokens[i]).toEqual(cut >= 0 ? free.tokens[i]!.slice(0, cut) : free.tokens[i]);
    });
    const long = greedyDecode(model, [[1, 2, 3]], { maxNewTokens: 50 });
    expect(long.finish[0]).toBe('max_seq');
    expect(long.tokens[0]!.length).toBe(20 - 3 + 1); // the last token is predicted from the full window
  });

  it('scores continuations as the sum of their token log-probabilities', () => {
    const model = models[family];
    const prompt = [4, 5, 6];
    const conts = [[7], [8, 9], [1, 2, 3]];
    const scores = scoreContinuations(model, prompt, conts);
    conts.forEach((c, i) => {
      let expected = 0;
      for (let j = 0; j < c.length; j++) {
        const ctx = [...prompt, ...c.slice(0, j)];
        expected += tf.tidy(() => {
          const logits = model.forward(tf.tensor2d(ctx, [1, ctx.length], 'int32'));
          return tf.logSoftmax(logits.slice([0, ctx.length - 1, 0], [1, 1, -1]).reshape([-1])).dataSync()[c[j]!]!;
        });
      }
      expect(scores[i]).toBeCloseTo(expected, 4);
    });
    expect(() => scoreContinuations(model, [], [[1]])).toThrow('empty prompt');
    expect(() => scoreContinuations(model, [1], [[99]])).toThrow('outside the vocabulary [0, 17)');
  });
});

it('leaves no tensors behind', () => {
  const before = tf.memory().numTensors;
  greedyDecode(models.gpt2, PROMPTS, { maxNewTokens: 4, padding: 'right' });
  scoreContinuations(models.llama, [1, 2], [[3], [4, 5]]);
  expect(tf.memory().numTensors).toBe(before);
});
