// The runner end to end on the seeded tiny model: a real training run and its record, divergence
// recorded as 'diverged', an exception recorded as 'failed', and checkpoint directories.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveModel } from '@peft-bench/core/checkpoint/checkpoint';
import { createModel } from '@peft-bench/core/model/model';
import { resolveModelConfig } from '@peft-bench/core/model/config';
import { ByteTokenizer, saveTokenizer } from '@peft-bench/core/tokenizer/index';
import { runRecord } from '@peft-bench/results/record/schema';
import { hasFinished } from '@peft-bench/results/record/store';
import { executeRun } from '../src/run/execute.ts';
import { configParamCount, loadCatalog } from '../src/run/registries.ts';
import { resolveRequests, type ResolvedRun } from '../src/run/resolve.ts';
import { countLossSpikes, divergence } from '../src/run/runner.ts';
import { MODELS } from '../src/run/models.ts';
import type { RunRequest } from '../src/grid/grid.ts';

function request(overrides: Partial<RunRequest>): RunRequest {
  return {
    experiment: 'test',
    method: 'lora',
    rank: 2,
    task: 'nli',
    seed: 0,
    lr: null,
    lrFactor: null,
    set: {},
    training: { steps: 12 },
    taskConfig: { train: 32, valid: 4, test: 4 },
    model: 'tiny-random',
    keepAdapters: false,
    ...overrides,
  };
}

async function resolveOne(overrides: Partial<RunRequest>): Promise<ResolvedRun> {
  const [run] = await resolveRequests([request(overrides)], await loadCatalog(), { codeVersion: 'test', defaultModel: 'tiny-random' });
  return run!;
}

const env = (outDir: string, adapterRoot: string | null = null) => ({ outDir, backend: undefined, threads: 1, dataDir: undefined, adapterRoot: adapterRoot ?? os.tmpdir(), keepAdapter: adapterRoot !== null });

describe('runner', { timeout: 120_000 }, () => {
  it('trains, scores and writes a valid record with the spec, costs, curves and provenance', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-run-'));
    const adapters = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-adapters-'));
    const run = await resolveOne({ keepAdapters: true });
    const backends: string[] = [];
    const phases = new Set<string>();
    const { record, path: file } = await executeRun({ runId: run.runId, spec: run.spec, meta: run.meta, modelSource: run.modelSource }, env(out, adapters), {
      onBackend: (description) => backends.push(description),
      onProgress: (progress) => phases.add(progress.phase),
    });
    expect(record.reason).toBeNull();
    expect(record.status).toBe('ok');
    expect(runRecord.safeParse(record).success).toBe(true);
    expect(file).toBe(path.join(out, `${run.runId}.json`));
    expect(hasFinished(out, run.runId)).toBe(true);
    expect(backends).toHaveLength(1);
    expect([...phases]).toEqual(['setup', 'train', 'eval', 'done']);
    expect(record.method).toMatchObject({ id: 'lora', rank: 2, family: 'low-rank', config: { r: 2 } });
    expect(record.task).toMatchObject({ id: 'nli', tier: 'synthetic', primary_metric: 'acc', config: { train: 32, test: 4 } });
    expect(record.training.steps).toBe(12);
    expect(record.curves.train_loss.length).toBeLessThanOrEqual(12);
    expect(record.metrics.primary).toBeGreaterThanOrEqual(0);
    expect(record.metrics.test.acc).toBe(record.metrics.primary);
    expect(record.metrics.base_lm_loss_before).toBeGreaterThan(0);
    expect(record.metrics.base_lm_loss_after).toBeGreaterThan(0);
    // LoRA r=2 on every linear (the default) of 2 layers of width 32 (MLP 128): q, k, v, o take
    // 32x2 + 2x32 each, up and down 32x2 + 2x128.
    expect(record.params.trainable).toBe(2 * (4 * (32 * 2 + 2 * 32) + 2 * (32 * 2 + 2 * 128)));
    // The converge protocol: validation every 4 steps, the best checkpoint on valid scored.
    expect(record.protocol).toBe('converge');
    expect(record.training).toMatchObject({ eval_every: 4, patience: 2 });
    expect(record.curves.valid_loss.map((p) => p.step)).toEqual(record.curves.valid_loss.map((_, i) => 4 * (i + 1)));
    const bestLoss = Math.min(...record.curves.valid_loss.map((p) => p.value));
    expect(record.convergence).toMatchObject({ steps: record.curves.train_loss.length, best_valid_loss: bestLoss });
    expect(record.curves.valid_loss.find((p) => p.value === bestLoss)!.step).toBe(record.convergence!.best_step);
    expect(record.curves.valid_metric[0]!.step).toBe(record.convergence!.best_step);
    expect(['plateau', 'max_steps']).toContain(record.convergence!.stopped);
    expect(record.params.total).toBe(record.model.params + record.params.trainable);
    expect(record.params.optimizer_state_bytes).toBe(8 * record.params.trainable);
    expect(record.params.adapter_bytes).toBeGreaterThan(4 * record.params.trainable);
    expect(fs.readdirSync(path.join(adapters, run.runId)).sort()).toContain('adapter_model.safetensors');
    expect(record.cost.tokens_per_s).toBeGreaterThan(0);
    expect(record.cost.peak_memory_bytes).toBeGreaterThan(1e6);
    expect(record.analysis).not.toBeNull();
    expect(record.provenance.threads).toBe(1);
    expect(record.provenance.versions['@tensorflow/tfjs-core']).toBe('4.22.0');
  });

  it('lets a method change its trainable set mid-training (lora-grow reaches its final rank)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-run-'));
    const run = await resolveOne({ method: 'lora-grow', rank: 8, set: { r_start: 2, grow_step: 2 }, training: { steps: 4 } });
    const { record } = await executeRun({ runId: run.runId, spec: run.spec, meta: run.meta, modelSource: run.modelSource }, env(out));
    expect(record.status).not.toBe('failed');
    // r=8 on q and v of 2 layers of width 32, after growing from r=2 at step 2.
    expect(record.params.trainable).toBe(2 * 2 * (32 * 8 + 8 * 32));
  });

  it('records a learning rate that blows up as diverged, with the reason', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-run-'));
    const run = await resolveOne({ method: 'full', rank: null, lr: 1e4, training: { steps: 6, grad_clip: null } });
    const { record } = await executeRun({ runId: run.runId, spec: run.spec, meta: run.meta, modelSource: run.modelSource }, env(out));
    expect(record.status).toBe('diverged');
    expect(record.reason).toMatch(/^(non-finite|loss-spike): .*at step \d+|after step \d+/);
    expect(hasFinished(out, run.runId)).toBe(true);
  });

  it('records an exception as failed with the reason (a checkpoint that changed after planning)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-run-'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peft-ckpt-'));
    const tokenizer = new ByteTokenizer();
    await saveModel(createModel({ family: 'gpt2', vocabSize: tokenizer.vocabSize, d: 16, nLayer: 1, nHead: 2, maxSeq: 384 }, 3), dir);
    saveTokenizer(tokenizer, path.join(dir, 'tokenizer.json'));
    const run = await resolveOne({ model: dir, training: { steps: 2 } });
    expect(run.spec.model.id).toMatch(/^dir:peft-ckpt-.*@[0-9a-f]{8}$/);
    // The checkpoint is replaced between planning and running.
    await saveModel(createModel({ family: 'gpt2', vocabSize: tokenizer.vocabSize, d: 16, nLayer: 1, nHead: 2, maxSeq: 384 }, 4), dir);
    const { record } = await executeRun({ runId: run.runId, spec: run.spec, meta: run.meta, modelSource: run.modelSource }, env(out));
    expect(record.status).toBe('failed');
    expect(record.reason).toMatch(/checkpoint .* changed since the run was planned/);
    expect(record.metrics.primary).toBeNull();
    // Recorded, but not finished: the next run of the same spec retries it.
    expect(fs.existsSync(path.join(out, `${run.runId}.json`))).toBe(true);
    expect(hasFinished(out, run.runId)).toBe(false);
  });
});

describe('runner helpers', () => {
  it('counts parameters from a config exactly as the model does', () => {
    const tiny = MODELS.find((model) => model.id === 'tiny-random')!;
    if (tiny.kind !== 'random') throw new Error('tiny-random should be a seeded model');
    for (const config of [
      { ...tiny.random.config, vocabSize: 259 },
      { family: 'gpt2' as const, vocabSize: 1024, d: 128, nLayer: 4, nHead: 4, maxSeq: 256 },
      { family: 'llama' as const, vocabSize: 300, d: 32, nLayer: 2, nHead: 4, nKvHead: 2, maxSeq: 64, mlpHidden: 88 },
    ]) {
      const model = createModel(config, 0);
      expect(configParamCount(resolveModelConfig(config))).toBe(model.paramCount());
      model.dispose();
    }
  });

  it('takes the trainer\'s divergence verdict, and counts spikes', () => {
    expect(divergence({ status: 'diverged', reason: 'non-finite: loss is NaN at step 3' })).toBe('non-finite: loss is NaN at step 3');
    expect(divergence({ status: 'ok', reason: null })).toBeNull();
    expect(countLossSpikes([2, 2, 2, 2, 2, 2, 5, 2, 2])).toBe(1);
    expect(countLossSpikes([3, 2.5, 2, 1.8, 1.6, 1.5, 1.4])).toBe(0);
  });
});
