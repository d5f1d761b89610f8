// Log-likelihood scoring: the summed log-probability of a continuation after a prompt, as
// classification tasks (NLI) score each label. Rows are right-padded; causality keeps padding
// from affecting the scored positions.
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/model.ts';

export interface ScoredPair {
  prompt: number[];
  continuation: number[];
}

/** Sum of log p(continuation | prompt) for each pair, in batches of `batchSize` rows. */
export function scoreSequences(model: Model, pairs: ScoredPair[], opts: { batchSize?: number } = {}): number[] {
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`scoreSequences: batchSize=${batchSize} must be a positive integer`);
  const V = model.config.vocabSize;
  const maxSeq = model.config.maxSeq - (model.embeddings.prefix?.length ?? 0);
  pairs.forEach((p, i) => {
    if (p.prompt.length === 0) throw new Error(`scoreSequences: pair ${i} has an empty prompt; the first continuation token needs context`);
    if (p.continuation.length === 0) throw new Error(`scoreSequences: pair ${i} has an empty continuation`);
    for (const t of [...p.prompt, ...p.continuation]) {
      if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`scoreSequences: pair ${i} has token id ${t}, outside the vocabulary [0, ${V})`);
    }
    // The last continuation token is only predicted, never fed.
    const fed = p.prompt.length + p.continuation.length - 1;
    if (fed > maxSeq) throw new Error(`scoreSequences: pair ${i} needs ${fed} positions, over the model's ${maxSeq}`);
  });
  const scores: number[] = [];
  for (let start = 0; start < pairs.length; start += batchSize) {
    const chunk = pairs.slice(start, start + batchSize);
    const B = chunk.length;
    const L = Math.max(...chunk.map((p) => p.prompt.length + p.continuation.length - 1));
    const tokens = new Int32Array(B * L);
    const picks: number[] = []; // flat index into log-probs [B*L*V]
    const owner: number[] = [];
    chunk.forEach((p, b) => {
      const seq = [...p.prompt, ...p.continuation].slice(0, -1);
      tokens.set(seq, b * L);
      p.continuation.forEach((tok, j) => {
        const pos = p.prompt.length - 1 + j; // position whose output predicts continuation[j]
        picks.push((b * L + pos) * V + tok);
        owner.push(b);
      });
    });
    const logp = tf.tidy(() => {
      const logits = model.forward(tf.tensor2d(tokens, [B, L], 'int32'));
      const flat = tf.logSoftmax(logits.reshape([B * L, V])).reshape([-1]);
      return tf.gather(flat, tf.tensor1d(picks, 'int32')).dataSync();
    });
    const sums = new Array(B).fill(0);
    for (let i = 0; i < picks.length; i++) sums[owner[i]!] += logp[i]!;
    scores.push(...sums);
  }
  return scores;
}

/** Sum log-likelihood of each continuation after one shared prompt (e.g. the labels of an NLI example). */
export function scoreContinuations(model: Model, prompt: number[], continuations: number[][], opts: { batchSize?: number } = {}): number[] {
  return scoreSequences(model, continuations.map((continuation) => ({ prompt, continuation })), opts);
}
