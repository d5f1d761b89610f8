// Greedy decoding, batched, with a KV cache. Prompts of different lengths are padded (left by
// default, or right); the forward's attention mask and per-row position ids make every row decode
// exactly as it would alone. Each row stops at its EOS or after maxNewTokens.
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/model.ts';

export interface GreedyOptions {
  maxNewTokens: number;
  /** Token id(s) that end a row; the EOS itself is not included in the output. */
  eosId?: number | number[] | null;
  /** Filler id for padding (masked out, so its value does not matter); default 0. */
  padId?: number;
  /** Side the shorter prompts are padded on; default 'left'. */
  padding?: 'left' | 'right';
  /** Recompute the whole sequence each step instead of using the cache (slow; for checking). */
  useCache?: boolean;
}

export type FinishReason = 'eos' | 'length' | 'max_seq';

export interface GreedyResult {
  /** Generated ids per row (prompt and EOS excluded). */
  tokens: number[][];
  finish: FinishReason[];
}

function checkIds(model: Model, rows: number[][], what: string): void {
  const V = model.config.vocabSize;
  rows.forEach((r, i) => {
    if (!Array.isArray(r)) throw new Error(`${what} ${i} is not an array of token ids`);
    for (const t of r) if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`${what} ${i} has token id ${t}, outside the vocabulary [0, ${V})`);
  });
}

/** Greedy continuation of each prompt. */
export function greedyDecode(model: Model, prompts: number[][], opts: GreedyOptions): GreedyResult {
  const { maxNewTokens } = opts;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`greedyDecode: maxNewTokens=${maxNewTokens} must be a non-negative integer`);
  if (prompts.length === 0) return { tokens: [], finish: [] };
  checkIds(model, prompts, 'greedyDecode: prompt');
  if (prompts.some((p) => p.length === 0)) throw new Error('greedyDecode: every prompt needs at least one token');
  const eos = new Set(opts.eosId == null ? [] : Array.isArray(opts.eosId) ? opts.eosId : [opts.eosId]);
  const padId = opts.padId ?? 0;
  const side = opts.padding ?? 'left';
  if (side !== 'left' && side !== 'right') throw new Error(`greedyDecode: padding='${String(side)}' is invalid: valid are left, right`);
  const prefixLen = model.embeddings.prefix?.length ?? 0;
  const maxSeq = model.config.maxSeq - prefixLen;
  const B = prompts.length;
  const L = Math.max(...prompts.map((p) => p.length));
  if (L > maxSeq) throw new Error(`greedyDecode: a prompt has ${L} tokens, over the model's ${maxSeq} positions`);

  const out: number[][] = prompts.map(() => []);
  const finish: (FinishReason | null)[] = prompts.map(() => null);
  if (maxNewTokens === 0) return { tokens: out, finish: finish.map(() => 'length') };

  const record = (next: Int32Array | Float32Array | Uint8Array) => {
    for (let b = 0; b < B; b++) {
      if (finish[b]) continue;
      const t = next[b]!;
      if (eos.has(t)) finish[b] = 'eos';
      else {
        out[b]!.push(t);
        if (out[b]!.length >= maxNewTokens) finish[b] = 'length';
      }
    }
  };

  if (opts.useCache === false) {
    // Reference path: each row recomputed from scratch, one by one.
    for (let b = 0; b < B; b++) {
      const seq = [...prompts[b]!];
      for (;;) {
        const next = tf.tidy(() => {
          const logits = model.forward(tf.tensor2d(seq, [1, seq.length], 'int32'));
          return tf.argMax(logits.slice([0, seq.length - 1, 0], [1, 1, -1]).reshape([-1])).dataSync()[0]!;
        });
        if (eos.has(next)) {
          finish[b] = 'eos';
          break;
        }
        out[b]!.push(next);
        if (out[b]!.length >= maxNewTokens) {
          finish[b] = 'length';
          break;
        }
        if (seq.length + 1 > maxSeq) {
          finish[b] = 'max_seq';
          break;
        }
        seq.push(next);
      }
    }
    return { tokens: out, finish: finish as FinishReason[] };
  }

  // Prefill: padded prompts with their mask.
  const tokens = new Int32Array(B * L).fill(padId);
  const mask = new Uint8Array(B * L);
  let padded = false;
  prompts.forEach((p, b) => {
    const offset = side === 'left' ? L - p.length : 0;
    tokens.set(p, b * L + offset);
    mask.fill(1, b * L + offset, b * L + offset + p.length);
    if (p.length < L) padded = true;
  });
  const cache = model.createCache(B);
  try {
    let next = tf.tidy(() => {
      const logits = model.forward(tf.tensor2d(tokens, [B, L], 'int32'), cache, padded ? { attentionMask: mask } : undefined);
      // The last real position of each row: L-1 with left padding, length-1 with right padding.
      const rows = prompts.map((p, b) => b * L + (side === 'left' ? L - 1 : p.length - 1));
      const last = tf.gather(logits.reshape([B * L, -1]), tf.tensor1d(rows, 'int32'));
      return tf.argMax(last, -1).dataSync() as Int32Array;
    });
    record(next);
    while (finish.some((f) => !f)) {
      // The limit counts cache slots (padding included): a short row in a padded batch may stop
      // a few tokens earlier than it would alone, never later than the model allows.
      if (cache.length + 1 > maxSeq) {
        for (let b = 0; b < B; b++) finish[b] ??= 'max_seq';
        break;
      }
      const step = new Int32Array(B);
      const alive = new Uint8Array(B);
      for (let b = 0; b < B; b++) {
        alive[b] = finish[b] ? 0 : 1;
        step[b] = finish[b] ? padId : next[b]!;
      }
      const anyDone = alive.includes(0);
      next = tf.tidy(() => {
        const logits = model.forward(tf.tensor2d(step, [B, 1], 'int32'), cache, anyDone || padded ? { attentionMask: alive } : undefined);
        return tf.argMax(logits.reshape([B, -1]), -1).dataSync() as Int32Array;
      });
      record(next);
    }
  } finally {
    cache.dispose();
  }
  return { tokens: out, finish: finish as FinishReason[] };
}
