// Turning examples into fixed-length training rows for a causal LM.
//
// Each row is [BOS?] prompt target EOS, shifted by one: tokens[t] predicts targets[t].
// weights are 1 exactly where targets[t] is a target token or the EOS that ends it, and 0 on the
// prompt and the padding, so the loss is the target's negative loglikelihood.
// Truncation: when a row is too long, the prompt loses tokens from its left (its start); the
// target is never cut. A target (plus EOS and BOS) that does not fit on its own is an error here;
// fitExamples (the length policy) leaves such examples out first and counts them.
import type { Example } from '../tasks/types.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { uniformStream } from '../model/rng.ts';
import type { Batch } from '../train/trainer.ts';

export interface EncodeOptions {
  /** Positions per row (the model's context length used in training). */
  maxSeq: number;
  /** Keep at most this many prompt tokens (the end of the prompt), as a task's maxLengths.context says. */
  maxContext?: number;
  /** Start each row with BOS when the tokenizer has one (default true). */
  addBos?: boolean;
  /** Token ids of a text (default tokenizer.encode): lets a caller reuse ids it already has. */
  encode?: (text: string) => number[];
}

export interface EncodedBatch {
  /** Number of rows and positions per row. */
  n: number;
  maxSeq: number;
  /** Input ids, [n * maxSeq], padded with padId. */
  tokens: Int32Array;
  /** Next-token ids, [n * maxSeq], padded with padId. */
  targets: Int32Array;
  /** 1 on target and EOS positions, 0 on prompt and padding, [n * maxSeq]. */
  weights: Float32Array;
  /** Positions in use per row (prompt + target + EOS, shifted), [n]. */
  lengths: Int32Array;
  /** Where the target starts in the unshifted row (BOS + the prompt tokens kept), [n]. */
  promptLengths: Int32Array;
  /** Ids of the examples whose prompt was cut on the left. */
  truncated: string[];
}

export function encodeExamples(tokenizer: Tokenizer, examples: readonly Example[], options: EncodeOptions): EncodedBatch {
  const { maxSeq } = options;
  if (!Number.isInteger(maxSeq) || maxSeq < 2) throw new Error(`encodeExamples: maxSeq must be an integer >= 2, got ${maxSeq}`);
  const bos = options.addBos !== false && tokenizer.bosId !== undefined ? [tokenizer.bosId] : [];
  const n = examples.length;
  const tokens = new Int32Array(n * maxSeq).fill(tokenizer.padId);
  const targets = new Int32Array(n * maxSeq).fill(tokenizer.padId);
  const weights = new Float32Array(n * maxSeq);
  const lengths = new Int32Array(n);
  const promptLengths = new Int32Array(n);
  const truncated: string[] = [];
  const encode = options.encode ?? ((text: string) => tokenizer.encode(text));

  for (let row = 0; row < n; row++) {
    const example = examples[row];
    let prompt = encode(example.prompt);
    const answer = [...encode(example.target), tokenizer.eosId];
    // The row holds maxSeq + 1 tokens before the shift.
    const room = maxSeq + 1 - bos.length - answer.length;
    if (room < 0) {
      throw new Error(
        `Example ${example.id}: the target is ${answer.length} tokens with EOS${bos.length ? ' (+1 BOS)' : ''}, ` +
          `more than maxSeq=${maxSeq} allows; raise maxSeq or use shorter targets (targets are never truncated).`,
      );
    }
    const keep = Math.min(room, options.maxContext ?? Infinity);
    if (prompt.length > keep) {
      prompt = prompt.slice(prompt.length - keep);
      truncated.push(example.id);
    }
    const sequence = [...bos, ...prompt, ...answer];
    const answerStart = bos.length + prompt.length;
    const used = sequence.length - 1;
    const offset = row * maxSeq;
    for (let t = 0; t < used; t++) {
      tokens[offset + t] = sequence[t];
      targets[offset + t] = sequence[t + 1];
      // targets[t] is sequence[t + 1]: weighted when that token belongs to the answer.
      weights[offset + t] = t + 1 >= answerStart ? 1 : 0;
    }
    lengths[row] = used;
    promptLengths[row] = answerStart;
  }
  return { n, maxSeq, tokens, targets, weights, lengths, promptLengths, truncated };
}

/** Token limits of one task on one model: the model's context, and the task's own maxima (if any). */
export interface LengthLimits {
  /** Positions per row, as in EncodeOptions. */
  maxSeq: number;
  /** The task's maximum prompt tokens (longer prompts keep their end). */
  maxContext?: number;
  /** The task's maximum target tokens (EOS not counted). */
  maxTarget?: number;
  addBos?: boolean;
}

/** What the length policy did to one split. */
export interface FitReport {
  kept: Example[];
  /** Ids of examples whose target cannot fit: left out of training and scoring. */
  excluded: string[];
  /** Ids of examples whose prompt loses tokens from its start. */
  truncated: string[];
}

/**
 * The length policy of lm-evaluation-harness: a context is cut from the left to fit; an example
 * whose target (with EOS, after BOS) cannot fit in the context at all, or is longer than the
 * task's maxTarget, is excluded, and the caller reports how many.
 */
export function fitExamples(tokenizer: Tokenizer, examples: readonly Example[], limits: LengthLimits, encode?: (text: string) => number[]): FitReport {
  const count = (text: string) => (encode ? encode(text) : tokenizer.encode(text)).length;
  const bos = limits.addBos !== false && tokenizer.bosId !== undefined ? 1 : 0;
  const kept: Example[] = [];
  const excluded: string[] = [];
  const truncated: string[] = [];
  for (const example of examples) {
    const target = count(example.target);
    const room = limits.maxSeq + 1 - bos - (target + 1);
    if (room < 0 || (limits.maxTarget !== undefined && target > limits.maxTarget)) {
      excluded.push(example.id);
      continue;
    }
    kept.push(example);
    if (count(example.prompt) > Math.min(room, limits.maxContext ?? Infinity)) truncated.push(example.id);
  }
  return { kept, excluded, truncated };
}

/** Rows `rows` of an encoded set as one batch, cut to the longest row (padding beyond it is wasted work). */
export function sliceBatch(encoded: EncodedBatch, rows: number[]): Batch {
  const T = Math.max(1, ...rows.map((row) => encoded.lengths[row]!));
  const tokens = new Int32Array(rows.length * T);
  const targets = new Int32Array(rows.length * T);
  const weights = new Float32Array(rows.length * T);
  rows.forEach((row, i) => {
    const from = row * encoded.maxSeq;
    tokens.set(encoded.tokens.subarray(from, from + T), i * T);
    targets.set(encoded.targets.subarray(from, from + T), i * T);
    weights.set(encoded.weights.subarray(from, from + T), i * T);
  });
  return { tokens, targets, weights, B: rows.length, T };
}

/** Deterministic shuffled epochs over n rows (mulberry32 from the run seed). */
export function rowSampler(n: number, seed: number): (count: number) => number[] {
  const random = uniformStream((seed ^ 0x9e3779b9) >>> 0);
  let order: number[] = [];
  let next = 0;
  const shuffle = () => {
    order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    next = 0;
  };
  shuffle();
  return (count) => {
    const rows: number[] = [];
    while (rows.length < count) {
      if (next >= n) shuffle();
      rows.push(order[next++]!);
    }
    return rows;
  };
}
