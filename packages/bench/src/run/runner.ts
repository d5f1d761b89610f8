// One run, start to finish: backend, model, task splits, method, base LM loss before (forgetting),
// training, evaluation on valid and test, base LM loss after, analysis, adapter size on disk.
// Never throws for a run's own failure: an exception becomes a 'failed' record with the reason
// (sanitised: no stack, no absolute paths); the trainer's divergence rule (DIVERGENCE in
// core/train/trainer.ts) makes it 'diverged'. Examples whose target cannot fit the context are
// left out (fitSplits) and counted in the record.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendInfo } from '@peft-bench/core/backend/index';
import { checkpointHash, loadModel } from '@peft-bench/core/checkpoint/checkpoint';
import { loadHfModel } from '@peft-bench/core/checkpoint/hf';
import { encodeExamples, fitExamples, rowSampler, sliceBatch, type EncodedBatch } from '@peft-bench/core/data/batch';
import { EVAL_BATCH, predict } from '@peft-bench/core/decode/predict';
import { createModel, type Model } from '@peft-bench/core/model/model';
import { getTask, pretrainCorpus, type Example, type TaskDef, type TaskSplits } from '@peft-bench/core/tasks/index';
import { ByteTokenizer, loadTokenizer, type Tokenizer } from '@peft-bench/core/tokenizer/index';
import { train, type TrainResult } from '@peft-bench/core/train/trainer';
import { getMethod } from '@peft-bench/methods/registry';
import type { Attachment } from '@peft-bench/methods/types';
import type { RunRecord } from '@peft-bench/results/record/schema';
import type { RunMeta } from './meta.ts';
import { findModelDef } from './models.ts';
import type { RunProgress } from './progress.ts';
import { failedRecord, provenanceOf, recordHead, type BackendFacts } from './record-builder.ts';
import { perExampleScores } from './per-example.ts';
import { isOurCheckpoint } from './registries.ts';
import { sanitizeReason } from './sanitize.ts';
import { loadSplitsCached, lossBeforeCached } from './setup-cache.ts';
import type { RunSpec } from './spec.ts';

export interface RunInput {
  runId: string;
  spec: RunSpec;
  meta: RunMeta;
  /** Registered model id or checkpoint directory. */
  modelSource: string;
}

export interface RunEnv {
  backend: string | undefined;
  threads: number;
  dataDir: string | undefined;
  /** Where kept adapters live (`<adapterRoot>/<run_id>/`) and where `run:<run_id>` references in a config point. */
  adapterRoot: string;
  /** Keep this run's trained adapter under adapterRoot; otherwise it is saved to a temp dir, measured and deleted. */
  keepAdapter: boolean;
}

/** Config values `run:<run_id>` name the kept adapter of another run (machine-independent in the run id). */
export const RUN_REFERENCE = /^run:([0-9a-f]{16,64})$/;

/** The method config with `run:<id>` references replaced by the adapter folders they name. */
export function resolveAdapterReferences(config: Record<string, unknown>, adapterRoot: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const match = typeof value === 'string' ? RUN_REFERENCE.exec(value) : null;
    if (match) {
      const dir = path.join(adapterRoot, match[1]!);
      if (!fs.existsSync(dir)) throw new Error(`${key}=${value}: no kept adapter at ${dir}; run ${match[1]} with its adapter kept first (a grid does this itself)`);
      out[key] = dir;
    } else {
      out[key] = value;
    }
  }
  return out;
}

export interface RunCallbacks {
  /** Called once the backend is up, with a one-line description (printed at the start of every run). */
  onBackend?(description: string, info: BackendInfo): void;
  onProgress?(progress: RunProgress): void;
}

/** Held-out text for the forgetting measure: pretraining-style documents from a seed pretraining never uses. */
/** Test examples whose predictions a record keeps, to show what a model writes (lm-eval's log_samples). */
export const LOGGED_SAMPLES = 5;

export const HELD_OUT_SEED = 7_700_001;
const HELD_OUT_DOCUMENTS = 32;
/**
 * Validation rows used for the validation loss during training (the curve, and what early stopping
 * watches). The fixed-300 runs had 50 validation examples, all used; converge runs have 200 or more
 * and use up to this many, so the stopping decision rests on a loss that does not move with a few rows.
 */
export const VALID_LOSS_ROWS = 256;
/** Points kept of the training-loss curve (evenly spaced, last step always kept). */
const MAX_CURVE_POINTS = 500;

let backendPromise: { key: string; info: Promise<BackendInfo> } | null = null;

/** Initialises the backend once per process (per backend/threads choice). */
export function ensureBackend(backend: string | undefined, threads: number): Promise<BackendInfo> {
  const key = `${backend ?? 'auto'}/${threads}`;
  if (!backendPromise || backendPromise.key !== key) backendPromise = { key, info: initBackend({ backend, threads }) };
  return backendPromise.info;
}

export function describeBackend(info: BackendInfo): string {
  return `${info.name} (${info.threads} thread${info.threads === 1 ? '' : 's'}${info.native ? ', native BLAS' : ''}) - ${info.note}`;
}

/** Peak resident memory over the samples taken (the wasm heap lives inside the process's RSS). */
export class PeakMemory {
  peak = 0;
  sample(): void {
    const usage = process.memoryUsage();
    this.peak = Math.max(this.peak, usage.rss, usage.heapUsed + usage.external + usage.arrayBuffers);
  }
}

/** The tokenizer a run uses (cheap: no weights are read). */
export function loadRunTokenizer(source: string): Tokenizer {
  const def = findModelDef(source);
  return def.kind === 'random' ? new ByteTokenizer() : loadTokenizer(path.join(def.dir, 'tokenizer.json'));
}

const tokenIds = new Map<string, Map<string, number[]>>();
/** Texts whose ids are kept (bounded: a grid worker sees new synthetic examples every run). */
const MAX_CACHED_TEXTS = 50_000;

/**
 * The tokenizer's encode, cached per model source for the process: the pre-check, the length
 * policy and the training rows tokenize the same texts.
 */
export function cachedEncode(source: string, tokenizer: Tokenizer): (text: string) => number[] {
  let cache = tokenIds.get(source);
  if (!cache) tokenIds.set(source, (cache = new Map()));
  return (text) => {
    let ids = cache!.get(text);
    if (ids === undefined) {
      if (cache!.size >= MAX_CACHED_TEXTS) cache!.clear();
      cache!.set(text, (ids = tokenizer.encode(text)));
    }
    return ids;
  };
}

type SplitCounts = { train: number; valid: number; test: number };
export interface FittedSplits {
  splits: TaskSplits;
  excluded: SplitCounts;
  truncated: SplitCounts;
  totals: SplitCounts;
}

/** The length policy on every split (see fitExamples): what fits, and how many were left out or cut. */
export function fitSplits(tokenizer: Tokenizer, task: Pick<TaskDef, 'maxLengths'>, splits: TaskSplits, maxSeq: number, encode?: (text: string) => number[]): FittedSplits {
  const limits = { maxSeq, maxContext: task.maxLengths?.context, maxTarget: task.maxLengths?.target };
  const parts = (['train', 'valid', 'test'] as const).map((name) => [name, fitExamples(tokenizer, splits[name], limits, encode)] as const);
  const of = (pick: (report: ReturnType<typeof fitExamples>, name: string) => number) =>
    Object.fromEntries(parts.map(([name, report]) => [name, pick(report, name)])) as SplitCounts;
  return {
    splits: { train: parts[0][1].kept, valid: parts[1][1].kept, test: parts[2][1].kept },
    excluded: of((report) => report.excluded.length),
    truncated: of((report) => report.truncated.length),
    totals: of((_, name) => splits[name as keyof TaskSplits].length),
  };
}

export async function loadRunModel(source: string, expectedHash: string): Promise<{ model: Model; tokenizer: Tokenizer }> {
  const def = findModelDef(source);
  if (def.kind === 'random') {
    const tokenizer = new ByteTokenizer();
    return { model: createModel({ ...def.random.config, vocabSize: tokenizer.vocabSize }, def.random.seed), tokenizer };
  }
  const hash = await checkpointHash(def.dir);
  if (hash !== expectedHash) {
    throw new Error(`the checkpoint in ${def.dir} changed since the run was planned (hash ${hash.slice(0, 12)}, expected ${expectedHash.slice(0, 12)}); plan the runs again`);
  }
  const tokenizerFile = path.join(def.dir, 'tokenizer.json');
  const tokenizer = loadTokenizer(tokenizerFile);
  const model = isOurCheckpoint(def.dir) ? await loadModel(def.dir) : await loadHfModel(def.dir);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new Error(`${tokenizerFile} has ${tokenizer.vocabSize} ids but the model's vocabulary is ${model.config.vocabSize}`);
  }
  return { model, tokenizer };
}

/** Positions a row may use: the model's context minus any prefix a method prepends. */
export function usablePositions(model: Model, maxSeqLen: number): number {
  return Math.min(maxSeqLen, model.config.maxSeq - (model.embeddings.prefix?.length ?? 0));
}

/** Mean target-token loss over an encoded set, in eval batches. */
export function meanLoss(model: Model, encoded: EncodedBatch, limit = encoded.n): number {
  let total = 0;
  let weight = 0;
  for (let start = 0; start < Math.min(limit, encoded.n); start += EVAL_BATCH) {
    const rows = Array.from({ length: Math.min(EVAL_BATCH, limit - start, encoded.n - start) }, (_, i) => start + i);
    const batch = sliceBatch(encoded, rows);
    const rowWeight = batch.weights.reduce((a, b) => a + b, 0);
    if (rowWeight === 0) continue;
    const loss = tf.tidy(() => {
      const shape: [number, number] = [batch.B, batch.T];
      return model.loss(tf.tensor2d(batch.tokens, shape, 'int32'), tf.tensor2d(batch.targets, shape, 'int32'), tf.tensor2d(batch.weights, shape)).dataSync()[0]!;
    });
    total += loss * rowWeight;
    weight += rowWeight;
  }
  return weight > 0 ? total / weight : Number.NaN;
}

/** LM loss on held-out documents: every token is a target (empty prompt). */
export function heldOutLoss(model: Model, tokenizer: Tokenizer, maxSeq: number): number {
  const documents = pretrainCorpus({ seed: HELD_OUT_SEED, documents: HELD_OUT_DOCUMENTS });
  const room = maxSeq - 1 - (tokenizer.bosId !== undefined ? 1 : 0);
  const examples: Example[] = documents.map((text, i) => {
    // The target is never truncated by encodeExamples, so long documents are cut here (by tokens).
    const ids = tokenizer.encode(text);
    return { id: `held-out-${i}`, prompt: '', target: ids.length > room ? tokenizer.decode(ids.slice(0, room)) : text };
  });
  const safe = examples.filter((example) => tokenizer.encode(example.target).length <= room);
  return meanLoss(model, encodeExamples(tokenizer, safe, { maxSeq }));
}

export function directorySize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? directorySize(full) : fs.statSync(full).size;
  }
  return total;
}

/** Steps whose loss jumped above 1.5x the running average of the losses before them. */
export function countLossSpikes(losses: number[]): number {
  let spikes = 0;
  let average = losses[0] ?? 0;
  for (let i = 1; i < losses.length; i++) {
    const loss = losses[i]!;
    if (i >= 5 && Number.isFinite(loss) && loss > 1.5 * average) spikes += 1;
    if (Number.isFinite(loss)) average = 0.9 * average + 0.1 * loss;
  }
  return spikes;
}

/** The training loss curve, thinned evenly to at most MAX_CURVE_POINTS points (non-finite values dropped). */
export function lossCurve(losses: number[]): { step: number; value: number }[] {
  const every = Math.max(1, Math.ceil(losses.length / MAX_CURVE_POINTS));
  const points: { step: number; value: number }[] = [];
  losses.forEach((value, i) => {
    if ((i % every === 0 || i === losses.length - 1) && Number.isFinite(value)) points.push({ step: i + 1, value });
  });
  return points;
}

/** The trainer's divergence verdict (one rule for every run: DIVERGENCE in core/train/trainer.ts). */
export function divergence(result: Pick<TrainResult, 'status' | 'reason'>): string | null {
  return result.status === 'diverged' ? (result.reason ?? 'non-finite loss or gradient') : null;
}

/** How training ended: steps taken, the step of the checkpoint kept and why it stopped (record `convergence`). */
export function convergenceOf(result: TrainResult): NonNullable<RunRecord['convergence']> {
  return {
    steps: result.steps,
    // Without early stopping the final weights are the ones scored.
    best_step: result.bestStep ?? result.steps,
    best_valid_loss: result.bestValue !== null && Number.isFinite(result.bestValue) ? result.bestValue : null,
    stopped: result.stopReason === 'stopped' ? 'max_steps' : result.stopReason,
  };
}

export function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** What a finished (ok or diverged) run's record is made of: runOne and fused groups build it here. */
export interface CompletedRun {
  runId: string;
  spec: RunSpec;
  meta: RunMeta;
  /** The built model's own parameter count (the planned one came from the config). */
  totalBase: number;
  diverged: string | null;
  primaryMetric: string;
  validMetrics: Record<string, number>;
  testMetrics: Record<string, number>;
  lossBefore: number;
  lossAfter: number | null;
  samples: RunRecord['samples'];
  testExamples: RunRecord['test_examples'];
  fitted: FittedSplits;
  trainable: number;
  /** Trainable parameters that are not base weights (they add to the total). */
  added: number;
  adapterBytes: number;
  trainSeconds: number;
  tokensPerS: number;
  evalSeconds: number;
  peakBytes: number;
  losses: number[];
  validLoss: { step: number; value: number }[];
  /** The step the validation metric was measured at (the kept checkpoint's). */
  validMetricStep: number;
  analysis: Record<string, unknown> | null;
  convergence?: RunRecord['convergence'];
  provenance: RunRecord['provenance'];
}

export function completedRecord(run: CompletedRun): RunRecord {
  const head = recordHead(run.runId, run.spec, run.meta);
  const primaryValue = run.testMetrics[run.primaryMetric];
  const validPrimary = run.validMetrics[run.primaryMetric];
  return {
    ...head,
    model: { ...head.model, params: run.totalBase },
    status: run.diverged ? 'diverged' : 'ok',
    reason: run.diverged,
    metrics: {
      primary: primaryValue !== undefined && Number.isFinite(primaryValue) ? primaryValue : null,
      valid: run.validMetrics,
      test: run.testMetrics,
      base_lm_loss_before: finite(run.lossBefore),
      base_lm_loss_after: run.lossAfter,
    },
    samples: run.samples,
    ...(run.testExamples ? { test_examples: run.testExamples } : {}),
    examples: { excluded: run.fitted.excluded, truncated: run.fitted.truncated },
    params: {
      trainable: run.trainable,
      total: run.totalBase + run.added,
      adapter_bytes: run.adapterBytes,
      optimizer_state_bytes: 2 * run.trainable * 4,
    },
    cost: {
      train_seconds: run.trainSeconds,
      eval_seconds: run.evalSeconds,
      tokens_per_s: run.tokensPerS,
      peak_memory_bytes: Math.round(run.peakBytes),
    },
    curves: {
      train_loss: lossCurve(run.losses),
      valid_loss: run.validLoss,
      valid_metric: validPrimary !== undefined && Number.isFinite(validPrimary) ? [{ step: run.validMetricStep, value: validPrimary }] : [],
      loss_spikes: countLossSpikes(run.losses),
    },
    analysis: run.analysis && Object.keys(run.analysis).length > 0 ? run.analysis : null,
    ...(run.convergence ? { convergence: run.convergence } : {}),
    provenance: run.provenance,
  };
}

export async function runOne(input: RunInput, env: RunEnv, callbacks: RunCallbacks = {}): Promise<RunRecord> {
  const { runId, spec, meta } = input;
  const startedAt = new Date();
  const memory = new PeakMemory();
  memory.sample();
  let backend: BackendFacts = { backend: env.backend ?? 'unknown', accelerated: false, threads: env.threads, gpu: null };
  const progress = (value: RunProgress) => callbacks.onProgress?.(value);
  const totalSteps = spec.training.steps;
  let model: Model | null = null;
  let attachment: Attachment | null = null;
  let tempAdapterDir: string | null = null;
  let trainResult: TrainResult | null = null;
  try {
    const info = await ensureBackend(env.backend, env.threads);
    backend = { backend: info.name, accelerated: info.native || info.name === 'tensorflow', threads: info.threads, gpu: null };
    callbacks.onBackend?.(describeBackend(info), info);

    progress({ phase: 'setup', step: 0, totalSteps, loss: null, tokensPerS: null, note: 'loading model and data' });
    const loaded = await loadRunModel(input.modelSource, spec.model.hash);
    model = loaded.model;
    const tokenizer = loaded.tokenizer;
    const task = getTask(spec.task.id);
    const loadedSplits = await loadSplitsCached(task, { seed: spec.seed, knobs: spec.task.config, dataDir: env.dataDir });
    const totalBase = model.paramCount();
    const baseNames = new Set([...model.params().values()].map((v) => v.name));

    progress({ phase: 'setup', step: 0, totalSteps, loss: null, tokensPerS: null, note: 'base LM loss before' });
    const lossBefore = lossBeforeCached(spec.model.hash, usablePositions(model, spec.training.max_seq_len), () => heldOutLoss(model!, tokenizer, usablePositions(model!, spec.training.max_seq_len)));
    memory.sample();

    const method = await getMethod(spec.method.id);
    attachment = await method.attach(model, resolveAdapterReferences(spec.method.config, env.adapterRoot), { seed: spec.seed, baseModel: spec.model.id });
    const maxSeq = usablePositions(model, spec.training.max_seq_len);
    const encode = cachedEncode(input.modelSource, tokenizer);
    const fitted = fitSplits(tokenizer, task, loadedSplits, maxSeq, encode);
    const splits = fitted.splits;
    if (splits.train.length === 0) throw new Error(`no training example of ${task.id} fits in ${maxSeq} tokens`);
    const maxContext = task.maxLengths?.context;
    const trainSet = encodeExamples(tokenizer, splits.train, { maxSeq, maxContext, encode });
    const validSet = encodeExamples(tokenizer, splits.valid.slice(0, VALID_LOSS_ROWS), { maxSeq, maxContext, encode });
    const sample = rowSampler(trainSet.n, spec.seed);

    const validLoss: { step: number; value: number }[] = [];
    const canTrain = attachment.trainable.size > 0 && spec.training.steps > 0;
    if (canTrain) {
      attachment.setTraining?.(true);
      trainResult = await train({
        model,
        trainable: attachment.trainable,
        data: () => sliceBatch(trainSet, sample(spec.training.batch_size)),
        steps: spec.training.steps,
        lr: spec.training.lr,
        schedule: spec.training.schedule as 'cosine',
        warmupSteps: spec.training.warmup_steps,
        weightDecay: spec.training.weight_decay,
        gradClip: spec.training.grad_clip,
        microBatch: spec.training.micro_batch_size,
        // Methods that change mid-training (lora-grow adds rank at a step) hook in before each step.
        beforeStep: attachment.onStep ? (step: number) => attachment!.onStep!(step) ?? undefined : undefined,
        evalEvery: spec.training.eval_every || undefined,
        earlyStopping:
          spec.training.patience !== undefined && spec.training.eval_every > 0
            ? { patience: spec.training.patience, minRelImprovement: spec.training.min_rel_improvement ?? 0 }
            : undefined,
        onEval: (step) => {
          attachment!.setTraining?.(false);
          const value = meanLoss(model!, validSet);
          attachment!.setTraining?.(true);
          if (Number.isFinite(value)) validLoss.push({ step, value });
          return value;
        },
        onStep: (step) => {
          memory.sample();
          progress({ phase: 'train', step: step.step, totalSteps, loss: step.loss, tokensPerS: step.tokensPerS });
        },
      });
      attachment.setTraining?.(false);
    }
    const losses = trainResult?.losses ?? [];
    const diverged = trainResult ? divergence(trainResult) : null;
    // Evaluating non-finite weights is meaningless (and SVD-based analysis rejects them).
    const nonFinite = trainResult !== null && (!trainResult.weightsFinite || trainResult.divergence?.rule === 'non-finite');

    // Evaluation (skipped when the weights are no longer finite).
    const evalStart = performance.now();
    let validMetrics: Record<string, number> = {};
    let testMetrics: Record<string, number> = {};
    let lossAfter: number | null = null;
    let samples: RunRecord['samples'];
    let testExamples: RunRecord['test_examples'];
    if (!nonFinite) {
      progress({ phase: 'eval', step: totalSteps, totalSteps, loss: null, tokensPerS: null, note: 'scoring valid' });
      validMetrics = await task.score(predict(model, tokenizer, task, splits.valid, maxSeq), splits.valid);
      memory.sample();
      progress({ phase: 'eval', step: totalSteps, totalSteps, loss: null, tokensPerS: null, note: 'scoring test' });
      const testPredictions = predict(model, tokenizer, task, splits.test, maxSeq);
      testMetrics = await task.score(testPredictions, splits.test);
      testExamples = await perExampleScores(task, testPredictions, splits.test);
      samples = splits.test.slice(0, LOGGED_SAMPLES).map((example, i) => ({
        id: example.id,
        prompt: example.prompt,
        target: example.target,
        prediction: testPredictions[i]!,
      }));
      progress({ phase: 'eval', step: totalSteps, totalSteps, loss: null, tokensPerS: null, note: 'base LM loss after' });
      lossAfter = finite(heldOutLoss(model, tokenizer, maxSeq));
    }
    const evalSeconds = (performance.now() - evalStart) / 1000 + (trainResult?.evalSeconds ?? 0);
    const analysis = nonFinite ? null : (attachment.analysis?.() ?? null);

    // Adapter bytes on disk: where it is kept, or a temp dir that is removed.
    const adapterDir = env.keepAdapter ? path.join(env.adapterRoot, runId) : (tempAdapterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-adapter-')));
    fs.rmSync(adapterDir, { recursive: true, force: true });
    await attachment.save(adapterDir);
    const adapterBytes = directorySize(adapterDir);
    memory.sample();

    const trainable = attachment.trainableCount();
    const added = [...attachment.trainable.values()].filter((v) => !baseNames.has(v.name)).reduce((sum, v) => sum + v.size, 0);
    progress({ phase: 'done', step: totalSteps, totalSteps, loss: losses.at(-1) ?? null, tokensPerS: trainResult?.tokensPerS ?? null });
    return completedRecord({
      runId, spec, meta, totalBase, diverged, primaryMetric: task.primaryMetric, validMetrics, testMetrics, lossBefore, lossAfter,
      samples, testExamples, fitted, trainable, added, adapterBytes,
      trainSeconds: trainResult?.seconds ?? 0, tokensPerS: trainResult?.tokensPerS ?? 0, evalSeconds, peakBytes: memory.peak,
      losses, validLoss, validMetricStep: trainResult?.bestStep ?? trainResult?.steps ?? 0, analysis,
      convergence: trainResult ? convergenceOf(trainResult) : undefined,
      provenance: provenanceOf(backend, startedAt, new Date()),
    });
  } catch (error) {
    const message = sanitizeReason(error instanceof Error ? error.message : String(error), { dataDir: env.dataDir });
    return failedRecord(runId, spec, meta, message, backend, startedAt, {
      curves: { train_loss: lossCurve(trainResult?.losses ?? []), valid_loss: [], valid_metric: [], loss_spikes: 0 },
      cost: { train_seconds: trainResult?.seconds ?? 0, eval_seconds: 0, tokens_per_s: trainResult?.tokensPerS ?? 0, peak_memory_bytes: Math.round(memory.peak) },
    });
  } finally {
    try {
      attachment?.detach();
    } catch {
      // The model is disposed next anyway.
    }
    model?.dispose();
    if (tempAdapterDir) fs.rmSync(tempAdapterDir, { recursive: true, force: true });
  }
}
