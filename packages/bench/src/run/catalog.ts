// What the bench needs to know about methods, tasks and models, in one shape. The real catalogue
// (registries.ts) wraps packages/methods and packages/core; tests of the resolution logic can
// use the same interface.

import type { MethodInfo } from '@peft-bench/results/method-info';

/** A task knob: name, default and what it does. */
export interface KnobInfo {
  name: string;
  default: unknown;
  description: string;
  /** Human-readable allowed values, e.g. "integer in 1..1024". */
  allowed?: string;
}

/** A registered method (its description, shared with results and the site) and how to resolve its config. */
export interface MethodEntry extends MethodInfo {
  /**
   * The full, defaults-filled config for `rank` (null = the method's default) and `set` overrides.
   * Throws an Error naming the bad field and what is valid.
   */
  resolveConfig(rank: number | null, set: Record<string, unknown>): Record<string, unknown>;
}

export interface TaskEntry {
  id: string;
  title: string;
  tier: 'synthetic' | 'real';
  family: 'simple' | 'reasoning';
  metrics: { name: string; direction: 'higher' | 'lower'; description: string }[];
  primaryMetric: string;
  knobs: KnobInfo[];
  /** Defaults-filled knobs; throws naming the bad knob and the valid ones. */
  resolveKnobs(knobs: Record<string, unknown>): Record<string, unknown>;
}

export interface ModelEntry {
  id: string;
  description: string;
  /** Where the checkpoint lives (null for models created from a seed). */
  dir: string | null;
}

export interface ResolvedModel {
  id: string;
  hash: string;
  params: number;
  /** What to load: a registered id or a checkpoint directory (not part of the run id: the hash is). */
  source: string;
}

export interface Catalog {
  methods(): MethodEntry[];
  tasks(): TaskEntry[];
  models(): ModelEntry[];
  /**
   * A registered model id or a checkpoint directory -> its id, checkpoint hash and parameter
   * count, without loading weights into tensors. Throws with a clear message when the
   * checkpoint is missing (e.g. the default model before `pnpm pretrain`).
   */
  resolveModel(idOrDir: string): Promise<ResolvedModel>;
}
