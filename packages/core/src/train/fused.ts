// Fused multi-run training: K runs that share one frozen base model train in one process, with the
// base's matrix products batched across the runs (mLoRA / S-LoRA style). Each step stacks the runs'
// batches row-wise into one batch (padded to a common length: positions past a row's end have
// weight 0 and, attention being causal, change nothing before them); every hooked linear computes
// the base product once for all rows and hands each run its own rows (FusedHooks). Each run keeps its
// own adapter, AdamW moments, data order, learning-rate schedule, clipping and divergence verdict,
// and the loss is the sum of the runs' own mean losses, so each run's gradient is exactly its own.
// A run leaves the group when it ends (its steps, a stop rule, divergence); the rest go on.
import * as tf from '@tensorflow/tfjs-core';
import '../model/tfjs-complete.ts';
import type { Model } from '../model/model.ts';
import type { Linear } from '../model/modules.ts';
import { ops } from '../ops.ts';
import { checkStepFits, defaultMemoryLimit, estimateStepBytes, formatBytes } from './memory.ts';
import { learningRateAt } from './schedule.ts';
import {
  batchGetter,
  checkBatch,
  checkTrainable,
  endsAboveStart,
  lossSpike,
  Moments,
  weightTrouble,
  type Batch,
  type StepInfo,
  type TrainOptions,
  type TrainResult,
} from './trainer.ts';

type LinearHook = NonNullable<Linear['hook']>;

/** One run of a fused group: the trainer's options for it, less the model (shared). */
export type FusedRunOptions = Omit<TrainOptions, 'model' | 'lossFn' | 'beforeStep' | 'resume' | 'checkpoint' | 'microBatch'>;

/**
 * The linear hooks of K attachments on one model, and which of them are live: `fuse(active)` routes
 * each active run's rows of the stacked batch through its own hook with the base product computed
 * once; `solo(k)` puts run k's hooks back alone (evaluating one run); `clear()` removes them all.
 */
export class FusedHooks {
  private readonly linears: Linear[];

  /** `perRun[k]`: linear name -> run k's hook, as its attachment installed it. */
  constructor(
    model: Pick<Model, 'linears'>,
    private readonly perRun: Map<string, LinearHook>[],
  ) {
    const names = new Set(perRun.flatMap((hooks) => [...hooks.keys()]));
    this.linears = model.linears().filter((lin) => names.has(lin.name));
  }

  get size(): number {
    return this.perRun.length;
  }

  /** Takes the hooks an attachment just installed off the model (to be routed later); returns them by linear name. */
  static capture(model: Pick<Model, 'linears'>): Map<string, LinearHook> {
    const hooks = new Map<string, LinearHook>();
    for (const lin of model.linears()) {
      if (lin.hook) {
        hooks.set(lin.name, lin.hook);
        lin.hook = null;
      }
    }
    return hooks;
  }

  /** Rows of the stacked batch: equal blocks, one per run in `active`'s order. */
  fuse(active: number[]): void {
    const hooks = active.map((k) => this.perRun[k]!);
    for (const lin of this.linears) {
      const own = hooks.map((h) => h.get(lin.name) ?? null);
      lin.hook = (x, base) => {
        const y = base(x);
        if (own.length === 1) return own[0] ? own[0](x, (arg) => (arg === x ? y : base(arg))) : y;
        const xs = tf.split(x, own.length, 0);
        const ys = tf.split(y, own.length, 0);
        // A hook that calls base on its own rows gets the shared product; one that changes its input first (IA3 on
        // the MLP's down projection) gets base computed on what it passes.
        return tf.concat(
          own.map((hook, i) => (hook ? hook(xs[i]!, (arg) => (arg === xs[i] ? ys[i]! : base(arg))) : ys[i]!)),
          0,
        );
      };
    }
  }

  solo(k: number): void {
    const hooks = this.perRun[k]!;
    for (const lin of this.linears) lin.hook = hooks.get(lin.name) ?? null;
  }

  clear(): void {
    for (const lin of this.linears) lin.hook = null;
  }
}

/** Bytes one fused step needs for `rows` stacked rows of `seqLen` tokens (the trainer's estimate). */
export function fusedStepBytes(config: Model['config'], rows: number, seqLen: number): number {
  return estimateStepBytes(config, rows, seqLen);
}

/**
 * How many runs of `rowsPerRun` rows fit in one fused step under `limit`; at least 1 (a single run
 * is the trainer's own check).
 */
export function largestFittingGroup(config: Model['config'], rowsPerRun: number, seqLen: number, wanted: number, limit = defaultMemoryLimit()): number {
  let k = Math.max(1, wanted);
  while (k > 1 && estimateStepBytes(config, k * rowsPerRun, seqLen) > limit) k -= 1;
  return k;
}

interface RunState {
  opts: FusedRunOptions;
  result: TrainResult;
  moments: Moments;
  nextBatch: (step: number) => Batch;
  gradClip: number | null;
  hyper: { beta1: number; beta2: number; eps: number; weightDecay: number };
  tokensSeen: number;
  done: boolean;
}

/**
 * Trains the runs together; returns one TrainResult per run, in order, each as train() would have
 * returned it for that run alone (seconds are the group's step time, shared: each run is charged
 * its share of rows). Runs must all use the same batch size; `hooks.fuse` is called with the
 * active runs before every step.
 */
export async function trainFused(opts: {
  model: Pick<Model, 'config' | 'forward'>;
  runs: FusedRunOptions[];
  hooks: Pick<FusedHooks, 'fuse' | 'solo'>;
  memoryLimitBytes?: number;
}): Promise<TrainResult[]> {
  const { model, runs, hooks } = opts;
  const vocab = model.config.vocabSize;
  const states: RunState[] = runs.map((run, k) => {
    const gradClip = run.gradClip === undefined ? 1 : run.gradClip;
    if (!Number.isInteger(run.steps) || run.steps < 0) throw new Error(`trainFused: run ${k}: steps=${run.steps} must be a non-negative integer`);
    if (!(run.lr > 0)) throw new Error(`trainFused: run ${k}: lr=${run.lr} must be positive`);
    if (gradClip !== null && !(gradClip > 0)) throw new Error(`trainFused: run ${k}: gradClip=${gradClip} must be positive or null`);
    checkTrainable(run.trainable, `trainFused: run ${k}`);
    return {
      opts: run,
      result: {
        status: 'ok', reason: null, divergence: null, weightsFinite: true, losses: [], steps: 0, evals: [], tokensPerS: 0, seconds: 0, evalSeconds: 0, peakBytes: 0,
        // No early stopping in fused groups (bench's fusionKey keeps converge runs out): the last step is the one kept.
        stopReason: 'max_steps', bestStep: null, bestValue: null,
        optimizerStateBytes: 8 * [...run.trainable.values()].reduce((a, p) => a + p.size, 0),
      },
      moments: new Moments(),
      nextBatch: batchGetter(run.data),
      gradClip,
      hyper: { beta1: run.beta1 ?? 0.9, beta2: run.beta2 ?? 0.999, eps: run.eps ?? 1e-8, weightDecay: run.weightDecay ?? 0 },
      tokensSeen: 0,
      done: run.steps === 0,
    };
  });
  // Variables shared between runs would be updated by several optimizers: refuse.
  const owner = new Map<tf.Variable, number>();
  states.forEach((s, k) => {
    for (const v of s.opts.trainable.values()) {
      if (owner.has(v)) throw new Error(`trainFused: runs ${owner.get(v)} and ${k} train the same variable ${v.name}; fused runs need their own adapters`);
      owner.set(v, k);
    }
  });
  const limit = opts.memoryLimitBytes ?? defaultMemoryLimit();
  try {
    for (const s of states) s.moments.sync(s.opts.trainable, 0);
    for (let step = 0; states.some((s) => !s.done); step++) {
      const active = states.map((s, k) => (s.done ? -1 : k)).filter((k) => k >= 0);
      const batches = active.map((k) => {
        const b = states[k]!.nextBatch(step);
        checkBatch(b, step, vocab);
        return b;
      });
      const B = batches[0]!.B;
      if (batches.some((b) => b.B !== B)) throw new Error(`trainFused: step ${step + 1}: the runs' batches have different sizes (${batches.map((b) => b.B).join(', ')}); fused runs need one batch size`);
      const T = Math.max(...batches.map((b) => b.T));
      if (step === 0) {
        const need = estimateStepBytes(model.config, active.length * B, T);
        if (need > limit) {
          throw new Error(
            `trainFused: a fused step of ${active.length} runs x ${B} rows x ${T} tokens needs about ${formatBytes(need)}, over the ${formatBytes(limit)} available; ` +
              `split the group (at most ${largestFittingGroup(model.config, B, T, active.length, limit)} runs fit)`,
          );
        }
        checkStepFits(model.config, B, T, limit);
      }
      const stacked = stack(batches, T);
      hooks.fuse(active);
      const t0 = performance.now();
      const params = active.flatMap((k) => states[k]!.moments.params);
      const rowsOf = B * T;
      active.forEach((k, i) => {
        let w = 0;
        for (let j = i * rowsOf; j < (i + 1) * rowsOf; j++) w += stacked.weights[j]!;
        if (!(w > 0)) throw new Error(`train: batch for step ${step + 1} of run ${k} has no target tokens (all weights are 0)`);
      });
      const tokens = tf.tensor2d(stacked.tokens, [active.length * B, T], 'int32');
      const targets = tf.tensor1d(stacked.targets, 'int32');
      const weights = tf.tensor1d(stacked.weights, 'float32');
      let lossesTensor: tf.Tensor | null = null;
      let grads: tf.NamedTensorMap;
      try {
        ({ grads } = tf.variableGrads(() => {
          const logits = model.forward(tokens).reshape([active.length * rowsOf, vocab]) as tf.Tensor2D;
          // (tf.split into one part has a broken gradient: a group of one is not split.)
          const parts = <R extends tf.Tensor>(t: R): R[] => (active.length === 1 ? [t] : (tf.split(t, active.length, 0) as R[]));
          const lg = parts(logits);
          const tg = parts(targets as tf.Tensor1D);
          const wg = parts(weights as tf.Tensor1D);
          const losses = lg.map((l, i) => ops().crossEntropy(l, tg[i]!, wg[i]!));
          lossesTensor = tf.keep(tf.stack(losses));
          return tf.addN(losses) as tf.Scalar;
        }, params));
      } finally {
        tf.dispose([tokens, targets, weights]);
      }
      // Per run: its gradients, their norm, the divergence rules, clipping and its own AdamW step.
      const runGrads = active.map((k) => states[k]!.moments.params.map((p) => grads[p.name] ?? tf.zerosLike(p)));
      const normSq = tf.tidy(() => tf.stack(runGrads.map((gs) => tf.addN(gs.map((g) => g.square().sum())))));
      const values = tf.tidy(() => tf.concat([lossesTensor!, normSq]).dataSync());
      tf.dispose([normSq, lossesTensor!]);
      const dt = (performance.now() - t0) / 1000;
      for (let i = 0; i < active.length; i++) {
        const k = active[i]!;
        const s = states[k]!;
        const r = s.result;
        const gs = runGrads[i]!;
        const lossValue = values[i]!;
        const gradNorm = Math.sqrt(values[active.length + i]!);
        // Each run is charged its share of the step (the rows are equal).
        const share = dt / active.length;
        const u0 = performance.now();
        r.losses.push(lossValue);
        const finish = (rule: 'non-finite' | 'loss-spike', reason: string, stepsDone: number) => {
          r.status = 'diverged';
          r.reason = reason;
          r.divergence = { rule, step: step + 1 };
          if (stepsDone > r.steps) r.steps = stepsDone;
          s.done = true;
        };
        if (!Number.isFinite(lossValue) || !Number.isFinite(gradNorm)) {
          tf.dispose(gs);
          finish('non-finite', `non-finite: ${!Number.isFinite(lossValue) ? `loss is ${lossValue}` : `gradient norm is ${gradNorm}`} at step ${step + 1}`, r.steps);
          r.seconds += share;
          continue;
        }
        const spike = lossSpike(r.losses, step, s.opts.steps);
        if (spike) {
          tf.dispose(gs);
          finish('loss-spike', spike, r.steps);
          r.seconds += share;
          continue;
        }
        const clipScale = s.gradClip !== null && gradNorm > s.gradClip ? s.gradClip / (gradNorm + 1e-6) : 1;
        const clipped = clipScale === 1 ? gs : gs.map((g) => tf.tidy(() => g.mul(clipScale)));
        if (clipped !== gs) tf.dispose(gs);
        const o = s.opts;
        const lr = learningRateAt(step, { lr: o.lr, steps: o.steps, warmupSteps: o.warmupSteps ?? 0, schedule: o.schedule ?? 'cosine', minLrRatio: o.minLrRatio ?? 0 });
        s.moments.update(clipped, { ...s.hyper, lr }, step);
        tf.dispose(clipped);
        const trouble = weightTrouble(s.moments.params, step + 1);
        const stepSeconds = share + (performance.now() - u0) / 1000;
        r.seconds += stepSeconds;
        if (trouble) {
          r.weightsFinite = false;
          finish('non-finite', trouble, step + 1);
          continue;
        }
        r.steps = step + 1;
        const b = batches[i]!;
        s.tokensSeen += b.B * b.T;
        const info: StepInfo = { step: step + 1, loss: lossValue, lr, gradNorm, tokensPerS: (b.B * b.T) / stepSeconds };
        o.onStep?.(info);
        if (o.onEval && o.evalEvery && ((step + 1) % o.evalEvery === 0 || step + 1 === o.steps)) {
          hooks.solo(k);
          const e0 = performance.now();
          const value = await o.onEval(step + 1);
          r.evalSeconds += (performance.now() - e0) / 1000;
          if (typeof value === 'number') r.evals.push({ step: step + 1, value });
        }
        r.peakBytes = Math.max(r.peakBytes, tf.memory().numBytes);
        if (step + 1 >= o.steps || o.stopWhen?.(info)) s.done = true;
      }
      for (const name of Object.keys(grads)) if (!grads[name]!.isDisposed) grads[name]!.dispose();
    }
    for (const s of states) {
      const r = s.result;
      if (r.status === 'ok') {
        const trend = endsAboveStart(r.losses);
        if (trend) {
          r.status = 'diverged';
          r.reason = trend;
          r.divergence = { rule: 'ends-above-start', step: r.losses.length };
        }
      }
      r.tokensPerS = r.seconds > 0 ? s.tokensSeen / r.seconds : 0;
    }
  } finally {
    for (const s of states) s.moments.dispose();
  }
  return states.map((s) => s.result);
}

/** The batches stacked row-wise, each padded to T with weight-0 positions (token 0). */
function stack(batches: Batch[], T: number): { tokens: Int32Array; targets: Int32Array; weights: Float32Array } {
  const rows = batches.reduce((a, b) => a + b.B, 0);
  const tokens = new Int32Array(rows * T);
  const targets = new Int32Array(rows * T);
  const weights = new Float32Array(rows * T);
  let row = 0;
  for (const b of batches) {
    for (let r = 0; r < b.B; r++, row++) {
      tokens.set(b.tokens.subarray(r * b.T, (r + 1) * b.T), row * T);
      targets.set(b.targets.subarray(r * b.T, (r + 1) * b.T), row * T);
      weights.set(b.weights.subarray(r * b.T, (r + 1) * b.T), row * T);
    }
  }
  return { tokens, targets, weights };
}
