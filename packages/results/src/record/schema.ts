// The run record: one JSON file per run in results/, the only thing the site reads.
// Shared by the runner (validated on write), aggregation and the site (validated on read).
// Anchored on HF PEFT's method_comparison result files; adds seeds, stability and analysis.
import { z } from 'zod';

/**
 * 2: adds code_version and training.eval_every (the rest of the spec the run id hashes, so every
 * record's run id can be checked) and test_examples (per-example test scores). Schema-1 records are
 * still read: record/verify.ts migrates them.
 */
export const RECORD_SCHEMA_VERSION = 2;

/** The protocol label of records whose spec states none: every run made before early stopping. */
export const LEGACY_PROTOCOL = 'fixed-300';

/**
 * Models renamed since fixed-300 runs were made: the id their specs state (and their run ids hash)
 * -> the registered id now. The `default` checkpoint of those runs is the `naive` model.
 */
export const RENAMED_MODELS: Readonly<Record<string, string>> = { default: 'naive' };

const metricMap = z.record(z.string(), z.number());

/** Points of a curve: step -> value. */
const curve = z.array(z.object({ step: z.number().int().nonnegative(), value: z.number() }));

const splitCounts = z.object({ train: z.number().int().nonnegative(), valid: z.number().int().nonnegative(), test: z.number().int().nonnegative() });

export const runStatus = z.enum(['ok', 'diverged', 'failed']);

/**
 * Per-example test scores, in test-split order (the same order for every method on a task and its
 * knobs), so records can be paired example by example (paired bootstrap intervals).
 */
export const testExamples = z.object({
  /** Number of test examples. */
  n: z.number().int().nonnegative(),
  /** sha256 (first 16 hex) of the test examples' ids and prompts, in order: equal hashes = pairable records. */
  ids_hash: z.string().regex(/^[0-9a-f]{16}$/),
  /** metric -> scores: a string of '0'/'1' for 0/1 metrics, else numbers rounded to 4 decimals. */
  scores: z.record(z.string(), z.union([z.string().regex(/^[01]*$/), z.array(z.number())])),
});

const runRecordV1Shape = z.object({
  schema_version: z.literal(1),
  /** Hash of everything that determines the result; also the file name (`<run_id>.json`). */
  run_id: z.string().regex(/^[0-9a-f]{16,64}$/),
  status: runStatus,
  /** Why a run failed or diverged (NaN at step 40, final loss above initial, exception text). */
  reason: z.string().nullable(),
  method: z.object({
    id: z.string(),
    family: z.string(),
    /** The full, defaults-filled hyperparameter config. */
    config: z.record(z.string(), z.unknown()),
    /** The value `--rank` set, or null where rank does not apply. */
    rank: z.number().nullable(),
    /** Optional display metadata copied from the method definition (shown on the site's method pages). */
    title: z.string().optional(),
    paper: z.object({ title: z.string(), url: z.string(), year: z.number().int().optional() }).optional(),
    description: z.string().optional(),
  }),
  task: z.object({
    id: z.string(),
    tier: z.enum(['synthetic', 'real']),
    family: z.enum(['simple', 'reasoning']),
    primary_metric: z.string(),
    /** Task knobs (difficulty, split sizes). */
    config: z.record(z.string(), z.unknown()),
  }),
  model: z.object({ id: z.string(), hash: z.string(), params: z.number().int().positive() }),
  seed: z.number().int(),
  training: z.object({
    steps: z.number().int().nonnegative(),
    batch_size: z.number().int().positive(),
    micro_batch_size: z.number().int().positive(),
    lr: z.number().positive(),
    schedule: z.string(),
    warmup_steps: z.number().int().nonnegative(),
    weight_decay: z.number(),
    grad_clip: z.number().nullable(),
    max_seq_len: z.number().int().positive(),
  }),
  metrics: z.object({
    /** Primary metric on test (the leaderboard number), null when the run did not finish. */
    primary: z.number().nullable(),
    valid: metricMap,
    test: metricMap,
    /** Frozen base model's LM loss on held-out text, before and after training (forgetting). */
    base_lm_loss_before: z.number().nullable(),
    base_lm_loss_after: z.number().nullable(),
  }),
  /** The length policy's effect per split: examples left out (target cannot fit) and prompts cut from the left. */
  examples: z
    .object({ excluded: splitCounts, truncated: splitCounts })
    .optional(),
  /** The first few test examples with the run's prediction for each (absent when it did not finish). */
  samples: z
    .array(z.object({ id: z.string(), prompt: z.string(), target: z.string(), prediction: z.string() }))
    .optional(),
  params: z.object({
    trainable: z.number().int().nonnegative(),
    total: z.number().int().positive(),
    adapter_bytes: z.number().int().nonnegative(),
    optimizer_state_bytes: z.number().int().nonnegative(),
  }),
  cost: z.object({
    train_seconds: z.number().nonnegative(),
    eval_seconds: z.number().nonnegative(),
    tokens_per_s: z.number().nonnegative(),
    peak_memory_bytes: z.number().int().nonnegative(),
  }),
  curves: z.object({
    train_loss: curve,
    valid_loss: curve,
    valid_metric: curve,
    /** Steps whose loss exceeded the running mean by a wide margin. */
    loss_spikes: z.number().int().nonnegative(),
  }),
  /** Method-specific analysis (singular values, subspace similarity, LN distributions). */
  analysis: z.record(z.string(), z.unknown()).nullable(),
  provenance: z.object({
    backend: z.string(),
    accelerated: z.boolean(),
    threads: z.number().int().positive(),
    versions: z.record(z.string(), z.string()),
    cpu: z.string(),
    gpu: z.string().nullable(),
    git_commit: z.string(),
    git_dirty: z.boolean(),
    started_at: z.string(),
    finished_at: z.string(),
    /** How the run was executed: alone, or in a fused group of runs sharing the base model (never part of the run id). */
    execution: z.object({ mode: z.enum(['single', 'fused']), group_size: z.number().int().positive() }).optional(),
  }),
});

/** Schema-1 records (no code_version, no training.eval_every, no per-example scores). */
export const runRecordV1 = runRecordV1Shape;

export const runRecord = runRecordV1Shape.extend({
  schema_version: z.literal(RECORD_SCHEMA_VERSION),
  /** Hash of the result-computing source (part of the spec the run id hashes; run/code-version.ts). */
  code_version: z.string().regex(/^[A-Za-z0-9._-]+$/),
  training: runRecordV1Shape.shape.training.extend({
    /** Validation-loss interval in steps (0 = only at the end); part of the spec the run id hashes. */
    eval_every: z.number().int().nonnegative(),
    /** Early stopping (converge protocol): evaluations without improvement before stopping; `steps` is then the maximum. */
    patience: z.number().int().positive().optional(),
    /** With patience: the relative improvement of the validation loss that counts. */
    min_rel_improvement: z.number().nonnegative().lt(1).optional(),
  }),
  /**
   * The training protocol (run/defaults.ts): `converge` in the specs of new runs; absent from the
   * specs of earlier runs, whose records the reader labels `fixed-300`.
   */
  protocol: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).optional(),
  /** How training ended; absent in records made before early stopping and in runs that trained nothing. */
  convergence: z
    .object({
      /** Optimizer steps taken. */
      steps: z.number().int().nonnegative(),
      /** The step whose weights were scored: the best validation loss with early stopping, else the last step. */
      best_step: z.number().int().nonnegative(),
      best_valid_loss: z.number().nonnegative().nullable(),
      /** plateau: the validation loss stopped improving; max_steps: the maximum was reached; diverged: the divergence rule fired. */
      stopped: z.enum(['plateau', 'max_steps', 'diverged']),
    })
    .optional(),
  /** Per-example test scores; absent in schema-1 records and in runs that did not finish. */
  test_examples: testExamples.optional(),
});

export type RunRecord = z.infer<typeof runRecord>;
export type RunStatus = z.infer<typeof runStatus>;
