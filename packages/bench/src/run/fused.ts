// Fused runs: a group of runs that share the base model, the task (with its knobs), the seed and
// the batch shape, differing in rank, learning rate or other method settings, trains in one process
// with the frozen base's products batched across the runs (core/train/fused.ts). Setup (model,
// task splits, tokenisation, the base LM loss before) is done once for the group; each run is then
// evaluated, saved and recorded on its own, exactly as runOne would record it, with
// provenance.execution = { mode: 'fused', group_size }. A method whose attachment does more than
// hook linears (norm hooks, a prompt prefix, changed base weights, a growing rank, trainable base
// weights) cannot share the base: such a group runs its members one by one with runOne.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { encodeExamples, rowSampler, sliceBatch } from '@peft-bench/core/data/batch';
import { predict } from '@peft-bench/core/decode/predict';
import type { Model } from '@peft-bench/core/model/model';
import { getTask } from '@peft-bench/core/tasks/index';
import { FusedHooks, largestFittingGroup, trainFused, type FusedRunOptions } from '@peft-bench/core/train/fused';
import { defaultMemoryLimit } from '@peft-bench/core/train/memory';
import type { TrainResult } from '@peft-bench/core/train/trainer';
import { getMethod } from '@peft-bench/methods/registry';
import type { Attachment } from '@peft-bench/methods/types';
import type { RunRecord } from '@peft-bench/results/record/schema';
import { failedRecord, provenanceOf, type BackendFacts } from './record-builder.ts';
import { perExampleScores } from './per-example.ts';
import {
  cachedEncode,
  completedRecord,
  describeBackend,
  directorySize,
  divergence,
  ensureBackend,
  finite,
  fitSplits,
  heldOutLoss,
  LOGGED_SAMPLES,
  loadRunModel,
  lossCurve,
  meanLoss,
  PeakMemory,
  resolveAdapterReferences,
  runOne,
  usablePositions,
  VALID_LOSS_ROWS,
  type RunCallbacks,
  type RunEnv,
  type RunInput,
} from './runner.ts';
import { sanitizeReason } from './sanitize.ts';
import { loadSplitsCached, lossBeforeCached } from './setup-cache.ts';
import type { RunSpec } from './spec.ts';

/**
 * Methods whose attachments only hook linears around frozen base weights (checked again at attach
 * time). LoRA variants whose init rewrites the base weights (pissa, milora) are caught by that check.
 */
export const FUSABLE_METHODS: ReadonlySet<string> = new Set(['lora', 'dora', 'loha', 'lokr', 'vera', 'ia3']);

/** Runs of one group must agree on everything but the method's config and the learning rate. */
export function fusionKey(spec: RunSpec): string | null {
  if (!FUSABLE_METHODS.has(spec.method.id)) return null;
  const t = spec.training;
  // Gradient accumulation is not fused: each fused step is one forward/backward of every run's whole batch.
  if (t.micro_batch_size !== t.batch_size) return null;
  // Early stopping (the converge protocol) keeps each run's best checkpoint on valid: runOne does that, the fused trainer does not yet.
  if (t.patience !== undefined) return null;
  // `all-linear` LoRA-family runs differed from single runs by 3e-4 relative at step 20 in the agreement
  // test (above the 1e-4 fused runs must meet), so they run singly until that is understood.
  const targets = spec.method.config.target_modules;
  if (Array.isArray(targets) ? targets.includes('all-linear') : targets === 'all-linear') return null;
  if (Object.values(spec.method.config).some((value) => typeof value === 'string' && /^run:/.test(value))) return null;
  return JSON.stringify([
    spec.method.id, spec.task.id, spec.task.config, spec.model, spec.seed, spec.code_version,
    t.batch_size, t.max_seq_len, t.eval_every,
  ]);
}

/** Groups `specs` (by index) into fusable groups of at most `maxGroup`; runs that cannot fuse are groups of one. */
export function groupRuns<T extends { spec: RunSpec }>(items: T[], maxGroup: number): T[][] {
  const groups: T[][] = [];
  const open = new Map<string, T[]>();
  for (const item of items) {
    const key = fusionKey(item.spec);
    if (key === null || maxGroup <= 1) {
      groups.push([item]);
      continue;
    }
    let group = open.get(key);
    if (!group || group.length >= maxGroup) {
      group = [];
      open.set(key, group);
      groups.push(group);
    }
    group.push(item);
  }
  return groups;
}

function provenanceWith(backend: BackendFacts, startedAt: Date, groupSize: number): RunRecord['provenance'] {
  return { ...provenanceOf(backend, startedAt, new Date()), execution: { mode: groupSize > 1 ? 'fused' : 'single', group_size: groupSize } };
}

/** Cheap fingerprint of the base weights: an attachment that changes them cannot share the base. */
function fingerprint(model: Model): number[] {
  return tf.tidy(() => [...model.params().values()].map((v) => v.sum().dataSync()[0]!));
}

class NotFusable extends Error {}

/** Checks that attachment `a` only hooks linears (hooks just installed on `model`). */
function checkFusable(model: Model, a: Attachment, before: number[], baseNames: Set<string>, methodId: string): void {
  const why = (text: string) => new NotFusable(`method ${methodId} cannot share the base model: ${text}`);
  if (model.norms().some((n) => n.hook)) throw why('it hooks a norm');
  if (model.embeddings.prefix) throw why('it prepends a prefix');
  if (a.onStep) throw why('it changes during training');
  if ([...a.trainable.values()].some((v) => baseNames.has(v.name))) throw why('it trains base weights');
  const after = fingerprint(model);
  if (after.some((x, i) => x !== before[i])) throw why('its initialisation changes the base weights');
}

/**
 * Runs `inputs` as one fused group and returns their records in order. Inputs must share a fusion
 * key (fusionKey); a group of one, or one whose method turns out not to be fusable, runs each input
 * with runOne. The group is checked against the memory limit first and split if it does not fit.
 */
export async function runFused(inputs: RunInput[], env: RunEnv, callbacks: RunCallbacks & { onRecord?(record: RunRecord, index: number): void } = {}): Promise<RunRecord[]> {
  const single = async (items: RunInput[], offset: number) => {
    const out: RunRecord[] = [];
    for (const [i, input] of items.entries()) {
      const record = await runOne(input, env, callbacks);
      record.provenance = { ...record.provenance, execution: { mode: 'single', group_size: 1 } };
      callbacks.onRecord?.(record, offset + i);
      out.push(record);
    }
    return out;
  };
  if (inputs.length <= 1) return single(inputs, 0);
  const keys = new Set(inputs.map((input) => fusionKey(input.spec)));
  if (keys.size !== 1 || keys.has(null)) throw new Error(`runFused: the runs do not form one fusable group (method, task, seed, model and batch shape must agree)`);

  const startedAt = new Date();
  const memory = new PeakMemory();
  memory.sample();
  const first = inputs[0]!.spec;
  let backend: BackendFacts = { backend: env.backend ?? 'unknown', accelerated: false, threads: env.threads, gpu: null };
  let model: Model | null = null;
  const attachments: Attachment[] = [];
  let hooks: FusedHooks | null = null;
  const temps: string[] = [];
  let results: TrainResult[] | null = null;
  const records: RunRecord[] = [];
  try {
    const info = await ensureBackend(env.backend, env.threads);
    backend = { backend: info.name, accelerated: info.native || info.name === 'tensorflow', threads: info.threads, gpu: null };
    callbacks.onBackend?.(describeBackend(info), info);
    const loaded = await loadRunModel(inputs[0]!.modelSource, first.model.hash);
    model = loaded.model;
    const tokenizer = loaded.tokenizer;
    const task = getTask(first.task.id);
    const loadedSplits = await loadSplitsCached(task, { seed: first.seed, knobs: first.task.config, dataDir: env.dataDir });
    const totalBase = model.paramCount();
    const baseNames = new Set([...model.params().values()].map((v) => v.name));
    const maxSeq = usablePositions(model, first.training.max_seq_len);
    const lossBefore = lossBeforeCached(first.model.hash, maxSeq, () => heldOutLoss(model!, tokenizer, maxSeq));
    memory.sample();

    const method = await getMethod(first.method.id);
    const before = fingerprint(model);
    const perRunHooks = [];
    try {
      for (const input of inputs) {
        const a = await method.attach(model, resolveAdapterReferences(input.spec.method.config, env.adapterRoot), { seed: input.spec.seed, baseModel: input.spec.model.id });
        attachments.push(a);
        checkFusable(model, a, before, baseNames, method.id);
        perRunHooks.push(FusedHooks.capture(model));
      }
    } catch (error) {
      if (!(error instanceof NotFusable)) throw error;
      process.stderr.write(`fused group of ${inputs.length} runs runs them one by one: ${(error as Error).message}\n`);
      for (const lin of model.linears()) lin.hook = null;
      for (const a of attachments.splice(0)) a.detach();
      model.dispose();
      model = null;
      return single(inputs, 0);
    }
    hooks = new FusedHooks(model, perRunHooks);

    const encode = cachedEncode(inputs[0]!.modelSource, tokenizer);
    const fitted = fitSplits(tokenizer, task, loadedSplits, maxSeq, encode);
    const splits = fitted.splits;
    if (splits.train.length === 0) throw new Error(`no training example of ${task.id} fits in ${maxSeq} tokens`);
    const maxContext = task.maxLengths?.context;
    const trainSet = encodeExamples(tokenizer, splits.train, { maxSeq, maxContext, encode });
    const validSet = encodeExamples(tokenizer, splits.valid.slice(0, VALID_LOSS_ROWS), { maxSeq, maxContext, encode });
    // Memory: the stacked step must fit; a group that does not is split into runs that do.
    const fits = largestFittingGroup(model.config, first.training.batch_size, Math.max(...Array.from(trainSet.lengths)), inputs.length, defaultMemoryLimit());
    if (fits < inputs.length) {
      process.stderr.write(`fused group of ${inputs.length} runs does not fit in memory; training it in groups of ${fits}\n`);
      hooks.clear();
      for (const a of attachments.splice(0)) a.detach();
      model.dispose();
      model = null;
      const out: RunRecord[] = [];
      for (let i = 0; i < inputs.length; i += fits) out.push(...(await runFused(inputs.slice(i, i + fits), env, callbacks)));
      return out;
    }

    const validLoss: { step: number; value: number }[][] = inputs.map(() => []);
    const runs: FusedRunOptions[] = inputs.map(({ spec }, k) => {
      const sample = rowSampler(trainSet.n, spec.seed);
      const a = attachments[k]!;
      return {
        trainable: a.trainable,
        data: () => sliceBatch(trainSet, sample(spec.training.batch_size)),
        steps: spec.training.steps,
        lr: spec.training.lr,
        schedule: spec.training.schedule as 'cosine',
        warmupSteps: spec.training.warmup_steps,
        weightDecay: spec.training.weight_decay,
        gradClip: spec.training.grad_clip,
        evalEvery: spec.training.eval_every || undefined,
        onEval: (step: number) => {
          a.setTraining?.(false);
          const value = meanLoss(model!, validSet);
          a.setTraining?.(true);
          if (Number.isFinite(value)) validLoss[k]!.push({ step, value });
          return value;
        },
        onStep: (step) => {
          if (k === 0) memory.sample();
          if (k === 0) callbacks.onProgress?.({ phase: 'train', step: step.step, totalSteps: spec.training.steps, loss: step.loss, tokensPerS: step.tokensPerS });
        },
      };
    });
    for (const a of attachments) a.setTraining?.(true);
    results = await trainFused({ model, runs, hooks });
    for (const a of attachments) a.setTraining?.(false);

    for (const [k, input] of inputs.entries()) {
      const { runId, spec, meta } = input;
      const a = attachments[k]!;
      const trainResult = results[k]!;
      hooks.solo(k);
      const evalStart = performance.now();
      const losses = trainResult.losses;
      const diverged = divergence(trainResult);
      const nonFinite = !trainResult.weightsFinite || trainResult.divergence?.rule === 'non-finite';
      let validMetrics: Record<string, number> = {};
      let testMetrics: Record<string, number> = {};
      let lossAfter: number | null = null;
      let samples: RunRecord['samples'];
      let testExamples: RunRecord['test_examples'];
      if (!nonFinite) {
        validMetrics = await task.score(predict(model, tokenizer, task, splits.valid, maxSeq), splits.valid);
        const testPredictions = predict(model, tokenizer, task, splits.test, maxSeq);
        testMetrics = await task.score(testPredictions, splits.test);
        testExamples = await perExampleScores(task, testPredictions, splits.test);
        samples = splits.test.slice(0, LOGGED_SAMPLES).map((example, i) => ({ id: example.id, prompt: example.prompt, target: example.target, prediction: testPredictions[i]! }));
        lossAfter = finite(heldOutLoss(model, tokenizer, maxSeq));
      }
      const evalSeconds = (performance.now() - evalStart) / 1000 + trainResult.evalSeconds;
      const analysis = nonFinite ? null : (a.analysis?.() ?? null);
      const adapterDir = env.keepAdapter ? path.join(env.adapterRoot, runId) : fs.mkdtempSync(path.join(os.tmpdir(), 'peft-adapter-'));
      if (!env.keepAdapter) temps.push(adapterDir);
      fs.rmSync(adapterDir, { recursive: true, force: true });
      await a.save(adapterDir);
      const adapterBytes = directorySize(adapterDir);
      memory.sample();
      const trainable = a.trainableCount();
      const added = [...a.trainable.values()].filter((v) => !baseNames.has(v.name)).reduce((sum, v) => sum + v.size, 0);
      const record = completedRecord({
        runId, spec, meta, totalBase, diverged, primaryMetric: task.primaryMetric, validMetrics, testMetrics, lossBefore, lossAfter,
        samples, testExamples, fitted, trainable, added, adapterBytes,
        // The group's step time, each run charged its share of the stacked rows; the process's peak, shared by the group.
        trainSeconds: trainResult.seconds, tokensPerS: trainResult.tokensPerS, evalSeconds, peakBytes: memory.peak,
        losses, validLoss: validLoss[k]!, validMetricStep: trainResult.steps, analysis,
        provenance: provenanceWith(backend, startedAt, inputs.length),
      });
      callbacks.onRecord?.(record, k);
      records.push(record);
    }
    return records;
  } catch (error) {
    const message = sanitizeReason(error instanceof Error ? error.message : String(error), { dataDir: env.dataDir });
    // Runs already recorded keep their records; the rest fail with the reason.
    return [...records, ...inputs.slice(records.length).map(({ runId, spec, meta }, j) => {
      const k = records.length + j;
      const record = failedRecord(runId, spec, meta, message, backend, startedAt, {
        curves: { train_loss: lossCurve(results?.[k]?.losses ?? []), valid_loss: [], valid_metric: [], loss_spikes: 0 },
        cost: { train_seconds: results?.[k]?.seconds ?? 0, eval_seconds: 0, tokens_per_s: results?.[k]?.tokensPerS ?? 0, peak_memory_bytes: Math.round(memory.peak) },
      });
      record.provenance = { ...record.provenance, execution: { mode: 'fused', group_size: inputs.length } };
      callbacks.onRecord?.(record, k);
      return record;
    })];
  } finally {
    hooks?.clear();
    for (const a of attachments) {
      try {
        a.detach();
      } catch {
        // The model is disposed next anyway.
      }
    }
    model?.dispose();
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  }
}
