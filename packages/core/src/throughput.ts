// Training throughput of the real trainer on a model the caller built and a trainable set a method
// plug-in chose (see `pnpm bench throughput`): random tokens idx, targets (idx*7+3) % V as in the
// PyTorch peer (/work/shared/peers/torch_gpt.py), warm-up steps excluded, wall clock. Also the
// matrix-product FLOPs a step does and a small sgemm probe, so a figure can be put against the peak
// of the same machine in the same process.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './model/config.ts';
import type { Model } from './model/model.ts';
import { uniformStream } from './model/rng.ts';
import { linear } from './backend/linear.ts';
import { train, type TrainOptions } from './train/trainer.ts';

export interface TimingOptions {
  model: Model;
  trainable: Map<string, tf.Variable>;
  /** Rows per step and tokens per row. */
  batch: number;
  seqLen: number;
  /** Measure for at least this long after warm-up; at least 5 and at most 500 timed steps. */
  minSeconds: number;
  /** Optimiser settings of a real run (AdamW, clipping); the peer uses Adam at 1e-3 without clipping. */
  lr?: number;
  gradClip?: number | null;
  weightDecay?: number;
  beforeStep?: TrainOptions['beforeStep'];
}

export interface TimingResult {
  tokens_per_s: number;
  step_s: number;
  steps: number;
  loss: number;
}

export const WARMUP_STEPS = 2;

export async function timeTraining(o: TimingOptions): Promise<TimingResult> {
  const V = o.model.config.vocabSize;
  const next = uniformStream(12345);
  const tokens = new Int32Array(o.batch * o.seqLen);
  for (let i = 0; i < tokens.length; i++) tokens[i] = Math.floor(next() * V);
  const targets = tokens.map((t) => (t * 7 + 3) % V);
  const weights = new Float32Array(tokens.length).fill(1);
  const batch = { tokens, targets, weights, B: o.batch, T: o.seqLen };
  let measuredFrom = 0;
  let timed = 0;
  let lastLoss = NaN;
  await train({
    model: o.model, trainable: o.trainable, data: () => batch, steps: 10_000,
    lr: o.lr ?? 1e-3, schedule: 'constant', gradClip: o.gradClip ?? null, weightDecay: o.weightDecay ?? 0,
    memoryLimitBytes: Number.MAX_SAFE_INTEGER,
    beforeStep: o.beforeStep,
    onStep: (s) => {
      lastLoss = s.loss;
      if (s.step === WARMUP_STEPS) measuredFrom = performance.now();
      if (s.step > WARMUP_STEPS) timed = s.step - WARMUP_STEPS;
    },
    stopWhen: (s) => {
      const n = s.step - WARMUP_STEPS;
      const elapsed = n > 0 ? (performance.now() - measuredFrom) / 1000 : 0;
      return n >= 500 || (n >= 5 && elapsed >= o.minSeconds);
    },
  });
  const wall = (performance.now() - measuredFrom) / 1000;
  const stepS = wall / timed;
  return { tokens_per_s: Math.round((o.batch * o.seqLen) / stepS), step_s: Number(stepS.toFixed(4)), steps: timed, loss: Number(lastLoss.toFixed(4)) };
}

/**
 * Matrix-product FLOPs of one training step per token, counted as the PyTorch peer counts them: every
 * matmul of the forward pass (linears, full T x T attention scores and mixing, tied head) times 3 for the
 * backward pass when every weight trains, or times 2 plus the small adapter products when the base is
 * frozen (no weight gradients for frozen linears). Elementwise work (LayerNorm, GELU, softmax, AdamW) is
 * not counted: this is the FLOP count an sgemm peak is comparable with.
 */
export function stepFlopsPerToken(config: Pick<ModelConfig, 'family' | 'd' | 'nLayer' | 'vocabSize' | 'mlpHidden'>, seqLen: number, baseFrozen: boolean, adapterParams = 0): number {
  const { d, nLayer: L, vocabSize: V, mlpHidden: hidden } = config;
  const mlpMatrices = config.family === 'llama' ? 3 : 2; // gate, up, down vs up, down
  const linearWeights = L * (4 * d * d + mlpMatrices * d * hidden);
  // Per token and layer, QK^T and AV each take T*d multiply-adds over the full T x T scores.
  const attention = L * 2 * seqLen * d;
  const forward = 2 * (linearWeights + d * V) + 2 * attention;
  if (!baseFrozen) return 3 * forward;
  // Frozen: input gradients only for the base (x2 forward); the head's input gradient too; adapters train.
  return 2 * forward + 6 * adapterParams;
}

/**
 * GFLOP/s of a square float32 matrix product on the active backend, through the same linear kernel the
 * model's layers use (OpenBLAS sgemm on wasm-blas): the peak the training figures are put against.
 */
/** One product, read back so the time includes the work (tidy must not be handed the array: it would walk it). */
function product(a: tf.Tensor, b: tf.Tensor): void {
  tf.tidy(() => {
    linear(a, b).dataSync();
  });
}

export async function sgemmGflops(n = 512, minSeconds = 1): Promise<number> {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  try {
    for (let i = 0; i < 2; i++) product(a, b);
    let runs = 0;
    const start = performance.now();
    while (runs < 3 || performance.now() - start < minSeconds * 1000) {
      product(a, b);
      runs++;
    }
    const seconds = (performance.now() - start) / 1000;
    return (2 * n * n * n * runs) / seconds / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}
