// How many bytes one training micro-step holds at its peak, estimated before any work so that a
// batch that would overflow the wasm heap (capped at 4 GiB; past it the process aborts) is
// rejected with a micro-batch that fits. The estimate is deliberately on the high side.
import { totalMemoryBytes } from '../io/host.ts';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../model/config.ts';

export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

function paramCount(c: ModelConfig): number {
  const kv = c.nKvHead * (c.d / c.nHead);
  const gated = c.family === 'llama' ? 3 : 2;
  const biases = c.family === 'gpt2' ? 2 * c.d + 2 * kv + c.mlpHidden + c.d + 4 * c.d : 2 * c.d;
  const perLayer = c.d * c.d * 2 + c.d * kv * 2 + gated * c.d * c.mlpHidden + biases;
  const embed = c.vocabSize * c.d * (c.tieEmbeddings ? 1 : 2) + (c.family === 'gpt2' ? c.maxSeq * c.d : 0);
  return c.nLayer * perLayer + embed + 2 * c.d;
}

/**
 * Peak bytes of one forward+backward on a micro-batch, plus weights, gradients (accumulated and
 * current) and AdamW moments for full fine-tuning (the worst case: every parameter trainable).
 */
export function estimateStepBytes(config: ModelConfig, microBatch: number, seqLen: number): number {
  const N = microBatch * seqLen;
  const { d, nHead, mlpHidden: h, vocabSize: V, nLayer } = config;
  const kv = config.nKvHead * (d / nHead);
  // Floats kept for backprop per layer: norms and their statistics, q/k/v and their head-split
  // copies, scores/probabilities [B, H, T, T] (three copies with the mask), merged heads, residuals,
  // and the MLP's hidden activations with the activation function's intermediates.
  const attention = 3 * microBatch * nHead * seqLen * seqLen;
  const hiddenCopies = config.family === 'llama' ? 8 : 6;
  const perLayer = N * (22 * d + 4 * kv) + hiddenCopies * N * h + attention;
  // Head: logits, log-softmax, one-hot, products, and their gradients.
  const head = 7 * N * V;
  // x5: backward's transient copies, and tfjs's own count (tf.memory().numBytes, which the
  // trainer reports as peakBytes) counts every view (reshape, the tape's identity copies) in full;
  // calibrated so that the estimate stays above that measured peak on the reference ops.
  const activations = 5 * (nLayer * perLayer + head + 4 * N * d);
  const state = 5 * paramCount(config); // weights, accumulated + current gradients, Adam m and v
  return Math.ceil(4 * (activations + state));
}

/** The memory a step may use on the active backend: the wasm heap cap, otherwise 3/4 of RAM. */
export function defaultMemoryLimit(): number {
  const backend = tf.getBackend() ?? '';
  return backend.startsWith('wasm') ? WASM_HEAP_BYTES * 0.9 : totalMemoryBytes() * 0.75;
}

/** Largest micro-batch <= batch whose step estimate fits in `limit`, or 0 when even 1 does not. */
export function largestFittingMicroBatch(config: ModelConfig, batch: number, seqLen: number, limit: number): number {
  for (let mb = batch; mb >= 1; mb--) if (estimateStepBytes(config, mb, seqLen) <= limit) return mb;
  return 0;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Throws before any work when a micro-batch would not fit, naming one that would. */
export function checkStepFits(config: ModelConfig, microBatch: number, seqLen: number, limit = defaultMemoryLimit()): void {
  const need = estimateStepBytes(config, microBatch, seqLen);
  if (need <= limit) return;
  const fit = largestFittingMicroBatch(config, microBatch, seqLen, limit);
  const advice =
    fit > 0
      ? `use a micro-batch of ${fit} (gradient accumulation keeps the batch size)`
      : `even a micro-batch of 1 needs ${formatBytes(estimateStepBytes(config, 1, seqLen))}: shorten the sequence (T=${seqLen}) or use a smaller model`;
  throw new Error(
    `a micro-batch of ${microBatch} x ${seqLen} tokens needs about ${formatBytes(need)}, over the ${formatBytes(limit)} available${tf.getBackend() ? ` on backend '${tf.getBackend()}'` : ''}: ${advice}`,
  );
}
