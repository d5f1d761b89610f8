// Training protocols, default training settings per model and protocol, and learning rates per
// method (its definition's lrScale times the model's). A run spec starts from these; CLI flags and grid blocks override single fields.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './code-version.ts';
import type { TrainingSettings } from './spec.ts';

/**
 * How a run is trained and selected:
 * - `converge` (new runs): train until the validation loss stops improving (early stopping, with
 *   `steps` as the maximum), keep the best checkpoint on valid, select on a validation split of at
 *   least 200 examples. Its specs state `protocol: 'converge'`.
 * - `fixed-300` (the published records before early stopping): a fixed number of steps (300 on the
 *   pretrained models) with a cosine schedule, the final weights scored. Its specs state no protocol
 *   and keep their run ids; the reader labels their records `fixed-300`.
 */
export const PROTOCOLS = ['converge', 'fixed-300'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const DEFAULT_PROTOCOL: Protocol = 'converge';
/** The label of records whose spec states no protocol. */
export const LEGACY_PROTOCOL: Protocol = 'fixed-300';

/**
 * Model ids that the fixed-300 specs state under an older name: the `naive` checkpoint was the
 * `default` model when those runs were made, and their run ids hash that name.
 */
export const LEGACY_MODEL_IDS: Record<string, string> = { naive: 'default' };

/**
 * Method hyperparameters whose defaults changed since the fixed-300 runs: under fixed-300 the old
 * defaults apply, so its specs (and run ids) stay as they were. The low-rank methods then adapted
 * q and v only; they now adapt every linear layer.
 */
export const FIXED_300_METHOD_DEFAULTS: Record<string, Record<string, unknown>> = Object.fromEntries(
  ['lora', 'dora', 'vera', 'loha', 'lokr'].map((id) => [id, { target_modules: ['q', 'v'] }]),
);

/** Method hyperparameter defaults a protocol applies under the request's own settings. */
export function protocolMethodDefaults(protocol: Protocol, methodId: string): Record<string, unknown> {
  return protocol === 'fixed-300' ? { ...(FIXED_300_METHOD_DEFAULTS[methodId] ?? {}) } : {};
}

/** The settings every fixed-300 run on a pretrained model used. */
const FIXED_300_TRAINING: TrainingSettings = {
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

/**
 * Converge on the naive model. Warm-up then a constant learning rate: with early stopping the run
 * ends at a step nobody knows in advance, and a schedule that decays over the maximum would make
 * the trajectory depend on that cap (a run capped at 3,000 steps would take larger steps at step 500
 * than one capped at 1,000). Constant, a run is the same whatever the cap until it stops, and the
 * best checkpoint on valid stands in for the annealed end a decay would give.
 * Patience 6 evaluations of 50 steps (300 steps without a validation loss 0.5% below the best so far;
 * slow progress still counts, as each evaluation is compared with the best, not with the last): the
 * sql table-copy skill appears only after a few hundred steps, like a phase transition, so a shorter
 * patience would stop runs on the plateau before it.
 */
const CONVERGE_TRAINING: TrainingSettings = {
  ...FIXED_300_TRAINING,
  steps: 3000,
  lr: 5e-3,
  schedule: 'constant',
  warmup_steps: 20,
  eval_every: 50,
  patience: 6,
  min_rel_improvement: 0.005,
};

/**
 * `base` has a 4,096-id head: at 16 rows x 256 tokens its logits alone outgrow the wasm heap, so it
 * trains in micro-batches of 8 (gradient accumulation keeps the batch at 16).
 */
const BASE_CONVERGE_TRAINING: TrainingSettings = { ...CONVERGE_TRAINING, micro_batch_size: 8 };

/** `base-large` (d=256, 6 layers) needs about 5.6 GiB a step at micro-batches of 8: it trains in 4s. */
const BASE_LARGE_CONVERGE_TRAINING: TrainingSettings = { ...CONVERGE_TRAINING, micro_batch_size: 4 };
const BASE_LARGE_FIXED_300_TRAINING: TrainingSettings = { ...FIXED_300_TRAINING, micro_batch_size: 4 };

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

/** The tiny model under converge: evaluations at steps 4 and 8, so tests exercise the best-checkpoint path. */
const TINY_CONVERGE_TRAINING: TrainingSettings = { ...TINY_MODEL_TRAINING, eval_every: 4, patience: 2, min_rel_improvement: 0.005 };

export const TRAINING_DEFAULTS: Record<Protocol, Record<string, TrainingSettings>> = {
  converge: { base: BASE_CONVERGE_TRAINING, 'base-large': BASE_LARGE_CONVERGE_TRAINING, naive: CONVERGE_TRAINING, 'tiny-random': TINY_CONVERGE_TRAINING },
  'fixed-300': { base: FIXED_300_TRAINING, 'base-large': BASE_LARGE_FIXED_300_TRAINING, naive: FIXED_300_TRAINING, 'tiny-random': TINY_MODEL_TRAINING },
};

/**
 * Per task under converge: the maximum steps where a task needs more than the model's default to
 * plateau (math's multi-step answers keep improving longest). Calibrated on `base` (README).
 */
export const CONVERGE_TASK_TRAINING: Record<string, Partial<TrainingSettings>> = {};

export function isProtocol(value: string): value is Protocol {
  return (PROTOCOLS as readonly string[]).includes(value);
}

/**
 * The training settings a run starts from: the model's under the protocol (models without an entry,
 * such as checkpoint directories, use the naive model's), then the task's under converge.
 */
export function trainingDefaults(modelId: string, protocol: Protocol = DEFAULT_PROTOCOL, taskId?: string): TrainingSettings {
  const byModel = TRAINING_DEFAULTS[protocol];
  const task = protocol === 'converge' && taskId ? (CONVERGE_TASK_TRAINING[taskId] ?? {}) : {};
  return { ...(byModel[modelId] ?? byModel.naive!), ...task };
}

/** The model's learning rate under the protocol times the method's lrScale (declared in its definition, packages/methods/<id>/index.ts). */
export function declaredLr(modelId: string, method: { lrScale: number }, protocol: Protocol = DEFAULT_PROTOCOL): number {
  return trainingDefaults(modelId, protocol).lr * method.lrScale;
}

/**
 * Learning rates chosen on the validation split (`pnpm bench choose-lr --write`), keyed
 * `<protocol>/<model>` then method id. The file is data, not code: a chosen rate enters each run's
 * spec, so it changes the run ids it applies to and no others.
 */
export const CHOSEN_LR_FILE = path.join(REPO_ROOT, 'packages/bench/chosen-lr.json');

const chosenEntry = z.object({
  lr: z.number().positive(),
  /** The chosen rate as a multiple of the declared one. */
  factor: z.number().positive(),
  /** The grid whose seed-0 runs it was chosen from, and the mean validation rank of each factor tried. */
  grid: z.string(),
  mean_valid_rank: z.record(z.string(), z.number()),
  tasks: z.array(z.string()),
});
export const chosenLrSchema = z.object({ note: z.string().optional(), chosen: z.record(z.string(), z.record(z.string(), chosenEntry)) });
export type ChosenLrFile = z.infer<typeof chosenLrSchema>;

let chosenCache: ChosenLrFile | null = null;

export function readChosenLr(file = CHOSEN_LR_FILE): ChosenLrFile {
  if (file === CHOSEN_LR_FILE && chosenCache) return chosenCache;
  let parsed: ChosenLrFile = { chosen: {} };
  if (fs.existsSync(file)) {
    const result = chosenLrSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!result.success) throw new Error(`${path.relative(REPO_ROOT, file)} is malformed: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    parsed = result.data;
  }
  if (file === CHOSEN_LR_FILE) chosenCache = parsed;
  return parsed;
}

/**
 * The learning rate a run uses when neither --lr nor an lr factor is given: the one chosen on valid
 * for the method under this protocol and model, else the declared one. Grid lr factors multiply the
 * declared rate (declaredLr), so a search around it keeps its run ids once a rate is chosen.
 */
export function defaultLr(modelId: string, method: { id: string; lrScale: number }, protocol: Protocol = DEFAULT_PROTOCOL): number {
  return readChosenLr().chosen[`${protocol}/${modelId}`]?.[method.id]?.lr ?? declaredLr(modelId, method, protocol);
}

/** A smoke run: the fewest steps and examples that still exercise every stage. */
export const SMOKE_OVERRIDES: Partial<TrainingSettings> = { steps: 4, eval_every: 2, batch_size: 4, micro_batch_size: 4 };
export const SMOKE_TASK_KNOBS: Record<string, unknown> = { train: 32, valid: 4, test: 4 };

/**
 * Task knobs a model starts from (under the grid's or the CLI's). The tiny model evaluates on a
 * handful of examples so a test run takes seconds. Under fixed-300 the pretrained models scored
 * half the usual validation split (decoding is a third of a run's time); under converge the
 * validation split both stops training and selects configurations, so synthetic tasks get at least
 * MIN_CONVERGE_VALID examples (real tasks keep their files' split).
 */
export const MIN_CONVERGE_VALID = 200;
export const MODEL_TASK_KNOBS: Record<Protocol, Record<string, Record<string, unknown>>> = {
  converge: { 'tiny-random': { train: 64, valid: 4, test: 4 } },
  'fixed-300': { 'tiny-random': { train: 64, valid: 4, test: 4 }, naive: { valid: 50 }, base: { valid: 50 }, 'base-large': { valid: 50 } },
};

/**
 * Task knobs under converge, calibrated on `base` (README, Task difficulty). math: with its default
 * 2,000 training examples full fine-tuning overfits (best validation loss at step 800, then rising;
 * test exact match 0.21, below the frozen base + 0.30), so a converged run draws from ten times as
 * many; the generator makes as many as asked. (nli did not gain from more examples or easier knobs:
 * README.)
 */
export const CONVERGE_TASK_KNOBS: Record<string, Record<string, unknown>> = {
  math: { train: 20_000 },
};

export function taskKnobDefaults(modelId: string, protocol: Protocol, tier: 'synthetic' | 'real', taskId?: string): Record<string, unknown> {
  const knobs = MODEL_TASK_KNOBS[protocol][modelId];
  if (knobs) return { ...knobs };
  if (protocol !== 'converge' || tier !== 'synthetic') return {};
  return { valid: MIN_CONVERGE_VALID, ...(taskId ? (CONVERGE_TASK_KNOBS[taskId] ?? {}) : {}) };
}
