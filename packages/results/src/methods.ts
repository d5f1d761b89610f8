// What readers of records need to know about methods and models without loading them (no
// TensorFlow.js): each method's description (method-info.ts) from methods.json, exported from the method
// definitions by `pnpm bench export-methods`, each model's default learning rate, and the default
// protocol and model.
import catalogue from './methods.json' with { type: 'json' };
import type { MethodInfo } from './method-info.ts';

export type { MethodInfo, HyperparameterInfo } from './method-info.ts';

const methods = catalogue.methods as MethodInfo[];
const byId = new Map(methods.map((m) => [m.id, m]));
const trainingLr = catalogue.training_lr as Record<string, Record<string, number>>;
const fallbackLr = catalogue.fallback_training_lr as Record<string, number>;
const chosenLr = ((catalogue as { chosen_lr?: unknown }).chosen_lr ?? {}) as Record<string, Record<string, number>>;
/** The protocol of records that state none (their runs were made before early stopping). */
const LEGACY_PROTOCOL = 'fixed-300';

/**
 * The protocol and model a run uses when none is named (the bench's defaults, exported with the
 * methods): readers show this scope first whenever it has records.
 */
export function defaultScopeIds(): { protocol: string; model: string } {
  const c = catalogue as { default_protocol?: string; default_model?: string };
  return { protocol: c.default_protocol ?? 'converge', model: c.default_model ?? 'base' };
}

/** The leaderboard grid (packages/bench/grids/leaderboard.yaml): its protocol, model, number of distinct runs and their run keys. */
export interface LeaderboardGrid {
  name: string;
  protocol: string;
  model: string;
  runs: number;
  /** Each run's id without the code version (record/verify.ts runKeyOf): a record with one of these is one of its runs. */
  run_keys: string[];
}

export function leaderboardGrid(): LeaderboardGrid | null {
  return (catalogue as { leaderboard_grid?: LeaderboardGrid }).leaderboard_grid ?? null;
}

/** The learning-rate search each method's default rate is chosen from (packages/bench/grids/leaderboard-lr.yaml, exported). */
export interface LrSearchPlan {
  grid: string;
  protocol: string;
  model: string;
  seeds: number[];
  tasks: string[];
  /** Multiples of the method's declared rate (declaredLr). */
  factors: number[];
  /** The rank each searched method runs at (null: a method without one); methods not listed are not searched. */
  ranks: Record<string, number | null>;
}

/** The learning-rate search's plan, or null when methods.json has none. */
export function lrSearchPlan(): LrSearchPlan | null {
  return (catalogue as { lr_search?: LrSearchPlan }).lr_search ?? null;
}

/** Every registered method, by id. */
export function methodInfos(): readonly MethodInfo[] {
  return methods;
}

/** The method's description, or undefined for a method no longer registered (its records still read). */
export function methodInfo(id: string): MethodInfo | undefined {
  return byId.get(id);
}

/** The frozen base and full fine-tuning: reference rows, not competitors. */
export function isBaseline(id: string): boolean {
  return byId.get(id)?.baseline ?? false;
}

/** The learning rate a run of `methodId` on `modelId` under `protocol` uses when nothing overrides it (the runner's default: chosen on valid where it was, else declared). The protocol is required: the rates differ by protocol, and a silent default once emptied the converge defaults view. */
export function defaultLr(modelId: string, methodId: string, protocol: string): number {
  const chosen = chosenLr[`${protocol}/${modelId}`]?.[methodId];
  if (chosen !== undefined) return chosen;
  return declaredLr(modelId, methodId, protocol);
}

/** The model's rate under the protocol times the method's lrScale: what a grid's `lr_factors` multiply, whatever rate is chosen. */
export function declaredLr(modelId: string, methodId: string, protocol: string): number {
  const byModel = trainingLr[protocol] ?? trainingLr[LEGACY_PROTOCOL]!;
  return (byModel[modelId] ?? fallbackLr[protocol] ?? fallbackLr[LEGACY_PROTOCOL]!) * (byId.get(methodId)?.lrScale ?? 1);
}

const protocolTrainingTable = ((catalogue as { protocol_training?: unknown }).protocol_training ?? {}) as Record<string, Record<string, { batch_size: number; steps: number }>>;

/**
 * The batch size and maximum steps every run of `protocol` on `modelId` trains with (a model without an
 * entry trains as the naive model); null for a protocol the catalogue does not know.
 */
export function protocolTraining(modelId: string, protocol: string): { batch_size: number; steps: number } | null {
  const byModel = protocolTrainingTable[protocol];
  return byModel?.[modelId] ?? byModel?.naive ?? null;
}

/** The method's default rank (its rank hyperparameter's default), or null for a method without one. */
export function defaultRank(id: string): number | null {
  const m = byId.get(id);
  if (!m?.rankParam) return null;
  const value = m.hyperparameters.find((h) => h.name === m.rankParam)?.default;
  return typeof value === 'number' ? value : null;
}

/** A pair of code versions checked result-equivalent: `from` (older) counts as `to[method]` for each method. */
export interface CodeEquivalence { from: string; to: Record<string, string> }

const codeEquivalence = ((catalogue as { code_equivalence?: unknown }).code_equivalence ?? []) as CodeEquivalence[];

/** The older code versions whose records count for `methodId` at `current`: entries chained back from it. */
export function equivalentVersions(methodId: string, current: string, entries: readonly CodeEquivalence[] = codeEquivalence): string[] {
  const accepted = new Set([current]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of entries) {
      const to = e.to[methodId];
      if (to !== undefined && accepted.has(to) && !accepted.has(e.from)) {
        accepted.add(e.from);
        grew = true;
      }
    }
  }
  accepted.delete(current);
  return [...accepted].sort();
}
