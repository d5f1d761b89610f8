// Default training settings per model; a method's learning rate is the model's times its lrScale. A run spec starts from
// these; CLI flags and grid blocks override single fields. Chosen so that
// `pnpm bench --method lora --rank 64` (four synthetic tasks on the default model) finishes in a
// few minutes on a 2-core CPU.
import type { TrainingSettings } from './spec.ts';

const DEFAULT_MODEL_TRAINING: TrainingSettings = {
  steps: 300,
  batch_size: 16,
  micro_batch_size: 16,
  lr: 2e-3,
  schedule: 'cosine',
  warmup_steps: 10,
  weight_decay: 0,
  grad_clip: 1,
  // Rows are cut to the longest in each batch, so the full context costs nothing on short tasks
  // and keeps long math problems whole.
  max_seq_len: 256,
  eval_every: 50,
};

/** Settings for the seeded tiny model: seconds per run, for tests and smoke runs. */
const TINY_MODEL_TRAINING: TrainingSettings = {
  steps: 8,
  batch_size: 4,
  micro_batch_size: 4,
  lr: 5e-3,
  schedule: 'constant',
  warmup_steps: 0,
  weight_decay: 0,
  grad_clip: 1,
  max_seq_len: 384,
  eval_every: 0,
};

export const TRAINING_DEFAULTS: Record<string, TrainingSettings> = {
  default: DEFAULT_MODEL_TRAINING,
  'tiny-random': TINY_MODEL_TRAINING,
};

/** The training settings a model starts from (models without an entry use the default model's). */
export function trainingDefaults(modelId: string): TrainingSettings {
  return { ...(TRAINING_DEFAULTS[modelId] ?? DEFAULT_MODEL_TRAINING) };
}

/** The model's learning rate times the method's lrScale (declared in its definition, packages/methods/<id>/index.ts). */
export function defaultLr(modelId: string, method: { lrScale: number }): number {
  return trainingDefaults(modelId).lr * method.lrScale;
}

/** A smoke run: the fewest steps and examples that still exercise every stage. */
export const SMOKE_OVERRIDES: Partial<TrainingSettings> = { steps: 4, eval_every: 0, batch_size: 4, micro_batch_size: 4 };
export const SMOKE_TASK_KNOBS: Record<string, unknown> = { train: 32, valid: 4, test: 4 };

/**
 * Task knobs a model starts from (under the grid's or the CLI's): the tiny model evaluates on a
 * handful of examples so a test run takes seconds; the default model scores half the usual
 * validation split (decoding is a third of a run's time), and so does `base`. Other models use each task's defaults.
 */
export const MODEL_TASK_KNOBS: Record<string, Record<string, unknown>> = {
  'tiny-random': { train: 64, valid: 4, test: 4 },
  // Validation scores only pick learning rates; the leaderboard number is on the full test split.
  default: { valid: 50 },
  // The second pretrained base is compared with the default one on the same examples.
  base: { valid: 50 },
};
