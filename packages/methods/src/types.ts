// The method plug-in API: what a method folder's index.ts declares, and what attaching it to a
// model returns. Methods change a model only through the hooks of the module contract
// (Linear.hook, Norm.hook, Embeddings.prefix) and by listing the tensors the trainer updates.
import type * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { Model } from '@peft-bench/core/model/model';
import type { ModelFamily } from '@peft-bench/core/model/config';

export type { Model, ModelFamily };

export type MethodFamily = 'baseline' | 'low-rank' | 'seed-idea' | 'adapter' | 'selective';
export const METHOD_FAMILIES: readonly MethodFamily[] = ['baseline', 'low-rank', 'seed-idea', 'adapter', 'selective'];

export interface Paper {
  title: string;
  url: string;
  year: number;
}

export interface AttachContext {
  /** Seeds every random initialisation of the method (host RNG, identical on every backend). */
  seed: number;
  /** Written as base_model_name_or_path in adapter_config.json; default `peft-bench/<family>`. */
  baseModel?: string;
}

/** What the trainer may be told after a step callback. */
export interface StepResult {
  /** The `trainable` map changed (new entries); rebuild optimizer state for new keys. */
  trainableChanged: true;
}

export interface Attachment {
  /** What the optimizer updates, by a stable name (e.g. `blocks.0.attn.q.lora_A`). */
  readonly trainable: Map<string, tf.Variable>;
  /** Scalars that can change in a training step (the parameter count reported for the method). */
  trainableCount(): number;
  /** Fold the update into the base weights (hooks removed); absent where impossible (nonlinear adapters). */
  merge?(): void;
  /** Undo merge(): base weights restored, hooks back. */
  unmerge?(): void;
  /** Write the adapter on its own (HF PEFT layout where one exists) into `dir` (created). */
  save(dir: string): Promise<void>;
  /** Read an adapter written by save() into this attachment (same method, config and base model). */
  load(dir: string): Promise<void>;
  /** JSON-friendly analysis for the run record (singular values of each ΔW, norm-weight distributions). */
  analysis?(): Record<string, unknown>;
  /**
   * The effective update of each targeted linear, ΔW in TF.js layout [in, out] (so W + ΔW acts as
   * the adapted weight); present for methods whose change is a weight update. Caller disposes.
   */
  deltas?(): Map<string, tf.Tensor2D>;
  /** Called by the trainer before each optimizer step (0-based); e.g. growing the rank mid-training. */
  onStep?(step: number): void | StepResult;
  /** Train/eval mode (dropout). Attachments start in eval mode; the trainer switches it on and off. */
  setTraining?(training: boolean): void;
  /** Remove hooks, dispose added tensors, restore the base weights exactly. */
  detach(): void;
}

/**
 * Configs the conformance suite checks besides the defaults: variants (other inits, options) and
 * fixtures a method needs (e.g. adapter folders to load, written into `dir`). Each entry is one run.
 */
export type ConformanceExample = (ctx: { model: Model; dir: string; seed: number }) => Promise<Record<string, unknown>[]>;

export interface MethodSpec<S extends z.ZodObject> {
  /** Lowercase, unique, equal to the folder name. */
  id: string;
  title: string;
  paper: Paper;
  family: MethodFamily;
  /** One paragraph for the site. */
  description: string;
  /** Every field has a default and a description. */
  hyperparameters: S;
  /** Which hyperparameter `--rank` sets (r, n, bottleneck); null = the method has no rank. */
  rankParam: (keyof z.infer<S> & string) | null;
  /** What one unit of that rank is, for axis titles ('rank r', 'bottleneck size'); required with rankParam. */
  rankMeaning?: string;
  /** A reference point rather than a PEFT method (the frozen base, full fine-tuning). Default false. */
  baseline?: boolean;
  /**
   * Default learning rate as a multiple of the model's: methods that move every weight need a much
   * smaller step, vector-sized methods a larger one (as in their papers' recipes). Default 1.
   */
  lrScale?: number;
  /**
   * What the deployed model carries: 'merged' (the update folds into the base weights: no extra parameters;
   * the attachment has merge()), 'in-place' (it tunes base weights themselves) or 'added' (extra modules or
   * tokens stay at inference: its trainable parameters). The conformance suite checks merged and added.
   */
  atInference: AtInference;
  /**
   * The zod schema of what the attachment's analysis() reports (packages/results analysis-schema: low-rank
   * updates, LayerNorm distributions), or null for a method that reports none. Checked by the suite.
   */
  analysis: z.ZodType<{ kind: string }> | null;
  /** Outputs are unchanged right after attach (a zero-initialised update); checked by the suite. */
  identityAtInit: boolean | ((config: z.infer<S>) => boolean);
  /** Model families the method applies to; default all. Others get a clear error from attach. */
  modelFamilies?: readonly ModelFamily[];
  /** Why a family is unsupported (shown in the error). */
  unsupportedReason?: string;
  /** Configs the conformance suite uses (default: just the defaults). */
  conformance?: ConformanceExample;
  attach(model: Model, config: z.infer<S>, ctx: AttachContext): Attachment | Promise<Attachment>;
}

export interface Method<S extends z.ZodObject = z.ZodObject> extends Omit<MethodSpec<S>, 'attach'> {
  readonly kind: 'peft-bench-method';
  /** Validated, defaults-filled config; throws naming the method, field, value and what is allowed. */
  parse(input: unknown): z.infer<S>;
  /** Whether `identityAtInit` holds for this config. */
  isIdentityAtInit(config: z.infer<S>): boolean;
  /** Validates the config, checks the model family, attaches. */
  attach(model: Model, config: unknown, ctx: AttachContext): Promise<Attachment>;
}

export type Config = Record<string, unknown>;

export type AtInference = 'merged' | 'in-place' | 'added';
