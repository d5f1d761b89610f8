// A run spec: everything that determines a run's result, fully resolved (defaults filled in).
// Its canonical JSON hashes to the run id, which is also the record's file name, so the same
// spec always lands in the same file and a finished run is never run twice.
import { createHash } from 'node:crypto';

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

/** Length of the run id in hex characters (80 bits: collisions are not a practical concern). */
export const RUN_ID_HEX_CHARS = 20;

/**
 * JSON with object keys sorted at every level, so equal values give equal text whatever order
 * their keys were built in. Undefined object entries are dropped (as JSON.stringify does);
 * non-finite numbers are rejected because JSON cannot carry them and they would collide as null.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, '$'));
}

function sortKeys(value: unknown, where: string): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`cannot hash ${where}: ${value} is not a finite number`);
  }
  if (Array.isArray(value)) return value.map((item, i) => sortKeys(item, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sortKeys(item, `${where}.${key}`);
    }
    return out;
  }
  return value;
}

/**
 * sha256 of the spec's canonical JSON, first RUN_ID_HEX_CHARS hex characters.
 * The backend and thread count are deliberately not in the spec: a run id names the experiment,
 * not the machine, so records from GPU runners and CPU machines merge into one results/. They are
 * recorded in each record's provenance instead, and a diverged record counts as final only on the
 * backend it diverged on (record/store.ts countsAsFinished).
 */
export function runIdOf(spec: RunSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, RUN_ID_HEX_CHARS);
}

/** A short human label for progress lines and tables. */
export function describeSpec(spec: RunSpec): string {
  const rank = spec.method.rank === null ? '' : ` r=${spec.method.rank}`;
  return `${spec.method.id}${rank} on ${spec.task.id} seed ${spec.seed} lr ${spec.training.lr}`;
}
