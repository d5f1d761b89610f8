// A complete, schema-valid run record and spec for tests that need one.
import type { RunRecord } from '../src/record/schema.ts';
import { specOfRecord, type RecordSpec } from '../src/record/verify.ts';
import { runIdOf } from '../src/record/run-id.ts';

export function sampleSpec(): RecordSpec {
  return {
    method: { id: 'lora', config: { r: 8, lora_alpha: 16, target_modules: ['q', 'v'] }, rank: 8 },
    task: { id: 'nli', config: { train_size: 256, difficulty: 1 } },
    model: { id: 'tiny-random', hash: 'abc123' },
    seed: 0,
    training: {
      steps: 10,
      batch_size: 4,
      micro_batch_size: 4,
      lr: 1e-3,
      schedule: 'cosine',
      warmup_steps: 1,
      weight_decay: 0,
      grad_clip: 1,
      max_seq_len: 64,
      eval_every: 0,
    },
    code_version: '0123456789abcdef',
  };
}

export function sampleRecord(runId = 'aaaaaaaaaaaaaaaaaaaa'): RunRecord {
  return {
    schema_version: 2,
    run_id: runId,
    code_version: '0123456789abcdef',
    status: 'ok',
    reason: null,
    method: { id: 'lora', family: 'low-rank', config: { r: 8 }, rank: 8 },
    task: { id: 'nli', tier: 'synthetic', family: 'simple', primary_metric: 'accuracy', config: {} },
    model: { id: 'tiny-random', hash: 'abc123', params: 1000 },
    seed: 0,
    training: {
      steps: 10,
      batch_size: 4,
      micro_batch_size: 4,
      lr: 1e-3,
      schedule: 'cosine',
      warmup_steps: 1,
      weight_decay: 0,
      grad_clip: 1,
      max_seq_len: 64,
      eval_every: 0,
    },
    metrics: { primary: 0.5, valid: { accuracy: 0.5 }, test: { accuracy: 0.5 }, base_lm_loss_before: 3, base_lm_loss_after: 3.1 },
    params: { trainable: 100, total: 1100, adapter_bytes: 400, optimizer_state_bytes: 800 },
    cost: { train_seconds: 1, eval_seconds: 1, tokens_per_s: 100, peak_memory_bytes: 1000 },
    curves: { train_loss: [{ step: 1, value: 3 }], valid_loss: [], valid_metric: [], loss_spikes: 0 },
    analysis: null,
    provenance: {
      backend: 'cpu',
      accelerated: false,
      threads: 1,
      versions: { node: '20' },
      cpu: 'test cpu',
      gpu: null,
      git_commit: 'deadbeef',
      git_dirty: false,
      started_at: '2025-01-01T00:00:00.000Z',
      finished_at: '2025-01-01T00:00:01.000Z',
    },
  };
}

/** `record` with its run_id set to the hash of the spec it states (what verification checks). */
export function seal<T extends RunRecord>(record: T): T {
  return { ...record, run_id: runIdOf(specOfRecord(record, record.code_version, record.training.eval_every)) };
}

/** A verifiable record; `seed` tells records apart (each seed is another run id). */
export function sealedRecord(seed = 0, overrides: Partial<RunRecord> = {}): RunRecord {
  return seal({ ...sampleRecord(), seed, ...overrides });
}
