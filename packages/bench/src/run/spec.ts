// A run spec: everything that determines a run's result, fully resolved (defaults filled in).
// Its canonical JSON hashes to the run id, which is also the record's file name, so the same
// spec always lands in the same file and a finished run is never run twice.

export interface TrainingSettings {
  steps: number;
  batch_size: number;
  micro_batch_size: number;
  lr: number;
  /** Learning-rate schedule: 'constant', 'linear' or 'cosine' (after warmup). */
  schedule: string;
  warmup_steps: number;
  weight_decay: number;
  /** Global gradient-norm clip; null = no clipping. */
  grad_clip: number | null;
  max_seq_len: number;
  /** Validation every this many steps (0 = only at the end). */
  eval_every: number;
  /**
   * Early stopping (the converge protocol): stop after this many validation-loss evaluations without
   * improvement, `steps` being the maximum, and keep the best checkpoint on valid. Absent in
   * fixed-step specs (their run ids predate it).
   */
  patience?: number;
  /** With patience: an evaluation improves when its loss is below the best x (1 - this). */
  min_rel_improvement?: number;
}

export interface RunSpec {
  method: {
    id: string;
    /** The full, defaults-filled, validated hyperparameter config. */
    config: Record<string, unknown>;
    /** The value `--rank` set, or null where rank does not apply. */
    rank: number | null;
  };
  task: {
    id: string;
    /** Task knobs (difficulty, split sizes), defaults filled in. */
    config: Record<string, unknown>;
  };
  model: { id: string; hash: string };
  seed: number;
  training: TrainingSettings;
  /** The training protocol (run/defaults.ts PROTOCOLS); absent in fixed-300 specs, whose run ids predate it. */
  protocol?: string;
  /** Hash of the source that computes results (see code-version.ts). */
  code_version: string;
}

// The hash lives with the record verification that recomputes it (TensorFlow-free).
export { canonicalJson, runIdOf, RUN_ID_HEX_CHARS } from '@peft-bench/results/record/run-id';

/** A short human label for progress lines and tables. */
export function describeSpec(spec: RunSpec): string {
  const rank = spec.method.rank === null ? '' : ` r=${spec.method.rank}`;
  return `${spec.method.id}${rank} on ${spec.task.id} seed ${spec.seed} lr ${spec.training.lr}`;
}
