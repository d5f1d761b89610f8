// Fused multi-run training against single runs: the same runs (seed, config, data order, learning
// rate) trained alone with the trainer and together with trainFused give the same loss at every
// step, for LoRA and for IA3 (a non-LoRA method, with a hook that changes its input); and whole runs
// through runFused give the records runOne gives, with the execution mode in provenance only.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@peft-bench/core/backend/index';
import { resolveModelConfig } from '@peft-bench/core/model/config';
import { createModel, type Model } from '@peft-bench/core/model/model';
import { uniformStream } from '@peft-bench/core/model/rng';
import { FusedHooks, largestFittingGroup, trainFused } from '@peft-bench/core/train/fused';
import { estimateStepBytes } from '@peft-bench/core/train/memory';
import { train, type Batch } from '@peft-bench/core/train/trainer';
import { getMethod } from '@peft-bench/methods/registry';
import type { Attachment } from '@peft-bench/methods/types';
import { runRecord } from '@peft-bench/results/record/schema';
import { fusionKey, groupRuns, runFused } from '../src/run/fused.ts';
import { runOne } from '../src/run/runner.ts';
import { loadCatalog } from '../src/run/registries.ts';
import { resolveRequests, type ResolvedRun } from '../src/run/resolve.ts';
import type { RunRequest } from '../src/grid/grid.ts';
import { runPool } from '../src/grid/pool.ts';

beforeAll(async () => {
  await initBackend({ backend: 'auto', threads: 1 });
});

const CONFIG = { family: 'gpt2' as const, vocabSize: 32, d: 16, nLayer: 2, nHead: 2, maxSeq: 24 };
const STEPS = 50;

/** Copy task with a row length that changes from batch to batch (so fused steps pad). */
function data(seed: number, B: number): (step: number) => Batch {
  const rnd = uniformStream(seed);
  return () => {
    const n = 3 + Math.floor(rnd() * 8);
    const T = 2 * n;
    const tokens = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    const weights = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      const sym = Array.from({ length: n }, () => 2 + Math.floor(rnd() * (CONFIG.vocabSize - 2)));
      const seq = [...sym, 1, ...sym];
      for (let t = 0; t < T; t++) {
        tokens[b * T + t] = seq[t]!;
        targets[b * T + t] = seq[t + 1]!;
        weights[b * T + t] = t >= n ? 1 : 0;
      }
    }
    return { tokens, targets, weights, B, T };
  };
}

interface RunConfig {
  config: Record<string, unknown>;
  lr: number;
  seed: number;
}

const settings = (run: RunConfig) => ({ steps: STEPS, lr: run.lr, warmupSteps: 5, schedule: 'cosine' as const, weightDecay: 0.01, gradClip: 1 });

async function single(methodId: string, run: RunConfig): Promise<number[]> {
  const model = createModel(CONFIG, 11);
  const method = await getMethod(methodId);
  const a = await method.attach(model, run.config, { seed: run.seed });
  try {
    const result = await train({ model, trainable: a.trainable, data: data(run.seed, 4), ...settings(run) });
    return result.losses;
  } finally {
    a.detach();
    model.dispose();
  }
}

async function fused(methodId: string, runs: RunConfig[]): Promise<number[][]> {
  const model: Model = createModel(CONFIG, 11);
  const method = await getMethod(methodId);
  const attachments: Attachment[] = [];
  const perRun = [];
  for (const run of runs) {
    attachments.push(await method.attach(model, run.config, { seed: run.seed }));
    perRun.push(FusedHooks.capture(model));
  }
  const hooks = new FusedHooks(model, perRun);
  try {
    const results = await trainFused({
      model,
      hooks,
      runs: runs.map((run, k) => ({ trainable: attachments[k]!.trainable, data: data(run.seed, 4), ...settings(run) })),
    });
    return results.map((r) => r.losses);
  } finally {
    hooks.clear();
    for (const a of attachments) a.detach();
    model.dispose();
  }
}

function expectAgree(a: number[], b: number[]): void {
  expect(a).toHaveLength(STEPS);
  expect(b).toHaveLength(STEPS);
  for (let i = 0; i < STEPS; i++) expect(Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!), `step ${i + 1}: fused ${a[i]} vs single ${b[i]}`).toBeLessThan(1e-4);
}

describe('fused training', { timeout: 120_000 }, () => {
  it.each([
    ['lora', [
      // Fused groups take LoRA on named modules (fusionKey keeps `all-linear` runs single).
      { config: { r: 2, lora_alpha: 4, target_modules: ['q', 'v'] }, lr: 5e-2, seed: 0 },
      { config: { r: 4, lora_alpha: 8, target_modules: ['q', 'v'] }, lr: 3e-2, seed: 1 },
      { config: { r: 1, lora_alpha: 2, target_modules: ['q', 'v', 'up'] }, lr: 8e-2, seed: 2 },
    ]],
    ['ia3', [
      { config: {}, lr: 1e-1, seed: 0 },
      { config: { target_modules: ['k', 'v', 'down'], feedforward_modules: ['down'] }, lr: 2e-1, seed: 3 },
    ]],
  ])('%s: every run loses what it loses alone, at each of the first 50 steps', async (methodId, runs) => {
    const together = await fused(methodId, runs as RunConfig[]);
    for (const [k, run] of (runs as RunConfig[]).entries()) {
      const alone = await single(methodId, run);
      // The adapter's training changes the loss (the comparison is not of an untouched base): against the same run at lr ~0.
      const still = await single(methodId, { ...run, lr: 1e-12 });
      expect(Math.abs(alone[STEPS - 1]! - still[STEPS - 1]!)).toBeGreaterThan(1e-3);
      expectAgree(together[k]!, alone);
    }
  });

  it('lets a run leave the group early while the others go on', async () => {
    const model = createModel(CONFIG, 11);
    const method = await getMethod('lora');
    const attachments: Attachment[] = [];
    const perRun = [];
    for (const seed of [0, 1]) {
      attachments.push(await method.attach(model, { r: 2 }, { seed }));
      perRun.push(FusedHooks.capture(model));
    }
    const hooks = new FusedHooks(model, perRun);
    const results = await trainFused({
      model,
      hooks,
      runs: [
        { trainable: attachments[0]!.trainable, data: data(0, 4), steps: 20, lr: 1e-2, stopWhen: (info) => info.step === 7 },
        { trainable: attachments[1]!.trainable, data: data(1, 4), steps: 20, lr: 1e-2 },
      ],
    });
    hooks.clear();
    for (const a of attachments) a.detach();
    model.dispose();
    expect(results[0]!.steps).toBe(7);
    expect(results[1]!.steps).toBe(20);
    expect(results[0]!.losses).toHaveLength(7);
    expect(results[1]!.losses).toHaveLength(20);
  });

  it('sizes groups to the memory limit', () => {
    const config = resolveModelConfig({ family: 'gpt2', vocabSize: 1024, d: 128, nLayer: 4, nHead: 4, maxSeq: 256 });
    expect(largestFittingGroup(config, 16, 128, 4, Number.POSITIVE_INFINITY)).toBe(4);
    expect(largestFittingGroup(config, 16, 128, 4, 1)).toBe(1);
    // Between: the largest group whose stacked step fits.
    const two = estimateStepBytes(config, 32, 128);
    expect(largestFittingGroup(config, 16, 128, 4, two)).toBe(2);
  });
});

function request(overrides: Partial<RunRequest>): RunRequest {
  return {
    experiment: 'test', method: 'lora', rank: 2, task: 'nli', seed: 0, lr: null, lrFactor: null, set: {},
    training: { steps: 12 }, taskConfig: { train: 32, valid: 4, test: 4 }, model: 'tiny-random', keepAdapters: false,
    // Fixed steps and LoRA on q and v: what fused groups take (converge runs and all-linear LoRA run singly).
    protocol: 'fixed-300',
    ...overrides,
  };
}

describe('runFused', { timeout: 240_000 }, () => {
  it('records each run of a group as runOne does, with the execution mode in provenance and the run ids unchanged', async () => {
    const catalog = await loadCatalog();
    const runs: ResolvedRun[] = await resolveRequests(
      [request({ rank: 2 }), request({ rank: 4, lr: 3e-3 })],
      catalog,
      { codeVersion: 'test', defaultModel: 'tiny-random' },
    );
    expect(fusionKey(runs[0]!.spec)).not.toBeNull();
    expect(fusionKey(runs[0]!.spec)).toBe(fusionKey(runs[1]!.spec));
    expect(groupRuns(runs, 4).map((g) => g.length)).toEqual([2]);
    const env = { backend: undefined, threads: 1, dataDir: undefined, adapterRoot: fs.mkdtempSync(path.join(os.tmpdir(), 'peft-fused-')), keepAdapter: false };
    const inputs = runs.map((run) => ({ runId: run.runId, spec: run.spec, meta: run.meta, modelSource: run.modelSource }));
    const together = await runFused(inputs, env);
    for (const [k, input] of inputs.entries()) {
      const alone = await runOne(input, env);
      const record = together[k]!;
      expect(record.status).toBe('ok');
      expect(runRecord.safeParse(record).success).toBe(true);
      expect(record.run_id).toBe(alone.run_id);
      expect(record.provenance.execution).toEqual({ mode: 'fused', group_size: 2 });
      expect(alone.provenance.execution).toBeUndefined();
      const a = record.curves.train_loss.map((p) => p.value);
      const b = alone.curves.train_loss.map((p) => p.value);
      expect(a).toHaveLength(b.length);
      a.forEach((value, i) => expect(Math.abs(value - b[i]!) / b[i]!).toBeLessThan(1e-4));
      expect(record.metrics.test).toEqual(alone.metrics.test);
      expect(record.params).toEqual(alone.params);
    }
  });

  it('a fused grid pool sends a group to one worker, which writes each run\'s record', async () => {
    const catalog = await loadCatalog();
    const runs = await resolveRequests(
      [request({ rank: 2, training: { steps: 4 } }), request({ method: 'full', rank: null, training: { steps: 4 } }), request({ rank: 4, training: { steps: 4 } })],
      catalog,
      { codeVersion: 'test', defaultModel: 'tiny-random' },
    );
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-fused-pool-'));
    const jobs = runs.map((run) => ({ runId: run.runId, spec: run.spec, meta: run.meta, label: run.label, modelSource: run.modelSource, keepAdapter: false, dependsOn: [] }));
    const summary = await runPool(jobs, {
      workers: 1,
      mode: 'fused',
      worker: { outDir: out, backend: undefined, threads: 1, dataDir: undefined, adapterRoot: path.join(out, '.adapters'), keepAdapter: false },
    });
    expect(summary.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(summary.results.every((r) => (r.cpuSeconds ?? 0) > 0)).toBe(true);
    const execution = (id: string) => JSON.parse(fs.readFileSync(path.join(out, `${id}.json`), 'utf8')).provenance.execution;
    // The two LoRA runs went together although the full fine-tuning run was queued between them.
    expect(execution(runs[0]!.runId)).toEqual({ mode: 'fused', group_size: 2 });
    expect(execution(runs[2]!.runId)).toEqual({ mode: 'fused', group_size: 2 });
    expect(execution(runs[1]!.runId)).toBeUndefined();
  });

  it('runs methods that cannot share the base (full fine-tuning) one by one', async () => {
    const catalog = await loadCatalog();
    const runs = await resolveRequests([request({ method: 'full', rank: null }), request({ method: 'full', rank: null, lr: 1e-4 })], catalog, { codeVersion: 'test', defaultModel: 'tiny-random' });
    expect(fusionKey(runs[0]!.spec)).toBeNull();
    expect(groupRuns(runs, 4).map((g) => g.length)).toEqual([1, 1]);
  });
});
