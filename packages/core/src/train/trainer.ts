// The training loop: AdamW (ops().adamw) with warm-up then cosine/linear decay, global-norm
// gradient clipping, gradient accumulation over micro-batches, loss on target tokens only,
// early stopping on the validation loss with the best checkpoint kept (see EarlyStopping), and
// divergence detection (the one place a run is judged diverged; see DIVERGENCE). It updates exactly the variables in `trainable` and nothing else; a
// `beforeStep` hook may add variables mid-run (a method that grows), which then get fresh moments.
import * as tf from '@tensorflow/tfjs-core';
import '../model/tfjs-complete.ts';
import type { Model } from '../model/model.ts';
import { ops, type AdamWHyper } from '../ops.ts';
import { checkStepFits, defaultMemoryLimit } from './memory.ts';
import { learningRateAt, type Schedule } from './schedule.ts';

/** One batch: row-major [B*T] arrays; weights 0 mask a position out of the loss. */
export interface Batch {
  tokens: Int32Array;
  targets: Int32Array;
  weights: Float32Array;
  B: number;
  T: number;
}

/** A function of the 0-based step, an iterator or an iterable of batches. */
export type BatchSource = ((step: number) => Batch) | Iterator<Batch> | Iterable<Batch>;

export interface StepInfo {
  /** 1-based step just finished. */
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerS: number;
}

export interface TrainOptions {
  model: Pick<Model, 'config' | 'loss'>;
  /** The variables to update, by name. Methods decide; the trainer touches nothing else. */
  trainable: Map<string, tf.Variable>;
  data: BatchSource;
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Decay after warm-up; default 'cosine'. */
  schedule?: Schedule;
  warmupSteps?: number;
  /** Final learning rate as a share of lr; default 0. */
  minLrRatio?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Clip the global gradient norm to this; null = no clipping. Default 1. */
  gradClip?: number | null;
  /** Rows per forward/backward; the batch is split and gradients accumulated. Default: the whole batch. */
  microBatch?: number;
  /** Bytes a micro-step may use; default: the wasm heap cap on wasm, 3/4 of RAM otherwise. */
  memoryLimitBytes?: number;
  /** Call onEval after every `evalEvery` steps and after the last one. */
  evalEvery?: number;
  onEval?: (step: number) => Promise<number | void> | number | void;
  /**
   * Stop when onEval's value (a loss: lower is better) has not improved for `patience` evaluations,
   * and restore the trainable weights of the best evaluation before returning. `steps` is then the
   * maximum. Needs evalEvery and an onEval that returns a number.
   */
  earlyStopping?: EarlyStopping;
  onStep?: (info: StepInfo) => void;
  /** Checked after each step; true ends the run early with status 'ok' (time budgets, benchmarks). */
  stopWhen?: (info: StepInfo) => boolean;
  /**
   * Called before each step (0-based), before its forward pass. Returning { trainableChanged: true }
   * makes the trainer re-read `trainable` (the same Map): new keys get zero AdamW moments and their
   * own bias-correction count from this step on; existing keys keep their moments; removed keys
   * drop theirs.
   */
  beforeStep?: (step: number) => void | { trainableChanged?: boolean };
  /** Replaces model.loss (e.g. a method's regulariser); same contract. */
  lossFn?: (tokens: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor2D) => tf.Scalar;
  /**
   * Resuming a run: the 0-based step to start at (the schedule and AdamW's step count go on from
   * there; `data` is asked for this step first) and the AdamW moments saved with it, by trainable name.
   */
  resume?: { step: number; moments: Map<string, { m: tf.Tensor; v: tf.Tensor }> };
  /** Called after every `every` completed steps (and not after the last) with the AdamW moments, to save a resumable state. */
  checkpoint?: { every: number; save: (step: number, moments: Map<string, { m: tf.Tensor; v: tf.Tensor }>) => void | Promise<void> };
}

/**
 * When a run has diverged, checked on every logged step:
 *  - non-finite: the loss or the gradient norm is NaN/inf at a step, or after an update a trainable
 *    weight is NaN/inf or beyond float16's range (|w| > 65504: no healthy weight is near it, while a
 *    blown-up update puts weights at lr-sized values; the loss of such a saturated model can even
 *    fall, so the loss alone would not tell);
 *  - loss-spike: a step's loss is above spikeFactor x the initial loss (the mean of the steps before
 *    it within the first window). 3x: batch-to-batch noise of a healthy fine-tuning run is tens of
 *    percent, and the committed leaderboard runs (every method, lr x0.25..x4) never pass 2x, while a
 *    blown-up run's loss goes to tens or hundreds within a few steps;
 *  - ends-above-start: the mean of the last window is above the mean of the first window by more
 *    than two standard errors of that difference. Windows are a tenth of the steps, at least
 *    minWindow; runs shorter than minTrendSteps are too short to tell and are not judged on it.
 */
export const DIVERGENCE = { spikeFactor: 3, minWindow: 5, windowShare: 0.1, minTrendSteps: 20, maxWeight: 65504 } as const;

/** The non-finite rule on weights after an update: the reason, or null. */
export function weightTrouble(params: tf.Variable[], step: number): string | null {
  if (params.length === 0) return null;
  const [largest, nans] = tf.tidy(() =>
    tf.stack([tf.max(tf.stack(params.map((p) => p.abs().max()))), tf.addN(params.map((p) => p.isNaN().sum().cast('float32')))]).dataSync(),
  );
  if (nans! > 0) return `non-finite: a trainable weight is NaN after step ${step}`;
  if (!(largest! <= DIVERGENCE.maxWeight)) {
    return `non-finite: a trainable weight reached ${largest!.toPrecision(3)} after step ${step}, beyond float16's range (${DIVERGENCE.maxWeight})`;
  }
  return null;
}

export type DivergenceRule = 'non-finite' | 'loss-spike' | 'ends-above-start';

export interface EarlyStopping {
  /** Evaluations without improvement before training stops (a positive integer). */
  patience: number;
  /**
   * An evaluation improves on the best so far when its value is below best x (1 - minRelImprovement):
   * a relative threshold, so one setting serves tasks whose losses differ tenfold.
   */
  minRelImprovement: number;
}

/**
 * Why training ended: the validation loss stopped improving (plateau), the maximum steps were
 * reached (max_steps), the divergence rule fired (diverged), or the caller's stopWhen ended it (stopped).
 */
export type StopReason = 'plateau' | 'max_steps' | 'diverged' | 'stopped';

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** The first window: a tenth of the planned steps, at least minWindow. */
export function initialWindow(plannedSteps: number): number {
  return Math.max(DIVERGENCE.minWindow, Math.ceil(plannedSteps * DIVERGENCE.windowShare));
}

/** The loss-spike rule for step i (0-based) of `losses`: the reason, or null. */
export function lossSpike(losses: number[], i: number, plannedSteps: number): string | null {
  if (i < 1) return null;
  const window = losses.slice(0, Math.min(i, initialWindow(plannedSteps)));
  const initial = mean(window);
  const loss = losses[i]!;
  if (!(initial > 0) || !(loss > DIVERGENCE.spikeFactor * initial)) return null;
  const span = window.length === 1 ? 'step 1' : `steps 1-${window.length}`;
  return `loss-spike: loss ${loss.toPrecision(4)} at step ${i + 1} is above ${DIVERGENCE.spikeFactor}x the initial loss ${initial.toPrecision(4)} (mean of ${span})`;
}

/** The ends-above-start rule over a finished run's losses: the reason, or null (also when too short to tell). */
export function endsAboveStart(losses: number[]): string | null {
  const n = losses.length;
  if (n < DIVERGENCE.minTrendSteps || !losses.every(Number.isFinite)) return null;
  const w = Math.max(DIVERGENCE.minWindow, Math.floor(n * DIVERGENCE.windowShare));
  const first = losses.slice(0, w);
  const last = losses.slice(n - w);
  const variance = (xs: number[]) => {
    const m = mean(xs);
    return xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(1, xs.length - 1);
  };
  const rise = mean(last) - mean(first);
  const stderr = Math.sqrt(variance(first) / w + variance(last) / w);
  if (!(rise > 0 && rise > 2 * stderr)) return null;
  return (
    `ends-above-start: the mean loss of the last ${w} steps (${mean(last).toFixed(4)}) is above that of the first ${w} ` +
    `(${mean(first).toFixed(4)}) by ${rise.toFixed(4)}, more than twice its standard error ${stderr.toFixed(4)} (step ${n})`
  );
}

export interface TrainResult {
  status: 'ok' | 'diverged';
  /** Why the run diverged: the rule, the step and the values; null when ok. */
  reason: string | null;
  /** The divergence rule that stopped the run and the step it fired at (1-based); null when ok. */
  divergence: { rule: DivergenceRule; step: number } | null;
  /** False when a trainable weight ended NaN/inf or blown up (evaluating the model would be meaningless). */
  weightsFinite: boolean;
  /** Training loss of every completed step (the diverged step's value included). */
  losses: number[];
  /** Completed steps (updates applied), counted from step 0 when resumed. */
  steps: number;
  evals: { step: number; value: number }[];
  tokensPerS: number;
  /** Training seconds, evaluation excluded. */
  seconds: number;
  evalSeconds: number;
  /**
   * Peak tensor bytes during a step, measured with tf.profile on the first step. tfjs counts every
   * tensor in full, views included, so this is an upper bound on the memory actually held.
   */
  peakBytes: number;
  /** Bytes of the AdamW moments (the largest set held, when variables were added mid-run). */
  optimizerStateBytes: number;
  stopReason: StopReason;
  /**
   * With early stopping: the step of the best evaluation, whose weights the trainable variables hold
   * on return (restored when later steps were worse); null without early stopping or evaluations.
   */
  bestStep: number | null;
  /** The onEval value at bestStep. */
  bestValue: number | null;
}

/**
 * The best evaluation so far and a copy of the trainable weights at it. A method that changes its
 * trainable set mid-run (lora-grow) resets it: weights from before the change cannot be restored
 * into the new structure, so tracking starts again from the first evaluation after it.
 */
class BestCheckpoint {
  step: number | null = null;
  value = Number.POSITIVE_INFINITY;
  badEvals = 0;
  private weights: Map<string, tf.Tensor> | null = null;

  constructor(private readonly rule: EarlyStopping) {}

  /** Records an evaluation; returns true when patience has run out. */
  observe(step: number, value: number, trainable: Map<string, tf.Variable>): boolean {
    if (Number.isFinite(value) && (this.step === null || value < this.value * (1 - this.rule.minRelImprovement))) {
      this.step = step;
      this.value = value;
      this.badEvals = 0;
      this.clear();
      this.weights = new Map([...trainable].map(([name, v]) => [name, tf.keep(v.clone())]));
      return false;
    }
    this.badEvals += 1;
    return this.badEvals >= this.rule.patience;
  }

  /** Puts the best weights back into `trainable` (the same names and shapes they were taken from). */
  restore(trainable: Map<string, tf.Variable>): void {
    if (!this.weights) return;
    for (const [name, saved] of this.weights) trainable.get(name)!.assign(saved);
  }

  reset(): void {
    this.step = null;
    this.value = Number.POSITIVE_INFINITY;
    this.badEvals = 0;
    this.clear();
  }

  clear(): void {
    if (this.weights) tf.dispose([...this.weights.values()]);
    this.weights = null;
  }
}

export function batchGetter(source: BatchSource): (step: number) => Batch {
  if (typeof source === 'function') return source;
  const it: Iterator<Batch> =
    typeof (source as Iterable<Batch>)[Symbol.iterator] === 'function' ? (source as Iterable<Batch>)[Symbol.iterator]() : (source as Iterator<Batch>);
  return (step) => {
    const r = it.next();
    if (r.done) throw new Error(`train: the data ran out at step ${step + 1}`);
    return r.value;
  };
}

export function checkBatch(b: Batch, step: number, vocab: number): void {
  const where = `train: batch for step ${step + 1}`;
  if (!Number.isInteger(b.B) || !Number.isInteger(b.T) || b.B <= 0 || b.T <= 0) throw new Error(`${where}: B=${b.B}, T=${b.T} must be positive integers`);
  const n = b.B * b.T;
  if (!(b.tokens instanceof Int32Array) || !(b.targets instanceof Int32Array) || !(b.weights instanceof Float32Array)) {
    throw new Error(`${where}: tokens and targets must be Int32Array, weights Float32Array`);
  }
  if (b.tokens.length !== n || b.targets.length !== n || b.weights.length !== n) {
    throw new Error(`${where}: tokens (${b.tokens.length}), targets (${b.targets.length}) and weights (${b.weights.length}) must all have B*T=${n} entries`);
  }
  for (let i = 0; i < n; i++) {
    if (b.tokens[i]! < 0 || b.tokens[i]! >= vocab || b.targets[i]! < 0 || b.targets[i]! >= vocab) {
      throw new Error(`${where}: token id at ${i} is outside the vocabulary [0, ${vocab})`);
    }
  }
}

/** Trains `trainable` for `steps` steps; never throws for NaN/inf (returns status 'diverged'). */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { model, trainable } = opts;
  const schedule = opts.schedule ?? 'cosine';
  const warmupSteps = opts.warmupSteps ?? 0;
  const gradClip = opts.gradClip === undefined ? 1 : opts.gradClip;
  const hyper = { beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.999, eps: opts.eps ?? 1e-8, weightDecay: opts.weightDecay ?? 0 };
  if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new Error(`train: steps=${opts.steps} must be a non-negative integer`);
  if (!(opts.lr > 0)) throw new Error(`train: lr=${opts.lr} must be positive`);
  if (gradClip !== null && !(gradClip > 0)) throw new Error(`train: gradClip=${gradClip} must be positive or null`);
  const stopping = opts.earlyStopping;
  if (stopping) {
    if (!Number.isInteger(stopping.patience) || stopping.patience < 1) throw new Error(`train: patience=${stopping.patience} must be a positive integer`);
    if (!(stopping.minRelImprovement >= 0 && stopping.minRelImprovement < 1)) throw new Error(`train: minRelImprovement=${stopping.minRelImprovement} must be in [0, 1)`);
    if (!opts.evalEvery || !opts.onEval) throw new Error('train: early stopping needs evalEvery and an onEval that returns the validation loss');
  }
  checkTrainable(trainable, 'train');
  const lossFn = opts.lossFn ?? ((a, b, c) => model.loss(a, b, c));
  const nextBatch = batchGetter(opts.data);
  const vocab = model.config.vocabSize;

  const result: TrainResult = {
    status: 'ok', reason: null, divergence: null, weightsFinite: true, losses: [], steps: 0, evals: [], tokensPerS: 0, seconds: 0, evalSeconds: 0, peakBytes: 0,
    optimizerStateBytes: 8 * [...trainable.values()].reduce((a, p) => a + p.size, 0),
    stopReason: 'max_steps', bestStep: null, bestValue: null,
  };
  const startStep = opts.resume?.step ?? 0;
  if (!Number.isInteger(startStep) || startStep < 0 || startStep > opts.steps) throw new Error(`train: resume step ${startStep} must be an integer in [0, ${opts.steps}]`);
  if (opts.steps === startStep) return result;

  // Reject an oversized micro-batch before any computation.
  let batch: Batch | null = nextBatch(startStep);
  checkBatch(batch, startStep, vocab);
  const micro = Math.min(opts.microBatch ?? batch.B, batch.B);
  if (!Number.isInteger(micro) || micro <= 0) throw new Error(`train: microBatch=${opts.microBatch} must be a positive integer`);
  checkStepFits(model.config, micro, batch.T, opts.memoryLimitBytes ?? defaultMemoryLimit());

  const moments = new Moments();
  const best = stopping ? new BestCheckpoint(stopping) : null;
  let tokensSeen = 0;
  try {
    moments.sync(trainable, 0);
    if (opts.resume) moments.restore(opts.resume.moments);
    for (let step = startStep; step < opts.steps; step++) {
      if (opts.beforeStep?.(step)?.trainableChanged) {
        checkTrainable(trainable, `train: after beforeStep(${step})`);
        best?.reset();
        moments.sync(trainable, step);
        result.optimizerStateBytes = Math.max(result.optimizerStateBytes, moments.bytes());
      }
      const params = moments.params;
      if (!batch) {
        batch = nextBatch(step);
        checkBatch(batch, step, vocab);
      }
      const b = batch;
      batch = null;
      const t0 = performance.now();
      const run = () => accumulateGradients(b, micro, params, lossFn, step);
      let out: { loss: tf.Scalar; grads: tf.Tensor[] } | null = null;
      if (step === startStep) {
        const info = await tf.profile(() => {
          out = run();
          return undefined as unknown as tf.Tensor;
        });
        result.peakBytes = Math.max(result.peakBytes, info.peakBytes);
      } else out = run();
      const { loss, grads } = out!;
      const normSq = tf.tidy(() => tf.addN(grads.map((g) => g.square().sum())));
      const [lossValue, normSqValue] = tf.tidy(() => tf.stack([loss, normSq]).dataSync());
      normSq.dispose();
      loss.dispose();
      const gradNorm = Math.sqrt(normSqValue!);
      result.losses.push(lossValue!);
      if (!Number.isFinite(lossValue!) || !Number.isFinite(gradNorm)) {
        tf.dispose(grads);
        result.status = 'diverged';
        const what = !Number.isFinite(lossValue!) ? `loss is ${lossValue}` : `gradient norm is ${gradNorm}`;
        result.reason = `non-finite: ${what} at step ${step + 1}`;
        result.divergence = { rule: 'non-finite', step: step + 1 };
        result.seconds += (performance.now() - t0) / 1000;
        break;
      }
      const spike = lossSpike(result.losses, step, opts.steps);
      if (spike) {
        tf.dispose(grads);
        result.status = 'diverged';
        result.reason = spike;
        result.divergence = { rule: 'loss-spike', step: step + 1 };
        result.seconds += (performance.now() - t0) / 1000;
        break;
      }
      const clipScale = gradClip !== null && gradNorm > gradClip ? gradClip / (gradNorm + 1e-6) : 1;
      const clipped = clipScale === 1 ? grads : grads.map((g) => tf.tidy(() => g.mul(clipScale)));
      if (clipped !== grads) tf.dispose(grads);
      const lr = learningRateAt(step, { lr: opts.lr, steps: opts.steps, warmupSteps, schedule, minLrRatio: opts.minLrRatio ?? 0 });
      moments.update(clipped, { ...hyper, lr }, step);
      tf.dispose(clipped);
      const weights = weightTrouble(params, step + 1);
      if (weights) {
        result.status = 'diverged';
        result.reason = weights;
        result.divergence = { rule: 'non-finite', step: step + 1 };
        result.weightsFinite = false;
        result.steps = step + 1;
        result.seconds += (performance.now() - t0) / 1000;
        break;
      }
      const dt = (performance.now() - t0) / 1000;
      result.seconds += dt;
      result.steps = step + 1;
      tokensSeen += b.B * b.T;
      const info: StepInfo = { step: step + 1, loss: lossValue!, lr, gradNorm, tokensPerS: (b.B * b.T) / dt };
      opts.onStep?.(info);
      if (opts.onEval && opts.evalEvery && ((step + 1) % opts.evalEvery === 0 || step + 1 === opts.steps)) {
        const e0 = performance.now();
        const value = await opts.onEval(step + 1);
        result.evalSeconds += (performance.now() - e0) / 1000;
        if (typeof value === 'number') result.evals.push({ step: step + 1, value });
        if (best && typeof value === 'number' && best.observe(step + 1, value, trainable)) {
          result.peakBytes = Math.max(result.peakBytes, tf.memory().numBytes);
          result.stopReason = 'plateau';
          break;
        }
      }
      result.peakBytes = Math.max(result.peakBytes, tf.memory().numBytes);
      if (opts.checkpoint && (step + 1) % opts.checkpoint.every === 0 && step + 1 < opts.steps) await opts.checkpoint.save(step + 1, moments.snapshot());
      if (opts.stopWhen?.(info)) {
        result.stopReason = 'stopped';
        break;
      }
    }
    if (result.status === 'ok') {
      // Judged on the steps taken, whether the run reached its maximum or stopped early.
      const trend = endsAboveStart(result.losses);
      if (trend) {
        result.status = 'diverged';
        result.reason = trend;
        result.divergence = { rule: 'ends-above-start', step: result.losses.length };
      }
    }
    if (result.status === 'diverged') result.stopReason = 'diverged';
    else if (best && best.step !== null) {
      // Keep the best checkpoint on valid: the weights of the best evaluation, not the last step's.
      if (best.step !== result.steps) best.restore(trainable);
      result.bestStep = best.step;
      result.bestValue = best.value;
    }
  } finally {
    best?.clear();
    moments.dispose();
  }
  result.tokensPerS = result.seconds > 0 ? tokensSeen / result.seconds : 0;
  return result;
}

export function checkTrainable(trainable: Map<string, tf.Variable>, where: string): void {
  if (trainable.size === 0) throw new Error(`${where}: no trainable variables were given`);
  const frozenFlag = [...trainable].filter(([, v]) => !v.trainable).map(([n]) => n);
  if (frozenFlag.length) throw new Error(`${where}: variables marked trainable=false cannot be trained: ${frozenFlag.join(', ')}`);
}

/**
 * AdamW moments keyed by the trainable map's names. Each entry remembers the step it joined at, so
 * that a variable added mid-run gets Adam's bias correction from its own first step (as a fresh
 * optimizer state would), not the run's.
 */
export class Moments {
  private readonly entries = new Map<string, { param: tf.Variable; m: tf.Variable; v: tf.Variable; firstStep: number }>();
  /** The variables in the trainable map's order; gradients are given in this order. */
  params: tf.Variable[] = [];
  private keys: string[] = [];

  /** Matches the entries to `trainable`: new (or replaced) keys get zero moments, removed keys are freed. */
  sync(trainable: Map<string, tf.Variable>, step: number): void {
    for (const [key, e] of this.entries) {
      if (trainable.get(key) !== e.param) {
        tf.dispose([e.m, e.v]);
        this.entries.delete(key);
      }
    }
    for (const [key, param] of trainable) {
      if (!this.entries.has(key)) this.entries.set(key, { param, m: zerosVariable(param), v: zerosVariable(param), firstStep: step });
    }
    this.keys = [...trainable.keys()];
    this.params = [...trainable.values()];
  }

  /** Sets the moments of the named entries (a resumed run); every entry must be given, with its shape. */
  restore(saved: Map<string, { m: tf.Tensor; v: tf.Tensor }>): void {
    for (const [key, e] of this.entries) {
      const s = saved.get(key);
      if (!s) throw new Error(`train: the resumed optimizer state has no moments for '${key}'`);
      if (s.m.size !== e.m.size || s.v.size !== e.v.size) throw new Error(`train: the resumed moments of '${key}' have the wrong shape`);
      tf.tidy(() => {
        e.m.assign(s.m.reshape(e.m.shape));
        e.v.assign(s.v.reshape(e.v.shape));
      });
    }
  }

  /** The moments by name (the live variables: read them before the next update). */
  snapshot(): Map<string, { m: tf.Tensor; v: tf.Tensor }> {
    return new Map([...this.entries].map(([key, e]) => [key, { m: e.m, v: e.v }]));
  }

  bytes(): number {
    return 8 * this.params.reduce((a, p) => a + p.size, 0);
  }

  /** One AdamW step (0-based `step`) with `grads` in `params` order, one call per joining step. */
  update(grads: tf.Tensor[], hyper: Omit<AdamWHyper, 'step'>, step: number): void {
    const groups = new Map<number, { params: tf.Variable[]; grads: tf.Tensor[]; m: tf.Variable[]; v: tf.Variable[] }>();
    this.keys.forEach((key, i) => {
      const e = this.entries.get(key)!;
      let g = groups.get(e.firstStep);
      if (!g) groups.set(e.firstStep, (g = { params: [], grads: [], m: [], v: [] }));
      g.params.push(e.param);
      g.grads.push(grads[i]!);
      g.m.push(e.m);
      g.v.push(e.v);
    });
    for (const [firstStep, g] of groups) ops().adamw(g.params, g.grads, g.m, g.v, { ...hyper, step: step - firstStep + 1 });
  }

  dispose(): void {
    for (const e of this.entries.values()) tf.dispose([e.m, e.v]);
    this.entries.clear();
    this.params = [];
    this.keys = [];
  }
}

function zerosVariable(p: tf.Variable): tf.Variable {
  const z = tf.zerosLike(p);
  const variable = tf.variable(z, false);
  z.dispose(); // the variable keeps the buffer
  return variable;
}

/**
 * Loss and gradients of the whole batch, computed micro-batch by micro-batch. Each micro-loss is
 * weighted by its share of the batch's target weight, so the sum equals the full-batch mean.
 */
function accumulateGradients(
  b: Batch,
  micro: number,
  params: tf.Variable[],
  lossFn: (tokens: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor2D) => tf.Scalar,
  step: number,
): { loss: tf.Scalar; grads: tf.Tensor[] } {
  let totalWeight = 0;
  for (let i = 0; i < b.weights.length; i++) totalWeight += b.weights[i]!;
  if (!(totalWeight > 0)) throw new Error(`train: batch for step ${step + 1} has no target tokens (all weights are 0)`);
  let loss: tf.Scalar | null = null;
  let acc: (tf.Tensor | null)[] = params.map(() => null);
  for (const part of microBatches(b, micro)) {
    const { rows, T } = part;
    let w = 0;
    for (let i = 0; i < part.weights.length; i++) w += part.weights[i]!;
    if (w === 0) continue; // no targets in these rows: contributes nothing
    const share = w / totalWeight;
    const tokens = tf.tensor2d(part.tokens, [rows, T], 'int32');
    const targets = tf.tensor2d(part.targets, [rows, T], 'int32');
    const weights = tf.tensor2d(part.weights, [rows, T], 'float32');
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap;
    try {
      ({ value, grads } = tf.variableGrads(() => tf.tidy(() => lossFn(tokens, targets, weights).mul(share)) as tf.Scalar, params));
    } catch (e) {
      const msg = (e as Error).message;
      if (/connection between any variable/.test(msg)) throw new Error('train: none of the trainable variables affects the loss (check which variables the method marked trainable)');
      throw e;
    } finally {
      tf.dispose([tokens, targets, weights]);
    }
    acc = params.map((p, i) => {
      const g = grads[p.name] ?? null;
      const prev = acc[i]!;
      if (!g) return prev;
      if (!prev) return g;
      const sum = prev.add(g);
      prev.dispose();
      g.dispose();
      return sum;
    });
    if (loss) {
      const sum = loss.add(value) as tf.Scalar;
      loss.dispose();
      value.dispose();
      loss = sum;
    } else loss = value;
  }
  // A variable the loss does not reach gets a zero gradient (AdamW still decays it).
  const grads = acc.map((g, i) => g ?? tf.zerosLike(params[i]!));
  return { loss: loss!, grads };
}

/**
 * The batch's micro-batches. With one micro-batch the batch is used as given. With several, rows
 * are grouped by length (the last position with a weight) and each micro-batch is cut after its own
 * longest row: the batch's gradient is the sum over its rows whatever their grouping, and a causal
 * model's loss at a position does not depend on later positions, so this only skips padding.
 */
export function microBatches(b: Batch, micro: number): { tokens: Int32Array; targets: Int32Array; weights: Float32Array; rows: number; T: number }[] {
  if (micro >= b.B) return [{ tokens: b.tokens, targets: b.targets, weights: b.weights, rows: b.B, T: b.T }];
  const used = new Int32Array(b.B);
  for (let r = 0; r < b.B; r++) {
    for (let t = b.T - 1; t >= 0; t--) {
      if (b.weights[r * b.T + t] !== 0) {
        used[r] = t + 1;
        break;
      }
    }
  }
  const order = Array.from({ length: b.B }, (_, r) => r).sort((x, y) => used[x]! - used[y]! || x - y);
  const parts = [];
  for (let i0 = 0; i0 < b.B; i0 += micro) {
    const rowsOf = order.slice(i0, i0 + micro);
    const T = Math.max(1, ...rowsOf.map((r) => used[r]!));
    const tokens = new Int32Array(rowsOf.length * T);
    const targets = new Int32Array(rowsOf.length * T);
    const weights = new Float32Array(rowsOf.length * T);
    rowsOf.forEach((r, i) => {
      tokens.set(b.tokens.subarray(r * b.T, r * b.T + T), i * T);
      targets.set(b.targets.subarray(r * b.T, r * b.T + T), i * T);
      weights.set(b.weights.subarray(r * b.T, r * b.T + T), i * T);
    });
    parts.push({ tokens, targets, weights, rows: rowsOf.length, T });
  }
  return parts;
}
